//! The NIR frontend on the reference files: every file imports and validates, broken files are rejected with a
//! message naming the node and the problem, and mutated files never panic.

use std::path::PathBuf;

use proptest::prelude::*;
use soma_compiler::front::nir::import;
use soma_compiler::valid::validate;

fn data(path: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/nir")).join(path)
}

fn bytes(path: &str) -> Vec<u8> {
    std::fs::read(data(path)).expect("test file")
}

#[test]
fn every_reference_file_imports_and_validates() {
    let mut count = 0;
    for dir in ["nodes", "paper", ""] {
        for entry in std::fs::read_dir(data(dir)).expect("dir").flatten() {
            let p = entry.path();
            if p.extension().is_some_and(|e| e == "nir") {
                let imported = import(std::fs::read(&p).expect("read"), 1e-4).unwrap_or_else(|e| panic!("{p:?}: {e}"));
                validate(&imported.network).unwrap_or_else(|e| panic!("{p:?}: {e:?}"));
                assert!(!imported.network.populations.is_empty(), "{p:?} has something to simulate");
                count += 1;
            }
        }
    }
    assert_eq!(count, 16 + 3 + 3, "all node, paper and composite files");
}

#[test]
fn broken_files_are_rejected_with_the_node_and_the_problem() {
    let cases = [
        ("bad/empty.nir", "the file is empty"),
        ("bad/not_hdf5.nir", "not an HDF5 file"),
        ("bad/truncated.nir", "HDF5"),
        ("bad/unknown_node_type.nir", "node `lif`: unknown NIR node type `Hodgkin`"),
        ("bad/missing_parameter.nir", "node `lif`: LIF is missing parameter `tau`"),
        ("bad/edge_to_missing_node.nir", "edge `lif -> ghost`: there is no node `ghost`"),
        ("bad/shape_mismatch.nir", "edge `input -> fc`: `input` produces 5 values but `fc` takes 4"),
        (
            "bad/invalid_values.nir",
            "node `lif`: parameter `tau` is -0.009999999776482582 s at neuron 1, but it must be greater than zero",
        ),
    ];
    for (file, message) in cases {
        let err = import(bytes(file), 1e-4).expect_err(file).to_string();
        assert!(err.contains(message), "{file}: {err}");
    }
}

#[test]
fn corrupted_sizes_are_refused_before_anything_is_allocated() {
    let cases = [
        ("hostile/huge_weight_extent.nir", "/node/nodes/fc/weight: shape [10, 1778384960] of 4-byte values is more"),
        ("hostile/huge_parameter_extent.nir", "/node/nodes/if1/r: shape [4, 8323080, 8] of 4-byte values is more"),
        ("hostile/conv_bias_too_long.nir", "node `conv`: bias has 8126468 values for 4 output channels"),
        // Found by tests/mutations.rs: no values, but a first dimension of 2^63 that a conv's bias was sized by.
        (
            "hostile/zero_dimension_hides_a_huge_one.nir",
            "/node/nodes/conv2d/weight: shape [9223372036854775812, 0, 3, 3] of 4-byte values is more",
        ),
    ];
    for (file, message) in cases {
        let err = import(bytes(file), 1e-4).expect_err(file).to_string();
        assert!(err.contains(message), "{file}: {err}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Flipped, overwritten and truncated bytes of real files end in an import or an error, never a panic.
    #[test]
    fn mutated_files_never_panic(file in proptest::sample::select(&["nodes/lif.nir", "csnn_small.nir", "nested_subgraph.nir", "paper/lif_norse.nir"][..]),
                                 edits in proptest::collection::vec((any::<proptest::sample::Index>(), any::<u8>()), 1..8),
                                 cut in any::<proptest::sample::Index>(), truncate in any::<bool>()) {
        let mut b = bytes(file);
        for (at, value) in edits {
            let i = at.index(b.len());
            b[i] = value;
        }
        if truncate {
            let n = cut.index(b.len());
            b.truncate(n);
        }
        if let Ok(imported) = import(b, 1e-4) {
            let _ = validate(&imported.network);
        }
    }
}
