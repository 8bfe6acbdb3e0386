//! The SFQ pulse simulation's speed: 1 s of the XOR example (12,069 junctions, about 600,000 pulses) and 20 ms of
//! CUBA (58.8 million junctions), next to the float reference on the same instances as the baseline in the same
//! group. Report the SFQ times as ratios against the reference's, and pulses per wall second.

use criterion::{Criterion, criterion_group, criterion_main};
use soma_compiler::front::snn::{Overrides, parse};
use soma_compiler::instantiate::instantiate;
use soma_compiler::sfq::compile;
use soma_isa::sfq::SfqImage;
use soma_runtime::reference::{RunOptions, Simulator};
use soma_runtime::sfq::run;
use soma_targets::lookup;

fn benches(c: &mut Criterion) {
    // Paths are the repository's (examples/, tests/data/): this package is benches/.
    std::env::set_current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/..")).expect("the repository root");
    let target = lookup("sfq_mitll").expect("preset");
    let lib = target.sfq().expect("an SFQ preset");
    let mut g = c.benchmark_group("sfq_mitll");
    g.sample_size(10);
    for (file, steps, name) in [("examples/xor_sfq.snn", 1_000, "xor_1s"), ("examples/cuba.snn", 200, "cuba_20ms")] {
        let text = std::fs::read_to_string(file).expect("example");
        let net = parse(&text, &Overrides::new()).expect("parses");
        let inst = instantiate(&soma_compiler::valid::validate(&net).expect("valid"), 1).expect("instantiates");
        let (program, _) = compile(&inst, lib, &target.name, target.fingerprint).expect("lowers");
        let image = SfqImage { program, network: inst, target_text: String::new() };
        let opts = RunOptions { steps, record_all_spikes: false };
        g.bench_function(format!("reference_{name}"), |b| {
            b.iter(|| Simulator::new(&image.network).run(&opts, |_| ()).synaptic_events)
        });
        g.bench_function(format!("sfq_{name}"), |b| b.iter(|| run(&image, lib, steps, None, |_| ()).ledger.pulses));
    }
    g.finish();
}

criterion_group!(sfq_benches, benches);
criterion_main!(sfq_benches);
