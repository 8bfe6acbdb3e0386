//! The SpiNNaker-style machine's speed: 1 s of CUBA (1.8e6 synaptic events) and 0.1 s of the microcircuit at
//! scale 0.2 (3.5e6 events), images compiled here, each next to the float reference on the same instance
//! (`reference_cuba_1s`, `reference_microcircuit_0.2_100ms`) as the baseline in the same group: report the
//! machine's times as ratios against those, and synaptic events per wall second. The full-scale figure is in
//! docs/runtime.md. `plastic_dense_1s` against `static_dense_1s`: 1 s of
//! examples/stdp_dense.snn with and without its STDP rule (4e6 synaptic events either way: the same inputs).

use criterion::{Criterion, criterion_group, criterion_main};
use soma_compiler::front::snn::{Overrides, parse};
use soma_compiler::instantiate::instantiate;
use soma_compiler::spinnaker::compile;
use soma_runtime::reference::{RunOptions, Simulator};
use soma_runtime::spinnaker::Machine;
use soma_targets::lookup;

fn benches(c: &mut Criterion) {
    // Paths are the repository's (examples/, tests/data/): this package is benches/.
    std::env::set_current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/..")).expect("the repository root");
    let target = lookup("spinnaker1").expect("preset");
    let s = target.spinnaker().expect("a SpiNNaker preset");
    let mut g = c.benchmark_group("machine_spinnaker1");
    g.sample_size(10);
    for (name, file, scale, steps, boards) in [
        ("cuba_1s", "examples/cuba.snn", None, 10_000, 1),
        ("microcircuit_0.2_100ms", "examples/microcircuit.snn", Some(0.2), 1_000, 3),
    ] {
        let text = std::fs::read_to_string(file).expect("example");
        let mut o = Overrides::new();
        if let Some(x) = scale {
            o.insert("scale".into(), (x, soma_isa::units::Dim::NONE));
        }
        let net = parse(&text, &o).expect("parses");
        let inst = instantiate(&soma_compiler::valid::validate(&net).expect("valid"), 1).expect("instantiates");
        let (image, _) = compile(&inst, s, &target.name, target.fingerprint, boards).expect("compiles");
        let opts = RunOptions { steps, record_all_spikes: false };
        g.bench_function(format!("reference_{name}"), |b| {
            b.iter(|| Simulator::new(&inst).run(&opts, |_| ()).synaptic_events)
        });
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut m = Machine::new(&image, s, target.fingerprint).expect("loads");
                for _ in 0..steps {
                    m.advance();
                }
                m.counters().iter().map(|c| c.synaptic_events).sum::<u64>()
            })
        });
    }
    let text = std::fs::read_to_string("examples/stdp_dense.snn").expect("example");
    let net = parse(&text, &Overrides::new()).expect("parses");
    let plastic = instantiate(&soma_compiler::valid::validate(&net).expect("valid"), 1).expect("instantiates");
    let mut fixed = plastic.clone();
    for p in &mut fixed.projections {
        p.plasticity = None;
    }
    for (name, inst) in [("plastic_dense_1s", &plastic), ("static_dense_1s", &fixed)] {
        let (image, _) = compile(inst, s, &target.name, target.fingerprint, 1).expect("compiles");
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut m = Machine::new(&image, s, target.fingerprint).expect("loads");
                for _ in 0..10_000 {
                    m.advance();
                }
                m.counters().iter().map(|c| c.synaptic_events).sum::<u64>()
            })
        });
    }
    g.finish();
}

criterion_group!(machine_benches, benches);
criterion_main!(machine_benches);
