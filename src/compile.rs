//! `soma compile`: instantiate a network, map it onto a hardware target and write the image.

use std::io::Write;
use std::time::Instant;

use serde::Serialize;
use soma_compiler::instantiate::instantiate;
use soma_compiler::spinnaker::{self, PassTime};
use soma_compiler::weights::WeightError;

use crate::output::{self, thousands, write_atomic};
use crate::{CompileArgs, Failure, load};

#[derive(Serialize)]
struct Pass {
    name: String,
    wall_s: f64,
}

#[derive(Serialize)]
struct Report {
    target: String,
    boards: usize,
    neurons: usize,
    synapses: usize,
    cores: usize,
    neuron_cores: usize,
    source_cores: usize,
    delay_cores: usize,
    chips: usize,
    routing_entries_max: usize,
    routing_entries_mean: f64,
    routing_entries_max_uncompressed: usize,
    synaptic_bytes: u64,
    image_bytes: usize,
    weight_error_rms: f64,
    weight_errors: Vec<WeightError>,
    passes: Vec<Pass>,
    wall_s: f64,
}

/// A compiled network: the image, the backend's report, the instance it came from, and the front passes' times.
pub struct Built {
    /// The image.
    pub image: soma_isa::image::Image,
    /// The backend's report.
    pub report: spinnaker::Report,
    /// The instantiated network.
    pub inst: soma_isa::instance::Instance,
    /// Load and instantiate times.
    pub passes: Vec<PassTime>,
    /// The input's display name.
    pub name: String,
}

/// Loads, instantiates and compiles `input` for `target` on `boards` (`None`: the preset's; `auto`), with a
/// spinner on stderr naming the pass (shown only on a terminal, and not when `quiet`).
pub fn build(
    input: &crate::InputArgs,
    spike_input: Option<&std::path::Path>,
    target: &soma_targets::Target,
    boards: Option<&str>,
    seed: u64,
    quiet: bool,
) -> Result<Built, Failure> {
    let Some(spinn) = target.spinnaker() else {
        return Err(Failure::User(format!(
            "error: {} is a {} target; this path runs SpiNNaker images\n",
            target.name,
            target.family_name()
        )));
    };
    let spinner = spinner(quiet);
    let (inst, passes, name) = instance_of(input, spike_input, seed, &spinner)?;
    let preset_boards = spinn.machine.boards.value as usize;
    let attempts: Vec<usize> = match boards {
        None => vec![preset_boards],
        Some("auto") => {
            let cores_guess =
                inst.populations.iter().map(|p| p.size().div_ceil(spinn.neurons_per_core())).sum::<usize>();
            let first = spinnaker::boards_for(cores_guess, spinn);
            std::iter::once(first).chain((1..=64).map(|k| (first / 3 + k) * 3)).collect()
        }
        Some(n) => match n.parse::<usize>() {
            Ok(b) if b == 1 || (b > 0 && b % 3 == 0) => vec![b],
            _ => return Err(Failure::User(format!("error: --boards {n}: expected 1, a multiple of 3, or auto\n"))),
        },
    };
    let mut last_error = None;
    spinner.set_message(format!("compiling for {}", target.name));
    let _clear = ClearOnDrop(&spinner);
    for b in attempts {
        match spinnaker::compile(&inst, spinn, &target.name, target.fingerprint, b) {
            Ok((image, report)) => return Ok(Built { image, report, inst, passes, name }),
            Err(e @ spinnaker::CompileError::DoesNotFit(_)) if boards == Some("auto") => last_error = Some(e),
            Err(e) => return Err(Failure::User(format!("error: {name}: {e}\n"))),
        }
    }
    Err(Failure::User(format!(
        "error: {}: {}\n",
        name,
        last_error.map_or("no machine size tried".into(), |e| e.to_string())
    )))
}

/// Loads and instantiates `input`, naming the pass on `spinner`: the instance, the passes' times and the input's
/// display name.
pub fn instance_of(
    input: &crate::InputArgs,
    spike_input: Option<&std::path::Path>,
    seed: u64,
    spinner: &indicatif::ProgressBar,
) -> Result<(soma_isa::instance::Instance, Vec<PassTime>, String), Failure> {
    spinner.set_message(format!("loading {}", input.file.display()));
    let t0 = Instant::now();
    let loaded = load::load(input, spike_input, &[])?;
    let mut passes = vec![PassTime { name: "load", wall_s: t0.elapsed().as_secs_f64() }];
    spinner.set_message("instantiating synapses");
    let t0 = Instant::now();
    let inst = instantiate(&loaded.network, seed)
        .map_err(|e| Failure::User(format!("error: {}: {}\n", loaded.name, e.message)))?;
    passes.push(PassTime { name: "instantiate", wall_s: t0.elapsed().as_secs_f64() });
    Ok((inst, passes, loaded.name))
}

/// A spinner on stderr (drawn only on a terminal), hidden when `quiet`.
pub fn spinner(quiet: bool) -> indicatif::ProgressBar {
    let spinner = if quiet {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr())
    };
    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    spinner
}

/// The weight quantisation error, overall and per projection with synapses.
pub fn weight_error_text(rms: f64, errors: &[WeightError]) -> String {
    let mut s = format!("weight quantisation error: RMS {rms:.2e} relative\n");
    for e in errors.iter().filter(|e| e.synapses > 0) {
        s += &format!(
            "  {:<24} max {:.2e}, RMS {:.2e} over {} synapses\n",
            e.projection,
            e.max_relative,
            e.rms_relative,
            thousands(e.synapses)
        );
    }
    s
}

/// Clears a spinner however the function it belongs to returns.
pub struct ClearOnDrop<'a>(pub &'a indicatif::ProgressBar);

impl Drop for ClearOnDrop<'_> {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

/// Runs the command.
pub fn run(args: &CompileArgs) -> Result<(), Failure> {
    let wall = Instant::now();
    let target = soma_targets::lookup(&args.target).map_err(|e| Failure::User(format!("error: {e}\n")))?;
    if target.crossbar().is_some() {
        return crate::crossbar::compile(args, &target);
    }
    if target.sfq().is_some() {
        return crate::sfq::compile(args, &target);
    }
    if args.emit == "netlist" {
        return Err(Failure::User(format!(
            "error: --emit netlist writes SFQ netlists; {} is a {} target\n",
            target.name,
            target.family_name()
        )));
    }
    let Built { image, report, inst, mut passes, name } =
        build(&args.input, None, &target, args.boards.as_deref(), args.seed, false)?;
    let loaded_name = name;
    let (neurons, synapses) = (inst.neuron_count(), inst.synapse_count());
    drop(inst);
    let t0 = Instant::now();
    let bytes = soma_isa::codec::encode(&image).map_err(|e| Failure::Internal(anyhow::anyhow!(e)))?;
    if let Some(path) = &args.output {
        write_atomic(path, |w: &mut dyn Write| w.write_all(&bytes))
            .map_err(|e| Failure::User(format!("error: {e:#}\n")))?;
    }
    passes.extend(report.passes.iter().cloned());
    passes.push(PassTime { name: "encode+write", wall_s: t0.elapsed().as_secs_f64() });
    let out = Report {
        target: target.name.clone(),
        boards: report.boards,
        neurons,
        synapses,
        cores: report.cores,
        neuron_cores: report.core_kinds[0],
        source_cores: report.core_kinds[1],
        delay_cores: report.core_kinds[2],
        chips: report.chips,
        routing_entries_max: report.routing_entries_max,
        routing_entries_mean: report.routing_entries_mean,
        routing_entries_max_uncompressed: report.routing_entries_max_uncompressed,
        synaptic_bytes: report.synaptic_bytes,
        image_bytes: bytes.len(),
        weight_error_rms: report.weight_error_rms(),
        weight_errors: report.weight_errors.clone(),
        passes: passes.iter().map(|p| Pass { name: p.name.to_string(), wall_s: p.wall_s }).collect(),
        wall_s: wall.elapsed().as_secs_f64(),
    };
    let written = args.output.as_ref().map_or_else(|| "(no image written: no -o)".into(), |p| p.display().to_string());
    let text = text_report(&loaded_name, &written, &out);
    output::emit(&text, args.json, &out)
}

fn text_report(name: &str, output: &str, r: &Report) -> String {
    let mut s = format!(
        "compiled {name} for {} ({} board{}) -> {output}\n",
        r.target,
        r.boards,
        if r.boards == 1 { "" } else { "s" }
    );
    s += &format!("neurons {}, synapses {}\n", thousands(r.neurons as u64), thousands(r.synapses as u64));
    s += &format!(
        "cores {} ({} neuron, {} source, {} delay extension) on {} chips\n",
        r.cores, r.neuron_cores, r.source_cores, r.delay_cores, r.chips
    );
    s += &format!(
        "routing entries per chip: max {} (before compression {}), mean {:.1}\n",
        r.routing_entries_max, r.routing_entries_max_uncompressed, r.routing_entries_mean
    );
    s += &format!(
        "synaptic memory {:.1} MB, image {:.1} MB\n",
        r.synaptic_bytes as f64 / 1e6,
        r.image_bytes as f64 / 1e6
    );
    s += &weight_error_text(r.weight_error_rms, &r.weight_errors);
    s += "passes:";
    for p in &r.passes {
        s += &format!(" {} {:.3} s;", p.name, p.wall_s);
    }
    s += &format!(" total {:.3} s\n", r.wall_s);
    s
}
