//! `soma compile` and `soma run` on an SFQ target: lowers the network to a netlist of pulse cells, simulates it
//! pulse by pulse in femtoseconds, and reports rates, energy at 4 K and at the wall (times the cooling factor),
//! the circuit's junctions, timing trouble (merger collisions, DFF violations) and latencies in ps.
//! `compile -o` writes an SFQ image (netlist and network, `codec::encode`) that `run` executes;
//! `compile --emit netlist` writes the netlist as text instead.

use std::time::Instant;

use serde::Serialize;
use soma_compiler::sfq;
use soma_isa::instance::Instance;
use soma_isa::sfq::{SfqImage, SfqProgram};
use soma_runtime::sfq::{Ledger, run as simulate};
use soma_targets::Target;
use soma_targets::sfq::Sfq;

use crate::compare::{Figures, fidelity_figures};
use crate::family::{FigureRun, refuse_boards};
use crate::output::{self, PopulationRate, thousands};
use crate::pipeline::{ClearOnDrop, instance_of, refuse_device_flags, spinner, weight_error_text};
use crate::pipeline::{ConstantReport, RunSummary, Spikes, against_reference};
use crate::{CompileArgs, Failure, InputArgs, RunArgs};

/// The report of an SFQ run (the `--json` output).
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// What ran.
    pub network: String,
    /// Target name.
    pub target: String,
    /// The lowering.
    pub mapping: sfq::Report,
    /// Populations.
    pub populations: Vec<PopulationRate>,
    /// Energy at 4 K (switching and static bias), J.
    pub energy_j: f64,
    /// Energy at the wall, with the cryocooler, J.
    pub wall_plug_energy_j: f64,
    /// Switching energy by cell kind, junction counts, timing trouble and the chip time.
    pub ledger: Ledger,
    /// Per population, when its first spike left the circuit, ps after the run's start.
    pub first_spike_ps: Vec<Option<f64>>,
    /// Events, step time, durations, constants and the reference comparison.
    #[serde(flatten)]
    pub run: RunSummary,
}

fn library(target: &Target) -> Result<&Sfq, Failure> {
    target.sfq().ok_or_else(|| Failure::User(format!("error: {} is not an SFQ target\n", target.name)))
}

/// Lowers `inst` onto `target`'s cells.
fn lower(inst: &Instance, target: &Target, name: &str) -> Result<(SfqProgram, sfq::Report), Failure> {
    sfq::compile(inst, library(target)?, &target.name, target.fingerprint)
        .map_err(|e| Failure::User(format!("error: {name}: {e}\n")))
}

fn mapping_text(m: &sfq::Report) -> String {
    let cells: Vec<String> = m.cells.iter().map(|(k, n)| format!("{} {k}", thousands(*n as u64))).collect();
    let mut s = format!(
        "cells: {} ({} JTL stages); {} junctions, static bias {:.3e} W at 4 K\n\
         network step {} ps on chip; trees up to {} splitters and {} mergers deep; longest neuron-to-neuron path {:.1} ps\n",
        cells.join(", "),
        thousands(m.jtl_stages),
        thousands(m.junctions),
        m.static_w,
        m.step_ps,
        m.max_fan_out_depth,
        m.max_fan_in_depth,
        m.longest_path_ps
    );
    for p in &m.populations {
        if p.readout {
            s += &format!("  {:<16} a readout (does not spike): computed off chip, not lowered\n", p.name);
            continue;
        }
        let loops: Vec<String> = p.current_fluxons.iter().map(|q| format!("{q:.4e}")).collect();
        let mut current = match loops.len() {
            0 => String::new(),
            1 => format!(", current loop fluxon {}", loops[0]),
            _ => format!(", current loop fluxons {}", loops.join(" / ")),
        };
        if p.refractory_steps > 0 {
            current += &format!(", refractory {} steps", p.refractory_steps);
        }
        s += &format!(
            "  {:<16} fluxon {:.4e}, threshold {} fluxons, leak {:.4} per step{current}, {} biased neurons\n",
            p.name, p.fluxon, p.threshold_fluxons, p.leak, p.biased_neurons
        );
    }
    if m.readout_synapses > 0 {
        s += &format!("{} synapses onto readouts: off chip\n", thousands(m.readout_synapses));
    }
    if m.dropped_synapses > 0 {
        s += &format!("{} synapses too weak for one pulse at the lowest pass level: dropped\n", m.dropped_synapses);
    }
    if m.longest_path_ps > m.step_ps {
        s += &format!(
            "warning: the longest path ({:.1} ps) is longer than a step ({} ps): its pulses land in the next step, a \
             step later than the reference's. clocks_per_step x {:.2} or more makes every path fit in a step (a \
             slower chip); whether that improves the rates depends on the network (docs/sfq.md: sweep \
             clocks_per_step and compare)\n",
            m.longest_path_ps,
            m.step_ps,
            m.longest_path_ps / m.step_ps
        );
    }
    s + &weight_error_text(m.weight_error_rms, &m.weight_errors)
}

/// `soma compile` on an SFQ target: lowers the network and reports; `-o` writes the image, or with `--emit
/// netlist` the netlist as text (to stdout without `-o`).
pub fn compile(args: &CompileArgs, target: &Target) -> Result<(), Failure> {
    let spinner = spinner(args.quiet);
    let clear = ClearOnDrop(&spinner);
    let (inst, _, name) = instance_of(&args.input, None, args.seed, &spinner)?;
    spinner.set_message(format!("lowering onto {}", target.name));
    let (program, mapping) = lower(&inst, target, &name)?;
    drop(clear);
    let write = |path: &std::path::Path, bytes: &[u8]| {
        output::write_atomic(path, |w: &mut dyn std::io::Write| w.write_all(bytes))
            .map_err(|e| Failure::User(format!("error: {e:#}\n")))
    };
    let written = match (args.emit.as_str(), &args.output) {
        ("netlist", Some(path)) => {
            write(path, sfq::dump(&program).as_bytes())?;
            format!(" -> netlist {}", path.display())
        }
        ("netlist", None) => {
            crate::output::stdout(&sfq::dump(&program))?;
            return Ok(());
        }
        (_, Some(path)) => {
            let image = SfqImage { program, network: inst.clone(), target_text: target.text.clone() };
            let bytes = soma_isa::codec::encode(&image).map_err(|e| Failure::Internal(anyhow::anyhow!(e)))?;
            write(path, &bytes)?;
            format!(" -> {} ({:.1} MB)", path.display(), bytes.len() as f64 / 1e6)
        }
        (_, None) => " (no image written: no -o)".into(),
    };
    let text = format!(
        "lowered {name} onto {}{written}\n{} neurons, {} synapses\n{}",
        target.name,
        thousands(inst.neuron_count() as u64),
        thousands(inst.synapse_count() as u64),
        mapping_text(&mapping)
    );
    output::emit(&text, args.json, &mapping)
}

/// Reads an SFQ image and the target it runs on (`target`, or the one it names), checking that the target's
/// constants are those it was compiled with.
pub fn read_image(path: &std::path::Path, target: Option<&str>) -> Result<(SfqImage, Target), Failure> {
    crate::load::read_image(path, target, |t| t.sfq().is_some())
}

/// How long to run and what else to do.
pub struct Options {
    /// Model time, s.
    pub duration: f64,
    /// Also run the float reference and compare.
    pub compare: bool,
    /// No spinner or progress bar.
    pub quiet: bool,
}

/// Runs `image` (read by [`read_image`]) or else loads and lowers `input` on the SFQ `target`: the report and
/// every spike `(step, population, neuron)`.
pub fn execute(
    input: &InputArgs,
    image: Option<SfqImage>,
    spike_input: Option<&std::path::Path>,
    target: &Target,
    seed: u64,
    o: &Options,
) -> Result<(Report, Spikes, Instance), Failure> {
    let (duration, compare, quiet) = (o.duration, o.compare, o.quiet);
    let wall = Instant::now();
    let lib = library(target)?;
    let spinner = spinner(quiet);
    let clear = ClearOnDrop(&spinner);
    let (inst, program, mapping, name) = if let Some(image) = image {
        // The lowering report is recomputed from the image's network: the same constants give the same netlist.
        let name = input.file.display().to_string();
        let (_, mapping) = lower(&image.network, target, &name)?;
        (image.network, image.program, mapping, name)
    } else {
        let (inst, _, name) = instance_of(input, spike_input, seed, &spinner)?;
        spinner.set_message(format!("lowering onto {}", target.name));
        let (program, mapping) = lower(&inst, target, &name)?;
        (inst, program, mapping, name)
    };
    drop(clear);
    let steps = crate::pipeline::steps(&format!("{duration:e}s"), duration, inst.dt)?;
    let bar = output::step_bar(steps, quiet, "simulating pulses")?;
    let image = SfqImage { program, network: inst, target_text: target.text.clone() };
    let out = simulate(&image, lib, steps, |done| bar.set_position(done));
    bar.finish_and_clear();
    let inst = image.network;
    let spikes: Spikes = output::all_spikes(&out.result);
    let reference = compare.then(|| against_reference(&inst, &spikes, steps));
    let l = &out.ledger;
    let report = Report {
        network: name,
        target: target.name.clone(),
        populations: output::population_rates(&inst, &out.result.spike_counts, duration),
        energy_j: l.chip_j,
        wall_plug_energy_j: l.wall_j,
        first_spike_ps: l.first_spike_fs.iter().map(|f| f.map(|t| t as f64 / 1000.0)).collect(),
        ledger: l.clone(),
        run: RunSummary {
            synaptic_events: out.result.synaptic_events,
            energy_per_synaptic_event_j: l.chip_j / out.result.synaptic_events.max(1) as f64,
            step_latency_s: mapping.step_ps * 1e-12,
            duration_s: duration,
            steps,
            wall_s: wall.elapsed().as_secs_f64(),
            target_constants: ConstantReport::all(target),
            reference,
            raster: output::instance_raster(&inst, &spikes),
        },
        mapping,
    };
    Ok((report, spikes, inst))
}

/// `soma run` on an SFQ target, of a network or of `image` (read by [`read_image`]).
pub fn run(args: &RunArgs, target: &Target, image: Option<SfqImage>) -> Result<(), Failure> {
    let duration = crate::load::time("--duration", &args.duration, false)?;
    let options = Options { duration, compare: args.compare_reference, quiet: args.quiet };
    let (report, spikes, inst) = execute(&args.input, image, args.spike_input.as_deref(), target, args.seed, &options)?;
    if let Some(path) = &args.spikes {
        output::write_instance_spikes(path, &inst, &spikes)?;
    }
    output::emit(&text_report(&report), args.json, &report)
}

fn text_report(r: &Report) -> String {
    let l = &r.ledger;
    let mut s = format!(
        "ran {} on {} for {} s of model time ({} steps = {:.1} ps on chip)\n",
        r.network,
        r.target,
        r.run.duration_s,
        r.run.steps,
        l.chip_s * 1e12
    );
    s += &mapping_text(&r.mapping);
    s += &output::rate_table(r.populations.iter().map(|p| (p.name.as_str(), p.neurons, p.spikes, p.rate_hz)));
    let by_kind: Vec<String> = l.dynamic_j.iter().map(|(k, j)| format!("{k} {j:.2e}")).collect();
    s += &format!(
        "energy at 4 K {:.3e} J: switching {:.3e} ({}), static bias {:.3e}\n\
         at the wall x{} (cryocooler): {:.3e} J\n",
        r.energy_j,
        l.dynamic_total_j,
        by_kind.join(", "),
        l.static_j,
        l.cooling_w_per_w,
        r.wall_plug_energy_j
    );
    s += &format!(
        "pulses {} ({:.3e} per s of chip time); merger collisions {}, setup violations {}, hold violations {}\n",
        thousands(l.pulses),
        l.pulses_per_s,
        thousands(l.collisions),
        thousands(l.setup_violations),
        thousands(l.hold_violations)
    );
    for t in l.worst_cells.iter().take(3) {
        s += &format!("  cell {} ({}): {} collisions\n", t.cell, t.kind, thousands(t.collisions));
    }
    let firsts: Vec<String> = r
        .populations
        .iter()
        .zip(&r.first_spike_ps)
        .filter_map(|(p, f)| f.map(|t| format!("{} {t:.1} ps", p.name)))
        .collect();
    if !firsts.is_empty() {
        s += &format!("first spike: {}\n", firsts.join(", "));
    }
    s + &r.run.text("sfq")
}

/// The SFQ family in the registry.
pub struct Cli;

impl crate::family::Family for Cli {
    fn name(&self) -> &'static str {
        "sfq"
    }

    fn reads(&self, bytes: &[u8]) -> bool {
        soma_isa::codec::is::<SfqImage>(bytes)
    }

    fn compile(&self, args: &CompileArgs, target: &Target) -> Result<(), Failure> {
        refuse_boards(args.boards.as_deref(), target)?;
        compile(args, target)
    }

    fn run_network(&self, args: &RunArgs, target: &Target) -> Result<(), Failure> {
        refuse_boards(args.boards.as_deref(), target)?;
        refuse_device_flags(args, &format!("{} is a sfq target", target.name))?;
        run(args, target, None)
    }

    fn run_image(&self, args: &RunArgs) -> Result<(), Failure> {
        refuse_device_flags(args, "this is an SFQ image")?;
        let (image, target) = read_image(&args.input.file, args.target.as_deref())?;
        run(args, &target, Some(image))
    }

    fn figures(&self, input: &InputArgs, target: &Target, f: &FigureRun) -> Result<Figures, Failure> {
        refuse_boards(f.boards, target)?;
        let options = Options { duration: f.duration, compare: true, quiet: f.quiet };
        let (r, _, _) = execute(input, None, None, target, f.seed, &options)?;
        let (rate_error, silent_reference_hz) = fidelity_figures(r.run.reference.as_ref());
        Ok(Figures {
            energy_j: r.energy_j,
            wall_plug_energy_j: r.wall_plug_energy_j,
            energy_per_synaptic_event_j: r.run.energy_per_synaptic_event_j,
            step_latency_s: r.run.step_latency_s,
            size: r.ledger.junctions,
            size_unit: "junctions".into(),
            machine: None,
            rate_error,
            silent_reference_hz,
        })
    }
}
