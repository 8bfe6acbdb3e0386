//! `soma compare`: the same network on several targets, one table and one HTML page: energy per model second
//! (on chip, and at the wall: times the cryocooler's factor for SFQ) and per synaptic event, step latency, cores,
//! tiles or junctions, and fidelity against the float reference. Crossbar targets run without non-idealities.
//! Where a target is of the first one's family, what explains the difference follows the table: each energy
//! term of both runs and every constant whose value differs.

use std::io::Write;

use soma_compiler::backend;
use soma_runtime::engine;
pub use soma_runtime::engine::Figures;
use soma_targets::Target;

use crate::output::write_atomic;
use crate::pipeline::{self, RunAsk};
use crate::{CompareArgs, Failure, InputArgs};
use soma_isa::report::{exact, si};
use soma_runtime::html::{bars, page, table};

/// What `compare` and `sweep` run each point with.
pub struct FigureRun<'a> {
    /// Seed of the network and its inputs.
    pub seed: u64,
    /// Model time, s.
    pub duration: f64,
    /// `--boards`, where given.
    pub boards: Option<&'a str>,
    /// `--input` for a NIR graph's Input nodes, where given.
    pub spike_input: Option<&'a std::path::Path>,
    /// No spinner or progress bar.
    pub quiet: bool,
    /// What the progress bar calls the run.
    pub verb: &'a str,
}

/// Compiles `input` for `target` (on `boards`, or the smallest machine that fits), runs it for `duration` s next
/// to the float reference, and gives the headline figures. Crossbar targets run without non-idealities.
pub fn figures(input: &InputArgs, target: &Target, run: &FigureRun) -> Result<Figures, Failure> {
    Ok(measure(input, target, run)?.figures)
}

/// As [`figures`], the whole run.
fn measure(input: &InputArgs, target: &Target, run: &FigureRun) -> Result<engine::Run, Failure> {
    let backend = backend::for_target(target).map_err(|e| Failure::Internal(e.into()))?;
    let engine = engine::for_target(target).map_err(|e| Failure::Internal(e.into()))?;
    let boards = pipeline::boards(run.boards, backend)?;
    let built = pipeline::build(
        &pipeline::Network { input, spike_input: run.spike_input, probes: &[] },
        target,
        backend,
        Some(engine),
        (boards, run.boards),
        run.seed,
        run.quiet,
    )?;
    let ask = RunAsk {
        weights: (&[], 1),
        network: &built.loaded.name,
        duration_s: run.duration,
        instance: Some(&built.inst),
        compare: true,
        mapping: Some(&*built.compiled.mapping),
        devices: None,
        quiet: run.quiet,
        verb: run.verb,
    };
    pipeline::execute(engine, &*built.compiled.artifact, target, &ask)
}

/// The energy terms of a run's report (`energy_breakdown_j`), where its family reports them.
fn energy_terms(run: &engine::Run) -> std::collections::BTreeMap<String, f64> {
    match run.report.json().get("energy_breakdown_j") {
        Some(serde_json::Value::Object(terms)) => {
            terms.iter().filter_map(|(k, v)| Some((k.clone(), v.as_f64()?))).collect()
        }
        _ => Default::default(),
    }
}

/// One target's row of `compare --json`: its figures and, against the first target where it is of its family,
/// what explains the difference.
#[derive(serde::Serialize)]
struct Row {
    target: String,
    duration_s: f64,
    figures: Figures,
    /// The run's energy terms (J), where its family reports them.
    energy_terms_j: std::collections::BTreeMap<String, f64>,
    /// The first target, where this one is of its family.
    against: Option<String>,
    /// Constants whose values differ from `against`'s.
    constants_that_differ: Vec<Difference>,
}

/// A constant that differs between two targets of one family.
#[derive(serde::Serialize)]
struct Difference {
    constant: String,
    from: f64,
    to: f64,
}

/// What explains `row`'s figures against `first`'s (same family): the energy terms side by side and the
/// constants that differ.
fn explain(first: &Row, row: &Row) -> String {
    let mut s = format!("{} against {}:\n", row.target, first.target);
    if !row.energy_terms_j.is_empty() {
        let terms: Vec<String> = first
            .energy_terms_j
            .iter()
            .zip(&row.energy_terms_j)
            .map(|((name, a), (_, b))| format!("{} {} -> {}", name.replace('_', " "), si(*a, "J"), si(*b, "J")))
            .collect();
        s += &format!("  energy terms: {}\n", terms.join(", "));
    }
    let changed: Vec<String> = row
        .constants_that_differ
        .iter()
        .map(|d| format!("{} {} -> {}", d.constant, exact(d.from), exact(d.to)))
        .collect();
    s += &format!("  constants that differ ({}): {}\n", changed.len(), changed.join(", "));
    s
}

/// Runs the command.
pub fn run(args: &CompareArgs) -> Result<(), Failure> {
    crate::output::check_outputs(
        &[&args.input.file],
        &[("--html", args.html.as_deref(), crate::output::Output::File)],
    )?;
    let duration = crate::load::time("--duration", &args.duration, false)?;
    let (mut rows, mut html_rows): (Vec<Vec<String>>, Vec<Vec<String>>) = (Vec::new(), Vec::new());
    let mut energies = Vec::new();
    let mut explanations = String::new();
    let mut records: Vec<Row> = Vec::new();
    let mut first_target: Option<Target> = None;
    let names: Vec<&str> = args.targets.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
    for (i, &name) in names.iter().enumerate() {
        let target = soma_targets::lookup(name).map_err(|e| Failure::User(format!("error: {e}\n")))?;
        let verb = format!("running on {name} (target {} of {})", i + 1, names.len());
        let run = FigureRun {
            seed: args.seed,
            duration,
            boards: None,
            spike_input: args.spike_input.as_deref(),
            quiet: args.quiet,
            verb: &verb,
        };
        let measured = measure(&args.input, &target, &run)?;
        let against = first_target.as_ref().filter(|f| f.family_name() == target.family_name());
        let row = Row {
            target: name.to_string(),
            duration_s: duration,
            figures: measured.figures.clone(),
            energy_terms_j: energy_terms(&measured),
            against: against.map(|f| f.name.clone()),
            constants_that_differ: against.map_or(Vec::new(), |f| {
                target
                    .differences(f)
                    .into_iter()
                    .map(|(constant, from, to)| Difference { constant, from, to })
                    .collect()
            }),
        };
        if against.is_some() {
            explanations += &explain(&records[0], &row);
        }
        first_target.get_or_insert(target);
        records.push(row);
        let f = measured.figures;
        let (energy, wall_plug, per_event, latency, err) =
            (f.energy_j, f.wall_plug_energy_j, f.energy_per_synaptic_event_j, f.step_latency_s, f.rate_error);
        let unit = if f.size_unit == "junctions" { "JJs" } else { &f.size_unit };
        let units = format!("{} {unit}", f.size);
        let [chips, overruns, saturations] = f.machine.map_or(["-".into(), "-".into(), "-".into()], |m| {
            [m.chips.to_string(), m.overruns.to_string(), m.ring_buffer_saturations.to_string()]
        });
        let (power, wall_power) =
            (energy / duration.max(f64::MIN_POSITIVE), wall_plug / duration.max(f64::MIN_POSITIVE));
        energies.push((name.to_string(), power));
        let error = if f.silent_reference_hz > 0.0 {
            format!("{:.2}%; {:.3} Hz where the reference is silent", err * 100.0, f.silent_reference_hz)
        } else {
            format!("{:.2}%", err * 100.0)
        };
        let html_size = format!("{} {unit}", crate::output::thousands(f.size));
        let machine = [chips.clone(), overruns.clone(), saturations.clone()];
        html_rows.push(
            [name.to_string(), si(power, "W"), si(wall_power, "W"), si(per_event, "J"), si(latency, "s"), html_size]
                .into_iter()
                .chain(machine)
                .chain([error.clone()])
                .collect(),
        );
        rows.push(vec![
            name.to_string(),
            format!("{power:.4e}"),
            format!("{wall_power:.4e}"),
            format!("{per_event:.3e}"),
            format!("{latency:.3e}"),
            units,
            chips,
            overruns,
            saturations,
            error,
        ]);
    }
    // Each column's name and the unit of its text cells (the HTML cells carry their own units).
    let columns = [
        ("target", ""),
        ("energy per model second", "W"),
        ("at the wall: box, frames or cooling", "W"),
        ("energy per synaptic event", "J"),
        ("step latency", "s"),
        ("cores / tiles / JJs", ""),
        ("chips", ""),
        ("overruns", ""),
        ("ring-buffer saturations", ""),
        ("mean rate error", ""),
    ];
    let header: Vec<String> = columns
        .iter()
        .map(|&(name, unit)| if unit.is_empty() { name.into() } else { format!("{name} ({unit})") })
        .collect();
    let mut text = header.join(" | ") + "\n";
    for r in &rows {
        text += &(r.join(" | ") + "\n");
    }
    text += &explanations;
    crate::output::emit(&text, args.json, &records)?;
    if let Some(path) = &args.html {
        let html = page(
            &format!("soma compare: {}", args.input.file.display()),
            &[
                format!(
                    "<p>{} s of model time on each target; rate error is against the float reference.</p>",
                    duration
                ),
                bars(&energies, "W"),
                table(&columns.map(|(name, _)| name), &html_rows),
                format!("<pre>{}</pre>", soma_runtime::html::esc(&explanations)),
            ],
        );
        write_atomic(path, |w: &mut dyn Write| w.write_all(html.as_bytes()))
            .map_err(|e| Failure::User(format!("error: {e:#}\n")))?;
        crate::output::note(args.quiet, &format!("wrote {}", path.display()));
    }
    Ok(())
}
