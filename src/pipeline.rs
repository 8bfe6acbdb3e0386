//! What `compile`, `run`, `compare` and `sweep` share, whatever the family: loading and instantiating a network
//! behind a spinner (refused before any allocation if it cannot fit), the machine size of `--boards`, compiling
//! through the family's backend, running through its engine with a progress bar, and how their errors read.

use std::time::Instant;

use soma_compiler::backend::{Backend, Boards, CompileError, Compiled, PassTime};
use soma_compiler::instantiate::instantiate;
use soma_compiler::memory::Work;
use soma_isa::instance::Instance;
use soma_runtime::engine::{Devices, Engine, Job, Run, RunError};
use soma_targets::Target;

use crate::{Failure, load};

/// Loads and instantiates `input`, naming the pass on `spinner`: the instance, the passes' times and what was
/// loaded (the network, for diagnostics at its source).
pub fn instance_of(
    input: &crate::InputArgs,
    spike_input: Option<&std::path::Path>,
    probes: &[String],
    seed: u64,
    work: Work,
    spinner: &indicatif::ProgressBar,
) -> Result<(soma_isa::instance::Instance, Vec<PassTime>, load::Loaded), Failure> {
    spinner.set_message(format!("loading {}", input.file.display()));
    let t0 = Instant::now();
    let loaded = load::load(input, spike_input, probes)?;
    let mut passes = vec![PassTime { name: "load", wall_s: t0.elapsed().as_secs_f64() }];
    refuse_oversize(&loaded.network, &loaded.name, work)?;
    spinner.set_message("instantiating synapses");
    let t0 = Instant::now();
    let inst = instantiate(&loaded.valid()?, seed)
        .map_err(|e| Failure::User(format!("error: {}: {}\n", loaded.name, e.message)))?;
    passes.push(PassTime { name: "instantiate", wall_s: t0.elapsed().as_secs_f64() });
    Ok((inst, passes, loaded))
}

/// The target `name` (a preset or a .toml) with `--target-set KEY=VALUE` settings applied.
pub fn target(name: &str, settings: &[String]) -> Result<soma_targets::Target, Failure> {
    let parsed = settings
        .iter()
        .map(|spec| {
            let bad = || {
                Failure::User(format!(
                    "error: --target-set {spec}: expected KEY=VALUE with a number, e.g. --target-set stdp_rounding=1\n"
                ))
            };
            let (key, value) = spec.split_once('=').ok_or_else(bad)?;
            let value = value.trim().parse::<f64>().ok().filter(|v| v.is_finite()).ok_or_else(bad)?;
            Ok((key.trim().to_string(), value))
        })
        .collect::<Result<Vec<_>, Failure>>()?;
    let target =
        if parsed.is_empty() { soma_targets::lookup(name) } else { soma_targets::with_overrides(name, &parsed) };
    target.map_err(|e| Failure::User(format!("error: {e}\n")))
}

/// A spinner on stderr (drawn only on a terminal), hidden when `quiet`.
pub fn spinner(quiet: bool) -> indicatif::ProgressBar {
    let spinner = if quiet {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr())
    };
    if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
        spinner.set_style(style);
    }
    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    spinner
}

/// Clears a spinner however the function it belongs to returns.
pub struct ClearOnDrop<'a>(pub &'a indicatif::ProgressBar);

impl Drop for ClearOnDrop<'_> {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

/// The steps of `duration` s at `dt`, refused (naming `--duration TEXT`) beyond what a run can record, before any
/// work.
pub fn steps(text: &str, duration: f64, dt: f64) -> Result<u64, Failure> {
    soma_runtime::engine::steps(duration, dt).map_err(|e| Failure::User(format!("error: --duration {text}: {e}\n")))
}

/// Refuses, before any allocation, a network whose `work` needs more memory than the machine has available, with
/// the estimate and what to change.
pub fn refuse_oversize(net: &soma_compiler::ir::Network, name: &str, work: Work) -> Result<(), Failure> {
    match soma_compiler::memory::refusal(net, work) {
        Some(why) => Err(Failure::User(format!("error: {name}: {why}\n"))),
        None => Ok(()),
    }
}

/// The engine of the image at `path` (from its magic number), refused before it is read if running it needs more
/// memory than the machine has available.
pub fn image_engine(path: &std::path::Path, name: &str) -> Result<&'static dyn Engine, Failure> {
    use std::io::Read;
    let cannot = |e: std::io::Error| Failure::User(format!("error: cannot read {name}: {e}\n"));
    let mut file = std::fs::File::open(path).map_err(cannot)?;
    let mut magic = Vec::with_capacity(8);
    file.by_ref().take(8).read_to_end(&mut magic).map_err(cannot)?;
    let engine = soma_runtime::engine::for_image(&magic)
        .ok_or_else(|| Failure::User(format!("error: {name}: not a soma image of any family (bad magic number)\n")))?;
    let need = soma_runtime::engine::image_need(engine, file.metadata().map_err(cannot)?.len() as f64);
    match need.refusal(soma_isa::memory::available()) {
        Some(why) => Err(Failure::User(format!(
            "error: {name}: the image would {why}; run it on a larger machine or compile a smaller network\n"
        ))),
        None => Ok(engine),
    }
}

/// The machine size of `--boards TEXT` for `backend`'s family: not given is `auto`, the smallest that fits, on
/// families sized in boards (every subcommand alike).
pub fn boards(text: Option<&str>, backend: &dyn Backend) -> Result<Option<Boards>, Failure> {
    match text {
        None => Ok(backend.sized_in_boards().then_some(Boards::Smallest)),
        Some("auto") => Ok(Some(Boards::Smallest)),
        Some(n) => match n.parse::<usize>() {
            Ok(b) => Ok(Some(Boards::Count(b))),
            Err(_) => Err(Failure::User(format!("error: --boards {n}: expected a number of boards or auto\n"))),
        },
    }
}

/// A backend's refusal as the user reads it: about `--boards TEXT` for a machine size; at the population or
/// projection in the `.snn` source it names, where `loaded` has one; else about `name`.
pub fn compile_error(e: CompileError, name: &str, boards: Option<&str>, loaded: Option<&load::Loaded>) -> Failure {
    if let Some(l) = loaded.filter(|l| !l.text.is_empty())
        && let Some(d) = e.diagnostic(&l.network)
    {
        return Failure::User(load::render_all(&[d], &l.name, &l.text));
    }
    match e {
        CompileError::MachineSize(m) => Failure::User(format!("error: --boards {}: {m}\n", boards.unwrap_or("auto"))),
        other => Failure::User(format!("error: {name}: {other}\n")),
    }
}

/// A run's refusal as the user reads it, about `name`.
pub fn run_error(e: RunError, name: &str) -> Failure {
    match e {
        RunError::Option(m) | RunError::Unsupported(m) => Failure::User(format!("error: {m}\n")),
        RunError::Interrupted { .. } => Failure::Interrupted(format!("{name}: {e}; no output was written")),
        other => Failure::User(format!("error: {name}: {other}\n")),
    }
}

/// A network loaded, instantiated and compiled for a target.
pub struct Built {
    /// The instantiated network.
    pub inst: Instance,
    /// The backend's artifact and mapping report.
    pub compiled: Compiled,
    /// Load, instantiate and the backend's passes, with their wall times.
    pub passes: Vec<PassTime>,
    /// What was loaded (its display name, its network for diagnostics).
    pub loaded: load::Loaded,
}

/// A network file to load, with what its run adds to it.
pub struct Network<'a> {
    /// The file and how to read it.
    pub input: &'a crate::InputArgs,
    /// Spike input for a NIR graph's Input nodes.
    pub spike_input: Option<&'a std::path::Path>,
    /// `--probe` specifications.
    pub probes: &'a [String],
}

/// Loads, instantiates and compiles `net` for `target` with its family's `backend`, behind a spinner; refused first
/// if that, and the run with `then_run` that follows, cannot fit.
pub fn build(
    net: &Network,
    target: &Target,
    backend: &dyn Backend,
    then_run: Option<&dyn Engine>,
    boards: (Option<Boards>, Option<&str>),
    seed: u64,
    quiet: bool,
) -> Result<Built, Failure> {
    let spinner = spinner(quiet);
    let _clear = ClearOnDrop(&spinner);
    let work = match then_run {
        Some(engine) => Work::CompileAndRun(&target.name, backend, engine.run_bytes_per_image_byte()),
        None => Work::Compile(&target.name, backend),
    };
    let (inst, mut passes, loaded) = instance_of(net.input, net.spike_input, net.probes, seed, work, &spinner)?;
    let watch = |pass: &str| spinner.set_message(format!("compiling for {}: {pass}", target.name));
    let compiled = backend
        .compile(&inst, target, boards.0, &watch)
        .map_err(|e| compile_error(e, &loaded.name, boards.1, Some(&loaded)))?;
    passes.extend(compiled.passes.iter().cloned());
    Ok(Built { inst, compiled, passes, loaded })
}

/// What a run is asked for besides its artifact.
pub struct RunAsk<'a> {
    /// What to call the network.
    pub network: &'a str,
    /// Model time, s.
    pub duration_s: f64,
    /// The network the artifact came from, where known.
    pub instance: Option<&'a Instance>,
    /// Compare with the float reference.
    pub compare: bool,
    /// The backend's mapping report.
    pub mapping: Option<&'a dyn soma_isa::report::Report>,
    /// Device models.
    pub devices: Option<&'a Devices>,
    /// Plastic synapses whose weights to sample, and the steps between two samples.
    pub weights: (&'a [soma_runtime::reference::WeightProbe], u64),
    /// No progress bar.
    pub quiet: bool,
    /// What the progress bar calls the run (`running`; compare says which target of how many).
    pub verb: &'a str,
}

/// Runs `artifact` on `target` with its family's `engine`, with a progress bar over the steps.
pub fn execute(
    engine: &dyn Engine,
    artifact: &dyn soma_isa::codec::AnyArtifact,
    target: &Target,
    ask: &RunAsk,
) -> Result<Run, Failure> {
    let steps = steps(&format!("{:e}s", ask.duration_s), ask.duration_s, artifact.dt())?;
    let bar = crate::output::step_bar(steps, ask.quiet, ask.verb)?;
    let progress = |done: u64| bar.set_position(done);
    let job = Job {
        artifact,
        target,
        network: ask.network,
        duration_s: ask.duration_s,
        steps,
        instance: ask.instance,
        compare: ask.compare,
        mapping: ask.mapping,
        devices: ask.devices,
        weight_probes: ask.weights.0,
        weight_every: ask.weights.1,
        progress: &progress,
        stop: Some(crate::interrupt::flag()),
    };
    let run = engine.run(&job).map_err(|e| run_error(e, ask.network));
    bar.finish_and_clear();
    run
}
