//! `soma sweep`: a design-space exploration. Every combination of the `--vary` values of target constants is
//! compiled and run on the target's family (SpiNNaker, crossbar or SFQ; points in parallel); each point's report is written atomically to `DIR/points/`, so an
//! interrupted sweep resumes where it stopped; `DIR/sweep.csv` lists every point and `DIR/sweep.html` plots
//! energy against step latency with the Pareto front highlighted.

use std::io::Write;
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::compare::{FigureRun, Figures, figures};
use crate::output::write_atomic;
use crate::{Failure, SweepArgs};
use soma_isa::codec::fnv1a;
use soma_runtime::design::{self, Figure, Limit};
use soma_runtime::html::{Mark, esc, page, pareto, table};

/// One design point's results.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Point {
    /// The hash of everything that determines the figures ([`point_key`]); a stored point is reused only under
    /// the same key (points written before soma keyed them have none and are recomputed).
    #[serde(default)]
    pub key: String,
    /// The constants set, `(name, value)`.
    pub settings: Vec<(String, f64)>,
    /// What the point measured.
    #[serde(flatten)]
    pub figures: Figures,
}

/// Parses `--vary key=v1,v2,...`.
fn axis(spec: &str) -> Result<(String, Vec<f64>), Failure> {
    let bad = || {
        Failure::User(format!(
            "error: --vary {spec}: expected KEY=V1,V2,..., e.g. --vary neurons_per_core=64,128,256\n"
        ))
    };
    let (key, values) = spec.split_once('=').ok_or_else(bad)?;
    let values: Vec<f64> =
        values.split(',').map(|v| v.trim().parse::<f64>()).collect::<Result<_, _>>().map_err(|_| bad())?;
    if key.trim().is_empty() || values.is_empty() {
        return Err(bad());
    }
    Ok((key.trim().to_string(), values))
}

/// The hash of what every point of this sweep shares: soma's version, the network file's bytes, every input
/// option (`--set`, `--dt`, format and connectome options), the seed, the duration and `--boards`.
fn experiment_key(args: &SweepArgs, duration: f64) -> Result<u64, Failure> {
    let network = std::fs::read(&args.input.file)
        .map_err(|e| Failure::User(format!("error: cannot read {}: {e}\n", args.input.file.display())))?;
    let options = format!(
        "soma {} | {:?} | seed {} | duration {:016x} | boards {:?}",
        env!("CARGO_PKG_VERSION"),
        args.input,
        args.seed,
        duration.to_bits(),
        args.boards
    );
    Ok(fnv1a(network.into_iter().chain(options.into_bytes())))
}

/// A point's key: the experiment's and the target's (its name and the fingerprint of every constant of the
/// preset with the point's settings applied).
fn point_key(experiment: u64, target: &soma_targets::Target) -> String {
    let id =
        fnv1a(experiment.to_le_bytes().into_iter().chain(target.fingerprint.to_le_bytes()).chain(target.name.bytes()));
    format!("{id:016x}")
}

/// `DIR/points/SETTINGS@KEY.json`: points of other experiments in the same folder never collide.
fn point_file(dir: &Path, settings: &[(String, f64)], key: &str) -> PathBuf {
    let id: Vec<String> = settings.iter().map(|(k, v)| format!("{}={v}", k.replace('.', "_"))).collect();
    dir.join("points").join(format!("{}@{key}.json", id.join(",")))
}

/// A stored point, if it is this point's and well formed; otherwise why not (`None`: there is none).
fn stored(file: &Path, key: &str, settings: &[(String, f64)]) -> Option<Result<Point, String>> {
    let text = std::fs::read_to_string(file).ok()?;
    let point = match serde_json::from_str::<Point>(&text) {
        Ok(p) => p,
        Err(e) => return Some(Err(format!("{}: not a sweep point ({e})", file.display()))),
    };
    if point.key != key || point.settings != settings {
        return Some(Err(format!("{}: written for another experiment", file.display())));
    }
    Some(point.figures.check().map(|()| point).map_err(|e| format!("{}: {e}", file.display())))
}

/// The objective (`--minimize`) and the limits (`--max FIGURE=VALUE`, a number or a percentage).
fn objectives(args: &SweepArgs) -> Result<(Figure, Vec<Limit>), Failure> {
    let names = || Figure::ALL.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ");
    let figure = |flag: &str, name: &str| {
        Figure::by_name(name.trim())
            .ok_or_else(|| Failure::User(format!("error: {flag} {name}: not a figure; the figures are {}\n", names())))
    };
    let objective = figure("--minimize", &args.minimize)?;
    let limits = args
        .limits
        .iter()
        .map(|spec| {
            let (name, value) = spec.split_once('=').ok_or_else(|| {
                Failure::User(format!("error: --max {spec}: expected FIGURE=VALUE, e.g. rate_error=5%\n"))
            })?;
            let value = value.trim();
            let max = match value.strip_suffix('%') {
                Some(p) => p.trim().parse::<f64>().map(|x| x / 100.0),
                None => value.parse::<f64>(),
            }
            .ok()
            .filter(|x| x.is_finite())
            .ok_or_else(|| {
                Failure::User(format!("error: --max {spec}: `{value}` is not a number or a percentage\n"))
            })?;
            Ok(Limit { figure: figure("--max", name)?, max })
        })
        .collect::<Result<Vec<_>, Failure>>()?;
    Ok((objective, limits))
}

/// Runs the command.
pub fn run(args: &SweepArgs) -> Result<(), Failure> {
    crate::output::check_outputs(
        &[&args.input.file],
        &[("--out", Some(args.out.as_path()), crate::output::Output::Folder)],
    )?;
    let duration = crate::load::time("--duration", &args.duration, false)?;
    let (objective, limits) = objectives(args)?;
    let axes: Vec<(String, Vec<f64>)> = args.vary.iter().map(|v| axis(v)).collect::<Result<_, _>>()?;
    if axes.is_empty() {
        return Err(Failure::User("error: give at least one --vary KEY=V1,V2,...\n".into()));
    }
    let points = design::grid(&axes);
    // Check every setting before running anything.
    let mut target_name = String::new();
    for p in &points {
        target_name =
            soma_targets::with_overrides(&args.target, p).map_err(|e| Failure::User(format!("error: {e}\n")))?.name;
    }
    std::fs::create_dir_all(args.out.join("points"))
        .map_err(|e| Failure::User(format!("error: cannot create {}: {e}\n", args.out.display())))?;
    let bar = if args.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::with_draw_target(Some(points.len() as u64), ProgressDrawTarget::stderr())
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} sweep [{bar:30}] {pos}/{len} points, eta {eta}")
            .map_err(|e| Failure::Internal(e.into()))?,
    );
    let experiment = experiment_key(args, duration)?;
    let reused = std::sync::atomic::AtomicUsize::new(0);
    let refused = std::sync::Mutex::new(Vec::new());
    let results: Vec<Point> = points
        .par_iter()
        .map(|settings| -> Result<Point, Failure> {
            let target = soma_targets::with_overrides(&args.target, settings)
                .map_err(|e| Failure::User(format!("error: {e}\n")))?;
            let key = point_key(experiment, &target);
            let file = point_file(&args.out, settings, &key);
            match stored(&file, &key, settings) {
                Some(Ok(p)) => {
                    reused.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    bar.inc(1);
                    return Ok(p);
                }
                Some(Err(why)) => refused.lock().map_err(|_| Failure::Internal(anyhow::anyhow!("poisoned")))?.push(why),
                None => {}
            }
            let run = FigureRun {
                seed: args.seed,
                duration,
                boards: args.boards.as_deref(),
                spike_input: None,
                quiet: true,
                verb: "running",
            };
            let figures = figures(&args.input, &target, &run).map_err(|e| match e {
                Failure::Interrupted(what) => Failure::Interrupted(format!(
                    "{what}; the points finished so far are kept in {}: the same command resumes there",
                    args.out.display()
                )),
                other => other,
            })?;
            let point = Point { key, settings: settings.clone(), figures };
            let json = serde_json::to_string_pretty(&point).map_err(|e| Failure::Internal(e.into()))?;
            write_atomic(&file, |w: &mut dyn Write| w.write_all(json.as_bytes()))
                .map_err(|e| Failure::User(format!("error: {e:#}\n")))?;
            bar.inc(1);
            Ok(point)
        })
        .collect::<Result<_, _>>()?;
    bar.finish_and_clear();
    let keys: Vec<&str> = axes.iter().map(|a| a.0.as_str()).collect();
    // SpiNNaker's machine columns stay empty for other families; the size column counts the family's unit.
    let unit = results.first().map_or("cores", |p| p.figures.size_unit.as_str());
    let rows = design::rows(
        results.iter().map(|p| (p.settings.clone(), target_name.clone(), p.figures.clone())).collect(),
        objective,
        &limits,
    );
    let feasible: Vec<bool> = rows.iter().map(|r| r.feasible).collect();
    let recommended = rows.iter().position(|r| r.recommended);
    let mut csv = format!(
        "{},{unit},chips,energy_j,energy_per_synaptic_event_j,step_latency_s,overruns,dropped_packets,rate_error,\
         wall_plug_energy_j,ring_buffer_saturations,feasible\n",
        keys.join(",")
    );
    for (p, &ok) in results.iter().zip(&feasible) {
        let f = &p.figures;
        let values: Vec<String> = p.settings.iter().map(|s| s.1.to_string()).collect();
        let [chips, overruns, dropped, saturations] = f.machine.map_or(Default::default(), |m| {
            [m.chips, m.overruns, m.dropped_packets, m.ring_buffer_saturations].map(|x| x.to_string())
        });
        csv += &format!(
            "{},{},{chips},{},{},{},{overruns},{dropped},{},{},{saturations},{}\n",
            values.join(","),
            f.size,
            f.energy_j,
            f.energy_per_synaptic_event_j,
            f.step_latency_s,
            f.rate_error,
            f.wall_plug_energy_j,
            u8::from(ok)
        );
    }
    write_atomic(&args.out.join("sweep.csv"), |w: &mut dyn Write| w.write_all(csv.as_bytes()))
        .map_err(|e| Failure::User(format!("error: {e:#}\n")))?;
    let label = |p: &Point| p.settings.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ");
    let marks: Vec<Mark> = rows
        .iter()
        .map(|r| match (r.recommended, r.pareto_optimal, r.feasible) {
            (true, _, _) => Mark::Recommended,
            (_, true, _) => Mark::Optimal,
            (_, _, true) => Mark::Feasible,
            _ => Mark::Infeasible,
        })
        .collect();
    let limits_text = if limits.is_empty() {
        "no limits".to_string()
    } else {
        limits.iter().map(|l| format!("{} <= {}", l.figure.name(), l.figure.show(l.max))).collect::<Vec<_>>().join(", ")
    };
    let verdict = match recommended {
        Some(i) => format!(
            "recommended (least {} with {limits_text}): {} ({} = {})",
            objective.name(),
            label(&results[i]),
            objective.name(),
            objective.show(objective.of(&results[i].figures))
        ),
        None => format!("no point meets the limits ({limits_text})"),
    };
    let html = page(
        &format!("soma sweep: {} on {}", args.input.file.display(), args.target),
        &[
            format!(
                "<p>{} points of {} s each; {} of them feasible ({limits_text}). Green: the {}. Red: Pareto-optimal \
                 among the feasible points (no other feasible point has both lower energy and lower step latency). \
                 Grey: infeasible.</p>",
                results.len(),
                duration,
                feasible.iter().filter(|&&f| f).count(),
                esc(&verdict)
            ),
            pareto(
                &results.iter().map(|p| (p.figures.step_latency_s, p.figures.energy_j, label(p))).collect::<Vec<_>>(),
                &marks,
                ("step latency", "s"),
                ("energy", "J"),
            ),
            table(
                &[
                    &keys.join(", "),
                    unit,
                    "energy",
                    "energy per synaptic event",
                    "step latency",
                    "overruns",
                    "dropped",
                    "rate error",
                    "feasible",
                ],
                &results
                    .iter()
                    .enumerate()
                    .map(|(i, p)| {
                        let f = &p.figures;
                        let (overruns, dropped) = f.machine.map_or(("-".into(), "-".into()), |m| {
                            (m.overruns.to_string(), m.dropped_packets.to_string())
                        });
                        vec![
                            label(p),
                            f.size.to_string(),
                            Figure::Energy.show(f.energy_j),
                            Figure::EnergyPerEvent.show(f.energy_per_synaptic_event_j),
                            Figure::StepLatency.show(f.step_latency_s),
                            overruns,
                            dropped,
                            Figure::RateError.show(f.rate_error),
                            if feasible[i] { "yes" } else { "no" }.to_string(),
                        ]
                    })
                    .collect::<Vec<_>>(),
            ),
            format!("<p class=\"note\">Points are in {}.</p>", esc(&args.out.join("points").display().to_string())),
        ],
    );
    write_atomic(&args.out.join("sweep.html"), |w: &mut dyn Write| w.write_all(html.as_bytes()))
        .map_err(|e| Failure::User(format!("error: {e:#}\n")))?;
    let reused = reused.into_inner();
    for why in refused.into_inner().unwrap_or_default() {
        eprintln!("recomputed: {why}");
    }
    eprintln!("{verdict}");
    eprintln!(
        "{} points: {} computed, {} reused from {}",
        results.len(),
        results.len() - reused,
        reused,
        args.out.display()
    );
    if args.json {
        let json = serde_json::to_string_pretty(&rows).map_err(|e| Failure::Internal(e.into()))?;
        crate::output::stdout(&(json + "\n"))?;
    } else {
        crate::output::stdout(&csv)?;
    }
    Ok(())
}
