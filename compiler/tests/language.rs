//! The `.snn` language end to end: expressions with units, functions, distributions, every statement, and
//! the semantic errors a user meets.

use soma_compiler::front::snn::{LowerErrorKind, Overrides, SnnError, parse};
use soma_compiler::ir::{Connector, CurrentKind, Network, NeuronModel, Node, ProbeKind, Receptor, SourceKind, Values};

fn net(body: &str) -> Network {
    let text = format!("timestep 0.1 ms\n{body}");
    match parse(&text, &Overrides::new()) {
        Ok(n) => n,
        Err(e) => panic!("{:?}", e.diagnostics(&text)),
    }
}

fn lower_error(body: &str) -> (LowerErrorKind, String) {
    let text = format!("timestep 0.1 ms\n{body}");
    match parse(&text, &Overrides::new()) {
        Err(SnnError::Lower(es)) => (es[0].kind, es[0].message.clone()),
        other => panic!("expected a semantic error, got {other:?}"),
    }
}

fn constant(expr: &str) -> f64 {
    let n = net(&format!("const x = {expr}\npopulation p[1] : integrator {{ r = x / (1 {}) }}", unit_of(expr)));
    let (_, p) = n.populations.iter().next().expect("population");
    let NeuronModel::Integrator(m) = &p.model else { panic!() };
    m.r
}

fn unit_of(expr: &str) -> &'static str {
    if expr.contains("ms") {
        "ms"
    } else if expr.contains("nA") {
        "nA"
    } else {
        ""
    }
}

#[test]
fn arithmetic_units_and_functions() {
    assert!((constant("1 + 2 * 3 ^ 2") - 19.0).abs() < 1e-12);
    assert!((constant("2 ms + 500 us") - 2.5).abs() < 1e-12);
    assert!((constant("sqrt(4) * ln(exp(3))") - 6.0).abs() < 1e-12);
    assert!((constant("round(2.5) + floor(-0.5) + ceil(0.2) + abs(-1)") - 4.0).abs() < 1e-12);
    assert!((constant("min(3, 1, 2) + max(1, 5)") - 6.0).abs() < 1e-12);
    // A unit binds to its number: 1 / 10 ms is 1 / (10 ms), and 20 mV / 1 GOhm is a current.
    assert!((constant("20 mV / 1 GOhm / 1 pA") - 20.0).abs() < 1e-9);
    let n = net(
        "def double(a) = 2 * a\nconst y = double(3 ms)\npopulation p[1] : lif { tau = y, r = 1, v_leak = 0, v_threshold = 1 }",
    );
    let NeuronModel::Lif(m) = &n.populations.iter().next().expect("pop").1.model else { panic!() };
    assert!((m.tau - 6e-3).abs() < 1e-15);
}

#[test]
fn dimension_errors_are_caught() {
    assert_eq!(lower_error("const x = 1 ms + 1 mV").0, LowerErrorKind::Dimension);
    assert_eq!(lower_error("const x = sqrt(2 ms)").0, LowerErrorKind::Dimension);
    assert_eq!(lower_error("const x = 2 ^ (1 ms)").0, LowerErrorKind::Dimension);
    assert_eq!(
        lower_error("population p[1] : lif { tau = 1, r = 1, v_leak = 0, v_threshold = 1 }").0,
        LowerErrorKind::Dimension
    );
    let (kind, msg) = lower_error("const x = 1 parsec");
    assert_eq!(kind, LowerErrorKind::UnknownUnit, "{msg}");
    let (kind, msg) = lower_error("population p[1] : lif { tau = 1 ms, r = 1, v_leak = 0, v_threshold = 1, bias = 2 }");
    assert_eq!(kind, LowerErrorKind::UnknownKey);
    assert!(msg.contains("unknown parameter `bias`"), "{msg}");
    assert_eq!(lower_error("const ms = 1").1, "`ms` is a unit or builtin function name");
    assert_eq!(lower_error("const a = b").0, LowerErrorKind::UnknownName);
    assert_eq!(lower_error("population p[2.5] : integrator { r = 1 }").0, LowerErrorKind::Invalid);
    assert_eq!(lower_error("population p[1] : hodgkin_huxley { }").0, LowerErrorKind::UnknownName);
}

#[test]
fn every_statement_lowers() {
    let n = net(r#"
population a[4] : if_curr_exp { tau_m = 20 ms, cm = 1 nF, v_rest = -65 mV, v_reset = -70 mV, v_thresh = -50 mV,
    tau_refrac = 2 ms, tau_syn_e = 5 ms, tau_syn_i = 10 ms, v_init = normal(mean = -60 mV, sd = 2 mV, max = -51 mV) }
population b[4] : cuba_lif { tau_syn = 5 ms, tau_mem = 10 ms, r = 1, v_leak = 0, v_threshold = 1 }
source s[2] : spikes { times = [[1 ms, 2 ms], [3 ms]] }
source noise[3] : poisson { rate = 10 Hz }
projection s -> a : all_to_all { weight = 1 nA, delay = 1 ms }
projection a -> a : fixed_probability(0.5, autapses = false) { weight = uniform(-1 nA, 0 nA), receptor = inhibitory }
projection a -> b : dense([[1, 0, 0, 0], [0, 2, 0, 0], [0, 0, 3, 0], [0, 0, 0, 4]]) { delay = 0.2 ms }
projection noise -> b : sparse(pre = [0, 2], post = [3, 1]) { weight = [0.5, 0.25] }
gap b -> b : one_to_one { weight = 0.1 }
current a : dc { amplitude = 100 pA, start = 10 ms, stop = 20 ms }
current b : step { times = [0 ms, 5 ms], amplitudes = [1, 0] }
probe a : spikes
probe b[1..3] : v
"#);
    assert_eq!(n.populations.len(), 2);
    let (_, a) = n.populations.iter().next().expect("a");
    assert_eq!(a.v_init, Some(Values::Normal { mean: -60e-3, sd: 2e-3, min: None, max: Some(-51e-3) }));
    let (_, s) = n.sources.iter().next().expect("s");
    assert_eq!(s.kind, SourceKind::SpikeArray { times: vec![vec![1e-3, 2e-3], vec![3e-3]] });
    let projs: Vec<_> = n.projections.iter().map(|(_, p)| p).collect();
    assert_eq!(projs.len(), 4);
    assert!(matches!(projs[0].pre, Node::Source(_)));
    assert_eq!(projs[0].delay, Values::Const(1e-3));
    assert_eq!(projs[1].connector, Connector::FixedProbability { p: 0.5, autapses: false });
    assert_eq!(projs[1].receptor, Receptor::Inhibitory);
    assert_eq!(projs[1].delay, Values::Const(1e-4), "the default delay is one time step");
    assert!(matches!(&projs[2].connector, Connector::Dense { matrix } if matrix.len() == 16 && matrix[5] == 2.0));
    assert!(projs[2].weight.is_none());
    assert_eq!(projs[3].connector, Connector::Sparse { offsets: vec![0, 1, 1, 2], targets: vec![3, 1] });
    assert_eq!(n.gap_junctions.len(), 1);
    let currents: Vec<_> = n.currents.iter().map(|(_, c)| c.kind.clone()).collect();
    assert_eq!(currents[0], CurrentKind::Dc { amplitude: Values::Const(100e-12), start: 10e-3, stop: Some(20e-3) });
    let probes: Vec<_> = n.probes.iter().map(|(_, p)| (p.kind, p.neurons.clone())).collect();
    assert_eq!(probes, vec![(ProbeKind::Spikes, None), (ProbeKind::V, Some(1..3))]);
    soma_compiler::valid::validate(&n).expect("valid");
}

#[test]
fn overrides_keep_units() {
    let text = "timestep 0.1 ms\nconst tau = 10 ms\npopulation p[1] : li { tau = tau, r = 1, v_leak = 0 }";
    let mut o = Overrides::new();
    o.insert("tau".into(), (0.02, soma_isa::units::Dim::TIME));
    let n = parse(text, &o).expect("parses");
    let NeuronModel::Li(m) = &n.populations.iter().next().expect("p").1.model else { panic!() };
    assert_eq!(m.tau, 0.02);
    o.insert("tau".into(), (0.02, soma_isa::units::Dim::VOLTAGE));
    assert!(parse(text, &o).is_err());
}
