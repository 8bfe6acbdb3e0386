//! The float reference simulator: runs an instantiated network in `f64` on its time grid.
//!
//! Order of work in step `t` (NEST's conventions): sources emit spikes stamped `t` (time `t dt`) and deliver
//! them; every population reads the weights that arrive in step `t` from its ring buffer and advances by one step
//! ([`kernel`]); then the neurons' spikes, stamped `t + 1` (time `(t + 1) dt`), are delivered. A spike stamped
//! `s` with a delay of `d >= 1` steps is read in step `s + d - 1`. Injected and gap-junction currents use the
//! membrane potentials at the start of the step. Poisson sources draw from their own seeded streams, so a run
//! is deterministic per seed.

pub mod kernel;
pub mod plastic;

use std::sync::atomic::{AtomicBool, Ordering};

use soma_isa::instance::{Instance, Pre, SourceKind, Variable};
use soma_isa::source::PoissonTrain;

pub use kernel::State;
use soma_isa::model::Dynamics;

/// Turns a projection's presynaptic spikes into postsynaptic input. Without one, the simulator adds the exact
/// weights; a hardware model (the crossbar's arrays and ADCs) computes the input its own way.
pub trait Synapses {
    /// The input of projection `k` for this step's spikes `(neuron, count)`, in increasing neuron order: pushes
    /// `(delay in steps, postsynaptic neuron, value)` onto `out` (which arrives empty).
    fn deliver(&mut self, k: usize, spikes: &[(u32, u32)], out: &mut Vec<(u16, u32, f64)>);

    /// Called once at the end of every step.
    fn end_step(&mut self) {}

    /// Whether this engine holds the weights of plastic projection `k` itself. If it does, the simulator runs the
    /// rule, asks the engine to [`write`](Synapses::write) every update, and delivers the projection's spikes
    /// through [`deliver`](Synapses::deliver) after the updates; if not, it keeps and delivers them in `f64`.
    fn learns(&self, _k: usize) -> bool {
        false
    }

    /// Writes synapse `synapse` (in row order) of plastic projection `k` from weight `old` towards `new`, the
    /// weight the rule asks for, and returns the weight it now holds.
    fn write(&mut self, _k: usize, _synapse: usize, _old: f64, new: f64) -> f64 {
        new
    }
}

/// The network's spike sources, step by step: Poisson channels draw from their own seeded streams, spike arrays
/// replay their stamps. Every backend that runs an instance takes its input spikes from here, so one seed means
/// the same input everywhere.
pub struct Sources<'a> {
    inst: &'a Instance,
    trains: Vec<Option<PoissonTrain>>,
    /// For each source, a cursor per channel into its spike array.
    cursors: Vec<Vec<usize>>,
    /// Per source, the `(channel, count)` spikes of the last step emitted, in channel order.
    pub spikes: Vec<Vec<(u32, u32)>>,
}

impl<'a> Sources<'a> {
    /// The sources of `inst`, before step 0.
    pub fn new(inst: &'a Instance) -> Sources<'a> {
        let trains = inst
            .sources
            .iter()
            .map(|s| match s.kind {
                SourceKind::Poisson { rate, stream } => {
                    Some(PoissonTrain::new(inst.seed, stream, rate, inst.dt, s.size))
                }
                SourceKind::SpikeArray { .. } => None,
            })
            .collect();
        Sources {
            inst,
            trains,
            cursors: inst.sources.iter().map(|s| vec![0; s.size]).collect(),
            spikes: vec![Vec::new(); inst.sources.len()],
        }
    }

    /// Emits the spikes stamped `t` into [`Sources::spikes`]; steps must be taken in order.
    pub fn emit(&mut self, t: u64) {
        for (k, s) in self.inst.sources.iter().enumerate() {
            let out = &mut self.spikes[k];
            out.clear();
            match &s.kind {
                SourceKind::Poisson { .. } => {
                    if let Some(train) = self.trains[k].as_mut() {
                        train.step(|ch, count| out.push((ch, count)));
                    }
                }
                SourceKind::SpikeArray { steps } => {
                    for (ch, stamps) in steps.iter().enumerate() {
                        let cursor = &mut self.cursors[k][ch];
                        let mut count = 0;
                        while *cursor < stamps.len() && stamps[*cursor] as u64 <= t {
                            if stamps[*cursor] as u64 == t {
                                count += 1;
                            }
                            *cursor += 1;
                        }
                        if count > 0 {
                            out.push((ch as u32, count));
                        }
                    }
                }
            }
        }
    }
}

/// The ring slot a synapse of `delay` steps adds to, from the slot `now` of its spike's stamp: delays are below
/// `slots`, so one subtraction wraps the ring.
#[inline(always)]
fn arrival_slot(now: usize, delay: u16, slots: usize) -> usize {
    let slot = now + delay as usize;
    if slot >= slots { slot - slots } else { slot }
}

/// What to run and record.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Number of time steps.
    pub steps: u64,
    /// Keep every spike of every population (otherwise only of spike-probed populations).
    pub record_all_spikes: bool,
}

/// Recorded spikes of one population: `(step, neuron)`, in time order.
pub type SpikeList = Vec<(u32, u32)>;

/// A recorded state variable of some neurons, every step.
#[derive(Clone, Debug)]
pub struct Trace {
    /// Population index.
    pub population: usize,
    /// Neurons recorded.
    pub neurons: Vec<u32>,
    /// `steps x neurons` values, step-major.
    pub values: Vec<f64>,
}

/// The weights a plastic projection ended with.
#[derive(Clone, Debug, PartialEq)]
pub struct LearnedWeights {
    /// Projection index.
    pub projection: usize,
    /// Every synapse's weight at the end of the run, in row order.
    pub weights: Vec<f64>,
}

/// Chosen synapses of a plastic projection whose weights a run samples ([`Simulator::record_weights`]).
#[derive(Clone, Debug, PartialEq)]
pub struct WeightProbe {
    /// Projection index (a plastic one).
    pub projection: usize,
    /// Synapse indices, in row order (as `--weights` lists them).
    pub synapses: std::ops::Range<usize>,
}

impl WeightProbe {
    /// `PROJECTION` (all its synapses) or `PROJECTION[a..b]` (synapses `a` to `b - 1` in row order): synapses of a
    /// plastic projection of `inst`, or what is wrong with `text`.
    pub fn parse(inst: &Instance, text: &str) -> Result<WeightProbe, String> {
        let (name, range) = match text.split_once('[') {
            Some((name, rest)) => {
                (name.trim(), Some(rest.strip_suffix(']').ok_or("expected PROJECTION[a..b]".to_string())?))
            }
            None => (text.trim(), None),
        };
        let plastic: Vec<&str> =
            inst.projections.iter().filter(|p| p.plasticity.is_some()).map(|p| p.name.as_str()).collect();
        let Some(projection) = inst.projections.iter().position(|p| p.name == name && p.plasticity.is_some()) else {
            return Err(if plastic.is_empty() {
                "the network has no plastic projection".into()
            } else {
                format!("no plastic projection `{name}`; plastic: {}", plastic.join(", "))
            });
        };
        let n = inst.projections[projection].rows.len();
        let synapses = match range {
            None => 0..n,
            Some(r) => {
                let (a, b) = r.split_once("..").ok_or("expected a range a..b".to_string())?;
                let index = |x: &str| x.trim().parse::<usize>().map_err(|_| format!("`{x}` is not a synapse index"));
                let (a, b) = (index(a)?, index(b)?);
                if a >= b || b > n {
                    return Err(format!("{a}..{b} is not a non-empty range within the projection's {n} synapses"));
                }
                a..b
            }
        };
        Ok(WeightProbe { projection, synapses })
    }
}

/// The weights a [`WeightProbe`] sampled.
#[derive(Clone, Debug, PartialEq)]
pub struct WeightTrace {
    /// What was sampled.
    pub probe: WeightProbe,
    /// `samples x synapses` weights, sample-major; sample `k` is taken at the end of step `(k + 1) every - 1`.
    pub values: Vec<f64>,
}

impl WeightTrace {
    /// The time between two samples when none is asked for (`--weight-every`'s default).
    pub const DEFAULT_EVERY: &str = "1ms";

    /// Steps of `dt` between two samples asked for every `every_s` seconds: the nearest whole number, at least 1.
    pub fn every_steps(every_s: f64, dt: f64) -> u64 {
        (every_s / dt).round().max(1.0) as u64
    }

    /// The time of sample `k` of a trace sampled every `every` steps of `dt`, s (the end of its step).
    pub fn time_s(k: usize, every: u64, dt: f64) -> f64 {
        soma_isa::report::step_end_s((k as u64 + 1) * every - 1, dt)
    }

    /// The sampled synapses of `inst`, in the order of each sample's values: `(index in the projection's row
    /// order, pre neuron, post neuron)`.
    pub fn synapses(&self, inst: &Instance) -> Vec<(usize, u32, u32)> {
        let rows = &inst.projections[self.probe.projection].rows;
        let s = self.probe.synapses.clone();
        s.clone().zip(rows.pres().skip(s.start)).map(|(k, pre)| (k, pre, rows.targets[k])).collect()
    }

    /// The samples, one slice of weights per sample time.
    pub fn samples(&self) -> std::slice::Chunks<'_, f64> {
        self.values.chunks(self.probe.synapses.len().max(1))
    }
}

/// What a run produced.
#[derive(Clone, Debug)]
pub struct RunResult {
    /// Steps simulated.
    pub steps: u64,
    /// Spikes per population.
    pub spike_counts: Vec<u64>,
    /// Recorded spikes per population (empty where not recorded).
    pub spikes: Vec<SpikeList>,
    /// Recorded traces, one per V probe.
    pub traces: Vec<Trace>,
    /// Synaptic events delivered (spikes times outgoing synapses).
    pub synaptic_events: u64,
    /// The final weights of every plastic projection, in projection order.
    pub learned: Vec<LearnedWeights>,
    /// The sampled weights of each [`Simulator::record_weights`] probe.
    pub weight_traces: Vec<WeightTrace>,
}

struct Population {
    kernel: Dynamics,
    state: State,
    /// Ring buffer: `slots x receptors x n`.
    ring: Vec<f64>,
    slots: usize,
    receptors: usize,
    /// Per-neuron current this step (gap junctions and per-neuron injected currents); empty if none.
    extra: Vec<f64>,
    /// Injected currents are inputs on receptor 0 (NIR biases into `cuba_*`), added to this step's ring slot.
    current_into_synapse: bool,
    spiked: Vec<u32>,
}

/// A running simulation.
pub struct Simulator<'a> {
    inst: &'a Instance,
    pops: Vec<Population>,
    sources: Sources<'a>,
    /// Outgoing projections of each population and each source.
    out_pop: Vec<Vec<usize>>,
    out_src: Vec<Vec<usize>>,
    /// For each injected current, how many of its change steps have passed.
    current_cursors: Vec<usize>,
    drive: Vec<f64>,
    step: u64,
    synaptic_events: u64,
    synapses: Option<&'a mut dyn Synapses>,
    delivered: Vec<(u16, u32, f64)>,
    /// The learning state of each plastic projection (`None`: static).
    plastic: Vec<Option<plastic::Plastic>>,
    /// Weights to sample, and every how many steps.
    weight_probes: Vec<WeightTrace>,
    weight_every: u64,
    /// Set from elsewhere to end the run early (checked where progress is reported).
    stop: Option<&'a AtomicBool>,
}

impl<'a> Simulator<'a> {
    /// Prepares a run of `inst`.
    pub fn new(inst: &'a Instance) -> Simulator<'a> {
        let mut max_delay = vec![0usize; inst.populations.len()];
        let (mut out_pop, mut out_src) =
            (vec![Vec::new(); inst.populations.len()], vec![Vec::new(); inst.sources.len()]);
        for (k, p) in inst.projections.iter().enumerate() {
            let d = p.rows.delays.iter().copied().max().unwrap_or(1) as usize;
            max_delay[p.post] = max_delay[p.post].max(d);
            match p.pre {
                Pre::Population(i) => out_pop[i].push(k),
                Pre::Source(i) => out_src[i].push(k),
            }
        }
        let pops = inst
            .populations
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let kernel = Dynamics::new(&p.model, inst.dt);
                let state = kernel::state(&kernel, &p.v_init);
                let receptors = p.model.kind().receptors();
                let slots = max_delay[i] + 1;
                let has_extra = inst.gap_junctions.iter().any(|g| g.a == i || g.b == i)
                    || inst.currents.iter().any(|c| c.target == i && c.amplitudes.iter().any(|a| a.len() > 1));
                Population {
                    state,
                    ring: vec![0.0; slots * receptors * p.size()],
                    slots,
                    receptors,
                    extra: if has_extra { vec![0.0; p.size()] } else { Vec::new() },
                    current_into_synapse: matches!(&kernel, Dynamics::Linear(l) if l.current_into_synapse),
                    kernel,
                    spiked: Vec::new(),
                }
            })
            .collect();
        Simulator {
            inst,
            pops,
            sources: Sources::new(inst),
            out_pop,
            out_src,
            current_cursors: vec![0; inst.currents.len()],
            drive: vec![0.0; inst.populations.len()],
            step: 0,
            synaptic_events: 0,
            synapses: None,
            delivered: Vec::new(),
            plastic: inst
                .projections
                .iter()
                .map(|p| {
                    let post = inst.populations[p.post].size();
                    p.plasticity.map(|rule| {
                        let modulator = rule.modulation.map_or(0, |m| inst.pre_size(m.of));
                        plastic::Plastic::new(rule, &p.rows, post, modulator, inst.dt)
                    })
                })
                .collect(),
            weight_probes: Vec::new(),
            weight_every: 1,
            stop: None,
        }
    }

    /// Prepares a run of `inst` whose synaptic input `synapses` computes.
    pub fn with_synapses(inst: &'a Instance, synapses: &'a mut dyn Synapses) -> Simulator<'a> {
        Simulator { synapses: Some(synapses), ..Simulator::new(inst) }
    }

    /// The same simulator, ending its run early (with the steps done so far) once `stop` is set.
    pub fn stop_on(self, stop: Option<&'a AtomicBool>) -> Simulator<'a> {
        Simulator { stop, ..self }
    }

    /// The same simulator, sampling the weights of `probes` every `every` steps (at least 1) into
    /// [`RunResult::weight_traces`]. A probe must name synapses of a plastic projection (static ones do not
    /// change), else it is left out.
    pub fn record_weights(self, probes: Vec<WeightProbe>, every: u64) -> Simulator<'a> {
        let plastic = &self.plastic;
        let weight_probes = probes
            .into_iter()
            .filter(|p| {
                plastic.get(p.projection).is_some_and(|q| q.as_ref().is_some_and(|q| p.synapses.end <= q.weights.len()))
            })
            .map(|probe| WeightTrace { probe, values: Vec::new() })
            .collect();
        Simulator { weight_probes, weight_every: every.max(1), ..self }
    }

    /// Membrane potentials of a population now.
    pub fn v(&self, population: usize) -> &[f64] {
        &self.pops[population].state.v
    }

    /// Neurons of a population that spiked in the last step.
    pub fn spiked(&self, population: usize) -> &[u32] {
        &self.pops[population].spiked
    }

    /// Advances by one step.
    pub fn advance(&mut self) {
        let t = self.step;
        self.update_currents(t);
        self.sources.emit(t);
        // Source spikes are stamped with this step's start, neuron spikes with its end: both are read in step
        // `stamp + delay - 1`.
        self.deliver(t, false);
        for (i, p) in self.pops.iter_mut().enumerate() {
            let n = p.state.v.len();
            let slot = (t % p.slots as u64) as usize;
            let base = slot * p.receptors * n;
            let (inputs, _) = p.ring[base..].split_at_mut(p.receptors * n);
            let views: Vec<&[f64]> = inputs.chunks(n.max(1)).take(p.receptors).collect();
            p.spiked.clear();
            kernel::step(&p.kernel, &mut p.state, &views, self.drive[i], &p.extra, &mut p.spiked);
            p.ring[base..base + p.receptors * n].fill(0.0);
        }
        for (k, plastic) in self.plastic.iter_mut().enumerate() {
            if let Some(plastic) = plastic {
                let rows = &self.inst.projections[k].rows;
                if t.is_multiple_of(plastic::COMPACT_EVERY) {
                    plastic.compact(rows, t);
                }
                plastic.post_spikes(t + 1, &self.pops[self.inst.projections[k].post].spiked);
            }
        }
        self.deliver(t, true);
        if let Some(synapses) = self.synapses.as_mut() {
            synapses.end_step();
        }
        for plastic in self.plastic.iter_mut().flatten() {
            let spikes = match plastic.modulator() {
                None => 0,
                Some(Pre::Population(i)) => self.pops[i].spiked.len() as u64,
                Some(Pre::Source(i)) => self.sources.spikes[i].iter().map(|&(_, count)| count as u64).sum(),
            };
            plastic.end_step(spikes);
        }
        self.step += 1;
    }

    /// Injected currents (uniform ones into `drive`, per-neuron ones into `extra`) and gap-junction currents
    /// from the membrane potentials at the start of the step.
    fn update_currents(&mut self, t: u64) {
        self.drive.fill(0.0);
        for p in self.pops.iter_mut().filter(|p| !p.extra.is_empty()) {
            p.extra.fill(0.0);
        }
        for (spec, passed) in self.inst.currents.iter().zip(&mut self.current_cursors) {
            while *passed < spec.change_steps.len() && spec.change_steps[*passed] as u64 <= t {
                *passed += 1;
            }
            if *passed == 0 {
                continue;
            }
            let amplitudes = spec.amplitudes[*passed - 1].as_slice();
            let p = &mut self.pops[spec.target];
            if p.current_into_synapse {
                // This step's input on receptor 0 (the slot is read later in this step).
                let n = p.state.v.len();
                let base = (t % p.slots as u64) as usize * p.receptors * n;
                for (k, x) in p.ring[base..base + n].iter_mut().enumerate() {
                    *x += if amplitudes.len() == 1 { amplitudes[0] } else { amplitudes[k] };
                }
                continue;
            }
            match amplitudes {
                [uniform] => self.drive[spec.target] += uniform,
                per_neuron => {
                    for (e, a) in p.extra.iter_mut().zip(per_neuron) {
                        *e += a;
                    }
                }
            }
        }
        for g in &self.inst.gap_junctions {
            for (&(i, j), &w) in g.pairs.iter().zip(&g.weights) {
                let (va, vb) = (self.pops[g.a].state.v[i as usize], self.pops[g.b].state.v[j as usize]);
                let w = w as f64;
                self.pops[g.a].extra[i as usize] += w * (vb - va);
                self.pops[g.b].extra[j as usize] += w * (va - vb);
            }
        }
    }

    /// Delivers the spikes of this step's neurons (`from_neurons`, stamped `t + 1`) or sources (stamped `t`):
    /// a spike stamped `s` with a delay of `d` steps goes to the ring slot read in step `s + d - 1`.
    fn deliver(&mut self, t: u64, from_neurons: bool) {
        let inst = self.inst;
        let mut events = 0u64;
        let mut spikes: Vec<(u32, u32)> = Vec::new();
        let outs = if from_neurons { &self.out_pop } else { &self.out_src };
        for (i, projections) in outs.iter().enumerate() {
            if projections.is_empty() {
                continue;
            }
            spikes.clear();
            if from_neurons {
                spikes.extend(self.pops[i].spiked.iter().map(|&n| (n, 1)));
            } else {
                spikes.extend_from_slice(&self.sources.spikes[i]);
            }
            for &k in projections {
                let proj = &inst.projections[k];
                let post = &mut self.pops[proj.post];
                let n = post.state.v.len();
                let r = proj.receptor.index().min(post.receptors - 1);
                let (slots, stride) = (post.slots, post.receptors * n);
                // The slot of step `stamp - 1`; adding the delay (1..slots) gives the arrival slot.
                let now = ((t + slots as u64 - u64::from(!from_neurons)) % slots as u64) as usize;
                let ring = &mut post.ring[r * n..];
                let rows = &proj.rows;
                if let Some(plastic) = self.plastic[k].as_mut() {
                    // Stamps as the module documentation says; the spike carries the updated weights.
                    let stamp = t + u64::from(from_neurons);
                    let engine_learns = self.synapses.as_ref().is_some_and(|s| s.learns(k));
                    if let Some(synapses) = self.synapses.as_mut().filter(|_| engine_learns) {
                        for &(neuron, count) in &spikes {
                            for _ in 0..count {
                                plastic.pre_spike(rows, neuron as usize, stamp, |s, old, new| {
                                    synapses.write(k, s, old, new)
                                });
                            }
                        }
                    } else {
                        for &(neuron, count) in &spikes {
                            events += rows.row(neuron as usize).len() as u64 * count as u64;
                            for _ in 0..count {
                                plastic.pre_spike(rows, neuron as usize, stamp, |s, _, w| {
                                    let slot = arrival_slot(now, rows.delays[s], slots);
                                    ring[slot * stride + rows.targets[s] as usize] += w;
                                    w
                                });
                            }
                        }
                        continue;
                    }
                }
                if let Some(synapses) = self.synapses.as_mut() {
                    self.delivered.clear();
                    synapses.deliver(k, &spikes, &mut self.delivered);
                    for &(delay, target, value) in &self.delivered {
                        let slot = (now + delay as usize) % slots;
                        ring[slot * stride + target as usize] += value;
                    }
                    events += spikes
                        .iter()
                        .map(|&(neuron, count)| rows.row(neuron as usize).len() as u64 * count as u64)
                        .sum::<u64>();
                    continue;
                }
                for &(neuron, count) in &spikes {
                    let range = rows.row(neuron as usize);
                    events += (range.len() as u64) * count as u64;
                    let count = count as f64;
                    for s in range {
                        let slot = arrival_slot(now, rows.delays[s], slots);
                        ring[slot * stride + rows.targets[s] as usize] += rows.weights[s] as f64 * count;
                    }
                }
            }
        }
        self.synaptic_events += events;
    }

    /// Runs the whole simulation, calling `progress(done_steps)` now and then; a run stopped early
    /// ([`Simulator::stop_on`]) returns the steps it did (`RunResult::steps`).
    pub fn run(mut self, opts: &RunOptions, mut progress: impl FnMut(u64)) -> RunResult {
        let inst = self.inst;
        let record: Vec<bool> = (0..inst.populations.len())
            .map(|i| {
                opts.record_all_spikes
                    || inst.probes.iter().any(|p| p.population == i && p.variable == Variable::Spikes)
            })
            .collect();
        let mut spikes = vec![Vec::new(); inst.populations.len()];
        let mut counts = vec![0u64; inst.populations.len()];
        let mut traces: Vec<Trace> = inst
            .probes
            .iter()
            .filter(|p| p.variable == Variable::V)
            .map(|p| Trace {
                population: p.population,
                neurons: p.neurons.clone(),
                values: Vec::with_capacity(p.neurons.len() * opts.steps as usize),
            })
            .collect();
        let mut done = opts.steps;
        for t in 0..opts.steps {
            self.advance();
            for (i, p) in self.pops.iter().enumerate() {
                counts[i] += p.spiked.len() as u64;
                if record[i] {
                    spikes[i].extend(p.spiked.iter().map(|&n| (t as u32, n)));
                }
            }
            for tr in &mut traces {
                let v = &self.pops[tr.population].state.v;
                tr.values.extend(tr.neurons.iter().map(|&n| v[n as usize]));
            }
            if (t + 1).is_multiple_of(self.weight_every) {
                for w in &mut self.weight_probes {
                    if let Some(p) = &self.plastic[w.probe.projection] {
                        w.values.extend_from_slice(&p.weights[w.probe.synapses.clone()]);
                    }
                }
            }
            if t % 1000 == 999 {
                progress(t + 1);
                if self.stop.is_some_and(|s| s.load(Ordering::Relaxed)) {
                    done = t + 1;
                    break;
                }
            }
        }
        progress(done);
        let learned = self
            .plastic
            .into_iter()
            .enumerate()
            .filter_map(|(projection, p)| Some(LearnedWeights { projection, weights: p?.weights }))
            .collect();
        RunResult {
            steps: done,
            spike_counts: counts,
            spikes,
            traces,
            synaptic_events: self.synaptic_events,
            learned,
            weight_traces: self.weight_probes,
        }
    }
}
