//! NIR frontend.

pub mod hdf5;
