//! Reading a network file: pick the frontend (by `--format` or the extension), apply `--set`, `--dt` and the
//! connectome options, attach NIR spike inputs, validate, and render every problem as a diagnostic naming the
//! file.

use std::path::Path;

use clap::{Args, ValueEnum};
use soma_compiler::diag::{Diagnostic, Span, render};
use soma_compiler::front::edges::{self, EdgeOptions, GABAERGIC};
use soma_compiler::front::nir;
use soma_compiler::front::snn::{self, Overrides};
use soma_compiler::ir::{ModelKind, Network, Node as IrNode, Probe, ProbeKind, SourceKind};
use soma_compiler::valid::validate;
use soma_isa::units::Dim;

use crate::{Failure, InputArgs};

/// The input formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// soma's text language (.snn).
    Snn,
    /// Neuromorphic Intermediate Representation, HDF5 (.nir).
    Nir,
    /// Connectome edge list, CSV `pre,post,type,count` (.csv).
    Edges,
}

/// Options for connectome edge lists.
#[derive(Args, Debug)]
#[command(next_help_heading = "Connectome (.csv) options")]
pub struct ConnectomeArgs {
    /// Neuron model of every neuron: if_curr_exp (PyNN defaults) or lif (NIR-style, unitless).
    #[arg(long, default_value = "if_curr_exp", value_name = "MODEL")]
    pub model: String,
    /// Weight of one chemical contact [default: 0.05 nA for if_curr_exp, 0.05 for lif].
    #[arg(long, value_name = "WEIGHT")]
    pub weight: Option<String>,
    /// Conductance of one electrical contact [default: 1 nS for if_curr_exp, 0.02 for lif].
    #[arg(long, value_name = "WEIGHT")]
    pub gap_weight: Option<String>,
    /// Inhibitory presynaptic neurons: comma-separated names, `*` ends a prefix, or @FILE with one per line.
    #[arg(long, default_value = GABAERGIC, value_name = "NAMES")]
    pub inhibitory: String,
    /// Constant current into every neuron, e.g. 0.8nA.
    #[arg(long, value_name = "CURRENT")]
    pub drive: Option<String>,
}

/// A network read from a file and validated.
pub struct Loaded {
    /// The network.
    pub network: Network,
    /// The file's display name.
    pub name: String,
    /// The text of a .snn file, for rendering later diagnostics.
    pub text: String,
}

/// At most this many diagnostics are printed; the rest are counted.
const MAX_DIAGNOSTICS: usize = 12;

/// Renders diagnostics of one source.
pub fn render_all(diags: &[Diagnostic], name: &str, text: &str) -> String {
    let mut out = diags.iter().take(MAX_DIAGNOSTICS).map(|d| render(d, name, text)).collect::<Vec<_>>().join("\n");
    if diags.len() > MAX_DIAGNOSTICS {
        out += &format!("\n... and {} more errors in {name}\n", diags.len() - MAX_DIAGNOSTICS);
    }
    out
}

fn user(message: String) -> Failure {
    Failure::User(format!("error: {message}\n"))
}

/// Evaluates a command-line time (`--duration`, `--dt`, `--read-after`): a quantity with a time unit (`0.1ms`,
/// `"0.25 s"`) or a bare number of seconds (`1e-4`), finite and not negative (`positive`: above zero).
pub fn time(flag: &str, text: &str, positive: bool) -> Result<f64, Failure> {
    let x = match snn::eval_quantity(text) {
        Ok((x, d)) if d == Dim::TIME || d == Dim::NONE => x,
        Ok((x, d)) => {
            return Err(user(format!(
                "{flag} {text}: expected a time such as 1s, 0.1ms or 1e-4 (seconds), got {x} as {}",
                d.describe()
            )));
        }
        Err(e) => return Err(Failure::User(render_all(&e.diagnostics(text), flag, text))),
    };
    let ok = x.is_finite() && if positive { x > 0.0 } else { x >= 0.0 };
    if !ok {
        let want = if positive { "a positive" } else { "a non-negative" };
        return Err(user(format!("{flag} {text}: expected {want} finite time, got {x} s")));
    }
    Ok(x)
}

/// Evaluates a command-line quantity such as `0.1ms` and checks its dimension.
pub fn quantity(flag: &str, text: &str, dim: Dim) -> Result<f64, Failure> {
    match snn::eval_quantity(text) {
        Ok((x, d)) if d == dim && x.is_finite() => Ok(x),
        Ok((x, d)) => Err(user(format!("{flag} {text}: expected {}, got {x} as {}", dim.describe(), d.describe()))),
        Err(e) => Err(Failure::User(render_all(&e.diagnostics(text), flag, text))),
    }
}

fn overrides(set: &[String]) -> Result<Overrides, Failure> {
    let mut out = Overrides::new();
    for item in set {
        let Some((name, value)) = item.split_once('=') else {
            return Err(user(format!("--set {item}: expected NAME=VALUE, e.g. --set scale=0.1")));
        };
        let name = name.trim();
        let label = format!("--set {name}");
        let q =
            snn::eval_quantity(value).map_err(|e| Failure::User(render_all(&e.diagnostics(value), &label, value)))?;
        out.insert(name.to_string(), q);
    }
    Ok(out)
}

fn format_of(args: &InputArgs, name: &str) -> Result<Format, Failure> {
    if let Some(f) = args.format {
        return Ok(f);
    }
    match args.file.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "snn" => Ok(Format::Snn),
        "nir" => Ok(Format::Nir),
        "csv" => Ok(Format::Edges),
        "img" => Err(user(format!("{name}: this is a compiled image; run it with `soma run {name}`"))),
        other => Err(user(format!(
            "{name}: cannot tell the format from the extension `.{other}`\n  = soma reads .snn, .nir and .csv (connectome) files; or pass --format"
        ))),
    }
}

fn text_of(name: &str, bytes: Vec<u8>) -> Result<String, Failure> {
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let valid = String::from_utf8_lossy(&e.as_bytes()[..at]).into_owned();
        let d = Diagnostic {
            message: "the file is not UTF-8 text".into(),
            span: Span::new(at, at),
            label: "invalid byte here".into(),
        };
        Failure::User(render(&d, name, &valid))
    })
}

fn edge_options(args: &InputArgs, dt: f64) -> Result<EdgeOptions, Failure> {
    let c = &args.connectome;
    let model = ModelKind::by_name(&c.model)
        .filter(|k| matches!(k, ModelKind::IfCurrExp | ModelKind::Lif))
        .ok_or_else(|| user(format!("--model {}: connectomes use if_curr_exp or lif", c.model)))?;
    let mut o = EdgeOptions::defaults(model, dt);
    let (w_dim, g_dim, i_dim) = EdgeOptions::dims(model);
    if let Some(w) = &c.weight {
        o.weight = quantity("--weight", w, w_dim)?;
    }
    if let Some(g) = &c.gap_weight {
        o.gap_weight = quantity("--gap-weight", g, g_dim)?;
    }
    if let Some(d) = &c.drive {
        o.drive = quantity("--drive", d, i_dim)?;
    }
    o.inhibitory = match c.inhibitory.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| user(format!("--inhibitory @{path}: {e}")))?
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_string)
            .collect(),
        None => c.inhibitory.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect(),
    };
    Ok(o)
}

/// Attaches spike input (`--input`) to the sources that stand for a NIR graph's Input nodes. Feeds the graph's Input sources from `path`: a spike file, or `poisson:RATE` for independent Poisson trains
/// (rate coding) on every channel.
fn attach_input(
    net: &mut Network,
    inputs: &[soma_compiler::ir::Handle<soma_compiler::ir::Source>],
    path: &Path,
) -> Result<(), Failure> {
    let name = path.display().to_string();
    if let Some(rate) = name.strip_prefix("poisson:") {
        let rate = quantity("--input poisson:RATE", rate, Dim::RATE)?;
        if !(rate.is_finite() && rate >= 0.0) {
            return Err(user(format!("--input {name}: the rate must be finite and not negative")));
        }
        for &h in inputs {
            net.sources[h].kind = SourceKind::Poisson { rate };
        }
        return Ok(());
    }
    let text = text_of(&name, std::fs::read(path).map_err(|e| user(format!("cannot read {name}: {e}")))?)?;
    let channels: usize = inputs.iter().map(|&h| net.sources[h].size).sum();
    let times = nir::input::parse(&text, channels, net.dt).map_err(|m| user(format!("{name}: {m}")))?;
    let last = times.iter().flatten().fold(None, |m: Option<f64>, &t| Some(m.map_or(t, |m| m.max(t))));
    match last {
        None => eprintln!("warning: --input {name}: no spikes at all: the graph's inputs stay silent"),
        Some(t) => eprintln!("note: --input {name}: the last input spike is at {t} s; the inputs are silent after it"),
    }
    let mut times = times.into_iter();
    for &h in inputs {
        let size = net.sources[h].size;
        net.sources[h].kind = SourceKind::SpikeArray { times: times.by_ref().take(size).collect() };
    }
    Ok(())
}

/// Adds a probe given as `NAME:v`, `NAME:spikes` or `NAME[a..b]:v`.
fn add_probe(net: &mut Network, spec: &str) -> Result<(), Failure> {
    let bad =
        || user(format!("--probe {spec}: expected POPULATION:v or POPULATION:spikes, optionally POPULATION[a..b]:v"));
    let (target, kind) = spec.rsplit_once(':').ok_or_else(bad)?;
    let kind = match kind.trim() {
        "v" => ProbeKind::V,
        "spikes" => ProbeKind::Spikes,
        _ => return Err(bad()),
    };
    let (name, range) = match target.split_once('[') {
        Some((n, r)) => {
            let r = r.strip_suffix(']').ok_or_else(bad)?;
            let (a, b) = r.split_once("..").ok_or_else(bad)?;
            let a: usize = a.trim().parse().map_err(|_| bad())?;
            let b: usize = b.trim().parse().map_err(|_| bad())?;
            (n.trim(), Some(a..b))
        }
        None => (target.trim(), None),
    };
    let Some(IrNode::Population(population)) = net.lookup(name) else {
        let names: Vec<&str> = net.populations.iter().map(|(_, p)| p.name.as_str()).take(20).collect();
        return Err(user(format!(
            "--probe {spec}: no population `{name}` (populations: {}{})",
            names.join(", "),
            if net.populations.len() > 20 { ", ..." } else { "" }
        )));
    };
    net.probes.push(Probe { population, kind, neurons: range, span: Span::NONE });
    Ok(())
}

/// Reads, lowers and validates the input file; `spike_input` feeds a NIR graph's Input nodes and `probes` adds
/// `--probe` recordings.
pub fn load(args: &InputArgs, spike_input: Option<&Path>, probes: &[String]) -> Result<Loaded, Failure> {
    let name = args.file.display().to_string();
    let format = format_of(args, &name)?;
    let bytes = std::fs::read(&args.file).map_err(|e| user(format!("cannot read {name}: {e}")))?;
    if format != Format::Snn && !args.set.is_empty() {
        return Err(user("--set overrides constants of .snn files only".into()));
    }
    let dt = args.dt.as_deref().map(|d| time("--dt", d, true)).transpose()?;
    if format != Format::Nir && spike_input.is_some() {
        return Err(user("--input feeds the Input nodes of .nir graphs only".into()));
    }
    let (mut network, text) = match format {
        Format::Snn => {
            if dt.is_some() {
                return Err(user(format!("{name}: a .snn file sets its own `timestep`; drop --dt")));
            }
            let text = text_of(&name, bytes)?;
            let net = snn::parse(&text, &overrides(&args.set)?)
                .map_err(|e| Failure::User(render_all(&e.diagnostics(&text), &name, &text)))?;
            (net, text)
        }
        Format::Nir => {
            let Some(dt) = dt else {
                return Err(user(format!(
                    "{name}: NIR stores times in seconds but no time step; pass --dt, e.g. --dt 0.1ms"
                )));
            };
            let imported = nir::import(bytes, dt).map_err(|e| user(format!("{name}: {e}")))?;
            for note in &imported.notes {
                eprintln!("note: {note}");
            }
            let mut net = imported.network;
            let inputs: Vec<_> = imported.inputs.iter().map(|(_, h)| *h).collect();
            match spike_input {
                Some(path) => attach_input(&mut net, &inputs, path)?,
                None if !inputs.is_empty() => eprintln!(
                    "warning: {name}: no --input: the graph's {} Input node(s) stay silent; give a spike file or \
                     --input poisson:RATE (docs/nir.md)",
                    inputs.len()
                ),
                None => {}
            }
            (net, String::new())
        }
        Format::Edges => {
            let text = text_of(&name, bytes)?;
            let opts = edge_options(args, dt.unwrap_or(1e-4))?;
            let net = edges::import(&text, &opts).map_err(|e| user(format!("{name}: {e}")))?;
            (net, String::new())
        }
    };
    for p in probes {
        add_probe(&mut network, p)?;
    }
    let loaded = Loaded { network, name, text };
    loaded.valid()?;
    Ok(loaded)
}

impl Loaded {
    /// The network as the validation pass accepts it, or its problems rendered against the file.
    pub fn valid(&self) -> Result<soma_compiler::valid::Valid<'_>, Failure> {
        validate(&self.network).map_err(|errors| {
            let diags: Vec<Diagnostic> = errors.iter().map(|e| e.diagnostic()).collect();
            Failure::User(render_all(&diags, &self.name, &self.text))
        })
    }
}
