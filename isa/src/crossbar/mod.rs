//! What the crossbar backend programs into its arrays, and what the crossbar runtime reads: tiles of resistive
//! cells holding one block of one projection's weight matrix.
//!
//! A tile's rows are consecutive presynaptic neurons of one projection whose synapses share one delay; its
//! columns are `2 * slices` per postsynaptic neuron: for neuron `j` and slice `s` (least significant first),
//! column `2 (j * slices + s)` is the positive half of the differential pair and the next column the negative half.
//! A weight `w` is stored as the integer magnitude `q = round(|w| / scale)` in `0..=2^weight_bits - 1`, written in
//! base `levels` over the slices, on the half its sign selects; the other half stays at level 0. Only cells above
//! level 0 are listed: every other cell of the tile sits at level 0 (the off state, which still conducts).
//!
//! A plastic projection's tiles hold one analog cell per synapse instead (the target's learning device): one column
//! per postsynaptic neuron, every synapse listed (at level 0 too, since it may potentiate), its level the pulse
//! position on the device's potentiation curve that holds its initial weight as the fraction `w / scale` of the
//! cell's conductance range.

use crate::Invalid;
use serde::{Deserialize, Serialize};

/// One programmed cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cell {
    /// Row (word line) in the tile.
    pub row: u16,
    /// Column (bit line) in the tile.
    pub col: u16,
    /// Conductance level, `1..levels` (on a plastic projection's tile: a pulse position, from 0).
    pub level: u8,
}

/// One tile's block of a projection.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tile {
    /// Projection index (into the instance's projections).
    pub projection: u32,
    /// The delay, in steps, of every synapse on the tile.
    pub delay: u16,
    /// First presynaptic neuron on row 0.
    pub pre_first: u32,
    /// Rows in use.
    pub rows: u16,
    /// First postsynaptic neuron on columns 0 and 1.
    pub post_first: u32,
    /// Postsynaptic neurons on the tile (`2 * slices` columns each, one if the projection is plastic).
    pub neurons: u16,
    /// Cells above level 0 (every synapse if the projection is plastic), sorted by row then column.
    pub cells: Vec<Cell>,
    /// Position on the tile mesh (x, y).
    pub at: (u16, u16),
}

/// How one projection's weights were quantised.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProjectionScale {
    /// Weight per unit of the integer magnitude `q`; on a plastic projection, the weight of a cell at its
    /// highest conductance (`w_max`).
    pub scale: f64,
    /// Whether the projection learns on analog cells, one per synapse.
    pub plastic: bool,
}

impl ProjectionScale {
    /// Columns per postsynaptic neuron on this projection's tiles, with weights sliced over `slices` cells.
    pub fn columns_per_neuron(&self, slices: u32) -> u32 {
        if self.plastic { 1 } else { 2 * slices }
    }
}

/// The crossbar program of a network.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CrossbarProgram {
    /// Target preset name.
    pub target: String,
    /// Fingerprint of the target's constants.
    pub fingerprint: u64,
    /// Conductance levels per cell.
    pub levels: u32,
    /// Cells a weight is sliced over.
    pub slices: u32,
    /// Tile mesh width (tiles are placed row-major).
    pub mesh_width: u16,
    /// Per projection, its scale.
    pub projections: Vec<ProjectionScale>,
    /// The tiles.
    pub tiles: Vec<Tile>,
    /// For each population, the mesh position of the tile its neurons are updated on (their first incoming tile,
    /// or the mesh origin, the chip's input port, for populations without input).
    pub population_home: Vec<(u16, u16)>,
}

/// Version of the crossbar image format; bumped on any change to what is encoded.
pub const CROSSBAR_FORMAT_VERSION: u32 = 4;

/// A crossbar image: the arrays' program and the network whose neurons the tiles' periphery runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CrossbarImage {
    /// The tiles and their scales.
    pub program: CrossbarProgram,
    /// The instantiated network.
    pub network: crate::instance::Instance,
    /// The target description (preset TOML) it was compiled for, whose fingerprint is the program's: the image
    /// runs wherever it is copied, without the preset file.
    pub target_text: String,
}

impl CrossbarImage {
    /// Checks that the program fits the network and the cells their tiles, so that running an image that passes
    /// cannot index out of range.
    pub fn validate(&self) -> Result<(), Invalid> {
        let (p, net) = (&self.program, &self.network);
        net.validate()?;
        if !(2..=256).contains(&p.levels) || p.slices == 0 || p.slices > 64 {
            return Err(format!("{} levels and {} slices per weight are out of range", p.levels, p.slices).into());
        }
        if p.projections.len() != net.projections.len() || p.population_home.len() != net.populations.len() {
            return Err("the program's projections or populations do not match the network's".into());
        }
        if p.projections.iter().any(|s| !(s.scale.is_finite() && s.scale > 0.0)) {
            return Err("a projection's weight scale is not positive and finite".into());
        }
        if p.projections.iter().zip(&net.projections).any(|(s, pr)| s.plastic != pr.plasticity.is_some()) {
            return Err("a projection learns in the network but not in the program, or the other way round".into());
        }
        for (i, t) in p.tiles.iter().enumerate() {
            let bad = |what: &str| Err(format!("tile {i}: {what}").into());
            let Some(pr) = net.projections.get(t.projection as usize) else { return bad("no such projection") };
            let pre = net.pre_size(pr.pre) as u64;
            let post = net.populations[pr.post].size() as u64;
            if t.delay == 0 || t.rows == 0 || t.pre_first as u64 + t.rows as u64 > pre {
                return bad("rows outside the presynaptic side, or no delay");
            }
            if t.neurons == 0 || t.post_first as u64 + t.neurons as u64 > post {
                return bad("neurons outside the postsynaptic population");
            }
            let scale = &p.projections[t.projection as usize];
            let cols = t.neurons as u32 * scale.columns_per_neuron(p.slices);
            let level_ok = |l: u8| scale.plastic || (l > 0 && (l as u32) < p.levels);
            if t.cells.iter().any(|c| c.row >= t.rows || c.col as u32 >= cols || !level_ok(c.level)) {
                return bad("a cell lies outside the block or has no level");
            }
            if t.cells.windows(2).any(|w| (w[0].row, w[0].col) >= (w[1].row, w[1].col)) {
                return bad("cells not sorted by row and column, or repeated");
            }
        }
        Ok(())
    }
}

impl Tile {
    /// The tile's cells of row `r`.
    pub fn row_cells(&self, r: u16) -> &[Cell] {
        let start = self.cells.partition_point(|c| c.row < r);
        let end = self.cells.partition_point(|c| c.row <= r);
        &self.cells[start..end]
    }
}
