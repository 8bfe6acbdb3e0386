//! What every family's command path shares: loading and instantiating a network behind a spinner, the
//! weight-error text, and the report pieces every run report carries (the summary flattened into the crossbar
//! and SFQ JSON, the target's constants with their sources).

use std::time::Instant;

use serde::{Deserialize, Serialize};
use soma_compiler::instantiate::instantiate;
use soma_compiler::spinnaker::PassTime;
use soma_compiler::weights::WeightError;
use soma_targets::Target;

pub use soma_runtime::fidelity::{Reference, Spikes, against_reference};

use crate::output::thousands;
use crate::{Failure, load};

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
    /// Spikes to draw: `(time s, population, neuron)` for neurons 0..100, at most 50,000.
    pub raster: Vec<(f64, String, u32)>,
}

impl RunSummary {
    /// The figures and the reference comparison's text that end a run's text report.
    pub fn text(&self, machine: &str) -> String {
        let mut s = format!(
            "synaptic events {}, {:.2e} J per event; step time {:.3e} s\n",
            thousands(self.synaptic_events),
            self.energy_per_synaptic_event_j,
            self.step_latency_s
        );
        if let Some(reference) = &self.reference {
            s += &reference.text(machine);
        }
        s + &format!("wall {:.2} s\n", self.wall_s)
    }
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
}

impl ConstantReport {
    /// Every constant of `target`.
    pub fn all(target: &Target) -> Vec<ConstantReport> {
        target
            .constants()
            .into_iter()
            .map(|(name, c)| ConstantReport { name, value: c.value, source: c.source.clone() })
            .collect()
    }
}

/// Loads and instantiates `input`, naming the pass on `spinner`: the instance, the passes' times and the input's
/// display name.
pub fn instance_of(
    input: &crate::InputArgs,
    spike_input: Option<&std::path::Path>,
    seed: u64,
    spinner: &indicatif::ProgressBar,
) -> Result<(soma_isa::instance::Instance, Vec<PassTime>, String), Failure> {
    spinner.set_message(format!("loading {}", input.file.display()));
    let t0 = Instant::now();
    let loaded = load::load(input, spike_input, &[])?;
    let mut passes = vec![PassTime { name: "load", wall_s: t0.elapsed().as_secs_f64() }];
    refuse_oversize(&loaded.network, &loaded.name)?;
    spinner.set_message("instantiating synapses");
    let t0 = Instant::now();
    let inst = instantiate(&loaded.network, seed)
        .map_err(|e| Failure::User(format!("error: {}: {}\n", loaded.name, e.message)))?;
    passes.push(PassTime { name: "instantiate", wall_s: t0.elapsed().as_secs_f64() });
    Ok((inst, passes, loaded.name))
}

/// A spinner on stderr (drawn only on a terminal), hidden when `quiet`.
pub fn spinner(quiet: bool) -> indicatif::ProgressBar {
    let spinner = if quiet {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr())
    };
    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    spinner
}

/// The weight quantisation error, overall and per projection with synapses.
pub fn weight_error_text(rms: f64, errors: &[WeightError]) -> String {
    let mut s = format!("weight quantisation error: RMS {rms:.2e} relative\n");
    for e in errors.iter().filter(|e| e.synapses > 0) {
        s += &format!(
            "  {:<24} max {:.2e}, RMS {:.2e} over {} synapses\n",
            e.projection,
            e.max_relative,
            e.rms_relative,
            thousands(e.synapses)
        );
    }
    s
}

/// Clears a spinner however the function it belongs to returns.
pub struct ClearOnDrop<'a>(pub &'a indicatif::ProgressBar);

impl Drop for ClearOnDrop<'_> {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

/// Refuses the resistive-device flags (`--nonideal`, `--device-random`, `--read-after`, `--adc-range`) on a run
/// they do not apply to; `what` says what runs (`"sfq_mitll is a sfq target"`).
pub fn refuse_device_flags(args: &crate::RunArgs, what: &str) -> Result<(), Failure> {
    if args.nonideal != "none" || args.device_random.is_some() || args.read_after != "0s" || args.adc_range != 1.0 {
        return Err(Failure::User(format!(
            "error: --nonideal, --device-random, --read-after and --adc-range model resistive devices; {what}\n"
        )));
    }
    Ok(())
}

/// The steps of `duration` s at `dt`, refused (naming `--duration TEXT`) beyond the 2^32 - 1 steps a run can
/// record, before any work.
pub fn steps(text: &str, duration: f64, dt: f64) -> Result<u64, Failure> {
    let steps = (duration / dt).round();
    if !(steps <= u32::MAX as f64) {
        return Err(Failure::User(format!(
            "error: --duration {text}: {steps:.3e} time steps of {dt} s is more than the {} steps a run can record\n",
            u32::MAX
        )));
    }
    Ok(steps as u64)
}

/// Memory this machine has available now (Linux `MemAvailable`), or `None` where it cannot tell.
pub fn available_memory() -> Option<f64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024.0)
}

/// Bytes as text with a binary prefix (`3.2 GiB`).
pub fn bytes_text(bytes: f64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let k = if bytes >= 1.0 { ((bytes.log2() / 10.0).floor() as usize).min(units.len() - 1) } else { 0 };
    format!("{:.1} {}", bytes / 1024f64.powi(k as i32), units[k])
}

/// Refuses, before any allocation, a network whose instantiation needs more memory than the machine has
/// available, with the estimate and what to change.
pub fn refuse_oversize(net: &soma_compiler::ir::Network, name: &str) -> Result<(), Failure> {
    let e = soma_compiler::instantiate::estimate(net);
    let Some(available) = available_memory() else { return Ok(()) };
    if e.bytes > available {
        return Err(Failure::User(format!(
            "error: {name}: {:.3e} neurons and {}{:.3e} synapses need at least {} to instantiate, and this machine has \
             {} available; scale the network down (e.g. --set scale=...) or run it on a larger machine\n",
            e.neurons,
            if e.exact { "" } else { "~" },
            e.synapses,
            bytes_text(e.bytes),
            bytes_text(available)
        )));
    }
    Ok(())
}
