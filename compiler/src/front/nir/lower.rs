//! Lowering of a NIR graph to soma's IR.
//!
//! Neuron nodes (LIF, LI, IF, I, CubaLIF, CubaLI, Threshold) become populations and top-level Inputs become
//! spike sources. Every path of stateless operators (Affine, Linear, Scale, Delay, Flatten, Conv1d, Conv2d,
//! SumPool2d, AvgPool2d, and the Input/Output junctions of subgraphs) from one spiking node to another is composed
//! into one projection: a path that is a single Affine/Linear keeps its dense matrix, a single Conv2d its kernel,
//! anything else becomes an explicit synapse list with per-synapse weights and delays. Biases are propagated
//! through the operators after them and become per-neuron constant currents. Every synapse gets one time step of
//! delay (soma's minimum) plus the delays of the Delay nodes on its path. Paths into a top-level Output become
//! probes on the spiking node they start from (a linear readout is not computed on chip).

use std::collections::{BTreeMap, HashMap};

use soma_isa::model::ModelKind;

use super::graph::{Conv, Graph, NirError, Node, Pool, Tensor};
use crate::diag::Span;
use crate::front::identifier;
use crate::ir::{
    Connector, Conv2d, Current, CurrentKind, Handle, Network, Node as IrNode, Population, Probe, ProbeKind, Projection,
    Receptor, Source, SourceKind, Values,
};

/// The result of an import.
#[derive(Debug)]
pub struct Imported {
    /// The network, not yet validated.
    pub network: Network,
    /// The top-level NIR Input nodes, in name order, with the sources that stand for them.
    pub inputs: Vec<(String, Handle<Source>)>,
    /// Things the user should know (renamed nodes, outputs computed off chip).
    pub notes: Vec<String>,
}

/// A node of the flattened graph.
enum Flat<'g> {
    /// A spiking node: a top-level Input or a neuron node.
    Input(&'g [usize]),
    Neuron(ModelKind, &'g BTreeMap<String, Tensor>),
    /// A top-level Output.
    Output(&'g [usize]),
    /// A stateless operator.
    Op(Op<'g>),
}

enum Op<'g> {
    Pass,
    Affine(&'g Tensor, Option<&'g Tensor>),
    Scale(&'g Tensor),
    Delay(&'g Tensor),
    Flatten,
    Conv(&'g Conv, bool),
    Pool(&'g Pool, bool),
}

struct Flattened<'g> {
    nodes: BTreeMap<String, Flat<'g>>,
    edges: Vec<(String, String)>,
}

fn flatten<'g>(g: &'g Graph, prefix: &str, top: bool, out: &mut Flattened<'g>) -> Result<(), NirError> {
    for (name, node) in &g.nodes {
        let full = format!("{prefix}{name}");
        let flat = match node {
            Node::Graph(sub) => {
                flatten(sub, &format!("{full}."), false, out)?;
                continue;
            }
            Node::Input { shape } if top => Flat::Input(shape),
            Node::Output { shape } if top => Flat::Output(shape),
            Node::Input { .. } | Node::Output { .. } => Flat::Op(Op::Pass),
            Node::Affine { weight, bias } => Flat::Op(Op::Affine(weight, Some(bias))),
            Node::Linear { weight } => Flat::Op(Op::Affine(weight, None)),
            Node::Scale { scale } => Flat::Op(Op::Scale(scale)),
            Node::Delay { delay } => Flat::Op(Op::Delay(delay)),
            Node::Flatten { .. } => Flat::Op(Op::Flatten),
            Node::Conv1d(c) => Flat::Op(Op::Conv(c, false)),
            Node::Conv2d(c) => Flat::Op(Op::Conv(c, true)),
            Node::SumPool2d(p) => Flat::Op(Op::Pool(p, false)),
            Node::AvgPool2d(p) => Flat::Op(Op::Pool(p, true)),
            Node::Neuron { kind, params } => Flat::Neuron(*kind, params),
        };
        out.nodes.insert(full, flat);
    }
    // An edge to a subgraph enters through its Input node, an edge from it leaves through its Output node.
    let endpoint = |name: &str, entering: bool| -> Result<String, NirError> {
        let edge_error = || NirError::file(format!("there is no node `{prefix}{name}`"));
        if let Some(Node::Graph(sub)) = g.nodes.get(name) {
            let want =
                |n: &Node| if entering { matches!(n, Node::Input { .. }) } else { matches!(n, Node::Output { .. }) };
            let ports: Vec<&String> = sub.nodes.iter().filter(|(_, n)| want(n)).map(|(k, _)| k).collect();
            return match ports.as_slice() {
                [one] => Ok(format!("{prefix}{name}.{one}")),
                _ => Err(NirError::at(
                    &format!("{prefix}{name}"),
                    format!(
                        "the subgraph has {} {} nodes; name one as `{name}.<node>`",
                        ports.len(),
                        if entering { "Input" } else { "Output" }
                    ),
                )),
            };
        }
        let full = format!("{prefix}{name}");
        if g.nodes.contains_key(name) || (name.contains('.') && out.nodes.contains_key(&full)) {
            Ok(full)
        } else {
            Err(edge_error())
        }
    };
    for (from, to) in &g.edges {
        let (a, b) = (endpoint(from, false), endpoint(to, true));
        match (a, b) {
            (Ok(a), Ok(b)) => out.edges.push((a, b)),
            (Err(e), _) | (_, Err(e)) => {
                return Err(NirError::file(format!("edge `{from} -> {to}`: {}", e.message)));
            }
        }
    }
    Ok(())
}

/// Output shape of a convolution, or why it does not fit.
fn conv_output(c: &Conv, input: &[usize]) -> Result<Vec<usize>, NirError> {
    let [_, in_per_group, kh, kw] = [c.weight.shape[0], c.weight.shape[1], c.weight.shape[2], c.weight.shape[3]];
    let (ch, h, w) = match input {
        [ch, h, w] => (*ch, *h, *w),
        [ch, l] => (*ch, 1, *l),
        other => {
            return Err(NirError::file(format!(
                "convolution input must be (channels, [height,] width), got {other:?}"
            )));
        }
    };
    if c.groups == 0 || ch != in_per_group * c.groups {
        return Err(NirError::file(format!(
            "input has {ch} channels, the kernel expects {} x {} groups",
            in_per_group, c.groups
        )));
    }
    let dim = |size: usize, k: usize, i: usize| -> Result<usize, NirError> {
        let extent = c.dilation[i] * (k.max(1) - 1) + 1;
        let padded = size + 2 * c.padding[i];
        if padded < extent || c.stride[i] == 0 {
            return Err(NirError::file(format!("kernel {k} does not fit input {size} with padding {}", c.padding[i])));
        }
        Ok((padded - extent) / c.stride[i] + 1)
    };
    let (oh, ow) = (dim(h, kh, 0)?, dim(w, kw, 1)?);
    Ok(if input.len() == 2 { vec![c.weight.shape[0], ow] } else { vec![c.weight.shape[0], oh, ow] })
}

fn pool_output(p: &Pool, input: &[usize]) -> Result<Vec<usize>, NirError> {
    let [ch, h, w] = input else {
        return Err(NirError::file(format!("pooling input must be (channels, height, width), got {input:?}")));
    };
    let dim = |size: usize, i: usize| -> Result<usize, NirError> {
        let padded = size + 2 * p.padding[i];
        if padded < p.kernel[i] || p.stride[i] == 0 || p.kernel[i] == 0 {
            return Err(NirError::file(format!("pooling kernel {:?} does not fit input {input:?}", p.kernel)));
        }
        Ok((padded - p.kernel[i]) / p.stride[i] + 1)
    };
    Ok(vec![*ch, dim(*h, 0)?, dim(*w, 1)?])
}

/// The elements a neuron node's parameters describe: the largest parameter shape.
fn neuron_shape(params: &BTreeMap<String, Tensor>) -> Vec<usize> {
    params
        .values()
        .max_by_key(|t| t.len())
        .map_or(vec![1], |t| if t.shape.is_empty() { vec![1] } else { t.shape.clone() })
}

struct Shapes {
    /// Output shape of every node.
    out: HashMap<String, Vec<usize>>,
    /// Input shape of operators and outputs (from their predecessors).
    input: HashMap<String, Vec<usize>>,
}

/// The most values one node may produce or take: 16.7 million, some 30 times the largest convolutional layers NIR
/// exports (128 x 128 x 32); a corrupted shape field beyond it is refused before anything is allocated for it.
const MAX_NODE_VALUES: usize = 1 << 24;

/// `shape` if its number of values is at most [`MAX_NODE_VALUES`].
fn bounded(node: &str, shape: Vec<usize>) -> Result<Vec<usize>, NirError> {
    match shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d)) {
        Some(n) if n <= MAX_NODE_VALUES => Ok(shape),
        _ => Err(NirError::at(node, format!("shape {shape:?} has more than {MAX_NODE_VALUES} values"))),
    }
}

fn infer_shapes(f: &Flattened) -> Result<Shapes, NirError> {
    let mut out: HashMap<String, Vec<usize>> = HashMap::new();
    let mut input: HashMap<String, Vec<usize>> = HashMap::new();
    for (name, node) in &f.nodes {
        match node {
            Flat::Input(shape) => {
                out.insert(name.clone(), bounded(name, shape.to_vec())?);
            }
            Flat::Output(shape) => {
                bounded(name, shape.to_vec())?;
            }
            Flat::Neuron(_, params) => {
                out.insert(name.clone(), neuron_shape(params));
            }
            Flat::Op(Op::Affine(w, bias)) => {
                if w.shape.len() != 2 {
                    return Err(NirError::at(
                        name,
                        format!("weight must be a matrix (out, in), got shape {:?}", w.shape),
                    ));
                }
                if let Some(b) = bias.as_ref().filter(|b| b.len() != w.shape[0]) {
                    return Err(NirError::at(name, format!("bias has {} values for {} outputs", b.len(), w.shape[0])));
                }
                input.insert(name.clone(), bounded(name, vec![w.shape[1]])?);
                out.insert(name.clone(), bounded(name, vec![w.shape[0]])?);
            }
            Flat::Op(Op::Conv(c, two)) => {
                if let Some([h, w]) = c.input_size {
                    let ch = c.weight.shape[1] * c.groups.max(1);
                    let shape = bounded(name, if *two { vec![ch, h, w] } else { vec![ch, w] })?;
                    let o = conv_output(c, &shape).map_err(|e| e.on(name))?;
                    input.insert(name.clone(), shape);
                    out.insert(name.clone(), bounded(name, o)?);
                }
            }
            _ => {}
        }
    }
    // Propagate shapes along edges until nothing changes (recurrent edges settle because neurons have shapes).
    for _ in 0..=f.nodes.len() {
        let mut changed = false;
        for (a, b) in &f.edges {
            let Some(shape) = out.get(a).cloned() else { continue };
            if input.contains_key(b) {
                continue;
            }
            let Some(node) = f.nodes.get(b) else { continue };
            let o = match node {
                Flat::Op(Op::Pass | Op::Scale(_) | Op::Delay(_)) | Flat::Output(_) => Some(shape.clone()),
                Flat::Op(Op::Flatten) => Some(vec![shape.iter().product()]),
                Flat::Op(Op::Conv(c, _)) => Some(conv_output(c, &shape).map_err(|e| e.on(b))?),
                Flat::Op(Op::Pool(p, _)) => Some(pool_output(p, &shape).map_err(|e| e.on(b))?),
                _ => None,
            };
            if let Some(o) = o {
                input.insert(b.clone(), shape);
                let o = bounded(b, o)?;
                out.entry(b.clone()).or_insert(o);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    // Every edge must carry as many values as its target takes.
    for (a, b) in &f.edges {
        let size = |s: &Vec<usize>| s.iter().product::<usize>();
        let produced = out.get(a).map(size);
        let taken = match f.nodes.get(b) {
            Some(Flat::Neuron(..)) => out.get(b).map(size),
            Some(Flat::Output(shape)) => Some(shape.iter().product()),
            Some(Flat::Op(Op::Scale(t))) | Some(Flat::Op(Op::Delay(t))) if t.len() > 1 => Some(t.len()),
            _ => input.get(b).map(size),
        };
        match (produced, taken) {
            (Some(p), Some(t)) if p != t => {
                return Err(NirError::file(format!(
                    "edge `{a} -> {b}`: `{a}` produces {p} values but `{b}` takes {t} (shape mismatch)"
                )));
            }
            (None, _) => return Err(NirError::at(a, "cannot infer the shape of this node's output")),
            _ => {}
        }
    }
    Ok(Shapes { out, input })
}

/// Synapses under construction: for each neuron of the source, `(element, weight, delay in seconds)`.
type Map = Vec<Vec<(u32, f64, f64)>>;

/// For an operator, the outputs each input element feeds, with weights; and the delay it adds per element.
struct Fanout {
    by_input: Vec<Vec<(u32, f64)>>,
    delay: Option<Vec<f64>>,
}

fn fanout(op: &Op, input: &[usize], output: &[usize]) -> Fanout {
    let n_in: usize = input.iter().product();
    let identity = || (0..n_in as u32).map(|i| vec![(i, 1.0)]).collect();
    let mut delay = None;
    let by_input = match op {
        Op::Pass | Op::Flatten => identity(),
        Op::Delay(d) => {
            delay = Some(if d.len() == 1 { vec![d.values[0]; n_in] } else { d.values.clone() });
            identity()
        }
        Op::Scale(s) => {
            (0..n_in).map(|i| vec![(i as u32, if s.len() == 1 { s.values[0] } else { s.values[i] })]).collect()
        }
        Op::Affine(w, _) => {
            let (rows, cols) = (w.shape[0], w.shape[1]);
            let mut by: Vec<Vec<(u32, f64)>> = vec![Vec::new(); cols];
            for o in 0..rows {
                for (c, fan) in by.iter_mut().enumerate() {
                    let x = w.values[o * cols + c];
                    if x != 0.0 {
                        fan.push((o as u32, x));
                    }
                }
            }
            by
        }
        Op::Conv(c, _) => {
            let (ch, h, wd) = if input.len() == 3 { (input[0], input[1], input[2]) } else { (input[0], 1, input[1]) };
            let (oc_n, oh, ow) =
                if output.len() == 3 { (output[0], output[1], output[2]) } else { (output[0], 1, output[1]) };
            let [_, cin_g, kh, kw] = [c.weight.shape[0], c.weight.shape[1], c.weight.shape[2], c.weight.shape[3]];
            let cout_g = oc_n / c.groups.max(1);
            let mut by: Vec<Vec<(u32, f64)>> = vec![Vec::new(); n_in];
            for ic in 0..ch {
                let g = ic / cin_g.max(1);
                for y in 0..h {
                    for x in 0..wd {
                        let fan = &mut by[(ic * h + y) * wd + x];
                        for oc in g * cout_g..(g + 1) * cout_g {
                            for ky in 0..kh {
                                for kx in 0..kw {
                                    let (Some(oy), Some(ox)) = (
                                        window_output(y, c.padding[0], ky * c.dilation[0], c.stride[0], oh),
                                        window_output(x, c.padding[1], kx * c.dilation[1], c.stride[1], ow),
                                    ) else {
                                        continue;
                                    };
                                    let wv = c.weight.values[((oc * cin_g + (ic - g * cin_g)) * kh + ky) * kw + kx];
                                    if wv != 0.0 {
                                        fan.push((((oc * oh + oy) * ow + ox) as u32, wv));
                                    }
                                }
                            }
                        }
                    }
                }
            }
            by
        }
        Op::Pool(p, avg) => {
            let (ch, h, wd) = (input[0], input[1], input[2]);
            let (oh, ow) = (output[1], output[2]);
            let weight = if *avg { 1.0 / (p.kernel[0] * p.kernel[1]) as f64 } else { 1.0 };
            let mut by: Vec<Vec<(u32, f64)>> = vec![Vec::new(); n_in];
            for c in 0..ch {
                for y in 0..h {
                    for x in 0..wd {
                        let fan = &mut by[(c * h + y) * wd + x];
                        for ky in 0..p.kernel[0] {
                            for kx in 0..p.kernel[1] {
                                if let (Some(oy), Some(ox)) = (
                                    window_output(y, p.padding[0], ky, p.stride[0], oh),
                                    window_output(x, p.padding[1], kx, p.stride[1], ow),
                                ) {
                                    fan.push((((c * oh + oy) * ow + ox) as u32, weight));
                                }
                            }
                        }
                    }
                }
            }
            by
        }
    };
    Fanout { by_input, delay }
}

/// The output position whose window puts kernel offset `offset` on input position `pos` (input padded by `pad`,
/// window moved by `stride`, `len` outputs), if there is one.
fn window_output(pos: usize, pad: usize, offset: usize, stride: usize, len: usize) -> Option<usize> {
    let shifted = (pos + pad).checked_sub(offset)?;
    (shifted.is_multiple_of(stride) && shifted / stride < len).then_some(shifted / stride)
}

/// Applies an operator to a map: every synapse through element `c` continues to each output `c` feeds.
fn compose(map: &Map, f: &Fanout) -> Map {
    map.iter()
        .map(|entries| {
            let mut next: Vec<(u32, f64, f64)> = Vec::new();
            for &(c, w, d) in entries {
                let extra = f.delay.as_ref().map_or(0.0, |d| d[c as usize]);
                for &(o, w2) in &f.by_input[c as usize] {
                    next.push((o, w * w2, d + extra));
                }
            }
            // Merge synapses that reach the same element with the same delay.
            next.sort_by(|a, b| a.0.cmp(&b.0).then(a.2.total_cmp(&b.2)));
            let mut merged: Vec<(u32, f64, f64)> = Vec::with_capacity(next.len());
            for e in next {
                match merged.last_mut() {
                    Some(last) if last.0 == e.0 && last.2 == e.2 => last.1 += e.1,
                    _ => merged.push(e),
                }
            }
            merged.retain(|e| e.1 != 0.0);
            merged
        })
        .collect()
}

/// Neuron parameters: each must be in range everywhere and the same for every neuron of the node.
fn model_values(
    node: &str,
    kind: ModelKind,
    params: &BTreeMap<String, Tensor>,
    size: usize,
) -> Result<Vec<f64>, NirError> {
    for name in params.keys() {
        if !kind.params().iter().any(|s| s.name == name) {
            return Err(NirError::at(node, format!("unexpected parameter `{name}` for {}", kind.name())));
        }
    }
    let mut values = Vec::new();
    for spec in kind.params() {
        let Some(t) = params.get(spec.name) else {
            match spec.default {
                Some(d) => {
                    values.push(d);
                    continue;
                }
                None => {
                    return Err(NirError::at(node, format!("{} is missing parameter `{}`", nir_type(kind), spec.name)));
                }
            }
        };
        if t.len() != 1 && t.len() != size {
            return Err(NirError::at(
                node,
                format!("parameter `{}` has {} values for {size} neurons", spec.name, t.len()),
            ));
        }
        if let Some((i, x)) = t.values.iter().enumerate().find(|(_, x)| !spec.range.contains(**x)) {
            return Err(NirError::at(
                node,
                format!(
                    "parameter `{}` is {} at neuron {i}, but it must be {}",
                    spec.name,
                    spec.dim.format(*x),
                    spec.range.describe()
                ),
            ));
        }
        let first = t.values[0];
        if t.values.iter().any(|&x| x != first) {
            return Err(NirError::at(
                node,
                format!(
                    "parameter `{}` differs between neurons; soma populations share their parameters (split the layer or average it)",
                    spec.name
                ),
            ));
        }
        values.push(first);
    }
    Ok(values)
}

fn nir_type(kind: ModelKind) -> &'static str {
    match kind {
        ModelKind::Lif => "LIF",
        ModelKind::Li => "LI",
        ModelKind::If => "IF",
        ModelKind::Integrator => "I",
        ModelKind::CubaLif => "CubaLIF",
        ModelKind::CubaLi => "CubaLI",
        ModelKind::Threshold => "Threshold",
        ModelKind::IfCurrExp | ModelKind::Izhikevich => kind.name(),
    }
}

/// Lowers a NIR graph with time step `dt` (seconds).
pub fn lower(g: &Graph, dt: f64) -> Result<Imported, NirError> {
    let mut flat = Flattened { nodes: BTreeMap::new(), edges: Vec::new() };
    flatten(g, "", true, &mut flat)?;
    let shapes = infer_shapes(&flat)?;
    let mut net = Network { dt, dt_span: Span::NONE, ..Network::default() };
    let mut notes = Vec::new();
    let mut spiking: HashMap<&str, IrNode> = HashMap::new();
    let mut inputs = Vec::new();
    let mut taken: HashMap<String, String> = HashMap::new();
    let mut unique = |name: &str, notes: &mut Vec<String>| {
        let mut id = identifier(name);
        while taken.contains_key(&id) {
            id.push('_');
        }
        taken.insert(id.clone(), name.to_string());
        if id != name {
            notes.push(format!("NIR node `{name}` is called `{id}` here"));
        }
        id
    };
    for (name, node) in &flat.nodes {
        let size: usize = shapes.out.get(name).map_or(0, |s| s.iter().product());
        match node {
            Flat::Input(_) => {
                let id = unique(name, &mut notes);
                let h = net.sources.push(Source {
                    name: id,
                    size,
                    kind: SourceKind::SpikeArray { times: vec![Vec::new(); size] },
                    span: Span::NONE,
                });
                inputs.push((name.clone(), h));
                spiking.insert(name, IrNode::Source(h));
            }
            Flat::Neuron(kind, params) => {
                let values = model_values(name, *kind, params, size)?;
                let id = unique(name, &mut notes);
                let h = net.populations.push(Population {
                    name: id,
                    size,
                    model: kind.build(&values),
                    v_init: None,
                    span: Span::NONE,
                    param_spans: Vec::new(),
                });
                spiking.insert(name, IrNode::Population(h));
            }
            _ => {}
        }
    }
    let mut successors: HashMap<&str, Vec<&str>> = HashMap::new();
    for (a, b) in &flat.edges {
        successors.entry(a.as_str()).or_default().push(b.as_str());
    }
    let mut fanouts: HashMap<&str, Fanout> = HashMap::new();
    for (name, node) in &flat.nodes {
        if let Flat::Op(op) = node
            && let (Some(i), Some(o)) = (shapes.input.get(name), shapes.out.get(name))
        {
            fanouts.insert(name, fanout(op, i, o));
        }
    }
    let mut walk =
        Walk { flat: &flat, successors: &successors, fanouts: &fanouts, spiking: &spiking, found: Vec::new() };
    for name in flat.nodes.keys() {
        if let Some(&start) = spiking.get(name.as_str()) {
            let size = net.node_size(start);
            let map: Map = (0..size as u32).map(|i| vec![(i, 1.0, 0.0)]).collect();
            walk.follow(name, start, map, &mut Vec::new())?;
        }
    }
    // An Output fed only by neurons directly records them; an Output behind weighted operators (or fed by an
    // input directly) gets a readout population: `threshold` neurons that never fire, whose v is the readout W·s + b of each step.
    let weighted = |path: &[&str]| {
        path.iter().any(|n| matches!(flat.nodes.get(*n), Some(Flat::Op(op)) if !matches!(op, Op::Pass | Op::Flatten)))
    };
    let mut readouts: HashMap<&str, Handle<Population>> = HashMap::new();
    for f in &walk.found {
        if let Target::Output(out) = f.to
            && (weighted(&f.path) || matches!(f.from, IrNode::Source(_)))
            && !readouts.contains_key(out)
        {
            let size = shapes.out.get(out).map_or(0, |s| s.iter().product());
            let id = unique(out, &mut notes);
            notes.push(format!(
                "output `{out}` is computed by the readout population `{id}`: threshold neurons that never fire, whose v is the output of each step"
            ));
            let h = net.populations.push(Population {
                name: id,
                size,
                model: ModelKind::Threshold.build(&[f64::MAX]),
                v_init: None,
                span: Span::NONE,
                param_spans: Vec::new(),
            });
            net.probes.push(Probe { population: h, kind: ProbeKind::V, neurons: None, span: Span::NONE });
            readouts.insert(out, h);
        }
    }
    let mut probed: Vec<IrNode> = Vec::new();
    for Found { from, to, map, path } in walk.found {
        let to = match to {
            Target::Population(p) => p,
            Target::Output(out) => match readouts.get(out) {
                Some(&p) => p,
                None => {
                    if let IrNode::Population(p) = from
                        && !probed.contains(&from)
                    {
                        probed.push(from);
                        let kind =
                            if net.populations[p].model.kind().spikes() { ProbeKind::Spikes } else { ProbeKind::V };
                        net.probes.push(Probe { population: p, kind, neurons: None, span: Span::NONE });
                    }
                    continue;
                }
            },
        };
        let pre_size = net.node_size(from);
        let ops: Vec<&Op> = path
            .iter()
            .filter_map(|n| match flat.nodes.get(*n) {
                Some(Flat::Op(op)) if !matches!(op, Op::Pass | Op::Flatten) => Some(op),
                _ => None,
            })
            .collect();
        let no_delay = map.iter().flatten().all(|e| e.2 == 0.0);
        let (connector, weight, delay) = match ops.as_slice() {
            [Op::Affine(w, _)] if no_delay => (Connector::Dense { matrix: w.values.clone() }, None, Values::Const(dt)),
            [Op::Conv(c, two)] if no_delay => {
                let input = &shapes.input[path_op(&path, &flat)];
                let as3 = |s: &[usize]| if *two { [s[0], s[1], s[2]] } else { [s[0], 1, s[1]] };
                (
                    Connector::Conv2d(Conv2d {
                        input: as3(input),
                        out_channels: c.weight.shape[0],
                        kernel: [c.weight.shape[2], c.weight.shape[3]],
                        stride: c.stride,
                        padding: c.padding,
                        dilation: c.dilation,
                        groups: c.groups,
                        weights: c.weight.values.clone(),
                    }),
                    None,
                    Values::Const(dt),
                )
            }
            _ => {
                let mut offsets = Vec::with_capacity(pre_size + 1);
                let (mut targets, mut weights, mut delays) = (Vec::new(), Vec::new(), Vec::new());
                offsets.push(0u64);
                for row in &map {
                    for &(o, w, d) in row {
                        targets.push(o);
                        weights.push(w);
                        delays.push(dt + d);
                    }
                    offsets.push(targets.len() as u64);
                }
                if targets.is_empty() {
                    continue;
                }
                let delay = if no_delay { Values::Const(dt) } else { Values::Array(delays) };
                (Connector::Sparse { offsets, targets }, Some(Values::Array(weights)), delay)
            }
        };
        net.projections.push(Projection {
            pre: from,
            post: to,
            connector,
            weight,
            delay,
            receptor: Receptor::Excitatory,
            plasticity: None,
            span: Span::NONE,
        });
    }
    add_biases(&flat, &shapes, &successors, &fanouts, &spiking, &readouts, &mut net);
    Ok(Imported { network: net, inputs, notes })
}

/// The single weighted operator on a path.
fn path_op<'p>(path: &[&'p str], flat: &Flattened) -> &'p str {
    path.iter()
        .copied()
        .find(|n| matches!(flat.nodes.get(*n), Some(Flat::Op(op)) if !matches!(op, Op::Pass | Op::Flatten)))
        .unwrap_or_default()
}

/// Where a path of operators ends.
#[derive(Clone, Copy)]
enum Target<'f> {
    Population(Handle<Population>),
    /// A top-level Output, by name.
    Output(&'f str),
}

struct Found<'f> {
    from: IrNode,
    to: Target<'f>,
    map: Map,
    /// The operators passed.
    path: Vec<&'f str>,
}

struct Walk<'f, 'g> {
    flat: &'f Flattened<'g>,
    successors: &'f HashMap<&'f str, Vec<&'f str>>,
    fanouts: &'f HashMap<&'f str, Fanout>,
    spiking: &'f HashMap<&'f str, IrNode>,
    found: Vec<Found<'f>>,
}

impl<'f> Walk<'f, '_> {
    fn follow(&mut self, at: &'f str, from: IrNode, map: Map, path: &mut Vec<&'f str>) -> Result<(), NirError> {
        let Some(next) = self.successors.get(at) else { return Ok(()) };
        for &b in next {
            match self.flat.nodes.get(b) {
                Some(Flat::Neuron(..)) => {
                    if let Some(IrNode::Population(to)) = self.spiking.get(b) {
                        self.found.push(Found {
                            from,
                            to: Target::Population(*to),
                            map: map.clone(),
                            path: path.clone(),
                        });
                    }
                }
                Some(Flat::Output(_)) => {
                    self.found.push(Found { from, to: Target::Output(b), map: map.clone(), path: path.clone() });
                }
                Some(Flat::Input(_)) => {
                    return Err(NirError::file(format!("edge `{at} -> {b}` leads into a top-level Input")));
                }
                Some(Flat::Op(_)) => {
                    if path.contains(&b) {
                        return Err(NirError::at(
                            b,
                            "is on a cycle of operators with no neuron in it (an algebraic loop)",
                        ));
                    }
                    let Some(f) = self.fanouts.get(b) else {
                        return Err(NirError::at(b, "cannot infer the shape of this node's input"));
                    };
                    let next_map = compose(&map, f);
                    path.push(b);
                    self.follow(b, from, next_map, path)?;
                    path.pop();
                }
                None => return Err(NirError::file(format!("edge `{at} -> {b}`: there is no node `{b}`"))),
            }
        }
        Ok(())
    }
}

/// Propagates the bias of every Affine and convolution through the operators after it, and adds what reaches a
/// neuron as a per-neuron constant current.
fn add_biases(
    flat: &Flattened,
    shapes: &Shapes,
    successors: &HashMap<&str, Vec<&str>>,
    fanouts: &HashMap<&str, Fanout>,
    spiking: &HashMap<&str, IrNode>,
    readouts: &HashMap<&str, Handle<Population>>,
    net: &mut Network,
) {
    let mut totals: BTreeMap<usize, Vec<f64>> = BTreeMap::new();
    for (name, node) in &flat.nodes {
        let bias: Vec<f64> = match node {
            Flat::Op(Op::Affine(_, Some(b))) => b.values.clone(),
            Flat::Op(Op::Conv(c, _)) => {
                let out = &shapes.out[name];
                let per_channel: usize = out[1..].iter().product();
                c.bias.values.iter().flat_map(|&b| std::iter::repeat_n(b, per_channel)).collect()
            }
            _ => continue,
        };
        if bias.iter().all(|&b| b == 0.0) {
            continue;
        }
        let mut stack: Vec<(&str, Vec<f64>, usize)> = vec![(name.as_str(), bias, 0)];
        while let Some((at, v, depth)) = stack.pop() {
            for &b in successors.get(at).map(Vec::as_slice).unwrap_or_default() {
                let target = match (flat.nodes.get(b), spiking.get(b), readouts.get(b)) {
                    (Some(Flat::Neuron(..)), Some(IrNode::Population(p)), _) | (Some(Flat::Output(_)), _, Some(p)) => {
                        Some(*p)
                    }
                    _ => None,
                };
                match (flat.nodes.get(b), target) {
                    (_, Some(p)) => {
                        let total = totals.entry(p.index()).or_insert_with(|| vec![0.0; net.populations[p].size]);
                        for (t, x) in total.iter_mut().zip(&v) {
                            *t += x;
                        }
                    }
                    (Some(Flat::Op(_)), _) if depth < flat.nodes.len() => {
                        if let Some(f) = fanouts.get(b) {
                            let n_out: usize = shapes.out.get(b).map_or(0, |s| s.iter().product());
                            let mut next = vec![0.0; n_out];
                            for (c, x) in v.iter().enumerate() {
                                for &(o, w) in &f.by_input[c] {
                                    next[o as usize] += w * x;
                                }
                            }
                            stack.push((b, next, depth + 1));
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    for (p, total) in totals {
        let amplitude =
            if total.iter().all(|&x| x == total[0]) { Values::Const(total[0]) } else { Values::Array(total) };
        net.currents.push(Current {
            target: Handle::from_index(p),
            kind: CurrentKind::Dc { amplitude, start: 0.0, stop: None },
            span: Span::NONE,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_beyond_the_node_bound_or_overflowing_are_refused() {
        assert!(bounded("fc", vec![4096, 4096]).is_ok());
        let err = bounded("fc", vec![4097, 4096]).expect_err("over 2^24 values");
        assert!(err.to_string().contains("node `fc`: shape [4097, 4096] has more than 16777216 values"), "{err}");
        assert!(bounded("in", vec![usize::MAX, 2]).is_err(), "a product that overflows is refused, not a panic");
    }
}
