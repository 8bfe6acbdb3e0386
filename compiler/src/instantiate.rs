//! Instantiation: expands a validated network's connectivity rules, distributions and inputs into concrete
//! neurons and synapses (`soma_isa::instance::Instance`), deterministically from one seed.
//!
//! Every object draws from its own random stream (see `soma_isa::rng`), and connectivity, weights and delays of
//! one projection from three separate streams, so changing a weight distribution leaves the wiring unchanged.
//! Synapses are laid out by presynaptic neuron; an explicit weight array is read in that order (by pre neuron,
//! then in the order the connector produced the synapses). Peak memory is about 12 bytes per synapse while
//! sorting and 10 bytes per synapse after.

use soma_isa::instance::{
    CurrentInstance, GapInstance, Instance, PopulationInstance, Pre, ProbeInstance, ProjectionInstance, Rows,
    SourceInstance, SourceKind as InstSourceKind, Variable,
};
use soma_isa::rng::Rng;
use thiserror::Error;

use crate::diag::Span;
use rayon::prelude::*;

use crate::ir::{Connector, CurrentKind, Handle, Network, Node, ProbeKind, Projection, SourceKind, Values};
use crate::valid::Valid;

/// Why a network could not be instantiated (validation catches the rest).
#[derive(Clone, Debug, Error, PartialEq)]
#[error("{message}")]
pub struct InstantiateError {
    /// What is wrong.
    pub message: String,
    /// The object it concerns.
    pub span: Span,
}

/// Stream tags: each object kind and role draws from its own stream family.
const STREAM_INIT: u64 = 1 << 40;
const STREAM_WIRING: u64 = 2 << 40;
const STREAM_WEIGHT: u64 = 3 << 40;
const STREAM_DELAY: u64 = 4 << 40;
const STREAM_SOURCE: u64 = 5 << 40;
const STREAM_GAP: u64 = 6 << 40;
const STREAM_CURRENT: u64 = 7 << 40;

/// Draws `n` values.
pub fn draw(values: &Values, n: usize, rng: &mut Rng) -> Vec<f64> {
    draw_as(values, n, rng, |x| x)
}

/// Draws `n` values, each stored as `store` makes it (a synapse's `f32` weight or `u16` delay, with no `f64`
/// copy of a projection's hundreds of millions of values in between).
fn draw_as<T>(values: &Values, n: usize, rng: &mut Rng, mut store: impl FnMut(f64) -> T) -> Vec<T> {
    match values {
        Values::Const(x) => (0..n).map(|_| store(*x)).collect(),
        Values::Array(a) => a.iter().map(|&x| store(x)).collect(),
        Values::Normal { mean, sd, min, max } => {
            let (low, high) = (min.unwrap_or(f64::NEG_INFINITY), max.unwrap_or(f64::INFINITY));
            let mut out = Vec::with_capacity(n);
            let mut z = [0.0; 256];
            while out.len() < n {
                let batch = &mut z[..(n - out.len()).min(256)];
                rng.fill_normal(batch);
                out.extend(batch.iter().map(|z| store((mean + sd * z).max(low).min(high))));
            }
            out
        }
        Values::Uniform { low, high } => (0..n).map(|_| store(low + (high - low) * rng.uniform())).collect(),
    }
}

/// Bytes per synapse while instantiating (the peak, during the sort into rows by presynaptic neuron).
pub const PEAK_BYTES_PER_SYNAPSE: f64 = 12.0;

/// Bytes per neuron of an instance (initial potential and per-neuron state the consumers allocate; a floor).
pub const BYTES_PER_NEURON: f64 = 64.0;

/// What instantiating a network will hold, estimated from its rules before anything is built.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    /// Neurons.
    pub neurons: f64,
    /// Synapses (the expected number for random rules).
    pub synapses: f64,
    /// Whether `synapses` is exact.
    pub exact: bool,
    /// Peak bytes of instantiation: at least this much memory is needed to run the network anywhere.
    pub bytes: f64,
}

/// The estimate for `net` (instant even for 1e12 synapses).
pub fn estimate(net: &Network) -> Estimate {
    let (mut synapses, mut exact) = (0.0, true);
    for (_, p) in net.projections.iter() {
        let (n, is_exact) = synapse_count(
            &p.connector,
            net.node_size(p.pre),
            net.populations[p.post].size,
            p.pre == Node::Population(p.post),
        );
        synapses += n;
        exact &= is_exact;
    }
    let units = net.neuron_count() as f64 + net.sources.iter().map(|(_, s)| s.size as f64).sum::<f64>();
    Estimate {
        neurons: net.neuron_count() as f64,
        synapses,
        exact,
        bytes: synapses * PEAK_BYTES_PER_SYNAPSE + units * BYTES_PER_NEURON,
    }
}

/// The number of synapses the connector makes between `pre` and `post` neurons (`same`: one population),
/// and whether that number is exact (`false`: the expected value of a random rule).
pub fn synapse_count(c: &Connector, pre: usize, post: usize, same: bool) -> (f64, bool) {
    let (p, q) = (pre as f64, post as f64);
    match c {
        Connector::AllToAll { autapses } => (p * q - if same && !autapses { p } else { 0.0 }, true),
        Connector::OneToOne => (p, true),
        Connector::FixedProbability { p: prob, autapses } => {
            (prob * (p * q - if same && !autapses { p } else { 0.0 }), false)
        }
        Connector::FixedIndegree { k, .. } => (*k as f64 * q, true),
        Connector::FixedTotalNumber { n, .. } => (*n as f64, true),
        Connector::Dense { matrix } => (matrix.iter().filter(|w| **w != 0.0).count() as f64, true),
        Connector::Sparse { targets, .. } => (targets.len() as f64, true),
        Connector::Conv2d(_) => (pairs(c, pre, post, same, &mut Rng::new(0, 0)).pre.len() as f64, true),
    }
}

/// Synapses in the order a connector makes them.
struct Pairs {
    pre: Vec<u32>,
    post: Vec<u32>,
    /// Weights the connector itself carries (dense, conv2d).
    weights: Option<Vec<f32>>,
}

/// Expands a connector into `(pre, post)` pairs. `same` says whether pre and post are one population.
fn pairs(c: &Connector, pre_size: usize, post_size: usize, same: bool, rng: &mut Rng) -> Pairs {
    let (mut pre, mut post, mut weights) = (Vec::new(), Vec::new(), None);
    let (p_n, q_n) = (pre_size as u64, post_size as u64);
    let skip = |autapses: bool, i: u64, j: u64| same && !autapses && i == j;
    match c {
        Connector::AllToAll { autapses } => {
            for i in 0..p_n {
                for j in (0..q_n).filter(|&j| !skip(*autapses, i, j)) {
                    pre.push(i as u32);
                    post.push(j as u32);
                }
            }
        }
        Connector::OneToOne => {
            pre.extend(0..pre_size as u32);
            post.extend(0..pre_size as u32);
        }
        Connector::FixedProbability { p, autapses } => {
            if *p > 0.0 {
                for i in 0..p_n {
                    let mut j = rng.geometric(*p);
                    while j < q_n {
                        if !skip(*autapses, i, j) {
                            pre.push(i as u32);
                            post.push(j as u32);
                        }
                        j = j.saturating_add(1).saturating_add(rng.geometric(*p));
                    }
                }
            }
        }
        Connector::FixedIndegree { k, autapses } => {
            for j in 0..q_n {
                for _ in 0..*k {
                    let i = loop {
                        let i = rng.below(p_n);
                        if !skip(*autapses, i, j) {
                            break i;
                        }
                    };
                    pre.push(i as u32);
                    post.push(j as u32);
                }
            }
        }
        Connector::FixedTotalNumber { n, autapses } => {
            if p_n > 0 && q_n > 0 && !(same && !autapses && p_n == 1) {
                pre.reserve(*n as usize);
                post.reserve(*n as usize);
                for _ in 0..*n {
                    let (i, j) = loop {
                        let (i, j) = (rng.below(p_n), rng.below(q_n));
                        if !skip(*autapses, i, j) {
                            break (i, j);
                        }
                    };
                    pre.push(i as u32);
                    post.push(j as u32);
                }
            }
        }
        Connector::Dense { matrix } => {
            let mut w = Vec::new();
            for i in 0..pre_size {
                for j in 0..post_size {
                    let x = matrix[j * pre_size + i];
                    if x != 0.0 {
                        pre.push(i as u32);
                        post.push(j as u32);
                        w.push(x as f32);
                    }
                }
            }
            weights = Some(w);
        }
        Connector::Sparse { offsets, targets } => {
            for i in 0..pre_size {
                for &t in &targets[offsets[i] as usize..offsets[i + 1] as usize] {
                    pre.push(i as u32);
                    post.push(t);
                }
            }
        }
        Connector::Conv2d(conv) => {
            let mut w = Vec::new();
            let [c_in, h, wd] = conv.input;
            let [c_out, oh, ow] = conv.output().unwrap_or([0, 0, 0]);
            let (cin_g, cout_g) = (c_in / conv.groups.max(1), c_out / conv.groups.max(1));
            let [kh, kw] = conv.kernel;
            for oc in 0..c_out {
                let group = oc / cout_g.max(1);
                for oy in 0..oh {
                    for ox in 0..ow {
                        let target = ((oc * oh + oy) * ow + ox) as u32;
                        for icg in 0..cin_g {
                            let ic = group * cin_g + icg;
                            for ky in 0..kh {
                                for kx in 0..kw {
                                    let y = (oy * conv.stride[0] + ky * conv.dilation[0]) as isize
                                        - conv.padding[0] as isize;
                                    let x = (ox * conv.stride[1] + kx * conv.dilation[1]) as isize
                                        - conv.padding[1] as isize;
                                    if y < 0 || x < 0 || y >= h as isize || x >= wd as isize {
                                        continue;
                                    }
                                    let weight = conv.weights[((oc * cin_g + icg) * kh + ky) * kw + kx];
                                    if weight != 0.0 {
                                        pre.push(((ic * h + y as usize) * wd + x as usize) as u32);
                                        post.push(target);
                                        w.push(weight as f32);
                                    }
                                }
                            }
                        }
                    }
                }
            }
            weights = Some(w);
        }
    }
    Pairs { pre, post, weights }
}

/// Sorts pairs into rows (stable counting sort on `pre`); returns the rows' offsets, targets, and the connector
/// weights permuted alongside.
fn sort_rows(pre_size: usize, p: Pairs) -> (Vec<u64>, Vec<u32>, Option<Vec<f32>>) {
    let mut offsets = vec![0u64; pre_size + 1];
    for &i in &p.pre {
        offsets[i as usize + 1] += 1;
    }
    for i in 0..pre_size {
        offsets[i + 1] += offsets[i];
    }
    if p.pre.windows(2).all(|w| w[0] <= w[1]) {
        return (offsets, p.post, p.weights);
    }
    let mut next = offsets[..pre_size].to_vec();
    let mut targets = vec![0u32; p.post.len()];
    let mut weights = p.weights.as_ref().map(|w| vec![0f32; w.len()]);
    for (k, (&i, &j)) in p.pre.iter().zip(&p.post).enumerate() {
        let at = next[i as usize] as usize;
        next[i as usize] += 1;
        targets[at] = j;
        if let (Some(out), Some(src)) = (weights.as_mut(), p.weights.as_ref()) {
            out[at] = src[k];
        }
    }
    (offsets, targets, weights)
}

fn steps(seconds: f64, dt: f64) -> f64 {
    (seconds / dt).round()
}

/// The instance's name for a node of the network.
fn pre_of(node: Node) -> Pre {
    match node {
        Node::Population(h) => Pre::Population(h.index()),
        Node::Source(h) => Pre::Source(h.index()),
    }
}

/// Expands one projection (its own random streams: safe to run in parallel with the others).
fn projection(
    net: &Network,
    seed: u64,
    h: Handle<Projection>,
    p: &Projection,
) -> Result<ProjectionInstance, InstantiateError> {
    let dt = net.dt;
    let pre_size = net.node_size(p.pre);
    let post_size = net.populations[p.post].size;
    let same = p.pre == Node::Population(p.post);
    let k = h.index() as u64;
    let pairs = pairs(&p.connector, pre_size, post_size, same, &mut Rng::new(seed, STREAM_WIRING | k));
    let (offsets, targets, own_weights) = sort_rows(pre_size, pairs);
    let n = targets.len();
    let what = || format!("projection {} -> {}", net.node_name(p.pre), net.populations[p.post].name);
    let weights: Vec<f32> = match (own_weights, &p.weight) {
        (Some(w), _) => w,
        (None, Some(values)) => {
            if let Values::Array(a) = values
                && a.len() != n
            {
                return Err(InstantiateError {
                    message: format!(
                        "{}: the weight array has {} values but the connector made {n} synapses",
                        what(),
                        a.len()
                    ),
                    span: p.span,
                });
            }
            draw_as(values, n, &mut Rng::new(seed, STREAM_WEIGHT | k), |w| w as f32)
        }
        (None, None) => vec![0.0; n],
    };
    if let Values::Array(a) = &p.delay
        && a.len() != n
    {
        return Err(InstantiateError {
            message: format!("{}: the delay array has {} values but the connector made {n} synapses", what(), a.len()),
            span: p.span,
        });
    }
    let mut too_long = None;
    let delays = draw_as(&p.delay, n, &mut Rng::new(seed, STREAM_DELAY | k), |d| {
        let s = steps(d, dt).max(1.0);
        if s > u16::MAX as f64 {
            too_long.get_or_insert(d);
        }
        s as u16
    });
    if let Some(d) = too_long {
        return Err(InstantiateError {
            message: format!("{}: delay {d} s is longer than {} steps", what(), u16::MAX),
            span: p.span,
        });
    }
    let pre = pre_of(p.pre);
    Ok(ProjectionInstance {
        name: format!("{}->{}", net.node_name(p.pre), net.populations[p.post].name),
        pre,
        post: p.post.index(),
        receptor: p.receptor,
        rows: Rows { offsets, targets, weights, delays },
        plasticity: p.plasticity.map(|rule| rule.map(pre_of)),
    })
}

/// Expands a validated network with `seed`.
pub fn instantiate(net: &Valid<'_>, seed: u64) -> Result<Instance, InstantiateError> {
    let net: &Network = net;
    let dt = net.dt;
    let populations = net
        .populations
        .iter()
        .map(|(h, p)| {
            let mut rng = Rng::new(seed, STREAM_INIT | h.index() as u64);
            let v_init = draw(p.v_init.as_ref().unwrap_or(&Values::Const(p.model.default_v())), p.size, &mut rng);
            PopulationInstance { name: p.name.clone(), model: p.model.clone(), v_init }
        })
        .collect();
    let sources = net
        .sources
        .iter()
        .map(|(h, s)| SourceInstance {
            name: s.name.clone(),
            size: s.size,
            kind: match &s.kind {
                SourceKind::Poisson { rate } => {
                    InstSourceKind::Poisson { rate: *rate, stream: STREAM_SOURCE | h.index() as u64 }
                }
                SourceKind::SpikeArray { times } => InstSourceKind::SpikeArray {
                    steps: times
                        .iter()
                        .map(|ts| {
                            let mut v: Vec<u32> = ts.iter().map(|&t| steps(t, dt) as u32).collect();
                            v.sort_unstable();
                            v
                        })
                        .collect(),
                },
            },
        })
        .collect();
    // Projections in parallel: each draws from its own streams, so the result does not depend on scheduling.
    let projections = net
        .projections
        .iter()
        .collect::<Vec<_>>()
        .into_par_iter()
        .map(|(h, p)| projection(net, seed, h, p))
        .collect::<Result<Vec<_>, _>>()?;
    let gap_junctions = net
        .gap_junctions
        .iter()
        .map(|(h, g)| {
            let mut rng = Rng::new(seed, STREAM_GAP | h.index() as u64);
            let pairs = pairs(&g.connector, net.populations[g.a].size, net.populations[g.b].size, g.a == g.b, &mut rng);
            let n = pairs.pre.len();
            if let Values::Array(a) = &g.weight
                && a.len() != n
            {
                return Err(InstantiateError {
                    message: format!("gap junctions: {} weights for {n} pairs", a.len()),
                    span: g.span,
                });
            }
            let weights = draw_as(&g.weight, n, &mut rng, |w| w as f32);
            Ok(GapInstance {
                a: g.a.index(),
                b: g.b.index(),
                pairs: pairs.pre.into_iter().zip(pairs.post).collect(),
                weights,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let currents = net
        .currents
        .iter()
        .map(|(h, c)| {
            let (change_steps, amplitudes) = match &c.kind {
                CurrentKind::Dc { amplitude, start, stop } => {
                    let amplitude = match amplitude {
                        Values::Const(x) => vec![*x],
                        per_neuron => {
                            let n = net.populations[c.target].size;
                            draw(per_neuron, n, &mut Rng::new(seed, STREAM_CURRENT | h.index() as u64))
                        }
                    };
                    let mut s = vec![steps(*start, dt) as u32];
                    let mut a = vec![amplitude];
                    if let Some(stop) = stop {
                        s.push(steps(*stop, dt) as u32);
                        a.push(vec![0.0]);
                    }
                    (s, a)
                }
                CurrentKind::Step { times, amplitudes } => (
                    times.iter().map(|&t| steps(t, dt) as u32).collect(),
                    amplitudes.iter().map(|&a| vec![a]).collect(),
                ),
            };
            CurrentInstance { target: c.target.index(), change_steps, amplitudes }
        })
        .collect();
    let probes = net
        .probes
        .iter()
        .map(|(_, p)| {
            let range = p.neurons.clone().unwrap_or(0..net.populations[p.population].size);
            ProbeInstance {
                population: p.population.index(),
                variable: match p.kind {
                    ProbeKind::Spikes => Variable::Spikes,
                    ProbeKind::V => Variable::V,
                },
                neurons: range.map(|i| i as u32).collect(),
            }
        })
        .collect();
    Ok(Instance { dt, populations, sources, projections, gap_junctions, currents, probes, seed })
}
