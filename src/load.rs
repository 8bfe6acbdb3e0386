//! Reading a network file from the flags: `--format` or the extension, `--set`, `--dt` and the connectome options
//! parsed with the flag in their messages, then `compiler::front::load` reads it; NIR spike inputs (`--input`) and
//! `--probe` recordings are attached and the network validated.

use std::path::Path;

use clap::{Args, ValueEnum};
use soma_compiler::front::edges::{EdgeOptions, GABAERGIC};
use soma_compiler::front::load as front;
pub use soma_compiler::front::load::{Loaded, render_all};
use soma_compiler::front::nir;
use soma_compiler::front::snn::{self, Overrides};
use soma_compiler::ir::ModelKind;
use soma_isa::units::Dim;

use crate::{Failure, InputArgs};

/// The input formats, as `--format` names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// soma's text language (.snn).
    Snn,
    /// Neuromorphic Intermediate Representation, HDF5 (.nir).
    Nir,
    /// Connectome edge list, CSV `pre,post,type,count` (.csv).
    Edges,
}

impl From<Format> for front::Format {
    fn from(f: Format) -> front::Format {
        match f {
            Format::Snn => front::Format::Snn,
            Format::Nir => front::Format::Nir,
            Format::Edges => front::Format::Edges,
        }
    }
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

fn format_of(args: &InputArgs, name: &str) -> Result<front::Format, Failure> {
    if let Some(f) = args.format {
        return Ok(f.into());
    }
    let extension = args.file.extension().and_then(|e| e.to_str()).unwrap_or("");
    front::Format::of_extension(name, extension).map_err(|e| Failure::User(e.printed()))
}

fn text_of(name: &str, bytes: Vec<u8>) -> Result<String, Failure> {
    front::text_of(name, bytes).map_err(|e| Failure::User(e.printed()))
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

/// Feeds a NIR graph's Input nodes from `path` (`--input`): a spike file, or `poisson:RATE` for independent
/// Poisson trains (rate coding) on every channel.
fn attach_input(loaded: &mut Loaded, path: &Path) -> Result<(), Failure> {
    let name = path.display().to_string();
    let input = match name.strip_prefix("poisson:") {
        Some(rate) => front::SpikeInput::Poisson(quantity("--input poisson:RATE", rate, Dim::RATE)?),
        None => {
            let text = text_of(&name, std::fs::read(path).map_err(|e| user(format!("cannot read {name}: {e}")))?)?;
            let times = nir::input::parse(&text, loaded.input_channels(), loaded.network.dt)
                .map_err(|m| user(format!("{name}: {m}")))?;
            let last = times.iter().flatten().fold(None, |m: Option<f64>, &t| Some(m.map_or(t, |m| m.max(t))));
            match last {
                None => eprintln!("warning: --input {name}: no spikes at all: the graph's inputs stay silent"),
                Some(t) => {
                    eprintln!("note: --input {name}: the last input spike is at {t} s; the inputs are silent after it")
                }
            }
            front::SpikeInput::Times(times)
        }
    };
    loaded.feed(input).map_err(|e| user(format!("--input {name}: {e}")))
}

/// Reads, lowers and validates the input file; `spike_input` feeds a NIR graph's Input nodes and `probes` adds
/// `--probe` recordings.
pub fn load(args: &InputArgs, spike_input: Option<&Path>, probes: &[String]) -> Result<Loaded, Failure> {
    let name = args.file.display().to_string();
    let format = format_of(args, &name)?;
    let bytes = std::fs::read(&args.file).map_err(|e| user(format!("cannot read {name}: {e}")))?;
    let dt = args.dt.as_deref().map(|d| time("--dt", d, true)).transpose()?;
    if format != front::Format::Nir && spike_input.is_some() {
        return Err(user("--input feeds the Input nodes of .nir graphs only".into()));
    }
    let options = front::Options {
        overrides: overrides(&args.set)?,
        dt,
        edges: (format == front::Format::Edges).then(|| edge_options(args, dt.unwrap_or(1e-4))).transpose()?,
    };
    let mut loaded = front::read(&name, bytes, format, &options)?;
    for note in &loaded.notes {
        eprintln!("note: {note}");
    }
    match spike_input {
        Some(path) => attach_input(&mut loaded, path)?,
        None if !loaded.inputs.is_empty() => eprintln!(
            "warning: {name}: no --input: the graph's {} Input node(s) stay silent; give a spike file or --input \
             poisson:RATE (docs/nir.md)",
            loaded.inputs.len()
        ),
        None => {}
    }
    for p in probes {
        loaded.probe(p).map_err(|e| user(format!("--probe {e}")))?;
    }
    loaded.valid()?;
    Ok(loaded)
}
