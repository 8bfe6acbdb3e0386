//! `soma compile` and `soma targets` end to end: presets, custom target files, the JSON report, images that
//! decode and validate, and the bundled networks compiling for spinnaker1.

mod common;

use common::{soma, stderr, stdout, temp_dir};

#[test]
fn targets_lists_presets_and_shows_sources() {
    let out = stdout(&soma(&["targets"]));
    assert!(out.contains("spinnaker1") && out.contains("spinnaker2"), "{out}");
    let o = soma(&["targets", "show", "spinnaker1"]);
    assert!(o.status.success());
    let out = stdout(&o);
    assert!(
        out.contains("machine.router_entries") && out.contains("1023") && out.contains("version_spin1.py"),
        "{out}"
    );
    let o = soma(&["targets", "show", "loihi9"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("no target `loihi9`"));
}

#[test]
fn compile_reports_json_and_writes_a_valid_image() {
    let dir = temp_dir("compile");
    let img = dir.join("cuba.img");
    let o =
        soma(&["compile", "examples/cuba.snn", "--target", "spinnaker1", "-o", img.to_str().expect("path"), "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    for key in [
        "target",
        "neurons",
        "synapses",
        "cores",
        "chips",
        "routing_entries_max",
        "routing_entries_max_uncompressed",
        "synaptic_bytes",
        "weight_error_rms",
        "passes",
        "wall_s",
    ] {
        assert!(!r[key].is_null(), "{key} missing");
    }
    assert_eq!(r["neurons"], 4000);
    assert_eq!(r["cores"], 17, "3200 + 800 neurons at 256 per core");
    assert!(r["weight_error_rms"].as_f64().expect("rms") < 1e-3);
    assert!(r["passes"].as_array().expect("passes").iter().any(|p| p["name"] == "route"));
    let image = soma_isa::codec::decode::<soma_isa::spinnaker::Image>(&std::fs::read(&img).expect("image"))
        .expect("decodes and validates");
    assert_eq!(image.header.target, "spinnaker1");
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn bundled_networks_compile_for_spinnaker1() {
    let dir = temp_dir("compile-all");
    let img = dir.join("x.img");
    let img = img.to_str().expect("path");
    for args in [
        vec!["compile", "examples/synfire.snn", "-o", img],
        vec!["compile", "examples/microcircuit.snn", "--set", "scale=0.1", "--boards", "auto", "-o", img],
        vec!["compile", "tests/data/nir/csnn_small.nir", "--dt", "0.1ms", "-o", img],
        vec!["compile", "tests/data/nir/rsnn_small.nir", "--dt", "0.1ms", "-o", img],
        vec!["compile", "tests/data/nir/nested_subgraph.nir", "--dt", "0.1ms", "-o", img],
        vec!["compile", "tests/data/nir/paper/lif_norse.nir", "--dt", "0.1ms", "-o", img, "--target", "spinnaker2"],
    ] {
        let o = soma(&args);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        assert!(
            soma_isa::codec::decode::<soma_isa::spinnaker::Image>(&std::fs::read(img).expect("image")).is_ok(),
            "{args:?}"
        );
    }
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn bad_targets_and_unsupported_networks_are_clear_errors() {
    let dir = temp_dir("bad-target");
    let toml = dir.join("my.toml");
    let preset = stdout(&soma(&["targets", "show", "spinnaker1"]));
    assert!(!preset.is_empty());
    std::fs::write(&toml, "name = \"x\"\nfamily = \"spinnaker\"\ndescription = \"d\"\n[machine]\n").expect("write");
    let img = dir.join("x.img");
    let o = soma(&[
        "compile",
        "examples/cuba.snn",
        "--target",
        toml.to_str().expect("path"),
        "-o",
        img.to_str().expect("path"),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("my.toml") && stderr(&o).contains("missing field"), "{}", stderr(&o));
    assert!(!img.exists(), "no image on failure");
    // Gap junctions have no SpiNNaker equivalent.
    let o = soma(&["compile", "tests/data/connectomes/white1986_whole.csv", "-o", img.to_str().expect("path")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("gap junctions"), "{}", stderr(&o));
    std::fs::remove_dir_all(&dir).expect("cleanup");
}
