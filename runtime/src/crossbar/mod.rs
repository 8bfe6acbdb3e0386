//! The crossbar machine: runs a network whose synaptic input comes from resistive tiles read through ADCs, and
//! whose neurons are updated in the tiles' digital periphery (here the reference kernels, in `f64`).
//!
//! Per step and tile with active rows: every active word line is driven (one pulse per spike), the column
//! currents `V sum_i G_ij` are read through ADCs whose full scale is the tile's largest ideal column current with
//! all rows driven (one reference per tile, calibrated at programming, so an ideal array never clips, and both
//! halves of a differential pair quantise alike), and the digital periphery subtracts the
//! off-state baseline of the rows it drove, shifts and adds the bit slices, subtracts the differential halves and
//! scales to weight units. Spikes reach tiles as packets over the mesh, one per destination tile.
//!
//! Non-idealities, each off unless set in [`Nonideal`] and drawn from the run's seed: programming noise and stuck
//! cells when the arrays are programmed, drift `(t / 1 s)^-nu` at read time `t` after programming, Gaussian read
//! noise per cell and read (summed per column, exactly, as one Gaussian); and ADC clipping, by narrowing the ADC
//! range below the calibrated full scale.

mod report;

pub use report::{Engine, Report, nonideal};

use soma_isa::crossbar::{Cell, CrossbarProgram};
use soma_isa::instance::{Instance, Pre};
use soma_isa::rng::Rng;
use soma_targets::crossbar::Crossbar;

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
    /// Energy of the digital periphery (partial sums and neuron updates), J.
    pub digital_j: f64,
    /// Energy of the network on chip, J.
    pub noc_j: f64,
    /// Hardware time of the slowest step (array read, ADCs, digital, mesh), s.
    pub step_latency_max_s: f64,
    /// Summed hardware time of all steps, s.
    pub hardware_time_s: f64,
}

impl Ledger {
    /// Total energy, J.
    pub fn total_j(&self) -> f64 {
        self.cells_j + self.drivers_j + self.adc_j + self.digital_j + self.noc_j
    }
}

/// One programmed tile as the array holds it.
struct TileState {
    /// Cells above the off state: `(row, column, conductance above g_off)` sorted by row; stuck-on cells included.
    cells: Vec<(u16, u16, f64)>,
    /// Start of each row's cells in `cells` (`rows + 1` entries).
    row_start: Vec<usize>,
    /// Conductance of each row over all the tile's columns (for the read energy), S.
    row_g: Vec<f64>,
    /// Used columns.
    used_cols: usize,
    /// The tile's ADC full scale, in conductance (S): the largest column's with every row driven.
    full_scale: f64,
}

/// The crossbar's synapses, for [`crate::reference::Simulator::with_synapses`].
pub struct CrossbarSynapses<'a> {
    xb: &'a Crossbar,
    program: &'a CrossbarProgram,
    nonideal: Nonideal,
    tiles: Vec<TileState>,
    tiles_of: Vec<Vec<usize>>,
    /// Mesh position spikes of each projection start from.
    sender_at: Vec<(u16, u16)>,
    g_off: f64,
    /// Conductance of one level step, S.
    g_step: f64,
    rng: Rng,
    ledger: Ledger,
    step_array_s: f64,
    step_hops: u64,
    current: Vec<f64>,
    variance: Vec<f64>,
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
        let (g_off, g_on) = (xb.conductance(0), xb.conductance(xb.levels() - 1));
        let g_step = xb.conductance(1) - g_off;
        let drift = if nonideal.drift_nu > 0.0 && nonideal.drift_after_s > 1.0 {
            nonideal.drift_after_s.powf(-nonideal.drift_nu)
        } else {
            1.0
        };
        let cols = xb.cols();
        let per_neuron = 2 * program.slices as usize;
        let tiles = program
            .tiles
            .iter()
            .map(|t| {
                let used_cols = t.neurons as usize * per_neuron;
                let drawn;
                let programmed = if nonideal.device_random.contains(&(t.projection as usize)) {
                    drawn = device_drawn(t.rows, used_cols, xb.levels(), nonideal.switching_probability, &mut rng);
                    &drawn
                } else {
                    &t.cells
                };
                let mut full_scale = vec![t.rows as f64 * g_off; used_cols];
                let mut cells = Vec::with_capacity(programmed.len());
                for c in programmed {
                    let ideal = xb.conductance(c.level as u32);
                    full_scale[c.col as usize] += ideal - g_off;
                    let draw = rng.uniform();
                    let g = if draw < nonideal.stuck_off {
                        g_off
                    } else if draw < nonideal.stuck_off + nonideal.stuck_on {
                        g_on
                    } else {
                        (ideal * (1.0 + nonideal.program_noise * rng.normal())).clamp(g_off, g_on)
                    };
                    cells.push((c.row, c.col, g * drift - g_off));
                }
                // Stuck-on cells among the block's off cells: a Poisson number at uniform positions.
                let off_cells = (t.rows as usize * used_cols).saturating_sub(programmed.len());
                for _ in 0..rng.poisson(off_cells as f64 * nonideal.stuck_on) {
                    let (row, col) = (rng.below(t.rows as u64) as u16, rng.below(used_cols as u64) as u16);
                    cells.push((row, col, g_on * drift - g_off));
                }
                cells.sort_by_key(|c| (c.0, c.1));
                let mut row_start = vec![0; t.rows as usize + 1];
                let mut row_g = vec![cols as f64 * g_off; t.rows as usize];
                for c in &cells {
                    row_start[c.0 as usize + 1] += 1;
                    row_g[c.0 as usize] += c.2;
                }
                for r in 0..t.rows as usize {
                    row_start[r + 1] += row_start[r];
                }
                let full_scale = full_scale.iter().copied().fold(0.0, f64::max);
                TileState { cells, row_start, row_g, used_cols, full_scale }
            })
            .collect();
        let mut tiles_of = vec![Vec::new(); inst.projections.len()];
        for (i, t) in program.tiles.iter().enumerate() {
            tiles_of[t.projection as usize].push(i);
        }
        let sender_at = inst
            .projections
            .iter()
            .map(|p| match p.pre {
                Pre::Population(q) => program.population_home[q],
                Pre::Source(_) => (0, 0),
            })
            .collect();
        CrossbarSynapses {
            xb,
            program,
            nonideal,
            tiles,
            tiles_of,
            sender_at,
            g_off,
            g_step,
            rng,
            ledger: Ledger::default(),
            step_array_s: 0.0,
            step_hops: 0,
            current: Vec::new(),
            variance: Vec::new(),
            active: Vec::new(),
        }
    }

    /// Reads tile `i` with its active rows `(row, pulses)`; pushes each neuron's input.
    fn read_tile(&mut self, i: usize, active: &[(u16, u32)], out: &mut Vec<(u16, u32, f64)>) {
        let (xb, tile, state) = (self.xb, &self.program.tiles[i], &self.tiles[i]);
        let used_cols = state.used_cols;
        let (v, t_read) = (xb.array.read_v.value, xb.array.read_pulse_s.value);
        self.current.clear();
        self.current.resize(used_cols, 0.0);
        self.variance.clear();
        self.variance.resize(used_cols, 0.0);
        let pulses: u32 = active.iter().map(|a| a.1).sum();
        let sigma = self.nonideal.read_noise;
        for &(row, count) in active {
            let count_f = count as f64;
            self.ledger.cells_j += v * v * t_read * count_f * state.row_g[row as usize];
            for &(_, col, excess) in &state.cells[state.row_start[row as usize]..state.row_start[row as usize + 1]] {
                self.current[col as usize] += count_f * excess;
                if sigma > 0.0 {
                    let g = self.g_off + excess;
                    self.variance[col as usize] += count_f * (g * g - self.g_off * self.g_off);
                }
            }
        }
        let baseline = pulses as f64 * self.g_off;
        let top = ((1u64 << xb.periphery.adc_bits.value as u32) - 1) as f64;
        let slices = self.program.slices as usize;
        let levels = self.program.levels as f64;
        let scale = self.program.projections[tile.projection as usize].scale;
        for j in 0..tile.neurons as usize {
            let mut input = 0.0;
            for s in 0..slices {
                for half in 0..2 {
                    let col = 2 * (j * slices + s) + half;
                    let mut g = baseline + self.current[col];
                    if sigma > 0.0 {
                        let var = self.variance[col] + pulses as f64 * self.g_off * self.g_off;
                        g += sigma * var.sqrt() * self.rng.normal();
                    }
                    let fs = state.full_scale * self.nonideal.adc_range;
                    let code = (g / fs * top).round().clamp(0.0, top);
                    let level_units = (code * fs / top - baseline) / self.g_step;
                    let sign = if half == 0 { 1.0 } else { -1.0 };
                    input += sign * level_units * levels.powi(s as i32);
                }
            }
            if input != 0.0 {
                out.push((tile.delay, tile.post_first + j as u32, input * scale));
            }
        }
        self.ledger.tile_reads += 1;
        self.ledger.row_activations += pulses as u64;
        self.ledger.drivers_j += pulses as f64 * xb.periphery.row_driver_j.value;
        self.ledger.adc_conversions += used_cols as u64;
        self.ledger.adc_j += used_cols as f64 * xb.periphery.adc_conversion_j.value;
        self.ledger.partial_sum_adds += used_cols as u64;
        self.ledger.digital_j += used_cols as f64 * xb.periphery.partial_sum_add_j.value;
        self.step_array_s = self.step_array_s.max(xb.tile_read_s(used_cols));
    }
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

impl Synapses for CrossbarSynapses<'_> {
    fn deliver(&mut self, k: usize, spikes: &[(u32, u32)], out: &mut Vec<(u16, u32, f64)>) {
        let mut active = std::mem::take(&mut self.active);
        for ti in 0..self.tiles_of[k].len() {
            let i = self.tiles_of[k][ti];
            let tile = &self.program.tiles[i];
            // Spikes come in neuron order: the tile's rows are one contiguous run of them.
            let first = spikes.partition_point(|s| s.0 < tile.pre_first);
            let last = spikes.partition_point(|s| s.0 < tile.pre_first + tile.rows as u32);
            if first == last {
                continue;
            }
            active.clear();
            active.extend(spikes[first..last].iter().map(|s| ((s.0 - tile.pre_first) as u16, s.1)));
            let (from, to) = (self.sender_at[k], tile.at);
            let hops = (from.0.abs_diff(to.0) + from.1.abs_diff(to.1)).max(1) as u64;
            let packets = active.iter().map(|a| a.1 as u64).sum::<u64>();
            self.ledger.packets += packets;
            self.ledger.hops += packets * hops;
            self.ledger.noc_j += (packets * hops) as f64 * self.xb.noc.hop_j.value;
            self.step_hops = self.step_hops.max(hops);
            self.read_tile(i, &active, out);
        }
        self.active = active;
    }

    fn end_step(&mut self) {
        let p = &self.xb.periphery;
        let step_s = self.step_array_s + p.neuron_update_s.value + self.step_hops as f64 * self.xb.noc.hop_s.value;
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
}

/// Runs `inst` for `opts.steps` steps on the crossbar `program`, calling `progress(done_steps)` now and then, and
/// ending early (`result.steps` done) once `stop` is set.
pub fn run(
    inst: &Instance,
    program: &CrossbarProgram,
    xb: &Crossbar,
    nonideal: &Nonideal,
    opts: &crate::reference::RunOptions,
    stop: Option<&std::sync::atomic::AtomicBool>,
    progress: impl FnMut(u64),
) -> CrossbarRun {
    let mut synapses = CrossbarSynapses::new(inst, program, xb, nonideal.clone(), inst.seed);
    let result = crate::reference::Simulator::with_synapses(inst, &mut synapses).stop_on(stop).run(opts, progress);
    let mut ledger = synapses.ledger;
    ledger.neuron_updates = inst.neuron_count() as u64 * opts.steps;
    ledger.digital_j += ledger.neuron_updates as f64 * xb.periphery.neuron_update_j.value;
    CrossbarRun { result, ledger }
}
