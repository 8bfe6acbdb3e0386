//! `soma compare`: the same network on several targets, one table and one HTML page: energy per model second
//! (on chip, and at the wall: times the cryocooler's factor for SFQ) and per synaptic event, step latency, cores,
//! tiles or junctions, and fidelity against the float reference. Crossbar targets run without non-idealities.

use std::io::Write;

use soma_isa::units::Dim;

use crate::compile::build;
use crate::html::{bars, page, table};
use crate::load::quantity;
use crate::output::write_atomic;
use crate::run::execute;
use crate::{CompareArgs, Failure};

/// Runs the command.
#[allow(clippy::print_stdout)]
pub fn run(args: &CompareArgs) -> Result<(), Failure> {
    let duration = quantity("--duration", &args.duration, Dim::TIME)?;
    let mut rows = Vec::new();
    let mut energies = Vec::new();
    for name in args.targets.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let target = soma_targets::lookup(name).map_err(|e| Failure::User(format!("error: {e}\n")))?;
        // Energy on chip and at the wall (they differ for cryogenic targets), per event, step latency, size, chips
        // and overruns (SpiNNaker only), and the reference comparison.
        let (energy, wall_plug, per_event, latency, units, machine, reference) = if target.sfq().is_some() {
            let options = crate::sfq::Options { duration, compare: true, quiet: args.quiet };
            let (r, _, _) = crate::sfq::execute(&args.input, None, None, &target, args.seed, &options)?;
            let size = format!("{} JJs", r.ledger.junctions);
            (
                r.energy_j,
                r.wall_plug_energy_j,
                r.run.energy_per_synaptic_event_j,
                r.run.step_latency_s,
                size,
                None,
                r.run.reference,
            )
        } else if target.crossbar().is_some() {
            let options = crate::crossbar::Options {
                nonideal: "none",
                read_after: 0.0,
                device_random: None,
                adc_range: 1.0,
                duration,
                compare: true,
                quiet: args.quiet,
            };
            let (r, _, _) = crate::crossbar::execute(&args.input, None, None, &target, args.seed, &options)?;
            let size = format!("{} tiles", r.mapping.tiles);
            (
                r.energy_j,
                r.energy_j,
                r.run.energy_per_synaptic_event_j,
                r.run.step_latency_s,
                size,
                None,
                r.run.reference,
            )
        } else {
            let built = build(&args.input, None, &target, Some("auto"), args.seed, args.quiet)?;
            let (r, _) = execute(&built.image, &target, Some(&built), duration, true, args.quiet)?;
            let size = format!("{} cores", r.energy_counts.cores);
            let machine = Some((r.energy_counts.chips, r.overruns));
            (r.energy_j, r.energy_j, r.energy_per_synaptic_event_j, r.step_latency_s, size, machine, r.reference)
        };
        let err = reference.map_or(f64::NAN, |f| {
            f.populations.iter().map(|p| p.rate_error.abs()).sum::<f64>() / f.populations.len().max(1) as f64
        });
        let (chips, overruns) = machine.map_or(("-".into(), "-".into()), |(c, o)| (c.to_string(), o.to_string()));
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
            format!("{:.2}%", err * 100.0),
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
        "mean rate error",
    ];
    let mut text = header.join(" | ") + "\n";
    for r in &rows {
        text += &(r.join(" | ") + "\n");
    }
    print!("{text}");
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
