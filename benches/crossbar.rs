//! The crossbar emulation's speed: 0.2 s of CUBA on `reram_128` (8,000 tiles), ideal and with every non-ideality
//! (read noise draws one Gaussian per column read), next to the float reference on the same instance as the
//! baseline in the same group. Report the crossbar's times as ratios against `reference_cuba_0.2s`.

use criterion::{Criterion, criterion_group, criterion_main};
use soma_compiler::crossbar::compile;
use soma_compiler::front::snn::{Overrides, parse};
use soma_compiler::instantiate::instantiate;
use soma_runtime::crossbar::{Nonideal, run};
use soma_runtime::reference::{RunOptions, Simulator};
use soma_targets::lookup;

fn benches(c: &mut Criterion) {
    // Paths are the repository's (examples/, tests/data/): this package is benches/.
    std::env::set_current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/..")).expect("the repository root");
    let target = lookup("reram_128").expect("preset");
    let xb = target.crossbar().expect("a crossbar preset");
    let text = std::fs::read_to_string("examples/cuba.snn").expect("example");
    let net = parse(&text, &Overrides::new()).expect("parses");
    let inst = instantiate(&soma_compiler::valid::validate(&net).expect("valid"), 1).expect("instantiates");
    let (program, _) = compile(&inst, xb, &target.name, target.fingerprint).expect("compiles");
    let opts = RunOptions { steps: 2_000, record_all_spikes: false };
    let mut g = c.benchmark_group("crossbar_reram_128");
    g.sample_size(10);
    g.bench_function("reference_cuba_0.2s", |b| b.iter(|| Simulator::new(&inst).run(&opts, |_| ()).synaptic_events));
    g.bench_function("ideal_cuba_0.2s", |b| {
        b.iter(|| run(&inst, &program, xb, &Nonideal::default(), &opts, None).ledger.tile_reads)
    });
    let all = Nonideal::from_preset(xb);
    g.bench_function("nonideal_cuba_0.2s", |b| {
        b.iter(|| run(&inst, &program, xb, &all, &opts, None).ledger.tile_reads)
    });
    g.finish();
}

criterion_group!(crossbar_benches, benches);
criterion_main!(crossbar_benches);
