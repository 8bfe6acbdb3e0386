//! How a seed becomes a Poisson spike train: the one rule every engine draws its inputs through, so one seed is
//! the same input on every family, however a backend slices a source across cores.
//!
//! A Poisson source of `channels` independent channels at `rate` Hz draws from its own random stream
//! `(seed, stream)`; every step, each channel in channel order draws a spike count from `Poisson(rate dt)` (a
//! step may carry several spikes, as NEST's `poisson_generator`).

use crate::rng::Rng;

/// A Poisson source's spike counts, step after step.
#[derive(Clone, Debug)]
pub struct PoissonTrain {
    rng: Rng,
    lambda: f64,
    channels: usize,
}

impl PoissonTrain {
    /// The train of a source with `channels` channels at `rate` Hz, stepped every `dt` seconds.
    pub fn new(seed: u64, stream: u64, rate: f64, dt: f64, channels: usize) -> PoissonTrain {
        PoissonTrain { rng: Rng::new(seed, stream), lambda: rate * dt, channels }
    }

    /// Draws the next step: calls `emit(channel, count)` for every channel with spikes, in channel order.
    pub fn step(&mut self, mut emit: impl FnMut(u32, u32)) {
        for ch in 0..self.channels {
            let count = self.rng.poisson(self.lambda);
            if count > 0 {
                emit(ch as u32, count);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_train_is_its_seed_and_stream() {
        let draw = |seed, stream| {
            let mut t = PoissonTrain::new(seed, stream, 100.0, 1e-3, 50);
            let mut out = Vec::new();
            for _ in 0..20 {
                t.step(|ch, n| out.push((ch, n)));
            }
            out
        };
        assert_eq!(draw(1, 2), draw(1, 2));
        assert_ne!(draw(1, 2), draw(1, 3));
        // About rate * dt * channels * steps = 100 spikes.
        let total: u32 = draw(1, 2).iter().map(|&(_, n)| n).sum();
        assert!((60..140).contains(&total), "{total}");
    }
}
