//! The crossbar machine: runs a network whose synaptic input comes from resistive tiles read through ADCs, and
//! whose neurons are updated in the tiles' digital periphery (here the reference kernels, in `f64`).
//!
//! Per step and tile with active rows: every active word line is driven (one pulse per spike), the column
//! currents `V sum_i G_ij` are read through ADCs whose full scale is the tile's largest ideal column current with
//! all rows driven (one reference per tile, calibrated at programming, so an ideal array never clips, and both
//! halves of a differential pair quantise alike), and the digital periphery subtracts the
//! off-state baseline of the rows it drove, shifts and adds the bit slices, subtracts the differential halves and
//! scales to weight units. A plastic tile's single column per neuron has no second half to cancel its baseline: it
//! is referred to a reference column of off-state cells driven by the same rows and converted by the same ADC, whose
//! code the periphery subtracts (NeuroSim's dummy column, `CurrentToDigits(Isum) - CurrentToDigits(IsumRef)`), so
//! a column that carried no current reads exactly zero; the reference costs one conversion and its cells' read
//! current per tile read. Spikes reach tiles as packets over the mesh, one per destination tile.
//!
//! Non-idealities, each off unless set in [`Nonideal`] and drawn from the run's seed: programming noise and stuck
//! cells when the arrays are programmed, drift `(t / 1 s)^-nu` at read time `t` after programming, Gaussian read
//! noise per cell and read (summed per column, exactly, as one Gaussian); and ADC clipping, by narrowing the ADC
//! range below the calibrated full scale.
//!
//! Plastic projections learn in place ([`soma_targets::crossbar::Learning`]): the digital periphery runs the
//! reference's rule (its traces and timing), and every weight change it asks for is written to the synapse's
//! analog cell as identical pulses, the change in units of the range times the curve's pulse count, rounded to
//! whole pulses (to the nearest, or stochastically), moving the cell along the device's non-linear, asymmetric
//! curve (NeuroSim's model), with cycle-to-cycle noise `sigma sqrt(n)` and per-cell curve shapes
//! (device-to-device) when those non-idealities are on. A write costs `V^2 (G_before + G_after) / 2` times the
//! pulse width per pulse (NeuroSim's selected-cell term; half-selected cells and wire charging are not counted),
//! and a row's pulses go in parallel, potentiation then depression. A cell past its endurance stays where it is.
//! Spikes reach the learned weights through the same ADC reads as static ones; a plastic tile's ADC spans
//! `adc_rows` cells at full conductance. Programming noise and stuck cells apply to the synapses' cells; drift
//! does not.

mod report;

pub use report::{Engine, Report, TileMap, nonideal};

use soma_isa::crossbar::{Cell, CrossbarProgram, Tile};
use soma_isa::instance::{Instance, Pre};
use soma_isa::rng::Rng;
use soma_targets::crossbar::{Crossbar, Curve};

use crate::reference::Synapses;

/// Device non-idealities switched on for a run (magnitudes; zero is off). The default is the ideal array.
#[derive(Clone, Debug, PartialEq)]
pub struct Nonideal {
    /// Relative standard deviation of a programmed conductance.
    pub program_noise: f64,
    /// Relative standard deviation of a cell's conductance at each read.
    pub read_noise: f64,
    /// Fraction of cells stuck on.
    pub stuck_on: f64,
    /// Fraction of cells stuck off.
    pub stuck_off: f64,
    /// Drift exponent.
    pub drift_nu: f64,
    /// Time since programming at which the run reads, s (drift needs it to be above 1 s).
    pub drift_after_s: f64,
    /// Projections whose weights the devices draw: every cell of their tiles gets one identical set pulse that
    /// switches it with the preset's `switching_probability` (to a uniformly random level above 0 on multi-level
    /// cells), whatever the network's weights; the projection's scale still converts levels to weight units.
    pub device_random: Vec<usize>,
    /// The switching probability for `device_random`.
    pub switching_probability: f64,
    /// ADC range as a fraction of the calibrated full scale; below 1 the ADCs clip large column currents and
    /// resolve small ones more finely.
    pub adc_range: f64,
    /// Cycle-to-cycle variation of a plastic cell's write, a fraction of its range per square root of pulses.
    pub cycle_to_cycle: f64,
    /// Device-to-device variation of plastic cells' curve shapes (relative standard deviation).
    pub device_to_device: f64,
}

impl Nonideal {
    /// Whether anything reads the static tiles' random stream: programming noise, stuck cells, device-drawn
    /// weights (while programming) or read noise (after, from the same stream). When nothing does, programming
    /// skips its per-cell draws (the values are the ideal ones either way).
    fn draws_from_the_static_stream(&self) -> bool {
        self.program_noise > 0.0
            || self.stuck_on > 0.0
            || self.stuck_off > 0.0
            || self.read_noise > 0.0
            || !self.device_random.is_empty()
    }
}

impl Default for Nonideal {
    fn default() -> Nonideal {
        Nonideal {
            program_noise: 0.0,
            read_noise: 0.0,
            stuck_on: 0.0,
            stuck_off: 0.0,
            drift_nu: 0.0,
            drift_after_s: 0.0,
            device_random: Vec::new(),
            switching_probability: 0.0,
            adc_range: 1.0,
            cycle_to_cycle: 0.0,
            device_to_device: 0.0,
        }
    }
}

impl Nonideal {
    /// The preset's magnitudes, all on (drift only if `drift_after_s` is later set).
    pub fn from_preset(xb: &Crossbar) -> Nonideal {
        let v = &xb.variation;
        Nonideal {
            program_noise: v.program_noise.value,
            read_noise: v.read_noise.value,
            stuck_on: v.stuck_on_rate.value,
            stuck_off: v.stuck_off_rate.value,
            drift_nu: v.drift_nu.value,
            switching_probability: v.switching_probability.value,
            cycle_to_cycle: xb.learning.cycle_to_cycle.value,
            device_to_device: xb.learning.device_to_device.value,
            ..Nonideal::default()
        }
    }
}

/// Counts and energy of a crossbar run.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Ledger {
    /// Tile reads (a tile with at least one active row in a step).
    pub tile_reads: u64,
    /// Word-line activations (rows driven, one per spike).
    pub row_activations: u64,
    /// ADC conversions.
    pub adc_conversions: u64,
    /// Digital partial-sum additions (slices, differential halves, tiles of a split fan-in).
    pub partial_sum_adds: u64,
    /// Neuron updates.
    pub neuron_updates: u64,
    /// Spike packets and the hops they made.
    pub packets: u64,
    /// Router hops of all packets.
    pub hops: u64,
    /// Energy of the cell reads, J.
    pub cells_j: f64,
    /// Energy of the word-line drivers, J.
    pub drivers_j: f64,
    /// Energy of the ADC conversions, J.
    pub adc_j: f64,
    /// Energy of the digital partial-sum additions, J.
    pub partial_sums_j: f64,
    /// Energy of the neuron updates in the digital periphery, J.
    pub neurons_j: f64,
    /// Energy of the network on chip, J.
    pub noc_j: f64,
    /// Hardware time of the slowest step (array read, ADCs, digital, mesh), s.
    pub step_latency_max_s: f64,
    /// Summed hardware time of all steps, s.
    pub hardware_time_s: f64,
    /// Writes of plastic cells (a cell moved by at least one pulse).
    pub writes: u64,
    /// Their pulses.
    pub write_pulses: u64,
    /// Weight changes the rule asked for that rounded to no pulse.
    pub rounded_away: u64,
    /// Weight changes a worn or stuck cell could not take.
    pub writes_refused: u64,
    /// Plastic cells worn out (past their endurance) during the run.
    pub worn_cells: u64,
    /// Energy of the write pulses, J.
    pub write_j: f64,
    /// Summed time of the row writes, s.
    pub write_time_s: f64,
}

impl Ledger {
    /// Total energy, J.
    pub fn total_j(&self) -> f64 {
        self.in_memory_mac_j() + self.neurons_j + self.noc_j + self.write_j
    }

    /// Energy of the in-memory multiply-accumulates, J: the cell reads, their drivers, the conversions and the
    /// partial sums that assemble a weight's slices and halves. It is what a compute-in-memory macro's energy per
    /// operation counts (docs/energy-validation.md); neurons, mesh and writes are outside it.
    pub fn in_memory_mac_j(&self) -> f64 {
        self.cells_j + self.drivers_j + self.adc_j + self.partial_sums_j
    }
}

/// One programmed tile as its periphery sees it (its cells live in its [`Block`]).
struct TileState {
    /// Used columns, the reference column included.
    used_cols: usize,
    /// The tile's ADC full scale, in conductance (S): the largest column's with every row driven.
    full_scale: f64,
    /// Conductance of a cell at level 0 and of one level unit (a plastic cell's whole range), S.
    g_off: f64,
    g_unit: f64,
    /// Columns per slice (2: a differential pair; 1: a plastic cell) and slices per weight.
    halves: usize,
    slices: usize,
}

impl TileState {
    /// Reference columns of off-state cells: one where a neuron has a single column (a plastic tile), none where the
    /// halves of differential pairs cancel the baseline.
    fn reference_cols(&self) -> usize {
        usize::from(self.halves == 1)
    }
}

/// A programmed tile and its cells above the off state, `(row, column, conductance above g_off)` sorted by row.
type Programmed = (TileState, Vec<(u16, u16, f64)>);

/// A cell above the off state: `(row, tile in its block, column, conductance above g_off)`.
type BlockCell = (u16, u16, u16, f64);

/// The tiles of one projection that share their rows (consecutive in the program), which the spikes of those rows
/// drive together: their cells laid out row by row across the tiles, the order a read walks them, and the sums a
/// read adds to the ledger, so a read costs its active cells and touched neurons rather than its tiles.
struct Block {
    /// The tiles, in the program's order, and where each one's neurons start in the read's scratch (neuron `n`
    /// has its columns at `n * columns_per_neuron ..`).
    tiles: Vec<usize>,
    neuron_start: Vec<usize>,
    pre_first: u32,
    rows: u16,
    /// Columns per postsynaptic neuron (the projection's).
    columns_per_neuron: usize,
    /// Cells sorted by row, tile, column; stuck-on cells included.
    cells: Vec<BlockCell>,
    /// Start of each row's cells in `cells` (`rows + 1` entries).
    row_start: Vec<usize>,
    /// Conductance of each row over all the tiles' columns (for the read energy), S.
    row_g: Vec<f64>,
    /// Over the tiles: neurons and reference columns (`neurons * columns_per_neuron + reference_cols` are the ADC
    /// conversions of a read), hops from the projection's sender, the most hops of one tile, and the slowest tile
    /// read.
    neurons: usize,
    reference_cols: usize,
    hops: u64,
    max_hops: u64,
    read_s: f64,
}

impl Block {
    /// The block of `tiles` (indices into the program, sharing their rows), whose cells `tile_cells[i]` (sorted by
    /// row, then column) hold; spikes come from mesh position `sender`. Returns it with, if `plastic`, where each
    /// tile's cells went in the block's `cells` (a plastic synapse's writes find its cell by it).
    fn new(
        tiles: &[usize],
        program: &CrossbarProgram,
        states: &[TileState],
        tile_cells: &mut [Vec<(u16, u16, f64)>],
        xb: &Crossbar,
        sender: (u16, u16),
        plastic: bool,
    ) -> (Block, Vec<Vec<u32>>) {
        let first = &program.tiles[tiles[0]];
        let mut neuron_start = Vec::with_capacity(tiles.len());
        let (mut neurons, mut reference_cols, mut hops, mut max_hops, mut read_s) = (0, 0, 0, 0, 0f64);
        let mut row_g = vec![0.0; first.rows as usize];
        let (mut entries, mut moved) = (Vec::new(), Vec::with_capacity(tiles.len()));
        for (bt, &i) in tiles.iter().enumerate() {
            let (t, state) = (&program.tiles[i], &states[i]);
            neuron_start.push(neurons);
            debug_assert_eq!(
                state.used_cols,
                t.neurons as usize * state.halves * state.slices + state.reference_cols()
            );
            reference_cols += state.reference_cols();
            neurons += t.neurons as usize;
            let h = (sender.0.abs_diff(t.at.0) + sender.1.abs_diff(t.at.1)).max(1) as u64;
            hops += h;
            max_hops = max_hops.max(h);
            read_s = read_s.max(xb.tile_read_s(state.used_cols));
            let mut tile_row_g = vec![(xb.cols() + state.reference_cols()) as f64 * state.g_off; t.rows as usize];
            moved.push(vec![0u32; if plastic { tile_cells[i].len() } else { 0 }]);
            for (j, &(row, col, excess)) in std::mem::take(&mut tile_cells[i]).iter().enumerate() {
                tile_row_g[row as usize] += excess;
                entries.push(((row, bt as u16, col, excess), j as u32));
            }
            for (sum, g) in row_g.iter_mut().zip(tile_row_g) {
                *sum += g;
            }
        }
        // A counting sort by row: within a row the cells stay in tile order and, within a tile, in column order
        // (cells at one position, a stuck-on cell drawn over a programmed one, keep their order).
        let mut row_start = vec![0; first.rows as usize + 1];
        for e in &entries {
            row_start[e.0.0 as usize + 1] += 1;
        }
        for r in 0..first.rows as usize {
            row_start[r + 1] += row_start[r];
        }
        let mut next = row_start.clone();
        let mut cells = vec![(0, 0, 0, 0.0); entries.len()];
        for (cell, j) in entries {
            let at = &mut next[cell.0 as usize];
            cells[*at] = cell;
            if plastic {
                moved[cell.1 as usize][j as usize] = *at as u32;
            }
            *at += 1;
        }
        let columns_per_neuron = states[tiles[0]].halves * states[tiles[0]].slices;
        let block = Block {
            tiles: tiles.to_vec(),
            neuron_start,
            pre_first: first.pre_first,
            rows: first.rows,
            columns_per_neuron,
            cells,
            row_start,
            row_g,
            neurons,
            reference_cols,
            hops,
            max_hops,
            read_s,
        };
        (block, moved)
    }
}

/// The analog cells of one plastic projection, indexed by synapse (in row order).
struct LearningCells {
    /// Tile and index into its cells (`None`: the program gave the synapse no cell, so nothing can hold it).
    at: Vec<Option<(u32, u32)>>,
    /// Conductance as a fraction of the cell's range.
    x: Vec<f64>,
    /// Each cell's potentiation and depression curves.
    curves: Vec<(Curve, Curve)>,
    /// Pulses taken, and whether the cell no longer moves (stuck, or worn out).
    pulses: Vec<f64>,
    frozen: Vec<bool>,
}

/// The row being written (its pulses go in parallel): tile, row, most potentiation and depression pulses.
#[derive(Clone, Copy)]
struct RowWrite {
    tile: usize,
    row: u16,
    ltp: f64,
    ltd: f64,
}

/// The crossbar's synapses, for [`crate::reference::Simulator::with_synapses`].
pub struct CrossbarSynapses<'a> {
    xb: &'a Crossbar,
    program: &'a CrossbarProgram,
    nonideal: Nonideal,
    tiles: Vec<TileState>,
    /// The blocks, each projection's (in the program's order), and the block each tile is in.
    blocks: Vec<Block>,
    blocks_of: Vec<Vec<usize>>,
    block_of_tile: Vec<usize>,
    /// Reads of each block (each of its tiles is read as often).
    block_reads: Vec<u64>,
    rng: Rng,
    /// Draws of the plastic cells (their own stream, so networks without any draw as before).
    learning_rng: Rng,
    /// Per projection, its plastic cells if it learns here.
    learning: Vec<Option<LearningCells>>,
    row_write: Option<RowWrite>,
    /// Write time of each tile this step, and the tiles written.
    tile_write_s: Vec<f64>,
    written: Vec<usize>,
    ledger: Ledger,
    step_array_s: f64,
    step_hops: u64,
    current: Vec<f64>,
    variance: Vec<f64>,
    /// Scratch: the neurons of a tile read whose columns carried current (a flag each, and their list).
    touched: Vec<bool>,
    touched_list: Vec<u32>,
    /// Scratch: a tile's active rows `(row, pulses)`.
    active: Vec<(u16, u32)>,
}

impl<'a> CrossbarSynapses<'a> {
    /// Programs the arrays of `program` (drawing programming noise and stuck cells from `seed`).
    pub fn new(
        inst: &Instance,
        program: &'a CrossbarProgram,
        xb: &'a Crossbar,
        nonideal: Nonideal,
        seed: u64,
    ) -> CrossbarSynapses<'a> {
        let mut rng = Rng::new(seed, 0xc705_5ba2);
        let mut learning_rng = Rng::new(seed, 0x1ea7_4ce1);
        let nominal = xb.learning.curves(1.0, 1.0);
        let mut learning: Vec<Option<LearningCells>> = program
            .projections
            .iter()
            .zip(&inst.projections)
            .map(|(scale, pr)| {
                scale.plastic.then(|| LearningCells {
                    at: vec![None; pr.rows.weights.len()],
                    x: vec![0.0; pr.rows.weights.len()],
                    curves: vec![nominal; pr.rows.weights.len()],
                    pulses: vec![0.0; pr.rows.weights.len()],
                    frozen: vec![false; pr.rows.weights.len()],
                })
            })
            .collect();
        let (tiles, mut tile_cells): (Vec<TileState>, Vec<_>) = program
            .tiles
            .iter()
            .enumerate()
            .map(|(i, t)| match learning[t.projection as usize].as_mut() {
                Some(cells) => plastic_tile(inst, i, t, xb, &nonideal, cells, &mut learning_rng),
                None => static_tile(t, program, xb, &nonideal, &mut rng),
            })
            .unzip();
        let mut tiles_of = vec![Vec::new(); inst.projections.len()];
        for (i, t) in program.tiles.iter().enumerate() {
            tiles_of[t.projection as usize].push(i);
        }
        let (mut blocks, mut blocks_of) = (Vec::new(), vec![Vec::new(); inst.projections.len()]);
        let mut block_of_tile = vec![0; program.tiles.len()];
        // Where each cell of a plastic tile went in its block (empty for static tiles).
        let mut moved_in_tile = vec![Vec::new(); program.tiles.len()];
        for (k, of) in tiles_of.iter().enumerate() {
            let sender = match inst.projections[k].pre {
                Pre::Population(q) => program.population_home[q],
                Pre::Source(_) => (0, 0),
            };
            let rows_of = |i: usize| (program.tiles[i].pre_first, program.tiles[i].rows);
            for run in of.chunk_by(|&a, &b| rows_of(a) == rows_of(b)) {
                let plastic = learning[k].is_some();
                let (block, moved) = Block::new(run, program, &tiles, &mut tile_cells, xb, sender, plastic);
                for &i in run {
                    block_of_tile[i] = blocks.len();
                }
                if plastic {
                    for (&i, moved) in run.iter().zip(moved) {
                        moved_in_tile[i] = moved;
                    }
                }
                blocks_of[k].push(blocks.len());
                blocks.push(block);
            }
        }
        for at in learning.iter_mut().flatten().flat_map(|cells| cells.at.iter_mut().flatten()) {
            at.1 = moved_in_tile[at.0 as usize][at.1 as usize];
        }
        CrossbarSynapses {
            xb,
            program,
            nonideal,
            tile_write_s: vec![0.0; program.tiles.len()],
            tiles,
            block_reads: vec![0; blocks.len()],
            blocks,
            blocks_of,
            block_of_tile,
            rng,
            learning_rng,
            learning,
            row_write: None,
            written: Vec::new(),
            ledger: Ledger::default(),
            step_array_s: 0.0,
            step_hops: 0,
            current: Vec::new(),
            variance: Vec::new(),
            touched: Vec::new(),
            touched_list: Vec::new(),
            active: Vec::new(),
        }
    }

    /// Reads block `b` with its active rows `(row, pulses)`: every tile of it, each a packet per pulse; pushes
    /// each neuron's input, tile by tile in the program's order.
    fn read_block(&mut self, b: usize, active: &[(u16, u32)], out: &mut Vec<(u16, u32, f64)>) {
        let (xb, block) = (self.xb, &self.blocks[b]);
        let (v, t_read) = (xb.array.read_v.value, xb.array.read_pulse_s.value);
        let pulses: u32 = active.iter().map(|a| a.1).sum();
        let tiles = block.tiles.len() as u64;
        self.block_reads[b] += 1;
        let l = &mut self.ledger;
        l.packets += pulses as u64 * tiles;
        l.hops += pulses as u64 * block.hops;
        l.tile_reads += tiles;
        l.row_activations += pulses as u64 * tiles;
        let conversions = (block.neurons * block.columns_per_neuron + block.reference_cols) as u64;
        l.adc_conversions += conversions;
        l.partial_sum_adds += conversions;
        self.step_hops = self.step_hops.max(block.max_hops);
        self.step_array_s = self.step_array_s.max(block.read_s);

        let sigma = self.nonideal.read_noise;
        let g_off = self.tiles[block.tiles[0]].g_off;
        // Scratch sized for the largest block, zero but where the last read touched (cleared after it).
        let cpn = block.columns_per_neuron;
        if self.current.len() < block.neurons * cpn {
            self.current.resize(block.neurons * cpn, 0.0);
            self.variance.resize(block.neurons * cpn, 0.0);
            self.touched.resize(block.neurons, false);
        }
        for &(row, count) in active {
            let count_f = count as f64;
            l.cells_j += v * v * t_read * count_f * block.row_g[row as usize];
            for &(_, bt, col, excess) in &block.cells[block.row_start[row as usize]..block.row_start[row as usize + 1]]
            {
                let c = block.neuron_start[bt as usize] * cpn + col as usize;
                let n = c / cpn;
                self.current[c] += count_f * excess;
                if sigma > 0.0 {
                    let g = g_off + excess;
                    self.variance[c] += count_f * (g * g - g_off * g_off);
                }
                if !self.touched[n] {
                    self.touched[n] = true;
                    self.touched_list.push(n as u32);
                }
            }
        }
        self.touched_list.sort_unstable();

        let top = ((1u64 << xb.periphery.adc_bits.value as u32) - 1) as f64;
        let levels = self.program.levels as f64;
        let (current, variance, rng) = (&self.current, &self.variance, &mut self.rng);
        let mut touched = &self.touched_list[..];
        for (bt, &i) in block.tiles.iter().enumerate() {
            let (tile, state) = (&self.program.tiles[i], &self.tiles[i]);
            let neurons = block.neuron_start[bt];
            let cols = neurons * cpn;
            // The touched neurons of this tile lead what is left of the sorted list (each is passed over once).
            let end = neurons + tile.neurons as usize;
            let here = touched.iter().position(|&n| n as usize >= end).unwrap_or(touched.len());
            let (run, rest) = touched.split_at(here);
            touched = rest;
            if run.is_empty() && sigma == 0.0 {
                continue; // nothing to convert, and no noise to draw
            }
            let baseline = pulses as f64 * state.g_off;
            let fs = state.full_scale * self.nonideal.adc_range;
            let quantised = |g: f64| (g / fs * top).round().clamp(0.0, top) * fs / top;
            // What a column's conversion is measured from: the rows' baseline, which the other half of a
            // differential pair cancels, or the reference column's conversion (with its own read noise).
            let zero = if state.reference_cols() == 0 {
                baseline
            } else {
                let noise = if sigma > 0.0 { sigma * (baseline * state.g_off).sqrt() * rng.normal() } else { 0.0 };
                quantised(baseline + noise)
            };
            let adc = |g: f64| (quantised(g) - zero) / state.g_unit;
            let (halves, slices) = (state.halves, state.slices);
            let scale = self.program.projections[tile.projection as usize].scale;
            let mut push = |j: usize, input: f64| {
                if input != 0.0 {
                    out.push((tile.delay, tile.post_first + j as u32, input * scale));
                }
            };
            // A neuron none of whose columns carried current reads the baseline alone on every column: zero, as
            // the differential halves or the reference cancel it exactly. So only the touched neurons need
            // converting, to the same result; with read noise every column draws, in column order.
            if sigma > 0.0 {
                for j in 0..tile.neurons as usize {
                    push(
                        j,
                        neuron_input(halves, slices, levels, j, adc, |col| {
                            let mut g = baseline + current[cols + col];
                            if sigma > 0.0 {
                                let var = variance[cols + col] + pulses as f64 * state.g_off * state.g_off;
                                g += sigma * var.sqrt() * rng.normal();
                            }
                            g
                        }),
                    );
                }
            } else {
                for &n in run {
                    let j = n as usize - neurons;
                    push(j, neuron_input(halves, slices, levels, j, adc, |col| baseline + current[cols + col]));
                }
            }
        }
        for n in self.touched_list.drain(..) {
            let n = n as usize;
            self.touched[n] = false;
            self.current[n * cpn..(n + 1) * cpn].fill(0.0);
            self.variance[n * cpn..(n + 1) * cpn].fill(0.0);
        }
    }
}

/// Neuron `j`'s input from its columns' conductances `g_of(column)` (columns in tile order): their ADC codes,
/// baseline removed (`adc`), shifted by slice (`levels` per slice) and signed by differential half.
#[inline(always)]
fn neuron_input(
    halves: usize,
    slices: usize,
    levels: f64,
    j: usize,
    adc: impl Fn(f64) -> f64,
    mut g_of: impl FnMut(usize) -> f64,
) -> f64 {
    let mut input = 0.0;
    for s in 0..slices {
        let shift = levels.powi(s as i32);
        for half in 0..halves {
            let sign = if half == 0 { 1.0 } else { -1.0 };
            input += sign * adc(g_of(halves * (j * slices + s) + half)) * shift;
        }
    }
    input
}

/// Programs static tile `t`: its cells' levels, with programming noise, stuck cells and drift drawn from `rng`.
fn static_tile(t: &Tile, program: &CrossbarProgram, xb: &Crossbar, nonideal: &Nonideal, rng: &mut Rng) -> Programmed {
    let (g_off, g_on) = (xb.conductance(0), xb.conductance(xb.levels() - 1));
    let drift = if nonideal.drift_nu > 0.0 && nonideal.drift_after_s > 1.0 {
        nonideal.drift_after_s.powf(-nonideal.drift_nu)
    } else {
        1.0
    };
    let used_cols =
        t.neurons as usize * program.projections[t.projection as usize].columns_per_neuron(program.slices) as usize;
    let drawn;
    let programmed = if nonideal.device_random.contains(&(t.projection as usize)) {
        drawn = device_drawn(t.rows, used_cols, xb.levels(), nonideal.switching_probability, rng);
        &drawn
    } else {
        &t.cells
    };
    let mut full_scale = vec![t.rows as f64 * g_off; used_cols];
    let mut cells = Vec::with_capacity(programmed.len());
    let draws = nonideal.draws_from_the_static_stream();
    for c in programmed {
        let ideal = xb.conductance(c.level as u32);
        full_scale[c.col as usize] += ideal - g_off;
        let g = if !draws {
            ideal.clamp(g_off, g_on) // what the draws give without noise and stuck cells, without drawing
        } else {
            match stuck(rng, nonideal) {
                Some(true) => g_on,
                Some(false) => g_off,
                None => (ideal * (1.0 + nonideal.program_noise * rng.normal())).clamp(g_off, g_on),
            }
        };
        cells.push((c.row, c.col, g * drift - g_off));
    }
    // Stuck-on cells among the block's off cells: a Poisson number at uniform positions.
    let off_cells = (t.rows as usize * used_cols).saturating_sub(programmed.len());
    for _ in 0..rng.poisson(off_cells as f64 * nonideal.stuck_on) {
        let (row, col) = (rng.below(t.rows as u64) as u16, rng.below(used_cols as u64) as u16);
        cells.push((row, col, g_on * drift - g_off));
    }
    if !cells.is_sorted_by_key(|c| (c.0, c.1)) {
        cells.sort_by_key(|c| (c.0, c.1));
    }
    let full_scale = full_scale.iter().copied().fold(0.0, f64::max);
    let g_unit = xb.conductance(1) - g_off;
    let state = TileState { used_cols, full_scale, g_off, g_unit, halves: 2, slices: program.slices as usize };
    (state, cells)
}

/// Whether the next cell drawn from `rng` is stuck on (`Some(true)`), stuck off, or neither.
fn stuck(rng: &mut Rng, nonideal: &Nonideal) -> Option<bool> {
    let draw = rng.uniform();
    if draw < nonideal.stuck_off {
        Some(false)
    } else if draw < nonideal.stuck_off + nonideal.stuck_on {
        Some(true)
    } else {
        None
    }
}

/// Programs plastic tile `i` (`t`): each synapse's analog cell at its pulse position on its own potentiation
/// curve, with device-to-device shapes, programming noise and stuck cells drawn from `rng`; records in `cells`
/// where each synapse's cell is and where it starts.
fn plastic_tile(
    inst: &Instance,
    i: usize,
    t: &Tile,
    xb: &Crossbar,
    nonideal: &Nonideal,
    cells: &mut LearningCells,
    rng: &mut Rng,
) -> Programmed {
    let l = &xb.learning;
    let (g_min, g_range) = (l.g_min_s.value, l.g_max_s.value - l.g_min_s.value);
    let rows = &inst.projections[t.projection as usize].rows;
    let mut excess: Vec<(u16, u16, f64)> = t.cells.iter().map(|c| (c.row, c.col, 0.0)).collect();
    for pre in t.pre_first as usize..t.pre_first as usize + t.rows as usize {
        for syn in rows.row(pre) {
            let post = rows.targets[syn];
            if rows.delays[syn] != t.delay || post < t.post_first || post >= t.post_first + t.neurons as u32 {
                continue;
            }
            let key = ((pre - t.pre_first as usize) as u16, (post - t.post_first) as u16);
            let Ok(j) = t.cells.binary_search_by_key(&key, |c| (c.row, c.col)) else { continue };
            cells.at[syn] = Some((i as u32, j as u32));
            let sigma = nonideal.device_to_device;
            if sigma > 0.0 {
                cells.curves[syn] = l.curves(1.0 + sigma * rng.normal(), 1.0 + sigma * rng.normal());
            }
            let ideal = cells.curves[syn].0.fraction(t.cells[j].level as f64);
            let (x, frozen) = match stuck(rng, nonideal) {
                Some(on) => (if on { 1.0 } else { 0.0 }, true),
                None => {
                    let g = (g_min + ideal * g_range) * (1.0 + nonideal.program_noise * rng.normal());
                    (((g - g_min) / g_range).clamp(0.0, 1.0), false)
                }
            };
            (cells.x[syn], cells.frozen[syn]) = (x, frozen);
            excess[j].2 = x * g_range;
        }
    }
    let full_scale = t.rows as f64 * g_min + (t.rows as f64).min(l.adc_rows.value) * g_range;
    // One column per neuron and the reference column.
    let used_cols = t.neurons as usize + 1;
    (TileState { used_cols, full_scale, g_off: g_min, g_unit: g_range, halves: 1, slices: 1 }, excess)
}

/// The cells of a `rows x cols` block after one identical set pulse: each switches with probability `p`, to a
/// uniformly random level above 0.
fn device_drawn(rows: u16, cols: usize, levels: u32, p: f64, rng: &mut Rng) -> Vec<Cell> {
    let mut cells = Vec::new();
    for row in 0..rows {
        for col in 0..cols as u16 {
            if rng.uniform() < p {
                cells.push(Cell { row, col, level: 1 + rng.below(levels as u64 - 1) as u8 });
            }
        }
    }
    cells
}

impl CrossbarSynapses<'_> {
    /// Reads of each tile so far.
    pub fn tile_reads(&self) -> Vec<u64> {
        self.block_of_tile.iter().map(|&b| self.block_reads[b]).collect()
    }

    /// The counts and energy so far: the energy of counted operations priced at the preset's cost each.
    pub fn ledger(&self) -> Ledger {
        let (p, mut l) = (&self.xb.periphery, self.ledger.clone());
        l.drivers_j = l.row_activations as f64 * p.row_driver_j.value;
        l.adc_j = l.adc_conversions as f64 * p.adc_conversion_j.value;
        l.partial_sums_j = l.partial_sum_adds as f64 * p.partial_sum_add_j.value;
        l.noc_j = l.hops as f64 * self.xb.noc.hop_j.value;
        l
    }

    /// Ends the write of the row being written: its pulses went in parallel, potentiation then depression.
    fn end_row_write(&mut self) {
        if let Some(w) = self.row_write.take() {
            let l = &self.xb.learning;
            let s = w.ltp * l.write_pulse_ltp_s.value + w.ltd * l.write_pulse_ltd_s.value;
            if self.tile_write_s[w.tile] == 0.0 {
                self.written.push(w.tile);
            }
            self.tile_write_s[w.tile] += s;
        }
    }

    /// Writes `n` pulses (`n < 0`: depression) to cell `j` of tile `i`, a synapse at fraction `x` with `curves`;
    /// returns the new fraction.
    fn pulse(&mut self, (i, j): (usize, usize), x: f64, n: f64, curves: &(Curve, Curve)) -> f64 {
        let l = &self.xb.learning;
        let (curve, v, width) = if n > 0.0 {
            (&curves.0, l.write_v_ltp.value, l.write_pulse_ltp_s.value)
        } else {
            (&curves.1, l.write_v_ltd.value, l.write_pulse_ltd_s.value)
        };
        let mut after = curve.step(x, n);
        if self.nonideal.cycle_to_cycle > 0.0 {
            after += self.nonideal.cycle_to_cycle * n.abs().sqrt() * self.learning_rng.normal();
            after = after.clamp(0.0, 1.0);
        }
        let (g_min, g_range) = (l.g_min_s.value, l.g_max_s.value - l.g_min_s.value);
        let g_mean = g_min + 0.5 * (x + after) * g_range;
        self.ledger.write_j += v * v * g_mean * width * n.abs();
        self.ledger.writes += 1;
        self.ledger.write_pulses += n.abs() as u64;
        let block = &mut self.blocks[self.block_of_tile[i]];
        let row = block.cells[j].0;
        block.cells[j].3 = after * g_range;
        block.row_g[row as usize] += (after - x) * g_range;
        if self.row_write.is_none_or(|w| (w.tile, w.row) != (i, row)) {
            self.end_row_write();
            self.row_write = Some(RowWrite { tile: i, row, ltp: 0.0, ltd: 0.0 });
        }
        if let Some(w) = self.row_write.as_mut() {
            if n > 0.0 {
                w.ltp = w.ltp.max(n);
            } else {
                w.ltd = w.ltd.max(-n);
            }
        }
        after
    }
}

impl Synapses for CrossbarSynapses<'_> {
    fn learns(&self, k: usize) -> bool {
        self.learning.get(k).is_some_and(Option::is_some)
    }

    fn write(&mut self, k: usize, synapse: usize, old: f64, new: f64) -> f64 {
        let scale = self.program.projections[k].scale;
        let Some(cells) = self.learning[k].as_mut() else { return new };
        let Some((i, j)) = cells.at[synapse] else { return old };
        let x = cells.x[synapse];
        let want = new / scale - x;
        if want == 0.0 {
            return x * scale;
        }
        if cells.frozen[synapse] {
            self.ledger.writes_refused += 1;
            return x * scale;
        }
        let l = &self.xb.learning;
        let pulses = if want > 0.0 { l.pulses_ltp.value } else { l.pulses_ltd.value };
        let exact = want.abs() * pulses;
        let whole = if l.stochastic_rounding() {
            exact.floor() + f64::from(self.learning_rng.uniform() < exact.fract())
        } else {
            (exact + 0.5).floor()
        };
        if whole == 0.0 {
            self.ledger.rounded_away += 1;
            return x * scale;
        }
        cells.pulses[synapse] += whole;
        if cells.pulses[synapse] >= l.endurance_pulses.value {
            cells.frozen[synapse] = true;
            self.ledger.worn_cells += 1;
        }
        let curves = cells.curves[synapse];
        let after = self.pulse((i as usize, j as usize), x, whole.copysign(want), &curves);
        if let Some(cells) = self.learning[k].as_mut() {
            cells.x[synapse] = after;
        }
        after * scale
    }

    fn deliver(&mut self, k: usize, spikes: &[(u32, u32)], out: &mut Vec<(u16, u32, f64)>) {
        let mut active = std::mem::take(&mut self.active);
        for bi in 0..self.blocks_of[k].len() {
            let (b, block) = (self.blocks_of[k][bi], &self.blocks[self.blocks_of[k][bi]]);
            // Spikes come in neuron order: the block's rows are one contiguous run of them.
            let first = spikes.partition_point(|s| s.0 < block.pre_first);
            let last = spikes.partition_point(|s| s.0 < block.pre_first + block.rows as u32);
            if first == last {
                continue;
            }
            active.clear();
            active.extend(spikes[first..last].iter().map(|s| ((s.0 - block.pre_first) as u16, s.1)));
            self.read_block(b, &active, out);
        }
        self.active = active;
    }

    fn end_step(&mut self) {
        self.end_row_write();
        let mut write_s = 0f64;
        for i in self.written.drain(..) {
            write_s = write_s.max(std::mem::take(&mut self.tile_write_s[i]));
        }
        self.ledger.write_time_s += write_s;
        let p = &self.xb.periphery;
        let step_s =
            self.step_array_s + p.neuron_update_s.value + self.step_hops as f64 * self.xb.noc.hop_s.value + write_s;
        self.ledger.step_latency_max_s = self.ledger.step_latency_max_s.max(step_s);
        self.ledger.hardware_time_s += step_s;
        self.step_array_s = 0.0;
        self.step_hops = 0;
    }
}

/// What a crossbar run produced.
#[derive(Clone, Debug)]
pub struct CrossbarRun {
    /// Spikes, counts and traces, as the reference reports them.
    pub result: crate::reference::RunResult,
    /// Counts and energy.
    pub ledger: Ledger,
    /// Reads of each tile of the program.
    pub tile_reads: Vec<u64>,
}

/// Runs `inst` for `opts.steps` steps on the crossbar `program`. Within a `job`: calls its `progress` now and then,
/// ends early (`result.steps` done) once its `stop` is set, and samples its weight probes (the simulator's weights
/// of a plastic projection are what the cells hold: [`CrossbarSynapses`]'s `write` returns them).
pub fn run(
    inst: &Instance,
    program: &CrossbarProgram,
    xb: &Crossbar,
    nonideal: &Nonideal,
    opts: &crate::reference::RunOptions,
    job: Option<&crate::engine::Job>,
) -> CrossbarRun {
    let mut synapses = CrossbarSynapses::new(inst, program, xb, nonideal.clone(), inst.seed);
    let simulator = crate::reference::Simulator::with_synapses(inst, &mut synapses);
    let result = match job {
        Some(job) => simulator
            .stop_on(job.stop)
            .record_weights(job.weight_probes.to_vec(), job.weight_every)
            .run(opts, job.progress),
        None => simulator.run(opts, |_| {}),
    };
    let mut ledger = synapses.ledger();
    let tile_reads = synapses.tile_reads();
    ledger.neuron_updates = inst.neuron_count() as u64 * opts.steps;
    ledger.neurons_j = ledger.neuron_updates as f64 * xb.periphery.neuron_update_j.value;
    CrossbarRun { result, ledger, tile_reads }
}
