//! Reference-simulator behaviour against closed forms: gap-junction coupling, NIR models, sources and currents.

use soma_isa::instance::{
    CurrentInstance, GapInstance, Instance, PopulationInstance, Pre, ProbeInstance, ProjectionInstance, Rows,
    SourceInstance, SourceKind, Variable,
};
use soma_isa::model::{CubaLi, Li, NeuronModel, Receptor};
use soma_runtime::reference::{RunOptions, Simulator};

fn population(name: &str, model: NeuronModel, n: usize) -> PopulationInstance {
    PopulationInstance { name: name.into(), model, v_init: vec![0.0; n] }
}

fn empty(dt: f64) -> Instance {
    Instance {
        dt,
        populations: Vec::new(),
        sources: Vec::new(),
        projections: Vec::new(),
        gap_junctions: Vec::new(),
        currents: Vec::new(),
        probes: Vec::new(),
        seed: 5,
    }
}

#[test]
fn gap_junctions_reach_the_coupled_steady_state() {
    // tau dv/dt = -v + r (I + g (v_other - v)), r = 1: the fixed point is v_a = I (1 + g) / (1 + 2 g),
    // v_b = g v_a / (1 + g).
    let li = NeuronModel::Li(Li { tau: 10e-3, r: 1.0, v_leak: 0.0 });
    let mut inst = empty(1e-4);
    inst.populations = vec![population("a", li.clone(), 1), population("b", li, 1)];
    inst.gap_junctions = vec![GapInstance { a: 0, b: 1, pairs: vec![(0, 0)], weights: vec![0.5] }];
    inst.currents = vec![CurrentInstance { target: 0, change_steps: vec![0], amplitudes: vec![vec![1.0]] }];
    let mut sim = Simulator::new(&inst);
    for _ in 0..20_000 {
        sim.advance();
    }
    let (va, vb) = (sim.v(0)[0], sim.v(1)[0]);
    assert!((va - 0.75).abs() < 1e-6 && (vb - 0.25).abs() < 1e-6, "v_a {va}, v_b {vb}");
}

#[test]
fn cuba_li_response_to_a_pulse_is_the_filtered_box() {
    // tau_syn dI/dt = -I + w_in S, tau_mem dv/dt = -v + r I, with S a pulse of height w over the first step:
    // v(t) = r w_in w (g(t) - g(t - h)) with the step response g(t) = 1 - (tm e^{-t/tm} - ts e^{-t/ts}) / (tm - ts).
    let (ts, tm, r, w_in, w, h) = (2e-3, 8e-3, 3.0, 0.5, 2.0, 1e-4);
    let g = |t: f64| if t <= 0.0 { 0.0 } else { 1.0 - (tm * (-t / tm).exp() - ts * (-t / ts).exp()) / (tm - ts) };
    let mut inst = empty(h);
    inst.populations =
        vec![population("n", NeuronModel::CubaLi(CubaLi { tau_syn: ts, tau_mem: tm, r, v_leak: 0.0, w_in }), 1)];
    inst.sources =
        vec![SourceInstance { name: "s".into(), size: 1, kind: SourceKind::SpikeArray { steps: vec![vec![0]] } }];
    inst.projections = vec![ProjectionInstance {
        name: "s->n".into(),
        pre: Pre::Source(0),
        post: 0,
        receptor: Receptor::Excitatory,
        rows: Rows { offsets: vec![0, 1], targets: vec![0], weights: vec![w as f32], delays: vec![1] },
        plasticity: None,
    }];
    inst.probes = vec![ProbeInstance { population: 0, variable: Variable::V, neurons: vec![0] }];
    let result = Simulator::new(&inst).run(&RunOptions { steps: 300, record_all_spikes: false }, |_| {});
    // Stamp 0 with delay 1 is read in step 0: the pulse fills step 0, and trace entry k is the state at (k + 1) h.
    for k in 0..300 {
        let t = (k as f64 + 1.0) * h;
        let exact = r * w_in * w * (g(t) - g(t - h));
        assert!(
            (result.traces[0].values[k] - exact).abs() < 1e-12,
            "step {k}: {} vs {exact}",
            result.traces[0].values[k]
        );
    }
}

#[test]
fn poisson_sources_fire_at_their_rate_and_repeat_per_seed() {
    let mut inst = empty(1e-4);
    inst.populations = vec![population("n", NeuronModel::Li(Li { tau: 1e-2, r: 1.0, v_leak: 0.0 }), 1)];
    inst.sources =
        vec![SourceInstance { name: "p".into(), size: 100, kind: SourceKind::Poisson { rate: 50.0, stream: 1 } }];
    inst.projections = vec![ProjectionInstance {
        name: "p->n".into(),
        pre: Pre::Source(0),
        post: 0,
        receptor: Receptor::Excitatory,
        rows: Rows {
            offsets: (0..=100).collect(),
            targets: vec![0; 100],
            weights: vec![1.0; 100],
            delays: vec![1; 100],
        },
        plasticity: None,
    }];
    let run =
        |inst: &Instance| Simulator::new(inst).run(&RunOptions { steps: 20_000, record_all_spikes: false }, |_| {});
    let a = run(&inst);
    // 100 channels x 50 Hz x 2 s = 10,000 events (sd 100).
    assert!((a.synaptic_events as f64 - 10_000.0).abs() < 500.0, "{}", a.synaptic_events);
    assert_eq!(a.synaptic_events, run(&inst).synaptic_events);
    inst.seed = 6;
    assert_ne!(a.synaptic_events, run(&inst).synaptic_events);
}
