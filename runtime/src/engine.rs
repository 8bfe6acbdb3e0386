//! The engine contract: every hardware family runs its `isa` artifact behind [`Engine`] (decode and check an
//! image, run it on a target with the inputs it carries, return spikes, a typed report with the ledger and
//! counters, and the headline [`Figures`]), found by family name or by an image's tag in [`ENGINES`]. The
//! commands run, compare and sweep through it and never name a family; a new family adds one line to
//! [`ENGINES`].

use std::sync::atomic::AtomicBool;

use serde::{Deserialize, Serialize};
use soma_isa::Invalid;
use soma_isa::codec::{AnyArtifact, Artifact, CodecError};
use soma_isa::instance::Instance;
use soma_isa::report::Report;
use soma_targets::Target;
use thiserror::Error;

use crate::fidelity::{Reference, Spikes};
use crate::reference::{WeightProbe, WeightTrace};

/// What a resistive-device family is asked to model besides the ideal arrays (the crossbar's `--nonideal`,
/// `--read-after`, `--device-random`, `--adc-range`); engines without devices refuse them.
#[derive(Clone, Debug, PartialEq)]
pub struct Devices {
    /// Non-idealities: `none`, `all`, or some of `program_noise,read_noise,stuck,drift`.
    pub nonideal: String,
    /// Read time after programming, s (drift).
    pub read_after_s: f64,
    /// Projections whose weights the devices draw at random.
    pub device_random: Vec<String>,
    /// Fraction of full scale the ADCs cover, in (0, 1].
    pub adc_range: f64,
}

impl Default for Devices {
    fn default() -> Devices {
        Devices { nonideal: "none".into(), read_after_s: 0.0, device_random: Vec::new(), adc_range: 1.0 }
    }
}

/// One run of an artifact.
pub struct Job<'a> {
    /// The family's image (compiled here, or decoded from a file).
    pub artifact: &'a dyn AnyArtifact,
    /// The target it runs on (the one it was compiled for).
    pub target: &'a Target,
    /// What to call the network in the report.
    pub network: &'a str,
    /// Model time, s.
    pub duration_s: f64,
    /// Time steps ([`steps`] of the duration).
    pub steps: u64,
    /// The network the artifact was compiled from, where known (counts and the reference comparison).
    pub instance: Option<&'a Instance>,
    /// Also run the float reference on `instance` and compare.
    pub compare: bool,
    /// The backend's mapping report, for families whose run report carries it.
    pub mapping: Option<&'a dyn Report>,
    /// Device models asked for (`None`: ideal devices, or a family without devices).
    pub devices: Option<&'a Devices>,
    /// Called with the steps done now and then.
    pub progress: &'a (dyn Fn(u64) + Sync),
    /// Plastic synapses whose weights the run samples, every `weight_every` steps (sample `k` at the end of step
    /// `(k + 1) weight_every - 1`, as the reference samples them); families that do not sample weights
    /// ([`Engine::samples_weights`]) refuse a job with any.
    pub weight_probes: &'a [WeightProbe],
    /// Steps between two weight samples (at least 1).
    pub weight_every: u64,
    /// Set (from a signal handler, another thread, or `progress`) to end the run early with
    /// [`RunError::Interrupted`]; checked where progress is reported.
    pub stop: Option<&'a AtomicBool>,
}

/// What a run produced.
pub struct Run {
    /// Every spike as `(step, population, neuron)`, in time order.
    pub spikes: Spikes,
    /// Population names, as spikes index them.
    pub populations: Vec<String>,
    /// Their sizes (neurons or channels).
    pub sizes: Vec<u32>,
    /// The time step, s.
    pub dt: f64,
    /// Steps run (fewer than asked only when stopped).
    pub steps: u64,
    /// The family's report (the `run --json` output).
    pub report: Box<dyn Report>,
    /// The headline figures `compare` and `sweep` tabulate.
    pub figures: Figures,
    /// Membrane potentials of the network's `v` probes as the hardware held them (families that record them).
    pub traces: Vec<ChipTrace>,
    /// The final weights of each plastic projection, by name, in the network's synapse order and weight unit.
    pub learned: Vec<(String, Vec<f64>)>,
    /// The weights `job.weight_probes` sampled, in the model's weight unit.
    pub weight_traces: Vec<WeightTrace>,
}

/// A `v` probe recorded on the hardware, every step (after the step's update, as the reference records).
#[derive(Clone, Debug, PartialEq)]
pub struct ChipTrace {
    /// Population name.
    pub population: String,
    /// Neurons recorded.
    pub neurons: Vec<u32>,
    /// `steps x neurons` membrane potentials in SI units (V; unitless models as they are), step-major.
    pub values: Vec<f64>,
    /// The same values as the hardware's state holds them (the s16.15 register's integer on SpiNNaker).
    pub raw: Vec<i64>,
    /// The float reference's values of the same neurons (SI), when the run was compared.
    pub reference: Option<Vec<f64>>,
}

impl Run {
    /// The run of an image that carries its network `inst` (spikes indexed by its populations, its time step).
    pub fn of_instance(inst: &Instance, spikes: Spikes, steps: u64, report: Box<dyn Report>, figures: Figures) -> Run {
        Run {
            spikes,
            populations: crate::report::population_names(inst),
            sizes: inst.populations.iter().map(|p| p.size() as u32).collect(),
            dt: inst.dt,
            steps,
            report,
            figures,
            traces: Vec::new(),
            learned: Vec::new(),
            weight_traces: Vec::new(),
        }
    }
}

/// Why an artifact does not run.
#[derive(Clone, Debug, Error, PartialEq)]
pub enum RunError {
    /// The image does not decode or breaks the contract.
    #[error("{0}")]
    Codec(#[from] CodecError),
    /// The image does not load on the target (other constants, too large).
    #[error("{0}")]
    Load(String),
    /// Something asked of the run that the family cannot do.
    #[error("{0}")]
    Unsupported(String),
    /// An option's value is not one the family takes.
    #[error("{0}")]
    Option(String),
    /// The run was stopped ([`Job::stop`]) after this many of its steps.
    #[error("interrupted after {done} of {steps} steps")]
    Interrupted {
        /// Steps done.
        done: u64,
        /// Steps asked for.
        steps: u64,
    },
}

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

/// What only a machine of cores and chips reports.
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

impl Figures {
    /// Why the figures cannot be a run's (for figures read back from a file): negative or non-finite energies and
    /// times, an empty size.
    pub fn check(&self) -> Result<(), Invalid> {
        let quantities = [
            ("energy_j", self.energy_j),
            ("wall_plug_energy_j", self.wall_plug_energy_j),
            ("energy_per_synaptic_event_j", self.energy_per_synaptic_event_j),
            ("step_latency_s", self.step_latency_s),
            ("silent_reference_hz", self.silent_reference_hz),
        ];
        if let Some((name, v)) = quantities.iter().find(|(_, v)| !(v.is_finite() && *v >= 0.0)) {
            return Err(format!("{name} = {v} is not a finite non-negative quantity").into());
        }
        if !(self.rate_error.is_nan() || (self.rate_error.is_finite() && self.rate_error >= 0.0)) {
            return Err(format!("rate_error = {} is not a mean absolute error", self.rate_error).into());
        }
        if !["cores", "tiles", "junctions"].contains(&self.size_unit.as_str()) {
            return Err(format!("size_unit `{}` is not cores, tiles or junctions", self.size_unit).into());
        }
        Ok(())
    }
}

/// The mean rate error and the largest rate where the reference is silent, of a comparison (`NaN` and 0 without
/// one).
pub fn fidelity_figures(reference: Option<&Reference>) -> (f64, f64) {
    reference.map_or((f64::NAN, 0.0), |f| (f.mean_rate_error(), f.silent_reference_hz()))
}

/// A hardware family's engine.
pub trait Engine: Sync {
    /// The family's name, as presets spell it (`family = "..."`).
    fn family(&self) -> &'static str;
    /// Whether `bytes` are this family's image (its codec tag).
    fn reads(&self, bytes: &[u8]) -> bool;
    /// Decodes and validates an image of this family.
    fn decode(&self, bytes: &[u8]) -> Result<Box<dyn AnyArtifact>, CodecError>;
    /// Whether the family models resistive devices ([`Devices`]); the others refuse them.
    fn models_devices(&self) -> bool;
    /// Whether the family records its hardware's membrane potentials for the network's `v` probes.
    fn records_traces(&self) -> bool;
    /// Whether the family samples plastic weights over a run ([`Job::weight_probes`]).
    fn samples_weights(&self) -> bool;
    /// The network an image carries, for the families whose images do (the reference comparison of an image).
    fn network<'a>(&self, artifact: &'a dyn AnyArtifact) -> Option<&'a Instance>;
    /// Runs `job.artifact` (an image of this family) on `job.target`.
    fn run(&self, job: &Job) -> Result<Run, RunError>;
    /// Peak bytes of a run per byte of its encoded image (the image read and decoded, the engine's state): an
    /// estimate from measured peaks, so that a run that cannot fit is refused before it starts.
    fn run_bytes_per_image_byte(&self) -> f64;
}

/// A family's engine on its own image type: what each family writes. Every `FamilyEngine` is an [`Engine`]
/// (decoding, tag and downcast are done once, here).
pub trait FamilyEngine: Sync {
    /// The family's image.
    type Image: Artifact + Send + Sync + 'static;
    /// See [`Engine::family`].
    const FAMILY: &'static str;
    /// See [`Engine::models_devices`].
    const MODELS_DEVICES: bool;
    /// See [`Engine::records_traces`].
    const RECORDS_TRACES: bool;
    /// See [`Engine::samples_weights`].
    const SAMPLES_WEIGHTS: bool;
    /// See [`Engine::run_bytes_per_image_byte`].
    const RUN_BYTES_PER_IMAGE_BYTE: f64;
    /// See [`Engine::network`].
    fn network(image: &Self::Image) -> Option<&Instance>;
    /// See [`Engine::run`]; `image` is `job.artifact`.
    fn run(&self, image: &Self::Image, job: &Job) -> Result<Run, RunError>;
}

impl<E: FamilyEngine> Engine for E {
    fn family(&self) -> &'static str {
        E::FAMILY
    }

    fn reads(&self, bytes: &[u8]) -> bool {
        soma_isa::codec::is::<E::Image>(bytes)
    }

    fn decode(&self, bytes: &[u8]) -> Result<Box<dyn AnyArtifact>, CodecError> {
        Ok(Box::new(soma_isa::codec::decode::<E::Image>(bytes)?))
    }

    fn models_devices(&self) -> bool {
        E::MODELS_DEVICES
    }

    fn records_traces(&self) -> bool {
        E::RECORDS_TRACES
    }

    fn samples_weights(&self) -> bool {
        E::SAMPLES_WEIGHTS
    }

    fn network<'a>(&self, artifact: &'a dyn AnyArtifact) -> Option<&'a Instance> {
        artifact.as_any().downcast_ref::<E::Image>().and_then(E::network)
    }

    fn run_bytes_per_image_byte(&self) -> f64 {
        E::RUN_BYTES_PER_IMAGE_BYTE
    }

    fn run(&self, job: &Job) -> Result<Run, RunError> {
        let image =
            job.artifact.as_any().downcast_ref::<E::Image>().ok_or_else(|| {
                RunError::Unsupported(format!("a {} is not a {} image", job.artifact.kind(), E::FAMILY))
            })?;
        check_devices(self, job.devices, job.target)?;
        if !job.weight_probes.is_empty() && !E::SAMPLES_WEIGHTS {
            return Err(RunError::Unsupported(format!(
                "the {} engine does not sample weights over a run yet (spinnaker and crossbar targets do; \
                 `soma simulate --weight-probe` gives the reference's)",
                E::FAMILY
            )));
        }
        let run = FamilyEngine::run(self, image, job)?;
        match job.stop {
            Some(stop) if stop.load(std::sync::atomic::Ordering::Relaxed) => {
                Err(RunError::Interrupted { done: run.steps, steps: job.steps })
            }
            _ => Ok(run),
        }
    }
}

/// Every family's engine.
pub static ENGINES: &[&dyn Engine] = &[&crate::spinnaker::Engine, &crate::crossbar::Engine, &crate::sfq::Engine];

/// The engine of `family`.
pub fn lookup(family: &str) -> Option<&'static dyn Engine> {
    ENGINES.iter().copied().find(|e| e.family() == family)
}

/// The engine for `target`'s family.
pub fn for_target(target: &Target) -> Result<&'static dyn Engine, RunError> {
    lookup(target.family_name()).ok_or_else(|| {
        RunError::Unsupported(format!("{}: no engine for the `{}` family", target.name, target.family_name()))
    })
}

/// The engine whose image `bytes` are.
pub fn for_image(bytes: &[u8]) -> Option<&'static dyn Engine> {
    ENGINES.iter().copied().find(|e| e.reads(bytes))
}

/// What running an image of `image_bytes` on `engine` needs of memory at its peak (an estimate).
pub fn image_need(engine: &dyn Engine, image_bytes: f64) -> soma_isa::memory::Need {
    soma_isa::memory::Need {
        bytes: image_bytes * engine.run_bytes_per_image_byte(),
        step: "to run".into(),
        basis: Some(format!(
            "a {} {} image at about {} bytes an image byte, an estimate",
            soma_isa::memory::bytes_text(image_bytes),
            engine.family(),
            engine.run_bytes_per_image_byte()
        )),
    }
}

/// The target an image runs on: `named` if given, else the description the image carries (so it runs wherever
/// it is copied), else the preset it names. The target must be of `family` and have the constants the image was
/// compiled with.
pub fn target_of(artifact: &dyn AnyArtifact, named: Option<&str>, family: &str) -> Result<Target, RunError> {
    let (preset, fingerprint, text) = artifact.compiled_for();
    let carried = (!text.is_empty() && named.is_none())
        .then(|| soma_targets::parse(preset, text).ok())
        .flatten()
        .filter(|t| t.fingerprint == fingerprint);
    let target = match carried {
        Some(t) => t,
        None => soma_targets::lookup(named.unwrap_or(preset)).map_err(|e| RunError::Load(e.to_string()))?,
    };
    if target.family_name() != family || target.fingerprint != fingerprint {
        return Err(RunError::Load(format!(
            "compiled for {preset} with other constants than {} has now: compile it again",
            target.name
        )));
    }
    Ok(target)
}

/// Refuses device models on `engine`'s family if it has no devices, before any work.
pub fn check_devices(engine: &dyn Engine, devices: Option<&Devices>, target: &Target) -> Result<(), RunError> {
    match devices {
        Some(_) if !engine.models_devices() => Err(RunError::Unsupported(format!(
            "--nonideal, --device-random, --read-after and --adc-range model resistive devices; {} is a {} target",
            target.name,
            target.family_name()
        ))),
        _ => Ok(()),
    }
}

/// The time steps of `duration_s` at `dt`, refused beyond the 2^32 - 1 steps a run can record, before any work.
pub fn steps(duration_s: f64, dt: f64) -> Result<u64, RunError> {
    let steps = (duration_s / dt).round();
    if steps.is_nan() || steps > u32::MAX as f64 {
        return Err(RunError::Option(format!(
            "{steps:.3e} time steps of {dt} s is more than the {} steps a run can record",
            u32::MAX
        )));
    }
    Ok(steps as u64)
}
