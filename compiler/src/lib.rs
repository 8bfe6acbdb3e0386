//! soma's compiler: frontends that read network descriptions into one IR, the validation pass, and the passes
//! that turn a validated network into what the runtime executes.
//!
//! Flow: `front::snn::parse` (text) → [`ir::Network`] → [`valid::validate`] → [`instantiate::instantiate`] →
//! `soma_isa::instance::Instance`. Every stage reports errors as typed values carrying a [`diag::Span`], which
//! [`diag::render`] turns into `file:line:col` diagnostics with the offending text underlined. Each hardware
//! family's backend ([`spinnaker`], [`crossbar`], [`sfq`]) lowers an instance into its `isa` image behind
//! [`backend::Backend`], found in [`backend::BACKENDS`] by the target's family.

pub mod backend;
pub mod crossbar;
pub mod diag;
pub mod front;
pub mod instantiate;
pub mod ir;
pub mod memory;
pub mod sfq;
pub mod spinnaker;
pub mod valid;
pub mod weights;
