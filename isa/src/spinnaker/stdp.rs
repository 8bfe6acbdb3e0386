//! STDP on a SpiNNaker core, bit-exact: the fixed-point form of [`crate::plasticity::Stdp`] that a neuron core
//! applies to its plastic synapses, after sPyNNaker's scheme (`synapse_dynamics_stdp_mad_impl.c`,
//! `post_events.h`, `timing_pair_impl.h`, the additive and multiplicative weight dependences).
//!
//! **Traces** are `i16` with [`TRACE_FRACTION_BITS`] = 11 fractional bits (sPyNNaker's `STDP_FIXED_POINT`): one
//! spike is 2048. A trace decays over `k` steps by `(trace * lut[k >> shift]) >> 11` (floor), with
//! `lut[i] = floor(2^11 exp(-(i << shift) dt / tau))` tabulated while it is at least 1 and zero beyond the table
//! (sPyNNaker's `get_exp_lut_array`); `shift` is the smallest that keeps the table within [`MAX_LUT`] entries. A
//! spike then adds 2048, saturating at `i16::MAX` (all-to-all pairing; sPyNNaker's cast would wrap), or sets the
//! trace to 2048 (nearest-spike pairing).
//!
//! **Weights** are the 16-bit magnitudes of the synaptic word, in ring-buffer units. While a row is processed a
//! weight is held as `w << 15` (15 fractional bits, in `i64`); with trace `x` (potentiation) or `y` (depression):
//!
//! | dependence | potentiation | depression |
//! |---|---|---|
//! | additive | `s + ((a_plus x) >> 11)` | `s - ((a_minus y) >> 11)` |
//! | multiplicative | `s + ((((w_max << 15) - s) a_plus >> 15) x >> 11)` | `s - (((s - (w_min << 15)) a_minus >> 15) y >> 11)` |
//!
//! where `a_plus`, `a_minus` have 15 fractional bits (additive: `A (w_max - w_min)` in weight units; multiplicative:
//! `A`), every `>>` is an arithmetic shift (floor), and the result is clamped to `[w_min << 15, w_max << 15]`
//! after every step. The weight written back is `s >> 15` (truncation, as sPyNNaker's `weight_get_final`: a
//! weight loses less than one unit per presynaptic spike, half a unit on average, always downwards) or, with
//! [`WriteBack::Nearest`], `(s + 2^14) >> 15` clamped to `w_max` (an unbiased error of at most half a unit).
//!
//! **Timing** is the reference's (see [`crate::plasticity`]): a presynaptic spike stamped `s` meeting a synapse
//! of delay `d` whose row last spiked at `last` is potentiated by each postsynaptic spike `p` of the history with
//! `last < p + d <= s` (pre trace decayed from `last` to `p + d`), in order, then depressed by the newest one with
//! `p + d < s` (its trace decayed to `s - d`). The history is sPyNNaker's: [`POST_HISTORY`] entries per neuron
//! including a placeholder at time 0; when it is full the oldest spike is dropped (a synapse whose presynaptic
//! neuron is quieter than its postsynaptic one then misses those pairs: a property of the target).

use serde::{Deserialize, Serialize};

use crate::plasticity::{Dependence, Pairing, Stdp};

/// Fractional bits of a trace (sPyNNaker's `STDP_FIXED_POINT`).
pub const TRACE_FRACTION_BITS: u32 = 11;
/// A trace of one spike.
pub const TRACE_ONE: i32 = 1 << TRACE_FRACTION_BITS;
/// Fractional bits of a weight while a row is updated (sPyNNaker's s16.15 `accum`).
pub const WEIGHT_FRACTION_BITS: u32 = 15;
/// Entries of a neuron's postsynaptic history, the placeholder at time 0 included (sPyNNaker's
/// `MAX_POST_SYNAPTIC_EVENTS`).
pub const POST_HISTORY: usize = 16;
/// DTCM bytes of one neuron's postsynaptic history (sPyNNaker's `post_event_history_t`: a count, then 16 times
/// of 32 bits and 16 traces of 16 bits).
pub const POST_HISTORY_BYTES: usize = 4 + POST_HISTORY * (4 + 2);
/// SDRAM bytes of a plastic row's header (sPyNNaker's `pre_event_history_t`: the last time, 32 bits, and the trace,
/// 16 bits, padded to a word).
pub const ROW_HEADER_BYTES: usize = 8;
/// SDRAM bytes of one plastic synapse: its 16-bit weight in the row's plastic region and its 16-bit control word
/// in the fixed region.
pub const PLASTIC_SYNAPSE_BYTES: usize = 4;
/// Most entries of a decay table (8 KiB of DTCM each): with shift 0 it holds time constants up to 537 steps
/// (`4096 / ln 2048`; 53.7 ms at 0.1 ms steps).
pub const MAX_LUT: usize = 4096;
/// Largest additive amplitude (`A (w_max - w_min)`, 15 fractional bits): beyond it a step overflows 64 bits.
pub const MAX_ADDITIVE: i64 = 1 << 40;
/// Largest multiplicative amplitude (`A`, 15 fractional bits).
pub const MAX_MULTIPLICATIVE: i64 = 1 << 24;
/// A row that has not spiked yet.
pub const NEVER: u32 = u32::MAX;

/// An exponential decay table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecayLut {
    /// Steps are shifted right by this before indexing.
    pub shift: u8,
    /// `floor(2^11 exp(-(i << shift) dt / tau))`, while at least 1.
    pub values: Vec<u16>,
}

impl DecayLut {
    /// The table of time constant `tau` at step `dt`.
    pub fn new(dt: f64, tau: f64) -> DecayLut {
        let value =
            |i: usize, shift: u8| ((-(((i as u64) << shift) as f64) * dt / tau).exp() * TRACE_ONE as f64).floor();
        let mut shift = 0u8;
        loop {
            let values: Vec<u16> =
                (0..=MAX_LUT).map(|i| value(i, shift)).take_while(|&v| v >= 1.0).map(|v| v as u16).collect();
            if values.len() <= MAX_LUT || shift >= 31 {
                return DecayLut { shift, values: values.into_iter().take(MAX_LUT).collect() };
            }
            shift += 1;
        }
    }

    /// The decay factor over `steps` steps (11 fractional bits).
    #[inline]
    pub fn factor(&self, steps: u64) -> i32 {
        self.values.get((steps >> self.shift) as usize).map_or(0, |&v| v as i32)
    }

    /// `trace` decayed over `steps` steps.
    #[inline]
    pub fn decay(&self, trace: i16, steps: u64) -> i32 {
        (trace as i32 * self.factor(steps)) >> TRACE_FRACTION_BITS
    }

    fn problem(&self) -> Option<String> {
        if self.values.len() > MAX_LUT || self.shift > 31 || self.values.iter().any(|&v| v as i32 > TRACE_ONE) {
            return Some(format!(
                "a decay table of {} entries (<= {MAX_LUT}, values <= {TRACE_ONE})",
                self.values.len()
            ));
        }
        None
    }
}

/// How an updated weight goes back to its 16 bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum WriteBack {
    /// Drop the fraction (sPyNNaker).
    Truncate,
    /// Round to the nearest unit.
    Nearest,
}

/// A plastic projection's rule on one core, in the core's weight units.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixedStdp {
    /// Which pairs count.
    pub pairing: Pairing,
    /// How a step depends on the weight.
    pub dependence: Dependence,
    /// Decay of the presynaptic trace (`tau_plus`).
    pub plus: DecayLut,
    /// Decay of the postsynaptic trace (`tau_minus`).
    pub minus: DecayLut,
    /// Potentiation amplitude, 15 fractional bits (see the module documentation).
    pub a_plus: i64,
    /// Depression amplitude, 15 fractional bits.
    pub a_minus: i64,
    /// Lowest weight, weight units.
    pub w_min: u16,
    /// Highest weight.
    pub w_max: u16,
    /// How an updated weight is written back.
    pub write_back: WriteBack,
}

/// The header of a plastic row: its presynaptic neuron's last spike and trace just after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PreTrace {
    /// Stamp of the last spike ([`NEVER`]: none yet).
    pub last: u32,
    /// Trace just after it.
    pub trace: i16,
}

impl Default for PreTrace {
    fn default() -> PreTrace {
        PreTrace { last: NEVER, trace: 0 }
    }
}

/// A neuron's postsynaptic history: entry 0 is the placeholder (time 0, trace 0), then its newest spikes, oldest
/// first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PostHistory {
    count: u8,
    times: [u32; POST_HISTORY],
    traces: [i16; POST_HISTORY],
    /// Stamp of the newest spike dropped to make room (0: none; spikes are stamped from 1).
    dropped: u32,
}

impl Default for PostHistory {
    fn default() -> PostHistory {
        PostHistory { count: 1, times: [0; POST_HISTORY], traces: [0; POST_HISTORY], dropped: 0 }
    }
}

impl PostHistory {
    /// The spikes held, oldest first: `(stamp, trace just after)`.
    pub fn spikes(&self) -> impl Iterator<Item = (u32, i16)> + '_ {
        (1..self.count as usize).map(|i| (self.times[i], self.traces[i]))
    }

    /// Adds a spike stamped `stamp` (not older than the newest) with its trace; returns whether the oldest spike
    /// was dropped to make room.
    pub fn push(&mut self, stamp: u32, trace: i16) -> bool {
        let full = self.count as usize == POST_HISTORY;
        if full {
            self.dropped = self.times[1];
            self.times.copy_within(2.., 1);
            self.traces.copy_within(2.., 1);
        } else {
            self.count += 1;
        }
        self.times[self.count as usize - 1] = stamp;
        self.traces[self.count as usize - 1] = trace;
        full
    }

    /// The newest entry (the placeholder when there is no spike).
    fn newest(&self) -> (u32, i16) {
        (self.times[self.count as usize - 1], self.traces[self.count as usize - 1])
    }
}

/// What one synapse update did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Update {
    /// The weight written back.
    pub weight: u16,
    /// Postsynaptic spikes applied (potentiation steps).
    pub pairs: u32,
    /// Whether the synapse missed a pair: a spike it should have paired with was dropped from the history.
    pub missed: bool,
}

impl FixedStdp {
    /// The rule `rule` at step `dt` on weights of `unit` (the rule's weight unit per weight unit of the core),
    /// writing weights back by `write_back`, or why it cannot be represented.
    pub fn new(rule: &Stdp, dt: f64, unit: f64, write_back: WriteBack) -> Result<FixedStdp, String> {
        let (lo, hi) = (rule.w_min / unit, rule.w_max / unit);
        if !(lo >= 0.0 && hi.round() <= 65535.0) {
            return Err(format!(
                "the bounds [{}, {}] are {lo:.1} .. {hi:.1} weight units, outside the 16-bit magnitudes 0..=65535 of one synapse type",
                rule.w_min, rule.w_max
            ));
        }
        let (a_plus, a_minus, limit) = match rule.dependence {
            Dependence::Additive => (rule.a_plus * (hi - lo), rule.a_minus * (hi - lo), MAX_ADDITIVE),
            Dependence::Multiplicative => (rule.a_plus, rule.a_minus, MAX_MULTIPLICATIVE),
        };
        let q = |a: f64, name: &str| {
            let v = (a * (1u64 << WEIGHT_FRACTION_BITS) as f64).round();
            if v.is_finite() && (0.0..=limit as f64).contains(&v) {
                Ok(v as i64)
            } else {
                Err(format!("{name} = {a:e} is too large for the fixed-point rule"))
            }
        };
        Ok(FixedStdp {
            pairing: rule.pairing,
            dependence: rule.dependence,
            plus: DecayLut::new(dt, rule.tau_plus),
            minus: DecayLut::new(dt, rule.tau_minus),
            a_plus: q(a_plus, "A_plus")?,
            a_minus: q(a_minus, "A_minus")?,
            w_min: lo.round() as u16,
            w_max: hi.round() as u16,
            write_back,
        })
    }

    /// DTCM bytes of the decay tables of a rule at step `dt` with these time constants (16 bits per entry),
    /// before the rule is fixed to a core's weights.
    pub fn table_bytes(dt: f64, tau_plus: f64, tau_minus: f64) -> usize {
        2 * (DecayLut::new(dt, tau_plus).values.len() + DecayLut::new(dt, tau_minus).values.len())
    }

    /// What is wrong with the rule, if anything (for image validation).
    pub fn problem(&self) -> Option<String> {
        let limit = match self.dependence {
            Dependence::Additive => MAX_ADDITIVE,
            Dependence::Multiplicative => MAX_MULTIPLICATIVE,
        };
        if !(0..=limit).contains(&self.a_plus) || !(0..=limit).contains(&self.a_minus) {
            return Some(format!("amplitudes {} and {} outside 0..={limit}", self.a_plus, self.a_minus));
        }
        if self.w_min > self.w_max {
            return Some(format!("w_min {} above w_max {}", self.w_min, self.w_max));
        }
        self.plus.problem().or_else(|| self.minus.problem())
    }

    /// A trace just after a spike, from its decayed value just before.
    #[inline]
    pub fn after_spike(&self, decayed: i32) -> i16 {
        match self.pairing {
            Pairing::AllToAll => (decayed + TRACE_ONE).min(i16::MAX as i32) as i16,
            Pairing::Nearest => TRACE_ONE as i16,
        }
    }

    fn bounds(&self) -> (i64, i64) {
        ((self.w_min as i64) << WEIGHT_FRACTION_BITS, (self.w_max as i64) << WEIGHT_FRACTION_BITS)
    }

    /// A potentiation step of state `s` with presynaptic trace `x`.
    #[inline]
    pub fn potentiate(&self, s: i64, x: i32) -> i64 {
        let (lo, hi) = self.bounds();
        let scale = match self.dependence {
            Dependence::Additive => self.a_plus,
            Dependence::Multiplicative => ((hi - s) * self.a_plus) >> WEIGHT_FRACTION_BITS,
        };
        (s + ((scale * x as i64) >> TRACE_FRACTION_BITS)).clamp(lo, hi)
    }

    /// A depression step of state `s` with postsynaptic trace `y`.
    #[inline]
    pub fn depress(&self, s: i64, y: i32) -> i64 {
        let (lo, hi) = self.bounds();
        let scale = match self.dependence {
            Dependence::Additive => self.a_minus,
            Dependence::Multiplicative => ((s - lo) * self.a_minus) >> WEIGHT_FRACTION_BITS,
        };
        (s - ((scale * y as i64) >> TRACE_FRACTION_BITS)).clamp(lo, hi)
    }

    /// The header of a row after its presynaptic neuron spikes at `stamp`.
    pub fn pre_spike(&self, pre: PreTrace, stamp: u32) -> PreTrace {
        let decayed = if pre.last == NEVER { 0 } else { self.plus.decay(pre.trace, (stamp - pre.last) as u64) };
        PreTrace { last: stamp, trace: self.after_spike(decayed) }
    }

    /// Records a postsynaptic spike at `stamp` in `history`; returns whether the oldest spike was dropped.
    pub fn post_spike(&self, history: &mut PostHistory, stamp: u32) -> bool {
        let (p, y) = history.newest();
        let trace = self.after_spike(self.minus.decay(y, (stamp - p) as u64));
        history.push(stamp, trace)
    }

    /// The deferred update of a synapse of weight `weight` and delay `delay` when its row's presynaptic spike
    /// stamped `stamp` arrives, `pre` being the row's header before that spike.
    pub fn update(&self, weight: u16, delay: u32, pre: PreTrace, stamp: u32, post: &PostHistory) -> Update {
        let mut s = (weight as i64) << WEIGHT_FRACTION_BITS;
        let mut pairs = 0;
        let mut newest = None;
        for (p, y) in post.spikes() {
            let at = p as u64 + delay as u64;
            if at > stamp as u64 {
                break;
            }
            if pre.last != NEVER && at > pre.last as u64 {
                s = self.potentiate(s, self.plus.decay(pre.trace, at - pre.last as u64));
                pairs += 1;
            }
            if at < stamp as u64 {
                newest = Some((at, y));
            }
        }
        if let Some((at, y)) = newest {
            s = self.depress(s, self.minus.decay(y, stamp as u64 - at));
        }
        let missed = pre.last != NEVER && post.dropped != 0 && post.dropped as u64 + delay as u64 > pre.last as u64;
        let s = match self.write_back {
            WriteBack::Truncate => s,
            WriteBack::Nearest => (s + (1 << (WEIGHT_FRACTION_BITS - 1))).min(self.bounds().1),
        };
        Update { weight: (s >> WEIGHT_FRACTION_BITS) as u16, pairs, missed }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const DT: f64 = 1e-4;

    fn stdp(dependence: Dependence, pairing: Pairing) -> Stdp<()> {
        Stdp {
            pairing,
            tau_plus: 0.02,
            tau_minus: 0.03,
            a_plus: 0.01,
            a_minus: 0.012,
            dependence,
            w_min: 0.0,
            w_max: 1.0,
            modulation: None,
        }
    }

    /// 1.0 of weight is 40,000 units.
    fn fixed(dependence: Dependence, pairing: Pairing) -> FixedStdp {
        FixedStdp::new(
            &stdp(dependence, pairing).map(|_| crate::instance::Pre::Source(0)),
            DT,
            1.0 / 40_000.0,
            WriteBack::Truncate,
        )
        .expect("representable")
    }

    #[test]
    fn decay_tables_follow_spynnakers_rule() {
        let lut = DecayLut::new(DT, 0.02);
        assert_eq!((lut.shift, lut.values[0]), (0, 2048));
        // Tabulated while at least 1: floor(2048 exp(-k / 200)) >= 1 up to k = 200 ln 2048 = 1524.8.
        assert_eq!(lut.values.len(), 1525);
        assert_eq!(lut.factor(200), (2048.0 * (-1.0f64).exp()).floor() as i32);
        assert_eq!(lut.factor(1525), 0);
        // A long time constant doubles the step of the table until it fits.
        let slow = DecayLut::new(DT, 1.0);
        assert!(slow.shift > 0 && slow.values.len() <= MAX_LUT, "{} {}", slow.shift, slow.values.len());
    }

    #[test]
    fn bounds_and_amplitudes_that_do_not_fit_are_refused() {
        let rule = stdp(Dependence::Additive, Pairing::AllToAll).map(|_| crate::instance::Pre::Source(0));
        let new = |rule: &Stdp, unit: f64| FixedStdp::new(rule, DT, unit, WriteBack::Truncate);
        assert!(new(&rule, 1.0 / 70_000.0).is_err_and(|e| e.contains("0..=65535")));
        assert!(new(&Stdp { w_min: -0.5, ..rule }, 1.0 / 1000.0).is_err_and(|e| e.contains("outside")));
        assert!(new(&Stdp { a_plus: 1e12, ..rule }, 1.0 / 1000.0).is_err_and(|e| e.contains("A_plus")));
    }

    #[test]
    fn a_full_history_drops_its_oldest_spike() {
        let rule = fixed(Dependence::Additive, Pairing::AllToAll);
        let mut h = PostHistory::default();
        for k in 1..POST_HISTORY as u32 {
            assert!(!rule.post_spike(&mut h, k * 10));
        }
        assert!(rule.post_spike(&mut h, 1000));
        let times: Vec<u32> = h.spikes().map(|(t, _)| t).collect();
        assert_eq!(times.len(), POST_HISTORY - 1);
        assert_eq!((times[0], times[times.len() - 1]), (20, 1000));
        // A synapse whose row last spiked at 5 needed the spike at 10 (meeting it at 11): it missed a pair; one
        // whose row spiked at 15 did not.
        let row = |last| rule.pre_spike(PreTrace::default(), last);
        assert!(rule.update(100, 1, row(5), 2000, &h).missed);
        assert!(!rule.update(100, 1, row(15), 2000, &h).missed);
    }

    /// The update written plainly: every spike kept, divisions instead of shifts, `i128`.
    fn plain(rule: &FixedStdp, weight: u16, delay: u32, pre: PreTrace, stamp: u32, post: &[(u32, i16)]) -> u16 {
        let one = 1i128 << WEIGHT_FRACTION_BITS;
        let (lo, hi) = (rule.w_min as i128 * one, rule.w_max as i128 * one);
        let decay = |lut: &DecayLut, trace: i16, k: u64| {
            let i = k / (1u64 << lut.shift);
            let f = if (i as usize) < lut.values.len() { lut.values[i as usize] as i128 } else { 0 };
            (trace as i128 * f).div_euclid(TRACE_ONE as i128)
        };
        let mut s = weight as i128 * one;
        for &(p, _) in post {
            let at = p as u64 + delay as u64;
            if pre.last != NEVER && at > pre.last as u64 && at <= stamp as u64 {
                let x = decay(&rule.plus, pre.trace, at - pre.last as u64);
                let scale = match rule.dependence {
                    Dependence::Additive => rule.a_plus as i128,
                    Dependence::Multiplicative => ((hi - s) * rule.a_plus as i128).div_euclid(one),
                };
                s = (s + (scale * x).div_euclid(TRACE_ONE as i128)).clamp(lo, hi);
            }
        }
        if let Some(&(p, y)) = post.iter().rev().find(|&&(p, _)| (p as u64 + delay as u64) < stamp as u64) {
            let y = decay(&rule.minus, y, stamp as u64 - p as u64 - delay as u64);
            let scale = match rule.dependence {
                Dependence::Additive => rule.a_minus as i128,
                Dependence::Multiplicative => ((s - lo) * rule.a_minus as i128).div_euclid(one),
            };
            s = (s - (scale * y).div_euclid(TRACE_ONE as i128)).clamp(lo, hi);
        }
        match rule.write_back {
            WriteBack::Truncate => s.div_euclid(one) as u16,
            // The nearest unit, halves up, never above w_max.
            WriteBack::Nearest => ((s + one / 2).div_euclid(one) as u16).min(rule.w_max),
        }
    }

    fn rules() -> impl Strategy<Value = FixedStdp> {
        (any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(mul, nearest, round)| FixedStdp {
            write_back: if round { WriteBack::Nearest } else { WriteBack::Truncate },
            ..fixed(
                if mul { Dependence::Multiplicative } else { Dependence::Additive },
                if nearest { Pairing::Nearest } else { Pairing::AllToAll },
            )
        })
    }

    proptest! {
        /// The shifts, clamps and the bounded history give the plain arithmetic's weight while no spike is
        /// dropped.
        #[test]
        fn the_update_is_the_plain_arithmetic(
            rule in rules(),
            weight in 0u16..=40_000,
            delay in 1u32..=16,
            last in prop_oneof![Just(NEVER), 0u32..3000],
            gaps in prop::collection::vec(1u32..400, 0..POST_HISTORY),
            after in 0u32..600,
        ) {
            let mut history = PostHistory::default();
            let mut t = 0;
            for g in &gaps {
                t += g;
                rule.post_spike(&mut history, t);
            }
            let stamp = t + after;
            let pre = if last == NEVER { PreTrace::default() } else { rule.pre_spike(PreTrace::default(), last.min(stamp)) };
            let spikes: Vec<(u32, i16)> = history.spikes().collect();
            let got = rule.update(weight, delay, pre, stamp, &history);
            prop_assert_eq!(got.weight, plain(&rule, weight, delay, pre, stamp, &spikes));
        }

        /// One pairing in fixed point is within the float rule's step times the traces' quantisation, plus the
        /// unit lost by truncation.
        #[test]
        fn one_pair_is_within_the_quantisation_bound_of_the_float_rule(
            mul in any::<bool>(), w in 1_000u16..39_000, lag in 1u32..600, depress in any::<bool>(),
        ) {
            let dependence = if mul { Dependence::Multiplicative } else { Dependence::Additive };
            let (rule, float) = (fixed(dependence, Pairing::AllToAll), stdp(dependence, Pairing::AllToAll));
            let unit = 1.0 / 40_000.0;
            let mut history = PostHistory::default();
            let (got, want) = if depress {
                // Post at 100 meets the synapse (d = 1) at 101; pre at 101 + lag.
                rule.post_spike(&mut history, 100);
                let y = (-(lag as f64) * DT / float.tau_minus).exp();
                (rule.update(w, 1, PreTrace::default(), 101 + lag, &history), float.depress(w as f64 * unit, y))
            } else {
                // Pre at 100; post at 99 + lag meets the synapse at 100 + lag; the next pre at 5000 applies it (and
                // depresses with the post trace 4900 - lag steps old, below one unit here).
                let pre = rule.pre_spike(PreTrace::default(), 100);
                rule.post_spike(&mut history, 99 + lag);
                let x = (-(lag as f64) * DT / float.tau_plus).exp();
                let y = (-((4900 - lag) as f64) * DT / float.tau_minus).exp();
                let up = float.potentiate(w as f64 * unit, x);
                (rule.update(w, 1, pre, 5000, &history), float.depress(up, y))
            };
            // Each floor of a table entry or a product loses < 1/2048 of a trace; a table with a shift reads the
            // decay up to 2^shift - 1 steps early.
            let early = |lut: &DecayLut, tau: f64| ((1u64 << lut.shift) - 1) as f64 * DT / tau;
            let bound = 0.012 * 40_000.0 * (3.0 / TRACE_ONE as f64 + early(&rule.plus, 0.02).max(early(&rule.minus, 0.03))) + 1.0;
            prop_assert!((got.weight as f64 - want / unit).abs() <= bound, "{} {} {}", got.weight, want / unit, bound);
        }
    }
}
