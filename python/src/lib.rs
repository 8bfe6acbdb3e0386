//! soma in Python: the extension module `soma._soma`, which the package `soma` (python/soma/__init__.py) wraps.
//! It calls the library crates as the command line does (`compiler::front::load` to read a network, the family
//! registries `compiler::backend` and `runtime::engine` to compile and run, `runtime::reference` to simulate) and
//! hands results over as Python values: reports as dicts (the `--json` contract), spikes as numpy arrays where
//! numpy is installed. Errors are the CLI's messages as Python exceptions. Long work releases the interpreter.

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use pyo3::IntoPyObjectExt;
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString};
use soma_compiler::backend::{self, Boards};
use soma_compiler::front::load::{self as front, Format, Loaded, Options, SpikeInput};
use soma_compiler::front::nir::input::add_counts;
use soma_compiler::front::snn::{self, Overrides};
use soma_compiler::instantiate::instantiate;
use soma_compiler::memory::Work;
use soma_isa::codec::AnyArtifact;
use soma_isa::instance::Instance;
use soma_isa::report::Report;
use soma_isa::units::Dim;
use soma_runtime::design::{self, Figure, Limit};
use soma_runtime::engine::{self, Devices, Figures, Job};
use soma_runtime::reference::{RunOptions, Simulator, WeightProbe, WeightTrace};
use soma_runtime::report::page::{self, NeuronTrace};
use soma_runtime::report::{all_spikes, population_names};
use soma_targets::Target;

create_exception!(soma, SomaError, PyException, "Every error soma raises.");
create_exception!(soma, NetworkError, SomaError, "A network that does not read, validate or instantiate.");
create_exception!(soma, TargetError, SomaError, "A target preset that does not exist or does not parse.");
create_exception!(soma, CompileError, SomaError, "A network the target cannot hold.");
create_exception!(soma, RunError, SomaError, "A run that cannot start (an option, an image, a duration).");

/// A network read and validated, not yet instantiated.
#[pyclass(module = "soma", frozen)]
struct Network {
    loaded: Loaded,
}

#[pymethods]
impl Network {
    /// The source's display name.
    #[getter]
    fn name(&self) -> &str {
        &self.loaded.name
    }

    /// The populations as dicts: name, size, model.
    #[getter]
    fn populations<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        for (_, p) in self.loaded.network.populations.iter() {
            let d = PyDict::new(py);
            d.set_item("name", &p.name)?;
            d.set_item("size", p.size)?;
            d.set_item("model", p.model.kind().name())?;
            list.append(d)?;
        }
        Ok(list)
    }

    /// Neurons in all populations.
    #[getter]
    fn neurons(&self) -> usize {
        self.loaded.network.neuron_count()
    }

    /// Projections between populations and sources.
    #[getter]
    fn projections(&self) -> usize {
        self.loaded.network.projections.len()
    }

    /// The time step, s.
    #[getter]
    fn dt(&self) -> f64 {
        self.loaded.network.dt
    }

    fn __repr__(&self) -> String {
        let pops: Vec<String> = self
            .loaded
            .network
            .populations
            .iter()
            .map(|(_, p)| format!("{}[{}] {}", p.name, p.size, p.model.kind().name()))
            .collect();
        format!(
            "<soma.Network {}: {} neurons, {} projections, dt {} s; {}>",
            self.loaded.name,
            self.neurons(),
            self.projections(),
            self.dt(),
            pops.join(", ")
        )
    }
}

/// A network compiled for a target: the family's image and its mapping report.
#[pyclass(module = "soma", frozen)]
struct Image {
    artifact: Box<dyn AnyArtifact>,
    target: Target,
    /// The backend's mapping report, where there is one.
    mapping: Option<Box<dyn Report>>,
    /// The instance it was compiled from, where known (the reference comparison).
    instance: Option<Instance>,
    name: String,
}

#[pymethods]
impl Image {
    /// The target's family.
    #[getter]
    fn family(&self) -> &str {
        self.target.family_name()
    }

    /// The target's name.
    #[getter]
    fn target(&self) -> &str {
        &self.target.name
    }

    /// The mapping report as a dict (what `soma compile --json` prints), or None for an image read back from
    /// bytes of a family whose runs do not carry one.
    #[getter]
    fn mapping<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json(py, &self.mapping.as_ref().map_or_else(|| "null".to_string(), |m| m.json().to_string()))
    }

    /// The mapping report as text.
    #[getter]
    fn text(&self) -> String {
        self.mapping.as_ref().map_or_else(String::new, |m| m.text())
    }

    /// The encoded image (what `soma compile -o` writes).
    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let bytes = self.artifact.encode().map_err(|e| CompileError::new_err(e.to_string()))?;
        Ok(PyBytes::new(py, &bytes))
    }

    fn __repr__(&self) -> String {
        format!("<soma.Image {} for {} ({}), {}>", self.name, self.target.name, self.family(), self.artifact.kind())
    }
}

/// What a run produced: the report, the headline figures, the spikes.
#[pyclass(module = "soma", frozen)]
struct Result {
    /// The family's report (JSON and text made when asked for).
    report: Box<dyn Report>,
    figures_json: String,
    spikes: Vec<(u32, u32, u32)>,
    population_names: Vec<String>,
    dt: f64,
    /// Membrane traces of a reference simulation's probes: `(probe, neurons, steps x neurons values)`.
    traces: Vec<(String, Vec<u32>, Vec<f64>)>,
    /// Plastic projections of a reference simulation.
    learned: Vec<Learned>,
    /// The weights `weight_probes` sampled over the run.
    weight_samples: Vec<WeightSamples>,
    /// A run's membrane traces as its report page plots them; `None` for a reference simulation (no page).
    page_traces: Option<Vec<NeuronTrace>>,
}

/// `values` as a numpy array of `dtype` when numpy is installed (`np`, the module), as a list otherwise: how every
/// array of a `Result` is handed over.
fn array<'py, T: IntoPyObject<'py>>(
    py: Python<'py>,
    np: &Option<Bound<'py, PyModule>>,
    values: T,
    dtype: &str,
) -> PyResult<Bound<'py, PyAny>> {
    match np {
        Some(np) => np.call_method1("asarray", (values, dtype)),
        None => values.into_bound_py_any(py),
    }
}

/// One weight probe's samples: its synapses (index in the projection's row order, pre and post neuron) and their
/// weights at each sample's time (`time_s.len() x synapse.len()`, sample-major).
struct WeightSamples {
    probe: String,
    time_s: Vec<f64>,
    synapse: Vec<u32>,
    pre: Vec<u32>,
    post: Vec<u32>,
    weight: Vec<f64>,
}

/// One plastic projection's synapses, each with its weight before and after a simulation.
struct Learned {
    projection: String,
    pre: Vec<u32>,
    post: Vec<u32>,
    before: Vec<f64>,
    after: Vec<f64>,
}

#[pymethods]
impl Result {
    /// The run's report as a dict (what `soma run --json` prints): rates, the energy ledger, counters, fidelity.
    #[getter]
    fn report<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json(py, &self.report.json().to_string())
    }

    /// The headline figures (`compare` and `sweep`'s columns) as a dict; None for a reference simulation.
    #[getter]
    fn figures<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json(py, &self.figures_json)
    }

    /// The report as text.
    #[getter]
    fn text(&self) -> String {
        self.report.text()
    }

    /// Population names, as `spikes["population"]` indexes them.
    #[getter]
    fn populations(&self) -> Vec<String> {
        self.population_names.clone()
    }

    /// Every spike: a dict of equal-length arrays `time_s` (the end of the spike's step), `population` (index
    /// into `populations`) and `neuron`; numpy arrays when numpy is installed, lists otherwise.
    #[getter]
    fn spikes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let times: Vec<f64> =
            self.spikes.iter().map(|&(t, _, _)| soma_isa::report::step_end_s(t.into(), self.dt)).collect();
        let pops: Vec<u32> = self.spikes.iter().map(|&(_, p, _)| p).collect();
        let neurons: Vec<u32> = self.spikes.iter().map(|&(_, _, n)| n).collect();
        let d = PyDict::new(py);
        let np = py.import("numpy").ok();
        d.set_item("time_s", array(py, &np, times, "float64")?)?;
        d.set_item("population", array(py, &np, pops, "int64")?)?;
        d.set_item("neuron", array(py, &np, neurons, "int64")?)?;
        Ok(d)
    }

    /// Membrane potentials of the probes `simulate` or `run` was given (on `run`, as the hardware held them, in SI
    /// units): `{probe: array of steps x neurons}` (V), with the
    /// neurons' indices under `"<probe> neurons"`; numpy arrays when numpy is installed, lists of rows otherwise.
    #[getter]
    fn traces<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        let np = py.import("numpy").ok();
        for (label, neurons, values) in &self.traces {
            let width = neurons.len().max(1);
            let rows: Vec<Vec<f64>> = values.chunks(width).map(<[f64]>::to_vec).collect();
            d.set_item(label, array(py, &np, rows, "float64")?)?;
            d.set_item(format!("{label} neurons"), neurons.clone())?;
        }
        Ok(d)
    }

    /// The weights of the plastic projections a reference simulation learned: `{projection: {"pre", "post",
    /// "before", "after"}}`, one entry per synapse in each array (numpy arrays when numpy is installed, lists
    /// otherwise); on a run, the weights the hardware learned (SpiNNaker's fixed point, the crossbar's cells);
    /// empty for a network without plasticity.
    #[getter]
    fn weights<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        let np = py.import("numpy").ok();
        for Learned { projection: name, pre, post, before, after } in &self.learned {
            let p = PyDict::new(py);
            p.set_item("pre", array(py, &np, pre.clone(), "int64")?)?;
            p.set_item("post", array(py, &np, post.clone(), "int64")?)?;
            p.set_item("before", array(py, &np, before.clone(), "float64")?)?;
            p.set_item("after", array(py, &np, after.clone(), "float64")?)?;
            d.set_item(name, p)?;
        }
        Ok(d)
    }

    /// The weights `weight_probes` sampled over the run (the reference's, or the hardware's: SpiNNaker's plastic
    /// words, the crossbar's cells, in the weights' unit): `{probe: {"time_s", "synapse", "pre", "post",
    /// "weight"}}`, `weight` an array of samples x synapses (numpy arrays when numpy is installed, lists otherwise);
    /// the rows `--weight-trace` writes.
    #[getter]
    fn weight_traces<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        let np = py.import("numpy").ok();
        for w in &self.weight_samples {
            let rows: Vec<Vec<f64>> = w.weight.chunks(w.synapse.len().max(1)).map(<[f64]>::to_vec).collect();
            let p = PyDict::new(py);
            p.set_item("time_s", array(py, &np, w.time_s.clone(), "float64")?)?;
            p.set_item("synapse", array(py, &np, w.synapse.clone(), "int64")?)?;
            p.set_item("pre", array(py, &np, w.pre.clone(), "int64")?)?;
            p.set_item("post", array(py, &np, w.post.clone(), "int64")?)?;
            p.set_item("weight", array(py, &np, rows, "float64")?)?;
            d.set_item(&w.probe, p)?;
        }
        Ok(d)
    }

    /// The report as JSON text.
    fn to_json(&self) -> String {
        self.report.json().to_string()
    }

    /// Writes the run's report page to `path`: the self-contained HTML of `soma report RUN.json --html` (energy,
    /// core load, links, raster and rates, fidelity, learning), with the probes' membrane traces plotted. The file
    /// is written whole (a temporary file renamed into place). Only a run on a target has a page.
    fn report_html(&self, path: PathBuf) -> PyResult<()> {
        let traces = self.page_traces.as_deref().ok_or_else(|| {
            RunError::new_err("report_html: a reference simulation has no report page; run the network on a target")
        })?;
        let page = page::parse(&self.report.json().to_string())
            .map_err(|e| RunError::new_err(format!("report_html: the run's report does not read back: {e}")))?
            .html(traces);
        soma_isa::file::write_atomic(&path, |w| w.write_all(page.as_bytes()))
            .map_err(|e| pyo3::exceptions::PyOSError::new_err(e.to_string()))
    }

    fn __repr__(&self) -> String {
        format!("<soma.Result: {} spikes>\n{}", self.spikes.len(), self.report.text())
    }

    /// The text report as an HTML block (a notebook shows it).
    fn _repr_html_(&self) -> String {
        let escaped = self.report.text().replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
        format!("<pre>{escaped}</pre>")
    }
}

/// Runs `work` without the interpreter lock, handing it a progress callback that checks for Ctrl-C (and any other
/// pending signal) and a flag that the callback sets when one arrived; the signal's exception, if it came.
fn interruptible<T: Send>(
    py: Python<'_>,
    work: impl FnOnce(&(dyn Fn(u64) + Sync), &AtomicBool) -> T + Send,
) -> (T, Option<PyErr>) {
    let stop = AtomicBool::new(false);
    let signal: Mutex<Option<PyErr>> = Mutex::new(None);
    let progress = |_: u64| {
        Python::attach(|py| {
            if let Err(e) = py.check_signals() {
                if let Ok(mut slot) = signal.lock() {
                    *slot = Some(e);
                }
                stop.store(true, Ordering::Relaxed);
            }
        })
    };
    let out = py.detach(|| work(&progress, &stop));
    (out, signal.into_inner().ok().flatten())
}

fn json<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    py.import("json")?.call_method1("loads", (text,))
}

/// A time given as seconds (a number) or as text with a unit (`"100 ms"`).
fn seconds(value: &Bound<'_, PyAny>, what: &str) -> PyResult<f64> {
    let s = match value.extract::<f64>() {
        Ok(x) => x,
        Err(_) => {
            let text: String = value.extract()?;
            match snn::eval_quantity(&text) {
                Ok((x, d)) if d == Dim::TIME => x,
                Ok((_, d)) => {
                    return Err(RunError::new_err(format!("{what} {text}: expected a time, got {}", d.describe())));
                }
                Err(e) => return Err(RunError::new_err(format!("{what} {text}: {:?}", e.diagnostics(&text)))),
            }
        }
    };
    if !(s.is_finite() && s >= 0.0) {
        return Err(RunError::new_err(format!("{what}: {s} s is not a finite, non-negative time")));
    }
    Ok(s)
}

/// Reads a network: `source` is a path (str or os.PathLike) to a .snn, .nir or .csv file, or the bytes of one
/// (then `format` says which: "snn", "nir" or "csv"). `dt` (seconds, or text with a unit) is the time step of a
/// NIR graph or connectome; `set` replaces constants of a .snn file (`{"scale": "0.1"}`, `{"tau": "10 ms"}`).
#[pyfunction]
#[pyo3(signature = (source, dt=None, set=None, format=None))]
fn load(
    source: &Bound<'_, PyAny>,
    dt: Option<&Bound<'_, PyAny>>,
    set: Option<std::collections::BTreeMap<String, Bound<'_, PyAny>>>,
    format: Option<&str>,
) -> PyResult<Network> {
    let network_error = |e: front::LoadError| NetworkError::new_err(e.to_string());
    let (name, bytes, extension) = if let Ok(bytes) = source.cast::<PyBytes>() {
        ("<bytes>".to_string(), bytes.as_bytes().to_vec(), None)
    } else {
        let path: PathBuf = source.extract()?;
        let name = path.display().to_string();
        let bytes = std::fs::read(&path).map_err(|e| NetworkError::new_err(format!("cannot read {name}: {e}")))?;
        let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_string();
        (name, bytes, Some(extension))
    };
    let format = match (format, extension) {
        (Some(f), _) => Format::of_extension(&name, if f == "edges" { "csv" } else { f }).map_err(network_error)?,
        (None, Some(ext)) => Format::of_extension(&name, &ext).map_err(network_error)?,
        (None, None) => return Err(NetworkError::new_err("bytes need a format: \"snn\", \"nir\" or \"csv\"")),
    };
    let mut overrides = Overrides::new();
    for (key, value) in set.unwrap_or_default() {
        let text = value.str()?.to_string();
        let q = snn::eval_quantity(&text).map_err(|e| {
            NetworkError::new_err(front::render_all(&e.diagnostics(&text), &format!("set {key}"), &text))
        })?;
        overrides.insert(key, q);
    }
    let dt = dt.map(|d| seconds(d, "dt")).transpose()?;
    let options = Options { overrides, dt, edges: None };
    let loaded = front::read(&name, bytes, format, &options).map_err(network_error)?;
    loaded.valid().map_err(network_error)?;
    Ok(Network { loaded })
}

/// `network` fed with `inputs` for its NIR Input nodes: `"poisson:RATE"` (e.g. `"poisson:100Hz"`), a 2-D array of
/// spike counts (one row per time step, one column per input channel: row `k` is delivered in step `k`, the rule of
/// a spike-matrix file), or a dict `{channel: [times in s]}`; the network itself where `inputs` is None.
fn fed(network: &Network, inputs: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Network>> {
    let Some(inputs) = inputs else { return Ok(None) };
    let mut loaded = network.loaded.clone();
    let channels = loaded.input_channels();
    let input = if let Ok(text) = inputs.extract::<String>() {
        let rate = text.strip_prefix("poisson:").ok_or_else(|| {
            RunError::new_err(format!("inputs {text:?}: expected \"poisson:RATE\", an array or a dict"))
        })?;
        match snn::eval_quantity(rate) {
            Ok((hz, d)) if d == Dim::RATE => SpikeInput::Poisson(hz),
            _ => return Err(RunError::new_err(format!("inputs {text:?}: expected a rate, e.g. poisson:100Hz"))),
        }
    } else if let Ok(dict) = inputs.cast::<PyDict>() {
        let mut times = vec![Vec::new(); channels];
        for (k, v) in dict.iter() {
            let ch: usize = k.extract()?;
            let slot = times
                .get_mut(ch)
                .ok_or_else(|| RunError::new_err(format!("inputs: channel {ch} is outside 0..{channels}")))?;
            *slot = v.extract::<Vec<f64>>()?;
            if slot.iter().any(|t| !(t.is_finite() && *t >= 0.0)) {
                return Err(RunError::new_err(format!(
                    "inputs: channel {ch} has a time that is negative or not finite"
                )));
            }
            slot.sort_by(f64::total_cmp);
        }
        SpikeInput::Times(times)
    } else {
        let rows = if inputs.hasattr("tolist")? { inputs.call_method0("tolist")? } else { inputs.clone() };
        let rows: Vec<Vec<f64>> = rows.extract()?;
        let mut times = vec![Vec::new(); channels];
        for (step, counts) in rows.iter().enumerate() {
            add_counts(&mut times, step, counts, loaded.network.dt)
                .map_err(|e| RunError::new_err(format!("inputs row {step}: {e}")))?;
        }
        SpikeInput::Times(times)
    };
    loaded.feed(input).map_err(|e| RunError::new_err(e.to_string()))?;
    Ok(Some(Network { loaded }))
}

fn target_of(name: &str) -> PyResult<Target> {
    soma_targets::lookup(name).map_err(|e| TargetError::new_err(e.to_string()))
}

/// Instantiates `net` for `work`, refused first (with the estimate) if the work cannot fit in this machine's memory.
fn instance_of(net: &Network, seed: u64, work: Work) -> PyResult<Instance> {
    if let Some(why) = soma_compiler::memory::refusal(&net.loaded.network, work) {
        return Err(NetworkError::new_err(format!("{}: {why}", net.loaded.name)));
    }
    let valid = net.loaded.valid().map_err(|e| NetworkError::new_err(e.to_string()))?;
    instantiate(&valid, seed).map_err(|e| NetworkError::new_err(format!("{}: {}", net.loaded.name, e.message)))
}

/// Compiles `network` for `target` (a preset name or a .toml path) on `boards` (a number, "auto", or None for
/// the preset's machine), with the network's random draws seeded by `seed`.
#[pyfunction]
#[pyo3(signature = (network, target="spinnaker1", boards=None, seed=1))]
fn compile(
    py: Python<'_>,
    network: &Network,
    target: &str,
    boards: Option<&Bound<'_, PyAny>>,
    seed: u64,
) -> PyResult<Image> {
    let target = target_of(target)?;
    let backend = backend::for_target(&target).map_err(|e| CompileError::new_err(e.to_string()))?;
    let boards = match boards {
        None => None,
        Some(b) if b.extract::<String>().is_ok_and(|s| s == "auto") => Some(Boards::Smallest),
        Some(b) => Some(Boards::Count(b.extract::<usize>()?)),
    };
    compile_image(py, network, target, backend, boards, seed, false)
}

fn compile_image(
    py: Python<'_>,
    network: &Network,
    target: Target,
    backend: &dyn backend::Backend,
    boards: Option<Boards>,
    seed: u64,
    then_run: bool,
) -> PyResult<Image> {
    let engine = engine::for_target(&target).map_err(|e| RunError::new_err(e.to_string()))?;
    let work = if then_run {
        Work::CompileAndRun(&target.name, backend, engine.run_bytes_per_image_byte())
    } else {
        Work::Compile(&target.name, backend)
    };
    let inst = instance_of(network, seed, work)?;
    let compiled = py
        .detach(|| backend.compile(&inst, &target, boards, &|_| {}))
        .map_err(|e| CompileError::new_err(format!("{}: {e}", network.loaded.name)))?;
    // Keep the instance only where the image does not carry it (SpiNNaker's): no second copy of the network.
    let instance = engine.network(&*compiled.artifact).is_none().then_some(inst);
    Ok(Image {
        mapping: Some(compiled.mapping),
        artifact: compiled.artifact,
        target,
        instance,
        name: network.loaded.name.clone(),
    })
}

/// Reads an image from the bytes `soma compile -o` (or `Image.to_bytes`) wrote; it runs on the target it names.
#[pyfunction]
#[pyo3(signature = (data, target=None))]
fn read_image(data: &[u8], target: Option<&str>) -> PyResult<Image> {
    let engine = engine::for_image(data)
        .ok_or_else(|| RunError::new_err("not a soma image of any family (bad magic number)"))?;
    let artifact = engine.decode(data).map_err(|e| RunError::new_err(e.to_string()))?;
    let target =
        engine::target_of(&*artifact, target, engine.family()).map_err(|e| RunError::new_err(e.to_string()))?;
    let backend = backend::for_target(&target).map_err(|e| CompileError::new_err(e.to_string()))?;
    let mapping = backend.mapping_of(&*artifact, &target).map_err(|e| CompileError::new_err(e.to_string()))?;
    Ok(Image { mapping, artifact, target, instance: None, name: "<image>".into() })
}

/// Runs `image` (or a network, compiled first for `target` on the smallest machine it fits) for `duration` (s, or
/// text with a unit); with `compare_reference`, also the float reference on the same network and seed. `inputs`
/// feeds a NIR graph's Input nodes (see `fed`: "poisson:RATE", a steps x channels count array, or a dict);
/// `probes` (`"exc[0..10]:v"`) record the hardware's membrane potentials into `Result.traces` (SpiNNaker targets);
/// `weight_probes` (`"input->cell[0..10]"`) sample plastic weights every `weight_every` into `Result.weight_traces`.
#[pyfunction]
#[pyo3(signature = (
    image, target="spinnaker1", duration=None, seed=1, compare_reference=false, inputs=None, probes=None,
    nonideal=None, read_after=None, device_random=None, adc_range=None, weight_probes=None, weight_every=None
))]
#[allow(clippy::too_many_arguments)] // Python keyword arguments, as `soma run` has flags
fn run(
    py: Python<'_>,
    image: &Bound<'_, PyAny>,
    target: &str,
    duration: Option<&Bound<'_, PyAny>>,
    seed: u64,
    compare_reference: bool,
    inputs: Option<&Bound<'_, PyAny>>,
    probes: Option<Vec<String>>,
    nonideal: Option<&str>,
    read_after: Option<&Bound<'_, PyAny>>,
    device_random: Option<Vec<String>>,
    adc_range: Option<f64>,
    weight_probes: Option<Vec<String>>,
    weight_every: Option<&Bound<'_, PyAny>>,
) -> PyResult<Result> {
    let duration_s = duration.map(|d| seconds(d, "duration")).transpose()?.unwrap_or(1.0);
    let sampling = Sampling::asked(py, weight_probes, weight_every)?;
    let devices = (nonideal.is_some() || read_after.is_some() || device_random.is_some() || adc_range.is_some())
        .then(|| -> PyResult<Devices> {
            let ideal = Devices::default();
            Ok(Devices {
                nonideal: nonideal.map_or(ideal.nonideal, str::to_string),
                read_after_s: read_after.map(|t| seconds(t, "read_after")).transpose()?.unwrap_or(ideal.read_after_s),
                device_random: device_random.unwrap_or_default(),
                adc_range: adc_range.unwrap_or(ideal.adc_range),
            })
        })
        .transpose()?;
    let probes = probes.unwrap_or_default();
    let compiled;
    let mut labels = Vec::new();
    let image: &Image = match image.cast::<Network>() {
        Ok(net) => {
            let fed = probed(net.get(), fed(net.get(), inputs)?, &probes)?;
            let network = fed.as_ref().unwrap_or(net.get());
            let target = target_of(target)?;
            let backend = backend::for_target(&target).map_err(|e| CompileError::new_err(e.to_string()))?;
            let boards = backend.sized_in_boards().then_some(Boards::Smallest);
            labels = trace_labels(network, &probes);
            compiled = compile_image(py, network, target, backend, boards, seed, true)?;
            &compiled
        }
        Err(_) if inputs.is_some() || !probes.is_empty() => {
            return Err(RunError::new_err(
                "an image carries its inputs and probes: give inputs= and probes= with the soma.Network",
            ));
        }
        Err(_) => {
            image.cast::<Image>().map_err(|_| RunError::new_err("run takes a soma.Network or a soma.Image"))?.get()
        }
    };
    run_image(py, image, duration_s, compare_reference, devices.as_ref(), &labels, &sampling)
}

/// The weight probes asked for (their texts) and the time between two samples, s.
struct Sampling {
    probes: Vec<String>,
    every_s: f64,
}

impl Sampling {
    /// `weight_probes` and `weight_every` as given (`weight_every` a time in s or text, `--weight-every`'s default).
    fn asked(py: Python<'_>, probes: Option<Vec<String>>, every: Option<&Bound<'_, PyAny>>) -> PyResult<Sampling> {
        let every_s = match every {
            Some(t) => seconds(t, "weight_every")?,
            None => seconds(PyString::new(py, WeightTrace::DEFAULT_EVERY).as_any(), "weight_every")?,
        };
        if every_s == 0.0 {
            return Err(RunError::new_err("weight_every: 0 s is not a positive time"));
        }
        Ok(Sampling { probes: probes.unwrap_or_default(), every_s })
    }

    /// No weight probes.
    fn none() -> Sampling {
        Sampling { probes: Vec::new(), every_s: 1.0 }
    }

    /// The probes on `inst`, sampled every so many steps; none without probes.
    fn on(&self, inst: &Instance) -> PyResult<(Vec<WeightProbe>, u64)> {
        let probes = self
            .probes
            .iter()
            .map(|p| WeightProbe::parse(inst, p).map_err(|why| RunError::new_err(format!("weight_probes {p}: {why}"))))
            .collect::<PyResult<Vec<_>>>()?;
        Ok((probes, WeightTrace::every_steps(self.every_s, inst.dt)))
    }

    /// What `traces` (of these probes, sampled every `every` steps) hold, synapse by synapse.
    fn samples(&self, inst: &Instance, traces: Vec<WeightTrace>, every: u64) -> Vec<WeightSamples> {
        self.probes
            .iter()
            .zip(traces)
            .map(|(probe, t)| {
                let synapses = t.synapses(inst);
                WeightSamples {
                    probe: probe.clone(),
                    time_s: (0..t.samples().len()).map(|k| WeightTrace::time_s(k, every, inst.dt)).collect(),
                    synapse: synapses.iter().map(|s| s.0 as u32).collect(),
                    pre: synapses.iter().map(|s| s.1).collect(),
                    post: synapses.iter().map(|s| s.2).collect(),
                    weight: t.values,
                }
            })
            .collect()
    }
}

/// Runs `image` for `duration_s` through its family's engine, interruptible; the hardware's traces of its V probes
/// are named by `labels` (by population where there are fewer).
fn run_image(
    py: Python<'_>,
    image: &Image,
    duration_s: f64,
    compare_reference: bool,
    devices: Option<&Devices>,
    labels: &[String],
    sampling: &Sampling,
) -> PyResult<Result> {
    let engine = engine::for_target(&image.target).map_err(|e| RunError::new_err(e.to_string()))?;
    engine::check_devices(engine, devices, &image.target).map_err(|e| RunError::new_err(e.to_string()))?;
    let instance = image.instance.as_ref().or_else(|| engine.network(&*image.artifact));
    if compare_reference && instance.is_none() {
        return Err(RunError::new_err("compare_reference needs the network: run the soma.Network, not an image"));
    }
    let (weight_probes, weight_every) = match instance {
        Some(inst) => sampling.on(inst)?,
        None if !sampling.probes.is_empty() => {
            return Err(RunError::new_err("weight_probes need the network: run the soma.Network, not an image"));
        }
        None => (Vec::new(), 1),
    };
    let steps = engine::steps(duration_s, image.artifact.dt()).map_err(|e| RunError::new_err(e.to_string()))?;
    let (run, signal) = interruptible(py, |progress, stop| {
        engine.run(&Job {
            artifact: &*image.artifact,
            target: &image.target,
            network: &image.name,
            duration_s,
            steps,
            instance,
            compare: compare_reference,
            mapping: image.mapping.as_deref(),
            devices,
            weight_probes: &weight_probes,
            weight_every,
            progress,
            stop: Some(stop),
        })
    });
    if let Some(e) = signal {
        return Err(e);
    }
    let run = run.map_err(|e| RunError::new_err(e.to_string()))?;
    let page_traces = Some(NeuronTrace::of_chip(&run.traces, run.dt));
    Ok(Result {
        page_traces,
        report: run.report,
        figures_json: serde_json::to_string(&run.figures).map_err(|e| RunError::new_err(e.to_string()))?,
        spikes: run.spikes,
        population_names: run.populations,
        dt: run.dt,
        traces: run
            .traces
            .into_iter()
            .enumerate()
            .map(|(i, t)| {
                let label = labels.get(i).cloned().unwrap_or_else(|| format!("{}:v", t.population));
                (label, t.neurons, t.values)
            })
            .collect(),
        learned: run
            .learned
            .into_iter()
            .filter_map(|(name, after)| {
                let inst = instance?;
                let projection = inst.projections.iter().position(|p| p.name == name)?;
                Some(learned_of(inst, projection, after))
            })
            .collect(),
        weight_samples: instance.map_or_else(Vec::new, |inst| sampling.samples(inst, run.weight_traces, weight_every)),
    })
}

/// A report made here (a reference simulation's): its JSON and text.
struct Plain {
    json: soma_isa::report::Json,
    text: String,
}

impl Report for Plain {
    fn json(&self) -> soma_isa::report::Json {
        self.json.clone()
    }
    fn text(&self) -> String {
        self.text.clone()
    }
}

/// `network` (or `fed`, the same network with inputs given) with `probes` (`"exc[0..10]:v"`) added, if any.
fn probed(network: &Network, fed: Option<Network>, probes: &[String]) -> PyResult<Option<Network>> {
    if probes.is_empty() {
        return Ok(fed);
    }
    let mut probed = fed.map_or_else(|| network.loaded.clone(), |n| n.loaded);
    for p in probes {
        probed.probe(p).map_err(|e| NetworkError::new_err(format!("probe {e}")))?;
    }
    Ok(Some(Network { loaded: probed }))
}

/// The names of `network`'s V probes in the order engines keep their traces: the file's own (named by population),
/// then the ones of `probes` (named as asked), which `network` ends with.
fn trace_labels(network: &Network, probes: &[String]) -> Vec<String> {
    let net = &network.loaded.network;
    let mut labels: Vec<String> = net
        .probes
        .iter()
        .filter(|(_, p)| p.kind == soma_compiler::ir::ProbeKind::V)
        .map(|(_, p)| format!("{}:v", net.populations[p.population].name))
        .collect();
    let asked: Vec<&String> = probes.iter().filter(|p| p.trim_end().ends_with(":v")).collect();
    let file = labels.len() - asked.len();
    for (label, spec) in labels[file..].iter_mut().zip(asked) {
        *label = spec.clone();
    }
    labels
}

/// Projection `projection` of `inst`: its synapses and their weights before and `after` a run.
fn learned_of(inst: &soma_isa::instance::Instance, projection: usize, after: Vec<f64>) -> Learned {
    let proj = &inst.projections[projection];
    let rows = &proj.rows;
    let before = rows.weights.iter().map(|&w| w as f64).collect();
    Learned { projection: proj.name.clone(), pre: rows.pres().collect(), post: rows.targets.clone(), before, after }
}

/// Runs `network` in the float reference simulator (f64, exact integration of linear dynamics) for `duration`;
/// `probes` (`"exc[0..10]:v"`, `"inh:spikes"`) record membrane traces into `Result.traces`; `weight_probes`
/// (`"input->cell[0..10]"`) sample plastic weights every `weight_every` into `Result.weight_traces`.
#[pyfunction]
#[pyo3(signature = (network, duration=None, seed=1, inputs=None, probes=None, weight_probes=None, weight_every=None))]
#[allow(clippy::too_many_arguments)] // Python keyword arguments, as `soma simulate` has flags
fn simulate(
    py: Python<'_>,
    network: &Network,
    duration: Option<&Bound<'_, PyAny>>,
    seed: u64,
    inputs: Option<&Bound<'_, PyAny>>,
    probes: Option<Vec<String>>,
    weight_probes: Option<Vec<String>>,
    weight_every: Option<&Bound<'_, PyAny>>,
) -> PyResult<Result> {
    let duration_s = duration.map(|d| seconds(d, "duration")).transpose()?.unwrap_or(1.0);
    let sampling = Sampling::asked(py, weight_probes, weight_every)?;
    let probes = probes.unwrap_or_default();
    let fed = probed(network, fed(network, inputs)?, &probes)?;
    let network = fed.as_ref().unwrap_or(network);
    let inst = instance_of(network, seed, Work::Instantiate)?;
    let steps = engine::steps(duration_s, inst.dt).map_err(|e| RunError::new_err(e.to_string()))?;
    let (weight_probes, weight_every) = sampling.on(&inst)?;
    let (result, signal) = interruptible(py, |progress, stop| {
        Simulator::new(&inst)
            .record_weights(weight_probes, weight_every)
            .stop_on(Some(stop))
            .run(&RunOptions { steps, record_all_spikes: true }, progress)
    });
    if let Some(e) = signal {
        return Err(e);
    }
    let rates = soma_runtime::report::population_rates(&inst, &result.spike_counts, duration_s);
    let summary = soma_runtime::report::learned(&inst, &result.learned);
    let report = serde_json::json!({
        "network": network.loaded.name,
        "duration_s": duration_s,
        "steps": steps,
        "synaptic_events": result.synaptic_events,
        "populations": rates,
        "learned": summary,
    });
    let text =
        soma_runtime::report::rate_table(rates.iter().map(|p| (p.name.as_str(), p.neurons, p.spikes, p.rate_hz)))
            + &soma_runtime::report::learned_text(&summary);
    let learned = result.learned.iter().map(|l| learned_of(&inst, l.projection, l.weights.clone())).collect();
    Ok(Result {
        report: Box::new(Plain { json: report, text }),
        figures_json: "null".into(),
        spikes: all_spikes(&result),
        population_names: population_names(&inst),
        dt: inst.dt,
        traces: trace_labels(network, &probes)
            .into_iter()
            .zip(result.traces)
            .map(|(l, t)| (l, t.neurons, t.values))
            .collect(),
        learned,
        weight_samples: sampling.samples(&inst, result.weight_traces, weight_every),
        page_traces: None,
    })
}

/// A design-space sweep over `target`'s constants: every combination of `vary` (`{"neurons_per_core": [64, 128],
/// "performance_level": [1, 3]}`, in the dict's order) compiled and run for `duration` next to the float
/// reference; one dict per point, its settings beside the headline figures (rows for a DataFrame), `feasible`
/// under `limits` (`{"rate_error": 0.05}`), `pareto_optimal` and `recommended` for the feasible point with the least
/// `minimize`: the rows `soma sweep --json --max ... --minimize ...` prints, from the same library function. Points are not cached: `soma sweep` keeps them in a folder.
#[pyfunction]
#[pyo3(signature = (network, vary, target="spinnaker1", duration=None, seed=1, minimize="energy_j", limits=None))]
#[allow(clippy::too_many_arguments)] // Python keyword arguments, as `soma sweep` has flags
fn sweep<'py>(
    py: Python<'py>,
    network: &Network,
    vary: &Bound<'py, PyDict>,
    target: &str,
    duration: Option<&Bound<'py, PyAny>>,
    seed: u64,
    minimize: &str,
    limits: Option<std::collections::BTreeMap<String, f64>>,
) -> PyResult<Bound<'py, PyList>> {
    let duration_s = duration.map(|d| seconds(d, "duration")).transpose()?.unwrap_or(0.1);
    let figure = |name: &str| {
        Figure::by_name(name).ok_or_else(|| {
            let names: Vec<&str> = Figure::ALL.iter().map(|(n, _)| *n).collect();
            RunError::new_err(format!("{name}: not a figure; the figures are {}", names.join(", ")))
        })
    };
    let objective = figure(minimize)?;
    let limits = limits
        .unwrap_or_default()
        .iter()
        .map(|(name, &max)| Ok(Limit { figure: figure(name)?, max }))
        .collect::<PyResult<Vec<Limit>>>()?;
    let mut axes: Vec<(String, Vec<f64>)> = Vec::new();
    for (k, v) in vary.iter() {
        let values: Vec<f64> = v.extract()?;
        if values.is_empty() {
            return Err(TargetError::new_err(format!("vary {}: no values", k.str()?)));
        }
        axes.push((k.extract()?, values));
    }
    let mut done: Vec<design::Point> = Vec::new();
    for settings in design::grid(&axes) {
        let t = soma_targets::with_overrides(target, &settings).map_err(|e| TargetError::new_err(e.to_string()))?;
        let backend = backend::for_target(&t).map_err(|e| CompileError::new_err(e.to_string()))?;
        let boards = backend.sized_in_boards().then_some(Boards::Smallest);
        let image = compile_image(py, network, t, backend, boards, seed, true)?;
        let result = run_image(py, &image, duration_s, true, None, &[], &Sampling::none())?;
        let figures: Figures =
            serde_json::from_str(&result.figures_json).map_err(|e| RunError::new_err(e.to_string()))?;
        done.push((settings, image.target.name.clone(), figures));
    }
    let rows = design::rows(done, objective, &limits);
    let text = serde_json::to_string(&rows).map_err(|e| RunError::new_err(e.to_string()))?;
    let rows = json(py, &text)?.cast_into::<PyList>()?;
    Ok(rows)
}

/// The target presets: name, family and description of each.
#[pyfunction]
fn targets<'py>(py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::empty(py);
    for (name, _) in soma_targets::presets() {
        let t = target_of(name)?;
        let d = PyDict::new(py);
        d.set_item("name", &t.name)?;
        d.set_item("family", t.family_name())?;
        d.set_item("description", &t.description)?;
        list.append(d)?;
    }
    Ok(list)
}

/// The extension module.
#[pymodule]
fn _soma(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("SomaError", py.get_type::<SomaError>())?;
    m.add("NetworkError", py.get_type::<NetworkError>())?;
    m.add("TargetError", py.get_type::<TargetError>())?;
    m.add("CompileError", py.get_type::<CompileError>())?;
    m.add("RunError", py.get_type::<RunError>())?;
    m.add_class::<Network>()?;
    m.add_class::<Image>()?;
    m.add_class::<Result>()?;
    m.add_function(wrap_pyfunction!(load, m)?)?;
    m.add_function(wrap_pyfunction!(compile, m)?)?;
    m.add_function(wrap_pyfunction!(read_image, m)?)?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(simulate, m)?)?;
    m.add_function(wrap_pyfunction!(sweep, m)?)?;
    m.add_function(wrap_pyfunction!(targets, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
