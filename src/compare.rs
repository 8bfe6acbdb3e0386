//! `soma compare`: the same network on several targets, one table and one HTML page: energy per model second
//! (on chip, and at the wall: times the cryocooler's factor for SFQ) and per synaptic event, step latency, cores,
//! tiles or junctions, and fidelity against the float reference. Crossbar targets run without non-idealities.

use std::io::Write;

use soma_compiler::backend;
use soma_runtime::engine;
pub use soma_runtime::engine::Figures;
use soma_targets::Target;

use crate::html::{bars, page, table};
use crate::output::write_atomic;
use crate::pipeline::{self, RunAsk};
use crate::{CompareArgs, Failure, InputArgs};

/// What `compare` and `sweep` run each point with.
pub struct FigureRun<'a> {
    /// Seed of the network and its inputs.
    pub seed: u64,
    /// Model time, s.
    pub duration: f64,
    /// `--boards`, where given.
    pub boards: Option<&'a str>,
    /// No spinner or progress bar.
    pub quiet: bool,
}

/// Compiles `input` for `target` (on `boards`, or the smallest machine that fits), runs it for `duration` s next
/// to the float reference, and gives the headline figures. Crossbar targets run without non-idealities.
pub fn figures(input: &InputArgs, target: &Target, run: &FigureRun) -> Result<Figures, Failure> {
    let backend = backend::for_target(target).map_err(|e| Failure::Internal(e.into()))?;
    let engine = engine::for_target(target).map_err(|e| Failure::Internal(e.into()))?;
    let boards = pipeline::boards(run.boards, backend, true)?;
    let built = pipeline::build(input, None, target, backend, (boards, run.boards), run.seed, run.quiet)?;
    let ask = RunAsk {
        network: &built.loaded.name,
        duration_s: run.duration,
        instance: Some(&built.inst),
        compare: true,
        mapping: Some(&*built.compiled.mapping),
        devices: None,
        quiet: run.quiet,
    };
    Ok(pipeline::execute(engine, &*built.compiled.artifact, target, &ask)?.figures)
}

/// Runs the command.
pub fn run(args: &CompareArgs) -> Result<(), Failure> {
    crate::output::check_outputs(
        &[&args.input.file],
        &[("--html", args.html.as_deref(), crate::output::Output::File)],
    )?;
    let duration = crate::load::time("--duration", &args.duration, false)?;
    let mut rows = Vec::new();
    let mut energies = Vec::new();
    for name in args.targets.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let target = soma_targets::lookup(name).map_err(|e| Failure::User(format!("error: {e}\n")))?;
        let run = FigureRun { seed: args.seed, duration, boards: None, quiet: args.quiet };
        let f = figures(&args.input, &target, &run)?;
        let (energy, wall_plug, per_event, latency, err) =
            (f.energy_j, f.wall_plug_energy_j, f.energy_per_synaptic_event_j, f.step_latency_s, f.rate_error);
        let units = format!("{} {}", f.size, if f.size_unit == "junctions" { "JJs" } else { &f.size_unit });
        let [chips, overruns, saturations] = f.machine.map_or(["-".into(), "-".into(), "-".into()], |m| {
            [m.chips.to_string(), m.overruns.to_string(), m.ring_buffer_saturations.to_string()]
        });
        energies.push((name.to_string(), energy / duration.max(f64::MIN_POSITIVE)));
        rows.push(vec![
            name.to_string(),
            format!("{:.4e}", energy / duration.max(f64::MIN_POSITIVE)),
            format!("{:.4e}", wall_plug / duration.max(f64::MIN_POSITIVE)),
            format!("{per_event:.3e}"),
            format!("{latency:.3e}"),
            units,
            chips,
            overruns,
            saturations,
            if f.silent_reference_hz > 0.0 {
                format!("{:.2}%; {:.3} Hz where the reference is silent", err * 100.0, f.silent_reference_hz)
            } else {
                format!("{:.2}%", err * 100.0)
            },
        ]);
    }
    let header = [
        "target",
        "energy per model second (W)",
        "at the wall, with cooling (W)",
        "J per synaptic event",
        "step latency (s)",
        "cores / tiles / JJs",
        "chips",
        "overruns",
        "ring-buffer saturations",
        "mean rate error",
    ];
    let mut text = header.join(" | ") + "\n";
    for r in &rows {
        text += &(r.join(" | ") + "\n");
    }
    crate::output::stdout(&text)?;
    if let Some(path) = &args.html {
        let html = page(
            &format!("soma compare: {}", args.input.file.display()),
            &[
                format!(
                    "<p>{} s of model time on each target; rate error is against the float reference.</p>",
                    duration
                ),
                bars(&energies, "W"),
                table(&header, &rows),
            ],
        );
        write_atomic(path, |w: &mut dyn Write| w.write_all(html.as_bytes()))
            .map_err(|e| Failure::User(format!("error: {e:#}\n")))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}
