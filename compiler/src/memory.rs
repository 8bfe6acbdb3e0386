//! What instantiating, compiling and running a network need of memory, before any of it starts: the instance's
//! estimate ([`crate::instantiate::estimate`]), the family's [`Footprint`] and its engine's run peak per image byte
//! (the engine lives in the runtime, so the caller passes that number in).

use soma_isa::memory::Need;

use crate::backend::{Backend, Footprint};
use crate::instantiate::{Estimate, estimate};
use crate::ir::Network;

/// What is done with a network.
#[derive(Clone, Copy)]
pub enum Work<'a> {
    /// Instantiate it (and simulate it in the reference).
    Instantiate,
    /// Compile it for the target named first (a preset, or a family) with its family's backend.
    Compile(&'a str, &'a dyn Backend),
    /// Compile it for the target named first, then run the image on an engine whose run peaks at the number
    /// given times its image (`Engine::run_bytes_per_image_byte`).
    CompileAndRun(&'a str, &'a dyn Backend, f64),
}

impl Work<'_> {
    /// The step of the work that needs the most memory for a network of `e`.
    pub fn need(&self, e: &Estimate) -> Need {
        let instantiate = Need { bytes: e.bytes, step: "to instantiate".into(), basis: None };
        let (target, footprint, run_factor): (&str, Footprint, Option<f64>) = match *self {
            Work::Instantiate => return instantiate,
            Work::Compile(target, backend) => (target, backend.footprint(), None),
            Work::CompileAndRun(target, backend, factor) => (target, backend.footprint(), Some(factor)),
        };
        // `base` bytes beside `per_synapse` bytes a synapse; the basis says the bytes a synapse in all.
        let estimate = |base: f64, per_synapse: f64, step: String| {
            let bytes = base + e.synapses * per_synapse;
            Need { bytes, step, basis: Some(format!("about {:.0} bytes a synapse, an estimate", bytes / e.synapses)) }
        };
        let compile = estimate(0.0, footprint.compile_bytes_per_synapse, format!("to compile for {target}"));
        let need = instantiate.max(compile);
        match run_factor {
            // The instance stays beside the image and the engine's state.
            Some(factor) => need.max(estimate(
                e.bytes,
                footprint.image_bytes_per_synapse * factor,
                format!("to compile for {target} and run"),
            )),
            None => need,
        }
    }
}

/// Why `work` cannot start on `net` on this machine (`None`: it fits, or the machine cannot tell what it has):
/// the network's size, what it needs and what to change.
pub fn refusal(net: &Network, work: Work) -> Option<String> {
    let e = estimate(net);
    let why = work.need(&e).refusal(soma_isa::memory::available())?;
    Some(format!(
        "{:.3e} neurons and {}{:.3e} synapses {why}; scale the network down (e.g. --set scale=...) or run it on a \
         larger machine",
        e.neurons,
        if e.exact { "" } else { "~" },
        e.synapses,
    ))
}
