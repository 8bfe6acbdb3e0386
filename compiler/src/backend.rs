//! What every hardware backend shares: the one error type a backend returns when a network cannot be compiled
//! for a target (the SpiNNaker, crossbar and SFQ backends each lower a validated instance into their family's
//! `isa` artifact and a typed mapping report, and refuse with a `CompileError` naming the population or
//! projection and what to change).

use thiserror::Error;

/// Why a network does not compile for the target.
#[derive(Clone, Debug, Error, PartialEq)]
pub enum CompileError {
    /// The network uses something the target cannot do.
    #[error("{0}")]
    Unsupported(String),
    /// The network does not fit the machine.
    #[error("{0}")]
    DoesNotFit(String),
    /// Routing failed (a table overflowed, or a chip is unreachable).
    #[error("{0}")]
    Routing(String),
}
