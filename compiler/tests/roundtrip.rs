//! Printing a network as .snn and reading it back gives the same network: checked on the instantiated
//! networks (every neuron parameter, synapse, weight, delay, input and probe) for the bundled examples, every NIR
//! reference file and a connectome.

use std::path::Path;

use soma_compiler::front::edges::{self, EdgeOptions};
use soma_compiler::front::nir;
use soma_compiler::front::snn::print::print;
use soma_compiler::front::snn::{Overrides, parse};
use soma_compiler::instantiate::instantiate;
use soma_compiler::ir::{ModelKind, Network};
use soma_compiler::valid::validate;

fn round_trip(net: &Network, what: &str) {
    let valid = validate(net).unwrap_or_else(|e| panic!("{what}: {e:?}"));
    let text = print(net, &["round trip".into()]);
    let again =
        parse(&text, &Overrides::new()).unwrap_or_else(|e| panic!("{what}: {:?}\n{text}", e.diagnostics(&text)));
    let valid_again = validate(&again).unwrap_or_else(|e| panic!("{what}: {e:?}"));
    assert_eq!(print(&again, &["round trip".into()]), text, "{what}: printing is a fixed point");
    let (a, b) = (instantiate(&valid, 3).expect("instantiates"), instantiate(&valid_again, 3).expect("instantiates"));
    assert_eq!(a, b, "{what}: the re-read network instantiates identically");
}

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

#[test]
fn snn_examples_round_trip() {
    let mut files: Vec<_> =
        std::fs::read_dir(root().join("examples")).expect("examples").flatten().map(|e| e.path()).collect();
    files.retain(|f| f.extension().is_some_and(|e| e == "snn"));
    files.sort();
    assert!(files.len() >= 4, "{files:?}");
    for file in files {
        let text = std::fs::read_to_string(&file).expect("example");
        let mut o = Overrides::new();
        if file.ends_with("microcircuit.snn") {
            o.insert("scale".into(), (0.05, soma_isa::units::Dim::NONE));
        }
        round_trip(&parse(&text, &o).expect("parses"), &file.display().to_string());
    }
}

#[test]
fn nir_files_round_trip() {
    for dir in ["nodes", "paper", ""] {
        for entry in std::fs::read_dir(root().join("tests/data/nir").join(dir)).expect("dir").flatten() {
            let p = entry.path();
            if p.extension().is_some_and(|e| e == "nir") {
                let imported = nir::import(std::fs::read(&p).expect("read"), 1e-4).expect("imports");
                round_trip(&imported.network, &p.display().to_string());
            }
        }
    }
}

#[test]
fn connectome_round_trips() {
    let text = std::fs::read_to_string(root().join("tests/data/connectomes/witvliet2020_adult8.csv")).expect("csv");
    for model in [ModelKind::IfCurrExp, ModelKind::Lif] {
        let mut o = EdgeOptions::defaults(model, 1e-4);
        o.drive = if model == ModelKind::Lif { 1.5 } else { 1e-9 };
        round_trip(&edges::import(&text, &o).expect("imports"), model.name());
    }
}
