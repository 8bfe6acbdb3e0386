//! The SpiNNaker-style machine: executes an `isa` image step by step, bit-exact to the isa specification, and
//! counts every operation in cycles and energy.
//!
//! Step `t`: (1) source cores emit the spikes stamped `t` and delay-extension cores re-send what is due; these
//! packets are routed and their rows processed; (2) every neuron core runs its neuron program over its neurons
//! (structure of arrays, cores in parallel), reading ring-buffer slot `t mod 16`; (3) the neurons' spikes are
//! routed and processed. A spike with base `b` (a neuron's spike of step `t`: `b = t`; a source spike stamped `s`:
//! `b = s - 1`) and a synaptic word of delay `d` adds to ring slot `(b + d) mod 16`, read in step `b + d`.
//!
//! Packets follow the routing tables (walked once per sending core at load, first match, default route straight
//! on); each link carries at most `link_packets_per_s x dt` packets per step, and a packet over that budget is
//! dropped with the rest of its subtree. A core whose cycles in a step exceed `dt x clock` has overrun ("timer
//! fell behind"); packets it processes past its budget are counted as late (and still applied).

pub mod energy;

use std::collections::{BTreeMap, HashMap};

use rayon::prelude::*;
use soma_isa::fixed::{Accum, ring_add};
use soma_isa::image::{CoreKind, Image, SourceCore, word};
use soma_isa::program::{Compare, Instr, Operand, Program, REGISTERS};
use soma_isa::rng::Rng;
use soma_targets::spinnaker::{Geometry, SpiNNaker, walk};

pub use energy::Ledger;

/// Slots of a core's ring buffer (its on-core delay range).
const SLOTS: usize = 16;

/// A spike on its way: which core sent it, which atom, and its base step.
#[derive(Clone, Copy, Debug)]
struct Event {
    sender: u32,
    atom: u32,
    base: i64,
}

/// Where one sending core's packets go.
struct Fanout {
    /// Links crossed: `(link id, parent hop)`; link id = `chip index * 6 + link`.
    hops: Vec<(usize, Option<usize>)>,
    /// Receiving cores: `(core index, block index for neuron cores, hop that brings the packet)`.
    deliveries: Vec<(usize, u32, Option<usize>)>,
    /// Routers a packet passes.
    routers: u64,
}

/// Counters of one core.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CoreCounters {
    /// Neuron updates.
    pub neuron_updates: u64,
    /// Synaptic words processed.
    pub synaptic_events: u64,
    /// Rows fetched.
    pub rows: u64,
    /// DMA words transferred.
    pub dma_words: u64,
    /// Packets received.
    pub packets_received: u64,
    /// Packets sent.
    pub packets_sent: u64,
    /// Busy cycles.
    pub cycles: u64,
    /// Steps whose cycles exceeded the budget.
    pub overruns: u64,
    /// Packets processed past the step's budget.
    pub late_packets: u64,
    /// Most cycles in one step.
    pub max_step_cycles: u64,
}

struct NeuronCore {
    count: usize,
    program: Program,
    regs: Vec<Vec<Accum>>,
    refractory: Vec<u32>,
    skip: Vec<u16>,
    in0: Vec<Accum>,
    in1: Vec<Accum>,
    ring: Vec<u16>,
    shifts: [u8; 2],
    incoming: Vec<(u32, u32, i64)>,
    spiked: Vec<u32>,
}

enum CoreState {
    Neurons(Box<NeuronCore>),
    Poisson { rng: Rng, lambda: f64 },
    Array { cursors: Vec<usize> },
    Delay { stages: usize, count: usize, due: BTreeMap<i64, Vec<u32>> },
}

/// A running machine.
pub struct Machine<'a> {
    image: &'a Image,
    cores: Vec<CoreState>,
    fanouts: Vec<Fanout>,
    counters: Vec<CoreCounters>,
    step_cycles: Vec<u64>,
    link_use: Vec<u32>,
    link_capacity: u32,
    budget: u64,
    costs: Costs,
    step: u64,
    /// Packets dropped on congested links.
    pub dropped_packets: u64,
    /// Router traversals of all packets.
    pub router_traversals: u64,
    /// Chips of the machine.
    pub chips: usize,
}

#[derive(Clone, Copy)]
struct Costs {
    neuron_update: u64,
    synaptic_event: u64,
    row_fetch: u64,
    dma_word: u64,
    packet_receive: u64,
}

impl<'a> Machine<'a> {
    /// Prepares `image` for execution on `target` (which must have the image's fingerprint).
    pub fn new(image: &'a Image, target: &SpiNNaker, fingerprint: u64) -> Result<Machine<'a>, String> {
        if image.header.fingerprint != fingerprint {
            return Err(format!(
                "the image was compiled for a different description of `{}` (fingerprint {:016x}, the target's is {fingerprint:016x}); recompile it",
                image.header.target, image.header.fingerprint
            ));
        }
        let geometry = Geometry::boards(image.header.boards as usize);
        if (geometry.width, geometry.height) != (image.header.width as usize, image.header.height as usize) {
            return Err("the image's machine size does not match its board count".into());
        }
        let at: HashMap<((usize, usize), usize), usize> =
            image.cores.iter().enumerate().map(|(i, c)| (((c.chip.0 as usize, c.chip.1 as usize), c.index as usize), i)).collect();
        let tables: HashMap<(usize, usize), Vec<soma_isa::image::RouteEntry>> =
            image.routers.iter().map(|r| ((r.chip.0 as usize, r.chip.1 as usize), r.entries.clone())).collect();
        let chip_index = |(x, y): (usize, usize)| y * geometry.width + x;
        let mut fanouts = Vec::with_capacity(image.cores.len());
        for c in &image.cores {
            let w = walk(&geometry, &tables, (c.chip.0 as usize, c.chip.1 as usize), c.key)?;
            let hops = w.hops.iter().map(|h| (chip_index(h.chip) * 6 + h.link, h.parent)).collect();
            let mut deliveries = Vec::new();
            for &(chip, core, via) in &w.deliveries {
                let Some(&i) = at.get(&(chip, core)) else {
                    return Err(format!("key {:#x} is routed to core {core} of chip ({}, {}), which has no work", c.key, chip.0, chip.1));
                };
                let block = match &image.cores[i].kind {
                    CoreKind::Neurons(n) => match n.synapses.blocks.iter().position(|b| b.key == c.key) {
                        Some(b) => b as u32,
                        None => continue, // routed there but no rows: ignored by the core
                    },
                    _ => u32::MAX,
                };
                deliveries.push((i, block, via));
            }
            fanouts.push(Fanout { hops, deliveries, routers: w.routers as u64 });
        }
        let dt = image.header.dt;
        let cores = image
            .cores
            .iter()
            .map(|c| match &c.kind {
                CoreKind::Neurons(n) => {
                    let count = c.count as usize;
                    let regs = n.registers.iter().map(|r| if r.len() == 1 { vec![r[0]; count] } else { r.clone() }).collect();
                    CoreState::Neurons(Box::new(NeuronCore {
                        count,
                        program: n.program.clone(),
                        regs,
                        refractory: vec![0; count],
                        skip: vec![0; count],
                        in0: vec![Accum::ZERO; count],
                        in1: vec![Accum::ZERO; count],
                        ring: vec![0; SLOTS * 2 * count],
                        shifts: n.shifts,
                        incoming: Vec::new(),
                        spiked: Vec::new(),
                    }))
                }
                CoreKind::Source(SourceCore::Poisson { rate, stream }) => {
                    CoreState::Poisson { rng: Rng::new(image.header.seed, *stream), lambda: rate * dt }
                }
                CoreKind::Source(SourceCore::Array { stamps }) => CoreState::Array { cursors: vec![0; stamps.len()] },
                CoreKind::DelayExtension { stages, .. } => {
                    CoreState::Delay { stages: *stages as usize, count: c.count as usize, due: BTreeMap::new() }
                }
            })
            .collect();
        let clock = target.machine.clock_hz.value;
        Ok(Machine {
            image,
            cores,
            fanouts,
            counters: vec![CoreCounters::default(); image.cores.len()],
            step_cycles: vec![0; image.cores.len()],
            link_use: vec![0; geometry.width * geometry.height * 6],
            link_capacity: (target.machine.link_packets_per_s.value * dt).floor().max(1.0).min(u32::MAX as f64) as u32,
            budget: (clock * dt).floor() as u64,
            costs: Costs {
                neuron_update: target.cycles.neuron_update.value as u64,
                synaptic_event: target.cycles.synaptic_event.value as u64,
                row_fetch: target.cycles.row_fetch.value as u64,
                dma_word: target.cycles.dma_word.value as u64,
                packet_receive: target.cycles.packet_receive.value as u64,
            },
            step: 0,
            dropped_packets: 0,
            router_traversals: 0,
            chips: geometry.chips().len(),
        })
    }

    /// Counters per core (in image order).
    pub fn counters(&self) -> &[CoreCounters] {
        &self.counters
    }

    /// Cycles available per core per step.
    pub fn budget(&self) -> u64 {
        self.budget
    }

    /// The membrane potential (register `v` of the program, as `f64` in the model's fixed units) of a core's
    /// neurons, or `None` for other cores.
    pub fn v(&self, core: usize) -> Option<Vec<f64>> {
        match &self.cores[core] {
            CoreState::Neurons(n) => Some(n.regs[n.program.v_register as usize].iter().map(|a| a.to_f64()).collect()),
            _ => None,
        }
    }

    /// Neurons of a core that spiked in the last step.
    pub fn spiked(&self, core: usize) -> &[u32] {
        match &self.cores[core] {
            CoreState::Neurons(n) => &n.spiked,
            _ => &[],
        }
    }

    /// Advances by one step.
    pub fn advance(&mut self) {
        let t = self.step as i64;
        self.step_cycles.fill(0);
        self.link_use.fill(0);
        // (1) Sources and delay extensions: base t - 1.
        let mut events = Vec::new();
        for (i, core) in self.cores.iter_mut().enumerate() {
            let sender = i as u32;
            match core {
                CoreState::Poisson { rng, lambda } => {
                    for atom in 0..self.image.cores[i].count {
                        for _ in 0..rng.poisson(*lambda) {
                            events.push(Event { sender, atom, base: t - 1 });
                        }
                    }
                }
                CoreState::Array { cursors } => {
                    let CoreKind::Source(SourceCore::Array { stamps }) = &self.image.cores[i].kind else { continue };
                    for (atom, (cursor, list)) in cursors.iter_mut().zip(stamps).enumerate() {
                        while *cursor < list.len() && (list[*cursor] as i64) <= t {
                            if list[*cursor] as i64 == t {
                                events.push(Event { sender, atom: atom as u32, base: t - 1 });
                            }
                            *cursor += 1;
                        }
                    }
                }
                CoreState::Delay { due, .. } => {
                    if let Some(atoms) = due.remove(&(t - 1)) {
                        events.extend(atoms.into_iter().map(|atom| Event { sender, atom, base: t - 1 }));
                    }
                }
                CoreState::Neurons(_) => {}
            }
        }
        self.deliver(&events);
        // (2) Neuron updates, cores in parallel.
        let slot = (self.step as usize) % SLOTS;
        let cost = self.costs.neuron_update;
        self.cores.par_iter_mut().zip(self.step_cycles.par_iter_mut()).for_each(|(core, cycles)| {
            if let CoreState::Neurons(n) = core {
                n.update(slot);
                *cycles += cost * n.count as u64;
            }
        });
        // (3) Neuron spikes: base t.
        let mut events = Vec::new();
        for (i, core) in self.cores.iter().enumerate() {
            if let CoreState::Neurons(n) = core {
                self.counters[i].neuron_updates += n.count as u64;
                events.extend(n.spiked.iter().map(|&atom| Event { sender: i as u32, atom, base: t }));
            }
        }
        self.deliver(&events);
        for (c, &cycles) in self.counters.iter_mut().zip(&self.step_cycles) {
            c.cycles += cycles;
            c.max_step_cycles = c.max_step_cycles.max(cycles);
            if cycles > self.budget {
                c.overruns += 1;
            }
        }
        self.step += 1;
    }

    /// Routes events, counting links, drops and routers, then lets every receiving core process its packets.
    fn deliver(&mut self, events: &[Event]) {
        if events.is_empty() {
            return;
        }
        let mut dropped_hops: Vec<bool> = Vec::new();
        for e in events {
            let f = &self.fanouts[e.sender as usize];
            self.counters[e.sender as usize].packets_sent += 1;
            self.router_traversals += f.routers;
            dropped_hops.clear();
            for &(link, parent) in &f.hops {
                let parent_dropped = parent.is_some_and(|p| dropped_hops[p]);
                let over = !parent_dropped && {
                    self.link_use[link] += 1;
                    self.link_use[link] > self.link_capacity
                };
                if over {
                    self.dropped_packets += 1;
                }
                dropped_hops.push(parent_dropped || over);
            }
            for &(core, block, via) in &f.deliveries {
                if via.is_some_and(|h| dropped_hops[h]) {
                    continue;
                }
                match &mut self.cores[core] {
                    CoreState::Neurons(n) => n.incoming.push((block, e.atom, e.base)),
                    CoreState::Delay { stages, count, due } => {
                        for stage in 1..=*stages {
                            due.entry(e.base + (SLOTS * stage) as i64).or_default().push((stage - 1) as u32 * *count as u32 + e.atom);
                        }
                        self.counters[core].packets_received += 1;
                        self.step_cycles[core] += self.costs.packet_receive;
                    }
                    _ => {}
                }
            }
        }
        let (image, costs, budget) = (self.image, self.costs, self.budget);
        self.cores
            .par_iter_mut()
            .zip(self.counters.par_iter_mut())
            .zip(self.step_cycles.par_iter_mut())
            .enumerate()
            .for_each(|(i, ((core, counters), cycles))| {
                if let CoreState::Neurons(n) = core
                    && !n.incoming.is_empty()
                {
                    let CoreKind::Neurons(spec) = &image.cores[i].kind else { return };
                    let m = &spec.synapses;
                    for &(block, atom, base) in &n.incoming {
                        if *cycles > budget {
                            counters.late_packets += 1;
                        }
                        counters.packets_received += 1;
                        *cycles += costs.packet_receive;
                        let row = (m.blocks[block as usize].first_row + atom) as usize;
                        let words = &m.words[m.row_offsets[row] as usize..m.row_offsets[row + 1] as usize];
                        if words.is_empty() {
                            continue;
                        }
                        let len = words.len() as u64;
                        counters.rows += 1;
                        counters.dma_words += len;
                        counters.synaptic_events += len;
                        *cycles += costs.row_fetch + (costs.dma_word + costs.synaptic_event) * len;
                        for &w in words {
                            let slot = (base + word::delay(w) as i64).rem_euclid(SLOTS as i64) as usize;
                            let at = (slot * 2 + word::inhibitory(w) as usize) * n.count + word::index(w) as usize;
                            n.ring[at] = ring_add(n.ring[at], word::weight(w));
                        }
                    }
                    n.incoming.clear();
                }
            });
    }
}

impl NeuronCore {
    /// Reads this step's inputs and runs the program over every neuron (one instruction at a time over all
    /// neurons; a neuron inside a refractory skip does nothing), bit-exact to `Program::step`.
    fn update(&mut self, slot: usize) {
        let n = self.count;
        for ty in 0..2 {
            let entries = &mut self.ring[(slot * 2 + ty) * n..(slot * 2 + ty + 1) * n];
            let input = if ty == 0 { &mut self.in0 } else { &mut self.in1 };
            for (x, e) in input.iter_mut().zip(entries.iter_mut()) {
                *x = Accum::from_ring(*e, self.shifts[ty]);
                *e = 0;
            }
        }
        self.spiked.clear();
        self.skip.fill(0);
        let (regs, in0, in1) = (&mut self.regs, &self.in0, &self.in1);
        let get = |regs: &Vec<Vec<Accum>>, o: Operand, i: usize| match o {
            Operand::Reg(r) => regs[r as usize][i],
            Operand::In(0) => in0[i],
            Operand::In(_) => in1[i],
            Operand::Const(c) => c,
        };
        for ins in &self.program.code {
            match *ins {
                Instr::Add { dst, a, b } | Instr::Sub { dst, a, b } | Instr::Mul { dst, a, b } => {
                    for i in 0..n {
                        if self.skip[i] > 0 {
                            self.skip[i] -= 1;
                            continue;
                        }
                        let (x, y) = (get(regs, a, i), get(regs, b, i));
                        regs[dst as usize][i] = match ins {
                            Instr::Add { .. } => x.saturating_add(y),
                            Instr::Sub { .. } => x.saturating_sub(y),
                            _ => x.mul_round(y),
                        };
                    }
                }
                Instr::Decay { dst, a, factor } => {
                    for i in 0..n {
                        if self.skip[i] > 0 {
                            self.skip[i] -= 1;
                            continue;
                        }
                        regs[dst as usize][i] = get(regs, a, i).decay(factor);
                    }
                }
                Instr::SkipIfRefractory { n: k } => {
                    for i in 0..n {
                        if self.skip[i] > 0 {
                            self.skip[i] -= 1;
                            continue;
                        }
                        if self.refractory[i] > 0 {
                            self.refractory[i] -= 1;
                            self.skip[i] = k as u16;
                        }
                    }
                }
                Instr::SpikeIf { reg, cmp, threshold, reset, bump_reg, bump, refractory } => {
                    for i in 0..n {
                        if self.skip[i] > 0 {
                            self.skip[i] -= 1;
                            continue;
                        }
                        let (v, th) = (regs[reg as usize][i], get(regs, threshold, i));
                        if match cmp {
                            Compare::Ge => v >= th,
                            Compare::Gt => v > th,
                        } {
                            regs[reg as usize][i] = get(regs, reset, i);
                            if (bump_reg as usize) < REGISTERS {
                                regs[bump_reg as usize][i] = regs[bump_reg as usize][i].saturating_add(bump);
                            }
                            self.refractory[i] = refractory;
                            self.spiked.push(i as u32);
                        }
                    }
                }
            }
        }
    }
}
