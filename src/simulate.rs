//! `soma simulate`: instantiate a network and run it with the float reference simulator; report rates, and
//! optionally write spikes and membrane traces as CSV.

use std::io::Write;
use std::time::Instant;

use serde::Serialize;
use soma_compiler::diag::Diagnostic;
use soma_compiler::instantiate::instantiate;
use soma_runtime::reference::{RunOptions, RunResult, Simulator};
use soma_runtime::report::{Learned, learned, learned_text};

use crate::load::{self, render_all};
use crate::output::{self, thousands, write_atomic};
use crate::{Failure, SimulateArgs};

#[derive(Serialize)]
struct Report {
    populations: Vec<output::PopulationRate>,
    neurons: usize,
    synapses: usize,
    synaptic_events: u64,
    learned: Vec<Learned>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    recall: Vec<soma_runtime::recall::RecallScore>,
    duration_s: f64,
    dt_s: f64,
    steps: u64,
    seed: u64,
    build_s: f64,
    run_s: f64,
    wall_s: f64,
}

/// Runs the command.
pub fn run(args: &SimulateArgs) -> Result<(), Failure> {
    crate::output::check_outputs(
        &[&args.input.file],
        &[
            ("--spikes", args.spikes.as_deref(), crate::output::Output::File),
            ("--trace", args.trace.as_deref(), crate::output::Output::File),
            ("--weights", args.weights.as_deref(), crate::output::Output::File),
            crate::weight_trace::output(&args.weight_trace)?,
        ],
    )?;
    let wall = Instant::now();
    let duration_s = load::time("--duration", &args.duration, false)?;
    let recall_tests = output::recall_tests(args.recall.as_deref())?;
    let loaded = load::load(&args.input, args.spike_input.as_deref(), &args.probe)?;
    let net = &loaded.network;
    crate::pipeline::refuse_oversize(net, &loaded.name, soma_compiler::memory::Work::Instantiate)?;
    let inst = instantiate(&loaded.valid()?, args.seed).map_err(|e| {
        let d = Diagnostic { message: e.message.clone(), span: e.span, label: String::new() };
        Failure::User(render_all(&[d], &loaded.name, &loaded.text))
    })?;
    let build_s = wall.elapsed().as_secs_f64();
    let steps = crate::pipeline::steps(&args.duration, duration_s, inst.dt)?;
    let sampling = crate::weight_trace::sampling(&args.weight_trace, &inst)?;
    let bar = crate::output::step_bar(steps, args.quiet, "simulating")?;
    let run_start = Instant::now();
    let opts = RunOptions { steps, record_all_spikes: args.spikes.is_some() || !recall_tests.is_empty() };
    let result = Simulator::new(&inst)
        .stop_on(Some(crate::interrupt::flag()))
        .record_weights(sampling.probes, sampling.every)
        .run(&opts, |done| bar.set_position(done));
    bar.finish_and_clear();
    if crate::interrupt::requested() {
        return Err(Failure::Interrupted(format!(
            "{}: interrupted after {} of {steps} steps; no output was written",
            loaded.name, result.steps
        )));
    }
    let run_s = run_start.elapsed().as_secs_f64();

    if let Some(path) = &args.spikes {
        output::write_spikes(path, inst.dt, &output::population_names(&inst), &output::all_spikes(&result))?;
    }
    if let Some(path) = &args.trace {
        write_traces(path, &inst, &result)?;
    }
    if let Some(path) = &args.weights {
        let learned: Vec<(usize, &[f64])> = result.learned.iter().map(|l| (l.projection, &l.weights[..])).collect();
        crate::output::write_weights(path, &inst, &learned)?;
    }
    crate::weight_trace::write(&args.weight_trace, &inst, &result.weight_traces, sampling.every)?;
    let sizes: Vec<u32> = inst.populations.iter().map(|p| p.size() as u32).collect();
    let recall = soma_runtime::recall::score(
        &recall_tests,
        &output::all_spikes(&result),
        &output::population_names(&inst),
        &sizes,
        inst.dt,
    )
    .map_err(|e| Failure::User(format!("error: {e}\n")))?;
    let populations = output::population_rates(&inst, &result.spike_counts, duration_s);
    let report = Report {
        populations,
        neurons: inst.neuron_count(),
        synapses: inst.synapse_count(),
        synaptic_events: result.synaptic_events,
        learned: learned(&inst, &result.learned),
        recall,
        duration_s,
        dt_s: inst.dt,
        steps,
        seed: args.seed,
        build_s,
        run_s,
        wall_s: wall.elapsed().as_secs_f64(),
    };
    let text = text_report(&loaded.name, &report);
    output::emit(&text, args.json, &report)
}

fn text_report(name: &str, r: &Report) -> String {
    let mut s =
        format!("simulated {} s ({} steps of {} ms) of {name}, seed {}\n", r.duration_s, r.steps, r.dt_s * 1e3, r.seed);
    s += &output::rate_table(r.populations.iter().map(|p| (p.name.as_str(), p.neurons, p.spikes, p.rate_hz)));
    s += &format!(
        "neurons {}, synapses {}, synaptic events {}\n",
        thousands(r.neurons as u64),
        thousands(r.synapses as u64),
        thousands(r.synaptic_events)
    );
    s += &learned_text(&r.learned);
    s += &soma_runtime::recall::text(&r.recall);
    s += &format!("wall {:.3} s (build {:.3} s, run {:.3} s)\n", r.wall_s, r.build_s, r.run_s);
    s
}

fn write_traces(path: &std::path::Path, inst: &soma_isa::instance::Instance, r: &RunResult) -> Result<(), Failure> {
    write_atomic(path, |w: &mut dyn Write| {
        writeln!(w, "time_s,population,neuron,v")?;
        for tr in &r.traces {
            let name = &inst.populations[tr.population].name;
            for (k, chunk) in tr.values.chunks(tr.neurons.len().max(1)).enumerate() {
                for (n, v) in tr.neurons.iter().zip(chunk) {
                    writeln!(w, "{},{name},{n},{v}", (k as f64 + 1.0) * inst.dt)?;
                }
            }
        }
        Ok(())
    })
    .map_err(|e| Failure::User(format!("error: {e:#}\n")))
}
