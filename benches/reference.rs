//! Benchmarks of the front end and the float reference simulator.
//!
//! Read the results as ratios within one run: `reference/cuba_1s` against `baseline/decay_floor` (the same
//! number of neuron-steps doing one multiply-add each, the floor for any clock-driven simulator), and
//! `reference/silent_1s` against `reference/cuba_1s` (the same 4,000 neurons with no input, whose currents and
//! potentials decay towards zero: per neuron-step it must not be slower than the active network, which it would be
//! many times over if the state sank into subnormal floats; issue 16), `plasticity/dense_1s` against
//! `plasticity/dense_static_1s` (examples/stdp_dense.snn with and without its STDP rule: the same input spikes,
//! so the ratio of times is the inverse ratio of synaptic events per wall second),
//! and `ir/microcircuit_full_scale` against
//! `ir/cuba` (parse + validate cost grows with the text, not the synapses).

use criterion::{Criterion, criterion_group, criterion_main};
use soma_compiler::front::snn::{Overrides, parse};
use soma_compiler::instantiate::instantiate;
use soma_compiler::valid::validate;
use soma_runtime::reference::{RunOptions, Simulator};

fn network(path: &str) -> soma_compiler::ir::Network {
    let text = std::fs::read_to_string(path).expect("example exists");
    let net = parse(&text, &Overrides::new()).expect("example parses");
    validate(&net).expect("example is valid");
    net
}

fn benches(c: &mut Criterion) {
    // Paths are the repository's (examples/, tests/data/): this package is benches/.
    std::env::set_current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/..")).expect("the repository root");
    let mut g = c.benchmark_group("reference");
    g.sample_size(10);
    let net = network("examples/cuba.snn");
    let inst = instantiate(&validate(&net).expect("valid"), 1).expect("instantiates");
    g.bench_function("cuba_1s", |b| {
        b.iter(|| Simulator::new(&inst).run(&RunOptions { steps: 10_000, record_all_spikes: false }, |_| {}))
    });
    // CUBA's neurons and starting potentials without a synapse: everything decays, nothing fires after the
    // first volley.
    let silent = parse(
        "timestep 0.1 ms\npopulation quiet[4000] : if_curr_exp { tau_m = 20 ms, cm = 1 nF, v_rest = -60 mV, \
         v_reset = -60 mV, v_thresh = -50 mV, tau_refrac = 5 ms, tau_syn_e = 5 ms, tau_syn_i = 10 ms, \
         v_init = uniform(-60 mV, -50 mV) }\n",
        &Overrides::new(),
    )
    .expect("parses");
    let quiet = instantiate(&validate(&silent).expect("valid"), 1).expect("instantiates");
    g.bench_function("silent_1s", |b| {
        b.iter(|| Simulator::new(&quiet).run(&RunOptions { steps: 10_000, record_all_spikes: false }, |_| {}))
    });
    g.finish();

    let mut g = c.benchmark_group("plasticity");
    g.sample_size(10);
    // examples/stdp_dense.snn: 200 Poisson inputs onto 1,000 neurons (2e5 synapses, about 4e6 synaptic events and
    // 17 Hz out per second).
    let plastic = instantiate(&validate(&network("examples/stdp_dense.snn")).expect("valid"), 1).expect("instantiates");
    let mut fixed = plastic.clone();
    for p in &mut fixed.projections {
        p.plasticity = None;
    }
    for (name, inst) in [("dense_1s", &plastic), ("dense_static_1s", &fixed)] {
        g.bench_function(name, |b| {
            b.iter(|| Simulator::new(inst).run(&RunOptions { steps: 10_000, record_all_spikes: false }, |_| {}))
        });
    }
    g.finish();

    let mut g = c.benchmark_group("baseline");
    g.sample_size(10);
    g.bench_function("decay_floor", |b| {
        b.iter(|| {
            let mut v = vec![1.0f64; 4000];
            for _ in 0..10_000 {
                for x in v.iter_mut() {
                    *x = *x * 0.995 + 0.001;
                }
            }
            std::hint::black_box(v)
        })
    });
    g.finish();

    let mut g = c.benchmark_group("ir");
    for (name, path) in [("cuba", "examples/cuba.snn"), ("microcircuit_full_scale", "examples/microcircuit.snn")] {
        let text = std::fs::read_to_string(path).expect("example exists");
        g.bench_function(name, |b| {
            b.iter(|| {
                let net = parse(&text, &Overrides::new()).expect("parses");
                validate(&net).expect("valid");
                net
            })
        });
    }
    g.finish();
}

criterion_group!(reference, benches);
criterion_main!(reference);
