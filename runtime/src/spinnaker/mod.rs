//! The SpiNNaker-style machine: executes an `isa` image step by step, bit-exact to the isa specification, and
//! counts every operation in cycles and energy.
//!
//! Step `t`: (1) source cores emit the spikes stamped `t` and delay-extension cores re-send what is due; these
//! packets are routed and their rows processed; (2) every neuron core runs its neuron program over its neurons
//! (structure of arrays, cores in parallel), reading ring-buffer slot `t mod D` (`D`: the image's `delay_slots`,
//! which is also the length of a delay-extension stage); (3) the neurons' spikes are routed and processed. A spike
//! with base `b` (a neuron's spike of step `t`: `b = t`; a source spike stamped `s`: `b = s - 1`) and a synaptic
//! word of delay `d <= D` adds to ring slot `(b + d) mod D`, read in step `b + d`. Poisson source cores emit their
//! slice of their source's one [`PoissonTrain`] (the reference's rule), so slicing never changes the input.
//!
//! Packets follow the routing tables (walked once per sending core at load, first match, default route straight
//! on); each link carries at most `link_packets_per_s x w` packets per step, and a packet over that budget is
//! dropped with the rest of its subtree. A core whose cycles in a step exceed `w x clock` has overrun ("timer
//! fell behind"); packets it processes past its budget are counted as late (and still applied). `w` is the step's
//! wall time, `dt x time_scale_factor` ([`SpiNNaker::step_wall_s`](soma_targets::spinnaker::SpiNNaker::step_wall_s)).
//!
//! Plastic rows ([`soma_isa::spinnaker::stdp`]): a spike's row also updates its plastic synapses against the
//! postsynaptic histories of the receiving core, adds the new weights to the ring and writes the row back; the
//! neurons' spikes of step `t` enter the histories (stamped `t + 1`) before they are routed, as in the reference.
//! A plastic row costs `plastic_row`, each of its words `plastic_synapse` (instead of `synaptic_event`) and each
//! pair it applies `plastic_pair`; its DMA moves the two header words and its words in, and the header and the
//! half-word weights back.

pub mod energy;
pub mod report;

use std::collections::{BTreeMap, HashMap};

use rayon::prelude::*;
use soma_isa::fixed::{Accum, ring_add};
use soma_isa::program::{Compare, Instr, NO_REGISTER, Operand, Program, REGISTERS};
use soma_isa::source::PoissonTrain;
use soma_isa::spinnaker::stdp::{PostHistory, PreTrace};
use soma_isa::spinnaker::{CoreKind, Image, SourceCore, SynapticMatrix, word};
use soma_targets::spinnaker::{Geometry, SpiNNaker, walk};

pub use energy::Ledger;
pub use report::Engine;

/// Below this many neurons a step's work is too small to share between threads (a parallel region costs more
/// than it saves); above it cores are processed in parallel. Results are identical either way.
const PARALLEL_NEURONS: usize = 10_000;

/// A spike on its way: which core sent it, which atom, and its base step.
#[derive(Clone, Copy, Debug)]
struct Event {
    sender: u32,
    atom: u32,
    base: i64,
}

/// Where one sending core's packets go.
struct Fanout {
    /// Links crossed: `(link id, parent hop)`; link id = `chip index * 6 + link`.
    hops: Vec<(usize, Option<usize>)>,
    /// Receiving cores: `(core index, block index for neuron cores, hop that brings the packet)`.
    deliveries: Vec<(usize, u32, Option<usize>)>,
    /// Routers a packet passes.
    routers: u64,
}

/// Counters of one core.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CoreCounters {
    /// Neuron updates.
    pub neuron_updates: u64,
    /// Synaptic words processed.
    pub synaptic_events: u64,
    /// Rows fetched.
    pub rows: u64,
    /// DMA words transferred.
    pub dma_words: u64,
    /// Packets received.
    pub packets_received: u64,
    /// Packets sent.
    pub packets_sent: u64,
    /// Busy cycles.
    pub cycles: u64,
    /// Steps whose cycles exceeded the budget.
    pub overruns: u64,
    /// Packets processed past the step's budget.
    pub late_packets: u64,
    /// Weights added to a ring-buffer entry that was already full or became full (the sum lost its excess), as
    /// sPyNNaker's provenance counts them ("the weights from the synapses saturated N times").
    pub ring_saturations: u64,
    /// Most cycles in one step.
    pub max_step_cycles: u64,
    /// Plastic synaptic words processed (also counted in `synaptic_events`).
    pub plastic_events: u64,
    /// Postsynaptic spikes plastic synapses paired with (potentiation steps).
    pub plastic_pairs: u64,
    /// Plastic rows processed (each written back).
    pub plastic_rows: u64,
    /// Cycles of the plastic rows (their words, pairs, header and write-back; also in `cycles`).
    pub plastic_cycles: u64,
    /// Words the plastic rows wrote back to SDRAM (also in `dma_words`).
    pub write_back_words: u64,
    /// Steps the core ran at each performance level (level 1 first).
    pub level_steps: [u64; 3],
    /// Busy cycles at each performance level (they sum to `cycles`).
    pub level_cycles: [u64; 3],
    /// Plastic synapse updates that missed a pair: a postsynaptic spike they should have paired with had been
    /// dropped from its full history.
    pub missed_pairs: u64,
}

/// The learning state of a neuron core with plastic rows.
struct Plastic {
    /// Current weight of every plastic word.
    weights: Vec<u16>,
    /// Per row, the header.
    pre: Vec<PreTrace>,
    /// Per neuron, its postsynaptic history.
    post: Vec<PostHistory>,
}

struct NeuronCore {
    count: usize,
    program: Program,
    regs: Vec<Vec<Accum>>,
    refractory: Vec<u32>,
    skip: Vec<u16>,
    /// Neurons inside a refractory skip this step: `(neuron, first instruction after the skip)`.
    skipped: Vec<(u32, u16)>,
    /// Scratch: values of skipped neurons saved around an instruction.
    saved: Vec<(u32, Accum)>,
    in0: Vec<Accum>,
    in1: Vec<Accum>,
    ring: Vec<u16>,
    /// Ring-buffer slots.
    slots: usize,
    shifts: [u8; 2],
    incoming: Vec<(u32, u32, i64)>,
    spiked: Vec<u32>,
    plastic: Option<Plastic>,
}

enum CoreState {
    Neurons(Box<NeuronCore>),
    /// A slice of a Poisson source: the index of its source's train.
    Poisson {
        train: usize,
    },
    Array {
        cursors: Vec<usize>,
    },
    Delay {
        stages: usize,
        count: usize,
        due: BTreeMap<i64, Vec<u32>>,
    },
}

/// Why an image cannot be loaded onto the machine.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    /// The target is not the description the image was compiled for.
    #[error(
        "the image was compiled for a different description of `{target}` (fingerprint {image:016x}, the target's is {given:016x}); recompile it"
    )]
    Fingerprint {
        /// The target the image names.
        target: String,
        /// The image's fingerprint.
        image: u64,
        /// The target's.
        given: u64,
    },
    /// The header's machine size is not its board count's.
    #[error("the image's machine size does not match its board count")]
    Geometry,
    /// A routing table cannot be walked (a loop, or a packet leaving the machine).
    #[error("{0}")]
    Routing(#[from] soma_targets::spinnaker::WalkError),
    /// A key reaches a core that holds nothing.
    #[error("key {key:#x} is routed to core {core} of chip ({}, {}), which has no work", chip.0, chip.1)]
    NoWork {
        /// The key.
        key: u32,
        /// The core.
        core: usize,
        /// Its chip.
        chip: (usize, usize),
    },
}

/// A running machine.
pub struct Machine<'a> {
    image: &'a Image,
    cores: Vec<CoreState>,
    /// One train per Poisson source and its counts of this step, per channel.
    trains: Vec<(PoissonTrain, Vec<u32>)>,
    /// Ring-buffer slots (and steps per delay stage).
    slots: usize,
    fanouts: Vec<Fanout>,
    counters: Vec<CoreCounters>,
    step_cycles: Vec<u64>,
    link_use: Vec<u32>,
    link_totals: Vec<u64>,
    width: usize,
    link_capacity: u32,
    budget: u64,
    /// A step's cycles at each performance level's clock.
    level_budgets: [u64; 3],
    /// The level (0-based) every core runs at, or `None`: each core's follows its load step by step.
    fixed_level: Option<usize>,
    costs: Costs,
    step: u64,
    parallel: bool,
    /// Packets dropped on congested links.
    pub dropped_packets: u64,
    /// Router traversals of all packets.
    pub router_traversals: u64,
    /// Chips of the machine.
    pub chips: usize,
}

#[derive(Clone, Copy)]
struct Costs {
    neuron_update: u64,
    synaptic_event: u64,
    row_fetch: u64,
    dma_word: u64,
    packet_receive: u64,
    plastic_synapse: u64,
    plastic_pair: u64,
    plastic_row: u64,
}

impl<'a> Machine<'a> {
    /// Prepares `image` for execution on `target` (which must have the image's fingerprint).
    pub fn new(image: &'a Image, target: &SpiNNaker, fingerprint: u64) -> Result<Machine<'a>, LoadError> {
        if image.header.fingerprint != fingerprint {
            return Err(LoadError::Fingerprint {
                target: image.header.target.clone(),
                image: image.header.fingerprint,
                given: fingerprint,
            });
        }
        let geometry = Geometry::boards(image.header.boards as usize);
        if (geometry.width, geometry.height) != (image.header.width as usize, image.header.height as usize) {
            return Err(LoadError::Geometry);
        }
        let at: HashMap<((usize, usize), usize), usize> = image
            .cores
            .iter()
            .enumerate()
            .map(|(i, c)| (((c.chip.0 as usize, c.chip.1 as usize), c.index as usize), i))
            .collect();
        let tables: HashMap<(usize, usize), Vec<soma_isa::spinnaker::RouteEntry>> =
            image.routers.iter().map(|r| ((r.chip.0 as usize, r.chip.1 as usize), r.entries.clone())).collect();
        let chip_index = |(x, y): (usize, usize)| y * geometry.width + x;
        let mut fanouts = Vec::with_capacity(image.cores.len());
        for c in &image.cores {
            let w =
                walk(&geometry, &tables, (c.chip.0 as usize, c.chip.1 as usize), c.key).map_err(LoadError::Routing)?;
            let hops = w.hops.iter().map(|h| (chip_index(h.chip) * 6 + h.link, h.parent)).collect();
            let mut deliveries = Vec::new();
            for &(chip, core, via) in &w.deliveries {
                let Some(&i) = at.get(&(chip, core)) else {
                    return Err(LoadError::NoWork { key: c.key, core, chip });
                };
                let block = match &image.cores[i].kind {
                    CoreKind::Neurons(n) => match n.synapses.blocks.iter().position(|b| b.key == c.key) {
                        Some(b) => b as u32,
                        None => continue, // routed there but no rows: ignored by the core
                    },
                    _ => u32::MAX,
                };
                deliveries.push((i, block, via));
            }
            fanouts.push(Fanout { hops, deliveries, routers: w.routers as u64 });
        }
        let dt = image.header.dt;
        let slots = image.header.delay_slots as usize;
        let (mut trains, mut train_of) = (Vec::new(), HashMap::new());
        let cores = image
            .cores
            .iter()
            .map(|c| match &c.kind {
                CoreKind::Neurons(n) => {
                    let count = c.count as usize;
                    let regs =
                        n.registers.iter().map(|r| if r.len() == 1 { vec![r[0]; count] } else { r.clone() }).collect();
                    CoreState::Neurons(Box::new(NeuronCore {
                        count,
                        program: n.program.clone(),
                        regs,
                        refractory: vec![0; count],
                        skip: vec![0; count],
                        skipped: Vec::new(),
                        saved: Vec::new(),
                        in0: vec![Accum::ZERO; count],
                        in1: vec![Accum::ZERO; count],
                        ring: vec![0; slots * 2 * count],
                        slots,
                        shifts: n.shifts,
                        incoming: Vec::new(),
                        spiked: Vec::new(),
                        plastic: n.synapses.plastic.as_ref().map(|p| Plastic {
                            weights: p.words.iter().map(|&w| word::weight(w)).collect(),
                            pre: vec![PreTrace::default(); p.row_offsets.len().saturating_sub(1)],
                            post: vec![PostHistory::default(); count],
                        }),
                    }))
                }
                CoreKind::Source(SourceCore::Poisson { rate, stream }) => {
                    let train = *train_of.entry(c.population).or_insert_with(|| {
                        let channels = image.populations[c.population as usize].size as usize;
                        trains.push((
                            PoissonTrain::new(image.header.seed, *stream, *rate, dt, channels),
                            vec![0; channels],
                        ));
                        trains.len() - 1
                    });
                    CoreState::Poisson { train }
                }
                CoreKind::Source(SourceCore::Array { stamps }) => CoreState::Array { cursors: vec![0; stamps.len()] },
                CoreKind::DelayExtension { stages, .. } => {
                    CoreState::Delay { stages: *stages as usize, count: c.count as usize, due: BTreeMap::new() }
                }
            })
            .collect();
        let clock = target.level().clock_hz;
        Ok(Machine {
            image,
            cores,
            trains,
            slots,
            fanouts,
            counters: vec![CoreCounters::default(); image.cores.len()],
            step_cycles: vec![0; image.cores.len()],
            link_use: vec![0; geometry.width * geometry.height * 6],
            link_totals: vec![0; geometry.width * geometry.height * 6],
            width: geometry.width,
            link_capacity: (target.machine.link_packets_per_s.value * target.step_wall_s(dt))
                .floor()
                .max(1.0)
                .min(u32::MAX as f64) as u32,
            budget: (clock * target.step_wall_s(dt)).floor() as u64,
            level_budgets: target.levels().map(|l| (l.clock_hz * target.step_wall_s(dt)).floor() as u64),
            fixed_level: target.fixed_level().map(|l| usize::from(l.number) - 1),
            costs: Costs {
                neuron_update: target.cycles.neuron_update.value as u64,
                synaptic_event: target.cycles.synaptic_event.value as u64,
                row_fetch: target.cycles.row_fetch.value as u64,
                dma_word: target.cycles.dma_word.value as u64,
                packet_receive: target.cycles.packet_receive.value as u64,
                plastic_synapse: target.cycles.plastic_synapse.value as u64,
                plastic_pair: target.cycles.plastic_pair.value as u64,
                plastic_row: target.cycles.plastic_row.value as u64,
            },
            step: 0,
            parallel: image
                .cores
                .iter()
                .map(|c| if matches!(c.kind, CoreKind::Neurons(_)) { c.count as usize } else { 0 })
                .sum::<usize>()
                >= PARALLEL_NEURONS,
            dropped_packets: 0,
            router_traversals: 0,
            chips: geometry.chips().len(),
        })
    }

    /// Forces the cores to be processed in parallel (`true`) or in sequence; the results are identical either
    /// way (tests check it). By default cores run in parallel from 10,000 neurons on.
    pub fn set_parallel(&mut self, parallel: bool) {
        self.parallel = parallel;
    }

    /// Counters per core (in image order).
    pub fn counters(&self) -> &[CoreCounters] {
        &self.counters
    }

    /// Packets each link carried so far: `((x, y), link, packets)` for links that carried any.
    pub fn link_traffic(&self) -> Vec<((usize, usize), usize, u64)> {
        self.link_totals
            .iter()
            .enumerate()
            .filter(|(_, p)| **p > 0)
            .map(|(i, &p)| (((i / 6) % self.width, (i / 6) / self.width), i % 6, p))
            .collect()
    }

    /// Routers one packet of core `core` passes (0 for a core without targets).
    pub fn routers_per_packet(&self, core: usize) -> u64 {
        self.fanouts[core].routers
    }

    /// Cycles available per core per step.
    pub fn budget(&self) -> u64 {
        self.budget
    }

    /// The membrane potentials of a core's neurons as the core holds them (register `v` of the program, s16.15 in
    /// the population's `v_unit`), or `None` for other cores.
    pub fn v_register(&self, core: usize) -> Option<&[Accum]> {
        match &self.cores[core] {
            CoreState::Neurons(n) => Some(&n.regs[n.program.v_register as usize]),
            _ => None,
        }
    }

    /// The weights of every plastic projection ([`Image::plastic`]), in synapse order and the model's weight unit:
    /// as the image holds them (`initial`), or now.
    pub fn plastic_weights(&self, initial: bool) -> Vec<Vec<f64>> {
        (0..self.image.plastic.len())
            .map(|p| self.plastic_places(p).into_iter().map(|place| self.plastic_weight(place, initial)).collect())
            .collect()
    }

    /// Where each synapse of plastic projection `projection` ([`Image::plastic`]'s index) lives, in synapse order:
    /// `(core, index among the core's plastic words)`; `None` for a synapse no core holds.
    pub fn plastic_places(&self, projection: usize) -> Vec<Option<(usize, usize)>> {
        let Some(p) = self.image.plastic.get(projection) else { return Vec::new() };
        let mut places = vec![None; p.synapses as usize];
        for (core, spec) in self.image.cores.iter().enumerate() {
            let CoreKind::Neurons(spec) = &spec.kind else { continue };
            let Some(words) = &spec.synapses.plastic else { continue };
            for (k, &origin) in words.origin.iter().enumerate() {
                if (origin >> 32) as usize == projection {
                    places[origin as u32 as usize] = Some((core, k));
                }
            }
        }
        places
    }

    /// The weight of the plastic synapse at `place` ([`Machine::plastic_places`]) in the model's weight unit: as
    /// the image holds it (`initial`), or now; `NaN` for a synapse no core holds.
    pub fn plastic_weight(&self, place: Option<(usize, usize)>, initial: bool) -> f64 {
        let Some((core, k)) = place else { return f64::NAN };
        match (&self.cores[core], &self.image.cores[core].kind) {
            (CoreState::Neurons(n), CoreKind::Neurons(spec)) => match (&n.plastic, &spec.synapses.plastic) {
                (Some(state), Some(p)) => {
                    let w = if initial { word::weight(p.words[k]) } else { state.weights[k] };
                    w as f64 * p.unit
                }
                _ => f64::NAN,
            },
            _ => f64::NAN,
        }
    }

    /// Neurons of a core that spiked in the last step.
    pub fn spiked(&self, core: usize) -> &[u32] {
        match &self.cores[core] {
            CoreState::Neurons(n) => &n.spiked,
            _ => &[],
        }
    }

    /// Advances by one step.
    pub fn advance(&mut self) {
        let t = self.step as i64;
        self.step_cycles.fill(0);
        self.link_use.fill(0);
        // (1) Sources and delay extensions: base t - 1.
        let mut events = Vec::new();
        for (train, counts) in &mut self.trains {
            counts.fill(0);
            train.step(|ch, n| counts[ch as usize] = n);
        }
        for (i, core) in self.cores.iter_mut().enumerate() {
            let sender = i as u32;
            match core {
                CoreState::Poisson { train } => {
                    let (first, count) = (self.image.cores[i].first as usize, self.image.cores[i].count as usize);
                    for (atom, &n) in self.trains[*train].1[first..first + count].iter().enumerate() {
                        for _ in 0..n {
                            events.push(Event { sender, atom: atom as u32, base: t - 1 });
                        }
                    }
                }
                CoreState::Array { cursors } => {
                    let CoreKind::Source(SourceCore::Array { stamps }) = &self.image.cores[i].kind else { continue };
                    for (atom, (cursor, list)) in cursors.iter_mut().zip(stamps).enumerate() {
                        while *cursor < list.len() && (list[*cursor] as i64) <= t {
                            if list[*cursor] as i64 == t {
                                events.push(Event { sender, atom: atom as u32, base: t - 1 });
                            }
                            *cursor += 1;
                        }
                    }
                }
                CoreState::Delay { due, .. } => {
                    if let Some(atoms) = due.remove(&(t - 1)) {
                        events.extend(atoms.into_iter().map(|atom| Event { sender, atom, base: t - 1 }));
                    }
                }
                CoreState::Neurons(_) => {}
            }
        }
        self.deliver(&events);
        // (2) Neuron updates, cores in parallel.
        let slot = (self.step as usize) % self.slots;
        let cost = self.costs.neuron_update;
        let image = self.image;
        let stamp = (t + 1) as u32;
        let update = |(i, (core, cycles)): (usize, (&mut CoreState, &mut u64))| {
            if let CoreState::Neurons(n) = core {
                n.update(slot);
                if let CoreKind::Neurons(spec) = &image.cores[i].kind {
                    n.record_post_spikes(&spec.synapses, stamp);
                }
                *cycles += cost * n.count as u64;
            }
        };
        if self.parallel {
            self.cores.par_iter_mut().zip(self.step_cycles.par_iter_mut()).enumerate().for_each(update);
        } else {
            self.cores.iter_mut().zip(self.step_cycles.iter_mut()).enumerate().for_each(update);
        }
        // (3) Neuron spikes: base t.
        let mut events = Vec::new();
        for (i, core) in self.cores.iter().enumerate() {
            if let CoreState::Neurons(n) = core {
                self.counters[i].neuron_updates += n.count as u64;
                events.extend(n.spiked.iter().map(|&atom| Event { sender: i as u32, atom, base: t }));
            }
        }
        self.deliver(&events);
        for (total, &used) in self.link_totals.iter_mut().zip(&self.link_use) {
            *total += used as u64;
        }
        let (fixed, budgets) = (self.fixed_level, self.level_budgets);
        for (c, &cycles) in self.counters.iter_mut().zip(&self.step_cycles) {
            c.cycles += cycles;
            c.max_step_cycles = c.max_step_cycles.max(cycles);
            if cycles > self.budget {
                c.overruns += 1;
            }
            // The lowest level whose step holds the work (the top one if none does): the level SpiNNaker 2's
            // software would set from the step's workload, known here exactly.
            let level = fixed.unwrap_or_else(|| budgets.iter().position(|&b| cycles <= b).unwrap_or(2));
            c.level_steps[level] += 1;
            c.level_cycles[level] += cycles;
        }
        self.step += 1;
    }

    /// Routes events, counting links, drops and routers, then lets every receiving core process its packets.
    fn deliver(&mut self, events: &[Event]) {
        if events.is_empty() {
            return;
        }
        let mut dropped_hops: Vec<bool> = Vec::new();
        let slots = self.slots;
        for e in events {
            let f = &self.fanouts[e.sender as usize];
            if f.routers == 0 {
                continue; // a core without targets sends nothing
            }
            self.counters[e.sender as usize].packets_sent += 1;
            self.router_traversals += f.routers;
            dropped_hops.clear();
            for &(link, parent) in &f.hops {
                let parent_dropped = parent.is_some_and(|p| dropped_hops[p]);
                let over = !parent_dropped && {
                    self.link_use[link] += 1;
                    self.link_use[link] > self.link_capacity
                };
                if over {
                    self.dropped_packets += 1;
                }
                dropped_hops.push(parent_dropped || over);
            }
            for &(core, block, via) in &f.deliveries {
                if via.is_some_and(|h| dropped_hops[h]) {
                    continue;
                }
                match &mut self.cores[core] {
                    CoreState::Neurons(n) => n.incoming.push((block, e.atom, e.base)),
                    CoreState::Delay { stages, count, due } => {
                        for stage in 1..=*stages {
                            due.entry(e.base + (slots * stage) as i64)
                                .or_default()
                                .push((stage - 1) as u32 * *count as u32 + e.atom);
                        }
                        self.counters[core].packets_received += 1;
                        self.step_cycles[core] += self.costs.packet_receive;
                    }
                    _ => {}
                }
            }
        }
        let (image, costs, budget) = (self.image, self.costs, self.budget);
        let process = |(i, ((core, counters), cycles)): (usize, ((&mut CoreState, &mut CoreCounters), &mut u64))| {
            if let CoreState::Neurons(n) = core
                && !n.incoming.is_empty()
                && let CoreKind::Neurons(spec) = &image.cores[i].kind
            {
                n.receive(&spec.synapses, costs, budget, counters, cycles);
            }
        };
        if self.parallel {
            self.cores
                .par_iter_mut()
                .zip(self.counters.par_iter_mut())
                .zip(self.step_cycles.par_iter_mut())
                .enumerate()
                .for_each(process);
        } else {
            self.cores
                .iter_mut()
                .zip(self.counters.iter_mut())
                .zip(self.step_cycles.iter_mut())
                .enumerate()
                .for_each(process);
        }
    }
}

/// Adds `weight` to the ring-buffer entry of word `w` (rings of `slots` slots of two synapse types for `count`
/// neurons) from the slot of its spike's base, counting a saturation.
#[inline]
fn add(
    ring: &mut [u16],
    (slots, count): (usize, usize),
    base_slot: usize,
    w: u32,
    weight: u16,
    counters: &mut CoreCounters,
) {
    // `(base + d) mod slots` with `1 <= d <= slots` (the image is validated).
    let mut slot = base_slot + word::delay(w) as usize;
    if slot >= slots {
        slot -= slots;
    }
    let at = (slot * 2 + word::inhibitory(w) as usize) * count + word::index(w) as usize;
    let entry = ring[at];
    counters.ring_saturations += u64::from(entry.checked_add(weight).is_none());
    ring[at] = ring_add(entry, weight);
}

/// Where an instruction's operand comes from, resolved for one pass over a core's neurons.
#[derive(Clone, Copy)]
enum Src<'a> {
    /// The destination register's own (old) values.
    Dst,
    /// Another register or an input.
    Slice(&'a [Accum]),
    /// A constant.
    Const(Accum),
}

/// `out[i] = f(a[i], b[i])` for every neuron, with one loop per kind of operand (so that the compiler can
/// vectorise them). Neurons inside a refractory skip are restored by the caller.
#[inline(always)]
fn binary(out: &mut [Accum], a: Src, b: Src, f: impl Fn(Accum, Accum) -> Accum) {
    match (a, b) {
        (Src::Dst, Src::Slice(y)) => out.iter_mut().zip(y).for_each(|(o, &y)| *o = f(*o, y)),
        (Src::Dst, Src::Const(c)) => out.iter_mut().for_each(|o| *o = f(*o, c)),
        (Src::Slice(x), Src::Slice(y)) => out.iter_mut().zip(x.iter().zip(y)).for_each(|(o, (&x, &y))| *o = f(x, y)),
        (Src::Slice(x), Src::Const(c)) => out.iter_mut().zip(x).for_each(|(o, &x)| *o = f(x, c)),
        (Src::Slice(x), Src::Dst) => out.iter_mut().zip(x).for_each(|(o, &x)| *o = f(x, *o)),
        _ => {
            for i in 0..out.len() {
                out[i] = f(a.at(out, i), b.at(out, i));
            }
        }
    }
}

/// Appends to `spiked` every neuron whose value in `v` crosses its threshold.
#[inline(always)]
fn crossing(v: &[Accum], threshold: Src, cmp: Compare, spiked: &mut Vec<u32>) {
    // Few neurons cross: a block of 16 is tested at once (the comparisons OR-ed, which vectorises) and searched
    // only if one of its values crosses.
    #[inline(always)]
    fn scan(v: &[Accum], spiked: &mut Vec<u32>, crosses: impl Fn(usize, Accum) -> bool) {
        for (block, chunk) in v.chunks(16).enumerate() {
            let first = block * 16;
            if chunk.iter().enumerate().fold(false, |any, (j, &x)| any | crosses(first + j, x)) {
                spiked.extend(
                    chunk.iter().enumerate().filter(|&(j, &x)| crosses(first + j, x)).map(|(j, _)| (first + j) as u32),
                );
            }
        }
    }
    match (threshold, cmp) {
        (Src::Const(t), Compare::Ge) => scan(v, spiked, |_, x| x >= t),
        (Src::Const(t), Compare::Gt) => scan(v, spiked, |_, x| x > t),
        (Src::Slice(t), Compare::Ge) => scan(v, spiked, |i, x| x >= t[i]),
        (Src::Slice(t), Compare::Gt) => scan(v, spiked, |i, x| x > t[i]),
        // `Src::of` without a destination register never gives `Dst`.
        (Src::Dst, _) => {}
    }
}

/// Saves the values of the neurons whose refractory skip covers instruction `pc`.
#[inline(always)]
fn save(skipped: &[(u32, u16)], saved: &mut Vec<(u32, Accum)>, out: &[Accum], pc: u16) {
    saved.clear();
    saved.extend(skipped.iter().filter(|&&(_, until)| pc < until).map(|&(i, _)| (i, out[i as usize])));
}

/// Puts saved values back.
#[inline(always)]
fn restore(saved: &[(u32, Accum)], out: &mut [Accum]) {
    for &(i, v) in saved {
        out[i as usize] = v;
    }
}

impl<'a> Src<'a> {
    /// Resolves an operand of an instruction writing register `dst`.
    fn of(regs: &'a [Vec<Accum>], in0: &'a [Accum], in1: &'a [Accum], dst: u8, o: Operand) -> Src<'a> {
        match o {
            Operand::Reg(r) if r == dst => Src::Dst,
            Operand::Reg(r) => Src::Slice(&regs[r as usize]),
            Operand::In(0) => Src::Slice(in0),
            Operand::In(_) => Src::Slice(in1),
            Operand::Const(c) => Src::Const(c),
        }
    }

    #[inline(always)]
    fn at(self, dst: &[Accum], i: usize) -> Accum {
        match self {
            Src::Dst => dst[i],
            Src::Slice(s) => s[i],
            Src::Const(c) => c,
        }
    }
}

impl NeuronCore {
    /// Processes the packets received since the last call: fetches each packet's row, adds its static weights to
    /// the ring buffer (saturating), updates its plastic synapses and adds their new weights, costing every packet,
    /// row, word and pair.
    fn receive(
        &mut self,
        m: &SynapticMatrix,
        costs: Costs,
        budget: u64,
        counters: &mut CoreCounters,
        cycles: &mut u64,
    ) {
        let incoming = std::mem::take(&mut self.incoming);
        // Each packet's row is touched before any is processed: these loads do not depend on each other, so the
        // processor overlaps their cache misses, where processing row after row waits for each in turn. Nothing
        // is computed from them: the results are the same without this loop, only slower.
        let mut touched = 0u32;
        for &(block, atom, _) in &incoming {
            let row = m.blocks.get(block as usize).map_or(0, |b| (b.first_row + atom) as usize);
            touched ^= m.row_offsets.get(row).and_then(|&start| m.words.get(start as usize)).copied().unwrap_or(0);
        }
        std::hint::black_box(touched);
        for &(block, atom, base) in &incoming {
            if *cycles > budget {
                counters.late_packets += 1;
            }
            counters.packets_received += 1;
            *cycles += costs.packet_receive;
            let row = (m.blocks[block as usize].first_row + atom) as usize;
            let words = &m.words[m.row_offsets[row] as usize..m.row_offsets[row + 1] as usize];
            let plastic =
                m.plastic.as_ref().map_or(0..0, |p| p.row_offsets[row] as usize..p.row_offsets[row + 1] as usize);
            if words.is_empty() && plastic.is_empty() {
                continue;
            }
            let len = words.len() as u64;
            counters.rows += 1;
            counters.dma_words += len;
            counters.synaptic_events += len;
            *cycles += costs.row_fetch + (costs.dma_word + costs.synaptic_event) * len;
            let base_slot = base.rem_euclid(self.slots as i64) as usize;
            for &w in words {
                add(&mut self.ring, (self.slots, self.count), base_slot, w, word::weight(w), counters);
            }
            if let (Some(p), false) = (&m.plastic, plastic.is_empty()) {
                let plastic_cycles = self.learn(p, row, plastic, base + 1, base_slot, costs, counters);
                counters.plastic_cycles += plastic_cycles;
                *cycles += plastic_cycles;
            }
        }
        self.incoming = incoming;
        self.incoming.clear();
    }

    /// The plastic part `words` of row `row` meets its presynaptic spike stamped `stamp`: every synapse's deferred
    /// update, its new weight into the ring, the header's new trace. Returns the cycles it cost.
    #[allow(clippy::too_many_arguments)]
    fn learn(
        &mut self,
        p: &soma_isa::spinnaker::PlasticRows,
        row: usize,
        words: std::ops::Range<usize>,
        stamp: i64,
        base_slot: usize,
        costs: Costs,
        counters: &mut CoreCounters,
    ) -> u64 {
        let Some(state) = self.plastic.as_mut() else { return 0 };
        let (stamp, pre, n) = (stamp as u32, state.pre[row], words.len() as u64);
        let (mut pairs, mut missed) = (0u64, 0u64);
        for i in words {
            let w = p.words[i];
            let u = p.rule.update(
                state.weights[i],
                word::delay(w) as u32,
                pre,
                stamp,
                &state.post[word::index(w) as usize],
            );
            state.weights[i] = u.weight;
            pairs += u.pairs as u64;
            missed += u64::from(u.missed);
            add(&mut self.ring, (self.slots, self.count), base_slot, w, u.weight, counters);
        }
        state.pre[row] = p.rule.pre_spike(pre, stamp);
        // In: the two header words and the words (half-word weight and half-word control each); back: the header
        // and the half-word weights.
        let (read, back) = (2 + n, 2 + n.div_ceil(2));
        counters.plastic_events += n;
        counters.plastic_pairs += pairs;
        counters.missed_pairs += missed;
        counters.plastic_rows += 1;
        counters.synaptic_events += n;
        counters.dma_words += read + back;
        counters.write_back_words += back;
        costs.plastic_row + costs.plastic_synapse * n + costs.plastic_pair * pairs + costs.dma_word * (read + back)
    }

    /// Enters this step's spikes, stamped `stamp`, into the postsynaptic histories of a core with plastic rows.
    fn record_post_spikes(&mut self, m: &SynapticMatrix, stamp: u32) {
        if let (Some(state), Some(p)) = (self.plastic.as_mut(), &m.plastic) {
            for &i in &self.spiked {
                p.rule.post_spike(&mut state.post[i as usize], stamp);
            }
        }
    }

    /// Reads this step's inputs and runs the program over every neuron (one instruction at a time over all
    /// neurons; a neuron inside a refractory skip does nothing), bit-exact to `Program::step`.
    fn update(&mut self, slot: usize) {
        update(self, slot);
    }
}

/// [`NeuronCore::update`], compiled a second time for AVX2 and chosen at run time when the CPU has it (the same
/// integer arithmetic, so the same bits on either path; the helpers it calls are inlined into each copy).
#[multiversion::multiversion(targets("x86_64+avx2"))]
fn update(core: &mut NeuronCore, slot: usize) {
    let n = core.count;
    for ty in 0..2 {
        let entries = &mut core.ring[(slot * 2 + ty) * n..(slot * 2 + ty + 1) * n];
        let input = if ty == 0 { &mut core.in0 } else { &mut core.in1 };
        for (x, e) in input.iter_mut().zip(entries.iter_mut()) {
            *x = Accum::from_ring(*e, core.shifts[ty]);
            *e = 0;
        }
    }
    core.spiked.clear();
    // A neuron inside a refractory skip does not execute instructions before `skip[i]` (the index after the
    // skipped block); `skipping` says whether any neuron is inside one (otherwise no masks are needed).
    let mut skipping = false;
    for (pc, ins) in core.program.code.iter().enumerate() {
        let pc = pc as u16;
        match *ins {
            Instr::Add { dst, a, b }
            | Instr::Sub { dst, a, b }
            | Instr::Mul { dst, a, b }
            | Instr::Max { dst, a, b } => {
                let mut out = std::mem::take(&mut core.regs[dst as usize]);
                {
                    let (a, b) = (
                        Src::of(&core.regs, &core.in0, &core.in1, dst, a),
                        Src::of(&core.regs, &core.in0, &core.in1, dst, b),
                    );
                    save(&core.skipped, &mut core.saved, &out, pc);
                    match ins {
                        Instr::Add { .. } => binary(&mut out, a, b, Accum::saturating_add),
                        Instr::Sub { .. } => binary(&mut out, a, b, Accum::saturating_sub),
                        Instr::Max { .. } => binary(&mut out, a, b, Accum::max),
                        // A neuron model's coefficients are mostly factors in (-1, 1], whose products need no clamp.
                        _ => match b {
                            Src::Const(c) if c.is_unit_factor() => binary(&mut out, a, b, Accum::mul_round_by_unit),
                            _ => binary(&mut out, a, b, Accum::mul_round),
                        },
                    }
                    restore(&core.saved, &mut out);
                }
                core.regs[dst as usize] = out;
            }
            Instr::Decay { dst, a, factor } => {
                let mut out = std::mem::take(&mut core.regs[dst as usize]);
                {
                    let a = Src::of(&core.regs, &core.in0, &core.in1, dst, a);
                    save(&core.skipped, &mut core.saved, &out, pc);
                    binary(&mut out, a, Src::Const(Accum::ZERO), |x, _| x.decay(factor));
                    restore(&core.saved, &mut out);
                }
                core.regs[dst as usize] = out;
            }
            Instr::SkipIfRefractory { n: k } => {
                // Few neurons are refractory: that test comes first. Until a skip begins, no neuron is
                // inside one (every `skip` is 0).
                let until = pc + 1 + k as u16;
                // A block of 16 counters is tested at once (OR-ed, which vectorises) and searched only if one
                // of them is positive.
                for (block, lefts) in core.refractory.chunks_mut(16).enumerate() {
                    if lefts.iter().fold(0, |any, &x| any | x) == 0 {
                        continue;
                    }
                    for (j, left) in lefts.iter_mut().enumerate() {
                        let i = block * 16 + j;
                        if *left > 0 && (!skipping || pc >= core.skip[i]) {
                            *left -= 1;
                            if k > 0 {
                                core.skip[i] = until;
                                skipping = true;
                                core.skipped.push((i as u32, until));
                            }
                        }
                    }
                }
            }
            Instr::SpikeIf { reg, cmp, threshold, reset, bump_reg, bump, refractory } => {
                let r = reg as usize;
                // First the neurons that cross (one comparison each, in a loop without stores), then the
                // few that do: reset, bump, refractory period. Each neuron reads and writes only its own
                // values, so the two passes give what one pass in neuron order gives.
                let first = core.spiked.len();
                let th = Src::of(&core.regs, &core.in0, &core.in1, NO_REGISTER, threshold);
                crossing(&core.regs[r], th, cmp, &mut core.spiked);
                if skipping {
                    // Neurons inside a refractory skip do not execute this instruction.
                    let mut crossed = core.spiked.split_off(first);
                    crossed.retain(|&i| pc >= core.skip[i as usize]);
                    core.spiked.append(&mut crossed);
                }
                for &i in &core.spiked[first..] {
                    let i = i as usize;
                    core.regs[r][i] = match reset {
                        Operand::Reg(q) => core.regs[q as usize][i],
                        Operand::In(0) => core.in0[i],
                        Operand::In(_) => core.in1[i],
                        Operand::Const(c) => c,
                    };
                    if (bump_reg as usize) < REGISTERS {
                        core.regs[bump_reg as usize][i] = core.regs[bump_reg as usize][i].saturating_add(bump);
                    }
                    core.refractory[i] = refractory;
                }
            }
        }
    }
    if skipping {
        for &(i, _) in &core.skipped {
            core.skip[i as usize] = 0;
        }
        core.skipped.clear();
    }
}
