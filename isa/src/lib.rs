//! The contract between soma's compiler and its runtime.
//!
//! The compiler and the runtime never depend on each other: everything they exchange is defined here.
//! Today that is the *instantiated network* ([`instance`]): every neuron and synapse made concrete, in SI
//! `f64`/`f32`, which the float reference simulator executes and every hardware lowering starts from; the
//! neuron-model parameter tables ([`model`]) with their physical dimensions ([`units`]); the plasticity rule that
//! changes weights while a network runs ([`plasticity`]); and the seeded random streams ([`rng`]) that both sides
//! draw from so that a seed means the same network and the same inputs everywhere ([`source`]: the one rule that
//! turns a seed into a Poisson spike train). For hardware targets it defines one image frame ([`codec`]) and each
//! family's image in a module named after it: the SpiNNaker family's cores, programs and routing tables
//! ([`spinnaker`], with its fixed-point arithmetic [`fixed`] and neuron-program instruction set [`program`]), the
//! crossbar family's arrays ([`crossbar`]) and the SFQ family's pulse-cell netlists ([`sfq`]). What a family's
//! mapping or run report offers across the boundary (JSON and text) is [`report`]; what work needs of the
//! host's memory, [`memory`].

pub mod codec;
pub mod crossbar;
pub mod file;
pub mod fixed;

pub mod instance;
pub mod memory;
pub mod model;
pub mod plasticity;
pub mod program;
pub mod report;
pub mod rng;
pub mod sfq;
pub mod source;
pub mod spinnaker;
pub mod units;

/// Why an image, an instance or a program breaks the contract: where, and what is wrong (one line).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

impl From<String> for Invalid {
    fn from(message: String) -> Invalid {
        Invalid(message)
    }
}

impl From<&str> for Invalid {
    fn from(message: &str) -> Invalid {
        Invalid(message.to_string())
    }
}
