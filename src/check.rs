//! `soma check`: parse and validate a network, then summarise it without instantiating it (so it is instant
//! even for a 3e8-synapse network).

use soma_compiler::instantiate::estimate;

use crate::output::thousands;
use crate::{Failure, InputArgs, load};

/// Runs the command.
#[allow(clippy::print_stdout)]
pub fn run(args: &InputArgs) -> Result<(), Failure> {
    let loaded = load::load(args, None, &[])?;
    let net = &loaded.network;
    println!("{}: ok (time step {} ms)", loaded.name, net.dt * 1e3);
    println!("{:<16} {:>10}  model", "population", "neurons");
    for (_, p) in net.populations.iter() {
        println!("{:<16} {:>10}  {}", p.name, thousands(p.size as u64), p.model.kind().name());
    }
    for (_, s) in net.sources.iter() {
        println!("{:<16} {:>10}  source", s.name, thousands(s.size as u64));
    }
    let e = estimate(net);
    println!("neurons: {}", thousands(net.neuron_count() as u64));
    println!(
        "synapses: {}{} in {} projections; {} gap-junction sets, {} injected currents, {} probes",
        if e.exact { "" } else { "~" },
        thousands(e.synapses.round() as u64),
        net.projections.len(),
        net.gap_junctions.len(),
        net.currents.len(),
        net.probes.len()
    );
    println!("memory to instantiate: at least {}", crate::pipeline::bytes_text(e.bytes));
    if let Some(available) = crate::pipeline::available_memory() {
        if e.bytes > available {
            println!(
                "warning: more than the {} this machine has available: simulate, compile and run will refuse it",
                crate::pipeline::bytes_text(available)
            );
        }
    }
    Ok(())
}
