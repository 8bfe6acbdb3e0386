//! `soma check`: parse and validate a network, then summarise it without instantiating it (so it is instant
//! even for a 3e8-synapse network), as text or, with `--json`, as one object with the same fields.

use serde::Serialize;
use soma_compiler::instantiate::estimate;
use soma_compiler::memory::Work;
use soma_isa::memory::bytes_text;

use crate::output::thousands;
use crate::{Failure, InputArgs, load};

/// What `check` says about a network.
#[derive(Serialize)]
struct Summary {
    network: String,
    dt_s: f64,
    populations: Vec<Group>,
    sources: Vec<Group>,
    neurons: u64,
    /// Exact for deterministic rules, the expected number for random ones (`synapses_exact` says which).
    synapses: u64,
    synapses_exact: bool,
    projections: usize,
    gap_junction_sets: usize,
    injected_currents: usize,
    probes: usize,
    /// The least memory instantiating the network takes.
    memory_bytes: f64,
    /// Per family, about what compiling the network for it and running the image take (estimates from measured
    /// peaks: docs/robustness.md).
    run_memory_bytes: Vec<FamilyMemory>,
    /// What this machine has available (absent where it cannot tell).
    available_bytes: Option<f64>,
}

/// What compiling and running take on one family.
#[derive(Serialize)]
struct FamilyMemory {
    family: String,
    bytes: f64,
}

/// A population or a source.
#[derive(Serialize)]
struct Group {
    name: String,
    size: u64,
    model: String,
}

/// Runs the command.
pub fn run(args: &InputArgs, json: bool) -> Result<(), Failure> {
    let loaded = load::load(args, None, &[])?;
    let net = &loaded.network;
    let e = estimate(net);
    let group =
        |name: &str, size: usize, model: &str| Group { name: name.into(), size: size as u64, model: model.into() };
    let s = Summary {
        network: loaded.name.clone(),
        dt_s: net.dt,
        populations: net.populations.iter().map(|(_, p)| group(&p.name, p.size, p.model.kind().name())).collect(),
        sources: net.sources.iter().map(|(_, s)| group(&s.name, s.size, "source")).collect(),
        neurons: net.neuron_count() as u64,
        synapses: e.synapses.round() as u64,
        synapses_exact: e.exact,
        projections: net.projections.len(),
        gap_junction_sets: net.gap_junctions.len(),
        injected_currents: net.currents.len(),
        probes: net.probes.len(),
        memory_bytes: e.bytes,
        run_memory_bytes: soma_compiler::backend::BACKENDS
            .iter()
            .filter_map(|&backend| {
                let engine = soma_runtime::engine::lookup(backend.family())?;
                let work = Work::CompileAndRun(backend.family(), backend, engine.run_bytes_per_image_byte());
                Some(FamilyMemory { family: backend.family().into(), bytes: work.need(&e).bytes })
            })
            .collect(),
        available_bytes: soma_isa::memory::available(),
    };
    if json {
        let text = serde_json::to_string_pretty(&s).map_err(|e| Failure::Internal(e.into()))?;
        return crate::output::stdout(&(text + "\n"));
    }
    let mut out = format!("{}: ok (time step {} ms)\n", s.network, s.dt_s * 1e3);
    out += &format!("{:<16} {:>10}  model\n", "population", "neurons");
    for g in s.populations.iter().chain(&s.sources) {
        out += &format!("{:<16} {:>10}  {}\n", g.name, thousands(g.size), g.model);
    }
    out += &format!("neurons: {}\n", thousands(s.neurons));
    out += &format!(
        "synapses: {}{} in {} projections; {} gap-junction sets, {} injected currents, {} probes\n",
        if s.synapses_exact { "" } else { "~" },
        thousands(s.synapses),
        s.projections,
        s.gap_junction_sets,
        s.injected_currents,
        s.probes
    );
    out += &format!("memory to instantiate: at least {}\n", bytes_text(s.memory_bytes));
    let families: Vec<String> =
        s.run_memory_bytes.iter().map(|f| format!("{} {}", f.family, bytes_text(f.bytes))).collect();
    out += &format!("memory to compile and run, about (estimates): {}\n", families.join(", "));
    if let Some(available) = s.available_bytes {
        if s.memory_bytes > available {
            out += &format!(
                "warning: more than the {} this machine has available: simulate, compile and run will refuse it\n",
                bytes_text(available)
            );
        } else {
            let over: Vec<&str> =
                s.run_memory_bytes.iter().filter(|f| f.bytes > available).map(|f| f.family.as_str()).collect();
            if !over.is_empty() {
                out += &format!(
                    "warning: more than the {} this machine has available on {}: compile and run will refuse it there\n",
                    bytes_text(available),
                    over.join(", ")
                );
            }
        }
    }
    crate::output::stdout(&out)
}
