//! The binary image a compiler writes for a target and the runtime executes: cores with their neuron programs,
//! initial registers and synaptic matrices; spike-source and delay-extension cores; and one multicast routing
//! table per chip. [`Image::validate`] checks every index and invariant, so a loaded image can be executed
//! without further bounds checks. The byte encoding is in [`crate::codec`].
//!
//! Keys: a core's spikes carry `key = core_key | atom`, `atom < 2^ATOM_BITS`; its routing entries match
//! `key & KEY_MASK`. Synaptic words (32 bits): `weight:16 | delay-1:4 | type:1 | index:11` from the high bits;
//! type 0 adds to input 0 (positive), type 1 to input 1 (negative).

pub mod stdp;

use crate::Invalid;
use serde::{Deserialize, Serialize};

use crate::fixed::Accum;
use crate::program::{Program, REGISTERS};

/// Bits of the atom (neuron) part of a key.
pub const ATOM_BITS: u32 = 12;
/// Mask selecting the core part of a key.
pub const KEY_MASK: u32 = !((1 << ATOM_BITS) - 1);
/// The format version written in every image.
pub const FORMAT_VERSION: u32 = 5;

/// Synaptic word layout.
pub mod word {
    /// Packs a synapse; `delay` is 1..=16 steps, `index` < 2048.
    pub fn pack(weight: u16, delay: u8, inhibitory: bool, index: u16) -> u32 {
        (weight as u32) << 16
            | ((delay.clamp(1, 16) - 1) as u32) << 12
            | (inhibitory as u32) << 11
            | (index as u32 & 0x7ff)
    }
    /// The weight magnitude.
    #[inline]
    pub fn weight(w: u32) -> u16 {
        (w >> 16) as u16
    }
    /// The delay in steps, 1..=16.
    #[inline]
    pub fn delay(w: u32) -> u8 {
        ((w >> 12) & 0xf) as u8 + 1
    }
    /// Whether the synapse is of type 1 (negative input).
    #[inline]
    pub fn inhibitory(w: u32) -> bool {
        w & (1 << 11) != 0
    }
    /// The target neuron on the core.
    #[inline]
    pub fn index(w: u32) -> u16 {
        (w & 0x7ff) as u16
    }
}

/// An image.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Image {
    /// What it was built for.
    pub header: Header,
    /// The populations and sources, for reports.
    pub populations: Vec<PopulationInfo>,
    /// The cores in use.
    pub cores: Vec<Core>,
    /// One routing table per chip with entries.
    pub routers: Vec<Router>,
    /// The plastic projections, for reading learned weights back.
    pub plastic: Vec<PlasticProjection>,
}

/// A plastic projection of the network.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlasticProjection {
    /// Its name (`pre->post`).
    pub name: String,
    /// Its synapses.
    pub synapses: u32,
    /// Its rule's weight bounds, in the model's weight unit.
    pub w_min: f64,
    /// See `w_min`.
    pub w_max: f64,
}

/// Image header.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// The target's name.
    pub target: String,
    /// The target's fingerprint: the image runs only on an identical target description.
    pub fingerprint: u64,
    /// Machine size in boards.
    pub boards: u32,
    /// Chips in x and y (bounding box).
    pub width: u16,
    /// Chips in y.
    pub height: u16,
    /// Cores per chip.
    pub cores_per_chip: u16,
    /// Time step, seconds.
    pub dt: f64,
    /// Seed of the network's random draws and of the sources.
    pub seed: u64,
    /// Depth of every neuron core's ring buffer, in steps: the longest delay a synaptic word holds, and the length
    /// of one delay-extension stage (1..=[`MAX_RING_SLOTS`]). The compiler splits delays by it and the machine
    /// sizes its rings and stages by it; it is the preset's `delay_slots`.
    pub delay_slots: u8,
    /// The target description (preset TOML) it was compiled for, whose fingerprint is `fingerprint`: the image
    /// runs wherever it is copied, without the preset file (empty: look the preset up by `target`).
    pub target_text: String,
}

/// The deepest ring buffer a synaptic word can address (its 4-bit delay field).
pub const MAX_RING_SLOTS: u8 = 16;

/// A population or source of the network.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PopulationInfo {
    /// Name.
    pub name: String,
    /// Size.
    pub size: u32,
    /// Model name, or `source`.
    pub model: String,
    /// The units of its registers' values (`mV`, or empty for unitless models).
    pub v_unit: String,
}

/// The SI value of one unit of a membrane potential as an image names the unit (`PopulationInfo::v_unit`): `mV` is
/// 1e-3 V; a unitless model's (empty) unit is 1.
pub fn si_per_v_unit(unit: &str) -> f64 {
    if unit == "mV" { 1e-3 } else { 1.0 }
}

/// A core.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Core {
    /// Chip coordinates.
    pub chip: (u16, u16),
    /// Core number on the chip (1.. ; 0 is the monitor).
    pub index: u16,
    /// Key base of the spikes it sends.
    pub key: u32,
    /// Which population or source (index into [`Image::populations`]).
    pub population: u32,
    /// First atom of the population on this core.
    pub first: u32,
    /// Atoms on this core.
    pub count: u32,
    /// What it does.
    pub kind: CoreKind,
}

/// What a core does.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum CoreKind {
    /// Simulates neurons.
    Neurons(NeuronCore),
    /// Emits spikes of a source.
    Source(SourceCore),
    /// Re-sends the spikes of core `source` after 16, 32, ... steps; atom `stage * count + i` is neuron `i`'s
    /// spike delayed by `16 * (stage + 1)` steps.
    DelayExtension {
        /// The core whose spikes it delays.
        source: u32,
        /// Number of 16-step stages.
        stages: u8,
    },
}

/// A neuron core.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NeuronCore {
    /// The neuron program.
    pub program: Program,
    /// Initial value of each register: one value for all neurons, or one per neuron.
    pub registers: Vec<Vec<Accum>>,
    /// Left shift of each synapse type's ring-buffer entries into inputs.
    pub shifts: [u8; 2],
    /// Incoming synapses.
    pub synapses: SynapticMatrix,
}

/// Synaptic rows by incoming key.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SynapticMatrix {
    /// One block per sending core: spikes with `key & KEY_MASK == block.key` use rows
    /// `first_row + atom`.
    pub blocks: Vec<Block>,
    /// `row_offsets[r]..row_offsets[r + 1]` are the words of row `r`.
    #[serde(with = "u32_bytes")]
    pub row_offsets: Vec<u32>,
    /// Synaptic words.
    #[serde(with = "u32_bytes")]
    pub words: Vec<u32>,
    /// The plastic part of the rows, if any.
    pub plastic: Option<Box<PlasticRows>>,
}

/// The plastic synapses of a core, in rows numbered as the static ones (sPyNNaker's plastic region of a row): the
/// words hold each synapse's initial weight, which the core updates by [`stdp::FixedStdp`] when the row's
/// presynaptic spike arrives, and writes back. One rule per core, as sPyNNaker requires one synapse dynamics per
/// population.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlasticRows {
    /// The rule, in this core's weight units.
    pub rule: stdp::FixedStdp,
    /// The model's weight per weight unit of this core (to read weights back).
    pub unit: f64,
    /// `row_offsets[r]..row_offsets[r + 1]` are the plastic words of row `r`.
    #[serde(with = "u32_bytes")]
    pub row_offsets: Vec<u32>,
    /// Synaptic words (weight, delay, type, index as static ones).
    #[serde(with = "u32_bytes")]
    pub words: Vec<u32>,
    /// Per word, the synapse it is: `projection << 32 | synapse`, `projection` indexing [`Image::plastic`] and
    /// `synapse` the projection's synapses in row order.
    pub origin: Vec<u64>,
}

impl SynapticMatrix {
    /// The SDRAM the core's synaptic rows take: the static words and row offsets, and for plastic rows their
    /// synapses, offsets and headers.
    pub fn sdram_bytes(&self) -> u64 {
        let plastic = self.plastic.as_ref().map_or(0, |p| {
            let rows = p.row_offsets.len().saturating_sub(1);
            p.words.len() * stdp::PLASTIC_SYNAPSE_BYTES + p.row_offsets.len() * 4 + rows * stdp::ROW_HEADER_BYTES
        });
        (self.words.len() * 4 + self.row_offsets.len() * 4 + plastic) as u64
    }
}

/// The rows of one sending core.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Block {
    /// The sender's key base.
    pub key: u32,
    /// Row of atom 0.
    pub first_row: u32,
    /// Atoms of the sender.
    pub atoms: u32,
}

/// A spike source core.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum SourceCore {
    /// Independent Poisson processes: the core's slice of its source's one train
    /// ([`crate::source::PoissonTrain`] over all the source's channels), so slicing does not change the input.
    Poisson {
        /// Rate per channel, Hz.
        rate: f64,
        /// The source's random stream (with the image seed).
        stream: u64,
    },
    /// Fixed spike stamps per channel.
    Array {
        /// Sorted stamps, one list per channel.
        stamps: Vec<Vec<u32>>,
    },
}

/// A chip's routing table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Router {
    /// Chip coordinates.
    pub chip: (u16, u16),
    /// Entries, matched in order; a packet matching none goes straight through (or is dropped where it was
    /// injected).
    pub entries: Vec<RouteEntry>,
}

/// A routing entry: packets with `key & mask == self.key` go out of every link and to every core of `route`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteEntry {
    /// Key.
    pub key: u32,
    /// Mask.
    pub mask: u32,
    /// Where matching packets go.
    pub route: Route,
}

/// A route word: bit `l` (0-5) is link `l`, bit `6 + p` is core `p`, as SpiNNaker's 32-bit route word
/// (`spinn_machine/router.py`), widened to 192 bits for chips with more than 26 cores (SpiNNaker 2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Route(pub [u64; 3]);

impl Route {
    /// Cores a route word can name.
    pub const MAX_CORES: usize = 192 - 6;

    fn bit(self, i: usize) -> bool {
        self.0[i / 64] >> (i % 64) & 1 == 1
    }

    fn set(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }

    /// Whether packets leave on `link` (0-5).
    pub fn has_link(self, link: usize) -> bool {
        self.bit(link)
    }

    /// Adds a link.
    pub fn add_link(&mut self, link: usize) {
        self.set(link);
    }

    /// Whether core `p` receives packets.
    pub fn has_core(self, p: usize) -> bool {
        p < Self::MAX_CORES && self.bit(6 + p)
    }

    /// Adds a core.
    pub fn add_core(&mut self, p: usize) {
        self.set(6 + p);
    }

    /// Whether the route is exactly one link and no core.
    pub fn is_only_link(self, link: usize) -> bool {
        let mut only = Route::default();
        only.add_link(link);
        self == only
    }

    /// The highest bit set, if any.
    fn highest(self) -> Option<usize> {
        (0..192).rev().find(|&i| self.bit(i))
    }
}

impl Image {
    /// Checks every index and invariant; the message says what is wrong and where.
    pub fn validate(&self) -> Result<(), Invalid> {
        let h = &self.header;
        if !(h.dt.is_finite() && h.dt > 0.0) {
            return Err(format!("header: time step {} is not positive", h.dt).into());
        }
        if !(1..=MAX_RING_SLOTS).contains(&h.delay_slots) {
            return Err(format!("header: {} ring-buffer slots (1..={MAX_RING_SLOTS})", h.delay_slots).into());
        }
        if h.width == 0 || h.height == 0 || h.cores_per_chip < 2 || h.cores_per_chip as usize > Route::MAX_CORES {
            return Err(format!("header: machine size out of range (1..={} cores per chip)", Route::MAX_CORES).into());
        }
        let on_machine = |(x, y): (u16, u16)| x < h.width && y < h.height;
        let mut used = std::collections::HashSet::new();
        let mut keys = std::collections::HashSet::new();
        let mut poisson = std::collections::HashMap::new();
        for (i, c) in self.cores.iter().enumerate() {
            let at = format!("core {i} on chip ({}, {})", c.chip.0, c.chip.1);
            if !on_machine(c.chip) || c.index == 0 || c.index >= h.cores_per_chip {
                return Err(format!("{at}: core {} is not an application core of the machine", c.index).into());
            }
            if !used.insert((c.chip, c.index)) {
                return Err(format!("{at}: core {} is used twice", c.index).into());
            }
            if c.key & !KEY_MASK != 0 || !keys.insert(c.key) {
                return Err(format!("{at}: key {:#x} is not a unique core key", c.key).into());
            }
            let pop = self
                .populations
                .get(c.population as usize)
                .ok_or_else(|| format!("{at}: no population {}", c.population))?;
            let atoms_ok = c.count > 0 && (c.count as u64) < (1u64 << ATOM_BITS);
            if !atoms_ok || c.first as u64 + c.count as u64 > pop.size as u64 {
                return Err(format!(
                    "{at}: atoms {}..{} are not inside `{}`",
                    c.first,
                    c.first as u64 + c.count as u64,
                    pop.name
                )
                .into());
            }
            match &c.kind {
                CoreKind::Neurons(n) => {
                    n.program.check().map_err(|e| format!("{at}: {e}"))?;
                    if n.registers.len() != REGISTERS
                        || n.registers.iter().any(|r| r.len() != 1 && r.len() != c.count as usize)
                    {
                        return Err(format!(
                            "{at}: {REGISTERS} register initialisations of 1 or {} values expected",
                            c.count
                        )
                        .into());
                    }
                    if n.shifts.iter().any(|&s| s > 31) {
                        return Err(format!("{at}: weight shift above 31").into());
                    }
                    let m = &n.synapses;
                    let rows = m.row_offsets.len().saturating_sub(1);
                    if m.row_offsets.first().copied().unwrap_or(0) != 0
                        || m.row_offsets.windows(2).any(|w| w[0] > w[1])
                        || m.row_offsets.last().map_or(0, |&l| l as usize) != m.words.len()
                    {
                        return Err(
                            format!("{at}: row offsets do not index the {} synaptic words", m.words.len()).into()
                        );
                    }
                    for b in &m.blocks {
                        if b.key & !KEY_MASK != 0 || b.first_row as u64 + b.atoms as u64 > rows as u64 {
                            return Err(
                                format!("{at}: block of key {:#x} points outside the {rows} rows", b.key).into()
                            );
                        }
                    }
                    check_words(&m.words, c.count, h.delay_slots).map_err(|e| format!("{at}: {e}"))?;
                    if let Some(p) = &m.plastic {
                        let offsets_ok = p.row_offsets.len() == rows + 1
                            && p.row_offsets.first() == Some(&0)
                            && p.row_offsets.windows(2).all(|w| w[0] <= w[1])
                            && p.row_offsets.last().map(|&l| l as usize) == Some(p.words.len());
                        if !offsets_ok || p.origin.len() != p.words.len() {
                            return Err(format!(
                                "{at}: plastic row offsets and origins do not index the {} plastic words of {rows} rows",
                                p.words.len()
                            )
                            .into());
                        }
                        check_words(&p.words, c.count, h.delay_slots).map_err(|e| format!("{at}: plastic: {e}"))?;
                        if let Some(problem) = p.rule.problem() {
                            return Err(format!("{at}: plastic rule: {problem}").into());
                        }
                        if !(p.unit.is_finite() && p.unit > 0.0) {
                            return Err(format!("{at}: plastic weight unit {}", p.unit).into());
                        }
                        let outside =
                            |&o: &u64| self.plastic.get((o >> 32) as usize).is_none_or(|q| (o as u32) >= q.synapses);
                        if p.origin.iter().any(outside) {
                            return Err(format!("{at}: a plastic word names no synapse of a plastic projection").into());
                        }
                    }
                }
                CoreKind::Source(SourceCore::Poisson { rate, stream }) => {
                    if !(rate.is_finite() && *rate >= 0.0) {
                        return Err(format!("{at}: Poisson rate {rate}").into());
                    }
                    // The slices of one source draw from the source's one train.
                    if let Some((r, s)) = poisson.insert(c.population, (rate.to_bits(), *stream))
                        && (r, s) != (rate.to_bits(), *stream)
                    {
                        return Err(format!("{at}: a slice of `{}` with another rate or stream", pop.name).into());
                    }
                }
                CoreKind::Source(SourceCore::Array { stamps }) => {
                    if stamps.len() != c.count as usize || stamps.iter().any(|s| s.windows(2).any(|w| w[0] > w[1])) {
                        return Err(format!("{at}: spike stamps must be one sorted list per atom").into());
                    }
                }
                CoreKind::DelayExtension { source, stages } => {
                    let src =
                        self.cores.get(*source as usize).ok_or_else(|| format!("{at}: no core {source} to delay"))?;
                    if *stages == 0
                        || (src.count as u64) * (*stages as u64) >= (1u64 << ATOM_BITS)
                        || c.count != src.count
                    {
                        return Err(format!("{at}: {stages} stages of {} atoms do not fit a key", src.count).into());
                    }
                }
            }
        }
        let mut chips = std::collections::HashSet::new();
        for r in &self.routers {
            if !on_machine(r.chip) || !chips.insert(r.chip) {
                return Err(format!("router ({}, {}): not a chip of the machine, or twice", r.chip.0, r.chip.1).into());
            }
            let route_bits = 6 + h.cores_per_chip as usize;
            if let Some(e) =
                r.entries.iter().find(|e| e.route.highest().is_some_and(|b| b >= route_bits) || e.key & !e.mask != 0)
            {
                return Err(format!(
                    "router ({}, {}): entry {:#x}/{:#x} -> {:?} is malformed",
                    r.chip.0, r.chip.1, e.key, e.mask, e.route
                )
                .into());
            }
        }
        Ok(())
    }
}

/// Checks a core's synaptic words: targets among its `count` neurons, delays within the ring.
fn check_words(words: &[u32], count: u32, slots: u8) -> Result<(), String> {
    if let Some(w) = words.iter().find(|&&w| word::index(w) as u32 >= count) {
        return Err(format!("a synapse targets neuron {} of {count}", word::index(*w)));
    }
    if let Some(w) = words.iter().find(|&&w| word::delay(w) > slots) {
        return Err(format!(
            "a synapse's delay of {} steps is longer than the {slots} ring-buffer slots",
            word::delay(*w)
        ));
    }
    Ok(())
}

/// Large `u32` arrays as one little-endian byte string (one length and a copy, instead of one serde call per
/// element).
mod u32_bytes {
    use serde::de::{Error, Visitor};
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[u32], s: S) -> Result<S::Ok, S::Error> {
        let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
        s.serialize_bytes(&bytes)
    }

    struct Words;

    impl Visitor<'_> for Words {
        type Value = Vec<u32>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a byte string of little-endian u32 values")
        }
        fn visit_bytes<E: Error>(self, b: &[u8]) -> Result<Vec<u32>, E> {
            if !b.len().is_multiple_of(4) {
                return Err(E::custom("u32 array of a length that is not a multiple of 4"));
            }
            Ok(b.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
        }
        fn visit_byte_buf<E: Error>(self, b: Vec<u8>) -> Result<Vec<u32>, E> {
            self.visit_bytes(&b)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u32>, D::Error> {
        d.deserialize_bytes(Words)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn words_pack_and_unpack(w in any::<u16>(), d in 1u8..=16, inh in any::<bool>(), i in 0u16..2048) {
            let x = word::pack(w, d, inh, i);
            prop_assert_eq!((word::weight(x), word::delay(x), word::inhibitory(x), word::index(x)), (w, d, inh, i));
        }
    }
}
