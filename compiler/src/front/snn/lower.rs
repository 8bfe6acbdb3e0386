//! Lowering of a parsed `.snn` file to the IR: constants are evaluated in order (with `--set` overrides), every
//! block entry is checked against what its statement accepts (name, dimension, kind of value), and references to
//! populations and sources are resolved. Range checks are left to the validation pass.

use std::collections::{HashMap, HashSet};

use soma_isa::units::Dim;
use thiserror::Error;

use super::ast::{Arg, Block, Call, Expr, ExprKind, File, Ident, ItemKind};
use super::value::{Def, Scope, Value, dimension_error, reserved, type_error};
use crate::diag::{Diagnostic, Span};
use crate::ir::{
    Connector, Conv2d, Current, CurrentKind, Dependence, GapJunction, ModelKind, Modulation, Network, Node, Pairing,
    Population, Probe, ProbeKind, Projection, Receptor, Source, SourceKind, Stdp, Values,
};

/// What kind of semantic error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LowerErrorKind {
    /// A name that is not defined.
    UnknownName,
    /// A unit that does not exist.
    UnknownUnit,
    /// A key a statement does not accept.
    UnknownKey,
    /// A required key that is missing.
    MissingKey,
    /// Wrong physical dimension.
    Dimension,
    /// Wrong kind of value (a list where a number was expected...).
    Type,
    /// Anything else.
    Invalid,
}

/// A semantic error in a `.snn` file.
#[derive(Clone, Debug, Error, PartialEq)]
#[error("{message}")]
pub struct LowerError {
    /// What kind.
    pub kind: LowerErrorKind,
    /// Where.
    pub span: Span,
    /// What is wrong.
    pub message: String,
    /// What was expected.
    pub label: String,
}

impl LowerError {
    fn new(kind: LowerErrorKind, span: Span, message: String, label: impl Into<String>) -> LowerError {
        LowerError { kind, span, message, label: label.into() }
    }

    /// The error as a diagnostic.
    pub fn diagnostic(&self) -> Diagnostic {
        Diagnostic { message: self.message.clone(), span: self.span, label: self.label.clone() }
    }
}

/// A constant override from the command line: its value in SI and its dimension.
pub type Overrides = HashMap<String, (f64, Dim)>;

/// Lowers a parsed file; `overrides` replace the values of top-level constants.
pub fn lower(file: &File, overrides: &Overrides) -> Result<Network, Vec<LowerError>> {
    let mut l = Lowerer {
        scope: Scope::default(),
        net: Network::default(),
        errors: Vec::new(),
        used: HashSet::new(),
        overrides,
        dt_set: false,
        default_delays: Vec::new(),
    };
    for item in &file.items {
        if let Err(e) = l.item(&item.kind, item.span) {
            l.errors.push(e);
        }
    }
    if !l.dt_set {
        l.errors.push(LowerError::new(
            LowerErrorKind::MissingKey,
            Span::NONE,
            "the file sets no time step".into(),
            "add a line such as `timestep 0.1 ms`",
        ));
    }
    for name in overrides.keys().filter(|n| !l.used.contains(*n)) {
        let mut consts: Vec<&String> = l.scope.consts.keys().collect();
        consts.sort();
        let consts: Vec<&str> = consts.iter().map(|s| s.as_str()).collect();
        l.errors.push(LowerError::new(
            LowerErrorKind::UnknownName,
            Span::NONE,
            format!("--set {name}: the file has no constant `{name}`"),
            format!("constants: {}", consts.join(", ")),
        ));
    }
    let dt = l.net.dt;
    for &p in &l.default_delays {
        l.net.projections[crate::ir::Handle::from_index(p)].delay = Values::Const(dt);
    }
    if l.errors.is_empty() { Ok(l.net) } else { Err(l.errors) }
}

struct Lowerer<'o> {
    scope: Scope,
    net: Network,
    errors: Vec<LowerError>,
    used: HashSet<String>,
    overrides: &'o Overrides,
    dt_set: bool,
    default_delays: Vec<usize>,
}

/// The `key = value` entries of a block or the arguments of a call, read once each.
struct Fields<'a> {
    what: String,
    entries: Vec<(&'a Ident, &'a Expr)>,
    used: Vec<bool>,
    accepted: Vec<&'static str>,
    span: Span,
}

impl<'a> Fields<'a> {
    fn block(what: String, block: &'a Block) -> Fields<'a> {
        let entries: Vec<_> = block.entries.iter().map(|(k, v)| (k, v)).collect();
        Fields { what, used: vec![false; entries.len()], entries, accepted: Vec::new(), span: block.span }
    }

    /// Call arguments; positional ones take the names in `positional` order.
    fn call(
        what: String,
        call: &'a Call,
        positional: &'static [&'static str],
        holder: &'a mut Vec<Ident>,
    ) -> Result<Fields<'a>, LowerError> {
        holder.clear();
        for (i, Arg { name, value }) in call.args.iter().enumerate() {
            if name.is_none() {
                let Some(&p) = positional.get(i) else {
                    return Err(LowerError::new(
                        LowerErrorKind::Invalid,
                        value.span,
                        format!("too many arguments to `{}`", call.name.name),
                        format!("it takes: {}", positional.join(", ")),
                    ));
                };
                holder.push(Ident { name: p.to_string(), span: value.span });
            }
        }
        let mut positional_names = holder.iter();
        let entries: Vec<(&Ident, &Expr)> = call
            .args
            .iter()
            .filter_map(|a| match &a.name {
                Some(n) => Some((n, &a.value)),
                None => positional_names.next().map(|n| (n, &a.value)),
            })
            .collect();
        Ok(Fields { what, used: vec![false; entries.len()], entries, accepted: Vec::new(), span: call.span })
    }

    fn take(&mut self, key: &'static str) -> Option<&'a Expr> {
        self.accepted.push(key);
        let i = self.entries.iter().position(|(k, _)| k.name == key)?;
        self.used[i] = true;
        Some(self.entries[i].1)
    }

    fn require(&mut self, key: &'static str, hint: &str) -> Result<&'a Expr, LowerError> {
        self.take(key).ok_or_else(|| {
            LowerError::new(
                LowerErrorKind::MissingKey,
                self.span,
                format!("{}: missing `{key}`", self.what),
                format!("add `{key} = ...`{hint}"),
            )
        })
    }

    /// Errors for duplicate and unknown keys.
    fn finish(self) -> Result<(), LowerError> {
        let mut seen = HashSet::new();
        for (k, _) in &self.entries {
            if !seen.insert(k.name.as_str()) {
                return Err(LowerError::new(
                    LowerErrorKind::Invalid,
                    k.span,
                    format!("{}: `{}` is given twice", self.what, k.name),
                    "",
                ));
            }
        }
        match self.entries.iter().zip(&self.used).find(|(_, used)| !**used) {
            Some(((k, _), _)) => Err(LowerError::new(
                LowerErrorKind::UnknownKey,
                k.span,
                format!("{}: unknown parameter `{}`", self.what, k.name),
                if self.accepted.is_empty() {
                    "it takes no parameters".to_string()
                } else {
                    format!("expected one of: {}", self.accepted.join(", "))
                },
            )),
            None => Ok(()),
        }
    }
}

fn num(v: Value, dim: Dim, span: Span) -> Result<f64, LowerError> {
    match v {
        Value::Num(x, d) if d == dim => Ok(x),
        Value::Num(_, d) => Err(dimension_error(span, dim, d)),
        other => Err(type_error(span, &dim.describe(), &other)),
    }
}

fn list(v: Value, span: Span) -> Result<Vec<Value>, LowerError> {
    match v {
        Value::List(items) => Ok(items),
        other => Err(type_error(span, "a list `[...]`", &other)),
    }
}

fn whole(x: f64, span: Span, what: &str) -> Result<u64, LowerError> {
    if x.is_finite() && x >= 0.0 && x.fract() == 0.0 && x < 2f64.powi(53) {
        Ok(x as u64)
    } else {
        Err(LowerError::new(
            LowerErrorKind::Invalid,
            span,
            format!("{what} must be a whole number, got {x}"),
            "use round(...) to round a computed count",
        ))
    }
}

/// The call `e` must be, named one of `names` (`what` says which entry it is).
fn call_of<'e>(e: &'e Expr, what: &str, names: &[&str]) -> Result<&'e Call, LowerError> {
    match &e.kind {
        ExprKind::Call(call) if names.contains(&call.name.name.as_str()) => Ok(call),
        _ => Err(LowerError::new(
            LowerErrorKind::Invalid,
            e.span,
            format!(
                "`{what}` must be {}",
                names.iter().map(|n| format!("`{n}(...)`")).collect::<Vec<_>>().join(" or ")
            ),
            format!("e.g. {}(...)", names[0]),
        )),
    }
}

fn symbol<'e>(e: &'e Expr, options: &[&str]) -> Result<&'e str, LowerError> {
    match &e.kind {
        ExprKind::Name(id) if options.contains(&id.name.as_str()) => Ok(&id.name),
        _ => Err(LowerError::new(
            LowerErrorKind::Invalid,
            e.span,
            format!("expected one of: {}", options.join(", ")),
            format!("one of: {}", options.join(", ")),
        )),
    }
}

impl Lowerer<'_> {
    fn eval_num(&self, e: &Expr, dim: Dim) -> Result<f64, LowerError> {
        num(self.scope.eval(e)?, dim, e.span)
    }

    fn eval_whole(&self, e: &Expr, what: &str) -> Result<u64, LowerError> {
        whole(self.eval_num(e, Dim::NONE)?, e.span, what)
    }

    fn eval_nums(&self, e: &Expr, dim: Dim) -> Result<Vec<f64>, LowerError> {
        list(self.scope.eval(e)?, e.span)?.into_iter().map(|v| num(v, dim, e.span)).collect()
    }

    fn eval_values(&self, e: &Expr, dim: Dim) -> Result<Values, LowerError> {
        match self.scope.eval(e)? {
            Value::Dist(_, d) | Value::Num(_, d) if d != dim => Err(dimension_error(e.span, dim, d)),
            Value::Num(x, _) => Ok(Values::Const(x)),
            Value::Dist(values, _) => Ok(values),
            Value::List(items) => {
                Ok(Values::Array(items.into_iter().map(|v| num(v, dim, e.span)).collect::<Result<_, _>>()?))
            }
        }
    }

    fn population(&self, id: &Ident) -> Result<crate::ir::Handle<Population>, LowerError> {
        match self.net.lookup(&id.name) {
            Some(Node::Population(h)) => Ok(h),
            Some(Node::Source(_)) => Err(LowerError::new(
                LowerErrorKind::Invalid,
                id.span,
                format!("`{}` is a source; this needs a population", id.name),
                "",
            )),
            None => Err(self.unknown_node(id)),
        }
    }

    fn unknown_node(&self, id: &Ident) -> LowerError {
        let names: Vec<&str> = self
            .net
            .populations
            .iter()
            .map(|(_, p)| p.name.as_str())
            .chain(self.net.sources.iter().map(|(_, s)| s.name.as_str()))
            .collect();
        LowerError::new(
            LowerErrorKind::UnknownName,
            id.span,
            format!("unknown population or source `{}`", id.name),
            if names.is_empty() {
                "none is declared before this point".to_string()
            } else {
                format!("declared before this point: {}", names.join(", "))
            },
        )
    }

    /// Checks that a new name is free; constants and functions (`value_name`) may not shadow units and builtins,
    /// which share their namespace in expressions.
    fn declare(&self, name: &Ident, value_name: bool) -> Result<(), LowerError> {
        if value_name && reserved(&name.name) {
            return Err(LowerError::new(
                LowerErrorKind::Invalid,
                name.span,
                format!("`{}` is a unit or builtin function name", name.name),
                "choose another name",
            ));
        }
        if self.scope.consts.contains_key(&name.name)
            || self.scope.defs.contains_key(&name.name)
            || self.net.lookup(&name.name).is_some()
        {
            return Err(LowerError::new(
                LowerErrorKind::Invalid,
                name.span,
                format!("`{}` is already defined", name.name),
                "names must be unique",
            ));
        }
        Ok(())
    }

    fn item(&mut self, item: &ItemKind, span: Span) -> Result<(), LowerError> {
        match item {
            ItemKind::Timestep(e) => {
                if self.dt_set {
                    return Err(LowerError::new(
                        LowerErrorKind::Invalid,
                        span,
                        "the time step is set twice".into(),
                        "",
                    ));
                }
                self.net.dt = self.eval_num(e, Dim::TIME)?;
                self.net.dt_span = e.span;
                self.dt_set = true;
            }
            ItemKind::Const { name, value } => {
                self.declare(name, true)?;
                let mut v = self.scope.eval(value)?;
                if let Some(&(x, d)) = self.overrides.get(&name.name) {
                    self.used.insert(name.name.clone());
                    match v {
                        Value::Num(_, vd) if vd == d => v = Value::Num(x, d),
                        _ => {
                            return Err(LowerError::new(
                                LowerErrorKind::Dimension,
                                value.span,
                                format!(
                                    "--set {}: the override is {}, but the constant is {}",
                                    name.name,
                                    d.describe(),
                                    v.describe()
                                ),
                                "",
                            ));
                        }
                    }
                }
                self.scope.consts.insert(name.name.clone(), v);
            }
            ItemKind::Def { name, params, body } => {
                self.declare(name, true)?;
                self.scope.defs.insert(
                    name.name.clone(),
                    Def { params: params.iter().map(|p| p.name.clone()).collect(), body: body.clone() },
                );
            }
            ItemKind::Population { name, size, model, block } => {
                self.declare(name, false)?;
                let size = self.eval_whole(size, "a population size")? as usize;
                let kind = ModelKind::by_name(&model.name).ok_or_else(|| {
                    let names: Vec<&str> = ModelKind::ALL.iter().map(|k| k.name()).collect();
                    LowerError::new(
                        LowerErrorKind::UnknownName,
                        model.span,
                        format!("unknown neuron model `{}`", model.name),
                        format!("expected one of: {}", names.join(", ")),
                    )
                })?;
                let mut fields = Fields::block(format!("population `{}` ({})", name.name, kind.name()), block);
                let mut values = Vec::new();
                let mut param_spans = Vec::new();
                for spec in kind.params() {
                    let given = fields.take(spec.name);
                    param_spans.push(given.map_or(Span::NONE, |e| e.span));
                    let x = match (given, spec.default) {
                        (Some(e), _) => self.eval_num(e, spec.dim)?,
                        (None, Some(d)) => d,
                        (None, None) => {
                            return Err(LowerError::new(
                                LowerErrorKind::MissingKey,
                                block.span,
                                format!(
                                    "population `{}`: missing parameter `{}` ({}, {})",
                                    name.name,
                                    spec.name,
                                    spec.doc,
                                    spec.dim.describe()
                                ),
                                format!("add `{} = ...`", spec.name),
                            ));
                        }
                    };
                    values.push(x);
                }
                let v_init = fields.take("v_init").map(|e| self.eval_values(e, kind.voltage_dim())).transpose()?;
                fields.finish()?;
                self.net.populations.push(Population {
                    name: name.name.clone(),
                    size,
                    model: kind.build(&values),
                    v_init,
                    span: name.span.to(block.span),
                    param_spans,
                });
            }
            ItemKind::Source { name, size, kind, block } => {
                self.declare(name, false)?;
                let size = self.eval_whole(size, "a source size")? as usize;
                let mut fields = Fields::block(format!("source `{}`", name.name), block);
                let source_kind = match kind.name.as_str() {
                    "poisson" => SourceKind::Poisson {
                        rate: self.eval_num(fields.require("rate", ", e.g. `rate = 8 Hz`")?, Dim::RATE)?,
                    },
                    "spikes" => {
                        let e = fields.require("times", ", one list per channel: `times = [[1 ms, 5 ms], [2 ms]]`")?;
                        let channels = list(self.scope.eval(e)?, e.span)?;
                        let times = channels
                            .into_iter()
                            .map(|c| list(c, e.span)?.into_iter().map(|t| num(t, Dim::TIME, e.span)).collect())
                            .collect::<Result<_, _>>()?;
                        SourceKind::SpikeArray { times }
                    }
                    other => {
                        return Err(LowerError::new(
                            LowerErrorKind::UnknownName,
                            kind.span,
                            format!("unknown source kind `{other}`"),
                            "expected poisson or spikes",
                        ));
                    }
                };
                fields.finish()?;
                self.net.sources.push(Source {
                    name: name.name.clone(),
                    size,
                    kind: source_kind,
                    span: name.span.to(block.span),
                });
            }
            ItemKind::Projection { electrical, pre, post, connector, block } => {
                self.projection(*electrical, pre, post, connector, block, span)?
            }
            ItemKind::Current { target, kind, block } => {
                let h = self.population(target)?;
                let dim = current_dim(self.net.populations[h].model.kind());
                let mut fields = Fields::block(format!("current into `{}`", target.name), block);
                let current = match kind.name.as_str() {
                    "dc" => CurrentKind::Dc {
                        amplitude: self.eval_values(fields.require("amplitude", "")?, dim)?,
                        start: fields.take("start").map(|e| self.eval_num(e, Dim::TIME)).transpose()?.unwrap_or(0.0),
                        stop: fields.take("stop").map(|e| self.eval_num(e, Dim::TIME)).transpose()?,
                    },
                    "step" => CurrentKind::Step {
                        times: self.eval_nums(fields.require("times", "")?, Dim::TIME)?,
                        amplitudes: self.eval_nums(fields.require("amplitudes", "")?, dim)?,
                    },
                    other => {
                        return Err(LowerError::new(
                            LowerErrorKind::UnknownName,
                            kind.span,
                            format!("unknown current kind `{other}`"),
                            "expected dc or step",
                        ));
                    }
                };
                fields.finish()?;
                self.net.currents.push(Current { target: h, kind: current, span });
            }
            ItemKind::Probe { population, range, kind } => {
                let h = self.population(population)?;
                let neurons = match range {
                    Some((a, b)) => Some(
                        self.eval_whole(a, "a neuron index")? as usize..self.eval_whole(b, "a neuron index")? as usize,
                    ),
                    None => None,
                };
                let kind =
                    match symbol(&Expr { kind: ExprKind::Name(kind.clone()), span: kind.span }, &["spikes", "v"])? {
                        "spikes" => ProbeKind::Spikes,
                        _ => ProbeKind::V,
                    };
                self.net.probes.push(Probe { population: h, kind, neurons, span });
            }
        }
        Ok(())
    }

    fn projection(
        &mut self,
        electrical: bool,
        pre: &Ident,
        post: &Ident,
        call: &Call,
        block: &Block,
        span: Span,
    ) -> Result<(), LowerError> {
        let pre_node = self.net.lookup(&pre.name).ok_or_else(|| self.unknown_node(pre))?;
        let post_h = self.population(post)?;
        let post_kind = self.net.populations[post_h].model.kind();
        let pre_size = self.net.node_size(pre_node);
        let what = format!("{} {} -> {}", if electrical { "gap" } else { "projection" }, pre.name, post.name);
        let weight_dim = if electrical {
            post_kind.gap_dim().ok_or_else(|| {
                LowerError::new(
                    LowerErrorKind::Invalid,
                    post.span,
                    format!("`{}` neurons cannot be coupled electrically", post_kind.name()),
                    "",
                )
            })?
        } else {
            post_kind.weight_dim()
        };
        let connector = self.connector(&what, call, pre_size, weight_dim)?;
        let mut fields = Fields::block(what.clone(), block);
        if electrical {
            let Node::Population(a) = pre_node else {
                return Err(LowerError::new(
                    LowerErrorKind::Invalid,
                    pre.span,
                    "gap junctions connect populations, not sources".into(),
                    "",
                ));
            };
            let weight =
                self.eval_values(fields.require("weight", &format!(" ({})", weight_dim.describe()))?, weight_dim)?;
            fields.finish()?;
            self.net.gap_junctions.push(GapJunction { a, b: post_h, connector, weight, span });
            return Ok(());
        }
        let weight = if connector.has_weights() {
            None
        } else {
            Some(self.eval_values(fields.require("weight", &format!(" ({})", weight_dim.describe()))?, weight_dim)?)
        };
        let delay = fields.take("delay").map(|e| self.eval_values(e, Dim::TIME)).transpose()?;
        let receptor = match fields.take("receptor").map(|e| symbol(e, &["excitatory", "inhibitory"])).transpose()? {
            Some("inhibitory") => Receptor::Inhibitory,
            _ => Receptor::Excitatory,
        };
        let plasticity = fields.take("plasticity").map(|e| self.plasticity(e, weight_dim)).transpose()?;
        fields.finish()?;
        if delay.is_none() {
            self.default_delays.push(self.net.projections.len());
        }
        self.net.projections.push(Projection {
            pre: pre_node,
            post: post_h,
            connector,
            weight,
            delay: delay.unwrap_or(Values::Const(f64::NAN)),
            receptor,
            plasticity,
            span,
        });
        Ok(())
    }

    /// `RateModulation(of = NAME, tau = T, gain = G, baseline = B)`: a third factor from a declared population's or
    /// source's activity (`baseline` defaults to 0).
    fn modulation(&self, e: &Expr) -> Result<Modulation<Node>, LowerError> {
        let call = call_of(e, "modulation", &["RateModulation"])?;
        let mut names = Vec::new();
        let mut f = Fields::call("RateModulation".into(), call, &["of", "tau", "gain", "baseline"], &mut names)?;
        let of_e = f.require("of", " (a population or source declared above)")?;
        let of = match &of_e.kind {
            ExprKind::Name(id) => self.net.lookup(&id.name).ok_or_else(|| {
                LowerError::new(
                    LowerErrorKind::UnknownName,
                    id.span,
                    format!("no population or source `{}` declared before this projection", id.name),
                    "",
                )
            })?,
            _ => {
                return Err(LowerError::new(
                    LowerErrorKind::Invalid,
                    of_e.span,
                    "`of` names the population or source whose activity modulates learning".into(),
                    "e.g. of = exc",
                ));
            }
        };
        let tau = self.eval_num(f.require("tau", " (the filter's time constant)")?, Dim::TIME)?;
        let gain = self.eval_num(f.require("gain", " (seconds: the factor per Hz of filtered rate)")?, Dim::TIME)?;
        let baseline = f.take("baseline").map(|e| self.eval_num(e, Dim::NONE)).transpose()?.unwrap_or(0.0);
        f.finish()?;
        Ok(Modulation { of, tau, gain, baseline })
    }

    /// `STDPMechanism(timing_dependence = SpikePairRule(...), weight_dependence = AdditiveWeightDependence(...))`,
    /// PyNN's names and parameters, with PyNN's defaults (20 ms, 0.01, `w_min = 0`) but no default `w_max`.
    fn plasticity(&self, e: &Expr, weight_dim: Dim) -> Result<Stdp<Node>, LowerError> {
        let mut names = Vec::new();
        let mechanism = call_of(e, "plasticity", &["STDPMechanism"])?;
        let mut f = Fields::call(
            "STDPMechanism".into(),
            mechanism,
            &["timing_dependence", "weight_dependence", "modulation"],
            &mut names,
        )?;
        let timing_e = f.require("timing_dependence", " = SpikePairRule(...) or SpikeNearestPairRule(...)")?;
        let weight_e =
            f.require("weight_dependence", " = AdditiveWeightDependence(...) or MultiplicativeWeightDependence(...)")?;
        let modulation = f.take("modulation").map(|e| self.modulation(e)).transpose()?;
        f.finish()?;
        let timing = call_of(timing_e, "timing_dependence", &["SpikePairRule", "SpikeNearestPairRule"])?;
        let pairing = if timing.name.name == "SpikePairRule" { Pairing::AllToAll } else { Pairing::Nearest };
        let mut names = Vec::new();
        let mut t = Fields::call(
            timing.name.name.clone(),
            timing,
            &["tau_plus", "tau_minus", "A_plus", "A_minus"],
            &mut names,
        )?;
        let or = |x: Option<&Expr>, dim: Dim, default: f64| x.map(|e| self.eval_num(e, dim)).unwrap_or(Ok(default));
        let tau_plus = or(t.take("tau_plus"), Dim::TIME, 0.02)?;
        let tau_minus = or(t.take("tau_minus"), Dim::TIME, 0.02)?;
        let a_plus = or(t.take("A_plus"), Dim::NONE, 0.01)?;
        let a_minus = or(t.take("A_minus"), Dim::NONE, 0.01)?;
        t.finish()?;
        let weights =
            call_of(weight_e, "weight_dependence", &["AdditiveWeightDependence", "MultiplicativeWeightDependence"])?;
        let dependence = if weights.name.name == "AdditiveWeightDependence" {
            Dependence::Additive
        } else {
            Dependence::Multiplicative
        };
        let mut names = Vec::new();
        let mut w = Fields::call(weights.name.name.clone(), weights, &["w_min", "w_max"], &mut names)?;
        let w_min = or(w.take("w_min"), weight_dim, 0.0)?;
        let w_max = self
            .eval_num(w.require("w_max", &format!(" ({}, the weight's unit)", weight_dim.describe()))?, weight_dim)?;
        w.finish()?;
        let rule = Stdp { pairing, tau_plus, tau_minus, a_plus, a_minus, dependence, w_min, w_max, modulation };
        match rule.problem() {
            Some(problem) => {
                Err(LowerError::new(LowerErrorKind::Invalid, e.span, format!("plasticity: {problem}"), ""))
            }
            None => Ok(rule),
        }
    }

    fn connector(&self, what: &str, call: &Call, pre_size: usize, weight_dim: Dim) -> Result<Connector, LowerError> {
        let mut names = Vec::new();
        let what = format!("{what}: {}", call.name.name);
        let autapses = |f: &mut Fields| -> Result<bool, LowerError> {
            Ok(f.take("autapses").map(|e| symbol(e, &["true", "false"])).transpose()? != Some("false"))
        };
        let positional: &'static [&'static str] = match call.name.name.as_str() {
            "fixed_probability" => &["p", "autapses"],
            "fixed_indegree" => &["k", "autapses"],
            "fixed_total_number" => &["n", "autapses"],
            "all_to_all" => &["autapses"],
            "dense" => &["matrix"],
            "sparse" => &["pre", "post"],
            _ => &[],
        };
        let mut f = Fields::call(what, call, positional, &mut names)?;
        let c = match call.name.name.as_str() {
            "all_to_all" => Connector::AllToAll { autapses: autapses(&mut f)? },
            "one_to_one" => Connector::OneToOne,
            "fixed_probability" => Connector::FixedProbability {
                p: self.eval_num(f.require("p", "")?, Dim::NONE)?,
                autapses: autapses(&mut f)?,
            },
            "fixed_indegree" => Connector::FixedIndegree {
                k: self.eval_whole(f.require("k", "")?, "an in-degree")?,
                autapses: autapses(&mut f)?,
            },
            "fixed_total_number" => Connector::FixedTotalNumber {
                n: self.eval_whole(f.require("n", "")?, "a synapse count")?,
                autapses: autapses(&mut f)?,
            },
            "dense" => {
                let e = f.require("matrix", " as a list of rows, one per postsynaptic neuron")?;
                let rows = list(self.scope.eval(e)?, e.span)?;
                let mut matrix = Vec::new();
                for row in rows {
                    for v in list(row, e.span)? {
                        matrix.push(num(v, weight_dim, e.span)?);
                    }
                }
                Connector::Dense { matrix }
            }
            "sparse" => {
                let pre_e = f.require("pre", "")?;
                let pre = self.eval_nums(pre_e, Dim::NONE)?;
                let post_e = f.require("post", "")?;
                let post = self.eval_nums(post_e, Dim::NONE)?;
                if pre.len() != post.len() {
                    return Err(LowerError::new(
                        LowerErrorKind::Invalid,
                        call.span,
                        format!("sparse: {} pre indices but {} post indices", pre.len(), post.len()),
                        "",
                    ));
                }
                let mut pairs = Vec::with_capacity(pre.len());
                for (a, b) in pre.iter().zip(&post) {
                    let a = whole(*a, pre_e.span, "a neuron index")?;
                    if a as usize >= pre_size {
                        return Err(LowerError::new(
                            LowerErrorKind::Invalid,
                            pre_e.span,
                            format!("pre index {a} is outside 0..{pre_size}"),
                            "",
                        ));
                    }
                    pairs.push((a as u32, whole(*b, post_e.span, "a neuron index")?.min(u32::MAX as u64) as u32));
                }
                let rows = soma_isa::instance::Rows::from_synapses(
                    pre_size,
                    &pairs.iter().map(|&(a, b)| (a, b, 0.0, 0)).collect::<Vec<_>>(),
                );
                Connector::Sparse { offsets: rows.offsets, targets: rows.targets }
            }
            "conv2d" => {
                let triple = |f: &mut Fields,
                              key: &'static str,
                              n: usize,
                              default: Option<usize>|
                 -> Result<Vec<usize>, LowerError> {
                    match (f.take(key), default) {
                        (Some(e), _) => {
                            let xs = self.eval_nums(e, Dim::NONE)?;
                            if xs.len() != n {
                                return Err(LowerError::new(
                                    LowerErrorKind::Invalid,
                                    e.span,
                                    format!("`{key}` needs {n} values, got {}", xs.len()),
                                    "",
                                ));
                            }
                            xs.iter().map(|&x| whole(x, e.span, key).map(|v| v as usize)).collect()
                        }
                        (None, Some(d)) => Ok(vec![d; n]),
                        (None, None) => Err(LowerError::new(
                            LowerErrorKind::MissingKey,
                            call.span,
                            format!("conv2d: missing `{key}`"),
                            "",
                        )),
                    }
                };
                let input = triple(&mut f, "input", 3, None)?;
                let out_channels = self.eval_whole(f.require("out_channels", "")?, "a channel count")? as usize;
                let kernel = triple(&mut f, "kernel", 2, None)?;
                let stride = triple(&mut f, "stride", 2, Some(1))?;
                let padding = triple(&mut f, "padding", 2, Some(0))?;
                let dilation = triple(&mut f, "dilation", 2, Some(1))?;
                let groups =
                    f.take("groups").map(|e| self.eval_whole(e, "a group count")).transpose()?.unwrap_or(1) as usize;
                let weights = self.eval_nums(f.require("weights", " (flat, [out][in/groups][ky][kx])")?, weight_dim)?;
                Connector::Conv2d(Conv2d {
                    input: [input[0], input[1], input[2]],
                    out_channels,
                    kernel: [kernel[0], kernel[1]],
                    stride: [stride[0], stride[1]],
                    padding: [padding[0], padding[1]],
                    dilation: [dilation[0], dilation[1]],
                    groups,
                    weights,
                })
            }
            other => {
                return Err(LowerError::new(
                    LowerErrorKind::UnknownName,
                    call.name.span,
                    format!("unknown connector `{other}`"),
                    "expected one of: all_to_all, one_to_one, fixed_probability, fixed_indegree, fixed_total_number, dense, sparse, conv2d",
                ));
            }
        };
        f.finish()?;
        Ok(c)
    }
}

/// The dimension of a current injected into a model: amperes for PyNN-style models, the drive's voltage units
/// for Izhikevich, pure numbers for NIR models.
pub fn current_dim(kind: ModelKind) -> Dim {
    match kind {
        ModelKind::IfCurrExp => Dim::CURRENT,
        ModelKind::Izhikevich => Dim::VOLTAGE,
        _ => Dim::NONE,
    }
}
