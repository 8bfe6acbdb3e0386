//! Fixed-point arithmetic of the SpiNNaker-style target, specified here and in `docs/isa.md`, checked by property
//! tests against plain `i64`/`i128` arithmetic.
//!
//! - [`Accum`]: signed 16.15 (`i32`, value = raw / 2^15), as the ARM's `accum` in sPyNNaker. Range
//!   [-65536, 65536 - 2^-15]. Addition and subtraction saturate; multiplication rounds to nearest (ties toward
//!   +infinity) and saturates; conversion from `f64` rounds to nearest and saturates.
//! - [`Decay`]: unsigned 0.32 (`u32`, value = raw / 2^32, in [0, 1)), for factors such as `exp(-dt/tau)`.
//!   `Accum x Decay` rounds to nearest (ties toward +infinity) and cannot overflow.
//! - Synaptic weights are unsigned 16-bit magnitudes; a ring-buffer entry is their saturating `u16` sum, and the
//!   neuron reads it as `Accum` raw `entry << shift`, with a per-(core, synapse type) left shift (saturating).

use serde::{Deserialize, Serialize};

/// Fraction bits of an [`Accum`].
pub const ACCUM_FRACTION_BITS: u32 = 15;

/// Signed 16.15 fixed point.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Accum(pub i32);

#[inline]
fn saturate(x: i64) -> i32 {
    x.clamp(i32::MIN as i64, i32::MAX as i64) as i32
}

impl Accum {
    /// The largest value.
    pub const MAX: Accum = Accum(i32::MAX);
    /// The smallest value.
    pub const MIN: Accum = Accum(i32::MIN);
    /// Zero.
    pub const ZERO: Accum = Accum(0);

    /// The nearest representable value (saturating; NaN becomes zero).
    pub fn from_f64(x: f64) -> Accum {
        if x.is_nan() {
            return Accum::ZERO;
        }
        let scaled = (x * (1u64 << ACCUM_FRACTION_BITS) as f64).round();
        Accum(scaled.clamp(i32::MIN as f64, i32::MAX as f64) as i32)
    }

    /// The value as `f64` (exact).
    #[inline]
    pub fn to_f64(self) -> f64 {
        self.0 as f64 / (1u64 << ACCUM_FRACTION_BITS) as f64
    }

    /// Saturating sum.
    #[inline]
    pub fn saturating_add(self, o: Accum) -> Accum {
        Accum(self.0.saturating_add(o.0))
    }

    /// Saturating difference.
    #[inline]
    pub fn saturating_sub(self, o: Accum) -> Accum {
        Accum(self.0.saturating_sub(o.0))
    }

    /// Product, rounded to nearest (ties toward +infinity), saturating.
    #[inline]
    pub fn mul_round(self, o: Accum) -> Accum {
        let p = self.0 as i64 * o.0 as i64;
        Accum(saturate((p + (1 << (ACCUM_FRACTION_BITS - 1))) >> ACCUM_FRACTION_BITS))
    }

    /// [`Accum::mul_round`] by a factor in (-1, 1] (`-2^15 < o <= 2^15`), whose product cannot leave the range
    /// (`|self * o| / 2^15 <= |self|`, rounding a value inside `i32` stays inside, and the one product that would
    /// not, `i32::MIN * -1`, is excluded): the same value without the clamp, which is most of a multiplication's
    /// cost in a vectorised loop. Panics in debug builds for another factor.
    #[inline]
    pub fn mul_round_by_unit(self, o: Accum) -> Accum {
        debug_assert!(o.is_unit_factor(), "{o:?} is not a factor in (-1, 1]");
        let p = self.0 as i64 * o.0 as i64;
        Accum(((p + (1 << (ACCUM_FRACTION_BITS - 1))) >> ACCUM_FRACTION_BITS) as i32)
    }

    /// Whether [`Accum::mul_round_by_unit`] takes `self` as its factor: in (-1, 1].
    #[inline]
    pub fn is_unit_factor(self) -> bool {
        -(1 << ACCUM_FRACTION_BITS) < self.0 && self.0 <= 1 << ACCUM_FRACTION_BITS
    }

    /// Product with a factor in [0, 1), rounded to nearest (ties toward +infinity).
    #[inline]
    pub fn decay(self, d: Decay) -> Accum {
        // Through a signed 32-bit factor, a product that vectorises (one instruction per four neurons on x86 with
        // AVX2; an unsigned 32-bit factor needs three): a factor d >= 2^31 is (d - 2^32) + 2^32, and the 2^32 part
        // adds exactly `self` after the shift.
        let whole = if d.0 >> 31 == 1 { self.0 as i64 } else { 0 };
        let p = self.0 as i64 * (d.0 as i32) as i64;
        Accum((((p + (1i64 << 31)) >> 32) + whole) as i32)
    }

    /// A ring-buffer entry shifted into an input value (saturating).
    #[inline]
    pub fn from_ring(entry: u16, shift: u8) -> Accum {
        if shift <= 15 {
            // A 16-bit entry shifted by at most 15 stays below 2^31: no saturation, and 32-bit work only (the test
            // is the same for every entry of a loop, so the compiler hoists it).
            Accum(i32::from(entry) << shift)
        } else {
            Accum(saturate((entry as i64) << shift.min(32)))
        }
    }
}

/// Unsigned 0.32 fixed point, a factor in [0, 1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Decay(pub u32);

impl Decay {
    /// The nearest representable factor to `x` (clamped to [0, 1 - 2^-32]).
    pub fn from_f64(x: f64) -> Decay {
        if x.is_nan() {
            return Decay(0);
        }
        Decay((x * 4_294_967_296.0).round().clamp(0.0, u32::MAX as f64) as u32)
    }

    /// The value as `f64` (exact).
    #[inline]
    pub fn to_f64(self) -> f64 {
        self.0 as f64 / 4_294_967_296.0
    }
}

/// Adds a weight to a ring-buffer entry, saturating at `u16::MAX`.
#[inline]
pub fn ring_add(entry: u16, weight: u16) -> u16 {
    entry.saturating_add(weight)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Round-half-up division by 2^k of an i128, the reference for the shifts above.
    fn round_shift(p: i128, k: u32) -> i128 {
        (p + (1i128 << (k - 1))).div_euclid(1i128 << k)
    }

    proptest! {
        #[test]
        fn add_sub_saturate(a in any::<i32>(), b in any::<i32>()) {
            let clamp = |x: i128| x.clamp(i32::MIN as i128, i32::MAX as i128) as i32;
            prop_assert_eq!(Accum(a).saturating_add(Accum(b)).0, clamp(a as i128 + b as i128));
            prop_assert_eq!(Accum(a).saturating_sub(Accum(b)).0, clamp(a as i128 - b as i128));
        }

        #[test]
        fn mul_rounds_to_nearest_and_saturates(a in any::<i32>(), b in any::<i32>()) {
            let want = round_shift(a as i128 * b as i128, 15).clamp(i32::MIN as i128, i32::MAX as i128) as i32;
            prop_assert_eq!(Accum(a).mul_round(Accum(b)).0, want);
        }

        #[test]
        fn mul_by_a_unit_factor_needs_no_clamp(a in any::<i32>(), b in (1 - (1i32 << 15))..=(1 << 15)) {
            prop_assert!(Accum(b).is_unit_factor());
            prop_assert_eq!(Accum(a).mul_round_by_unit(Accum(b)), Accum(a).mul_round(Accum(b)));
        }

        #[test]
        fn mul_by_a_unit_factor_at_the_range_ends(a in prop::sample::select(vec![i32::MIN, i32::MIN + 1, -1, 0, 1, i32::MAX]),
                                                   b in prop::sample::select(vec![1 - (1i32 << 15), -1, 0, 1, 1 << 15])) {
            prop_assert_eq!(Accum(a).mul_round_by_unit(Accum(b)), Accum(a).mul_round(Accum(b)));
            // -1 is not one: i32::MIN * -1 leaves the range.
            prop_assert!(!Accum(-(1 << 15)).is_unit_factor() && !Accum((1 << 15) + 1).is_unit_factor());
        }

        #[test]
        fn decay_at_the_range_ends(a in prop::sample::select(vec![i32::MIN, i32::MIN + 1, -1, 0, 1, i32::MAX]),
                                   d in prop::sample::select(vec![0, 1, (1u32 << 31) - 1, 1 << 31, u32::MAX])) {
            prop_assert_eq!(Accum(a).decay(Decay(d)).0 as i128, round_shift(a as i128 * d as i128, 32));
        }

        #[test]
        fn decay_rounds_and_never_grows(a in any::<i32>(), d in any::<u32>()) {
            let got = Accum(a).decay(Decay(d)).0;
            prop_assert_eq!(got as i128, round_shift(a as i128 * d as i128, 32));
            prop_assert!((got as i64).abs() <= (a as i64).abs());
        }

        #[test]
        fn conversions_are_nearest(x in -70000.0f64..70000.0) {
            let a = Accum::from_f64(x);
            // s16.15 holds -65536 ..= 65536 - 2^-15: nearest inside, saturated outside.
            if (Accum::MIN.to_f64()..=Accum::MAX.to_f64()).contains(&x) {
                prop_assert!((a.to_f64() - x).abs() <= 0.5 / 32768.0 + 1e-12);
            } else {
                prop_assert_eq!(a, if x > 0.0 { Accum::MAX } else { Accum::MIN });
            }
            let f = x.abs() / 70000.0;
            prop_assert!((Decay::from_f64(f).to_f64() - f).abs() <= 0.5 / 4_294_967_296.0 + 1e-18);
        }

        #[test]
        fn ring_entries_saturate_and_shift(e in any::<u16>(), w in any::<u16>(), shift in 0u8..40) {
            prop_assert_eq!(ring_add(e, w) as u32, (e as u32 + w as u32).min(65535));
            let want = ((e as i128) << shift.min(32)).min(i32::MAX as i128) as i32;
            prop_assert_eq!(Accum::from_ring(e, shift).0, want);
        }
    }
}
