//! NIR graphs as typed nodes: reads the tree of [`super::hdf5`] into [`Graph`]s of [`Node`]s, checking that
//! every node has the parameters its type needs with usable shapes. Semantics are those of the `nir` package
//! (`nir/ir/*.py`, NIR 1.0); files from NIR 0.x (no `v_reset`, Input/Output `shape` only) read the same way.

use std::collections::BTreeMap;

use super::hdf5::{Array, Data, Tree};
use soma_isa::model::ModelKind;

/// A parameter: shape and values (widened to f64).
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    /// Dimensions (empty for a scalar).
    pub shape: Vec<usize>,
    /// Row-major values.
    pub values: Vec<f64>,
}

impl Tensor {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether it has no elements.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// A NIR node.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    /// External input of the given shape.
    Input {
        /// Shape of one sample.
        shape: Vec<usize>,
    },
    /// External output of the given shape.
    Output {
        /// Shape of one sample.
        shape: Vec<usize>,
    },
    /// `y = W x + b`.
    Affine {
        /// `(out, in)`.
        weight: Tensor,
        /// `(out)`.
        bias: Tensor,
    },
    /// `y = W x`.
    Linear {
        /// `(out, in)`.
        weight: Tensor,
    },
    /// `y = s ⊙ x`.
    Scale {
        /// Per element.
        scale: Tensor,
    },
    /// `y(t) = x(t - d)`.
    Delay {
        /// Per element, seconds.
        delay: Tensor,
    },
    /// Reshape to a flat vector (values keep their row-major order).
    Flatten {
        /// The input shape, if the file gives it.
        input_shape: Option<Vec<usize>>,
    },
    /// 1-D convolution over `(channels, length)`.
    Conv1d(Conv),
    /// 2-D convolution over `(channels, height, width)`.
    Conv2d(Conv),
    /// 2-D sum pooling.
    SumPool2d(Pool),
    /// 2-D average pooling (sum divided by the kernel area).
    AvgPool2d(Pool),
    /// A neuron population (LIF, LI, IF, I, CubaLIF, CubaLI, Threshold) with its parameters by soma's names.
    Neuron {
        /// The model.
        kind: ModelKind,
        /// Parameters present in the file.
        params: BTreeMap<String, Tensor>,
    },
    /// A nested graph.
    Graph(Graph),
}

/// Convolution parameters (2-D; a 1-D convolution has height 1).
#[derive(Clone, Debug, PartialEq)]
pub struct Conv {
    /// `(out, in / groups, kh, kw)` (for Conv1d `kh = 1`).
    pub weight: Tensor,
    /// `(out)`.
    pub bias: Tensor,
    /// Stride (y, x).
    pub stride: [usize; 2],
    /// Padding (y, x).
    pub padding: [usize; 2],
    /// Dilation (y, x).
    pub dilation: [usize; 2],
    /// Groups.
    pub groups: usize,
    /// Input spatial size (h, w), if the file gives it.
    pub input_size: Option<[usize; 2]>,
}

/// Pooling parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Pool {
    /// Kernel (kh, kw).
    pub kernel: [usize; 2],
    /// Stride (y, x).
    pub stride: [usize; 2],
    /// Padding (y, x).
    pub padding: [usize; 2],
}

/// A graph: named nodes and directed edges between them (edges may use dotted names into subgraphs).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Graph {
    /// Nodes by name.
    pub nodes: BTreeMap<String, Node>,
    /// Edges `(from, to)`.
    pub edges: Vec<(String, String)>,
}

/// A problem with a NIR file, naming the node when there is one.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{}{message}", node.as_ref().map(|n| format!("node `{n}`: ")).unwrap_or_default())]
pub struct NirError {
    /// The node concerned (dotted path for nested graphs).
    pub node: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl NirError {
    /// An error about a node.
    pub fn at(node: &str, message: impl Into<String>) -> NirError {
        NirError { node: Some(node.to_string()), message: message.into() }
    }

    /// An error about the file as a whole.
    pub fn file(message: impl Into<String>) -> NirError {
        NirError { node: None, message: message.into() }
    }

    /// The same error, about `node`.
    pub fn on(self, node: &str) -> NirError {
        NirError { node: Some(node.to_string()), ..self }
    }
}

const NODE_TYPES: &str = "Input, Output, Affine, Linear, Scale, Threshold, Delay, Flatten, Conv1d, Conv2d, SumPool2d, AvgPool2d, \
     I, IF, LI, LIF, CubaLI, CubaLIF, NIRGraph";

/// Reads the top-level graph of a NIR file tree.
pub fn parse(tree: &Tree) -> Result<Graph, NirError> {
    let root = tree.groups.get("node").ok_or_else(|| NirError::file("no `node` group: not a NIR file"))?;
    match read_node("", root)? {
        Node::Graph(g) => Ok(g),
        _ => Err(NirError::file("the top-level node is not a NIRGraph")),
    }
}

fn string(a: &Array) -> Option<&str> {
    match &a.data {
        Data::Str(s) if s.len() == 1 => Some(s[0].as_str()),
        _ => None,
    }
}

struct Params<'a> {
    node: &'a str,
    tree: &'a Tree,
}

impl Params<'_> {
    fn tensor(&self, name: &str) -> Result<Option<Tensor>, NirError> {
        let Some(a) = self.tree.arrays.get(name) else { return Ok(None) };
        let values = match &a.data {
            Data::Float(v) => v.clone(),
            Data::Int(v) => v.iter().map(|&x| x as f64).collect(),
            Data::Str(_) => {
                return Err(NirError::at(self.node, format!("parameter `{name}` is text, expected numbers")));
            }
        };
        Ok(Some(Tensor { shape: a.shape.clone(), values }))
    }

    fn required(&self, name: &str, type_name: &str) -> Result<Tensor, NirError> {
        self.tensor(name)?.ok_or_else(|| NirError::at(self.node, format!("{type_name} is missing parameter `{name}`")))
    }

    /// A count parameter: a non-negative whole number, as a scalar or one value per spatial dimension.
    fn counts(&self, name: &str, n: usize, default: Option<usize>) -> Result<Vec<usize>, NirError> {
        let t = match (self.tensor(name)?, default) {
            (Some(t), _) => t,
            (None, Some(d)) => return Ok(vec![d; n]),
            (None, None) => return Err(NirError::at(self.node, format!("missing parameter `{name}`"))),
        };
        let bad = || NirError::at(self.node, format!("`{name}` must be {n} whole non-negative numbers"));
        let whole = |x: f64| if x >= 0.0 && x.fract() == 0.0 && x < 1e9 { Ok(x as usize) } else { Err(bad()) };
        match t.values.len() {
            1 => Ok(vec![whole(t.values[0])?; n]),
            k if k == n => t.values.iter().map(|&x| whole(x)).collect(),
            _ => {
                if let Some(Array { data: Data::Str(s), .. }) = self.tree.arrays.get(name) {
                    return Err(NirError::at(self.node, format!("`{name}` = {s:?} is not supported; give numbers")));
                }
                Err(bad())
            }
        }
    }
}

fn shape_of(p: &Params, name: &str) -> Result<Vec<usize>, NirError> {
    let t = p.required(name, "this node")?;
    t.values
        .iter()
        .map(|&x| {
            if x >= 1.0 && x.fract() == 0.0 && x < 1e9 {
                Ok(x as usize)
            } else {
                Err(NirError::at(p.node, format!("`{name}` must be positive whole numbers, got {:?}", t.values)))
            }
        })
        .collect()
}

fn pair(v: Vec<usize>) -> [usize; 2] {
    [v[0], v[1]]
}

fn read_node(path: &str, tree: &Tree) -> Result<Node, NirError> {
    let name = if path.is_empty() { "(top level)" } else { path };
    let type_name =
        tree.arrays.get("type").and_then(string).ok_or_else(|| NirError::at(name, "has no `type`"))?.to_string();
    let p = Params { node: name, tree };
    // NIR's neuron parameter names are soma's (`tau`, `r`, `v_leak`, `v_threshold`, `v_reset`, `tau_syn`, ...).
    let neuron = |kind: ModelKind| -> Result<Node, NirError> {
        let mut params = BTreeMap::new();
        for spec in kind.params() {
            if let Some(t) = p.tensor(spec.name)? {
                params.insert(spec.name.to_string(), t);
            }
        }
        Ok(Node::Neuron { kind, params })
    };
    Ok(match type_name.as_str() {
        "NIRGraph" => {
            let mut g = Graph::default();
            if let Some(nodes) = tree.groups.get("nodes") {
                for (child, sub) in &nodes.groups {
                    let child_path = if path.is_empty() { child.clone() } else { format!("{path}.{child}") };
                    g.nodes.insert(child.clone(), read_node(&child_path, sub)?);
                }
            }
            if let Some(edges) = tree.arrays.get("edges") {
                let Data::Str(names) = &edges.data else {
                    return Err(NirError::at(name, "`edges` must be pairs of node names"));
                };
                if names.len() % 2 != 0 || (edges.shape.len() == 2 && edges.shape[1] != 2) {
                    return Err(NirError::at(name, "`edges` must be an (n, 2) array of node names"));
                }
                g.edges = names.chunks(2).map(|c| (c[0].clone(), c[1].clone())).collect();
            }
            Node::Graph(g)
        }
        "Input" => Node::Input { shape: shape_of(&p, "shape")? },
        "Output" => Node::Output { shape: shape_of(&p, "shape")? },
        "Affine" => Node::Affine { weight: p.required("weight", "Affine")?, bias: p.required("bias", "Affine")? },
        "Linear" => Node::Linear { weight: p.required("weight", "Linear")? },
        "Scale" => Node::Scale { scale: p.required("scale", "Scale")? },
        "Delay" => Node::Delay { delay: p.required("delay", "Delay")? },
        "Flatten" => Node::Flatten {
            input_shape: p.tensor("input_type")?.map(|t| t.values.iter().map(|&x| x.max(0.0) as usize).collect()),
        },
        "Conv1d" | "Conv2d" => {
            let two = type_name == "Conv2d";
            let mut weight = p.required("weight", &type_name)?;
            let rank = if two { 4 } else { 3 };
            if weight.shape.len() != rank {
                return Err(NirError::at(
                    name,
                    format!("{type_name} weight must have {rank} dimensions, got {:?}", weight.shape),
                ));
            }
            let n = if two { 2 } else { 1 };
            let spatial = |v: Vec<usize>| if two { pair(v) } else { [1, v[0]] };
            let ones = |v: Vec<usize>| if two { pair(v) } else { [1, v[0]] };
            let padding = p.counts("padding", n, Some(0))?;
            let stride = p.counts("stride", n, Some(1))?;
            let dilation = p.counts("dilation", n, Some(1))?;
            let input_size = match p.tensor("input_shape")? {
                Some(_) => Some(spatial(p.counts("input_shape", n, None)?)),
                None => None,
            };
            if !two {
                weight.shape.insert(2, 1); // (out, in, 1, k)
            }
            let bias = p
                .tensor("bias")?
                .unwrap_or(Tensor { shape: vec![weight.shape[0]], values: vec![0.0; weight.shape[0]] });
            if bias.len() != weight.shape[0] {
                return Err(NirError::at(
                    name,
                    format!("bias has {} values for {} output channels", bias.len(), weight.shape[0]),
                ));
            }
            let groups = p.counts("groups", 1, Some(1))?[0];
            let conv = Conv {
                weight,
                bias,
                stride: ones(stride),
                padding: if two { pair(padding) } else { [0, padding[0]] },
                dilation: ones(dilation),
                groups,
                input_size,
            };
            if two { Node::Conv2d(conv) } else { Node::Conv1d(conv) }
        }
        "SumPool2d" | "AvgPool2d" => {
            let pool = Pool {
                kernel: pair(p.counts("kernel_size", 2, None)?),
                stride: pair(p.counts("stride", 2, None)?),
                padding: pair(p.counts("padding", 2, Some(0))?),
            };
            if type_name == "SumPool2d" { Node::SumPool2d(pool) } else { Node::AvgPool2d(pool) }
        }
        "LIF" => neuron(ModelKind::Lif)?,
        "LI" => neuron(ModelKind::Li)?,
        "IF" => neuron(ModelKind::If)?,
        "I" => neuron(ModelKind::Integrator)?,
        "CubaLIF" => neuron(ModelKind::CubaLif)?,
        "CubaLI" => neuron(ModelKind::CubaLi)?,
        "Threshold" => neuron(ModelKind::Threshold)?,
        other => {
            return Err(NirError::at(name, format!("unknown NIR node type `{other}`; soma reads {NODE_TYPES}")));
        }
    })
}
