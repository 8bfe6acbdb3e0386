//! How far an engine's spikes are from the float reference's on the same instance and seed: rates per
//! population and spike-for-spike agreement within one step, and for an engine that learns, its final weights
//! against the reference's. Every family's `--compare-reference` is this one comparison.
//!
//! A population the reference leaves silent has no relative rate error: it reports the absolute difference in
//! Hz and says the reference is silent, rather than an infinite percentage.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use soma_isa::instance::Instance;
use soma_isa::report::quantity;

use crate::reference::{RunOptions, Simulator, Trace};

/// Spikes as `(step, population, neuron)`.
pub type Spikes = Vec<(u32, u32, u32)>;

/// One population against the reference.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ReferencePopulation {
    /// Name.
    pub name: String,
    /// Reference rate, Hz.
    pub rate_hz: f64,
    /// The engine's rate, Hz.
    pub machine_rate_hz: f64,
    /// Relative rate error, `(machine - reference) / reference`; `None` when the reference is silent and the
    /// engine is not (see [`ReferencePopulation::rate_difference_hz`]).
    pub rate_error: Option<f64>,
    /// `machine - reference`, Hz.
    #[serde(default)]
    pub rate_difference_hz: f64,
    /// Fraction of the reference's spikes matched within one step.
    pub spikes_matched: f64,
}

impl ReferencePopulation {
    /// The rate error as text: a signed percentage, or the difference in Hz where the reference is silent.
    pub fn rate_error_text(&self) -> String {
        match self.rate_error {
            Some(e) => format!("{:+.1}%", e * 100.0),
            None => format!("{:+.3} Hz (reference silent)", self.rate_difference_hz),
        }
    }
}

/// The comparison with the float reference.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Reference {
    /// Per population.
    pub populations: Vec<ReferencePopulation>,
    /// Fraction of the reference's spikes matched by an engine spike of the same neuron within one step.
    pub spikes_matched: f64,
    /// Fraction of the engine's spikes matched by a reference spike within one step.
    pub machine_spikes_matched: f64,
    /// The final weights of each plastic projection the engine learned on, against the reference's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub weights: Vec<ReferenceWeights>,
    /// The reference's traces of the network's `v` probes (SI), for engines that record the same on the hardware;
    /// not part of the report.
    #[serde(skip)]
    pub traces: Vec<Trace>,
}

/// A plastic projection's final weights against the reference's, in the model's weight unit.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ReferenceWeights {
    /// The projection.
    pub projection: String,
    /// The weights' SI unit, empty for a pure number.
    #[serde(default)]
    pub unit: String,
    /// Mean final weight in the reference.
    pub mean_reference: f64,
    /// Mean final weight on the engine.
    pub mean_machine: f64,
    /// Root-mean-square difference over the synapses.
    pub rms_difference: f64,
    /// Largest difference of one synapse.
    pub max_difference: f64,
}

impl Reference {
    /// The mean absolute relative rate error over the populations that have one (`NaN` if none has).
    pub fn mean_rate_error(&self) -> f64 {
        let errors: Vec<f64> = self.populations.iter().filter_map(|p| p.rate_error).map(f64::abs).collect();
        if errors.is_empty() { f64::NAN } else { errors.iter().sum::<f64>() / errors.len() as f64 }
    }

    /// The largest rate difference (Hz, absolute) of the populations the reference leaves silent and the engine
    /// does not (0 if none).
    pub fn silent_reference_hz(&self) -> f64 {
        self.populations
            .iter()
            .filter(|p| p.rate_error.is_none())
            .map(|p| p.rate_difference_hz.abs())
            .fold(0.0, f64::max)
    }

    /// The comparison as text, calling the compared run `machine`.
    pub fn text(&self, machine: &str) -> String {
        let mut s = "against the float reference (same network and seed):\n".to_string();
        for p in &self.populations {
            s += &format!(
                "  {:<14} reference {:>8.3} Hz, {machine} {:>8.3} Hz ({}), {:.1}% of spikes within one step\n",
                p.name,
                p.rate_hz,
                p.machine_rate_hz,
                p.rate_error_text(),
                p.spikes_matched * 100.0
            );
        }
        s += &format!(
            "  spikes matched within one step: {:.1}% of the reference's, {:.1}% of the {machine}'s\n",
            self.spikes_matched * 100.0,
            self.machine_spikes_matched * 100.0
        );
        for w in &self.weights {
            s += &format!(
                "  weights of {}: mean reference {}, {machine} {}; difference rms {}, max {}\n",
                w.projection,
                quantity(w.mean_reference, &w.unit),
                quantity(w.mean_machine, &w.unit),
                quantity(w.rms_difference, &w.unit),
                quantity(w.max_difference, &w.unit)
            );
        }
        s
    }
}

/// Runs the reference simulator on `inst` for `steps` and compares its rates and spike trains with `engine`'s,
/// and the final weights of the plastic projections the engine `learned` (`(projection, weights in synapse
/// order)`) with the reference's.
pub fn against_reference(
    inst: &Instance,
    engine: &[(u32, u32, u32)],
    steps: u64,
    learned: &[(String, Vec<f64>)],
) -> Reference {
    let result = Simulator::new(inst).run(&RunOptions { steps, record_all_spikes: true }, |_| {});
    let duration = steps as f64 * inst.dt;
    let mut reference: HashMap<(u32, u32), Vec<u32>> = HashMap::new();
    for (p, list) in result.spikes.iter().enumerate() {
        for &(t, n) in list {
            reference.entry((p as u32, n)).or_default().push(t);
        }
    }
    let mut machine: HashMap<(u32, u32), Vec<u32>> = HashMap::new();
    for &(t, p, n) in engine {
        machine.entry((p, n)).or_default().push(t);
    }
    let frac = |(h, t): (u64, u64)| if t == 0 { 1.0 } else { h as f64 / t as f64 };
    let populations = inst
        .populations
        .iter()
        .enumerate()
        .map(|(p, pop)| {
            let r = result.spike_counts[p] as f64 / pop.size() as f64 / duration;
            let m = engine.iter().filter(|s| s.1 == p as u32).count() as f64 / pop.size() as f64 / duration;
            ReferencePopulation {
                name: pop.name.clone(),
                rate_hz: r,
                machine_rate_hz: m,
                rate_error: if r > 0.0 {
                    Some((m - r) / r)
                } else if m == 0.0 {
                    Some(0.0)
                } else {
                    None
                },
                rate_difference_hz: m - r,
                spikes_matched: frac(matched(&reference, &machine, Some(p as u32))),
            }
        })
        .collect();
    Reference {
        populations,
        spikes_matched: frac(matched(&reference, &machine, None)),
        machine_spikes_matched: frac(matched(&machine, &reference, None)),
        weights: learned
            .iter()
            .filter_map(|(name, mine)| {
                let theirs = result.learned.iter().find(|l| inst.projections[l.projection].name == *name)?;
                let unit = crate::report::weight_unit(inst, theirs.projection);
                Some(compare_weights(name, unit, &theirs.weights, mine))
            })
            .collect(),
        traces: result.traces,
    }
}

/// Weights `machine` against `reference`, synapse by synapse.
fn compare_weights(projection: &str, unit: &str, reference: &[f64], machine: &[f64]) -> ReferenceWeights {
    let n = reference.len().max(1) as f64;
    let diffs = reference.iter().zip(machine).map(|(r, m)| (m - r).abs());
    ReferenceWeights {
        projection: projection.to_string(),
        unit: unit.to_string(),
        mean_reference: reference.iter().sum::<f64>() / n,
        mean_machine: machine.iter().sum::<f64>() / n,
        rms_difference: (diffs.clone().map(|d| d * d).sum::<f64>() / n).sqrt(),
        max_difference: diffs.fold(0.0, f64::max),
    }
}

/// `(matched, total)` spikes of `a` (of population `pop`, or all) that a spike of `b` of the same neuron within
/// one step matches, each spike of `b` used once.
fn matched(a: &HashMap<(u32, u32), Vec<u32>>, b: &HashMap<(u32, u32), Vec<u32>>, pop: Option<u32>) -> (u64, u64) {
    let (mut hit, mut total) = (0u64, 0u64);
    for (key, times) in a.iter().filter(|(k, _)| pop.is_none_or(|p| k.0 == p)) {
        let other = b.get(key).map(Vec::as_slice).unwrap_or_default();
        let mut used = vec![false; other.len()];
        for &t in times {
            total += 1;
            let lo = other.partition_point(|&x| x + 1 < t);
            if let Some(j) = (lo..other.len()).take_while(|&j| other[j] <= t + 1).find(|&j| !used[j]) {
                used[j] = true;
                hit += 1;
            }
        }
    }
    (hit, total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_silent_reference_gives_the_difference_in_hz_not_an_infinite_error() {
        let p = ReferencePopulation {
            name: "x".into(),
            rate_hz: 0.0,
            machine_rate_hz: 2.5,
            rate_error: None,
            rate_difference_hz: 2.5,
            spikes_matched: 1.0,
        };
        assert_eq!(p.rate_error_text(), "+2.500 Hz (reference silent)");
        let r = Reference {
            populations: vec![p],
            spikes_matched: 1.0,
            machine_spikes_matched: 0.0,
            weights: Vec::new(),
            traces: Vec::new(),
        };
        assert!(r.mean_rate_error().is_nan());
        assert!(!r.text("sfq").contains("inf"));
    }
}
