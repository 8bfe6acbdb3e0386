//! Plastic projections in the float reference: the rule of [`soma_isa::plasticity`] applied in `f64`, with exact
//! trace decay, as NEST's `stdp_synapse` applies it.
//!
//! Each presynaptic neuron keeps its trace just after its last spike and that spike's stamp; each postsynaptic
//! neuron a history of its spikes with the trace just after each. A presynaptic spike stamped `s` updates its
//! row's weights (deferred updates): a synapse with delay `d` is potentiated by every postsynaptic spike stamped
//! `p` with `last < p + d <= s` (the presynaptic trace decayed from `last` to `p + d`), in stamp order, then
//! depressed with the postsynaptic trace just before `s - d` (spikes stamped `p + d < s`); the spike then
//! carries the new weight. Stamps are the simulator's: a source spike in step `t` is stamped `t`, a neuron's
//! spike `t + 1`, so a stamp times `dt` is the spike's time. Histories are trimmed every [`COMPACT_EVERY`]
//! steps to the spikes some synapse may still pair with.

use std::collections::VecDeque;

use soma_isa::instance::{Pre, Rows};
use soma_isa::plasticity::{Modulation, Stdp};

/// Steps between two trims of the postsynaptic histories.
pub const COMPACT_EVERY: u64 = 1024;

/// No spike yet.
const NEVER: u64 = u64::MAX;

/// `exp(steps * rate)` (`rate = -dt / tau`), tabulated up to where it falls below 1e-30: the table holds the
/// values `exp` gives, so reading it changes no result, only the time (an `exp` per pair was most of it).
struct Decay {
    rate: f64,
    table: Vec<f64>,
}

impl Decay {
    fn new(rate: f64) -> Decay {
        let len = (30.0 * std::f64::consts::LN_10 / -rate).ceil().clamp(1.0, 65536.0) as usize;
        Decay { rate, table: (0..len).map(|k| (k as f64 * rate).exp()).collect() }
    }

    /// The factor over `steps` steps.
    fn over(&self, steps: u64) -> f64 {
        match self.table.get(steps as usize) {
            Some(&f) => f,
            None => (steps as f64 * self.rate).exp(),
        }
    }
}

/// The learning state of one plastic projection.
pub struct Plastic {
    rule: Stdp,
    /// Current weight of every synapse, in row order.
    pub weights: Vec<f64>,
    /// Per presynaptic neuron: the trace just after its last spike, and that spike's stamp.
    pre_trace: Vec<f64>,
    pre_last: Vec<u64>,
    /// Per postsynaptic neuron: `(stamp, trace just after, third factor then)` of its spikes, oldest first.
    history: Vec<VecDeque<(u64, f64, f64)>>,
    /// The third factor now (1 without one), and its filter: `(modulation, decay per step, rate per spike, r)`.
    factor: f64,
    filter: Option<(Modulation<Pre>, f64, f64, f64)>,
    /// How the presynaptic and the postsynaptic trace decay over a number of steps.
    plus: Decay,
    minus: Decay,
}

impl Plastic {
    /// The state before step 0 of a projection with `rows` onto `post_size` neurons, stepped every `dt`; a third
    /// factor's node has `modulator_size` neurons or channels.
    pub fn new(rule: Stdp, rows: &Rows, post_size: usize, modulator_size: usize, dt: f64) -> Plastic {
        let pre_size = rows.offsets.len().saturating_sub(1);
        let filter =
            rule.modulation.map(|m| (m, (-dt / m.tau).exp(), 1.0 / (m.tau * modulator_size.max(1) as f64), 0.0));
        Plastic {
            factor: filter.map_or(1.0, |(m, ..)| m.factor(0.0)),
            filter,
            rule,
            weights: rows.weights.iter().map(|&w| w as f64).collect(),
            pre_trace: vec![0.0; pre_size],
            pre_last: vec![NEVER; pre_size],
            history: vec![VecDeque::new(); post_size],
            plus: Decay::new(-dt / rule.tau_plus),
            minus: Decay::new(-dt / rule.tau_minus),
        }
    }

    /// Records the spikes stamped `stamp` of the postsynaptic `neurons`.
    pub fn post_spikes(&mut self, stamp: u64, neurons: &[u32]) {
        for &n in neurons {
            let history = &mut self.history[n as usize];
            let before = history.back().map_or(0.0, |&(p, y, _)| y * self.minus.over(stamp - p));
            history.push_back((stamp, self.rule.after_spike(before), self.factor));
        }
    }

    /// Ends a step in which the third factor's node spiked `spikes` times (its spikes count from the next step).
    pub fn end_step(&mut self, spikes: u64) {
        if let Some((m, decay, per_spike, r)) = &mut self.filter {
            *r = *r * *decay + spikes as f64 * *per_spike;
            self.factor = m.factor(*r);
        }
    }

    /// The third factor's node, if the rule has one.
    pub fn modulator(&self) -> Option<Pre> {
        self.filter.map(|(m, ..)| m.of)
    }

    /// A spike of presynaptic neuron `pre` stamped `stamp`: updates the weights of its row, calling
    /// `write(synapse, weight, new weight)` with each synapse's weight and the one the rule asks for; `write`
    /// stores the new weight where the weights live (and delivers the spike with it) and returns the weight that
    /// is now held, which the next update starts from.
    pub fn pre_spike(&mut self, rows: &Rows, pre: usize, stamp: u64, mut write: impl FnMut(usize, f64, f64) -> f64) {
        let (last, x_last) = (self.pre_last[pre], self.pre_trace[pre]);
        for syn in rows.row(pre) {
            let d = rows.delays[syn] as u64;
            let history = &self.history[rows.targets[syn] as usize];
            let mut w = self.weights[syn];
            // Postsynaptic spikes meet the synapse at `p + d`; the first index with `p + d > last`.
            let from = if last == NEVER { history.len() } else { history.partition_point(|&(p, ..)| p + d <= last) };
            let mut before = from;
            for &(p, _, m) in history.range(from..) {
                if p + d > stamp {
                    break;
                }
                w = self.rule.potentiate(w, m * x_last * self.plus.over(p + d - last));
                before += 1;
            }
            // The postsynaptic trace just before `stamp - d`: from the last spike with `p + d < stamp`.
            let newest = history.range(..before).rev().find(|&&(p, ..)| p + d < stamp);
            let y = newest.map_or(0.0, |&(p, y, _)| y * self.minus.over(stamp - p - d));
            w = self.rule.depress(w, self.factor * y);
            self.weights[syn] = write(syn, self.weights[syn], w);
        }
        let x = if last == NEVER { 0.0 } else { x_last * self.plus.over(stamp - last) };
        self.pre_trace[pre] = self.rule.after_spike(x);
        self.pre_last[pre] = stamp;
    }

    /// Drops the postsynaptic spikes no synapse can pair with any more, before the spikes of step `now`: a
    /// synapse with delay `d` whose presynaptic neuron last spiked at `last` (or not yet: `now`) still needs the
    /// spikes after `last - d`, and the newest one before (its trace holds all older ones).
    pub fn compact(&mut self, rows: &Rows, now: u64) {
        let mut keep_after = vec![i64::MAX; self.history.len()];
        for (pre, &last) in self.pre_last.iter().enumerate() {
            let from = last.min(now) as i64;
            for syn in rows.row(pre) {
                let post = rows.targets[syn] as usize;
                keep_after[post] = keep_after[post].min(from - rows.delays[syn] as i64 - 1);
            }
        }
        for (history, &after) in self.history.iter_mut().zip(&keep_after) {
            let older = history.partition_point(|&(p, ..)| (p as i64) <= after);
            history.drain(..older.saturating_sub(1));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use soma_isa::plasticity::{Dependence, Pairing};

    const DT: f64 = 1e-4;

    fn rule() -> Stdp {
        Stdp {
            pairing: Pairing::AllToAll,
            tau_plus: 0.02,
            tau_minus: 0.02,
            a_plus: 0.01,
            a_minus: 0.01,
            dependence: Dependence::Additive,
            w_min: 0.0,
            w_max: 1.0,
            modulation: None,
        }
    }

    /// One synapse 0 -> 0 with delay `d` steps and weight 0.5.
    fn one(d: u16) -> Rows {
        Rows { offsets: vec![0, 1], targets: vec![0], weights: vec![0.5], delays: vec![d] }
    }

    fn weight_after(pre: &[u64], post: &[u64], d: u16) -> f64 {
        let rows = one(d);
        let mut plastic = Plastic::new(rule(), &rows, 1, 1, DT);
        let end = pre.iter().chain(post).max().copied().unwrap_or(0);
        for t in 0..=end {
            if post.contains(&t) {
                plastic.post_spikes(t, &[0]);
            }
            if pre.contains(&t) {
                plastic.pre_spike(&rows, 0, t, |_, _, w| w);
            }
        }
        plastic.weights[0]
    }

    #[test]
    fn post_after_pre_potentiates_at_the_next_pre_spike() {
        // Pre at 100, post at 150 meets the synapse at 151 (d = 1): the lag at the synapse is 51 steps.
        let w = weight_after(&[100, 5000], &[150], 1);
        let expected = 0.5 + 0.01 * (-51.0 * DT / 0.02f64).exp() - 0.01 * (-(5000.0 - 151.0) * DT / 0.02f64).exp();
        assert!((w - expected).abs() < 1e-15, "{w} {expected}");
        // Without the second pre spike nothing has been applied yet (deferred update).
        assert_eq!(weight_after(&[100], &[150], 1), 0.5);
    }

    #[test]
    fn pre_after_post_depresses() {
        // Post at 100 meets the synapse at 102 (d = 2); pre at 130: depression with the trace 28 steps old.
        let w = weight_after(&[130], &[100], 2);
        assert!((w - (0.5 - 0.01 * (-28.0 * DT / 0.02f64).exp())).abs() < 1e-15);
    }

    #[test]
    fn spikes_meeting_at_the_same_instant_do_not_pair() {
        // Post at 99 meets the synapse at 100, when the pre spike does.
        assert_eq!(weight_after(&[100], &[99], 1), 0.5);
    }

    #[test]
    fn a_third_factor_scales_each_pair_by_its_value_when_the_pair_completes() {
        // tau = 10 steps, gain 0.01 s, baseline 0.5; the modulator (one neuron) spikes in step 140.
        let m = Modulation { of: Pre::Source(0), tau: 10.0 * DT, gain: 0.01, baseline: 0.5 };
        let rows = one(1);
        let mut plastic = Plastic::new(Stdp { modulation: Some(m), ..rule() }, &rows, 1, 1, DT);
        for t in 0..=5000u64 {
            if t == 150 {
                plastic.post_spikes(t, &[0]);
            }
            if t == 100 || t == 5000 {
                plastic.pre_spike(&rows, 0, t, |_, _, w| w);
            }
            plastic.end_step(u64::from(t == 140));
        }
        let decay = (-0.1f64).exp();
        // At the post spike (step 150): r = 1 / tau decayed over steps 141..149.
        let at_post = 0.5 + 0.01 * (1.0 / (10.0 * DT)) * decay.powi(9);
        let at_flush = 0.5 + 0.01 * (1.0 / (10.0 * DT)) * decay.powi(4859);
        let expected = 0.5 + at_post * 0.01 * (-51.0 * DT / 0.02f64).exp()
            - at_flush * 0.01 * (-(5000.0 - 151.0) * DT / 0.02f64).exp();
        assert!((plastic.weights[0] - expected).abs() < 1e-12, "{} {expected}", plastic.weights[0]);
        assert!(at_post > 1.5, "the factor was large at the post spike: {at_post}");
    }

    #[test]
    fn trimming_keeps_every_spike_a_synapse_can_still_pair_with() {
        let rows = Rows { offsets: vec![0, 1, 2], targets: vec![0, 0], weights: vec![0.5, 0.5], delays: vec![1, 30] };
        let run = |compact: bool| {
            let mut plastic = Plastic::new(rule(), &rows, 1, 1, DT);
            for t in 0..3000u64 {
                if compact && t % 7 == 0 {
                    plastic.compact(&rows, t);
                }
                if t % 13 == 5 {
                    plastic.post_spikes(t, &[0]);
                }
                if t % 101 == 0 {
                    plastic.pre_spike(&rows, 0, t, |_, _, w| w);
                }
                if t % 377 == 3 {
                    plastic.pre_spike(&rows, 1, t, |_, _, w| w);
                }
            }
            (plastic.weights.clone(), plastic.history[0].len())
        };
        let ((kept, short), (all, long)) = (run(true), run(false));
        assert_eq!(kept, all);
        assert!(short < long / 4, "{short} of {long} spikes kept");
    }
}
