//! The pieces every engine's run report shares: the populations' rates, the summary flattened into the crossbar
//! and SFQ reports (events, step time, durations, the target's constants with their sources, the reference
//! comparison, the raster), and the spike lists every run returns. Each family's own report is in its directory;
//! `page` and `family` turn a report's JSON into its pages (HTML, text, CSV), for `soma report` and Python.

pub mod family;
pub mod page;

use std::time::Instant;

use serde::{Deserialize, Serialize};
use soma_isa::instance::Instance;
use soma_isa::report::{percent, quantity, thousands};
use soma_targets::Target;

use crate::engine::{Figures, Job, fidelity_figures};
use crate::fidelity::{Reference, Spikes, against_reference};
use crate::reference::RunResult;

/// One population's spike count and mean rate.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PopulationRate {
    /// Name.
    pub name: String,
    /// Size.
    pub neurons: u64,
    /// Spikes.
    pub spikes: u64,
    /// Mean rate, Hz.
    pub rate_hz: f64,
}

/// The rates of `inst`'s populations from their spike counts over `duration` seconds.
pub fn population_rates(inst: &Instance, counts: &[u64], duration: f64) -> Vec<PopulationRate> {
    inst.populations
        .iter()
        .zip(counts)
        .map(|(p, &spikes)| PopulationRate {
            name: p.name.clone(),
            neurons: p.size() as u64,
            spikes,
            rate_hz: if duration > 0.0 { spikes as f64 / p.size() as f64 / duration } else { 0.0 },
        })
        .collect()
}

/// Every spike of a reference-style run as `(step, population, neuron)`, in time order.
pub fn all_spikes(result: &crate::reference::RunResult) -> Spikes {
    let mut all: Spikes = result
        .spikes
        .iter()
        .enumerate()
        .flat_map(|(p, list)| list.iter().map(move |&(t, n)| (t, p as u32, n)))
        .collect();
    all.sort_unstable();
    all
}

/// Rows of a report's raster per population: at most this many neurons, spread evenly over it.
pub const RASTER_ROWS: u64 = 100;

/// Every how many neurons of a population of `size` the raster samples one: all of up to [`RASTER_ROWS`], every
/// `ceil(size / RASTER_ROWS)`-th of more.
pub fn raster_stride(size: u64) -> u64 {
    size.div_ceil(RASTER_ROWS).max(1)
}

/// The spikes a report draws: of every population (`sizes`, in the order of `names`) the neurons
/// [`raster_stride`] samples, at most 50,000 spikes, as `(time of the step's end in s, population, neuron)`.
pub fn raster(spikes: &[(u32, u32, u32)], dt: f64, names: &[String], sizes: &[u32]) -> Vec<(f64, String, u32)> {
    let strides: Vec<u32> = sizes.iter().map(|&n| raster_stride(u64::from(n)) as u32).collect();
    spikes
        .iter()
        .filter(|&&(_, p, n)| n % strides[p as usize] == 0)
        .take(50_000)
        .map(|&(t, p, n)| (soma_isa::report::step_end_s(t.into(), dt), names[p as usize].clone(), n))
        .collect()
}

/// What a plastic projection learned: its weights before and after a run, in the target model's weight unit.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Learned {
    /// The projection (`pre->post`).
    pub projection: String,
    /// The weights' SI unit (`A`, `V`, ...), empty for a pure number or where the network is not at hand.
    #[serde(default)]
    pub unit: String,
    /// Synapses.
    pub synapses: u64,
    /// Mean weight before the run.
    pub mean_before: f64,
    /// Mean weight after it.
    pub mean_after: f64,
    /// Lowest and highest weight after it.
    pub min_after: f64,
    /// See `min_after`.
    pub max_after: f64,
    /// Synapses whose weight rose, and fell.
    pub potentiated: u64,
    /// See `potentiated`.
    pub depressed: u64,
    /// Synapses per tenth of `[w_min, w_max]` (the last tenth holds `w_max`), before and after.
    pub histogram_before: Vec<u64>,
    /// See `histogram_before`.
    pub histogram_after: Vec<u64>,
}

/// Counts of `weights` in ten equal bins of `[lo, hi]`, `hi` in the last.
fn tenths(weights: impl Iterator<Item = f64>, lo: f64, hi: f64) -> Vec<u64> {
    let mut bins = vec![0u64; 10];
    for w in weights {
        bins[(((w - lo) / (hi - lo) * 10.0).max(0.0) as usize).min(9)] += 1;
    }
    bins
}

/// What each plastic projection of `inst` learned in a run that ended with `learned` weights.
pub fn learned(inst: &Instance, learned: &[crate::reference::LearnedWeights]) -> Vec<Learned> {
    learned
        .iter()
        .map(|l| {
            let proj = &inst.projections[l.projection];
            let before: Vec<f64> = proj.rows.weights.iter().map(|&w| w as f64).collect();
            let (lo, hi) = proj.plasticity.map_or((0.0, 1.0), |r| (r.w_min, r.w_max));
            summarise(&proj.name, weight_unit(inst, l.projection), &before, &l.weights, lo, hi)
        })
        .collect()
}

/// The SI unit of projection `projection`'s weights (empty for a pure number).
pub fn weight_unit(inst: &Instance, projection: usize) -> &'static str {
    let post = &inst.populations[inst.projections[projection].post];
    post.model.kind().weight_dim().si_symbol().unwrap_or("")
}

/// What projection `name` with bounds `[lo, hi]` learned: its weights (in `unit`) `before` and `after` a run, in
/// synapse order.
pub fn summarise(name: &str, unit: &str, before: &[f64], after: &[f64], lo: f64, hi: f64) -> Learned {
    let n = before.len().max(1) as f64;
    let moved =
        |rose: bool| before.iter().zip(after).filter(|&(&b, &a)| if rose { a > b } else { a < b }).count() as u64;
    Learned {
        histogram_before: tenths(before.iter().copied(), lo, hi),
        histogram_after: tenths(after.iter().copied(), lo, hi),
        projection: name.to_string(),
        unit: unit.to_string(),
        synapses: before.len() as u64,
        mean_before: before.iter().sum::<f64>() / n,
        mean_after: after.iter().sum::<f64>() / n,
        min_after: after.iter().copied().fold(f64::INFINITY, f64::min),
        max_after: after.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        potentiated: moved(true),
        depressed: moved(false),
    }
}

/// The plastic projections' lines of a text report (empty without any).
pub fn learned_text(learned: &[Learned]) -> String {
    let mut s = String::new();
    for l in learned {
        s += &format!(
            "learned {}: {} synapses; mean weight {} -> {}{}; range after {} .. {}; {} potentiated, {} depressed\n",
            l.projection,
            thousands(l.synapses),
            quantity(l.mean_before, &l.unit),
            quantity(l.mean_after, &l.unit),
            if l.mean_before != 0.0 {
                let change = (l.mean_after - l.mean_before) / l.mean_before.abs();
                format!(" ({}{})", if change >= 0.0 { "+" } else { "-" }, percent(change.abs()))
            } else {
                String::new()
            },
            quantity(l.min_after, &l.unit),
            quantity(l.max_after, &l.unit),
            thousands(l.potentiated),
            thousands(l.depressed)
        );
        let bins = |h: &[u64]| h.iter().map(u64::to_string).collect::<Vec<_>>().join(" ");
        s += &format!(
            "  synapses per tenth of [w_min, w_max]: before {}; after {}\n",
            bins(&l.histogram_before),
            bins(&l.histogram_after)
        );
    }
    s
}

/// The names of `inst`'s populations, as spikes index them.
pub fn population_names(inst: &Instance) -> Vec<String> {
    inst.populations.iter().map(|p| p.name.clone()).collect()
}

/// The population table of a report: name, neurons, spikes, rate.
pub fn rate_table<'a>(rows: impl IntoIterator<Item = (&'a str, u64, u64, f64)>) -> String {
    let mut s = format!("{:<16} {:>10} {:>12} {:>10}\n", "population", "neurons", "spikes", "rate (Hz)");
    for (name, neurons, spikes, rate) in rows {
        s += &format!("{name:<16} {:>10} {:>12} {rate:>10.3}\n", thousands(neurons), thousands(spikes));
    }
    s
}

/// A target constant with its source.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ConstantReport {
    /// Section-qualified name.
    pub name: String,
    /// Value.
    pub value: f64,
    /// Source.
    pub source: String,
    /// No source gives a value: the term is named, not priced.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unknown: bool,
}

impl ConstantReport {
    /// Every constant of `target`.
    pub fn all(target: &Target) -> Vec<ConstantReport> {
        target
            .constants()
            .into_iter()
            .map(|(name, c)| ConstantReport { name, value: c.value, source: c.source.clone(), unknown: c.unknown })
            .collect()
    }
}

/// What the crossbar and SFQ run reports share, flattened into their JSON.
#[derive(Clone, Debug, Serialize)]
pub struct RunSummary {
    /// Synaptic events (spikes times outgoing synapses).
    pub synaptic_events: u64,
    /// Energy per synaptic event, J (on chip).
    pub energy_per_synaptic_event_j: f64,
    /// Hardware time of a step, s (the mean, where steps differ).
    pub step_latency_s: f64,
    /// Model time, s.
    pub duration_s: f64,
    /// Steps.
    pub steps: u64,
    /// Wall time, s.
    pub wall_s: f64,
    /// The target's constants with their sources.
    pub target_constants: Vec<ConstantReport>,
    /// The comparison with the float reference, if asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<Reference>,
    /// Spikes to draw: `(time s, population, neuron)` for the neurons [`raster_stride`] samples, at most 50,000.
    pub raster: Vec<(f64, String, u32)>,
}

impl RunSummary {
    /// The summary of `job`'s run of `inst` (`result`, whose every spike is `spikes`), with `energy_j` on chip and
    /// a step of `step_latency_s` on the hardware, started at `wall`; with `job.compare`, against the reference.
    pub fn of(
        job: &Job,
        inst: &Instance,
        result: &RunResult,
        spikes: &Spikes,
        energy_j: f64,
        step_latency_s: f64,
        wall: Instant,
    ) -> RunSummary {
        RunSummary {
            synaptic_events: result.synaptic_events,
            energy_per_synaptic_event_j: energy_j / result.synaptic_events.max(1) as f64,
            step_latency_s,
            duration_s: job.duration_s,
            steps: job.steps,
            wall_s: wall.elapsed().as_secs_f64(),
            target_constants: ConstantReport::all(job.target),
            reference: job.compare.then(|| {
                let learned: Vec<(String, Vec<f64>)> = result
                    .learned
                    .iter()
                    .map(|l| (inst.projections[l.projection].name.clone(), l.weights.clone()))
                    .collect();
                against_reference(inst, spikes, job.steps, &learned)
            }),
            raster: raster(
                spikes,
                inst.dt,
                &population_names(inst),
                &inst.populations.iter().map(|p| p.size() as u32).collect::<Vec<_>>(),
            ),
        }
    }

    /// The headline figures of the run: `energy_j` on chip, `wall_plug_energy_j`, and `size` of `size_unit`.
    pub fn figures(&self, energy_j: f64, wall_plug_energy_j: f64, size: u64, size_unit: &str) -> Figures {
        let (rate_error, silent_reference_hz) = fidelity_figures(self.reference.as_ref());
        Figures {
            energy_j,
            wall_plug_energy_j,
            energy_per_synaptic_event_j: self.energy_per_synaptic_event_j,
            step_latency_s: self.step_latency_s,
            size,
            size_unit: size_unit.into(),
            machine: None,
            rate_error,
            silent_reference_hz,
        }
    }

    /// The figures and the reference comparison's text that end a run's text report.
    pub fn text(&self, machine: &str) -> String {
        let mut s = format!(
            "synaptic events {}, {} per event; step time {}\n",
            thousands(self.synaptic_events),
            soma_isa::report::si(self.energy_per_synaptic_event_j, "J"),
            soma_isa::report::si(self.step_latency_s, "s")
        );
        if let Some(reference) = &self.reference {
            s += &reference.text(machine);
        }
        s + &format!("wall {:.2} s\n", self.wall_s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_raster_samples_each_population_evenly() {
        assert_eq!((raster_stride(50), raster_stride(100), raster_stride(101), raster_stride(3200)), (1, 1, 2, 32));
        let names = vec!["big".to_string(), "small".to_string()];
        let spikes = [(0, 0, 0), (0, 0, 10), (0, 0, 11), (1, 0, 990), (1, 1, 49)];
        let drawn: Vec<(String, u32)> =
            raster(&spikes, 1e-3, &names, &[1000, 50]).into_iter().map(|(_, p, n)| (p, n)).collect();
        let want = [("big", 0), ("big", 10), ("big", 990), ("small", 49)];
        assert_eq!(drawn, want.map(|(p, n)| (p.to_string(), n)));
    }
}
