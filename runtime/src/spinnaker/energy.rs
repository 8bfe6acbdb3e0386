//! The energy ledger, after sPyNNaker's own model (`compute_energy_used.py` and spinn_machine's board versions)
//! with the per-cycle term a chip with voltage scaling needs: the machine idles for the whole run (a 48-chip
//! board's idle power per board, or chip by chip for a machine smaller than a board), every loaded core draws its
//! performance level's core power for the whole run (for each step, the level of that step where levels follow the
//! load; unloaded cores cost nothing beyond the idle chip), every busy cycle costs its level's energy per cycle
//! (zero on SpiNNaker 1, whose model has no such term), and every multicast packet costs its energy at every router
//! it passes. Those terms are the chip-level total. The
//! system-level total adds the enclosure (a board's box, or the frames of a multi-board machine) for the run.
//! "The run" is the machine's time, the model time times `time_scale_factor`, as `compute_energy_used.py` charges
//! it. The counts behind every term are kept, so a report can show them next to the joules.

use soma_targets::spinnaker::SpiNNaker;

use super::CoreCounters;

/// Energy by term, in joules, with the counts they come from.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Ledger {
    /// The idle machine: `idle_board_w x boards x machine time`, or `idle_chip_w x chips x machine time` below a
    /// board (spinn_machine's `get_idle_energy`).
    pub idle_chips_j: f64,
    /// Loaded cores: `core_w x cores x machine time` at the performance level (with levels following the load,
    /// each level's `core_w` for the steps each core spent at it).
    pub active_cores_j: f64,
    /// Busy cycles: `cycle_j x cycles` at the level each ran at.
    pub core_cycles_j: f64,
    /// Packets: `packet_j x router traversals`.
    pub packets_j: f64,
    /// The enclosure (box or frames) for the machine time: the system-level total's extra term.
    pub enclosure_j: f64,
    /// Chips of the machine.
    pub chips: u64,
    /// Cores loaded.
    pub cores: u64,
    /// Model time, seconds.
    pub model_time_s: f64,
    /// How long the machine ran: model time x `time_scale_factor`, seconds.
    pub machine_time_s: f64,
    /// Router traversals.
    pub router_traversals: u64,
    /// Busy cycles of the loaded cores.
    pub cycles: u64,
    /// Synaptic events.
    pub synaptic_events: u64,
    /// Fraction of the loaded cores' cycles spent busy.
    pub busy_fraction: f64,
}

/// The machine's idle power: per board from one board on, per chip below (spinn_machine `Version5.get_idle_energy`
/// with `n_boards = 0` for sub-board machines).
pub fn idle_w(target: &SpiNNaker, boards: u32, chips: usize) -> f64 {
    let e = &target.energy;
    if boards >= 1 { e.idle_board_w.value * f64::from(boards) } else { e.idle_chip_w.value * chips as f64 }
}

/// Energy of the busy cycles of `counters`, each at the energy per cycle of the level it ran at.
pub fn cycles_j(target: &SpiNNaker, counters: &[CoreCounters]) -> f64 {
    let mut j = 0.0;
    for (l, level) in target.levels().iter().enumerate() {
        let cycles = counters.iter().map(|c| c.level_cycles[l]).sum::<u64>();
        if cycles > 0 {
            j += level.cycle_j * cycles as f64;
        }
    }
    j
}

impl Ledger {
    /// The ledger of a run.
    pub fn new(
        target: &SpiNNaker,
        boards: u32,
        chips: usize,
        counters: &[CoreCounters],
        router_traversals: u64,
        steps: u64,
        dt: f64,
    ) -> Ledger {
        let mut ledger = Ledger::of_cores(target, counters, router_traversals, steps, dt);
        ledger.idle_chips_j = idle_w(target, boards, chips) * ledger.machine_time_s;
        ledger.enclosure_j = target.enclosure_w(boards) * ledger.machine_time_s;
        ledger.chips = chips as u64;
        ledger
    }

    /// The cores' own terms (no idle machine): what a group of `counters` costs, for a population's share.
    pub fn of_cores(
        target: &SpiNNaker,
        counters: &[CoreCounters],
        router_traversals: u64,
        steps: u64,
        dt: f64,
    ) -> Ledger {
        let machine_time = steps as f64 * target.step_wall_s(dt);
        let cores = counters.len() as u64;
        let cycles = counters.iter().map(|c| c.cycles).sum::<u64>();
        let available = cores as f64 * machine_time * target.level().clock_hz;
        // Each level's core power for the core-steps spent at it (in cores, of the whole run).
        let mut active_cores_j = 0.0;
        for (l, level) in target.levels().iter().enumerate() {
            let core_steps = counters.iter().map(|c| c.level_steps[l]).sum::<u64>();
            if core_steps > 0 {
                active_cores_j += level.core_w * (core_steps as f64 / steps as f64) * machine_time;
            }
        }
        Ledger {
            idle_chips_j: 0.0,
            active_cores_j,
            core_cycles_j: cycles_j(target, counters),
            packets_j: target.energy.packet_j.value * router_traversals as f64,
            enclosure_j: 0.0,
            chips: 0,
            cores,
            model_time_s: steps as f64 * dt,
            machine_time_s: machine_time,
            router_traversals,
            cycles,
            synaptic_events: counters.iter().map(|c| c.synaptic_events).sum(),
            busy_fraction: if available > 0.0 { cycles as f64 / available } else { 0.0 },
        }
    }

    /// Chip-level total energy: the machine's own terms.
    pub fn total_j(&self) -> f64 {
        self.idle_chips_j + self.active_cores_j + self.core_cycles_j + self.packets_j
    }

    /// System-level total: the chip-level total and the enclosure.
    pub fn system_j(&self) -> f64 {
        self.total_j() + self.enclosure_j
    }

    /// Chip-level energy per synaptic event (`NaN` without events).
    pub fn per_synaptic_event_j(&self) -> f64 {
        self.total_j() / self.events()
    }

    /// System-level energy per synaptic event (`NaN` without events).
    pub fn system_per_synaptic_event_j(&self) -> f64 {
        self.system_j() / self.events()
    }

    fn events(&self) -> f64 {
        if self.synaptic_events == 0 { f64::NAN } else { self.synaptic_events as f64 }
    }
}
