//! Pulse-level simulation of SFQ netlists ([`soma_isa::sfq`]) at PyLSE's abstraction: every cell is a timed
//! automaton that turns input pulses into output pulses after its firing delay; time is kept in whole femtoseconds
//! so runs are exact and deterministic (events at equal times are taken in cell and port order).
//!
//! Cell rules beyond the netlist's definitions: a merger drops a pulse arriving within `merger_window_ps` of the
//! last one it passed (a collision, counted); a DFF counts a data pulse within `dff_setup_ps` before its clock as a
//! setup violation and one within `dff_hold_ps` after a clock as a hold violation, and stores neither. Every pulse a
//! cell takes switches each of its junctions once (a synapse: once per pulse it makes): energy `switches x I_c
//! Phi0`, plus the static bias power of every junction over the run, both also shown times the cooling factor.
//!
//! [`run`] executes an image. The step clock enters the circuit at `t x step_fs`; step `t` itself starts `lead` later,
//! when the clock has reached every DFF (the longest path through the clock tree to a DFF's clock input; 0 without
//! DFFs), so that a pulse made in step `t` waits in its DFF for the clock of step `t + 1`. The sources' spikes of
//! step `t` (from [`crate::reference::Sources`], the same as the reference's for one seed) enter at the step's start
//! plus their taps' phases (a channel's second spike in a step one multiplier burst after its first); a neuron's
//! output pulse at time `T` is a spike in step `(T - lead) / step_fs`.

mod queue;
mod report;

pub use report::{Engine, Report};

use std::cmp::Reverse;
use std::collections::BTreeMap;

use queue::PulseQueue;

use serde::Serialize;
use soma_isa::rng::Rng;
use soma_isa::sfq::{Cell, Netlist, Port, SfqImage};
use soma_targets::sfq::{Sfq, Timing};

use crate::reference::{RunResult, Sources};

/// Per-cell counts of a run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CellCounts {
    /// Pulses the cell took or made (each switches the cell's junctions once).
    pub pulses: u64,
    /// Merger inputs lost to a collision.
    pub collisions: u64,
    /// DFF data pulses too close before a clock.
    pub setup_violations: u64,
    /// DFF data pulses too close after a clock.
    pub hold_violations: u64,
}

/// A cell as the simulation walks it, in one place (a pulse touches one record, not one per table): its kind,
/// the inputs its outputs drive (`None`: the pulse leaves the netlist), and the pulses it took or made.
#[derive(Clone, Copy)]
struct Node {
    kind: Cell,
    out: [Option<Port>; 2],
    pulses: u64,
}

/// A running pulse simulation.
pub struct Simulation<'a> {
    netlist: &'a Netlist,
    nodes: Vec<Node>,
    lib: &'a Sfq,
    timing: Timing,
    pass_levels: u64,
    queue: PulseQueue,
    /// Per cell: time of the last accepted pulse (mergers), last clock (DFFs).
    last: Vec<Option<u64>>,
    /// Per DFF: arrival time of the stored data pulse.
    stored: Vec<Option<u64>>,
    /// Per neuron: fluxons stored, the leak accumulator, and clock pulses left before it takes input again.
    fluxons: Vec<i32>,
    leak_acc: Vec<u32>,
    refractory_left: Vec<u16>,
    rng: Rng,
    /// Per cell, its timing trouble (its pulses are counted in `nodes`).
    trouble: Vec<CellCounts>,
    /// Pulses leaving unconnected outputs: `(time in fs, cell, output)`.
    pub outputs: Vec<(u64, u32, u8)>,
    /// Neuron firings: `(time in fs, cell)`.
    pub fired: Vec<(u64, u32)>,
    now: u64,
}

impl<'a> Simulation<'a> {
    /// A simulation of `netlist` with the cell library `lib`; synapses pass with probability `pass /
    /// pass_levels` and draw from `seed`.
    ///
    /// Panics on a netlist of more than [`soma_isa::sfq::MAX_CELLS`] cells (images are refused before, by
    /// validation).
    pub fn new(netlist: &'a Netlist, lib: &'a Sfq, pass_levels: u16, seed: u64) -> Simulation<'a> {
        let n = netlist.cells.len();
        assert!(n <= soma_isa::sfq::MAX_CELLS, "a netlist of {n} cells");
        let nodes = netlist
            .cells
            .iter()
            .zip(&netlist.wires)
            .map(|(&kind, wires)| Node {
                kind,
                out: [wires.first().copied().flatten(), wires.get(1).copied().flatten()],
                pulses: 0,
            })
            .collect();
        Simulation {
            netlist,
            nodes,
            lib,
            timing: lib.timing(),
            pass_levels: pass_levels.max(1) as u64,
            queue: PulseQueue::default(),
            last: vec![None; n],
            stored: vec![None; n],
            fluxons: vec![0; n],
            leak_acc: vec![0; n],
            refractory_left: vec![0; n],
            rng: Rng::new(seed, 0x0005_f95e),
            trouble: vec![CellCounts::default(); n],
            outputs: Vec::new(),
            fired: Vec::new(),
            now: 0,
        }
    }

    /// A pulse arriving at `port` at `at_fs`, not before the time already simulated.
    pub fn inject(&mut self, at_fs: u64, port: Port) {
        debug_assert!(at_fs >= self.now, "a pulse injected at {at_fs} fs, before the simulated {} fs", self.now);
        self.queue.push((at_fs, port.cell, port.input));
    }

    /// Processes every pulse up to and including `until_fs`.
    pub fn run_until(&mut self, until_fs: u64) {
        while let Some((t, cell, input)) = self.queue.peek() {
            if t > until_fs {
                break;
            }
            self.queue.pop();
            self.now = t;
            self.arrive(t, cell as usize, input);
        }
        self.now = self.now.max(until_fs);
    }

    /// Stored fluxons of a neuron cell.
    pub fn fluxons(&self, cell: u32) -> i32 {
        self.fluxons[cell as usize]
    }

    /// Sets the fluxons a loop holds (a neuron's initial potential).
    pub fn set_fluxons(&mut self, cell: u32, n: i32) {
        self.fluxons[cell as usize] = n;
    }

    fn emit(&mut self, t: u64, cell: usize, output: u8) {
        match self.nodes[cell].out[output as usize] {
            Some(to) => self.queue.push((t, to.cell, to.input)),
            None => self.outputs.push((t, cell as u32, output)),
        }
    }

    fn arrive(&mut self, t: u64, cell: usize, input: u8) {
        let c = self.timing;
        let kind = self.nodes[cell].kind;
        let delay = c.delay(kind);
        match kind {
            Cell::Jtl { .. } => {
                self.nodes[cell].pulses += 1;
                self.emit(t + delay, cell, 0);
            }
            Cell::Splitter => {
                self.nodes[cell].pulses += 1;
                self.emit(t + delay, cell, 0);
                self.emit(t + delay, cell, 1);
            }
            Cell::Merger => {
                if self.last[cell].is_some_and(|prev| t < prev + c.merger_window) {
                    self.trouble[cell].collisions += 1;
                    return;
                }
                self.last[cell] = Some(t);
                self.nodes[cell].pulses += 1;
                self.emit(t + delay, cell, 0);
            }
            Cell::Dff if input == 0 => {
                if self.last[cell].is_some_and(|clock| t < clock + c.dff_hold) {
                    self.trouble[cell].hold_violations += 1;
                    return;
                }
                self.nodes[cell].pulses += 1;
                self.stored[cell] = Some(t);
            }
            Cell::Dff => {
                self.last[cell] = Some(t);
                self.nodes[cell].pulses += 1;
                match self.stored[cell].take() {
                    Some(data) if data + c.dff_setup > t => self.trouble[cell].setup_violations += 1,
                    Some(_) => self.emit(t + delay, cell, 0),
                    None => {}
                }
            }
            Cell::Neuron { threshold, floor, leak, refractory } => {
                self.nodes[cell].pulses += 1;
                let n = &mut self.fluxons[cell];
                let held = &mut self.refractory_left[cell];
                match input {
                    1 => {
                        *held = held.saturating_sub(1);
                        release(n, &mut self.leak_acc[cell], leak);
                    }
                    _ if *held > 0 => {}
                    0 => {
                        *n += 1;
                        if *n >= threshold as i32 {
                            *n = 0;
                            self.leak_acc[cell] = 0;
                            if refractory > 0 {
                                *held = refractory.saturating_add(1);
                            }
                            self.fired.push((t, cell as u32));
                            self.emit(t + delay, cell, 0);
                        }
                    }
                    _ => *n = (*n - 1).max(-(floor as i32)),
                }
            }
            Cell::Current { capacity, leak } => {
                self.nodes[cell].pulses += 1;
                let (n, cap) = (&mut self.fluxons[cell], capacity as i32);
                match input {
                    0 => *n = (*n + 1).min(cap),
                    2 => *n = (*n - 1).max(-cap),
                    _ => {
                        let released = release(n, &mut self.leak_acc[cell], leak);
                        let output = if released > 0 { 0 } else { 1 };
                        // One released fluxon per multiplier burst, so that the bursts they become do not overlap.
                        for k in 0..released.unsigned_abs() as u64 {
                            self.emit(t + delay + k * c.burst, cell, output);
                        }
                    }
                }
            }
            Cell::Bias { rate } => {
                self.nodes[cell].pulses += 1;
                let acc = &mut self.leak_acc[cell];
                *acc += rate;
                let count = *acc >> 16;
                *acc &= 0xffff;
                for k in 0..count as u64 {
                    self.emit(t + delay + k * c.spacing, cell, 0);
                }
            }
            Cell::Synapse { pulses, pass } => {
                self.nodes[cell].pulses += pulses as u64;
                for k in 0..pulses as u64 {
                    if pass as u64 >= self.pass_levels || self.rng.below(self.pass_levels) < pass as u64 {
                        self.emit(t + delay + k * c.spacing, cell, 0);
                    }
                }
            }
        }
    }

    /// Junction switches so far.
    pub fn switches(&self) -> u64 {
        self.nodes.iter().map(|n| n.pulses * self.lib.junctions(n.kind)).sum()
    }

    /// Each cell's counts so far.
    pub fn counts(&self) -> Vec<CellCounts> {
        self.nodes.iter().zip(&self.trouble).map(|(n, t)| CellCounts { pulses: n.pulses, ..t.clone() }).collect()
    }

    /// Energy at 4 K so far: `(dynamic, static)` in J, the static part over the simulated time.
    pub fn energy_j(&self) -> (f64, f64) {
        let dynamic = self.switches() as f64 * self.lib.switch_j();
        let static_ = self.lib.netlist_junctions(self.netlist) as f64
            * self.lib.power.static_w_per_jj.value
            * self.now as f64
            * 1e-15;
        (dynamic, static_)
    }
}

/// The leak rule of storage loops: `acc += |n| leak; n -= sign(n) (acc >> 16); acc &= 0xffff`. Returns the signed
/// number of fluxons taken out.
fn release(n: &mut i32, acc: &mut u32, leak: u16) -> i32 {
    *acc += n.unsigned_abs() * leak as u32;
    let taken = n.signum() * (*acc >> 16) as i32;
    *acc &= 0xffff;
    *n -= taken;
    taken
}

/// A cell with timing trouble.
#[derive(Clone, Debug, Serialize)]
pub struct Trouble {
    /// Cell index in the netlist.
    pub cell: u32,
    /// Cell kind.
    pub kind: &'static str,
    /// Merger collisions.
    pub collisions: u64,
    /// DFF setup violations.
    pub setup_violations: u64,
    /// DFF hold violations.
    pub hold_violations: u64,
}

/// What a run cost and how its timing went.
#[derive(Clone, Debug, Serialize)]
pub struct Ledger {
    /// Junctions in the circuit.
    pub junctions: u64,
    /// Junction switches per cell kind.
    pub switches: BTreeMap<&'static str, u64>,
    /// Switching energy per cell kind at 4 K, J.
    pub dynamic_j: BTreeMap<&'static str, f64>,
    /// Switching energy at 4 K, J.
    pub dynamic_total_j: f64,
    /// Static bias energy at 4 K over the run, J.
    pub static_j: f64,
    /// Energy at 4 K, J.
    pub chip_j: f64,
    /// Energy at the wall: `chip_j x cooling_w_per_w`, J.
    pub wall_j: f64,
    /// The cooling factor applied, W/W.
    pub cooling_w_per_w: f64,
    /// Chip time simulated, s.
    pub chip_s: f64,
    /// Pulses taken or made by all cells.
    pub pulses: u64,
    /// `pulses / chip_s`.
    pub pulses_per_s: f64,
    /// Merger collisions (pulses lost).
    pub collisions: u64,
    /// DFF setup violations.
    pub setup_violations: u64,
    /// DFF hold violations.
    pub hold_violations: u64,
    /// The cells with the most trouble (at most 10), worst first.
    pub worst_cells: Vec<Trouble>,
    /// Per population, when its first spike left the circuit (fs from the run's start).
    pub first_spike_fs: Vec<Option<u64>>,
}

/// A run of an image: the spikes (as the reference simulator reports them) and the ledger.
pub struct SfqRun {
    /// Spikes per population in steps.
    pub result: RunResult,
    /// Costs and timing.
    pub ledger: Ledger,
}

/// Runs `image` for `steps` steps with the cell library `lib`, calling `progress(done_steps)` now and then, and
/// ending early (`result.steps` done) once `stop` is set.
pub fn run(
    image: &SfqImage,
    lib: &Sfq,
    steps: u64,
    stop: Option<&std::sync::atomic::AtomicBool>,
    mut progress: impl FnMut(u64),
) -> SfqRun {
    let (p, net) = (&image.program, &image.network);
    let mut sim = Simulation::new(&p.netlist, lib, p.pass_levels, net.seed);
    let lead = p.clock.map_or(0, |clock| clock_lead(&p.netlist, lib, clock));
    // Loops start at their initial fluxons; one that starts at its threshold takes its last fluxon as step 0 starts.
    for (cells, initial) in p.neurons.iter().zip(&p.initial_fluxons) {
        for (&cell, &n) in cells.iter().zip(initial) {
            let Cell::Neuron { threshold, .. } = p.netlist.cells[cell as usize] else { continue };
            sim.set_fluxons(cell, n.min(threshold as i32 - 1));
            if n >= threshold as i32 {
                sim.inject(lead, Port { cell, input: 0 });
            }
        }
    }
    let mut sources = Sources::new(net);
    // Several spikes of one channel in one step enter a burst apart, so that their multiplied pulses never interleave.
    let burst = lib.timing().burst;
    let mut next_clock = 0;
    let mut done = steps;
    for t in 0..steps {
        let start = lead + t * p.step_fs;
        // The step clocks that enter before this step ends (with a lead, the next step's too), each before the
        // simulation reaches its time.
        while let Some(clock) = p.clock.filter(|_| next_clock < steps && next_clock * p.step_fs < start + p.step_fs) {
            sim.inject(next_clock * p.step_fs, clock);
            next_clock += 1;
        }
        sources.emit(t);
        for (taps, spikes) in p.sources.iter().zip(&sources.spikes) {
            for &(ch, count) in spikes {
                if let Some(tap) = taps[ch as usize] {
                    for k in 0..count as u64 {
                        sim.inject(start + tap.phase_fs + k * burst, tap.port);
                    }
                }
            }
        }
        sim.run_until(start + p.step_fs - 1);
        if t % 64 == 63 {
            progress(t + 1);
            if stop.is_some_and(|s| s.load(std::sync::atomic::Ordering::Relaxed)) {
                done = t + 1;
                break;
            }
        }
    }
    // The chip ran whole steps: its time (for the static bias) ends where the last step does.
    let steps = done;
    sim.now = sim.now.max(lead + steps * p.step_fs);
    let mut owner: Vec<Option<(usize, u32)>> = vec![None; p.netlist.cells.len()];
    for (pop, cells) in p.neurons.iter().enumerate() {
        for (i, &c) in cells.iter().enumerate() {
            owner[c as usize] = Some((pop, i as u32));
        }
    }
    let n_pops = net.populations.len();
    let (mut spikes, mut first) = (vec![Vec::new(); n_pops], vec![None; n_pops]);
    for &(t, cell) in &sim.fired {
        if let Some((pop, i)) = owner[cell as usize] {
            let t = t.saturating_sub(lead);
            spikes[pop].push(((t / p.step_fs) as u32, i));
            first[pop] = Some(first[pop].map_or(t, |f: u64| f.min(t)));
        }
    }
    let synaptic_events = spike_fanout(image, &spikes, &sources_total(image, steps));
    let ledger = ledger(&sim, lib, first);
    let result = RunResult {
        steps,
        spike_counts: spikes.iter().map(|s| s.len() as u64).collect(),
        spikes,
        traces: Vec::new(),
        synaptic_events,
        learned: Vec::new(),
        weight_traces: Vec::new(),
    };
    SfqRun { result, ledger }
}

/// The latest time, after a pulse enters the clock tree at `clock`, at which it reaches a DFF's clock input (each
/// cell visited once, so a netlist whose clock wiring loops back still ends).
fn clock_lead(netlist: &Netlist, lib: &Sfq, clock: Port) -> u64 {
    let c = lib.timing();
    let (mut lead, mut pending, mut seen) = (0, vec![(clock, 0u64)], vec![false; netlist.cells.len()]);
    while let Some((port, t)) = pending.pop() {
        let cell = port.cell as usize;
        if std::mem::replace(&mut seen[cell], true) {
            continue;
        }
        let (delay, outputs) = match netlist.cells[cell] {
            Cell::Splitter => (c.splitter, 2),
            Cell::Jtl { stages } => (c.delay(Cell::Jtl { stages }), 1),
            Cell::Dff if port.input == 1 => {
                lead = lead.max(t);
                continue;
            }
            _ => continue,
        };
        for output in 0..outputs {
            if let Some(next) = netlist.wires[cell][output] {
                pending.push((next, t + delay));
            }
        }
    }
    lead
}

/// Spikes each source channel emitted over the run (replayed: sources are cheap and deterministic).
fn sources_total(image: &SfqImage, steps: u64) -> Vec<Vec<u64>> {
    let net = &image.network;
    let mut sources = Sources::new(net);
    let mut total: Vec<Vec<u64>> = net.sources.iter().map(|s| vec![0; s.size]).collect();
    for t in 0..steps {
        sources.emit(t);
        for (tot, spikes) in total.iter_mut().zip(&sources.spikes) {
            for &(ch, count) in spikes {
                tot[ch as usize] += count as u64;
            }
        }
    }
    total
}

/// Synaptic events: every spike times its synapses, as the other backends count them.
fn spike_fanout(image: &SfqImage, spikes: &[Vec<(u32, u32)>], source_spikes: &[Vec<u64>]) -> u64 {
    use soma_isa::instance::Pre;
    let net = &image.network;
    let mut per_pop: Vec<Vec<u64>> = net.populations.iter().map(|p| vec![0; p.size()]).collect();
    for (pop, list) in spikes.iter().enumerate() {
        for &(_, i) in list {
            per_pop[pop][i as usize] += 1;
        }
    }
    net.projections
        .iter()
        .map(|proj| {
            let counts = match proj.pre {
                Pre::Population(i) => &per_pop[i],
                Pre::Source(i) => &source_spikes[i],
            };
            counts.iter().enumerate().map(|(i, &c)| c * proj.rows.row(i).len() as u64).sum::<u64>()
        })
        .sum()
}

fn ledger(sim: &Simulation, lib: &Sfq, first_spike_fs: Vec<Option<u64>>) -> Ledger {
    let counts = sim.counts();
    let mut switches: BTreeMap<&'static str, u64> = BTreeMap::new();
    for (&cell, c) in sim.netlist.cells.iter().zip(&counts) {
        *switches.entry(cell.kind()).or_default() += c.pulses * lib.junctions(cell);
    }
    let dynamic_j: BTreeMap<&'static str, f64> =
        switches.iter().map(|(&k, &s)| (k, s as f64 * lib.switch_j())).collect();
    let (dynamic_total_j, static_j) = sim.energy_j();
    let chip_j = dynamic_total_j + static_j;
    let chip_s = sim.now as f64 * 1e-15;
    let pulses: u64 = counts.iter().map(|c| c.pulses).sum();
    let mut worst: Vec<Trouble> = sim
        .netlist
        .cells
        .iter()
        .zip(&counts)
        .enumerate()
        .filter(|(_, (_, c))| c.collisions + c.setup_violations + c.hold_violations > 0)
        .map(|(i, (&cell, c))| Trouble {
            cell: i as u32,
            kind: cell.kind(),
            collisions: c.collisions,
            setup_violations: c.setup_violations,
            hold_violations: c.hold_violations,
        })
        .collect();
    worst.sort_by_key(|t| (Reverse(t.collisions + t.setup_violations + t.hold_violations), t.cell));
    worst.truncate(10);
    Ledger {
        junctions: lib.netlist_junctions(sim.netlist),
        switches,
        dynamic_j,
        dynamic_total_j,
        static_j,
        chip_j,
        wall_j: chip_j * lib.power.cooling_w_per_w.value,
        cooling_w_per_w: lib.power.cooling_w_per_w.value,
        chip_s,
        pulses,
        pulses_per_s: if chip_s > 0.0 { pulses as f64 / chip_s } else { 0.0 },
        collisions: counts.iter().map(|c| c.collisions).sum(),
        setup_violations: counts.iter().map(|c| c.setup_violations).sum(),
        hold_violations: counts.iter().map(|c| c.hold_violations).sum(),
        worst_cells: worst,
        first_spike_fs,
    }
}
