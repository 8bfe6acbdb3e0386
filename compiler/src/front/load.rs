//! Reading a network from bytes in any of soma's formats, as the command line and the Python package both do:
//! pick the frontend by [`Format`] (or a file's extension), parse with the `.snn` overrides, the NIR time step or
//! the connectome options, and report every problem as text naming the source, line and column where it has
//! them ([`LoadError`]). [`Loaded::valid`] then runs the validation pass and renders its problems the same way.

use crate::diag::{Diagnostic, Span, render};
use crate::front::edges::{self, EdgeOptions};
use crate::front::nir;
use crate::front::snn::{self, Overrides};
use crate::ir::{Handle, Network, Node, Probe, ProbeKind, Source, SourceKind};
use crate::valid::{Valid, validate};

/// The input formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// soma's text language (.snn).
    Snn,
    /// Neuromorphic Intermediate Representation, HDF5 (.nir).
    Nir,
    /// Connectome edge list, CSV `pre,post,type,count` (.csv).
    Edges,
}

impl Format {
    /// The format a file's extension names.
    pub fn of_extension(name: &str, extension: &str) -> Result<Format, LoadError> {
        match extension {
            "snn" => Ok(Format::Snn),
            "nir" => Ok(Format::Nir),
            "csv" => Ok(Format::Edges),
            "img" => {
                Err(LoadError::Message(format!("{name}: this is a compiled image; run it with `soma run {name}`")))
            }
            other => Err(LoadError::Message(format!(
                "{name}: cannot tell the format from the extension `.{other}`\n  = soma reads .snn, .nir and .csv \
                 (connectome) files; or pass --format"
            ))),
        }
    }
}

/// Why a network cannot be read, naming the source (and for text the line and column).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    /// One line, without the `error: ` a command line puts before it (a caller may add its own context).
    #[error("{0}")]
    Message(String),
    /// Diagnostics rendered against the source (`error: ...`, `--> file:line:col`, the line underlined).
    #[error("{}", .0.trim_end())]
    Diagnostics(String),
}

impl LoadError {
    /// The error as a command line prints it: `error: ` and the message, or the rendered diagnostics.
    pub fn printed(&self) -> String {
        match self {
            LoadError::Message(m) => format!("error: {m}\n"),
            LoadError::Diagnostics(d) => d.clone(),
        }
    }
}

/// How to read a source besides its bytes.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Constants of a `.snn` file replaced (`--set`).
    pub overrides: Overrides,
    /// The time step of a NIR graph or connectome, s (a `.snn` file sets its own).
    pub dt: Option<f64>,
    /// How a connectome becomes a network (`None`: the defaults for `if_curr_exp`).
    pub edges: Option<EdgeOptions>,
}

/// A network read from a source, not yet validated.
#[derive(Clone)]
pub struct Loaded {
    /// The network.
    pub network: Network,
    /// The source's display name.
    pub name: String,
    /// The text of a .snn source, for rendering later diagnostics (empty for other formats).
    pub text: String,
    /// The sources that stand for a NIR graph's Input nodes, to be fed spikes.
    pub inputs: Vec<Handle<Source>>,
    /// Notes from the frontend (how NIR nodes were read).
    pub notes: Vec<String>,
}

/// At most this many diagnostics are rendered; the rest are counted.
const MAX_DIAGNOSTICS: usize = 12;

/// Renders diagnostics of one source.
pub fn render_all(diags: &[Diagnostic], name: &str, text: &str) -> String {
    let mut out = diags.iter().take(MAX_DIAGNOSTICS).map(|d| render(d, name, text)).collect::<Vec<_>>().join("\n");
    if diags.len() > MAX_DIAGNOSTICS {
        out += &format!("\n... and {} more errors in {name}\n", diags.len() - MAX_DIAGNOSTICS);
    }
    out
}

/// `bytes` as text, or where they stop being UTF-8.
pub fn text_of(name: &str, bytes: Vec<u8>) -> Result<String, LoadError> {
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let valid = String::from_utf8_lossy(&e.as_bytes()[..at]).into_owned();
        let d = Diagnostic {
            message: "the file is not UTF-8 text".into(),
            span: Span::new(at, at),
            label: "invalid byte here".into(),
        };
        LoadError::Diagnostics(render(&d, name, &valid))
    })
}

/// Reads `bytes` (called `name` in messages) as `format`.
pub fn read(name: &str, bytes: Vec<u8>, format: Format, options: &Options) -> Result<Loaded, LoadError> {
    let loaded = |network, text, inputs, notes| Loaded { network, name: name.to_string(), text, inputs, notes };
    if format != Format::Snn && !options.overrides.is_empty() {
        return Err(LoadError::Message("--set overrides constants of .snn files only".into()));
    }
    match format {
        Format::Snn => {
            if options.dt.is_some() {
                return Err(LoadError::Message(format!("{name}: a .snn file sets its own `timestep`; drop --dt")));
            }
            let text = text_of(name, bytes)?;
            let net = snn::parse(&text, &options.overrides)
                .map_err(|e| LoadError::Diagnostics(render_all(&e.diagnostics(&text), name, &text)))?;
            Ok(loaded(net, text, Vec::new(), Vec::new()))
        }
        Format::Nir => {
            let Some(dt) = options.dt else {
                return Err(LoadError::Message(format!(
                    "{name}: NIR stores times in seconds but no time step; pass --dt, e.g. --dt 0.1ms"
                )));
            };
            let imported = nir::import(bytes, dt).map_err(|e| LoadError::Message(format!("{name}: {e}")))?;
            let inputs = imported.inputs.iter().map(|(_, h)| *h).collect();
            Ok(loaded(imported.network, String::new(), inputs, imported.notes))
        }
        Format::Edges => {
            let text = text_of(name, bytes)?;
            let dt = options.dt.unwrap_or(1e-4);
            let defaults;
            let opts = match &options.edges {
                Some(o) => o,
                None => {
                    defaults = EdgeOptions::defaults(crate::ir::ModelKind::IfCurrExp, dt);
                    &defaults
                }
            };
            let net = edges::import(&text, opts).map_err(|e| LoadError::Message(format!("{name}: {e}")))?;
            Ok(loaded(net, String::new(), Vec::new(), Vec::new()))
        }
    }
}

/// What feeds a NIR graph's Input nodes.
#[derive(Clone, Debug, PartialEq)]
pub enum SpikeInput {
    /// Independent Poisson trains at this rate (Hz) on every channel (rate coding).
    Poisson(f64),
    /// Spike times (s) per channel, the channels of the Input nodes one after the other in name order.
    Times(nir::input::SpikeTimes),
}

impl Loaded {
    /// The channels of the graph's Input nodes (0 for networks without them).
    pub fn input_channels(&self) -> usize {
        self.inputs.iter().map(|&h| self.network.sources[h].size).sum()
    }

    /// Records a population as `spec` says: `NAME:v` (membrane potential), `NAME[a..b]:v` (neurons a..b) or
    /// `NAME:spikes`; the error names the spec and what was expected.
    pub fn probe(&mut self, spec: &str) -> Result<(), LoadError> {
        let net = &mut self.network;
        let bad = || {
            LoadError::Message(format!(
                "{spec}: expected POPULATION:v or POPULATION:spikes, optionally POPULATION[a..b]:v"
            ))
        };
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
        let Some(Node::Population(population)) = net.lookup(name) else {
            let names: Vec<&str> = net.populations.iter().map(|(_, p)| p.name.as_str()).take(20).collect();
            return Err(LoadError::Message(format!(
                "{spec}: no population `{name}` (populations: {}{})",
                names.join(", "),
                if net.populations.len() > 20 { ", ..." } else { "" }
            )));
        };
        net.probes.push(Probe { population, kind, neurons: range, span: Span::NONE });
        Ok(())
    }

    /// Feeds the graph's Input nodes with `input`.
    pub fn feed(&mut self, input: SpikeInput) -> Result<(), LoadError> {
        if self.inputs.is_empty() {
            return Err(LoadError::Message(format!(
                "{}: spike input feeds the Input nodes of .nir graphs; this has none",
                self.name
            )));
        }
        match input {
            SpikeInput::Poisson(rate) => {
                if !(rate.is_finite() && rate >= 0.0) {
                    return Err(LoadError::Message(format!(
                        "Poisson input at {rate} Hz: the rate must be finite and not negative"
                    )));
                }
                for &h in &self.inputs {
                    self.network.sources[h].kind = SourceKind::Poisson { rate };
                }
            }
            SpikeInput::Times(times) => {
                if times.len() != self.input_channels() {
                    return Err(LoadError::Message(format!(
                        "{}: spike input for {} channels, but the graph's Input nodes have {}",
                        self.name,
                        times.len(),
                        self.input_channels()
                    )));
                }
                let mut times = times.into_iter();
                for &h in &self.inputs {
                    let size = self.network.sources[h].size;
                    self.network.sources[h].kind =
                        SourceKind::SpikeArray { times: times.by_ref().take(size).collect() };
                }
            }
        }
        Ok(())
    }

    /// The network as the validation pass accepts it, or its problems rendered against the source.
    pub fn valid(&self) -> Result<Valid<'_>, LoadError> {
        validate(&self.network).map_err(|errors| {
            let diags: Vec<Diagnostic> = errors.iter().map(|e| e.diagnostic()).collect();
            LoadError::Diagnostics(render_all(&diags, &self.name, &self.text))
        })
    }
}
