//! The reference simulator against numbers printed by NEST 3.10 for the same single-neuron setups (scripts in
//! `tools/nest/`; the values are copied here so the tests need no Python).

use soma_isa::instance::{
    Instance, PopulationInstance, Pre, ProbeInstance, ProjectionInstance, Rows, SourceInstance, SourceKind, Variable,
};
use soma_isa::model::{IfCurrExp, Izhikevich, NeuronModel, Receptor};
use soma_runtime::reference::{RunOptions, Simulator};

fn one_neuron(model: NeuronModel, v0: f64) -> Instance {
    Instance {
        dt: 1e-4,
        populations: vec![PopulationInstance { name: "n".into(), model, v_init: vec![v0] }],
        sources: Vec::new(),
        projections: Vec::new(),
        gap_junctions: Vec::new(),
        currents: Vec::new(),
        probes: vec![
            ProbeInstance { population: 0, variable: Variable::V, neurons: vec![0] },
            ProbeInstance { population: 0, variable: Variable::Spikes, neurons: vec![0] },
        ],
        seed: 1,
    }
}

fn spike_input(inst: &mut Instance, step: u32, delay_steps: u16, weight: f32, receptor: Receptor) {
    let k = inst.sources.len();
    inst.sources.push(SourceInstance {
        name: format!("s{k}"),
        size: 1,
        kind: SourceKind::SpikeArray { steps: vec![vec![step]] },
    });
    inst.projections.push(ProjectionInstance {
        name: format!("s{k}->n"),
        pre: Pre::Source(k),
        post: 0,
        receptor,
        rows: Rows { offsets: vec![0, 1], targets: vec![0], weights: vec![weight], delays: vec![delay_steps] },
        plasticity: None,
    });
}

/// tools/nest/psp.py: iaf_psc_exp (C 250 pF, tau_m 10 ms, tau_syn 2 / 0.5 ms) hit by +1000 pA at 1 ms and 4 ms
/// (delay 1 ms) and -500 pA at 3 ms (delay 0.5 ms); V_m from a multimeter at 0.1 ms resolution.
#[test]
fn iaf_psc_exp_psp_trace_matches_nest() {
    let model = NeuronModel::IfCurrExp(IfCurrExp {
        tau_m: 10e-3,
        cm: 250e-12,
        v_rest: -65e-3,
        v_reset: -65e-3,
        v_thresh: -50e-3,
        tau_refrac: 2e-3,
        tau_syn_e: 2e-3,
        tau_syn_i: 0.5e-3,
        i_offset: 0.0,
    });
    let mut inst = one_neuron(model, -65e-3);
    // A spike at time t has the stamp round(t / dt).
    spike_input(&mut inst, 10, 10, 1000e-12, Receptor::Excitatory);
    spike_input(&mut inst, 40, 10, 1000e-12, Receptor::Excitatory);
    spike_input(&mut inst, 30, 5, -500e-12, Receptor::Inhibitory);
    let r = Simulator::new(&inst).run(&RunOptions { steps: 100, record_all_spikes: false }, |_| {});
    let nest = [
        (1.9, -65.000000000000),
        (2.0, -65.000000000000),
        (2.1, -64.611795907515),
        (2.2, -64.246387447292),
        (3.0, -62.016932416767),
        (3.5, -61.116585763160),
        (3.6, -61.152187625901),
        (5.0, -60.676720350517),
        (5.1, -60.253891962475),
        (8.0, -55.503931340371),
    ];
    for (t_ms, v_mv) in nest {
        // Trace entry k is the state at the end of step k, time (k + 1) dt.
        let k = (t_ms * 10.0_f64).round() as usize - 1;
        let got = r.traces[0].values[k] * 1e3;
        // Weights are stored as f32 (relative precision 6e-8): that, not the integration, bounds the agreement.
        assert!((got - v_mv).abs() < 1e-6, "t = {t_ms} ms: soma {got} mV, NEST {v_mv} mV");
    }
    assert_eq!(r.spike_counts, vec![0]);
}

/// tools/nest/izhikevich.py: NEST's `izhikevich` (regular spiking, I_e = 10) spikes at these times (ms).
#[test]
fn izhikevich_spike_times_match_nest() {
    let model =
        NeuronModel::Izhikevich(Izhikevich { a: 20.0, b: 0.2, c: -65e-3, d: 8e-3, v_peak: 30e-3, i_offset: 10e-3 });
    let inst = one_neuron(model, -65e-3);
    let r = Simulator::new(&inst).run(&RunOptions { steps: 2000, record_all_spikes: false }, |_| {});
    let times: Vec<f64> =
        r.spikes[0].iter().map(|&(step, _)| ((step as f64 + 1.0) * 0.1 * 10.0).round() / 10.0).collect();
    assert_eq!(times, vec![3.4, 27.1, 72.2, 117.3, 162.4]);
}
