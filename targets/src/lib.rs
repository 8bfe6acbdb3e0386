//! Hardware targets: data-driven descriptions of neuromorphic chips (constraints, timing, energy per operation)
//! loaded from TOML presets whose every constant cites its source.
//!
//! The crate holds no target yet; the SpiNNaker-style family arrives with its presets in the first hardware issue.
//! It sits between `isa` (what an image can express) and the compiler and runtime (which consult a target's
//! constraints and costs).
