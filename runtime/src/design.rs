//! Choosing among design points (a sweep's): limits on the headline [`Figures`] make a point feasible or not,
//! the Pareto front is taken over the feasible points only, and the recommended point is the feasible one that
//! minimises the objective. A point without a reference comparison (rate error NaN) fails any rate-error limit.
//! [`grid`] makes a sweep's points and [`rows`] its table, the one `soma sweep --json` prints and Python's
//! `soma.sweep` returns.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::engine::Figures;
use soma_isa::report::{exact, percent, si};

/// A headline figure a limit or an objective names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Figure {
    /// `energy_j`.
    Energy,
    /// `wall_plug_energy_j`.
    WallPlugEnergy,
    /// `energy_per_synaptic_event_j`.
    EnergyPerEvent,
    /// `step_latency_s`.
    StepLatency,
    /// `rate_error` (a fraction; `5%` is 0.05).
    RateError,
    /// `size` (cores, tiles or junctions).
    Size,
    /// `overruns` (SpiNNaker; 0 elsewhere).
    Overruns,
    /// `dropped_packets` (SpiNNaker; 0 elsewhere).
    DroppedPackets,
}

impl Figure {
    /// Every figure with its name.
    pub const ALL: [(&'static str, Figure); 8] = [
        ("energy_j", Figure::Energy),
        ("wall_plug_energy_j", Figure::WallPlugEnergy),
        ("energy_per_synaptic_event_j", Figure::EnergyPerEvent),
        ("step_latency_s", Figure::StepLatency),
        ("rate_error", Figure::RateError),
        ("size", Figure::Size),
        ("overruns", Figure::Overruns),
        ("dropped_packets", Figure::DroppedPackets),
    ];

    /// The figure called `name`.
    pub fn by_name(name: &str) -> Option<Figure> {
        Figure::ALL.iter().find(|(n, _)| *n == name).map(|&(_, f)| f)
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        Figure::ALL.iter().find(|(_, f)| *f == self).map_or("", |(n, _)| n)
    }

    /// `x`, a value of this figure, in its unit: `0.0123` energy is `12.3 mJ`, rate error `0.05` is `5%`.
    pub fn show(self, x: f64) -> String {
        match self {
            Figure::Energy | Figure::WallPlugEnergy | Figure::EnergyPerEvent => si(x, "J"),
            Figure::StepLatency => si(x, "s"),
            Figure::RateError => percent(x),
            Figure::Size | Figure::Overruns | Figure::DroppedPackets => exact(x),
        }
    }

    /// Its value in `f`.
    pub fn of(self, f: &Figures) -> f64 {
        match self {
            Figure::Energy => f.energy_j,
            Figure::WallPlugEnergy => f.wall_plug_energy_j,
            Figure::EnergyPerEvent => f.energy_per_synaptic_event_j,
            Figure::StepLatency => f.step_latency_s,
            Figure::RateError => f.rate_error,
            Figure::Size => f.size as f64,
            Figure::Overruns => f.machine.map_or(0.0, |m| m.overruns as f64),
            Figure::DroppedPackets => f.machine.map_or(0.0, |m| m.dropped_packets as f64),
        }
    }
}

/// An upper limit on a figure.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limit {
    /// The figure.
    pub figure: Figure,
    /// Its largest allowed value.
    pub max: f64,
}

/// Whether `f` meets every limit (a NaN figure meets none).
pub fn feasible(f: &Figures, limits: &[Limit]) -> bool {
    limits.iter().all(|l| l.figure.of(f) <= l.max)
}

/// The index of the feasible point with the smallest `objective` (the first of equals), if any point is feasible.
pub fn recommend(points: &[Figures], objective: Figure, limits: &[Limit]) -> Option<usize> {
    points
        .iter()
        .enumerate()
        .filter(|(_, f)| feasible(f, limits) && !objective.of(f).is_nan())
        .min_by(|a, b| objective.of(a.1).total_cmp(&objective.of(b.1)))
        .map(|(i, _)| i)
}

/// Which points are on the Pareto front of `(x, y)` (both minimised) among the feasible ones.
pub fn pareto_front(points: &[(f64, f64)], feasible: &[bool]) -> Vec<bool> {
    (0..points.len())
        .map(|i| {
            let p = points[i];
            feasible[i]
                && !(0..points.len()).any(|j| {
                    let q = points[j];
                    j != i && feasible[j] && q.0 <= p.0 && q.1 <= p.1 && (q.0 < p.0 || q.1 < p.1)
                })
        })
        .collect()
}

/// The constants a design point sets, `(name, value)`.
pub type Settings = Vec<(String, f64)>;

/// A measured design point: its settings, its target's name, its figures.
pub type Point = (Settings, String, Figures);

/// Every combination of the axes' values (the first axis outermost): one `(name, value)` per axis per point.
pub fn grid(axes: &[(String, Vec<f64>)]) -> Vec<Settings> {
    let mut points: Vec<Settings> = vec![Vec::new()];
    for (name, values) in axes {
        points = points
            .into_iter()
            .flat_map(|p| values.iter().map(move |&v| p.iter().cloned().chain([(name.clone(), v)]).collect()))
            .collect();
    }
    points
}

/// One design point of a sweep's table: the constants set (flattened, one field per axis), the target, its
/// figures and how it stands against the limits.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Row {
    /// The constants set, by name.
    #[serde(flatten)]
    pub settings: BTreeMap<String, f64>,
    /// The target the point ran on.
    pub target: String,
    /// What it measured.
    #[serde(flatten)]
    pub figures: Figures,
    /// Meets every limit.
    pub feasible: bool,
    /// On the Pareto front of step latency and energy among the feasible points.
    pub pareto_optimal: bool,
    /// The feasible point with the least objective.
    pub recommended: bool,
}

/// The table of a sweep's `points` (`(settings, target, figures)`), judged by `limits` with `objective` minimised.
pub fn rows(points: Vec<Point>, objective: Figure, limits: &[Limit]) -> Vec<Row> {
    let figures: Vec<Figures> = points.iter().map(|p| p.2.clone()).collect();
    let ok: Vec<bool> = figures.iter().map(|f| feasible(f, limits)).collect();
    let front = pareto_front(&figures.iter().map(|f| (f.step_latency_s, f.energy_j)).collect::<Vec<_>>(), &ok);
    let best = recommend(&figures, objective, limits);
    points
        .into_iter()
        .enumerate()
        .map(|(i, (settings, target, figures))| Row {
            settings: settings.into_iter().collect(),
            target,
            figures,
            feasible: ok[i],
            pareto_optimal: front[i],
            recommended: best == Some(i),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(energy_j: f64, step_latency_s: f64, rate_error: f64) -> Figures {
        Figures {
            energy_j,
            wall_plug_energy_j: energy_j,
            energy_per_synaptic_event_j: 0.0,
            step_latency_s,
            size: 1,
            size_unit: "cores".into(),
            machine: None,
            rate_error,
            silent_reference_hz: 0.0,
        }
    }

    #[test]
    fn an_infeasible_point_is_never_recommended_nor_on_the_front() {
        // The cheapest point has a 25.7% rate error: with a 5% limit the next one is recommended.
        let points = [point(1.0, 2.0, 0.257), point(2.0, 1.0, 0.01), point(3.0, 3.0, 0.02), point(0.5, 9.0, f64::NAN)];
        let limits = [Limit { figure: Figure::RateError, max: 0.05 }];
        assert_eq!(recommend(&points, Figure::Energy, &[]), Some(3));
        assert_eq!(recommend(&points, Figure::Energy, &limits), Some(1));
        let feasible: Vec<bool> = points.iter().map(|f| feasible(f, &limits)).collect();
        assert_eq!(feasible, [false, true, true, false]);
        let xy: Vec<(f64, f64)> = points.iter().map(|f| (f.step_latency_s, f.energy_j)).collect();
        assert_eq!(pareto_front(&xy, &feasible), [false, true, false, false]);
        assert_eq!(recommend(&points, Figure::Energy, &[Limit { figure: Figure::Energy, max: 0.1 }]), None);
    }

    #[test]
    fn a_grid_has_every_combination_and_rows_judge_each_point() {
        let axes = [("a".to_string(), vec![1.0, 2.0]), ("b".to_string(), vec![5.0, 6.0, 7.0])];
        let g = grid(&axes);
        assert_eq!(g.len(), 6);
        assert_eq!(g[0], [("a".to_string(), 1.0), ("b".to_string(), 5.0)]);
        assert_eq!(g[5], [("a".to_string(), 2.0), ("b".to_string(), 7.0)]);
        assert_eq!(grid(&[]), [Vec::<(String, f64)>::new()]);
        let points = vec![
            (vec![("a".into(), 1.0)], "t".to_string(), point(1.0, 2.0, 0.257)),
            (vec![("a".into(), 2.0)], "t".to_string(), point(2.0, 1.0, 0.01)),
            (vec![("a".into(), 3.0)], "t".to_string(), point(3.0, 3.0, 0.02)),
        ];
        let r = rows(points, Figure::Energy, &[Limit { figure: Figure::RateError, max: 0.05 }]);
        let flags: Vec<(bool, bool, bool)> = r.iter().map(|r| (r.feasible, r.pareto_optimal, r.recommended)).collect();
        assert_eq!(flags, [(false, false, false), (true, true, true), (true, false, false)]);
        let json = soma_isa::report::to_json(&r[1]);
        assert_eq!((json["a"].as_f64(), json["energy_j"].as_f64()), (Some(2.0), Some(2.0)), "flat: {json}");
        assert_eq!(json["recommended"], true);
    }

    #[test]
    fn every_figure_has_a_name_that_finds_it() {
        for (name, f) in Figure::ALL {
            assert_eq!(Figure::by_name(name), Some(f));
            assert_eq!(f.name(), name);
        }
    }
}
