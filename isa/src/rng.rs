//! Seeded random streams shared by the compiler (connectivity, weights, initial state) and the runtime
//! (Poisson sources), so that one seed means one network and one input everywhere.
//!
//! The generator is xoshiro256++ (Blackman & Vigna 2019), seeded through SplitMix64 from a `(seed, stream)`
//! pair: every projection, population and source draws from its own stream, so adding one object to a network
//! does not change the random numbers of the others. The algorithms are written out here (rather than taken from
//! a crate whose output may change between versions) because results must stay reproducible across releases.

/// A xoshiro256++ generator.
#[derive(Clone, Debug)]
pub struct Rng {
    s: [u64; 4],
}

fn splitmix64(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    /// The generator for stream `stream` of seed `seed`.
    pub fn new(seed: u64, stream: u64) -> Rng {
        let mut x = seed ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03).rotate_left(17);
        let mut s = [splitmix64(&mut x), splitmix64(&mut x), splitmix64(&mut x), splitmix64(&mut x)];
        if s == [0; 4] {
            s[0] = 1; // the all-zero state is the one state xoshiro never leaves
        }
        Rng { s }
    }

    /// A generator with the given raw state (for checking against the published reference).
    pub fn from_state(s: [u64; 4]) -> Rng {
        Rng { s }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform in `[0, 1)`, with 53 random bits.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `(0, 1]`: safe to take the logarithm of.
    pub fn uniform_open0(&mut self) -> f64 {
        1.0 - self.uniform()
    }

    /// Uniform integer in `0..n` without modulo bias (Lemire 2019). `n` must be non-zero.
    pub fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        let threshold = n.wrapping_neg() % n;
        loop {
            let m = (self.next_u64() as u128) * (n as u128);
            if (m as u64) >= threshold {
                return (m >> 64) as u64;
            }
        }
    }

    /// Standard normal deviate (Marsaglia polar method, one of each pair used).
    pub fn normal(&mut self) -> f64 {
        loop {
            let (x, r2) = self.polar_attempt();
            if in_unit_disc(r2) {
                return polar_deviate(x, r2.ln(), r2);
            }
        }
    }

    /// Fills `out` with standard normal deviates: the numbers [`Rng::normal`] gives called once for each, in the
    /// same order and to the bit, and the stream left where it leaves it. A batch's points are drawn first,
    /// without a branch on each attempt (an attempt is written where the next point goes and kept by counting
    /// it), then their logarithms, then the rest, so that many are in flight at once: half the time of
    /// `normal` in a loop, whose every rejected attempt is a mispredicted branch.
    pub fn fill_normal(&mut self, out: &mut [f64]) {
        const BATCH: usize = 64;
        let (mut r2, mut ln) = ([0.0f64; BATCH], [0.0f64; BATCH]);
        for chunk in out.chunks_mut(BATCH) {
            let n = chunk.len();
            let mut kept = 0;
            while kept < n {
                (chunk[kept], r2[kept]) = self.polar_attempt();
                kept += usize::from(in_unit_disc(r2[kept]));
            }
            for (ln, r2) in ln[..n].iter_mut().zip(&r2) {
                *ln = r2.ln();
            }
            for ((x, &ln), &r2) in chunk.iter_mut().zip(&ln).zip(&r2) {
                *x = polar_deviate(*x, ln, r2);
            }
        }
    }

    /// One attempt of the polar method: a point of the square [-1, 1)^2 as `(x, x^2 + y^2)`.
    #[inline(always)]
    fn polar_attempt(&mut self) -> (f64, f64) {
        let x = 2.0 * self.uniform() - 1.0;
        let y = 2.0 * self.uniform() - 1.0;
        (x, x * x + y * y)
    }

    /// Poisson deviate with mean `lambda >= 0` (Knuth's product method in chunks of mean at most 16, so the cost
    /// grows linearly with `lambda` but never underflows).
    pub fn poisson(&mut self, lambda: f64) -> u32 {
        let mut remaining = lambda;
        let mut count = 0u32;
        while remaining > 0.0 {
            let chunk = remaining.min(16.0);
            remaining -= chunk;
            let limit = (-chunk).exp();
            let mut p = self.uniform();
            while p > limit {
                count = count.saturating_add(1);
                p *= self.uniform();
            }
        }
        count
    }

    /// Number of failures before the first success of a Bernoulli(p) sequence, `0 < p <= 1`: the gap to the next
    /// connection when drawing connections with probability `p`.
    pub fn geometric(&mut self, p: f64) -> u64 {
        if p >= 1.0 {
            return 0;
        }
        let g = (self.uniform_open0().ln() / (1.0 - p).ln()).floor();
        if g >= u64::MAX as f64 { u64::MAX } else { g as u64 }
    }
}

/// Whether a polar attempt's `x^2 + y^2` is a point of the unit disc but its centre (the attempt is kept).
#[inline(always)]
fn in_unit_disc(r2: f64) -> bool {
    r2 > 0.0 && r2 < 1.0
}

/// The polar method's deviate from a kept point's `x`, `ln(r2)` and `r2`.
#[inline(always)]
fn polar_deviate(x: f64, ln_r2: f64, r2: f64) -> f64 {
    x * (-2.0 * ln_r2 / r2).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_reference_implementation() {
        // xoshiro256plusplus.c with s = {1, 2, 3, 4}: rotl(1 + 4, 23) + 1, then the next state.
        let mut r = Rng::from_state([1, 2, 3, 4]);
        assert_eq!(r.next_u64(), 41_943_041);
        assert_eq!(r.next_u64(), 58_720_359);
        assert_eq!(r.next_u64(), 3_588_806_011_781_223);
    }

    #[test]
    fn normals_in_batches_are_the_single_draws() {
        for len in [0, 1, 63, 64, 65, 1000] {
            let mut single = Rng::new(3, len as u64);
            let mut batched = single.clone();
            let expected: Vec<u64> = (0..len).map(|_| single.normal().to_bits()).collect();
            let mut out = vec![0.0; len];
            batched.fill_normal(&mut out);
            assert_eq!(out.iter().map(|x| x.to_bits()).collect::<Vec<_>>(), expected, "{len} deviates");
            assert_eq!(batched.next_u64(), single.next_u64(), "the stream goes on where it would have");
        }
    }

    #[test]
    fn streams_differ_and_repeat() {
        let a: Vec<u64> = (0..4).map(|_| Rng::new(7, 0).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(Rng::new(7, 0).next_u64(), Rng::new(7, 1).next_u64());
        assert_ne!(Rng::new(7, 0).next_u64(), Rng::new(8, 0).next_u64());
    }

    fn mean_var(xs: &[f64]) -> (f64, f64) {
        let n = xs.len() as f64;
        let m = xs.iter().sum::<f64>() / n;
        (m, xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0))
    }

    #[test]
    fn moments_of_the_distributions() {
        let mut r = Rng::new(1, 2);
        let n = 200_000;
        let (m, v) = mean_var(&(0..n).map(|_| r.uniform()).collect::<Vec<_>>());
        assert!((m - 0.5).abs() < 0.005 && (v - 1.0 / 12.0).abs() < 0.002);
        let (m, v) = mean_var(&(0..n).map(|_| r.normal()).collect::<Vec<_>>());
        assert!(m.abs() < 0.01 && (v - 1.0).abs() < 0.02);
        for lambda in [0.05, 3.0, 40.0] {
            let (m, v) = mean_var(&(0..n).map(|_| r.poisson(lambda) as f64).collect::<Vec<_>>());
            assert!((m - lambda).abs() < 0.02 * lambda.max(1.0), "poisson mean {m} for {lambda}");
            assert!((v - lambda).abs() < 0.05 * lambda.max(1.0), "poisson var {v} for {lambda}");
        }
        let p = 0.02;
        let (m, _) = mean_var(&(0..n).map(|_| r.geometric(p) as f64).collect::<Vec<_>>());
        assert!((m - (1.0 - p) / p).abs() < 0.02 * (1.0 - p) / p);
        let counts = (0..n).fold([0u32; 3], |mut c, _| {
            c[r.below(3) as usize] += 1;
            c
        });
        assert!(counts.iter().all(|&c| (c as f64 - n as f64 / 3.0).abs() < 1000.0));
    }
}
