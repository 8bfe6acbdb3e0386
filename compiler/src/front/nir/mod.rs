//! The NIR frontend: reads Neuromorphic Intermediate Representation files (HDF5, as written by the `nir` Python
//! package and the frameworks that export it) into soma's IR, without Python and without the HDF5 C library.
//!
//! [`hdf5`] (the only module that touches the HDF5 reader) → [`graph`] (typed nodes, parameter checks) →
//! [`lower`] (populations, composed projections, biases, probes). [`input`] reads spike inputs for a graph's
//! Input nodes.

pub mod graph;
pub mod hdf5;
pub mod input;
pub mod lower;

pub use graph::NirError;
pub use lower::Imported;

/// Reads a NIR file's bytes into a network with time step `dt` seconds (not yet validated).
pub fn import(bytes: Vec<u8>, dt: f64) -> Result<Imported, NirError> {
    let tree = hdf5::read(bytes)?;
    let graph = graph::parse(&tree)?;
    lower::lower(&graph, dt)
}
