//! What the SFQ backend lowers a network to, and what the SFQ runtime simulates: a netlist of single-flux-quantum
//! pulse cells at PyLSE's abstraction, plus where the clock and the spike sources enter it and which cells are the
//! network's neurons.
//!
//! Cells and their ports (every output drives at most one input, as an SFQ output does; fan-out needs splitters,
//! fan-in needs mergers):
//! - `Jtl { stages }`: a chain of Josephson transmission line stages, input 0 to output 0.
//! - `Splitter`: input 0 to outputs 0 and 1.
//! - `Merger`: inputs 0 and 1 to output 0; a pulse within the merger window of the last one it passed is lost.
//! - `Dff`: destructive-readout D flip-flop, input 0 data, input 1 clock, output 0.
//! - `Neuron`: an integrate-and-fire storage loop holding a signed fluxon count `n` in `-floor..threshold`
//!   (saturating at `-floor`). Input 0 adds a fluxon, input 2 removes one; at `n == threshold` the neuron fires on
//!   output 0 and `n` returns to 0. Input 1 is the leak clock: with `a` the neuron's leak accumulator (16 bits),
//!   `a += |n| * leak; n -= sign(n) * (a >> 16); a &= 0xffff`: a quantised exponential decay by `leak / 65536` of
//!   the stored flux per clock, exact in integers. With `refractory = R > 0` the loop is held empty after it fires,
//!   losing its inputs, until `R + 1` clock pulses have passed (the rest of the step it fired in and `R` more).
//! - `Current { capacity, leak }`: a synaptic-current storage loop for neurons with current synapses (NIR
//!   `cuba_lif`). Inputs 0 and 2 add and remove a fluxon (the count saturates at `+-capacity`); on each pulse at
//!   input 1 (the clock) it releases the leak's share by the neuron's integer rule, and each released fluxon
//!   leaves as a pulse on output 0 (positive count) or output 1 (negative count), one multiplier burst
//!   (`synapse_max_pulses` x its spacing) apart: the decaying current flows into the membrane.
//! - `Bias { rate }`: a neuron's constant drive, set by a bias current: on each clock pulse (input 0) it adds
//!   `rate` to a 16-bit-fraction accumulator and emits its whole part as pulses on output 0, the library's
//!   multiplier spacing apart: `rate / 65536` fluxons per step, exactly on average.
//! - `Synapse { pulses, pass }`: a pulse multiplier and a stochastic (thermal) pass gate. Each input pulse becomes
//!   `pulses` pulses, spaced by the library's multiplier spacing, each passed with probability
//!   `pass / pass_levels` (an integer draw below `pass_levels`, from the run's seed).

use crate::Invalid;
use serde::{Deserialize, Serialize};

/// One input of one cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Port {
    /// Cell index.
    pub cell: u32,
    /// Input index on the cell.
    pub input: u8,
}

/// A cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Cell {
    /// `stages` JTL stages in a row.
    Jtl {
        /// Stages, at least 1.
        stages: u16,
    },
    /// One pulse in, two out.
    Splitter,
    /// Two inputs, one output.
    Merger,
    /// Destructive-readout D flip-flop.
    Dff,
    /// Integrate-and-fire storage loop.
    Neuron {
        /// Fluxons to fire, at least 1.
        threshold: u16,
        /// How far below zero the count may go.
        floor: u16,
        /// Fraction of the stored flux the leak clock removes, in units of 1/65536.
        leak: u16,
        /// Steps after a spike during which the loop is held empty (inputs are lost).
        refractory: u16,
    },
    /// Synaptic-current loop.
    Current {
        /// Largest count either way.
        capacity: u16,
        /// Fraction of the stored flux each clock pulse releases, in units of 1/65536.
        leak: u16,
    },
    /// Clocked pulse-rate generator for a constant drive.
    Bias {
        /// Fluxons per clock pulse, in units of 1/65536.
        rate: u32,
    },
    /// Pulse multiplier with a stochastic pass gate.
    Synapse {
        /// Pulses out per pulse in, at least 1.
        pulses: u8,
        /// Pass level, `1..=pass_levels`.
        pass: u16,
    },
}

impl Cell {
    /// Number of inputs.
    pub fn inputs(self) -> u8 {
        match self {
            Cell::Merger | Cell::Dff => 2,
            Cell::Neuron { .. } | Cell::Current { .. } => 3,
            _ => 1,
        }
    }

    /// Number of outputs.
    pub fn outputs(self) -> u8 {
        if matches!(self, Cell::Splitter | Cell::Current { .. }) { 2 } else { 1 }
    }

    /// The cell's name in netlist dumps and reports.
    pub fn kind(self) -> &'static str {
        match self {
            Cell::Jtl { .. } => "jtl",
            Cell::Splitter => "splitter",
            Cell::Merger => "merger",
            Cell::Dff => "dff",
            Cell::Neuron { .. } => "neuron",
            Cell::Current { .. } => "current",
            Cell::Bias { .. } => "bias",
            Cell::Synapse { .. } => "synapse",
        }
    }
}

/// The most cells a netlist may have: the simulator packs a cell index into 30 bits of a pulse event.
pub const MAX_CELLS: usize = 1 << 30;

/// Cells and wires.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Netlist {
    /// The cells.
    pub cells: Vec<Cell>,
    /// Per cell, per output, the input it drives (`None`: the pulse leaves the netlist).
    pub wires: Vec<Vec<Option<Port>>>,
}

impl Netlist {
    /// Adds a cell with unconnected outputs; returns its index.
    pub fn add(&mut self, cell: Cell) -> u32 {
        self.cells.push(cell);
        self.wires.push(vec![None; cell.outputs() as usize]);
        self.cells.len() as u32 - 1
    }

    /// Wires output `output` of `from` to `to`. Panics on a port that does not exist (netlists are built by code,
    /// so that is a bug; netlists read from files are checked by [`Netlist::validate`]).
    pub fn connect(&mut self, from: u32, output: u8, to: Port) {
        assert!(
            (to.cell as usize) < self.cells.len() && to.input < self.cells[to.cell as usize].inputs(),
            "no input {} on cell {}",
            to.input,
            to.cell
        );
        self.wires[from as usize][output as usize] = Some(to);
    }

    /// Checks cell parameters, that wires join existing ports, and that no input has two drivers.
    pub fn validate(&self, pass_levels: u16) -> Result<(), Invalid> {
        if self.wires.len() != self.cells.len() {
            return Err("the netlist's wires do not match its cells".into());
        }
        if self.cells.len() > MAX_CELLS {
            return Err(
                format!("the netlist has {} cells, more than the simulator's {MAX_CELLS}", self.cells.len()).into()
            );
        }
        let mut driven = std::collections::HashSet::new();
        for (i, (&cell, outs)) in self.cells.iter().zip(&self.wires).enumerate() {
            let bad = match cell {
                Cell::Jtl { stages } => stages == 0,
                Cell::Neuron { threshold, .. } => threshold == 0,
                Cell::Current { capacity, .. } => capacity == 0,
                Cell::Bias { rate } => rate == 0,
                Cell::Synapse { pulses, pass } => pulses == 0 || pass == 0 || pass > pass_levels,
                _ => false,
            };
            if bad || outs.len() != cell.outputs() as usize {
                return Err(format!("cell {i} ({}) has parameters or outputs out of range", cell.kind()).into());
            }
            for to in outs.iter().flatten() {
                self.check_port(*to)?;
                if !driven.insert(*to) {
                    return Err(format!("input {} of cell {} has two drivers", to.input, to.cell).into());
                }
            }
        }
        Ok(())
    }

    /// Checks that `port` is an input of an existing cell.
    pub fn check_port(&self, port: Port) -> Result<(), Invalid> {
        match self.cells.get(port.cell as usize) {
            Some(c) if port.input < c.inputs() => Ok(()),
            _ => Err(format!("no input {} on cell {}", port.input, port.cell).into()),
        }
    }
}

/// Where one source channel's pulses enter.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tap {
    /// The first cell of the channel's fan-out.
    pub port: Port,
    /// When within a step the channel's pulses arrive, fs after the step's start.
    pub phase_fs: u64,
}

/// The SFQ program of a network.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SfqProgram {
    /// Target preset name.
    pub target: String,
    /// Fingerprint of the target's constants.
    pub fingerprint: u64,
    /// One network time step on the chip (`clocks_per_step` clock periods of the target), fs.
    pub step_fs: u64,
    /// Pass levels of every synapse (the bias-current settings of its pass gate).
    pub pass_levels: u16,
    /// The circuit.
    pub netlist: Netlist,
    /// The root of the step clock's tree, pulsed at the start of every step (`None` if nothing needs it).
    pub clock: Option<Port>,
    /// Per source, per channel, where its pulses enter (`None` for channels without synapses).
    pub sources: Vec<Vec<Option<Tap>>>,
    /// Per population, the neuron cell of each neuron (none for a population that does not spike: a readout
    /// computed off chip).
    pub neurons: Vec<Vec<u32>>,
    /// Per population, the membrane potential one fluxon stands for (the model's voltage unit).
    pub fluxon: Vec<f64>,
    /// Per population, the fluxons each neuron's loop holds when the run starts (its `v_init`; empty: all empty
    /// loops). A loop that starts at its threshold fires in the first step.
    pub initial_fluxons: Vec<Vec<i32>>,
}

/// Version of the SFQ image format; bumped on any change to what is encoded.
pub const SFQ_FORMAT_VERSION: u32 = 4;

/// An SFQ image: the netlist and the network it was lowered from (whose sources drive it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SfqImage {
    /// The circuit and its connections to the outside.
    pub program: SfqProgram,
    /// The instantiated network.
    pub network: crate::instance::Instance,
    /// The target description (preset TOML) it was compiled for, whose fingerprint is the program's: the image
    /// runs wherever it is copied, without the preset file.
    pub target_text: String,
}

impl SfqImage {
    /// Checks that the program fits the network and the netlist is well formed, so that running an image that
    /// passes cannot index out of range.
    pub fn validate(&self) -> Result<(), Invalid> {
        let (p, net) = (&self.program, &self.network);
        net.validate()?;
        if p.step_fs == 0 || p.pass_levels == 0 {
            return Err("the step period and the pass levels must be positive".into());
        }
        p.netlist.validate(p.pass_levels)?;
        if let Some(clock) = p.clock {
            p.netlist.check_port(clock)?;
        }
        if p.sources.len() != net.sources.len()
            || p.sources.iter().zip(&net.sources).any(|(taps, s)| taps.len() != s.size)
        {
            return Err("the program's source taps do not match the network's sources".into());
        }
        for tap in p.sources.iter().flatten().flatten() {
            p.netlist.check_port(tap.port)?;
            if tap.phase_fs >= p.step_fs {
                return Err("a source tap's phase lies outside the step".into());
            }
        }
        if p.neurons.len() != net.populations.len() || p.fluxon.len() != net.populations.len() {
            return Err("the program's populations do not match the network's".into());
        }
        for (cells, pop) in p.neurons.iter().zip(&net.populations) {
            if cells.is_empty() && !pop.model.kind().spikes() {
                continue;
            }
            if cells.len() != pop.size()
                || cells.iter().any(|&c| !matches!(p.netlist.cells.get(c as usize), Some(Cell::Neuron { .. })))
            {
                return Err(format!("population `{}` does not map onto neuron cells", pop.name).into());
            }
        }
        if p.initial_fluxons.len() != net.populations.len() {
            return Err("the program's initial fluxons do not match the network's populations".into());
        }
        for ((initial, cells), pop) in p.initial_fluxons.iter().zip(&p.neurons).zip(&net.populations) {
            if initial.is_empty() {
                continue;
            }
            let fits = |(&n, &c): (&i32, &u32)| {
                matches!(p.netlist.cells[c as usize], Cell::Neuron { threshold, floor, .. }
                    if n >= -(floor as i32) && n <= threshold as i32)
            };
            if initial.len() != cells.len() || !initial.iter().zip(cells).all(fits) {
                return Err(format!(
                    "population `{}`: its initial fluxons must be one per neuron, from -floor to the threshold",
                    pop.name
                )
                .into());
            }
        }
        Ok(())
    }
}
