//! The SpiNNaker family behind [`crate::engine::Engine`]: a run of an image on the machine and its report
//! (rates, energy by component with the counts behind it, per-population attribution, core load, link traffic,
//! NeuroBench's workload metrics, what plastic projections learned and what learning cost, optionally against the
//! float reference), as JSON (`run --json`, which `soma report` reads back) and as text.

use std::time::Instant;

use serde::{Deserialize, Serialize};
use soma_isa::fixed::Accum;
use soma_isa::instance::{Instance, Variable};
use soma_isa::report::{Json, Report as AnyReport, quantity, si, thousands, to_json};
use soma_isa::spinnaker::{CoreKind, Image, si_per_v_unit};
use soma_targets::spinnaker::{Enclosure, SpiNNaker};

use super::{CoreCounters, Ledger, Machine};
use crate::engine::{self, ChipTrace, Figures, Job, MachineFigures, Run, RunError, fidelity_figures};
use crate::fidelity::{Reference, Spikes, against_reference};
use crate::reference::WeightTrace;
use crate::report::{ConstantReport, Learned, learned_text, raster, rate_table, summarise, weight_unit};

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
    /// Core power of loaded cores at their performance level over the run.
    pub active_cores: f64,
    /// Busy cycles at the performance level's energy per cycle (absent in reports written before soma had it).
    #[serde(default)]
    pub core_cycles: f64,
    /// Packets through routers.
    pub packets: f64,
}

/// The system-level energy: the chip-level ledger for the machine's time and what surrounds the chips.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SystemEnergy {
    /// Wall time of a step over its model time (the target's `time_scale_factor`).
    pub time_scale_factor: f64,
    /// How long the machine ran: model time x `time_scale_factor`, seconds.
    pub machine_time_s: f64,
    /// What surrounds the chips: a board's box, the frames of a multi-board machine, or nothing for one chip.
    pub enclosure: String,
    /// The enclosure's energy over the machine time, J.
    pub enclosure_j: f64,
    /// Chip-level total plus the enclosure, J.
    pub energy_j: f64,
    /// `energy_j` per synaptic event, J.
    pub energy_per_synaptic_event_j: f64,
    /// Terms of the system level no source prices (constants marked unknown): not in `energy_j`.
    pub unknown: Vec<String>,
}

impl SystemEnergy {
    fn of(spinn: &SpiNNaker, target: &soma_targets::Target, boards: u32, ledger: &Ledger) -> SystemEnergy {
        let enclosure = spinn.enclosure(boards);
        SystemEnergy {
            time_scale_factor: spinn.machine.time_scale_factor.value,
            machine_time_s: ledger.machine_time_s,
            enclosure: match enclosure {
                Enclosure::None => "a single chip: no board or enclosure modelled".into(),
                Enclosure::Box => "the board's box".into(),
                Enclosure::Frames(n) => format!(
                    "{n} frame{} of {} boards",
                    if n == 1 { "" } else { "s" },
                    spinn.system.boards_per_frame.value
                ),
            },
            enclosure_j: ledger.enclosure_j,
            energy_j: ledger.system_j(),
            energy_per_synaptic_event_j: ledger.system_per_synaptic_event_j(),
            unknown: target
                .unknowns()
                .into_iter()
                .map(|(name, _)| name)
                .filter(|name| enclosure.constants().contains(&name.as_str()))
                .collect(),
        }
    }

    /// One or two lines for the text summary: the system-level total, what it adds, what it lacks.
    pub fn text(&self) -> String {
        let mut s = String::new();
        if self.time_scale_factor != 1.0 {
            s += &format!(
                "time_scale_factor {}: the machine ran {:.4} s of wall time, and every power above is charged for it\n",
                self.time_scale_factor, self.machine_time_s
            );
        }
        s += &format!(
            "system level {} ({} per synaptic event): ",
            si(self.energy_j, "J"),
            si(self.energy_per_synaptic_event_j, "J")
        );
        s += &if self.enclosure_j > 0.0 {
            format!("the chips and {} {}", self.enclosure, si(self.enclosure_j, "J"))
        } else if self.unknown.is_empty() {
            format!("the chips alone ({})", self.enclosure)
        } else {
            format!("the chips alone, {} unknown", self.enclosure)
        };
        s += "; the host computer is not counted";
        if !self.unknown.is_empty() {
            s += &format!("; unknown, so not priced: {}", self.unknown.join(", "));
        }
        s + "\n"
    }
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
    /// Where each core's performance level follows its load (`performance_level = 0`): the core-steps spent at
    /// levels 1, 2 and 3. Absent where every core runs at one level.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub levels_by_load: Option<[u64; 3]>,
    /// Energy per synaptic event.
    pub energy_per_synaptic_event_j: f64,
    /// The system level: machine time and enclosure (absent in reports written before soma had it).
    #[serde(default)]
    pub system: SystemEnergy,
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
    /// Spikes of up to 100 neurons of each population, spread evenly over it (`report::raster_stride`; at most
    /// 50,000): `(time_s, population, neuron)`.
    pub raster: Vec<(f64, String, u32)>,
    /// NeuroBench metrics.
    pub neurobench: NeuroBench,
    /// The target's constants with their sources.
    pub target_constants: Vec<ConstantReport>,
    /// What the plastic projections learned and cost; absent without any.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub plasticity: Option<PlasticityReport>,
    /// The comparison with the float reference, if asked for.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reference: Option<Reference>,
}

impl AnyReport for Report {
    fn json(&self) -> Json {
        to_json(self)
    }

    fn text(&self) -> String {
        text(self)
    }
}

/// How finely a plastic projection's weights are held.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct Resolution {
    /// One unit of a 16-bit weight, in the model's weight unit (the coarsest over the projection's cores: the
    /// largest weight onto a core sets its step).
    pub step: f64,
    /// Steps from `w_min` to `w_max`.
    pub range_steps: f64,
}

/// What the plastic projections learned and what learning cost the machine.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PlasticityReport {
    /// Each plastic projection's weights before and after (the image's quantised initial weights, and the final
    /// ones), in the model's weight unit.
    pub learned: Vec<Learned>,
    /// The weight resolution of each plastic projection, aligned with `learned`.
    pub resolution: Vec<Resolution>,
    /// Plastic synaptic words processed (part of `synaptic_events`).
    pub plastic_events: u64,
    /// Postsynaptic spikes they paired with.
    pub pairs: u64,
    /// Plastic rows processed and written back.
    pub rows_written_back: u64,
    /// Words written back to SDRAM.
    pub write_back_words: u64,
    /// Plastic synapse updates that missed a pair because its postsynaptic spike had been dropped from a full
    /// history (16 entries per neuron).
    pub missed_pairs: u64,
    /// Cycles of the plastic rows (words, pairs, headers and DMA; row fetch and packet not included).
    pub plastic_cycles: u64,
    /// Their share of all busy cycles.
    pub cycles_share: f64,
    /// Cycles per plastic word processed, pairs and write-back included.
    pub cycles_per_plastic_event: f64,
    /// Cycles per static word (`synaptic_event + dma_word`), for comparison.
    pub cycles_per_static_event: f64,
    /// Energy of the plastic cycles at the performance level's energy per cycle (zero where the model has no
    /// per-cycle term, as SpiNNaker 1's).
    pub energy_j: f64,
}

impl PlasticityReport {
    /// What the plastic cycles cost in energy, or that the target prices no cycles.
    pub fn energy_text(&self) -> String {
        if self.energy_j > 0.0 {
            format!("{} at the energy per cycle", si(self.energy_j, "J"))
        } else {
            "no energy of their own (the target prices no cycles)".into()
        }
    }

    fn text(&self) -> String {
        let mut s = format!(
            "plasticity: {} plastic synaptic events, {} pairs, {} rows written back ({} words); {:.1} cycles per \
             plastic event against {:.0} per static one, {:.1}% of busy cycles, {}\n",
            thousands(self.plastic_events),
            thousands(self.pairs),
            thousands(self.rows_written_back),
            thousands(self.write_back_words),
            self.cycles_per_plastic_event,
            self.cycles_per_static_event,
            self.cycles_share * 100.0,
            self.energy_text()
        );
        if self.missed_pairs > 0 {
            s += &format!(
                "  {} plastic updates missed a pair: its postsynaptic spike had left the neuron's history (the 15 newest \
                 spikes are kept, as sPyNNaker keeps them)\n",
                thousands(self.missed_pairs)
            );
        }
        for (l, r) in self.learned.iter().zip(&self.resolution) {
            s += &format!(
                "  {}: weight step {}, [w_min, w_max] is {:.0} steps (a presynaptic spike truncates up to one)\n",
                l.projection,
                quantity(r.step, &l.unit),
                r.range_steps
            );
        }
        s + &learned_text(&self.learned)
    }
}

/// The plasticity part of a run's report, if the image has plastic projections.
fn plasticity(
    image: &Image,
    machine: &Machine,
    spinn: &SpiNNaker,
    inst: Option<&Instance>,
) -> Option<PlasticityReport> {
    if image.plastic.is_empty() {
        return None;
    }
    let (before, after) = (machine.plastic_weights(true), machine.plastic_weights(false));
    // The image's plastic projections are the instance's, in order.
    let units: Vec<&str> = inst.map_or(vec![""; image.plastic.len()], |inst| {
        (0..inst.projections.len())
            .filter(|&k| inst.projections[k].plasticity.is_some())
            .map(|k| weight_unit(inst, k))
            .collect()
    });
    let learned = image
        .plastic
        .iter()
        .zip(before.iter().zip(&after))
        .zip(&units)
        .map(|((p, (b, a)), unit)| summarise(&p.name, unit, b, a, p.w_min, p.w_max))
        .collect();
    let mut weight_steps = vec![0f64; image.plastic.len()];
    for c in &image.cores {
        if let CoreKind::Neurons(n) = &c.kind
            && let Some(p) = &n.synapses.plastic
        {
            for &origin in &p.origin {
                let step = &mut weight_steps[(origin >> 32) as usize];
                *step = step.max(p.unit);
            }
        }
    }
    let counters = machine.counters();
    let sum = |f: fn(&CoreCounters) -> u64| counters.iter().map(f).sum::<u64>();
    let (events, cycles, all_cycles) = (sum(|c| c.plastic_events), sum(|c| c.plastic_cycles), sum(|c| c.cycles));
    Some(PlasticityReport {
        learned,
        resolution: image
            .plastic
            .iter()
            .zip(weight_steps)
            .map(|(p, step)| Resolution { step, range_steps: (p.w_max - p.w_min) / step })
            .collect(),
        plastic_events: events,
        pairs: sum(|c| c.plastic_pairs),
        rows_written_back: sum(|c| c.plastic_rows),
        write_back_words: sum(|c| c.write_back_words),
        missed_pairs: sum(|c| c.missed_pairs),
        plastic_cycles: cycles,
        cycles_share: if all_cycles > 0 { cycles as f64 / all_cycles as f64 } else { 0.0 },
        cycles_per_plastic_event: if events > 0 { cycles as f64 / events as f64 } else { 0.0 },
        cycles_per_static_event: spinn.cycles.synaptic_event.value + spinn.cycles.dma_word.value,
        energy_j: match spinn.fixed_level() {
            Some(level) => level.cycle_j * cycles as f64,
            // Levels follow the load: the plastic cycles at the run's mean energy per busy cycle.
            None => super::energy::cycles_j(spinn, counters) * cycles as f64 / all_cycles.max(1) as f64,
        },
    })
}

/// The SpiNNaker-style family's engine.
pub struct Engine;

impl engine::FamilyEngine for Engine {
    type Image = Image;
    const FAMILY: &'static str = "spinnaker";
    const MODELS_DEVICES: bool = false;
    const RECORDS_TRACES: bool = true;
    const SAMPLES_WEIGHTS: bool = true;
    /// Measured 2026-12-05 (`/usr/bin/time soma run IMAGE`): the microcircuit at scale 0.2, 126 MB peak for a
    /// 60.5 MB image.
    const RUN_BYTES_PER_IMAGE_BYTE: f64 = 2.2;

    fn network(_image: &Image) -> Option<&Instance> {
        None
    }

    fn run(&self, image: &Image, job: &Job) -> Result<Run, RunError> {
        let Executed { report, spikes, traces, learned, weight_traces } = execute(image, job)?;
        let (rate_error, silent_reference_hz) = fidelity_figures(report.reference.as_ref());
        let figures = Figures {
            energy_j: report.energy_j,
            wall_plug_energy_j: report.system.energy_j,
            energy_per_synaptic_event_j: report.energy_per_synaptic_event_j,
            step_latency_s: report.step_latency_s,
            size: report.energy_counts.cores,
            size_unit: "cores".into(),
            machine: Some(MachineFigures {
                chips: report.energy_counts.chips,
                overruns: report.overruns,
                dropped_packets: report.dropped_packets,
                ring_buffer_saturations: report.ring_buffer_saturations,
            }),
            rate_error,
            silent_reference_hz,
        };
        Ok(Run {
            traces,
            learned,
            weight_traces,
            spikes,
            populations: image.populations.iter().map(|p| p.name.clone()).collect(),
            sizes: image.populations.iter().map(|p| p.size).collect(),
            dt: image.header.dt,
            steps: report.steps,
            report: Box::new(report),
            figures,
        })
    }
}

/// A network's `v` probe located on the machine: its place among the network's `v` probes (the reference's trace
/// of it has the same), its trace so far, its neurons as `(core, index on the core)`, and the SI value of one unit
/// of its register.
struct Probe {
    index: usize,
    trace: ChipTrace,
    at: Vec<(usize, usize)>,
    si_per_unit: f64,
}

/// The network's `v` probes, located on the machine.
fn locate_probes(image: &Image, inst: Option<&Instance>) -> Vec<Probe> {
    let Some(inst) = inst else { return Vec::new() };
    inst.probes
        .iter()
        .filter(|p| p.variable == Variable::V)
        .enumerate()
        .filter_map(|(index, p)| {
            let name = &inst.populations[p.population].name;
            let pi = image.populations.iter().position(|q| &q.name == name)?;
            let place = |n: u32| {
                image.cores.iter().position(|c| {
                    c.population as usize == pi
                        && matches!(c.kind, CoreKind::Neurons(_))
                        && (c.first..c.first + c.count).contains(&n)
                })
            };
            let at = p
                .neurons
                .iter()
                .map(|&n| place(n).map(|core| (core, (n - image.cores[core].first) as usize)))
                .collect::<Option<Vec<_>>>()?;
            let trace = ChipTrace {
                population: name.clone(),
                neurons: p.neurons.clone(),
                values: Vec::new(),
                raw: Vec::new(),
                reference: None,
            };
            Some(Probe { index, trace, at, si_per_unit: si_per_v_unit(&image.populations[pi].v_unit) })
        })
        .collect()
}

/// What [`execute`] produces: the report, every spike, the probes' traces and the plastic projections' weights.
struct Executed {
    report: Report,
    spikes: Spikes,
    traces: Vec<ChipTrace>,
    learned: Vec<(String, Vec<f64>)>,
    weight_traces: Vec<WeightTrace>,
}

/// A weight probe's samples so far and the places of its synapses on the machine ([`Machine::plastic_places`]).
type WeightSampler = (WeightTrace, Vec<Option<(usize, usize)>>);

/// Each of `job.weight_probes` with the places of its synapses on the machine.
fn locate_weight_probes(image: &Image, machine: &Machine, job: &Job) -> Result<Vec<WeightSampler>, RunError> {
    job.weight_probes
        .iter()
        .map(|probe| {
            let name = job.instance.and_then(|inst| inst.projections.get(probe.projection)).map(|p| &p.name);
            let plastic = name.and_then(|name| image.plastic.iter().position(|p| &p.name == name));
            let Some(plastic) = plastic else {
                return Err(RunError::Unsupported(format!(
                    "weight probe on projection {}: not a plastic projection of this image{}",
                    name.map_or(probe.projection.to_string(), |n| format!("`{n}`")),
                    if job.instance.is_none() { " (the probe needs the network the image came from)" } else { "" }
                )));
            };
            let places = machine.plastic_places(plastic);
            let chosen = places.get(probe.synapses.clone()).map(<[_]>::to_vec).ok_or_else(|| {
                RunError::Unsupported(format!(
                    "weight probe {}..{} on `{}`: the projection has {} synapses",
                    probe.synapses.start,
                    probe.synapses.end,
                    image.plastic[plastic].name,
                    places.len()
                ))
            })?;
            Ok((WeightTrace { probe: probe.clone(), values: Vec::new() }, chosen))
        })
        .collect()
}

/// Runs `image` for `job.steps` steps; with `job.compare`, also the float reference on `job.instance`.
fn execute(image: &Image, job: &Job) -> Result<Executed, RunError> {
    let wall = Instant::now();
    let (target, mut steps, duration) = (job.target, job.steps, job.duration_s);
    let Some(spinn) = target.spinnaker() else {
        return Err(RunError::Unsupported(format!(
            "{} is a {} target, not a spinnaker one",
            target.name,
            target.family_name()
        )));
    };
    let mut machine = Machine::new(image, spinn, target.fingerprint).map_err(|e| RunError::Load(e.to_string()))?;
    let mut probes = locate_probes(image, job.instance);
    let mut weight_probes = locate_weight_probes(image, &machine, job)?;
    let every = job.weight_every.max(1);
    let mut spikes: Spikes = Vec::new();
    let mut counts = vec![0u64; image.populations.len()];
    let run_start = Instant::now();
    for t in 0..steps {
        machine.advance();
        for p in &mut probes {
            for &(core, i) in &p.at {
                let v = machine.v_register(core).map_or(Accum(0), |regs| regs[i]);
                p.trace.values.push(v.to_f64() * p.si_per_unit);
                p.trace.raw.push(i64::from(v.0));
            }
        }
        if (t + 1).is_multiple_of(every) {
            for (trace, places) in &mut weight_probes {
                trace.values.extend(places.iter().map(|&place| machine.plastic_weight(place, false)));
            }
        }
        for (i, c) in image.cores.iter().enumerate() {
            if let CoreKind::Neurons(_) = c.kind {
                let s = machine.spiked(i);
                counts[c.population as usize] += s.len() as u64;
                spikes.extend(s.iter().map(|&n| (t as u32, c.population, c.first + n)));
            }
        }
        if t % 100 == 99 {
            (job.progress)(t + 1);
            if job.stop.is_some_and(|s| s.load(std::sync::atomic::Ordering::Relaxed)) {
                steps = t + 1;
                break;
            }
        }
    }
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
    let per_step = |c: &CoreCounters| c.cycles as f64 / steps.max(1) as f64;
    // A core's mean time a step: each level's cycles at its clock.
    let levels = spinn.levels();
    let step_time = |c: &CoreCounters| {
        let mut s = 0.0;
        for (l, level) in levels.iter().enumerate() {
            if c.level_cycles[l] > 0 {
                s += c.level_cycles[l] as f64 / steps.max(1) as f64 / level.clock_hz;
            }
        }
        s
    };
    let neuron_cores: Vec<_> = image
        .cores
        .iter()
        .zip(counters)
        .filter(|(c, _)| matches!(c.kind, CoreKind::Neurons(_)))
        .map(|(_, k)| k)
        .collect();
    let plasticity = plasticity(image, &machine, spinn, job.instance);
    let learned: Vec<(String, Vec<f64>)> =
        image.plastic.iter().map(|p| p.name.clone()).zip(machine.plastic_weights(false)).collect();
    let reference = match (job.instance, job.compare) {
        (Some(inst), true) => Some(against_reference(inst, &spikes, steps, &learned)),
        _ => None,
    };
    let traces = probes
        .into_iter()
        .map(|Probe { index, mut trace, .. }| {
            trace.reference = reference.as_ref().and_then(|r| r.traces.get(index)).map(|t| t.values.clone());
            trace
        })
        .collect();
    let geometry = soma_targets::spinnaker::Geometry::boards(image.header.boards as usize);
    let populations = image
        .populations
        .iter()
        .enumerate()
        .zip(&counts)
        .filter(|((_, p), _)| p.model != "source")
        .map(|((pi, p), &n)| {
            let mine: Vec<(usize, &CoreCounters)> =
                counters.iter().enumerate().filter(|(i, _)| image.cores[*i].population as usize == pi).collect();
            let traversals: u64 = mine.iter().map(|&(i, c)| c.packets_sent * machine.routers_per_packet(i)).sum();
            let own: Vec<CoreCounters> = mine.iter().map(|(_, c)| **c).collect();
            let share = Ledger::of_cores(spinn, &own, traversals, steps, image.header.dt);
            PopulationReport {
                name: p.name.clone(),
                neurons: p.size,
                spikes: n,
                rate_hz: if duration > 0.0 { n as f64 / p.size as f64 / duration } else { 0.0 },
                cores: mine.len() as u64,
                synaptic_events: mine.iter().map(|(_, c)| c.synaptic_events).sum(),
                packets_sent: mine.iter().map(|(_, c)| c.packets_sent).sum(),
                energy_j: share.total_j(),
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
    let names: Vec<String> = image.populations.iter().map(|p| p.name.clone()).collect();
    let sizes: Vec<u32> = image.populations.iter().map(|p| p.size).collect();
    let raster = raster(&spikes, image.header.dt, &names, &sizes);
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
    let (neurons, synapses): (u64, u64) = match job.instance {
        Some(inst) => (inst.neuron_count() as u64, inst.synapse_count() as u64),
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
        network: job.network.to_string(),
        target: target.name.clone(),
        populations,
        energy_j: ledger.total_j(),
        energy_breakdown_j: Breakdown {
            idle_chips: ledger.idle_chips_j,
            active_cores: ledger.active_cores_j,
            core_cycles: ledger.core_cycles_j,
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
        levels_by_load: spinn
            .fixed_level()
            .is_none()
            .then(|| [0, 1, 2].map(|l| counters.iter().map(|c| c.level_steps[l]).sum())),
        energy_per_synaptic_event_j: ledger.per_synaptic_event_j(),
        system: SystemEnergy::of(spinn, target, image.header.boards, &ledger),
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
        step_latency_s: neuron_cores.iter().map(|k| step_time(k)).fold(0.0, f64::max),
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
        plasticity,
        reference,
    };
    let weight_traces = weight_probes.into_iter().map(|(trace, _)| trace).collect();
    Ok(Executed { report, spikes, traces, learned, weight_traces })
}

/// The human-readable summary of a run.
pub fn text(r: &Report) -> String {
    let mut s = format!("ran {} on {} for {} s ({} steps)\n", r.network, r.target, r.duration_s, r.steps);
    s += &rate_table(r.populations.iter().map(|p| (p.name.as_str(), p.neurons as u64, p.spikes, p.rate_hz)));
    let (b, c) = (&r.energy_breakdown_j, &r.energy_counts);
    s += &format!(
        "energy {}: idle chips {} ({} chip{}), active cores {} ({} cores), packets {} ({} router traversals)\n",
        si(r.energy_j, "J"),
        si(b.idle_chips, "J"),
        c.chips,
        if c.chips == 1 { "" } else { "s" },
        si(b.active_cores, "J"),
        c.cores,
        si(b.packets, "J"),
        thousands(c.router_traversals)
    );
    if b.core_cycles > 0.0 {
        s += &format!("  and busy cycles {} at the performance level's energy per cycle\n", si(b.core_cycles, "J"));
    }
    if let Some(steps) = r.levels_by_load {
        let all = steps.iter().sum::<u64>().max(1) as f64;
        s += &format!(
            "performance levels follow the load: core-steps at level 1 {:.1}%, level 2 {:.1}%, level 3 {:.1}%\n",
            100.0 * steps[0] as f64 / all,
            100.0 * steps[1] as f64 / all,
            100.0 * steps[2] as f64 / all
        );
    }
    s += &format!(
        "synaptic events {}, energy per synaptic event {}\n",
        thousands(r.synaptic_events),
        si(r.energy_per_synaptic_event_j, "J")
    );
    s += &r.system.text();
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
    if let Some(p) = &r.plasticity {
        s += &p.text();
    }
    s += &format!("wall {:.3} s, {} synaptic events per wall second\n", r.wall_s, si(r.events_per_wall_s, ""));
    if let Some(c) = &r.reference {
        s += &c.text("machine");
    }
    s
}
