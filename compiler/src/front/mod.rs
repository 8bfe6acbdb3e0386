//! Frontends: readers that turn a network description into the IR. Each returns spans into its own source
//! so that the CLI can render diagnostics; none of them validates (that is [`crate::valid`]'s job).

pub mod edges;
pub mod nir;
pub mod snn;
