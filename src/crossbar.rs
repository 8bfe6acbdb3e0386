//! `soma compile` and `soma run` on a crossbar target: maps the network onto tiles, emulates the arrays with the
//! non-idealities asked for, and reports rates, energy by component (with the ADCs' share), tiles and latency.
//! `compile -o` writes a crossbar image (the program and the instantiated network, `codec::encode`), which
//! `run` executes like a network.

use std::time::Instant;

use serde::Serialize;
use soma_compiler::crossbar;
use soma_isa::crossbar::{CrossbarImage, CrossbarProgram};
use soma_isa::instance::Instance;
use soma_runtime::crossbar::{Ledger, Nonideal, run as emulate};
use soma_runtime::reference::RunOptions;
use soma_targets::Target;
use soma_targets::crossbar::Crossbar;

use crate::compare::{Figures, fidelity_figures};
use crate::family::{FigureRun, refuse_boards};
use crate::output::{self, thousands};
use crate::pipeline::{ClearOnDrop, instance_of, spinner, weight_error_text};
use crate::pipeline::{ConstantReport, RunSummary, Spikes, against_reference};
use crate::{CompileArgs, Failure, InputArgs, RunArgs};

/// The report of a crossbar run (the `--json` output).
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// What ran.
    pub network: String,
    /// Target name.
    pub target: String,
    /// The non-idealities that were on.
    pub nonideal: String,
    /// The mapping.
    pub mapping: crossbar::Report,
    /// Populations.
    pub populations: Vec<output::PopulationRate>,
    /// Total energy, J.
    pub energy_j: f64,
    /// The ADCs' share of the energy.
    pub adc_energy_share: f64,
    /// Energy by component (`*_j`), the counts behind it, and the hardware step times.
    pub ledger: Ledger,
    /// Events, step time, durations, constants and the reference comparison.
    #[serde(flatten)]
    pub run: RunSummary,
}

/// The crossbar parameters of `target`, which the caller checked is a crossbar.
fn parameters(target: &Target) -> Result<&Crossbar, Failure> {
    target.crossbar().ok_or_else(|| Failure::User(format!("error: {} is not a crossbar target\n", target.name)))
}

/// Maps `inst` onto `target`'s tiles.
fn map(inst: &Instance, target: &Target, name: &str) -> Result<(CrossbarProgram, crossbar::Report), Failure> {
    crossbar::compile(inst, parameters(target)?, &target.name, target.fingerprint)
        .map_err(|e| Failure::User(format!("error: {name}: {e}\n")))
}

fn mapping_text(m: &crossbar::Report) -> String {
    format!(
        "tiles {} of {} ({} neurons per tile, {} cells per weight)\n\
         utilisation: {:.1}% of the used tiles' cells in mapped blocks, {:.2}% holding a synapse\n",
        thousands(m.tiles as u64),
        thousands(m.tiles_available as u64),
        m.neurons_per_tile,
        m.cells_per_weight,
        100.0 * m.block_utilisation,
        100.0 * m.cell_utilisation,
    ) + &weight_error_text(m.weight_error_rms, &m.weight_errors)
}

/// `soma compile` on a crossbar target: maps the network and reports; writes no file.
pub fn compile(args: &CompileArgs, target: &Target) -> Result<(), Failure> {
    let spinner = spinner(args.quiet);
    let clear = ClearOnDrop(&spinner);
    let (inst, _, name) = instance_of(&args.input, None, args.seed, &spinner)?;
    spinner.set_message(format!("mapping onto {}", target.name));
    let (program, mapping) = map(&inst, target, &name)?;
    drop(clear);
    let (neurons, synapses) = (inst.neuron_count() as u64, inst.synapse_count() as u64);
    let written = match &args.output {
        Some(path) => {
            let image = CrossbarImage { program, network: inst, target_text: target.text.clone() };
            let bytes = soma_isa::codec::encode(&image).map_err(|e| Failure::Internal(anyhow::anyhow!(e)))?;
            output::write_atomic(path, |w: &mut dyn std::io::Write| w.write_all(&bytes))
                .map_err(|e| Failure::User(format!("error: {e:#}\n")))?;
            format!(" -> {} ({:.1} MB)", path.display(), bytes.len() as f64 / 1e6)
        }
        None => " (no image written: no -o)".into(),
    };
    let text = format!(
        "mapped {name} onto {}{written}\n{} neurons, {} synapses\n{}",
        target.name,
        thousands(neurons),
        thousands(synapses),
        mapping_text(&mapping)
    );
    output::emit(&text, args.json, &mapping)
}

/// Reads a crossbar image and the target it runs on (`target`, or the one it names), checking that the target's
/// constants are those it was compiled with.
pub fn read_image(path: &std::path::Path, target: Option<&str>) -> Result<(CrossbarImage, Target), Failure> {
    crate::load::read_image(path, target, |t| t.crossbar().is_some())
}

/// The non-idealities of `--nonideal LIST` (`none`, `all`, or some of `program_noise,read_noise,stuck,drift`) at
/// the preset's magnitudes; drift reads `read_after` seconds after programming.
pub fn nonideal(list: &str, xb: &Crossbar, read_after: f64) -> Result<Nonideal, Failure> {
    let preset = Nonideal { drift_after_s: read_after, ..Nonideal::from_preset(xb) };
    let mut n = Nonideal::default();
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match item {
            "none" => {}
            "all" => n = preset.clone(),
            "program_noise" => n.program_noise = preset.program_noise,
            "read_noise" => n.read_noise = preset.read_noise,
            "stuck" => (n.stuck_on, n.stuck_off) = (preset.stuck_on, preset.stuck_off),
            "drift" => (n.drift_nu, n.drift_after_s) = (preset.drift_nu, read_after),
            other => {
                return Err(Failure::User(format!(
                    "error: --nonideal: unknown `{other}`; expected none, all, or a list of program_noise, read_noise, \
                     stuck, drift\n"
                )));
            }
        }
    }
    n.switching_probability = preset.switching_probability;
    Ok(n)
}

/// What a crossbar run is asked to do besides the network: non-idealities and the reference comparison.
pub struct Options<'a> {
    /// `--nonideal` list.
    pub nonideal: &'a str,
    /// `--read-after`, s.
    pub read_after: f64,
    /// `--device-random` list.
    pub device_random: Option<&'a str>,
    /// `--adc-range`.
    pub adc_range: f64,
    /// Model time, s.
    pub duration: f64,
    /// Also run the float reference and compare.
    pub compare: bool,
    /// No spinner or progress bar.
    pub quiet: bool,
}

/// Runs `image` (already read by [`read_image`]) or else loads and maps `input`, on the crossbar `target`: the
/// report and every spike `(step, population, neuron)`.
pub fn execute(
    input: &InputArgs,
    image: Option<CrossbarImage>,
    spike_input: Option<&std::path::Path>,
    target: &Target,
    seed: u64,
    o: &Options,
) -> Result<(Report, Spikes, Instance), Failure> {
    let wall = Instant::now();
    let xb = parameters(target)?;
    let mut nonideal = nonideal(o.nonideal, xb, o.read_after)?;
    if !(o.adc_range > 0.0 && o.adc_range <= 1.0) {
        return Err(Failure::User(format!("error: --adc-range {}: expected a fraction in (0, 1]\n", o.adc_range)));
    }
    nonideal.adc_range = o.adc_range;
    let spinner = spinner(o.quiet);
    let clear = ClearOnDrop(&spinner);
    let (inst, program, mapping, name) = if let Some(image) = image {
        // The mapping report is recomputed from the image's network: the same target constants give the same tiles.
        let name = input.file.display().to_string();
        let (_, mapping) = map(&image.network, target, &name)?;
        (image.network, image.program, mapping, name)
    } else {
        let (inst, _, name) = instance_of(input, spike_input, seed, &spinner)?;
        spinner.set_message(format!("mapping onto {}", target.name));
        let (program, mapping) = map(&inst, target, &name)?;
        (inst, program, mapping, name)
    };
    drop(clear);
    for wanted in o.device_random.iter().flat_map(|list| list.split(',')).map(str::trim).filter(|s| !s.is_empty()) {
        let k = inst.projections.iter().position(|p| p.name == wanted).ok_or_else(|| {
            let names: Vec<&str> = inst.projections.iter().map(|p| p.name.as_str()).collect();
            Failure::User(format!(
                "error: --device-random: no projection `{wanted}`; the projections are {}\n",
                names.join(", ")
            ))
        })?;
        nonideal.device_random.push(k);
    }
    let steps = crate::pipeline::steps(&format!("{:e}s", o.duration), o.duration, inst.dt)?;
    let bar = output::step_bar(steps, o.quiet, "running")?;
    let opts = RunOptions { steps, record_all_spikes: true };
    let out = emulate(&inst, &program, xb, &nonideal, &opts, |done| bar.set_position(done));
    bar.finish_and_clear();
    let spikes: Spikes = output::all_spikes(&out.result);
    let reference = o.compare.then(|| against_reference(&inst, &spikes, steps));
    let l = &out.ledger;
    let total = l.total_j();
    let report = Report {
        network: name,
        target: target.name.clone(),
        nonideal: describe(o.nonideal, &nonideal, &inst),
        mapping,
        populations: output::population_rates(&inst, &out.result.spike_counts, o.duration),
        energy_j: total,
        adc_energy_share: if total > 0.0 { l.adc_j / total } else { 0.0 },
        ledger: l.clone(),
        run: RunSummary {
            synaptic_events: out.result.synaptic_events,
            energy_per_synaptic_event_j: total / out.result.synaptic_events.max(1) as f64,
            step_latency_s: l.hardware_time_s / steps.max(1) as f64,
            duration_s: o.duration,
            steps,
            wall_s: wall.elapsed().as_secs_f64(),
            target_constants: ConstantReport::all(target),
            reference,
            raster: output::instance_raster(&inst, &spikes),
        },
    };
    Ok((report, spikes, inst))
}

/// `soma run` on a crossbar target, of a network or of `image` (read by [`read_image`]).
pub fn run(args: &RunArgs, target: &Target, image: Option<CrossbarImage>) -> Result<(), Failure> {
    let options = Options {
        nonideal: &args.nonideal,
        read_after: crate::load::time("--read-after", &args.read_after, false)?,
        device_random: args.device_random.as_deref(),
        adc_range: args.adc_range,
        duration: crate::load::time("--duration", &args.duration, false)?,
        compare: args.compare_reference,
        quiet: args.quiet,
    };
    let (report, spikes, inst) = execute(&args.input, image, args.spike_input.as_deref(), target, args.seed, &options)?;
    if let Some(path) = &args.spikes {
        output::write_instance_spikes(path, &inst, &spikes)?;
    }
    output::emit(&text_report(&report), args.json, &report)
}

/// The non-idealities as the user asked for them, with the projections whose weights the devices drew.
fn describe(list: &str, n: &Nonideal, inst: &Instance) -> String {
    let mut s = list.to_string();
    if n.adc_range < 1.0 {
        s += &format!("; ADC range {} of full scale", n.adc_range);
    }
    if !n.device_random.is_empty() {
        let names: Vec<&str> = n.device_random.iter().map(|&k| inst.projections[k].name.as_str()).collect();
        s += &format!("; device-random weights on {}", names.join(", "));
    }
    s
}

fn text_report(r: &Report) -> String {
    let mut s = format!(
        "ran {} on {} for {} s ({} steps), non-idealities: {}\n",
        r.network, r.target, r.run.duration_s, r.run.steps, r.nonideal
    );
    s += &mapping_text(&r.mapping);
    s += &output::rate_table(r.populations.iter().map(|p| (p.name.as_str(), p.neurons, p.spikes, p.rate_hz)));
    let l = &r.ledger;
    s += &format!(
        "energy {:.3e} J: cells {:.2e}, drivers {:.2e}, ADCs {:.2e} ({:.0}%), digital {:.2e}, mesh {:.2e}\n",
        r.energy_j,
        l.cells_j,
        l.drivers_j,
        l.adc_j,
        100.0 * r.adc_energy_share,
        l.digital_j,
        l.noc_j
    );
    s += &format!(
        "tile reads {}, row activations {}, ADC conversions {}, neuron updates {}, packets {} ({} hops)\n",
        thousands(l.tile_reads),
        thousands(l.row_activations),
        thousands(l.adc_conversions),
        thousands(l.neuron_updates),
        thousands(l.packets),
        thousands(l.hops)
    );
    s += &format!("slowest step {:.3e} s of hardware time\n", l.step_latency_max_s);
    s + &r.run.text("crossbar")
}

/// The crossbar family in the registry.
pub struct Cli;

impl crate::family::Family for Cli {
    fn name(&self) -> &'static str {
        "crossbar"
    }

    fn reads(&self, bytes: &[u8]) -> bool {
        soma_isa::codec::is::<CrossbarImage>(bytes)
    }

    fn compile(&self, args: &CompileArgs, target: &Target) -> Result<(), Failure> {
        refuse_boards(args.boards.as_deref(), target)?;
        compile(args, target)
    }

    fn run_network(&self, args: &RunArgs, target: &Target) -> Result<(), Failure> {
        refuse_boards(args.boards.as_deref(), target)?;
        run(args, target, None)
    }

    fn run_image(&self, args: &RunArgs) -> Result<(), Failure> {
        let (image, target) = read_image(&args.input.file, args.target.as_deref())?;
        run(args, &target, Some(image))
    }

    fn figures(&self, input: &InputArgs, target: &Target, f: &FigureRun) -> Result<Figures, Failure> {
        refuse_boards(f.boards, target)?;
        let options = Options {
            nonideal: "none",
            read_after: 0.0,
            device_random: None,
            adc_range: 1.0,
            duration: f.duration,
            compare: true,
            quiet: f.quiet,
        };
        let (r, _, _) = execute(input, None, None, target, f.seed, &options)?;
        let (rate_error, silent_reference_hz) = fidelity_figures(r.run.reference.as_ref());
        Ok(Figures {
            energy_j: r.energy_j,
            wall_plug_energy_j: r.energy_j,
            energy_per_synaptic_event_j: r.run.energy_per_synaptic_event_j,
            step_latency_s: r.run.step_latency_s,
            size: r.mapping.tiles as u64,
            size_unit: "tiles".into(),
            machine: None,
            rate_error,
            silent_reference_hz,
        })
    }
}
