//! `soma check`: parse and validate a network, then summarise it without instantiating it (so it is instant
//! even for a 3e8-synapse network).

use soma_compiler::instantiate::estimate;

use crate::output::thousands;
use crate::{Failure, InputArgs, load};

/// Runs the command.
pub fn run(args: &InputArgs) -> Result<(), Failure> {
    let loaded = load::load(args, None, &[])?;
    let net = &loaded.network;
    crate::output::stdout(&format!("{}: ok (time step {} ms)\n", loaded.name, net.dt * 1e3))?;
    crate::output::stdout(&format!("{:<16} {:>10}  model\n", "population", "neurons"))?;
    for (_, p) in net.populations.iter() {
        crate::output::stdout(&format!(
            "{:<16} {:>10}  {}\n",
            p.name,
            thousands(p.size as u64),
            p.model.kind().name()
        ))?;
    }
    for (_, s) in net.sources.iter() {
        crate::output::stdout(&format!("{:<16} {:>10}  source\n", s.name, thousands(s.size as u64)))?;
    }
    let e = estimate(net);
    crate::output::stdout(&format!("neurons: {}\n", thousands(net.neuron_count() as u64)))?;
    crate::output::stdout(&format!(
        "synapses: {}{} in {} projections; {} gap-junction sets, {} injected currents, {} probes\n",
        if e.exact { "" } else { "~" },
        thousands(e.synapses.round() as u64),
        net.projections.len(),
        net.gap_junctions.len(),
        net.currents.len(),
        net.probes.len()
    ))?;
    crate::output::stdout(&format!("memory to instantiate: at least {}\n", crate::pipeline::bytes_text(e.bytes)))?;
    if let Some(available) = crate::pipeline::available_memory()
        && e.bytes > available
    {
        crate::output::stdout(&format!(
            "warning: more than the {} this machine has available: simulate, compile and run will refuse it\n",
            crate::pipeline::bytes_text(available)
        ))?;
    }
    Ok(())
}
