//! Pulse-level simulation of SFQ netlists at PyLSE's abstraction: every cell is a timed automaton that turns input
//! pulses into output pulses after its firing delay; time is kept in whole femtoseconds so runs are exact and
//! deterministic (events at equal times are taken in cell and port order).
//!
//! Cells and their rules: a JTL stage passes each pulse on; a splitter copies it to both outputs; a merger passes
//! each pulse from either input, except one arriving within `merger_window_ps` of the previous accepted one, which
//! is lost and counted as a collision; a destructive-readout DFF stores a data pulse and emits it on the next clock
//! pulse, and a data pulse within `dff_setup_ps` before a clock (or `dff_hold_ps` after it) is a setup (hold)
//! violation, counted, and not stored; an integrate-and-fire neuron counts fluxons to its threshold (a leak clock
//! removes them one by one); a stochastic synapse passes each pulse with its probability. Every pulse a cell accepts switches each of its junctions once: energy
//! `switches x I_c Phi0`, plus the static bias power of every junction over the run, both also shown times the
//! cooling factor.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use soma_isa::rng::Rng;
use soma_targets::sfq::Sfq;

/// Kinds of cells.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum CellKind {
    /// Josephson transmission line stage: input 0 to output 0.
    Jtl,
    /// Splitter: input 0 to outputs 0 and 1.
    Splitter,
    /// Merger: inputs 0 and 1 to output 0.
    Merger,
    /// Destructive-readout D flip-flop: input 0 data, input 1 clock, output 0.
    Dff,
    /// Integrate-and-fire neuron (Krylov et al.): a storage loop counts fluxons arriving at input 0; at `threshold`
    /// it fires on output 0 and empties; a pulse on input 1 (the leak clock) removes one stored fluxon.
    Neuron {
        /// Fluxons to fire.
        threshold: u32,
    },
    /// Stochastic synapse (Krylov et al.): passes each input pulse with probability `pass`, set by its bias
    /// current; draws come from the simulation's seed.
    Synapse {
        /// Pass probability.
        pass: f64,
    },
}

impl CellKind {
    fn outputs(self) -> usize {
        if matches!(self, CellKind::Splitter) { 2 } else { 1 }
    }

    fn inputs(self) -> usize {
        if matches!(self, CellKind::Merger | CellKind::Dff | CellKind::Neuron { .. }) { 2 } else { 1 }
    }
}

/// A netlist: cells and the wires from their outputs to other cells' inputs.
#[derive(Clone, Debug, Default)]
pub struct Netlist {
    cells: Vec<CellKind>,
    /// `wires[cell][output]`: the `(cell, input)` it drives, if any.
    wires: Vec<Vec<Option<(usize, u8)>>>,
}

impl Netlist {
    /// Adds a cell; returns its index.
    pub fn add(&mut self, kind: CellKind) -> usize {
        self.cells.push(kind);
        self.wires.push(vec![None; kind.outputs()]);
        self.cells.len() - 1
    }

    /// Wires output `output` of `from` to input `input` of `to`. Panics on a cell or port that does not exist
    /// (netlists are built by code, so that is a bug, not bad input).
    pub fn connect(&mut self, from: usize, output: u8, to: usize, input: u8) {
        assert!(to < self.cells.len() && (input as usize) < self.cells[to].inputs(), "no input {input} on cell {to}");
        self.wires[from][output as usize] = Some((to, input));
    }

    /// Junctions of the netlist under `lib`.
    pub fn junctions(&self, lib: &Sfq) -> u64 {
        self.cells.iter().map(|&k| jjs(lib, k)).sum()
    }
}

fn jjs(lib: &Sfq, kind: CellKind) -> u64 {
    let c = &lib.cells;
    (match kind {
        CellKind::Jtl => c.jtl_jjs.value,
        CellKind::Splitter => c.splitter_jjs.value,
        CellKind::Merger => c.merger_jjs.value,
        CellKind::Dff => c.dff_jjs.value,
        CellKind::Neuron { .. } => c.neuron_jjs.value,
        CellKind::Synapse { .. } => c.synapse_jjs.value,
    }) as u64
}

fn fs(ps: f64) -> u64 {
    (ps * 1000.0).round() as u64
}

/// Per-cell counts of a run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CellCounts {
    /// Pulses accepted (each switches the cell's junctions once).
    pub pulses: u64,
    /// Merger inputs lost to a collision.
    pub collisions: u64,
    /// DFF data pulses too close before a clock.
    pub setup_violations: u64,
    /// DFF data pulses too close after a clock.
    pub hold_violations: u64,
}

/// A running pulse simulation.
pub struct Simulation<'a> {
    netlist: &'a Netlist,
    lib: &'a Sfq,
    queue: BinaryHeap<Reverse<(u64, usize, u8)>>,
    /// Per cell: time of the last accepted pulse (mergers), last clock (DFFs).
    last: Vec<Option<u64>>,
    /// Per DFF: arrival time of the stored data pulse.
    stored: Vec<Option<u64>>,
    /// Per neuron: fluxons stored.
    fluxons: Vec<u32>,
    rng: Rng,
    /// Per cell, its counts.
    pub counts: Vec<CellCounts>,
    /// Pulses leaving unconnected outputs: `(time in fs, cell, output)`.
    pub outputs: Vec<(u64, usize, u8)>,
    now: u64,
}

impl<'a> Simulation<'a> {
    /// A simulation of `netlist` with the cell library `lib`; stochastic synapses draw from `seed`.
    pub fn new(netlist: &'a Netlist, lib: &'a Sfq, seed: u64) -> Simulation<'a> {
        let n = netlist.cells.len();
        Simulation {
            netlist,
            lib,
            queue: BinaryHeap::new(),
            last: vec![None; n],
            stored: vec![None; n],
            fluxons: vec![0; n],
            rng: Rng::new(seed, 0x0005_f95e),
            counts: vec![CellCounts::default(); n],
            outputs: Vec::new(),
            now: 0,
        }
    }

    /// A pulse arriving at input `input` of `cell` at `at_fs`.
    pub fn inject(&mut self, at_fs: u64, cell: usize, input: u8) {
        self.queue.push(Reverse((at_fs, cell, input)));
    }

    /// Processes every pulse up to and including `until_fs`.
    pub fn run_until(&mut self, until_fs: u64) {
        while let Some(&Reverse((t, cell, input))) = self.queue.peek() {
            if t > until_fs {
                break;
            }
            self.queue.pop();
            self.now = t;
            self.arrive(t, cell, input);
        }
        self.now = self.now.max(until_fs);
    }

    fn emit(&mut self, t: u64, cell: usize, output: u8) {
        match self.netlist.wires[cell][output as usize] {
            Some((to, input)) => self.queue.push(Reverse((t, to, input))),
            None => self.outputs.push((t, cell, output)),
        }
    }

    fn arrive(&mut self, t: u64, cell: usize, input: u8) {
        let c = &self.lib.cells;
        match self.netlist.cells[cell] {
            CellKind::Jtl => {
                self.counts[cell].pulses += 1;
                self.emit(t + fs(c.jtl_delay_ps.value), cell, 0);
            }
            CellKind::Splitter => {
                self.counts[cell].pulses += 1;
                let d = fs(c.splitter_delay_ps.value);
                self.emit(t + d, cell, 0);
                self.emit(t + d, cell, 1);
            }
            CellKind::Merger => {
                if self.last[cell].is_some_and(|prev| t < prev + fs(c.merger_window_ps.value)) {
                    self.counts[cell].collisions += 1;
                    return;
                }
                self.last[cell] = Some(t);
                self.counts[cell].pulses += 1;
                self.emit(t + fs(c.merger_delay_ps.value), cell, 0);
            }
            CellKind::Dff if input == 0 => {
                if self.last[cell].is_some_and(|clock| t < clock + fs(c.dff_hold_ps.value)) {
                    self.counts[cell].hold_violations += 1;
                    return;
                }
                self.counts[cell].pulses += 1;
                self.stored[cell] = Some(t);
            }
            CellKind::Dff => {
                self.last[cell] = Some(t);
                self.counts[cell].pulses += 1;
                match self.stored[cell].take() {
                    Some(data) if data + fs(c.dff_setup_ps.value) > t => self.counts[cell].setup_violations += 1,
                    Some(_) => self.emit(t + fs(c.dff_delay_ps.value), cell, 0),
                    None => {}
                }
            }
            CellKind::Neuron { threshold } if input == 0 => {
                self.counts[cell].pulses += 1;
                self.fluxons[cell] += 1;
                if self.fluxons[cell] >= threshold {
                    self.fluxons[cell] = 0;
                    self.emit(t + fs(c.neuron_delay_ps.value), cell, 0);
                }
            }
            CellKind::Neuron { .. } => {
                self.counts[cell].pulses += 1;
                self.fluxons[cell] = self.fluxons[cell].saturating_sub(1);
            }
            CellKind::Synapse { pass } => {
                self.counts[cell].pulses += 1;
                if self.rng.uniform() < pass {
                    self.emit(t + fs(c.synapse_delay_ps.value), cell, 0);
                }
            }
        }
    }

    /// Junction switches so far.
    pub fn switches(&self) -> u64 {
        self.netlist.cells.iter().zip(&self.counts).map(|(&k, c)| c.pulses * jjs(self.lib, k)).sum()
    }

    /// Energy at 4 K so far: `(dynamic, static)` in J, the static part over the simulated time.
    pub fn energy_j(&self) -> (f64, f64) {
        let dynamic = self.switches() as f64 * self.lib.switch_j();
        let static_ =
            self.netlist.junctions(self.lib) as f64 * self.lib.power.static_w_per_jj.value * self.now as f64 * 1e-15;
        (dynamic, static_)
    }
}
