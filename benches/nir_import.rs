//! NIR import speed: a graph Input(1000) -> Linear(1000 x 1000) -> LIF(1000) -> Output, written here with the
//! HDF5 writer, imported (HDF5 read, graph, lowering) and validated. Compare with `nir_import/lif_node`, the
//! small reference file, imported in the same run.

use criterion::{Criterion, criterion_group, criterion_main};
use hdf5_pure::FileBuilder;
use soma_compiler::front::nir::import;
use soma_compiler::valid::validate;

/// A NIR 1.0 file with a `size x size` Linear layer.
fn linear_graph(size: usize) -> Vec<u8> {
    let mut b = FileBuilder::new();
    b.create_dataset("version").with_vlen_strings(&["1.0.8"]);
    let mut node = b.create_group("node");
    node.create_dataset("type").with_vlen_strings(&["NIRGraph"]);
    node.create_dataset("edges").with_vlen_strings(&["input", "fc", "fc", "lif", "lif", "output"]).with_shape(&[3, 2]);
    let mut nodes = node.create_group("nodes");
    let n = size as u64;
    let mut input = nodes.create_group("input");
    input.create_dataset("type").with_vlen_strings(&["Input"]);
    input.create_dataset("shape").with_i64_data(&[size as i64]);
    nodes.add_group(input.finish());
    let mut output = nodes.create_group("output");
    output.create_dataset("type").with_vlen_strings(&["Output"]);
    output.create_dataset("shape").with_i64_data(&[size as i64]);
    nodes.add_group(output.finish());
    let mut fc = nodes.create_group("fc");
    fc.create_dataset("type").with_vlen_strings(&["Linear"]);
    let weights: Vec<f32> = (0..size * size).map(|i| ((i * 7919 % 1000) as f32 - 500.0) / 5000.0).collect();
    fc.create_dataset("weight").with_f32_data(&weights).with_shape(&[n, n]);
    nodes.add_group(fc.finish());
    let mut lif = nodes.create_group("lif");
    lif.create_dataset("type").with_vlen_strings(&["LIF"]);
    for (name, value) in [("tau", 0.02f32), ("r", 1.0), ("v_leak", 0.0), ("v_threshold", 1.0), ("v_reset", 0.0)] {
        lif.create_dataset(name).with_f32_data(&vec![value; size]);
    }
    nodes.add_group(lif.finish());
    node.add_group(nodes.finish());
    b.add_group(node.finish());
    b.finish().expect("writes")
}

fn benches(c: &mut Criterion) {
    // Paths are the repository's (examples/, tests/data/): this package is benches/.
    std::env::set_current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/..")).expect("the repository root");
    let big = linear_graph(1000);
    let small = std::fs::read("tests/data/nir/nodes/lif.nir").expect("reference file");
    let imported = import(big.clone(), 1e-4).expect("imports");
    assert_eq!(imported.network.populations.iter().map(|(_, p)| p.size).sum::<usize>(), 1000);
    let mut g = c.benchmark_group("nir_import");
    g.sample_size(10);
    g.bench_function("linear_1000x1000", |b| {
        b.iter(|| {
            let imported = import(big.clone(), 1e-4).expect("imports");
            validate(&imported.network).expect("valid");
            imported
        })
    });
    g.bench_function("lif_node", |b| b.iter(|| import(small.clone(), 1e-4).expect("imports")));
    g.finish();
}

criterion_group!(nir_import, benches);
criterion_main!(nir_import);
