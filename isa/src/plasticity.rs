//! Spike-timing-dependent plasticity: the one statement of how a plastic synapse's weight changes, read by the
//! reference simulator (in `f64`) and by every lowering that learns on chip.
//!
//! The rule is pair-based STDP with exponential traces, named as PyNN names it (`STDPMechanism` with a
//! `SpikePairRule` or sPyNNaker's `SpikeNearestPairRule`, and an `AdditiveWeightDependence` or
//! `MultiplicativeWeightDependence`). Each presynaptic neuron keeps a trace `x` that decays with `tau_plus`, each
//! postsynaptic neuron a trace `y` that decays with `tau_minus`; a spike adds one to its trace (all-to-all
//! pairing) or sets it to one (nearest-spike pairing). When a postsynaptic spike meets a synapse, the weight is
//! potentiated by [`Stdp::potentiate`] with the presynaptic trace; when a presynaptic spike does, it is depressed
//! by [`Stdp::depress`] with the postsynaptic trace. Both are taken just before the meeting spike, so a pre and
//! a post spike at the same instant do not pair. With `W = w_max - w_min`:
//!
//! | dependence | potentiation | depression |
//! |---|---|---|
//! | additive | `w + A_plus W x` | `w - A_minus W y` |
//! | multiplicative | `w + A_plus (w_max - w) x` | `w - A_minus (w - w_min) y` |
//!
//! and the result is clipped to `[w_min, w_max]`. A rule may carry a third factor ([`Modulation`]): every step is
//! then multiplied by `m = baseline + gain r`, where `r` is a population's (or a source's) spikes through an
//! exponential filter, as a rate per neuron (Hz), counting the spikes of the steps before the current one. The
//! factor is read when a pair completes: at the postsynaptic spike for potentiation, at the presynaptic one for
//! depression. A negative `m` turns potentiation into depression and back. With `w_min = 0` this is NEST's `stdp_synapse` with
//! `lambda = A_plus`, `alpha = A_minus / A_plus`, `Wmax = w_max` and `mu_plus = mu_minus` = 0 (additive) or 1
//! (multiplicative), the translation PyNN's NEST backend makes.
//!
//! Where a synapse is (the timing convention of NEST and sPyNNaker): a projection's delay is dendritic, so a
//! presynaptic spike sent at `t_pre` meets the synapse at `t_pre` and a postsynaptic spike at `t_post` meets it at
//! `t_post + delay`. Weights are updated when a presynaptic spike arrives (deferred updates): first potentiation
//! by every postsynaptic spike that met the synapse since the previous presynaptic spike, in time order, then
//! depression, and the spike is delivered with the new weight. A weight therefore reflects the postsynaptic
//! spikes up to its synapse's last presynaptic spike, as NEST's and SpiNNaker's do.

use serde::{Deserialize, Serialize};

use crate::instance::Pre;

/// Which spike pairs a rule counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Pairing {
    /// Every pre spike with every post spike (PyNN's `SpikePairRule`): a spike adds one to its trace.
    AllToAll,
    /// Each spike with the nearest spike of the other side before it (sPyNNaker's `SpikeNearestPairRule`,
    /// NEST's `stdp_nn_symm_synapse`): a spike sets its trace to one.
    Nearest,
}

/// How the size of a weight change depends on the weight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Dependence {
    /// Steps independent of the weight (PyNN's `AdditiveWeightDependence`).
    Additive,
    /// Steps proportional to the distance from the bound moved towards (`MultiplicativeWeightDependence`).
    Multiplicative,
}

/// A third factor: the activity of `of` (a population or source: [`Pre`] in an instance) filtered with time
/// constant `tau`, `r_t = r_{t-1} exp(-dt / tau) + spikes_{t-1} / (tau N)`, scales every weight step by
/// `baseline + gain r` (so `gain` is in seconds).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Modulation<N> {
    /// Whose spikes.
    pub of: N,
    /// Filter time constant, seconds.
    pub tau: f64,
    /// Factor per unit rate, seconds.
    pub gain: f64,
    /// Factor at zero rate.
    pub baseline: f64,
}

impl<N> Modulation<N> {
    /// The factor at filtered rate `r` (Hz).
    pub fn factor(&self, r: f64) -> f64 {
        self.baseline + self.gain * r
    }
}

/// A pair-based STDP rule on a projection, with an optional third factor whose node is an `N` (a [`Pre`] in an
/// instance, the IR's node in a network description).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stdp<N = Pre> {
    /// Which spike pairs count.
    pub pairing: Pairing,
    /// Decay time of the presynaptic trace, seconds.
    pub tau_plus: f64,
    /// Decay time of the postsynaptic trace, seconds.
    pub tau_minus: f64,
    /// Potentiation amplitude, a fraction of the weight range per unit trace.
    pub a_plus: f64,
    /// Depression amplitude, a fraction of the weight range per unit trace.
    pub a_minus: f64,
    /// How a step depends on the weight.
    pub dependence: Dependence,
    /// Lowest weight, in the target model's weight unit.
    pub w_min: f64,
    /// Highest weight.
    pub w_max: f64,
    /// The third factor, if any.
    pub modulation: Option<Modulation<N>>,
}

impl<N: Copy> Stdp<N> {
    /// The same rule with its modulator's node translated by `f`.
    pub fn map<M>(&self, f: impl FnOnce(N) -> M) -> Stdp<M> {
        let modulation =
            self.modulation.map(|m| Modulation { of: f(m.of), tau: m.tau, gain: m.gain, baseline: m.baseline });
        Stdp {
            pairing: self.pairing,
            tau_plus: self.tau_plus,
            tau_minus: self.tau_minus,
            a_plus: self.a_plus,
            a_minus: self.a_minus,
            dependence: self.dependence,
            w_min: self.w_min,
            w_max: self.w_max,
            modulation,
        }
    }

    /// A trace just after a spike, from its value just before.
    pub fn after_spike(&self, before: f64) -> f64 {
        match self.pairing {
            Pairing::AllToAll => before + 1.0,
            Pairing::Nearest => 1.0,
        }
    }

    /// The weight after a postsynaptic spike meets the synapse, with presynaptic trace `x` just before it times
    /// the third factor (`x` itself without one).
    pub fn potentiate(&self, w: f64, x: f64) -> f64 {
        let room = match self.dependence {
            Dependence::Additive => self.w_max - self.w_min,
            Dependence::Multiplicative => self.w_max - w,
        };
        (w + self.a_plus * room * x).clamp(self.w_min, self.w_max)
    }

    /// The weight after a presynaptic spike meets the synapse, with postsynaptic trace `y` just before it times
    /// the third factor.
    pub fn depress(&self, w: f64, y: f64) -> f64 {
        let room = match self.dependence {
            Dependence::Additive => self.w_max - self.w_min,
            Dependence::Multiplicative => w - self.w_min,
        };
        (w - self.a_minus * room * y).clamp(self.w_min, self.w_max)
    }

    /// What is wrong with the rule's parameters, if anything: time constants positive and finite, amplitudes
    /// finite and not negative, `w_min < w_max` and both finite.
    pub fn problem(&self) -> Option<String> {
        for (name, tau) in [("tau_plus", self.tau_plus), ("tau_minus", self.tau_minus)] {
            if !(tau.is_finite() && tau > 0.0) {
                return Some(format!("{name} = {tau} s is not positive and finite"));
            }
        }
        for (name, a) in [("A_plus", self.a_plus), ("A_minus", self.a_minus)] {
            if !(a.is_finite() && a >= 0.0) {
                return Some(format!("{name} = {a} is not finite and non-negative"));
            }
        }
        if !(self.w_min.is_finite() && self.w_max.is_finite() && self.w_min < self.w_max) {
            return Some(format!("w_min = {} must be below w_max = {} (both finite)", self.w_min, self.w_max));
        }
        match self.modulation {
            Some(m) if !(m.tau.is_finite() && m.tau > 0.0) => {
                Some(format!("modulation tau = {} s is not positive and finite", m.tau))
            }
            Some(m) if !(m.gain.is_finite() && m.baseline.is_finite()) => {
                Some(format!("modulation gain = {} s and baseline = {} must be finite", m.gain, m.baseline))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(dependence: Dependence) -> Stdp<()> {
        Stdp {
            pairing: Pairing::AllToAll,
            tau_plus: 0.02,
            tau_minus: 0.02,
            a_plus: 0.1,
            a_minus: 0.2,
            dependence,
            w_min: 1.0,
            w_max: 3.0,
            modulation: None,
        }
    }

    #[test]
    fn steps_follow_the_table_and_stay_in_bounds() {
        let add = rule(Dependence::Additive);
        assert!((add.potentiate(2.0, 0.5) - 2.1).abs() < 1e-12);
        assert!((add.depress(2.0, 0.5) - 1.8).abs() < 1e-12);
        assert_eq!(add.potentiate(2.9, 10.0), 3.0);
        assert_eq!(add.depress(1.1, 10.0), 1.0);
        // A negative third factor reverses a step, within the same bounds.
        assert!((add.potentiate(2.0, -0.5) - 1.9).abs() < 1e-12);
        assert_eq!(add.depress(2.9, -10.0), 3.0);
        let mul = rule(Dependence::Multiplicative);
        assert!((mul.potentiate(2.0, 0.5) - 2.05).abs() < 1e-12);
        assert!((mul.depress(2.0, 0.5) - 1.9).abs() < 1e-12);
    }

    #[test]
    fn pairing_decides_how_a_spike_moves_a_trace() {
        assert_eq!(rule(Dependence::Additive).after_spike(0.5), 1.5);
        assert_eq!(Stdp { pairing: Pairing::Nearest, ..rule(Dependence::Additive) }.after_spike(0.5), 1.0);
    }

    #[test]
    fn bad_parameters_are_named() {
        let ok = rule(Dependence::Additive);
        assert_eq!(ok.problem(), None);
        assert!(Stdp { tau_minus: 0.0, ..ok }.problem().is_some_and(|p| p.contains("tau_minus")));
        assert!(Stdp { a_plus: -1.0, ..ok }.problem().is_some_and(|p| p.contains("A_plus")));
        assert!(Stdp { w_max: 1.0, ..ok }.problem().is_some_and(|p| p.contains("w_min")));
        let slow = Modulation { of: (), tau: 0.0, gain: 1.0, baseline: 0.0 };
        assert!(Stdp { modulation: Some(slow), ..ok }.problem().is_some_and(|p| p.contains("modulation tau")));
    }
}
