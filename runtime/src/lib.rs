//! soma's runtime: executes instantiated networks and (with the hardware targets) images.
//!
//! - [`engine`]: the engine contract every hardware family runs behind ([`engine::Engine`], the registry
//!   [`engine::ENGINES`]), and [`report`], the pieces every family's run report shares.
//! - [`reference`]: the float reference simulator, the golden model every hardware target is measured against:
//!   it runs a `soma_isa::instance::Instance` in `f64` with exact integration of linear dynamics on the
//!   network's time grid, deterministically per seed.
//! - [`spinnaker`]: the SpiNNaker-style machine, which executes an `isa` image bit-exactly, with cycle costs,
//!   routing, congestion and an energy ledger.
//! - [`crossbar`]: the resistive crossbar, whose arrays and ADCs compute the synaptic input (with seeded device
//!   non-idealities) while the reference kernels update the neurons, with an energy ledger per component.
//! - [`fidelity`]: an engine's spikes against the reference's (rates, spikes matched within one step), the one
//!   comparison behind every family's `--compare-reference`.
//! - [`recall`]: pattern-completion tests of an associative memory, scored from any run's spikes.
//! - [`sfq`]: pulse-level simulation of superconducting SFQ netlists in femtoseconds, with timing violations,
//!   merger collisions and switching plus static energy.

pub mod crossbar;
pub mod design;
pub mod engine;
pub mod fidelity;
pub mod html;
pub mod recall;
pub mod reference;
pub mod report;
pub mod sfq;
pub mod spinnaker;
