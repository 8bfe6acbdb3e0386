//! The NIR and connectome frontends through the command line: import, check, simulate with spike input, and
//! export to .snn.

mod common;

use common::{lif_norse_on_the_papers_input, soma, stderr, stdout, temp_dir};

#[test]
fn lif_norse_driven_by_the_papers_input_spikes_fires_when_the_exact_reference_does() {
    let dir = temp_dir("norse");
    let (got, expected) = lif_norse_on_the_papers_input(&dir, &["simulate"]);
    // Spikes of step k are stamped (k + 1) dt; the reference fires in rows 460, 510, 710 and 760.
    assert_eq!(expected, [460, 510, 710, 760]);
    assert_eq!(got, ["0.0461", "0.0511", "0.0711", "0.0761"]);
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn nir_needs_a_time_step_and_bad_files_exit_1_naming_the_file() {
    let o = soma(&["check", "tests/data/nir/nodes/lif.nir"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("pass --dt"), "{}", stderr(&o));
    for (file, message) in [
        ("tests/data/nir/bad/unknown_node_type.nir", "node `lif`: unknown NIR node type `Hodgkin`"),
        ("tests/data/nir/bad/not_hdf5.nir", "not an HDF5 file"),
        ("tests/data/nir/bad/invalid_values.nir", "node `lif`: parameter `tau`"),
    ] {
        let o = soma(&["check", file, "--dt", "0.1ms"]);
        assert_eq!(o.status.code(), Some(1), "{file}");
        let err = stderr(&o);
        assert!(err.contains(file) && err.contains(message), "{file}: {err}");
        assert!(!err.contains("panicked"));
    }
}

#[test]
fn import_writes_snn_that_checks_the_same() {
    let dir = temp_dir("import");
    for (file, extra) in [
        ("tests/data/nir/csnn_small.nir", &["--dt", "0.1ms"][..]),
        ("tests/data/connectomes/white1986_whole.csv", &[][..]),
    ] {
        let out = dir.join("net.snn");
        let mut args = vec!["import", file, "-o", out.to_str().expect("path")];
        args.extend_from_slice(extra);
        let o = soma(&args);
        assert!(o.status.success(), "{file}: {}", stderr(&o));
        let mut check_original = vec!["check", file];
        check_original.extend_from_slice(extra);
        let original = stdout(&soma(&check_original));
        let exported = stdout(&soma(&["check", out.to_str().expect("path")]));
        let summary = |s: &str| s.lines().skip(1).collect::<Vec<_>>().join("\n");
        assert_eq!(summary(&original), summary(&exported), "{file}");
    }
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn the_c_elegans_connectome_imports_and_simulates() {
    let o = soma(&["check", "tests/data/connectomes/white1986_whole.csv"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("neurons: 299"), "{out}");
    // 2,266 chemical entries (some pairs repeat) and 1,132 electrical entries listed both ways.
    let line = out.lines().find(|l| l.starts_with("synapses:")).expect("summary");
    assert!(line.contains("gap-junction sets") && !line.contains(" 0 gap-junction sets"), "{line}");
    let o = soma(&[
        "simulate",
        "tests/data/connectomes/white1986_whole.csv",
        "--drive",
        "0.8nA",
        "--duration",
        "200ms",
        "--json",
        "-q",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(report["neurons"], 299);
    let spikes: u64 =
        report["populations"].as_array().expect("pops").iter().map(|p| p["spikes"].as_u64().expect("spikes")).sum();
    assert!(spikes > 0, "a driven connectome fires");
    let o = soma(&["check", "tests/data/connectomes/white1986_whole.csv", "--weight", "1 mV"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("expected a current (A)"), "{}", stderr(&o));
}

#[test]
fn a_nir_graph_without_input_says_its_inputs_are_silent() {
    let o = soma(&["simulate", "tests/data/nir/csnn_small.nir", "--dt", "1ms", "--duration", "5ms", "-q"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("warning:") && stderr(&o).contains("no --input"), "{}", stderr(&o));
    let dir = common::temp_dir("silent-input");
    let zeros = dir.join("zeros.csv");
    std::fs::write(&zeros, vec![vec!["0"; 128].join(","); 5].join("\n")).expect("write");
    let o = soma(&[
        "simulate",
        "tests/data/nir/csnn_small.nir",
        "--dt",
        "1ms",
        "--duration",
        "5ms",
        "--input",
        zeros.to_str().expect("path"),
        "-q",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("no spikes at all"), "{}", stderr(&o));
    std::fs::remove_dir_all(&dir).expect("cleanup");
}
