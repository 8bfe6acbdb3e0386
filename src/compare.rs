//! `soma compare`: the same network on several targets, one table and one HTML page: energy per model second
//! (on chip, and at the wall: times the cryocooler's factor for SFQ) and per synaptic event, step latency, cores,
//! tiles or junctions, and fidelity against the float reference. Crossbar targets run without non-idealities.

use std::io::Write;

use serde::{Deserialize, Serialize};
use soma_targets::Target;

use crate::family::FigureRun;
use crate::html::{bars, page, table};
use crate::output::write_atomic;
use crate::pipeline::Reference;
use crate::{CompareArgs, Failure, InputArgs};

/// One target's headline figures for a network, whatever the target's family.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Figures {
    /// Energy on chip over the run, J.
    pub energy_j: f64,
    /// Energy at the wall (with the cryocooler for SFQ; the chip's energy otherwise), J.
    pub wall_plug_energy_j: f64,
    /// Energy per synaptic event, J (on chip).
    pub energy_per_synaptic_event_j: f64,
    /// Hardware time of a step, s.
    pub step_latency_s: f64,
    /// How much hardware: cores, tiles or junctions.
    pub size: u64,
    /// What `size` counts: `cores`, `tiles` or `junctions`.
    pub size_unit: String,
    /// SpiNNaker only: the machine's own trouble counts.
    pub machine: Option<MachineFigures>,
    /// Mean absolute relative rate error against the float reference, over the populations it does not leave
    /// silent.
    pub rate_error: f64,
    /// The largest rate (Hz) of a population that the reference leaves silent (it has no relative error).
    #[serde(default)]
    pub silent_reference_hz: f64,
}

impl Figures {
    /// Why the figures cannot be a run's (for figures read back from a file): negative or non-finite energies and
    /// times, an empty size.
    pub fn check(&self) -> Result<(), String> {
        let quantities = [
            ("energy_j", self.energy_j),
            ("wall_plug_energy_j", self.wall_plug_energy_j),
            ("energy_per_synaptic_event_j", self.energy_per_synaptic_event_j),
            ("step_latency_s", self.step_latency_s),
            ("silent_reference_hz", self.silent_reference_hz),
        ];
        if let Some((name, v)) = quantities.iter().find(|(_, v)| !(v.is_finite() && *v >= 0.0)) {
            return Err(format!("{name} = {v} is not a finite non-negative quantity"));
        }
        if !(self.rate_error.is_nan() || (self.rate_error.is_finite() && self.rate_error >= 0.0)) {
            return Err(format!("rate_error = {} is not a mean absolute error", self.rate_error));
        }
        if !["cores", "tiles", "junctions"].contains(&self.size_unit.as_str()) {
            return Err(format!("size_unit `{}` is not cores, tiles or junctions", self.size_unit));
        }
        Ok(())
    }
}

/// What only a SpiNNaker-style machine reports.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
pub struct MachineFigures {
    /// Chips of the machine.
    pub chips: u64,
    /// Steps in which a core overran (summed over cores).
    pub overruns: u64,
    /// Packets dropped on full links.
    pub dropped_packets: u64,
    /// Weights that saturated a ring-buffer entry (absent in sweep points written before soma counted them).
    #[serde(default)]
    pub ring_buffer_saturations: u64,
}

/// Compiles or lowers `input` for `target` (SpiNNaker machines of `boards`), runs it for `duration` s next to the
/// float reference, and gives the headline figures. Crossbar targets run without non-idealities.
pub fn figures(input: &InputArgs, target: &Target, run: &FigureRun) -> Result<Figures, Failure> {
    crate::family::for_target(target)?.figures(input, target, run)
}

/// The mean rate error and the largest rate where the reference is silent, of a comparison (`NaN` and 0 without one).
pub fn fidelity_figures(reference: Option<&Reference>) -> (f64, f64) {
    reference.map_or((f64::NAN, 0.0), |f| (f.mean_rate_error(), f.silent_reference_hz()))
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
