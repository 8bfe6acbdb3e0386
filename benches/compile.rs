//! Compile speed for the SpiNNaker-style target: the microcircuit at scale 0.2 (1.2e7 synapses) through every
//! pass, against CUBA (3.2e5 synapses) in the same run. The full-scale measurement (40 s) is in
//! docs/spinnaker.md: too long for a criterion loop.

use criterion::{Criterion, criterion_group, criterion_main};
use soma_compiler::front::snn::{Overrides, parse};
use soma_compiler::instantiate::instantiate;
use soma_compiler::spinnaker::compile;
use soma_targets::lookup;

fn benches(c: &mut Criterion) {
    // Paths are the repository's (examples/, tests/data/): this package is benches/.
    std::env::set_current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/..")).expect("the repository root");
    let target = lookup("spinnaker1").expect("preset");
    let s = target.spinnaker().expect("a SpiNNaker preset");
    let mut g = c.benchmark_group("compile_spinnaker1");
    g.sample_size(10);
    for (name, file, scale) in
        [("cuba", "examples/cuba.snn", None), ("microcircuit_0.2", "examples/microcircuit.snn", Some(0.2))]
    {
        let text = std::fs::read_to_string(file).expect("example");
        let mut o = Overrides::new();
        if let Some(x) = scale {
            o.insert("scale".into(), (x, soma_isa::units::Dim::NONE));
        }
        let net = parse(&text, &o).expect("parses");
        g.bench_function(name, |b| {
            b.iter(|| {
                let inst = instantiate(&soma_compiler::valid::validate(&net).expect("valid"), 1).expect("instantiates");
                compile(&inst, s, &target.name, target.fingerprint, 3).expect("compiles")
            })
        });
    }
    g.finish();
}

criterion_group!(compile_benches, benches);
criterion_main!(compile_benches);
