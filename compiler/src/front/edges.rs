//! The connectome frontend: CSV edge lists `pre,post,type,count[,...]` (as exported by the C. elegans
//! Connectome Toolbox) to a network with one single-neuron population per named neuron.
//!
//! Chemical edges become directed projections whose weight is `count x weight`, negative (and on the
//! inhibitory receptor, for `if_curr_exp`) when the presynaptic neuron is in the inhibitory table; electrical
//! edges (listed in both directions) become one symmetric gap junction per pair with conductance
//! `count x gap_weight`. The default inhibitory table is C. elegans' GABAergic neurons (DD, VD, RME, AVL, DVB,
//! RIS; McIntire et al. 1993).

use std::collections::{BTreeMap, HashMap};

use soma_isa::model::{IfCurrExp, Lif, ModelKind, NeuronModel};
use soma_isa::units::Dim;

use crate::diag::Span;
use crate::front::identifier;
use crate::ir::{
    Connector, Current, CurrentKind, GapJunction, Handle, Network, Node, Population, Projection, Receptor, Values,
};

/// The default inhibitory table: C. elegans' GABAergic neurons; `*` ends a prefix.
pub const GABAERGIC: &str = "DD*,VD*,RME*,AVL,DVB,RIS";

/// How to turn edges into a network.
#[derive(Clone, Debug)]
pub struct EdgeOptions {
    /// Time step, seconds.
    pub dt: f64,
    /// Neuron model: `if_curr_exp` (PyNN's default parameters) or `lif` (NIR-style, unitless).
    pub model: ModelKind,
    /// Weight of one chemical contact, in the model's weight unit (A for `if_curr_exp`).
    pub weight: f64,
    /// Conductance of one electrical contact (S for `if_curr_exp`).
    pub gap_weight: f64,
    /// Inhibitory presynaptic neurons: names, or prefixes ending in `*`.
    pub inhibitory: Vec<String>,
    /// Constant current into every neuron (the model's current unit).
    pub drive: f64,
    /// Synaptic delay, seconds (at least `dt`).
    pub delay: f64,
}

impl EdgeOptions {
    /// Defaults for a model: 0.05 nA and 1 nS per contact for `if_curr_exp` (a fraction of a millivolt each with
    /// PyNN's 1 nF, 20 ms membrane), 0.05 and 0.02 for the unitless `lif`.
    pub fn defaults(model: ModelKind, dt: f64) -> EdgeOptions {
        let (weight, gap_weight) = if model == ModelKind::IfCurrExp { (0.05e-9, 1e-9) } else { (0.05, 0.02) };
        EdgeOptions {
            dt,
            model,
            weight,
            gap_weight,
            inhibitory: GABAERGIC.split(',').map(str::to_string).collect(),
            drive: 0.0,
            delay: dt,
        }
    }

    /// The unit of `weight` / `gap_weight` / `drive` for the chosen model.
    pub fn dims(model: ModelKind) -> (Dim, Dim, Dim) {
        match model {
            ModelKind::IfCurrExp => (Dim::CURRENT, Dim::CONDUCTANCE, Dim::CURRENT),
            _ => (Dim::NONE, Dim::NONE, Dim::NONE),
        }
    }

    fn neuron(&self) -> Result<NeuronModel, EdgeError> {
        match self.model {
            // PyNN IF_curr_exp defaults (PyNN 0.12 standardmodels/cells.py).
            ModelKind::IfCurrExp => Ok(NeuronModel::IfCurrExp(IfCurrExp {
                tau_m: 20e-3,
                cm: 1e-9,
                v_rest: -65e-3,
                v_reset: -65e-3,
                v_thresh: -50e-3,
                tau_refrac: 0.1e-3,
                tau_syn_e: 5e-3,
                tau_syn_i: 5e-3,
                i_offset: 0.0,
            })),
            ModelKind::Lif => {
                Ok(NeuronModel::Lif(Lif { tau: 20e-3, r: 1.0, v_leak: 0.0, v_threshold: 1.0, v_reset: 0.0 }))
            }
            other => {
                Err(EdgeError { line: 0, message: format!("connectomes use if_curr_exp or lif, not {}", other.name()) })
            }
        }
    }

    fn is_inhibitory(&self, name: &str) -> bool {
        self.inhibitory.iter().any(|p| match p.strip_suffix('*') {
            Some(prefix) => name.starts_with(prefix),
            None => name == p,
        })
    }
}

/// A malformed edge list: the line (1-based) and what is wrong.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct EdgeError {
    /// The line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

struct Edge {
    pre: String,
    post: String,
    electrical: bool,
    count: f64,
}

fn parse_edges(text: &str) -> Result<Vec<Edge>, EdgeError> {
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let err = |line: usize, message: String| EdgeError { line: line + 1, message };
    let Some((no, header)) = lines.next() else { return Err(err(0, "the file is empty".into())) };
    let cols: Vec<&str> = header.split(',').map(str::trim).collect();
    let col = |name: &str| cols.iter().position(|c| *c == name);
    let (Some(pre), Some(post), Some(kind), Some(count)) = (col("pre"), col("post"), col("type"), col("count")) else {
        return Err(err(no, format!("expected a header with columns pre,post,type,count; got `{header}`")));
    };
    let mut edges = Vec::new();
    for (no, line) in lines {
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        let get = |i: usize| {
            f.get(i).copied().ok_or_else(|| err(no, format!("expected {} columns, got {}", cols.len(), f.len())))
        };
        let (pre, post, kind, count) = (get(pre)?, get(post)?, get(kind)?, get(count)?);
        let electrical = match kind {
            "chemical" => false,
            "electrical" => true,
            other => return Err(err(no, format!("type `{other}` is neither `chemical` nor `electrical`"))),
        };
        let count: f64 = count.parse().map_err(|_| err(no, format!("count `{count}` is not a number")))?;
        if !(count.is_finite() && count >= 0.0) {
            return Err(err(no, format!("count {count} must be finite and not negative")));
        }
        if pre.is_empty() || post.is_empty() {
            return Err(err(no, "empty neuron name".into()));
        }
        edges.push(Edge { pre: pre.to_string(), post: post.to_string(), electrical, count });
    }
    Ok(edges)
}

/// Reads an edge list into a network (not yet validated).
pub fn import(text: &str, opts: &EdgeOptions) -> Result<Network, EdgeError> {
    let edges = parse_edges(text)?;
    let model = opts.neuron()?;
    let mut net = Network { dt: opts.dt, dt_span: Span::NONE, ..Network::default() };
    let mut index: HashMap<&str, Handle<Population>> = HashMap::new();
    let mut names: Vec<&str> = Vec::new();
    let mut used_ids: HashMap<String, ()> = HashMap::new();
    for e in &edges {
        for name in [&e.pre, &e.post] {
            if !index.contains_key(name.as_str()) {
                let mut id = identifier(name);
                while used_ids.contains_key(&id) {
                    id.push('_');
                }
                used_ids.insert(id.clone(), ());
                let h = net.populations.push(Population {
                    name: id,
                    size: 1,
                    model: model.clone(),
                    v_init: None,
                    span: Span::NONE,
                    param_spans: Vec::new(),
                });
                index.insert(name, h);
                names.push(name);
            }
        }
    }
    let signed = opts.model == ModelKind::IfCurrExp;
    let mut chemical: BTreeMap<(usize, usize), f64> = BTreeMap::new();
    let mut electrical: BTreeMap<(usize, usize), f64> = BTreeMap::new();
    for e in &edges {
        let (a, b) = (index[e.pre.as_str()].index(), index[e.post.as_str()].index());
        if e.electrical {
            // Listed in both directions: one junction per unordered pair.
            electrical.entry((a.min(b), a.max(b))).or_insert(e.count);
        } else {
            *chemical.entry((a, b)).or_insert(0.0) += e.count;
        }
    }
    for ((a, b), count) in chemical {
        let inhibitory = opts.is_inhibitory(names[a]);
        let w = count * opts.weight * if inhibitory { -1.0 } else { 1.0 };
        net.projections.push(Projection {
            pre: Node::Population(Handle::from_index(a)),
            post: Handle::from_index(b),
            connector: Connector::OneToOne,
            weight: Some(Values::Const(w)),
            delay: Values::Const(opts.delay),
            receptor: if inhibitory && signed { Receptor::Inhibitory } else { Receptor::Excitatory },
            plasticity: None,
            span: Span::NONE,
        });
    }
    for ((a, b), count) in electrical {
        if a == b {
            continue;
        }
        net.gap_junctions.push(GapJunction {
            a: Handle::from_index(a),
            b: Handle::from_index(b),
            connector: Connector::OneToOne,
            weight: Values::Const(count * opts.gap_weight),
            span: Span::NONE,
        });
    }
    if opts.drive != 0.0 {
        for i in 0..net.populations.len() {
            net.currents.push(Current {
                target: Handle::from_index(i),
                kind: CurrentKind::Dc { amplitude: Values::Const(opts.drive), start: 0.0, stop: None },
                span: Span::NONE,
            });
        }
    }
    Ok(net)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: &str = "pre,post,type,count,class\nAVL,DVB,chemical,2,x\nDVB,AVL,chemical,1,x\nAVL,DVB,chemical,1,x\nDVB,ALA,electrical,3,x\nALA,DVB,electrical,3,x\nALA,AVL,chemical,4,x\n";

    #[test]
    fn signs_counts_and_gap_pairs() {
        let mut o = EdgeOptions::defaults(ModelKind::IfCurrExp, 1e-4);
        o.inhibitory = vec!["AVL".into()];
        let net = import(SMALL, &o).expect("imports");
        let names: Vec<&str> = net.populations.iter().map(|(_, p)| p.name.as_str()).collect();
        assert_eq!(names, ["AVL", "DVB", "ALA"]);
        let projs: Vec<(usize, usize, f64, Receptor)> = net
            .projections
            .iter()
            .map(|(_, p)| {
                let Node::Population(pre) = p.pre else { panic!() };
                let Some(Values::Const(w)) = p.weight else { panic!() };
                (pre.index(), p.post.index(), w, p.receptor)
            })
            .collect();
        let nanoamps = |x: f64| (x * 1e9 * 1e6).round() / 1e6;
        assert_eq!(projs.len(), 3);
        assert_eq!(
            (projs[0].0, projs[0].1, nanoamps(projs[0].2), projs[0].3),
            (0, 1, -0.15, Receptor::Inhibitory),
            "AVL->DVB: 2 + 1 contacts, inhibitory"
        );
        assert_eq!((projs[1].0, projs[1].1, nanoamps(projs[1].2), projs[1].3), (1, 0, 0.05, Receptor::Excitatory));
        assert_eq!((projs[2].0, projs[2].1, nanoamps(projs[2].2)), (2, 0, 0.2));
        assert_eq!(net.gap_junctions.len(), 1, "both directions make one junction");
        let (_, g) = net.gap_junctions.iter().next().expect("gap");
        assert!(matches!(g.weight, Values::Const(w) if (w - 3e-9).abs() < 1e-20));
    }

    #[test]
    fn malformed_lists_name_the_line() {
        let o = EdgeOptions::defaults(ModelKind::Lif, 1e-4);
        assert_eq!(import("a,b\n", &o).expect_err("must fail").line, 1);
        let e = import("pre,post,type,count\nA,B,magic,1\n", &o).expect_err("must fail");
        assert_eq!((e.line, e.message.contains("magic")), (2, true));
        assert_eq!(import("pre,post,type,count\nA,B,chemical,x\n", &o).expect_err("must fail").line, 2);
        assert_eq!(import("pre,post,type,count\nA,B\n", &o).expect_err("must fail").line, 2);
        assert!(import("", &o).is_err());
    }
}
