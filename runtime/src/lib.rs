//! soma's runtime: executes instantiated networks and (with the hardware targets) images.
//!
//! Today it holds the float reference simulator ([`reference`]), the golden model every hardware target is
//! measured against: it runs a `soma_isa::instance::Instance` in `f64` with exact integration of linear
//! dynamics on the network's time grid, deterministically per seed.

pub mod reference;
