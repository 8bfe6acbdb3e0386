//! The SpiNNaker-style family on the command line: `compile` (partition, quantise, place, route into an image),
//! `run` (the emulated machine: rates, energy and its breakdown with the counts behind it, core load, packets;
//! optionally against the float reference). [`execute`] is shared with `soma compare` and `soma sweep`; the JSON
//! report it builds is what `soma report` reads.

use std::io::Write;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use soma_compiler::spinnaker::{self, PassTime};
use soma_compiler::weights::WeightError;
use soma_isa::spinnaker::{CoreKind, Image};
use soma_runtime::spinnaker::{Ledger, Machine};
use soma_targets::Target;

use crate::compare::{Figures, MachineFigures, fidelity_figures};
use crate::family::FigureRun;
use crate::output::{self, thousands, write_atomic};
use crate::pipeline::{
    ClearOnDrop, ConstantReport, Reference, Spikes, against_reference, instance_of, refuse_device_flags, spinner,
    weight_error_text,
};
use crate::{CompileArgs, Failure, InputArgs, RunArgs};

#[derive(Serialize)]
struct Pass {
    name: String,
    wall_s: f64,
}

#[derive(Serialize)]
struct CompileReport {
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
    pub image: soma_isa::spinnaker::Image,
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
            Ok((mut image, report)) => {
                image.header.target_text = target.text.clone();
                return Ok(Built { image, report, inst, passes, name });
            }
            Err(e @ soma_compiler::backend::CompileError::DoesNotFit(_)) if boards == Some("auto") => {
                last_error = Some(e)
            }
            Err(e) => return Err(Failure::User(format!("error: {name}: {e}\n"))),
        }
    }
    Err(Failure::User(format!(
        "error: {}: {}\n",
        name,
        last_error.map_or("no machine size tried".into(), |e| e.to_string())
    )))
}

/// `soma compile` on a SpiNNaker target: the image and its mapping report.
pub fn compile(args: &CompileArgs, target: &Target) -> Result<(), Failure> {
    let wall = Instant::now();
    if args.emit == "netlist" {
        return Err(Failure::User(format!(
            "error: --emit netlist writes SFQ netlists; {} is a {} target\n",
            target.name,
            target.family_name()
        )));
    }
    let Built { image, report, inst, mut passes, name } =
        build(&args.input, None, target, args.boards.as_deref(), args.seed, args.quiet)?;
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
    let out = CompileReport {
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
    let text = compile_text(&loaded_name, &written, &out);
    output::emit(&text, args.json, &out)
}

fn compile_text(name: &str, output: &str, r: &CompileReport) -> String {
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

/// One population's results.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PopulationReport {
    /// Name.
    pub name: String,
    /// Size.
    pub neurons: u32,
    /// Spikes emitted.
    pub spikes: u64,
    /// Mean rate, Hz.
    pub rate_hz: f64,
    /// Cores holding the population (neuron and delay-extension cores).
    pub cores: u64,
    /// Synaptic events its cores processed.
    pub synaptic_events: u64,
    /// Packets its cores sent.
    pub packets_sent: u64,
    /// Its share of the energy: its cores' active overhead and the packets they sent (idle chip power is shared by
    /// the whole network and not attributed).
    pub energy_j: f64,
}

/// Energy by component.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Breakdown {
    /// Idle power of every chip.
    pub idle_chips: f64,
    /// Active overhead of loaded cores.
    pub active_cores: f64,
    /// Packets through routers.
    pub packets: f64,
}

/// The counts behind the energy.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Counts {
    /// Chips of the machine.
    pub chips: u64,
    /// Loaded cores.
    pub cores: u64,
    /// Router traversals.
    pub router_traversals: u64,
    /// Packets sent.
    pub packets_sent: u64,
    /// Rows fetched.
    pub rows_fetched: u64,
    /// DMA words.
    pub dma_words: u64,
    /// Neuron updates.
    pub neuron_updates: u64,
    /// Busy fraction of the loaded cores' cycles.
    pub busy_fraction: f64,
}

/// One core.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CoreReport {
    /// Chip coordinates.
    pub chip: (u16, u16),
    /// Core number.
    pub core: u16,
    /// Population or source name.
    pub population: String,
    /// `neurons`, `source` or `delay`.
    pub kind: String,
    /// Mean cycles per step over the budget.
    pub load_mean: f64,
    /// Most cycles in one step over the budget.
    pub load_max: f64,
    /// Synaptic events processed.
    pub synaptic_events: u64,
    /// Packets sent.
    pub packets_sent: u64,
}

/// Packets one link carried.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LinkReport {
    /// The chip it leaves.
    pub chip: (usize, usize),
    /// Link number (0 east, 1 north-east, 2 north, 3 west, 4 south-west, 5 south).
    pub link: usize,
    /// Packets.
    pub packets: u64,
}

/// Workload metrics under NeuroBench's names (`neurobench/metrics/`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NeuroBench {
    /// Bytes of the model on the machine (synaptic words, row offsets and neuron registers).
    pub footprint: u64,
    /// Fraction of possible neuron pairs that are not connected.
    pub connection_sparsity: f64,
    /// Fraction of neuron-steps without a spike.
    pub activation_sparsity: f64,
    /// Neuron state updates.
    pub membrane_updates: u64,
    /// Synaptic operations: accumulates of spikes (`Effective_ACs`), multiply-accumulates (`Effective_MACs`, none
    /// in a spiking network), and every synapse every step (`Dense`).
    pub synaptic_operations: SynapticOperations,
}

/// NeuroBench's synaptic operations.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[allow(non_snake_case)]
pub struct SynapticOperations {
    /// Accumulates actually done.
    pub Effective_ACs: u64,
    /// Multiply-accumulates actually done.
    pub Effective_MACs: u64,
    /// Operations of a dense evaluation.
    pub Dense: u64,
}

/// The machine's shape.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MachineReport {
    /// Boards.
    pub boards: u32,
    /// Bounding width.
    pub width: usize,
    /// Bounding height.
    pub height: usize,
    /// Chips that exist.
    pub chips: Vec<(usize, usize)>,
}

/// The whole report of a run (the `--json` output).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Report {
    /// What ran.
    pub network: String,
    /// Target name.
    pub target: String,
    /// Populations.
    pub populations: Vec<PopulationReport>,
    /// Total energy.
    pub energy_j: f64,
    /// Energy by component.
    pub energy_breakdown_j: Breakdown,
    /// The counts behind the energy.
    pub energy_counts: Counts,
    /// Energy per synaptic event.
    pub energy_per_synaptic_event_j: f64,
    /// Synaptic events.
    pub synaptic_events: u64,
    /// Most cycles of a core in a step over the budget.
    pub core_load_max: f64,
    /// Mean neuron-core load.
    pub core_load_mean: f64,
    /// Steps in which a core overran (summed over cores).
    pub overruns: u64,
    /// Packets processed past their core's budget.
    pub late_packets: u64,
    /// Packets dropped on full links.
    pub dropped_packets: u64,
    /// Synaptic weights that saturated a ring-buffer entry (their excess lost); absent in reports written before
    /// soma counted them.
    #[serde(default)]
    pub ring_buffer_saturations: u64,
    /// Model time.
    pub duration_s: f64,
    /// Steps.
    pub steps: u64,
    /// Time of one step on the machine: the slowest core's cycles over the clock (mean over steps), seconds.
    pub step_latency_s: f64,
    /// Wall time.
    pub wall_s: f64,
    /// Synaptic events per wall second.
    pub events_per_wall_s: f64,
    /// Per core.
    pub cores: Vec<CoreReport>,
    /// Per link.
    pub links: Vec<LinkReport>,
    /// The machine.
    pub machine: MachineReport,
    /// Spikes of neurons 0..100 of each population (at most 50,000): `(time_s, population, neuron)`.
    pub raster: Vec<(f64, String, u32)>,
    /// NeuroBench metrics.
    pub neurobench: NeuroBench,
    /// The target's constants with their sources.
    pub target_constants: Vec<ConstantReport>,
    /// The comparison with the float reference, if asked for.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reference: Option<Reference>,
}

/// Runs an image for `duration` seconds; with `built`, `compare` also runs the float reference.
pub fn execute(
    image: &Image,
    target: &Target,
    built: Option<&Built>,
    duration: f64,
    compare: bool,
    quiet: bool,
) -> Result<(Report, Spikes), Failure> {
    let wall = Instant::now();
    let Some(spinn) = target.spinnaker() else {
        return Err(Failure::User(format!(
            "error: {} is a {} target; this path runs SpiNNaker images\n",
            target.name,
            target.family_name()
        )));
    };
    let mut machine =
        Machine::new(image, spinn, target.fingerprint).map_err(|e| Failure::User(format!("error: {e}\n")))?;
    let steps = crate::pipeline::steps(&format!("{duration:e}s"), duration, image.header.dt)?;
    let bar = output::step_bar(steps, quiet, "running")?;
    let mut spikes: Spikes = Vec::new();
    let mut counts = vec![0u64; image.populations.len()];
    let run_start = Instant::now();
    for t in 0..steps {
        machine.advance();
        for (i, c) in image.cores.iter().enumerate() {
            if let CoreKind::Neurons(_) = c.kind {
                let s = machine.spiked(i);
                counts[c.population as usize] += s.len() as u64;
                spikes.extend(s.iter().map(|&n| (t as u32, c.population, c.first + n)));
            }
        }
        if t % 100 == 99 {
            bar.set_position(t + 1);
        }
    }
    bar.finish_and_clear();
    let run_s = run_start.elapsed().as_secs_f64();
    let ledger = Ledger::new(
        spinn,
        image.header.boards,
        machine.chips,
        machine.counters(),
        machine.router_traversals,
        steps,
        image.header.dt,
    );
    let counters = machine.counters();
    let budget = machine.budget() as f64;
    let per_step = |c: &soma_runtime::spinnaker::CoreCounters| c.cycles as f64 / steps.max(1) as f64;
    let neuron_cores: Vec<_> = image
        .cores
        .iter()
        .zip(counters)
        .filter(|(c, _)| matches!(c.kind, CoreKind::Neurons(_)))
        .map(|(_, k)| k)
        .collect();
    let reference = match (built, compare) {
        (Some(b), true) => Some(against_reference(&b.inst, &spikes, steps)),
        _ => None,
    };
    let geometry = soma_targets::spinnaker::Geometry::boards(image.header.boards as usize);
    let populations = image
        .populations
        .iter()
        .enumerate()
        .zip(&counts)
        .filter(|((_, p), _)| p.model != "source")
        .map(|((pi, p), &n)| {
            let mine: Vec<(usize, &soma_runtime::spinnaker::CoreCounters)> =
                counters.iter().enumerate().filter(|(i, _)| image.cores[*i].population as usize == pi).collect();
            let traversals: u64 = mine.iter().map(|&(i, c)| c.packets_sent * machine.routers_per_packet(i)).sum();
            PopulationReport {
                name: p.name.clone(),
                neurons: p.size,
                spikes: n,
                rate_hz: if duration > 0.0 { n as f64 / p.size as f64 / duration } else { 0.0 },
                cores: mine.len() as u64,
                synaptic_events: mine.iter().map(|(_, c)| c.synaptic_events).sum(),
                packets_sent: mine.iter().map(|(_, c)| c.packets_sent).sum(),
                energy_j: spinn.energy.active_core_w.value * mine.len() as f64 * ledger.model_time_s
                    + spinn.energy.packet_j.value * traversals as f64,
            }
        })
        .collect();
    let cores = image
        .cores
        .iter()
        .zip(counters)
        .map(|(c, k)| CoreReport {
            chip: c.chip,
            core: c.index,
            population: image.populations[c.population as usize].name.clone(),
            kind: match c.kind {
                CoreKind::Neurons(_) => "neurons",
                CoreKind::Source(_) => "source",
                CoreKind::DelayExtension { .. } => "delay",
            }
            .into(),
            load_mean: per_step(k) / budget,
            load_max: k.max_step_cycles as f64 / budget,
            synaptic_events: k.synaptic_events,
            packets_sent: k.packets_sent,
        })
        .collect();
    let names: Vec<&str> = image.populations.iter().map(|p| p.name.as_str()).collect();
    let raster = crate::output::raster(&spikes, image.header.dt, &names);
    let footprint: u64 = image
        .cores
        .iter()
        .map(|c| match &c.kind {
            CoreKind::Neurons(n) => {
                (n.synapses.words.len() + n.synapses.row_offsets.len()) as u64 * 4
                    + n.registers.iter().map(|r| r.len() as u64 * 4).sum::<u64>()
            }
            _ => 0,
        })
        .sum();
    let (neurons, synapses): (u64, u64) = match built {
        Some(b) => (b.inst.neuron_count() as u64, b.inst.synapse_count() as u64),
        None => (
            image.populations.iter().filter(|p| p.model != "source").map(|p| p.size as u64).sum(),
            image
                .cores
                .iter()
                .map(|c| if let CoreKind::Neurons(n) = &c.kind { n.synapses.words.len() as u64 } else { 0 })
                .sum(),
        ),
    };
    let all_units: u64 = image.populations.iter().map(|p| p.size as u64).sum();
    let total_spikes: u64 = counts.iter().sum();
    let report = Report {
        network: built.map_or_else(String::new, |b| b.name.clone()),
        target: target.name.clone(),
        populations,
        energy_j: ledger.total_j(),
        energy_breakdown_j: Breakdown {
            idle_chips: ledger.idle_chips_j,
            active_cores: ledger.active_cores_j,
            packets: ledger.packets_j,
        },
        energy_counts: Counts {
            chips: ledger.chips,
            cores: ledger.cores,
            router_traversals: ledger.router_traversals,
            packets_sent: counters.iter().map(|c| c.packets_sent).sum(),
            rows_fetched: counters.iter().map(|c| c.rows).sum(),
            dma_words: counters.iter().map(|c| c.dma_words).sum(),
            neuron_updates: counters.iter().map(|c| c.neuron_updates).sum(),
            busy_fraction: ledger.busy_fraction,
        },
        energy_per_synaptic_event_j: ledger.per_synaptic_event_j(),
        synaptic_events: ledger.synaptic_events,
        core_load_max: neuron_cores.iter().map(|k| k.max_step_cycles as f64 / budget).fold(0.0, f64::max),
        core_load_mean: if neuron_cores.is_empty() {
            0.0
        } else {
            neuron_cores.iter().map(|k| per_step(k) / budget).sum::<f64>() / neuron_cores.len() as f64
        },
        overruns: counters.iter().map(|c| c.overruns).sum(),
        late_packets: counters.iter().map(|c| c.late_packets).sum(),
        dropped_packets: machine.dropped_packets,
        ring_buffer_saturations: counters.iter().map(|c| c.ring_saturations).sum(),
        duration_s: duration,
        steps,
        step_latency_s: neuron_cores.iter().map(|k| per_step(k)).fold(0.0, f64::max) / spinn.machine.clock_hz.value,
        wall_s: wall.elapsed().as_secs_f64(),
        events_per_wall_s: ledger.synaptic_events as f64 / run_s.max(1e-9),
        cores,
        links: machine
            .link_traffic()
            .into_iter()
            .map(|(chip, link, packets)| LinkReport { chip, link, packets })
            .collect(),
        machine: MachineReport {
            boards: image.header.boards,
            width: geometry.width,
            height: geometry.height,
            chips: geometry.chips(),
        },
        raster,
        neurobench: NeuroBench {
            footprint,
            connection_sparsity: if neurons == 0 {
                0.0
            } else {
                1.0 - synapses as f64 / (neurons as f64 * all_units as f64)
            },
            activation_sparsity: if neurons == 0 || steps == 0 {
                0.0
            } else {
                1.0 - total_spikes as f64 / (neurons * steps) as f64
            },
            membrane_updates: counters.iter().map(|c| c.neuron_updates).sum(),
            synaptic_operations: SynapticOperations {
                Effective_ACs: ledger.synaptic_events,
                Effective_MACs: 0,
                Dense: synapses * steps,
            },
        },
        target_constants: ConstantReport::all(target),
        reference,
    };
    Ok((report, spikes))
}

/// The human-readable summary of a run.
pub fn text_report(r: &Report) -> String {
    let mut s = format!("ran {} on {} for {} s ({} steps)\n", r.network, r.target, r.duration_s, r.steps);
    s += &output::rate_table(r.populations.iter().map(|p| (p.name.as_str(), p.neurons as u64, p.spikes, p.rate_hz)));
    let (b, c) = (&r.energy_breakdown_j, &r.energy_counts);
    s += &format!(
        "energy {:.4e} J: idle chips {:.3e} J ({} chips), active cores {:.3e} J ({} cores), packets {:.3e} J ({} router traversals)\n",
        r.energy_j,
        b.idle_chips,
        c.chips,
        b.active_cores,
        c.cores,
        b.packets,
        thousands(c.router_traversals)
    );
    s += &format!(
        "synaptic events {}, energy per synaptic event {:.3e} J\n",
        thousands(r.synaptic_events),
        r.energy_per_synaptic_event_j
    );
    s += &format!(
        "core load (cycles per step / budget): max {:.2}, mean {:.2}; overruns {}, late packets {}, dropped packets {}\n",
        r.core_load_max, r.core_load_mean, r.overruns, r.late_packets, r.dropped_packets
    );
    if r.ring_buffer_saturations > 0 {
        s += &format!(
            "ring buffers saturated {} times: input was lost; raise ring_buffer_sigma or expected_rate_hz in the preset \
             (larger weight shifts, coarser weights)\n",
            thousands(r.ring_buffer_saturations)
        );
    }
    s += &format!("wall {:.3} s, {:.3e} synaptic events per wall second\n", r.wall_s, r.events_per_wall_s);
    if let Some(c) = &r.reference {
        s += &c.text("machine");
    }
    s
}

/// `soma run` on a SpiNNaker target, of a network (`image` `None`: compiled here) or of an image.
pub fn run(args: &RunArgs, target: &Target, image: Option<Image>) -> Result<(), Failure> {
    let duration = crate::load::time("--duration", &args.duration, false)?;
    refuse_device_flags(
        args,
        &image.as_ref().map_or_else(
            || format!("{} is a spinnaker target", target.name),
            |_| "this is a SpiNNaker image".to_string(),
        ),
    )?;
    let (image, built) = match image {
        Some(image) => {
            if args.compare_reference {
                return Err(Failure::User(
                    "error: --compare-reference needs the network, not an image: run the .snn/.nir/.csv file with --target\n".into(),
                ));
            }
            (image, None)
        }
        None => {
            let built = build(
                &args.input,
                args.spike_input.as_deref(),
                target,
                Some(args.boards.as_deref().unwrap_or("auto")),
                args.seed,
                args.quiet,
            )?;
            (built.image.clone(), Some(built))
        }
    };
    let (mut report, spikes) = execute(&image, target, built.as_ref(), duration, args.compare_reference, args.quiet)?;
    if report.network.is_empty() {
        report.network = args.input.file.display().to_string();
    }
    if let Some(path) = &args.spikes {
        let names: Vec<&str> = image.populations.iter().map(|p| p.name.as_str()).collect();
        output::write_spikes(path, image.header.dt, &names, &spikes)?;
    }
    let text = text_report(&report);
    output::emit(&text, args.json, &report)
}

/// The SpiNNaker-style family in the registry.
pub struct Cli;

impl crate::family::Family for Cli {
    fn name(&self) -> &'static str {
        "spinnaker"
    }

    fn reads(&self, bytes: &[u8]) -> bool {
        soma_isa::codec::is::<Image>(bytes)
    }

    fn compile(&self, args: &CompileArgs, target: &Target) -> Result<(), Failure> {
        compile(args, target)
    }

    fn run_network(&self, args: &RunArgs, target: &Target) -> Result<(), Failure> {
        run(args, target, None)
    }

    fn run_image(&self, args: &RunArgs) -> Result<(), Failure> {
        let (image, target) =
            crate::load::read_image::<Image>(&args.input.file, args.target.as_deref(), |t| t.spinnaker().is_some())?;
        run(args, &target, Some(image))
    }

    fn figures(&self, input: &InputArgs, target: &Target, f: &FigureRun) -> Result<Figures, Failure> {
        let built = build(input, None, target, Some(f.boards.unwrap_or("auto")), f.seed, f.quiet)?;
        let (r, _) = execute(&built.image, target, Some(&built), f.duration, true, f.quiet)?;
        let (rate_error, silent_reference_hz) = fidelity_figures(r.reference.as_ref());
        Ok(Figures {
            energy_j: r.energy_j,
            wall_plug_energy_j: r.energy_j,
            energy_per_synaptic_event_j: r.energy_per_synaptic_event_j,
            step_latency_s: r.step_latency_s,
            size: r.energy_counts.cores,
            size_unit: "cores".into(),
            machine: Some(MachineFigures {
                chips: r.energy_counts.chips,
                overruns: r.overruns,
                dropped_packets: r.dropped_packets,
                ring_buffer_saturations: r.ring_buffer_saturations,
            }),
            rate_error,
            silent_reference_hz,
        })
    }
}
