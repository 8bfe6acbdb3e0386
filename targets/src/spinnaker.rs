//! The SpiNNaker-style family: chips of ARM cores on a 2-D triangular torus, key/mask multicast routers, synaptic
//! rows in SDRAM fetched by DMA per incoming spike, fixed-point neuron updates on a timer.
//!
//! Machine geometry: `boards = 0` is a single chip on its own (py-spinnaker2's `SpiNNaker2Chip`, a single-chip
//! board); one board is the 48-chip SpiNN-5 hexagon (rows of 5, 6, 7, 8, 7, 6, 5, 4 chips, no
//! wrap-around; spinn_machine's board layout); `3k` boards tile a `12a x 12b` torus with `a * b = k` (three boards
//! per 12 x 12 triad). Links are numbered as on the chip: 0 east, 1 north-east, 2 north, 3 west, 4 south-west,
//! 5 south.

use std::collections::{HashMap, VecDeque};

use soma_isa::spinnaker::{Route, RouteEntry};

use crate::Constant;
use crate::constants::whole;

crate::sections! {
    SpiNNaker "A SpiNNaker-style target's parameters."
    /// Chips and the machine.
    machine Machine {
        /// Number of boards (1, or a multiple of 3; 0 for a single chip on its own).
        boards,
        /// Cores per chip.
        cores_per_chip,
        /// Cores per chip reserved for the monitor.
        monitor_cores,
        /// Data memory per core, bytes.
        dtcm_bytes,
        /// Usable SDRAM per chip, bytes.
        sdram_bytes,
        /// Router table entries per chip.
        router_entries,
        /// Multicast packets a link carries per second.
        link_packets_per_s,
        /// Links per router.
        links,
        /// Wall time of one time step over the step's model time (sPyNNaker's `time_scale_factor`): at 20 the
        /// machine runs 20 times slower than real time, so each step has 20 times the cycles and link capacity,
        /// and every power draws for 20 times as long.
        time_scale_factor,
    }
    /// How networks are mapped.
    mapping Mapping {
        /// Neurons per core.
        neurons_per_core,
        /// Delay range of a core's ring buffer, steps.
        delay_slots,
        /// Longest delay with delay-extension cores, steps.
        max_delay_steps,
        /// Standard deviations of headroom in the weight scaling.
        ring_buffer_sigma,
        /// Input rate assumed by the weight scaling, Hz.
        expected_rate_hz,
        /// Spike sources per core.
        sources_per_core,
        /// Bits of a synaptic weight.
        weight_bits,
        /// Bits of the neuron index in a synaptic word.
        index_bits,
        /// How a plastic row writes an updated weight back to its 16 bits: 0 truncates (sPyNNaker), 1 rounds to
        /// the nearest step.
        stdp_rounding,
    }
    /// Cycle costs.
    cycles Cycles {
        /// Per synaptic word processed.
        synaptic_event,
        /// Per neuron per time step.
        neuron_update,
        /// Per synaptic row fetched (DMA set-up and completion).
        row_fetch,
        /// Per 32-bit word transferred by DMA.
        dma_word,
        /// Per multicast packet received.
        packet_receive,
        /// Per plastic synaptic word processed, in place of `synaptic_event`: its deferred update without the
        /// postsynaptic spikes it pairs with, and the ring-buffer add.
        plastic_synapse,
        /// Per postsynaptic spike a plastic synapse pairs with (one potentiation step).
        plastic_pair,
        /// Per plastic row: the presynaptic trace update and the DMA that writes the row back.
        plastic_row,
    }
    /// Performance levels: the clock each core runs at and what a powered core costs there. Chips with dynamic
    /// voltage and frequency scaling (SpiNNaker 2) have several; a chip without it gives the same level three times.
    dvfs Dvfs {
        /// The level every core runs at: 1, 2 or 3; or 0: each core in each step at the lowest level whose clock
        /// fits that step's work, as SpiNNaker 2's software sets each PE's level from its workload every
        /// simulation cycle (Hoeppner et al., IEEE TCAS-I 2019).
        performance_level,
        /// Level 1: core clock, Hz.
        pl1_clock_hz,
        /// Level 1: power of a powered core whether busy or not (leakage, clock tree; sPyNNaker's active core
        /// overhead), W.
        pl1_core_w,
        /// Level 1: energy of a busy core cycle on top of `pl1_core_w`, J.
        pl1_cycle_j,
        /// Level 2: core clock, Hz.
        pl2_clock_hz,
        /// Level 2: power of a powered core, W.
        pl2_core_w,
        /// Level 2: energy of a busy core cycle, J.
        pl2_cycle_j,
        /// Level 3: core clock, Hz.
        pl3_clock_hz,
        /// Level 3: power of a powered core, W.
        pl3_core_w,
        /// Level 3: energy of a busy core cycle, J.
        pl3_cycle_j,
    }
    /// Energy.
    energy Energy {
        /// Idle power per chip, W: charged chip by chip only for machines smaller than a board.
        idle_chip_w,
        /// Idle power of a whole board (its chips, SDRAM and board parts), W: charged per board for machines of
        /// one board or more, as sPyNNaker's board model does.
        idle_board_w,
        /// Per multicast packet, J.
        packet_j,
        /// Per bit through a router, J.
        router_bit_j,
    }
    /// What surrounds the chips when the machine is measured at the wall: the box of a single board or the frames
    /// of a multi-board machine (power supplies, switch, fans). Charged on top of the chip-level ledger for the
    /// system-level total.
    system System {
        /// A single boxed board's overhead over its idle board power (power supply, fans), W.
        box_w,
        /// A frame holding boards of a multi-board machine, idle (its switch and cooling), W.
        frame_idle_w,
        /// A frame's extra power while its boards run, W.
        frame_active_w,
        /// Boards per frame.
        boards_per_frame,
    }
}

impl SpiNNaker {
    pub(crate) fn from_table(table: toml::Table) -> Result<SpiNNaker, crate::ParameterError> {
        let s: SpiNNaker = crate::constants::from_table(table, SpiNNaker::constants)?;
        let boards = whole("machine.boards", &s.machine.boards, 0.0, 3e4)?;
        if boards != 1 && boards % 3 != 0 {
            return Err(crate::ParameterError::Rule(format!(
                "machine.boards must be 0 (a single chip), 1 or a multiple of 3 (boards tile the torus in triads), got {boards}"
            )));
        }
        let cores = whole("machine.cores_per_chip", &s.machine.cores_per_chip, 2.0, 1024.0)?;
        whole("machine.monitor_cores", &s.machine.monitor_cores, 0.0, (cores - 1) as f64)?;
        whole("machine.router_entries", &s.machine.router_entries, 1.0, 1e7)?;
        whole("machine.links", &s.machine.links, 6.0, 6.0)?;
        crate::constants::positive("machine.time_scale_factor", &s.machine.time_scale_factor)?;
        whole("system.boards_per_frame", &s.system.boards_per_frame, 1.0, 1e4)?;
        let index_bits = whole("mapping.index_bits", &s.mapping.index_bits, 1.0, 11.0)?;
        whole("mapping.neurons_per_core", &s.mapping.neurons_per_core, 1.0, (1u64 << index_bits) as f64)?;
        let slots =
            whole("mapping.delay_slots", &s.mapping.delay_slots, 1.0, f64::from(soma_isa::spinnaker::MAX_RING_SLOTS))?;
        whole("mapping.max_delay_steps", &s.mapping.max_delay_steps, slots as f64, 65535.0)?;
        whole("mapping.weight_bits", &s.mapping.weight_bits, 16.0, 16.0)?;
        whole("mapping.sources_per_core", &s.mapping.sources_per_core, 1.0, 4095.0)?;
        whole("mapping.stdp_rounding", &s.mapping.stdp_rounding, 0.0, 1.0)?;
        whole("dvfs.performance_level", &s.dvfs.performance_level, 0.0, 3.0)?;
        for (name, clock) in [
            ("dvfs.pl1_clock_hz", &s.dvfs.pl1_clock_hz),
            ("dvfs.pl2_clock_hz", &s.dvfs.pl2_clock_hz),
            ("dvfs.pl3_clock_hz", &s.dvfs.pl3_clock_hz),
        ] {
            crate::constants::positive(name, clock)?;
        }
        Ok(s)
    }

    /// The three performance levels, level 1 first.
    pub fn levels(&self) -> [Level; 3] {
        let d = &self.dvfs;
        let level = |number, clock: &Constant, core: &Constant, cycle: &Constant| Level {
            number,
            clock_hz: clock.value,
            core_w: core.value,
            cycle_j: cycle.value,
        };
        [
            level(1, &d.pl1_clock_hz, &d.pl1_core_w, &d.pl1_cycle_j),
            level(2, &d.pl2_clock_hz, &d.pl2_core_w, &d.pl2_cycle_j),
            level(3, &d.pl3_clock_hz, &d.pl3_core_w, &d.pl3_cycle_j),
        ]
    }

    /// The level every core runs at, or `None` where each core's level follows its load step by step
    /// (`performance_level = 0`).
    pub fn fixed_level(&self) -> Option<Level> {
        match self.dvfs.performance_level.value as usize {
            0 => None,
            n => Some(self.levels()[n - 1]),
        }
    }

    /// The level whose clock sets a step's budget of cycles: the fixed level, or level 3 where levels follow the
    /// load (a core that needs more than level 3 gives has overrun).
    pub fn level(&self) -> Level {
        self.fixed_level().unwrap_or(self.levels()[2])
    }

    /// Wall time of a time step of `dt` model seconds (`dt x time_scale_factor`): the step's budget of cycles and
    /// link capacity, and the time every power is charged for.
    pub fn step_wall_s(&self, dt: f64) -> f64 {
        dt * self.machine.time_scale_factor.value
    }

    /// What surrounds the chips of a `boards`-board machine: nothing for a single chip, the box of a single board,
    /// the frames that hold a larger machine's boards.
    pub fn enclosure(&self, boards: u32) -> Enclosure {
        match boards {
            0 => Enclosure::None,
            1 => Enclosure::Box,
            n => Enclosure::Frames((f64::from(n) / self.system.boards_per_frame.value).ceil() as u32),
        }
    }

    /// Power of a `boards`-board machine's [`enclosure`](Self::enclosure) while it runs, W (frames idle and active).
    pub fn enclosure_w(&self, boards: u32) -> f64 {
        let s = &self.system;
        match self.enclosure(boards) {
            Enclosure::None => 0.0,
            Enclosure::Box => s.box_w.value,
            Enclosure::Frames(n) => f64::from(n) * (s.frame_idle_w.value + s.frame_active_w.value),
        }
    }

    /// Application cores per chip.
    pub fn app_cores(&self) -> usize {
        (self.machine.cores_per_chip.value - self.machine.monitor_cores.value) as usize
    }

    /// Neurons per core.
    pub fn neurons_per_core(&self) -> usize {
        self.mapping.neurons_per_core.value as usize
    }

    /// The machine's chips for its number of boards.
    pub fn geometry(&self) -> Geometry {
        Geometry::boards(self.machine.boards.value as usize)
    }
}

/// What surrounds a machine's chips at the wall ([`SpiNNaker::enclosure`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Enclosure {
    /// A single chip: nothing modelled around it.
    None,
    /// A single board in its box.
    Box,
    /// This many frames holding the boards.
    Frames(u32),
}

impl Enclosure {
    /// The `[system]` constants its power comes from.
    pub fn constants(self) -> &'static [&'static str] {
        match self {
            Enclosure::None => &[],
            Enclosure::Box => &["system.box_w"],
            Enclosure::Frames(_) => &["system.frame_idle_w", "system.frame_active_w"],
        }
    }
}

/// One performance level: a clock and what a powered core costs at it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Level {
    /// Its number (1, 2 or 3).
    pub number: u8,
    /// Core clock, Hz.
    pub clock_hz: f64,
    /// Power of a powered core for the whole run, busy or not, W.
    pub core_w: f64,
    /// Energy of each busy cycle on top of `core_w`, J.
    pub cycle_j: f64,
}

/// Offsets of the six links: east, north-east, north, west, south-west, south.
pub const LINK_OFFSETS: [(i32, i32); 6] = [(1, 0), (1, 1), (0, 1), (-1, 0), (-1, -1), (0, -1)];

/// The chips of a machine and how they connect.
#[derive(Clone, Debug, PartialEq)]
pub struct Geometry {
    /// Bounding width in chips.
    pub width: usize,
    /// Bounding height in chips.
    pub height: usize,
    /// Whether coordinates wrap around (a torus).
    pub wrap: bool,
    /// `present[y * width + x]`: whether the chip exists.
    present: Vec<bool>,
}

impl Geometry {
    /// The machine of `boards` boards (1, or a multiple of 3; 0 is a single chip on its own).
    pub fn boards(boards: usize) -> Geometry {
        if boards == 0 {
            return Geometry { width: 1, height: 1, wrap: false, present: vec![true] };
        }
        if boards == 1 {
            // The SpiNN-5 hexagon: rows y = 0..7 span x = max(0, y - 3)..=min(7, y + 4).
            let present = (0..64).map(|i| (i % 8) + 3 >= i / 8 && (i % 8) <= (i / 8) + 4).collect();
            return Geometry { width: 8, height: 8, wrap: false, present };
        }
        let triads = boards / 3;
        let a = (1..=triads).filter(|&a| triads.is_multiple_of(a) && a * a <= triads).max().unwrap_or(1);
        let b = triads / a;
        Geometry { width: 12 * a, height: 12 * b, wrap: true, present: vec![true; 144 * triads] }
    }

    /// Whether chip `(x, y)` exists.
    pub fn has(&self, x: usize, y: usize) -> bool {
        x < self.width && y < self.height && self.present[y * self.width + x]
    }

    /// Every chip, in row-major order.
    pub fn chips(&self) -> Vec<(usize, usize)> {
        (0..self.height).flat_map(|y| (0..self.width).map(move |x| (x, y))).filter(|&(x, y)| self.has(x, y)).collect()
    }

    /// The chip across `link` from `(x, y)`, if there is one.
    pub fn neighbour(&self, (x, y): (usize, usize), link: usize) -> Option<(usize, usize)> {
        let (dx, dy) = LINK_OFFSETS[link];
        let (nx, ny) = (x as i64 + dx as i64, y as i64 + dy as i64);
        let (nx, ny) = if self.wrap {
            (nx.rem_euclid(self.width as i64) as usize, ny.rem_euclid(self.height as i64) as usize)
        } else if nx < 0 || ny < 0 {
            return None;
        } else {
            (nx as usize, ny as usize)
        };
        self.has(nx, ny).then_some((nx, ny))
    }
}

/// A link a packet crossed: from `chip` out of `link`, having arrived over hop `parent` (`None` at the source).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hop {
    /// The chip it left.
    pub chip: (usize, usize),
    /// The link it left by.
    pub link: usize,
    /// The hop that brought it to `chip`.
    pub parent: Option<usize>,
}

/// Where a multicast packet went.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Walk {
    /// Links crossed, in breadth-first order (a hop's parent comes before it).
    pub hops: Vec<Hop>,
    /// Cores reached: `(chip, core, hop that brought it there)`.
    pub deliveries: Vec<((usize, usize), usize, Option<usize>)>,
    /// Routers the packet passed through (the source chip's included).
    pub routers: usize,
}

/// Why a packet's walk through the routing tables fails.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WalkError {
    /// The tables send the packet round in a loop.
    #[error("a routing loop for key {key:#x}")]
    Loop {
        /// The packet's key.
        key: u32,
    },
    /// A chip routes the packet over a link that leads off the machine.
    #[error("chip ({}, {}) routes key {key:#x} off the machine", chip.0, chip.1)]
    OffMachine {
        /// The chip.
        chip: (usize, usize),
        /// The packet's key.
        key: u32,
    },
}

/// Follows a packet with `key` injected at `source` through the routing tables: the first matching entry routes
/// it; with no match it goes straight on (leaves by the link opposite to its arrival); a key that its own chip does
/// not route is not sent at all (an empty walk). Errors: a route off the machine, or a loop.
pub fn walk(
    geometry: &Geometry,
    tables: &HashMap<(usize, usize), Vec<RouteEntry>>,
    source: (usize, usize),
    key: u32,
) -> Result<Walk, WalkError> {
    let mut w = Walk::default();
    let mut queue: VecDeque<((usize, usize), Option<usize>)> = VecDeque::from([(source, None)]);
    while let Some((chip, via)) = queue.pop_front() {
        w.routers += 1;
        if w.routers > 1_000_000 {
            return Err(WalkError::Loop { key });
        }
        let entry = tables.get(&chip).and_then(|t| t.iter().find(|e| key & e.mask == e.key));
        let route = match (entry, via) {
            (Some(e), _) => e.route,
            (None, Some(h)) => {
                let mut r = Route::default();
                r.add_link(w.hops[h].link);
                r
            }
            // Nothing at the source routes this key: the core has no targets and sends nothing.
            (None, None) => return Ok(Walk::default()),
        };
        for link in 0..6 {
            if route.has_link(link) {
                let next = geometry.neighbour(chip, link).ok_or(WalkError::OffMachine { chip, key })?;
                w.hops.push(Hop { chip, link, parent: via });
                queue.push_back((next, Some(w.hops.len() - 1)));
            }
        }
        for core in 0..Route::MAX_CORES {
            if route.has_core(core) {
                w.deliveries.push((chip, core, via));
            }
        }
    }
    Ok(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_board_is_the_48_chip_hexagon() {
        let g = Geometry::boards(1);
        assert_eq!(g.chips().len(), 48);
        let rows: Vec<usize> = (0..8).map(|y| (0..8).filter(|&x| g.has(x, y)).count()).collect();
        assert_eq!(rows, [5, 6, 7, 8, 7, 6, 5, 4]);
        assert_eq!(g.neighbour((0, 0), 3), None);
        assert_eq!(g.neighbour((0, 0), 1), Some((1, 1)));
        assert_eq!(g.neighbour((4, 0), 0), None, "(5, 0) is not on the board");
    }

    #[test]
    fn no_boards_is_a_single_chip_without_links() {
        let g = Geometry::boards(0);
        assert_eq!(g.chips(), [(0, 0)]);
        assert!((0..6).all(|l| g.neighbour((0, 0), l).is_none()));
    }

    #[test]
    fn triads_make_tori_and_links_are_symmetric() {
        let g = Geometry::boards(6);
        assert_eq!((g.width, g.height, g.chips().len()), (12, 24, 288));
        assert_eq!(Geometry::boards(3).chips().len(), 144);
        for g in [Geometry::boards(1), Geometry::boards(6)] {
            for c in g.chips() {
                for l in 0..6 {
                    if let Some(n) = g.neighbour(c, l) {
                        assert_eq!(g.neighbour(n, (l + 3) % 6), Some(c), "link {l} from {c:?}");
                    }
                }
            }
        }
    }
}
