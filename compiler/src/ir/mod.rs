//! The network IR: populations, sources, projections, gap junctions, injected currents and probes, at the
//! population level, in SI units, with the source span of every object for diagnostics.
//!
//! Connectivity is kept as rules (fixed probability, fixed in-degree, ...) plus the explicit data of explicit
//! kinds (dense matrices, CSR, convolution kernels); random rules are expanded only by
//! [`crate::instantiate`], with a seed, so the IR of a 3e8-synapse network stays small.

mod arena;

pub use arena::{Arena, Entity, Handle};
pub use soma_isa::model::{ModelKind, NeuronModel, Receptor};
pub use soma_isa::plasticity::{Dependence, Modulation, Pairing, Stdp};

use crate::diag::Span;

/// A whole network.
#[derive(Clone, Debug, Default)]
pub struct Network {
    /// Simulation time step in seconds.
    pub dt: f64,
    /// Where the time step was set.
    pub dt_span: Span,
    /// Neuron populations.
    pub populations: Arena<Population>,
    /// Spike sources.
    pub sources: Arena<Source>,
    /// Chemical projections.
    pub projections: Arena<Projection>,
    /// Electrical synapses.
    pub gap_junctions: Arena<GapJunction>,
    /// Injected currents.
    pub currents: Arena<Current>,
    /// Recorded state variables.
    pub probes: Arena<Probe>,
}

/// Per-neuron or per-synapse values: a constant, an explicit array, or a seeded distribution.
#[derive(Clone, Debug, PartialEq)]
pub enum Values {
    /// The same value everywhere.
    Const(f64),
    /// One value per element, in element order.
    Array(Vec<f64>),
    /// Normal draws clipped to `[min, max]` (clipping, not redrawing).
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        sd: f64,
        /// Lower clip.
        min: Option<f64>,
        /// Upper clip.
        max: Option<f64>,
    },
    /// Uniform draws in `[low, high)`.
    Uniform {
        /// Lower bound.
        low: f64,
        /// Upper bound.
        high: f64,
    },
}

/// A population of neurons sharing a model.
#[derive(Clone, Debug)]
pub struct Population {
    /// Unique name.
    pub name: String,
    /// Number of neurons.
    pub size: usize,
    /// Model and parameters.
    pub model: NeuronModel,
    /// Initial membrane potential (`None`: the model's resting value).
    pub v_init: Option<Values>,
    /// Where it was declared.
    pub span: Span,
    /// Where each model parameter was given, in the model's parameter order (`Span::NONE` for defaults).
    pub param_spans: Vec<Span>,
}
impl Entity for Population {
    const PREFIX: &'static str = "pop";
}

/// A population of spike sources.
#[derive(Clone, Debug)]
pub struct Source {
    /// Unique name (shared namespace with populations).
    pub name: String,
    /// Number of channels.
    pub size: usize,
    /// What it emits.
    pub kind: SourceKind,
    /// Where it was declared.
    pub span: Span,
}
impl Entity for Source {
    const PREFIX: &'static str = "src";
}

/// What a source emits.
#[derive(Clone, Debug, PartialEq)]
pub enum SourceKind {
    /// Independent Poisson processes.
    Poisson {
        /// Rate per channel, Hz.
        rate: f64,
    },
    /// Spike times in seconds, one list per channel.
    SpikeArray {
        /// Per channel, the spike times.
        times: Vec<Vec<f64>>,
    },
}

/// The presynaptic side of a projection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Node {
    /// A neuron population.
    Population(Handle<Population>),
    /// A spike source.
    Source(Handle<Source>),
}

/// How presynaptic and postsynaptic neurons are paired.
#[derive(Clone, Debug, PartialEq)]
pub enum Connector {
    /// Every pre to every post (`autapses`: whether neuron `i` of a population connects to itself).
    AllToAll {
        /// Allow `i -> i` within one population.
        autapses: bool,
    },
    /// Neuron `i` to neuron `i`; both sides have the same size.
    OneToOne,
    /// Each pair independently with probability `p`.
    FixedProbability {
        /// Connection probability.
        p: f64,
        /// Allow `i -> i` within one population.
        autapses: bool,
    },
    /// Each post receives exactly `k` synapses from pres drawn uniformly with replacement (multapses allowed).
    FixedIndegree {
        /// In-degree.
        k: u64,
        /// Allow `i -> i` within one population.
        autapses: bool,
    },
    /// Exactly `n` synapses, pre and post of each drawn uniformly (multapses allowed), as NEST's
    /// `fixed_total_number`.
    FixedTotalNumber {
        /// Number of synapses.
        n: u64,
        /// Allow `i -> i` within one population.
        autapses: bool,
    },
    /// A dense weight matrix in `[post][pre]` order (`y = W x`, as NIR's Linear); zero entries make no synapse.
    /// The projection carries no separate weight.
    Dense {
        /// `post_size * pre_size` weights.
        matrix: Vec<f64>,
    },
    /// Explicit synapses as CSR by presynaptic neuron.
    Sparse {
        /// `offsets[i]..offsets[i+1]` index `targets` for pre neuron `i`; length pre size + 1.
        offsets: Vec<u64>,
        /// Postsynaptic neuron of each synapse.
        targets: Vec<u32>,
    },
    /// A 2-D convolution from a `(c, h, w)` input to a `(out_channels, oh, ow)` output, neurons indexed
    /// channel-major (`c * h * w + y * w + x`). The kernel carries the weights.
    Conv2d(Conv2d),
}

/// A 2-D convolution layer's geometry and kernel.
#[derive(Clone, Debug, PartialEq)]
pub struct Conv2d {
    /// Input shape `(channels, height, width)`.
    pub input: [usize; 3],
    /// Output channels.
    pub out_channels: usize,
    /// Kernel height and width.
    pub kernel: [usize; 2],
    /// Stride (y, x).
    pub stride: [usize; 2],
    /// Zero padding (y, x).
    pub padding: [usize; 2],
    /// Dilation (y, x).
    pub dilation: [usize; 2],
    /// Channel groups.
    pub groups: usize,
    /// Weights `[out_channel][in_channel / groups][ky][kx]`.
    pub weights: Vec<f64>,
}

impl Conv2d {
    /// Output shape `(channels, height, width)`, or `None` if the kernel does not fit the padded input.
    pub fn output(&self) -> Option<[usize; 3]> {
        let dim = |i: usize| {
            let extent = self.dilation[i] * (self.kernel[i].checked_sub(1)?) + 1;
            let padded = self.input[i + 1] + 2 * self.padding[i];
            Some(padded.checked_sub(extent)? / self.stride[i] + 1)
        };
        Some([self.out_channels, dim(0)?, dim(1)?])
    }
}

impl Connector {
    /// Whether the connector carries its own weights (the projection then has none).
    pub fn has_weights(&self) -> bool {
        matches!(self, Connector::Dense { .. } | Connector::Conv2d(_))
    }

    /// The connector's name in the text language.
    pub fn name(&self) -> &'static str {
        match self {
            Connector::AllToAll { .. } => "all_to_all",
            Connector::OneToOne => "one_to_one",
            Connector::FixedProbability { .. } => "fixed_probability",
            Connector::FixedIndegree { .. } => "fixed_indegree",
            Connector::FixedTotalNumber { .. } => "fixed_total_number",
            Connector::Dense { .. } => "dense",
            Connector::Sparse { .. } => "sparse",
            Connector::Conv2d(_) => "conv2d",
        }
    }
}

/// A chemical projection.
#[derive(Clone, Debug)]
pub struct Projection {
    /// Presynaptic population or source.
    pub pre: Node,
    /// Postsynaptic population.
    pub post: Handle<Population>,
    /// Pairing rule.
    pub connector: Connector,
    /// Weights, unless the connector carries them.
    pub weight: Option<Values>,
    /// Delays in seconds (rounded to whole steps, at least one).
    pub delay: Values,
    /// Receptor on the postsynaptic model.
    pub receptor: Receptor,
    /// The rule that changes the weights while the network runs (`None`: static synapses).
    pub plasticity: Option<Stdp<Node>>,
    /// Where it was declared.
    pub span: Span,
}
impl Entity for Projection {
    const PREFIX: &'static str = "proj";
}

/// Electrical synapses: symmetric couplings between neuron pairs of two populations.
#[derive(Clone, Debug)]
pub struct GapJunction {
    /// First population.
    pub a: Handle<Population>,
    /// Second population.
    pub b: Handle<Population>,
    /// Which pairs are coupled (`a` as pre, `b` as post).
    pub connector: Connector,
    /// Coupling strength of each pair.
    pub weight: Values,
    /// Where it was declared.
    pub span: Span,
}
impl Entity for GapJunction {
    const PREFIX: &'static str = "gap";
}

/// A current injected into every neuron of a population.
#[derive(Clone, Debug)]
pub struct Current {
    /// Target population.
    pub target: Handle<Population>,
    /// Amplitude over time.
    pub kind: CurrentKind,
    /// Where it was declared.
    pub span: Span,
}
impl Entity for Current {
    const PREFIX: &'static str = "cur";
}

/// The time course of an injected current.
#[derive(Clone, Debug, PartialEq)]
pub enum CurrentKind {
    /// Constant `amplitude` from `start` until `stop` (forever if `None`); per neuron if `amplitude` is an array
    /// or a distribution (NIR biases are such per-neuron constant currents).
    Dc {
        /// Amplitude in the model's current unit.
        amplitude: Values,
        /// Onset, seconds.
        start: f64,
        /// Offset, seconds.
        stop: Option<f64>,
    },
    /// Piecewise constant: `amplitudes[i]` from `times[i]` on.
    Step {
        /// Change times, seconds, increasing.
        times: Vec<f64>,
        /// Amplitudes.
        amplitudes: Vec<f64>,
    },
}

/// What a probe records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProbeKind {
    /// Spike times.
    Spikes,
    /// Membrane potential every step.
    V,
}

/// A recording of a population.
#[derive(Clone, Debug)]
pub struct Probe {
    /// Population recorded.
    pub population: Handle<Population>,
    /// What is recorded.
    pub kind: ProbeKind,
    /// Which neurons (`start..end`); `None` for all.
    pub neurons: Option<std::ops::Range<usize>>,
    /// Where it was declared.
    pub span: Span,
}
impl Entity for Probe {
    const PREFIX: &'static str = "probe";
}

impl Network {
    /// The name of a projection's presynaptic side.
    pub fn node_name(&self, node: Node) -> &str {
        match node {
            Node::Population(p) => &self.populations[p].name,
            Node::Source(s) => &self.sources[s].name,
        }
    }

    /// The size of a projection's presynaptic side.
    pub fn node_size(&self, node: Node) -> usize {
        match node {
            Node::Population(p) => self.populations[p].size,
            Node::Source(s) => self.sources[s].size,
        }
    }

    /// Total number of neurons.
    pub fn neuron_count(&self) -> usize {
        self.populations.iter().map(|(_, p)| p.size).sum()
    }

    /// Finds a population or source by name.
    pub fn lookup(&self, name: &str) -> Option<Node> {
        self.populations
            .iter()
            .find(|(_, p)| p.name == name)
            .map(|(h, _)| Node::Population(h))
            .or_else(|| self.sources.iter().find(|(_, s)| s.name == name).map(|(h, _)| Node::Source(h)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_have_readable_ids() {
        let mut arena: Arena<Probe> = Arena::default();
        let mut pops: Arena<Population> = Arena::default();
        let pop = pops.push(Population {
            name: "a".into(),
            size: 1,
            model: ModelKind::Integrator.build(&[1.0]),
            v_init: None,
            span: Span::NONE,
            param_spans: Vec::new(),
        });
        let h = arena.push(Probe { population: pop, kind: ProbeKind::V, neurons: None, span: Span::NONE });
        assert_eq!(h.to_string(), "probe0");
        assert_eq!(pop.to_string(), "pop0");
    }

    #[test]
    fn conv_output_shape() {
        let conv = Conv2d {
            input: [2, 5, 6],
            out_channels: 3,
            kernel: [3, 3],
            stride: [2, 1],
            padding: [1, 0],
            dilation: [1, 1],
            groups: 1,
            weights: vec![0.0; 3 * 2 * 9],
        };
        assert_eq!(conv.output(), Some([3, 3, 4]));
        assert_eq!(Conv2d { kernel: [9, 9], ..conv }.output(), None);
    }
}
