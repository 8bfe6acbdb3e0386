//! The crossbar backend: maps each projection's weight matrix onto resistive tiles (rows = presynaptic neurons of
//! one delay, columns = differential pairs of bit slices per postsynaptic neuron), quantises weights to the cells'
//! conductance levels, and places tiles row-major on the tile mesh. Blocks without a synapse take no tile.
//! Neurons are updated in the tiles' digital periphery, so no neuron model is excluded; gap junctions are.
//! A plastic projection goes onto tiles of the target's analog learning cells instead: one cell per synapse, one
//! column per postsynaptic neuron, each cell programmed to the pulse position that holds its initial weight.

mod backend;

use std::collections::BTreeMap;

pub use backend::Backend;

use soma_isa::crossbar::{Cell, CrossbarProgram, ProjectionScale, Tile};
use soma_isa::instance::Instance;
use soma_targets::crossbar::Crossbar;

use crate::backend::{CompileError, Object};
use crate::weights::{ErrorTally, WeightError};

/// What the mapping used and how well the weights survived.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Report {
    /// Tiles used.
    pub tiles: usize,
    /// Tiles on the chip.
    pub tiles_available: usize,
    /// Tiles of plastic projections (analog cells, one per synapse, one column per postsynaptic neuron).
    pub plastic_tiles: usize,
    /// Postsynaptic neurons per tile (of a static projection).
    pub neurons_per_tile: usize,
    /// Cells per weight (slices) times two (differential pair).
    pub cells_per_weight: usize,
    /// Fraction of the used tiles' cells inside a mapped block (rows and columns in use).
    pub block_utilisation: f64,
    /// Fraction of the used tiles' cells holding part of a synapse (programmed above level 0).
    pub cell_utilisation: f64,
    /// RMS relative weight quantisation error over all synapses.
    pub weight_error_rms: f64,
    /// Quantisation error per projection.
    pub weight_errors: Vec<WeightError>,
}

/// Maps `inst` onto the crossbar `xb`.
pub fn compile(
    inst: &Instance,
    xb: &Crossbar,
    target: &str,
    fingerprint: u64,
) -> Result<(CrossbarProgram, Report), CompileError> {
    if !inst.gap_junctions.is_empty() {
        return Err(CompileError::Unsupported("the crossbar target has no gap junctions".into()));
    }
    let (rows, cols, slices, levels) = (xb.rows(), xb.cols(), xb.slices(), xb.levels());
    let per_neuron = 2 * slices;
    if per_neuron > cols {
        return Err(CompileError::Unsupported(format!(
            "a weight needs {per_neuron} columns (2 x {slices} slices) but a tile has {cols}"
        )));
    }
    let neurons_per_tile = cols / per_neuron;
    let max_q = ((1u64 << xb.mapping.weight_bits.value as u32) - 1) as f64;
    let available = xb.array.tiles.value as usize;
    // Checked after each projection, so a network far too large for the chip is refused before the rest is laid.
    let overflows = |tiles: &[Tile], k: usize| {
        (tiles.len() > available).then(|| {
            let part = match (k, inst.projections.len()) {
                (_, n) if k + 1 == n => String::new(),
                (0, _) => " (its first projection alone)".to_string(),
                (_, n) => format!(" (its first {} of {n} projections alone)", k + 1),
            };
            CompileError::DoesNotFit(format!(
                "the network needs {} tiles of {rows}x{cols} ({neurons_per_tile} neurons each){part}; the chip has \
                 {available}",
                tiles.len()
            ))
        })
    };
    let mut tiles = Vec::new();
    let mut scales = Vec::new();
    let mut errors = Vec::new();
    for (k, pr) in inst.projections.iter().enumerate() {
        if let Some(rule) = &pr.plasticity {
            let (scale, error) = plastic_tiles(inst, k, rule, xb, &mut tiles)
                .map_err(|e| CompileError::Unsupported(e).at(Object::Projection(pr.name.clone())))?;
            scales.push(ProjectionScale { scale, plastic: true });
            errors.push(error);
            if let Some(e) = overflows(&tiles, k) {
                return Err(e);
            }
            continue;
        }
        let w_max = pr.rows.weights.iter().fold(0.0f64, |m, w| m.max((*w as f64).abs()));
        let scale = if w_max > 0.0 { w_max / max_q } else { 1.0 };
        scales.push(ProjectionScale { scale, plastic: false });
        let mut tally = ErrorTally::default();
        // (delay, row block, column block) -> cells
        let mut blocks: BTreeMap<(u16, usize, usize), Vec<Cell>> = BTreeMap::new();
        let mut row: Vec<(u16, usize, f64)> = Vec::new();
        let mut merged_synapses = 0;
        for pre in 0..inst.pre_size(pr.pre) {
            // Multapses share a cell pair: their weights add before quantisation.
            row.clear();
            row.extend(
                pr.rows.row(pre).map(|s| (pr.rows.delays[s], pr.rows.targets[s] as usize, pr.rows.weights[s] as f64)),
            );
            row.sort_by_key(|&(d, post, _)| (d, post));
            row.dedup_by(|later, earlier| {
                let same = (later.0, later.1) == (earlier.0, earlier.1);
                if same {
                    earlier.2 += later.2;
                }
                same
            });
            merged_synapses += row.len();
            for &(delay, post, w) in &row {
                let q = (w.abs() / scale).round().min(max_q) as u64;
                tally.record(w.abs(), q as f64 * scale);
                let cells = blocks.entry((delay, pre / rows, post / neurons_per_tile)).or_default();
                let half = usize::from(w < 0.0);
                let mut rest = q;
                for slice in 0..slices {
                    let digit = rest % levels as u64;
                    rest /= levels as u64;
                    if digit > 0 {
                        let col = 2 * ((post % neurons_per_tile) * slices + slice) + half;
                        cells.push(Cell { row: (pre % rows) as u16, col: col as u16, level: digit as u8 });
                    }
                }
            }
        }
        errors.push(tally.finish(&pr.name, merged_synapses));
        for (block, mut cells) in blocks {
            cells.sort_by_key(|c| (c.row, c.col));
            tiles.push(block_tile(inst, k, block, cells, (rows, neurons_per_tile)));
        }
        if let Some(e) = overflows(&tiles, k) {
            return Err(e);
        }
    }
    let mesh_width = (available as f64).sqrt().ceil().max(1.0) as usize;
    for (i, t) in tiles.iter_mut().enumerate() {
        t.at = ((i % mesh_width) as u16, (i / mesh_width) as u16);
    }
    let population_home = (0..inst.populations.len())
        .map(|p| tiles.iter().find(|t| inst.projections[t.projection as usize].post == p).map_or((0, 0), |t| t.at))
        .collect();
    let cells_total = (tiles.len() * rows * cols).max(1) as f64;
    let report = Report {
        tiles: tiles.len(),
        tiles_available: available,
        plastic_tiles: tiles.iter().filter(|t| scales[t.projection as usize].plastic).count(),
        neurons_per_tile,
        cells_per_weight: per_neuron,
        block_utilisation: tiles
            .iter()
            .map(|t| {
                t.rows as usize
                    * t.neurons as usize
                    * scales[t.projection as usize].columns_per_neuron(slices as u32) as usize
            })
            .sum::<usize>() as f64
            / cells_total,
        cell_utilisation: tiles.iter().map(|t| t.cells.len()).sum::<usize>() as f64 / cells_total,
        weight_error_rms: crate::weights::overall_rms(&errors),
        weight_errors: errors,
    };
    let program = CrossbarProgram {
        target: target.to_string(),
        fingerprint,
        levels,
        slices: slices as u32,
        mesh_width: mesh_width as u16,
        projections: scales,
        tiles,
        population_home,
    };
    Ok((program, report))
}

/// Lays plastic projection `k` (rule `rule`) onto tiles of analog cells, one per synapse, and returns its scale
/// (`w_max`: the weight of a cell at its highest conductance) and how well its initial weights were programmed;
/// or why it cannot learn here.
fn plastic_tiles(
    inst: &Instance,
    k: usize,
    rule: &soma_isa::plasticity::Stdp,
    xb: &Crossbar,
    tiles: &mut Vec<Tile>,
) -> Result<(f64, WeightError), String> {
    let pr = &inst.projections[k];
    if rule.w_min < 0.0 || rule.w_max <= 0.0 || pr.rows.weights.iter().any(|&w| w < 0.0) {
        return Err(format!(
            "a plastic projection learns on one analog cell per synapse, which holds a weight in [0, w_max]: its \
             bounds [{}, {}] and initial weights must not be negative",
            rule.w_min, rule.w_max
        ));
    }
    let (rows, neurons_per_tile) = (xb.rows(), xb.cols());
    let (ltp, _) = xb.learning.curves(1.0, 1.0);
    let mut tally = ErrorTally::default();
    let mut blocks: BTreeMap<(u16, usize, usize), Vec<Cell>> = BTreeMap::new();
    for pre in 0..inst.pre_size(pr.pre) {
        for s in pr.rows.row(pre) {
            let (delay, post, w) = (pr.rows.delays[s], pr.rows.targets[s] as usize, pr.rows.weights[s] as f64);
            let level = ltp.position(w / rule.w_max).round();
            tally.record(w, ltp.fraction(level) * rule.w_max);
            let cell = Cell { row: (pre % rows) as u16, col: (post % neurons_per_tile) as u16, level: level as u8 };
            blocks.entry((delay, pre / rows, post / neurons_per_tile)).or_default().push(cell);
        }
    }
    for ((delay, rb, cb), mut cells) in blocks {
        cells.sort_by_key(|c| (c.row, c.col));
        if let Some(w) = cells.windows(2).find(|w| (w[0].row, w[0].col) == (w[1].row, w[1].col)) {
            return Err(format!(
                "neuron {} connects to neuron {} twice at one delay, and one cell cannot learn two weights",
                rb * rows + w[0].row as usize,
                cb * neurons_per_tile + w[0].col as usize
            ));
        }
        tiles.push(block_tile(inst, k, (delay, rb, cb), cells, (rows, neurons_per_tile)));
    }
    Ok((rule.w_max, tally.finish(&pr.name, pr.rows.weights.len())))
}

/// The tile of projection `k`'s block `(delay, row block, column block)` holding `cells`, on tiles of `rows`
/// presynaptic by `neurons_per_tile` postsynaptic neurons (placed later).
fn block_tile(
    inst: &Instance,
    k: usize,
    (delay, rb, cb): (u16, usize, usize),
    cells: Vec<Cell>,
    (rows, neurons_per_tile): (usize, usize),
) -> Tile {
    let pr = &inst.projections[k];
    let (pre_size, post_size) = (inst.pre_size(pr.pre), inst.populations[pr.post].size());
    Tile {
        projection: k as u32,
        delay,
        pre_first: (rb * rows) as u32,
        rows: (pre_size - rb * rows).min(rows) as u16,
        post_first: (cb * neurons_per_tile) as u32,
        neurons: (post_size - cb * neurons_per_tile).min(neurons_per_tile) as u16,
        cells,
        at: (0, 0),
    }
}
