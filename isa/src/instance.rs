//! The instantiated network: every neuron, synapse and input made concrete.
//!
//! The compiler's `instantiate` pass turns a network description (whose connectivity is rules plus a seed) into
//! this form; the float reference simulator runs it directly and hardware lowerings start from it, so every
//! target sees exactly the same synapses. Synapses are stored as outgoing rows (CSR by presynaptic neuron) with
//! `u32` targets, `f32` weights and `u16` delays in time steps, which is what a 3e8-synapse network can afford.
//!
//! Invariants (established by the compiler, relied on by consumers):
//! - indices are in range: populations, sources and neurons named by a projection, gap junction, current or
//!   probe exist;
//! - every delay is at least one time step; `dt` is positive and finite;
//! - a projection's receptor exists on its target model;
//! - a plastic projection's rule is well formed and its weights lie within the rule's bounds.

use crate::Invalid;
use serde::{Deserialize, Serialize};

use crate::model::{NeuronModel, Receptor};
use crate::plasticity::Stdp;

/// A whole instantiated network.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Instance {
    /// Simulation time step in seconds.
    pub dt: f64,
    /// Neuron populations, in declaration order.
    pub populations: Vec<PopulationInstance>,
    /// Spike sources, in declaration order.
    pub sources: Vec<SourceInstance>,
    /// Chemical projections.
    pub projections: Vec<ProjectionInstance>,
    /// Electrical synapses.
    pub gap_junctions: Vec<GapInstance>,
    /// Injected currents.
    pub currents: Vec<CurrentInstance>,
    /// State variables to record.
    pub probes: Vec<ProbeInstance>,
    /// The seed everything random was and will be drawn from.
    pub seed: u64,
}

/// A population of identical neurons.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PopulationInstance {
    /// Name, unique among populations and sources.
    pub name: String,
    /// Model and parameters, shared by all neurons.
    pub model: NeuronModel,
    /// Initial membrane potential of each neuron; its length is the population size.
    pub v_init: Vec<f64>,
}

impl PopulationInstance {
    /// Number of neurons.
    pub fn size(&self) -> usize {
        self.v_init.len()
    }
}

/// A population of spike sources.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SourceInstance {
    /// Name, unique among populations and sources.
    pub name: String,
    /// Number of independent channels.
    pub size: usize,
    /// What the channels emit.
    pub kind: SourceKind,
}

/// What a spike source emits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum SourceKind {
    /// Independent Poisson processes at `rate` Hz; a step may carry several spikes (as NEST's
    /// `poisson_generator`). Random stream: `(seed, stream)`.
    Poisson {
        /// Rate per channel in Hz.
        rate: f64,
        /// Random stream of this source.
        stream: u64,
    },
    /// Fixed spike times: for each channel, the sorted stamps of its spikes (a spike at time `t` has the stamp
    /// `round(t / dt)`; with a delay of `d` steps it is read in step `stamp + d - 1`, as a neuron's spike).
    SpikeArray {
        /// Per channel, the spike stamps.
        steps: Vec<Vec<u32>>,
    },
}

/// The presynaptic side of a projection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Pre {
    /// A neuron population (index into [`Instance::populations`]).
    Population(usize),
    /// A spike source (index into [`Instance::sources`]).
    Source(usize),
}

/// Outgoing synapses of each presynaptic neuron.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Rows {
    /// `offsets[i]..offsets[i + 1]` are the synapses of presynaptic neuron `i`; length = pre size + 1.
    pub offsets: Vec<u64>,
    /// Postsynaptic neuron of each synapse.
    pub targets: Vec<u32>,
    /// Weight of each synapse, in the target model's weight unit.
    pub weights: Vec<f32>,
    /// Delay of each synapse in time steps, at least 1.
    pub delays: Vec<u16>,
}

impl Rows {
    /// Number of synapses.
    pub fn len(&self) -> usize {
        self.targets.len()
    }

    /// Whether there are no synapses.
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    /// The presynaptic neuron of each synapse, in synapse order.
    pub fn pres(&self) -> impl Iterator<Item = u32> + '_ {
        self.offsets.windows(2).enumerate().flat_map(|(i, w)| std::iter::repeat_n(i as u32, (w[1] - w[0]) as usize))
    }

    /// The synapse index range of presynaptic neuron `pre`.
    pub fn row(&self, pre: usize) -> std::ops::Range<usize> {
        self.offsets[pre] as usize..self.offsets[pre + 1] as usize
    }

    /// Builds rows from unsorted `(pre, post, weight, delay)` synapses by a stable counting sort on `pre`,
    /// so that synapses of one row keep the order in which they were drawn.
    pub fn from_synapses(pre_size: usize, synapses: &[(u32, u32, f32, u16)]) -> Rows {
        let mut offsets = vec![0u64; pre_size + 1];
        for &(pre, ..) in synapses {
            offsets[pre as usize + 1] += 1;
        }
        for i in 0..pre_size {
            offsets[i + 1] += offsets[i];
        }
        let n = synapses.len();
        let (mut targets, mut weights, mut delays) = (vec![0u32; n], vec![0f32; n], vec![0u16; n]);
        let mut next: Vec<u64> = offsets[..pre_size].to_vec();
        for &(pre, post, w, d) in synapses {
            let at = next[pre as usize] as usize;
            next[pre as usize] += 1;
            targets[at] = post;
            weights[at] = w;
            delays[at] = d;
        }
        Rows { offsets, targets, weights, delays }
    }
}

/// A chemical projection.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProjectionInstance {
    /// Readable name (`pre->post`), for reports.
    pub name: String,
    /// Presynaptic population or source.
    pub pre: Pre,
    /// Postsynaptic population.
    pub post: usize,
    /// The receptor the synapses act on.
    pub receptor: Receptor,
    /// The synapses.
    pub rows: Rows,
    /// The rule that changes the weights while the network runs; `None` for static synapses.
    pub plasticity: Option<Stdp>,
}

/// Symmetric electrical synapses between two populations: each pair `(a, b)` with conductance `g` adds
/// `g (v_b - v_a)` to neuron `a` and `g (v_a - v_b)` to neuron `b`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GapInstance {
    /// First population.
    pub a: usize,
    /// Second population (may equal `a`).
    pub b: usize,
    /// Neuron pairs (index in `a`, index in `b`).
    pub pairs: Vec<(u32, u32)>,
    /// Coupling of each pair.
    pub weights: Vec<f32>,
}

/// A piecewise-constant current injected into the neurons of a population.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CurrentInstance {
    /// Target population.
    pub target: usize,
    /// Sorted steps at which the amplitude changes.
    pub change_steps: Vec<u32>,
    /// Amplitude from the matching change step on (before the first change: zero): one value for every neuron,
    /// or one value per neuron.
    pub amplitudes: Vec<Vec<f64>>,
}

/// A recorded state variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Variable {
    /// Spikes (the neurons' spike times are kept).
    Spikes,
    /// Membrane potential, every step.
    V,
}

/// Record `variable` of some neurons of a population every step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProbeInstance {
    /// Population recorded.
    pub population: usize,
    /// Variable recorded.
    pub variable: Variable,
    /// Neurons recorded.
    pub neurons: Vec<u32>,
}

impl Instance {
    /// Total number of neurons (not counting sources).
    pub fn neuron_count(&self) -> usize {
        self.populations.iter().map(PopulationInstance::size).sum()
    }

    /// Total number of chemical synapses.
    pub fn synapse_count(&self) -> usize {
        self.projections.iter().map(|p| p.rows.len()).sum()
    }

    /// Checks the invariants listed in the module documentation, and that every row table and parameter is well
    /// formed, for an instance read from a file: an instance that passes runs without out-of-range access.
    pub fn validate(&self) -> Result<(), Invalid> {
        if !(self.dt.is_finite() && self.dt > 0.0) {
            return Err(format!("time step {} is not positive and finite", self.dt).into());
        }
        for p in &self.populations {
            for (spec, v) in p.model.kind().params().iter().zip(p.model.values()) {
                if !spec.range.contains(v) {
                    return Err(
                        format!("population {}: {} = {v} is not {}", p.name, spec.name, spec.range.describe()).into()
                    );
                }
            }
            if p.v_init.iter().any(|v| !v.is_finite()) {
                return Err(format!("population {}: an initial potential is not finite", p.name).into());
            }
        }
        for s in &self.sources {
            match &s.kind {
                SourceKind::Poisson { rate, .. } if !(rate.is_finite() && *rate >= 0.0) => {
                    return Err(format!("source {}: rate {rate} is not finite and non-negative", s.name).into());
                }
                SourceKind::SpikeArray { steps } if steps.len() != s.size => {
                    return Err(
                        format!("source {}: {} spike lists for {} channels", s.name, steps.len(), s.size).into()
                    );
                }
                _ => {}
            }
        }
        let pop_size = |i: usize, what: &str| {
            self.populations.get(i).map(PopulationInstance::size).ok_or_else(|| format!("{what}: no population {i}"))
        };
        for pr in &self.projections {
            let pre = match pr.pre {
                Pre::Population(i) => pop_size(i, &pr.name)?,
                Pre::Source(i) => {
                    self.sources.get(i).map(|s| s.size).ok_or_else(|| format!("{}: no source {i}", pr.name))?
                }
            };
            let post = pop_size(pr.post, &pr.name)?;
            let r = &pr.rows;
            let n = r.targets.len();
            if r.offsets.len().checked_sub(1) != Some(pre)
                || r.offsets.first() != Some(&0)
                || r.offsets.last() != Some(&(n as u64))
                || r.offsets.windows(2).any(|w| w[0] > w[1])
                || r.weights.len() != n
                || r.delays.len() != n
            {
                return Err(format!("{}: malformed synapse rows", pr.name).into());
            }
            if r.targets.iter().any(|&t| t as usize >= post) || r.delays.contains(&0) {
                return Err(format!("{}: a synapse targets a missing neuron or has no delay", pr.name).into());
            }
            if r.weights.iter().any(|w| !w.is_finite()) {
                return Err(format!("{}: a weight is not finite", pr.name).into());
            }
            if pr.receptor.index() >= self.populations[pr.post].model.kind().receptors() {
                return Err(format!("{}: the target model has no such receptor", pr.name).into());
            }
            if let Some(rule) = &pr.plasticity {
                let modulator = rule.modulation.map(|m| match m.of {
                    Pre::Population(i) => i < self.populations.len(),
                    Pre::Source(i) => i < self.sources.len(),
                });
                if modulator == Some(false) {
                    return Err(format!("{}: the modulating population or source does not exist", pr.name).into());
                }
                if let Some(problem) = rule.problem() {
                    return Err(format!("{}: {problem}", pr.name).into());
                }
                if r.weights.iter().any(|w| !(rule.w_min as f32..=rule.w_max as f32).contains(w)) {
                    return Err(format!("{}: a plastic weight is outside [w_min, w_max]", pr.name).into());
                }
            }
        }
        for g in &self.gap_junctions {
            let (a, b) = (pop_size(g.a, "gap junction")?, pop_size(g.b, "gap junction")?);
            if g.pairs.len() != g.weights.len() || g.pairs.iter().any(|&(i, j)| i as usize >= a || j as usize >= b) {
                return Err("gap junction: a pair names a missing neuron".into());
            }
        }
        for c in &self.currents {
            let n = pop_size(c.target, "current")?;
            if c.change_steps.len() != c.amplitudes.len()
                || c.amplitudes.iter().any(|a| (a.len() != 1 && a.len() != n) || a.iter().any(|x| !x.is_finite()))
            {
                return Err("current: amplitudes do not match the change steps or the population".into());
            }
        }
        for p in &self.probes {
            let n = pop_size(p.population, "probe")?;
            if p.neurons.iter().any(|&i| i as usize >= n) {
                return Err("probe: a recorded neuron does not exist".into());
            }
        }
        Ok(())
    }

    /// Size of a projection's presynaptic side.
    pub fn pre_size(&self, pre: Pre) -> usize {
        match pre {
            Pre::Population(p) => self.populations[p].size(),
            Pre::Source(s) => self.sources[s].size,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_sorted_by_pre_and_stable() {
        let syn = [(2, 0, 1.0, 1), (0, 5, 2.0, 2), (2, 1, 3.0, 3), (0, 6, 4.0, 4)];
        let rows = Rows::from_synapses(3, &syn);
        assert_eq!(rows.offsets, vec![0, 2, 2, 4]);
        assert_eq!(rows.targets, vec![5, 6, 0, 1]);
        assert_eq!(rows.weights, vec![2.0, 4.0, 1.0, 3.0]);
        assert_eq!(rows.delays, vec![2, 4, 1, 3]);
        assert_eq!(rows.row(1), 2..2);
        assert_eq!(rows.pres().collect::<Vec<_>>(), vec![0, 0, 2, 2]);
    }
}
