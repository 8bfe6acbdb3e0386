//! Printing a network as `.snn` text that parses back to the same network: every value is written in SI base
//! units (so no scaling is applied when it is read again) with the shortest decimal that round-trips.

use std::fmt::Write as _;

use soma_isa::units::Dim;

use super::lower::current_dim;
use crate::ir::{
    Connector, CurrentKind, Dependence, Network, Node, Pairing, ProbeKind, Receptor, SourceKind, Stdp, Values,
};

/// A number that parses back to the same `f64`.
fn num(x: f64) -> String {
    if x != 0.0 && (x.abs() >= 1e15 || x.abs() < 1e-4) { format!("{x:e}") } else { format!("{x}") }
}

/// A number with the base unit of its dimension (every dimension the language uses has a named SI unit).
fn qty(x: f64, dim: Dim) -> String {
    match dim.si_symbol() {
        Some(u) => format!("{} {u}", num(x)),
        None => num(x),
    }
}

fn list(xs: impl IntoIterator<Item = String>) -> String {
    let items: Vec<String> = xs.into_iter().collect();
    format!("[{}]", items.join(", "))
}

/// A plasticity rule in PyNN's names, every parameter written out.
fn plasticity(net: &Network, r: &Stdp<Node>, wdim: Dim) -> String {
    let timing = match r.pairing {
        Pairing::AllToAll => "SpikePairRule",
        Pairing::Nearest => "SpikeNearestPairRule",
    };
    let weights = match r.dependence {
        Dependence::Additive => "AdditiveWeightDependence",
        Dependence::Multiplicative => "MultiplicativeWeightDependence",
    };
    let modulation = r.modulation.map_or(String::new(), |m| {
        format!(
            ", modulation = RateModulation(of = {}, tau = {}, gain = {}, baseline = {})",
            net.node_name(m.of),
            qty(m.tau, Dim::TIME),
            qty(m.gain, Dim::TIME),
            num(m.baseline)
        )
    });
    format!(
        "STDPMechanism(timing_dependence = {timing}(tau_plus = {}, tau_minus = {}, A_plus = {}, A_minus = {}), \
         weight_dependence = {weights}(w_min = {}, w_max = {}){modulation})",
        qty(r.tau_plus, Dim::TIME),
        qty(r.tau_minus, Dim::TIME),
        num(r.a_plus),
        num(r.a_minus),
        qty(r.w_min, wdim),
        qty(r.w_max, wdim)
    )
}

fn values(v: &Values, dim: Dim) -> String {
    match v {
        Values::Const(x) => qty(*x, dim),
        Values::Array(a) => list(a.iter().map(|&x| qty(x, dim))),
        Values::Normal { mean, sd, min, max } => {
            let mut s = format!("normal(mean = {}, sd = {}", qty(*mean, dim), qty(*sd, dim));
            if let Some(m) = min {
                s += &format!(", min = {}", qty(*m, dim));
            }
            if let Some(m) = max {
                s += &format!(", max = {}", qty(*m, dim));
            }
            s + ")"
        }
        Values::Uniform { low, high } => format!("uniform({}, {})", qty(*low, dim), qty(*high, dim)),
    }
}

fn connector(c: &Connector, pre_size: usize, weight_dim: Dim) -> String {
    let autapses = |a: bool| if a { String::new() } else { ", autapses = false".to_string() };
    match c {
        Connector::AllToAll { autapses: a } => {
            if *a {
                "all_to_all".into()
            } else {
                "all_to_all(autapses = false)".into()
            }
        }
        Connector::OneToOne => "one_to_one".into(),
        Connector::FixedProbability { p, autapses: a } => format!("fixed_probability({}{})", num(*p), autapses(*a)),
        Connector::FixedIndegree { k, autapses: a } => format!("fixed_indegree({k}{})", autapses(*a)),
        Connector::FixedTotalNumber { n, autapses: a } => format!("fixed_total_number({n}{})", autapses(*a)),
        Connector::Dense { matrix } => {
            let rows = matrix.chunks(pre_size.max(1)).map(|row| list(row.iter().map(|&x| qty(x, weight_dim))));
            format!("dense(matrix = {})", list(rows))
        }
        Connector::Sparse { offsets, targets } => {
            let pre = offsets
                .windows(2)
                .enumerate()
                .flat_map(|(i, w)| std::iter::repeat_n(i.to_string(), (w[1] - w[0]) as usize));
            format!("sparse(pre = {}, post = {})", list(pre), list(targets.iter().map(|t| t.to_string())))
        }
        Connector::Conv2d(c) => format!(
            "conv2d(input = {}, out_channels = {}, kernel = {}, stride = {}, padding = {}, dilation = {}, groups = {}, weights = {})",
            list(c.input.iter().map(|x| x.to_string())),
            c.out_channels,
            list(c.kernel.iter().map(|x| x.to_string())),
            list(c.stride.iter().map(|x| x.to_string())),
            list(c.padding.iter().map(|x| x.to_string())),
            list(c.dilation.iter().map(|x| x.to_string())),
            c.groups,
            list(c.weights.iter().map(|&x| qty(x, weight_dim)))
        ),
    }
}

/// The network as `.snn` text. `header` lines are written first as comments.
pub fn print(net: &Network, header: &[String]) -> String {
    let mut s = String::new();
    for line in header {
        let _ = writeln!(s, "# {line}");
    }
    let _ = writeln!(s, "timestep {}\n", qty(net.dt, Dim::TIME));
    for (_, p) in net.populations.iter() {
        let kind = p.model.kind();
        let mut entries: Vec<String> = kind
            .params()
            .iter()
            .zip(p.model.values())
            .map(|(spec, v)| format!("{} = {}", spec.name, qty(v, spec.dim)))
            .collect();
        if let Some(v) = &p.v_init {
            entries.push(format!("v_init = {}", values(v, kind.voltage_dim())));
        }
        let _ = writeln!(s, "population {}[{}] : {} {{ {} }}", p.name, p.size, kind.name(), entries.join(", "));
    }
    for (_, src) in net.sources.iter() {
        let body = match &src.kind {
            SourceKind::Poisson { rate } => format!("poisson {{ rate = {} }}", qty(*rate, Dim::RATE)),
            SourceKind::SpikeArray { times } => {
                format!(
                    "spikes {{ times = {} }}",
                    list(times.iter().map(|t| list(t.iter().map(|&x| qty(x, Dim::TIME)))))
                )
            }
        };
        let _ = writeln!(s, "source {}[{}] : {body}", src.name, src.size);
    }
    for (_, p) in net.projections.iter() {
        let wdim = net.populations[p.post].model.kind().weight_dim();
        let mut entries = Vec::new();
        if let Some(w) = &p.weight {
            entries.push(format!("weight = {}", values(w, wdim)));
        }
        entries.push(format!("delay = {}", values(&p.delay, Dim::TIME)));
        if p.receptor == Receptor::Inhibitory {
            entries.push("receptor = inhibitory".into());
        }
        if let Some(rule) = &p.plasticity {
            entries.push(format!("plasticity = {}", plasticity(net, rule, wdim)));
        }
        let _ = writeln!(
            s,
            "projection {} -> {} : {} {{ {} }}",
            net.node_name(p.pre),
            net.populations[p.post].name,
            connector(&p.connector, net.node_size(p.pre), wdim),
            entries.join(", ")
        );
    }
    for (_, g) in net.gap_junctions.iter() {
        let dim = net.populations[g.b].model.kind().gap_dim().unwrap_or(Dim::NONE);
        let _ = writeln!(
            s,
            "gap {} -> {} : {} {{ weight = {} }}",
            net.populations[g.a].name,
            net.populations[g.b].name,
            connector(&g.connector, net.populations[g.a].size, dim),
            values(&g.weight, dim)
        );
    }
    for (_, c) in net.currents.iter() {
        let dim = current_dim(net.populations[c.target].model.kind());
        let body = match &c.kind {
            CurrentKind::Dc { amplitude, start, stop } => {
                let mut e = vec![
                    format!("amplitude = {}", values(amplitude, dim)),
                    format!("start = {}", qty(*start, Dim::TIME)),
                ];
                if let Some(stop) = stop {
                    e.push(format!("stop = {}", qty(*stop, Dim::TIME)));
                }
                format!("dc {{ {} }}", e.join(", "))
            }
            CurrentKind::Step { times, amplitudes } => format!(
                "step {{ times = {}, amplitudes = {} }}",
                list(times.iter().map(|&t| qty(t, Dim::TIME))),
                list(amplitudes.iter().map(|&a| qty(a, dim)))
            ),
        };
        let _ = writeln!(s, "current {} : {body}", net.populations[c.target].name);
    }
    for (_, p) in net.probes.iter() {
        let range = p.neurons.as_ref().map_or(String::new(), |r| format!("[{}..{}]", r.start, r.end));
        let kind = match p.kind {
            ProbeKind::Spikes => "spikes",
            ProbeKind::V => "v",
        };
        let _ = writeln!(s, "probe {}{range} : {kind}", net.populations[p.population].name);
    }
    s
}
