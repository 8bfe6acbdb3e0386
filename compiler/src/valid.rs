//! The validation pass, run after every frontend and before every backend: shapes, finite values, parameter
//! ranges, dangling references and time-step compatibility. It destructures every IR object completely, so a
//! new field does not compile until it is validated here. All problems are reported, not just the first.

use std::collections::HashMap;

use soma_isa::model::Range;
use thiserror::Error;

use crate::diag::{Diagnostic, Span};
use crate::ir::{
    Connector, Conv2d, Current, CurrentKind, GapJunction, Network, NeuronModel, Node, Population, Probe, ProbeKind,
    Projection, Receptor, Source, SourceKind, Values,
};

/// A problem found by validation.
#[derive(Clone, Debug, Error, PartialEq)]
pub enum ValidationError {
    /// The time step is not a positive finite number.
    #[error("the time step must be a positive finite time, got {value} s")]
    Timestep {
        /// The value.
        value: f64,
        /// Where.
        span: Span,
    },
    /// Two objects share a name.
    #[error("`{name}` is declared twice")]
    DuplicateName {
        /// The name.
        name: String,
        /// The second declaration.
        span: Span,
    },
    /// A population or source with no neurons.
    #[error("`{name}` has no neurons")]
    Empty {
        /// The object.
        name: String,
        /// Where.
        span: Span,
    },
    /// A model parameter outside its range.
    #[error("parameter `{param}` of `{population}` is {}, but it must be {}", dim.format(*value), expected.describe())]
    Parameter {
        /// The population.
        population: String,
        /// The parameter.
        param: &'static str,
        /// The value.
        value: f64,
        /// Its dimension.
        dim: soma_isa::units::Dim,
        /// What it must be.
        expected: Range,
        /// Where.
        span: Span,
    },
    /// Something out of range or inconsistent, described in words.
    #[error("{message}")]
    Invalid {
        /// What is wrong.
        message: String,
        /// Where.
        span: Span,
    },
    /// A reference to an object that does not exist.
    #[error("{what} refers to an object that does not exist")]
    Dangling {
        /// The referring object.
        what: String,
        /// Where.
        span: Span,
    },
}

impl ValidationError {
    /// Where the problem is.
    pub fn span(&self) -> Span {
        match self {
            ValidationError::Timestep { span, .. }
            | ValidationError::DuplicateName { span, .. }
            | ValidationError::Empty { span, .. }
            | ValidationError::Parameter { span, .. }
            | ValidationError::Invalid { span, .. }
            | ValidationError::Dangling { span, .. } => *span,
        }
    }

    /// The error as a diagnostic.
    pub fn diagnostic(&self) -> Diagnostic {
        Diagnostic { message: self.to_string(), span: self.span(), label: String::new() }
    }
}

/// A network the validation pass accepted: only [`validate`] makes one, and instantiation takes nothing else, so
/// every instance (and every image compiled from one) comes from a checked network.
#[derive(Clone, Copy, Debug)]
pub struct Valid<'a>(&'a Network);

impl std::ops::Deref for Valid<'_> {
    type Target = Network;
    fn deref(&self) -> &Network {
        self.0
    }
}

/// Checks a network; returns it as [`Valid`], or every problem found.
pub fn validate(net: &Network) -> Result<Valid<'_>, Vec<ValidationError>> {
    let mut v = Validator { net, errors: Vec::new() };
    v.run();
    if v.errors.is_empty() { Ok(Valid(net)) } else { Err(v.errors) }
}

struct Validator<'a> {
    net: &'a Network,
    errors: Vec<ValidationError>,
}

impl Validator<'_> {
    fn invalid(&mut self, span: Span, message: String) {
        self.errors.push(ValidationError::Invalid { message, span });
    }

    fn finite(&mut self, span: Span, what: &str, x: f64) {
        if !x.is_finite() {
            self.invalid(span, format!("{what} must be finite, got {x}"));
        }
    }

    fn run(&mut self) {
        let Network { dt, dt_span, populations, sources, projections, gap_junctions, currents, probes } = self.net;
        if !(dt.is_finite() && *dt > 0.0) {
            self.errors.push(ValidationError::Timestep { value: *dt, span: *dt_span });
        }
        let mut names: HashMap<&str, ()> = HashMap::new();
        for (_, p) in populations.iter() {
            if names.insert(&p.name, ()).is_some() {
                self.errors.push(ValidationError::DuplicateName { name: p.name.clone(), span: p.span });
            }
            self.population(p);
        }
        for (_, s) in sources.iter() {
            if names.insert(&s.name, ()).is_some() {
                self.errors.push(ValidationError::DuplicateName { name: s.name.clone(), span: s.span });
            }
            self.source(s);
        }
        for (h, p) in projections.iter() {
            self.projection(&h.to_string(), p);
        }
        for (h, g) in gap_junctions.iter() {
            self.gap(&h.to_string(), g);
        }
        for (h, c) in currents.iter() {
            self.current(&h.to_string(), c);
        }
        for (h, p) in probes.iter() {
            self.probe(&h.to_string(), p);
        }
    }

    fn size(&mut self, name: &str, size: usize, span: Span) {
        if size == 0 {
            self.errors.push(ValidationError::Empty { name: name.to_string(), span });
        } else if size > u32::MAX as usize {
            self.invalid(span, format!("`{name}` has {size} neurons; at most {} fit the u32 neuron indices", u32::MAX));
        }
    }

    fn population(&mut self, p: &Population) {
        let Population { name, size, model, v_init, span, param_spans } = p;
        self.size(name, *size, *span);
        let kind = model.kind();
        for (k, (spec, value)) in kind.params().iter().zip(model.values()).enumerate() {
            if !spec.range.contains(value) {
                let at = param_spans.get(k).copied().filter(|s| s.is_known()).unwrap_or(*span);
                self.errors.push(ValidationError::Parameter {
                    population: name.clone(),
                    param: spec.name,
                    value,
                    dim: spec.dim,
                    expected: spec.range,
                    span: at,
                });
            }
        }
        if let NeuronModel::IfCurrExp(m) = model
            && m.v_reset >= m.v_thresh
        {
            self.invalid(
                *span,
                format!("`{name}`: v_reset ({} V) must be below v_thresh ({} V)", m.v_reset, m.v_thresh),
            );
        }
        if let Some(values) = v_init {
            self.values(*span, &format!("initial v of `{name}`"), values, Some(*size));
        }
    }

    fn source(&mut self, s: &Source) {
        let Source { name, size, kind, span } = s;
        self.size(name, *size, *span);
        match kind {
            SourceKind::Poisson { rate } => {
                if !Range::NonNegative.contains(*rate) {
                    self.invalid(*span, format!("rate of `{name}` must be zero or greater, got {rate} Hz"));
                }
            }
            SourceKind::SpikeArray { times } => {
                if times.len() != *size {
                    self.invalid(*span, format!("`{name}` has {size} channels but {} spike lists", times.len()));
                }
                if times.iter().flatten().any(|t| !Range::NonNegative.contains(*t)) {
                    self.invalid(*span, format!("spike times of `{name}` must be finite and not negative"));
                }
            }
        }
    }

    fn node(&mut self, what: &str, node: Node, span: Span) -> Option<usize> {
        let size = match node {
            Node::Population(h) => self.net.populations.get(h).map(|p| p.size),
            Node::Source(h) => self.net.sources.get(h).map(|s| s.size),
        };
        if size.is_none() {
            self.errors.push(ValidationError::Dangling { what: what.to_string(), span });
        }
        size
    }

    fn projection(&mut self, id: &str, p: &Projection) {
        let Projection { pre, post, connector, weight, delay, receptor, plasticity, span } = p;
        let pre_size = self.node(id, *pre, *span);
        let post_pop = self.net.populations.get(*post);
        if post_pop.is_none() {
            self.errors.push(ValidationError::Dangling { what: id.to_string(), span: *span });
        }
        let (Some(pre_size), Some(post_pop)) = (pre_size, post_pop) else {
            return;
        };
        let what = format!("projection {} -> {}", self.net.node_name(*pre), post_pop.name);
        let kind = post_pop.model.kind();
        if *receptor == Receptor::Inhibitory && kind.receptors() < 2 {
            self.invalid(
                *span,
                format!("{what}: `{}` has a single input; give inhibition as negative weights", kind.name()),
            );
        }
        let same = *pre == Node::Population(*post);
        self.connector(&what, *span, connector, pre_size, post_pop.size, same);
        match (weight, connector.has_weights()) {
            (Some(_), true) => {
                self.invalid(*span, format!("{what}: `{}` carries its own weights; remove `weight`", connector.name()))
            }
            (None, false) => self.invalid(*span, format!("{what}: missing `weight`")),
            (Some(w), false) => self.values(*span, &format!("{what}: weight"), w, None),
            (None, true) => {}
        }
        self.values(*span, &format!("{what}: delay"), delay, None);
        if let Some(rule) = plasticity {
            if let Some(m) = rule.modulation {
                self.node(id, m.of, *span);
            }
            if let Some(problem) = rule.problem() {
                self.invalid(*span, format!("{what}: plasticity: {problem}"));
            }
            let range = match (weight, connector) {
                (Some(w), _) => weight_range(w),
                (None, Connector::Dense { matrix }) => Some(extent(matrix.iter().copied().filter(|&w| w != 0.0))),
                (None, _) => Some(extent(std::iter::empty())),
            };
            match range {
                Some((lo, hi)) if lo > hi || (rule.w_min <= lo && hi <= rule.w_max) => {}
                Some((lo, hi)) => self.invalid(
                    *span,
                    format!(
                        "{what}: {} outside the plasticity bounds [w_min, w_max] = [{}, {}]",
                        if lo == hi { format!("weight {lo} is") } else { format!("weights from {lo} to {hi} are") },
                        rule.w_min,
                        rule.w_max
                    ),
                ),
                None => self.invalid(
                    *span,
                    format!("{what}: plastic weights drawn from a normal distribution need `min` and `max` clips"),
                ),
            }
            if let Connector::Conv2d(_) = connector {
                self.invalid(
                    *span,
                    format!(
                        "{what}: a conv2d kernel shares each weight between many synapses, so it cannot learn \
                         per synapse; give the synapses as `sparse` or `dense` to make them plastic"
                    ),
                );
            }
        }
        let dt = self.net.dt;
        let min_delay = match delay {
            Values::Const(d) => Some(*d),
            Values::Array(a) => a.iter().copied().reduce(f64::min),
            Values::Normal { min, .. } => Some(min.unwrap_or(f64::NEG_INFINITY)),
            Values::Uniform { low, .. } => Some(*low),
        };
        if let Some(d) = min_delay
            && dt > 0.0
            && d < dt * (1.0 - 1e-9)
        {
            self.invalid(
                *span,
                format!("{what}: delays must be at least one time step ({} ms); give normal delays a `min`", dt * 1e3),
            );
        }
    }

    fn connector(&mut self, what: &str, span: Span, c: &Connector, pre: usize, post: usize, same: bool) {
        match c {
            Connector::AllToAll { autapses: _ } => {}
            Connector::FixedIndegree { k: n, autapses } | Connector::FixedTotalNumber { n, autapses } => {
                if same && !autapses && pre < 2 && *n > 0 {
                    self.invalid(span, format!("{what}: a single neuron without autapses has nobody to connect to"));
                }
            }
            Connector::OneToOne => {
                if pre != post {
                    self.invalid(span, format!("{what}: one_to_one needs equal sizes, got {pre} and {post}"));
                }
            }
            Connector::FixedProbability { p, autapses: _ } => {
                if !(p.is_finite() && (0.0..=1.0).contains(p)) {
                    self.invalid(span, format!("{what}: probability must be in [0, 1], got {p}"));
                }
            }
            Connector::Dense { matrix } => {
                if matrix.len() != pre * post {
                    self.invalid(
                        span,
                        format!(
                            "{what}: dense matrix has {} entries, expected {post} x {pre} = {}",
                            matrix.len(),
                            pre * post
                        ),
                    );
                }
                if matrix.iter().any(|x| !x.is_finite()) {
                    self.invalid(span, format!("{what}: dense matrix has non-finite entries"));
                }
            }
            Connector::Sparse { offsets, targets } => {
                let ok = offsets.len() == pre + 1
                    && offsets.first() == Some(&0)
                    && offsets.windows(2).all(|w| w[0] <= w[1])
                    && offsets.last().copied() == Some(targets.len() as u64);
                if !ok {
                    self.invalid(span, format!("{what}: sparse offsets are not a CSR index of {pre} rows"));
                }
                if let Some(t) = targets.iter().find(|&&t| t as usize >= post) {
                    self.invalid(span, format!("{what}: sparse target {t} is outside the {post} postsynaptic neurons"));
                }
            }
            Connector::Conv2d(conv) => self.conv(what, span, conv, pre, post),
        }
    }

    fn conv(&mut self, what: &str, span: Span, conv: &Conv2d, pre: usize, post: usize) {
        let Conv2d { input, out_channels, kernel, stride, padding: _, dilation, groups, weights } = conv;
        if *groups == 0 || input[0] % groups != 0 || out_channels % groups != 0 {
            self.invalid(
                span,
                format!(
                    "{what}: groups ({groups}) must divide input ({}) and output ({out_channels}) channels",
                    input[0]
                ),
            );
            return;
        }
        if stride.contains(&0) || dilation.contains(&0) || kernel.contains(&0) {
            self.invalid(span, format!("{what}: kernel, stride and dilation must be positive"));
            return;
        }
        let expected = out_channels * (input[0] / groups) * kernel[0] * kernel[1];
        if weights.len() != expected {
            self.invalid(span, format!("{what}: conv2d has {} weights, expected {expected}", weights.len()));
        }
        if input.iter().product::<usize>() != pre {
            self.invalid(
                span,
                format!("{what}: input shape {input:?} has {} neurons, pre has {pre}", input.iter().product::<usize>()),
            );
        }
        match conv.output() {
            Some(out) if out.iter().product::<usize>() == post => {}
            Some(out) => self.invalid(
                span,
                format!("{what}: output shape {out:?} has {} neurons, post has {post}", out.iter().product::<usize>()),
            ),
            None => self.invalid(span, format!("{what}: kernel larger than the padded input")),
        }
    }

    fn values(&mut self, span: Span, what: &str, values: &Values, len: Option<usize>) {
        match values {
            Values::Const(x) => self.finite(span, what, *x),
            Values::Array(a) => {
                if let Some(n) = len
                    && a.len() != n
                {
                    self.invalid(span, format!("{what} has {} values, expected {n}", a.len()));
                }
                if a.iter().any(|x| !x.is_finite()) {
                    self.invalid(span, format!("{what} has non-finite values"));
                }
            }
            Values::Normal { mean, sd, min, max } => {
                self.finite(span, what, *mean);
                if !Range::NonNegative.contains(*sd) {
                    self.invalid(span, format!("{what}: sd must be zero or greater, got {sd}"));
                }
                if let (Some(lo), Some(hi)) = (min, max)
                    && lo > hi
                {
                    self.invalid(span, format!("{what}: min {lo} is above max {hi}"));
                }
            }
            Values::Uniform { low, high } => {
                self.finite(span, what, *low);
                self.finite(span, what, *high);
                if low > high {
                    self.invalid(span, format!("{what}: low {low} is above high {high}"));
                }
            }
        }
    }

    fn gap(&mut self, id: &str, g: &GapJunction) {
        let GapJunction { a, b, connector, weight, span } = g;
        let (Some(pa), Some(pb)) = (self.net.populations.get(*a), self.net.populations.get(*b)) else {
            self.errors.push(ValidationError::Dangling { what: id.to_string(), span: *span });
            return;
        };
        let what = format!("gap junctions {} <-> {}", pa.name, pb.name);
        for pop in [pa, pb] {
            if pop.model.kind().gap_dim().is_none() {
                self.invalid(
                    *span,
                    format!("{what}: `{}` neurons cannot be coupled electrically", pop.model.kind().name()),
                );
            }
        }
        if connector.has_weights() {
            self.invalid(*span, format!("{what}: use a connector without its own weights"));
        }
        self.connector(&what, *span, connector, pa.size, pb.size, a == b);
        self.values(*span, &format!("{what}: weight"), weight, None);
    }

    fn current(&mut self, id: &str, c: &Current) {
        let Current { target, kind, span } = c;
        let Some(pop) = self.net.populations.get(*target) else {
            self.errors.push(ValidationError::Dangling { what: id.to_string(), span: *span });
            return;
        };
        match kind {
            CurrentKind::Dc { amplitude, start, stop } => {
                self.values(*span, &format!("current into `{}`: amplitude", pop.name), amplitude, Some(pop.size));
                if !Range::NonNegative.contains(*start) {
                    self.invalid(*span, format!("start must be zero or later, got {start} s"));
                }
                if let Some(stop) = stop
                    && !(stop.is_finite() && stop >= start)
                {
                    self.invalid(*span, format!("stop ({stop} s) must not be before start ({start} s)"));
                }
            }
            CurrentKind::Step { times, amplitudes } => {
                if times.len() != amplitudes.len() {
                    self.invalid(*span, format!("{} times but {} amplitudes", times.len(), amplitudes.len()));
                }
                if times.iter().chain(amplitudes).any(|x| !x.is_finite()) || times.windows(2).any(|w| w[0] > w[1]) {
                    self.invalid(*span, "step times must be finite and increasing, amplitudes finite".to_string());
                }
            }
        }
    }

    fn probe(&mut self, id: &str, p: &Probe) {
        let Probe { population, kind, neurons, span } = p;
        let Some(pop) = self.net.populations.get(*population) else {
            self.errors.push(ValidationError::Dangling { what: id.to_string(), span: *span });
            return;
        };
        if let Some(r) = neurons
            && (r.start >= r.end || r.end > pop.size)
        {
            self.invalid(
                *span,
                format!("probe range {}..{} is not inside `{}` (0..{})", r.start, r.end, pop.name, pop.size),
            );
        }
        if *kind == ProbeKind::Spikes && !pop.model.kind().spikes() {
            self.invalid(*span, format!("`{}` neurons ({}) do not spike", pop.name, pop.model.kind().name()));
        }
    }
}

/// The lowest and highest weight `values` can give (`None`: unbounded).
fn weight_range(values: &Values) -> Option<(f64, f64)> {
    match values {
        Values::Const(w) => Some((*w, *w)),
        Values::Array(a) => Some(extent(a.iter().copied())),
        Values::Uniform { low, high } => Some((*low, *high)),
        Values::Normal { min, max, .. } => Some(((*min)?, (*max)?)),
    }
}

/// The lowest and highest of `values`; `(inf, -inf)` for none.
fn extent(values: impl Iterator<Item = f64>) -> (f64, f64) {
    values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), w| (lo.min(w), hi.max(w)))
}
