#![allow(dead_code)] // each test crate uses a different subset of the helpers
//! Helpers shared by the end-to-end tests: run the `soma` binary, read its output, make scratch folders.

use std::path::PathBuf;
use std::process::{Command, Output};

/// The instance of a `.snn` text, instantiated with `seed` (panics with the diagnostics on a mistake in the text).
pub fn instance(text: &str, seed: u64) -> soma_isa::instance::Instance {
    use soma_compiler::front::snn::{Overrides, parse};
    let net = parse(text, &Overrides::new()).unwrap_or_else(|e| panic!("{:?}", e.diagnostics(text)));
    soma_compiler::instantiate::instantiate(&soma_compiler::valid::validate(&net).expect("valid"), seed)
        .expect("instantiates")
}

/// Runs `soma` with `args` from the repository root.
pub fn soma(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_soma"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("soma runs")
}

/// Runs `soma` with `args`, which must succeed and print JSON: the JSON.
pub fn run_json(args: &[&str]) -> serde_json::Value {
    let o = soma(args);
    assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    serde_json::from_slice(&o.stdout).expect("json")
}

/// The standard output as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The standard error as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A fresh scratch folder for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("soma-test-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Runs `soma COMMAND lif_norse.nir --dt 0.1ms --duration 100ms ...` (`command` with its extra options) on the
/// NIR paper's input, in `dir`: the spike times it writes (the CSV's first column, as written) and the steps in
/// which the exact reference fires.
pub fn lif_norse_on_the_papers_input(dir: &std::path::Path, command: &[&str]) -> (Vec<String>, Vec<usize>) {
    let (input, expected) = lif_exact_input(dir);
    let spikes = dir.join("spikes.csv");
    let options = ["--dt", "0.1ms", "--duration", "100ms", "--input", input.to_str().expect("path"), "--spikes"];
    let args = [command, &["tests/data/nir/paper/lif_norse.nir"], &options, &[spikes.to_str().expect("path"), "-q"]];
    let o = soma(&args.concat());
    assert!(o.status.success(), "{}", stderr(&o));
    let times = std::fs::read_to_string(&spikes)
        .expect("spikes")
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().expect("t").to_string())
        .collect();
    (times, expected)
}

/// The NIR paper's input (column 1 of `lif_exact.csv`) written as a one-column spike matrix into `dir`, and the
/// steps in which the exact reference fires.
pub fn lif_exact_input(dir: &std::path::Path) -> (PathBuf, Vec<usize>) {
    let reference = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/nir/paper/lif_exact.csv"))
        .expect("reference");
    let column = |l: &str, k: usize| l.split(',').nth(k).and_then(|x| x.parse::<f64>().ok()).expect("a number");
    let input: String = reference.lines().map(|l| format!("{}\n", column(l, 0) as u8)).collect();
    let fires = reference.lines().enumerate().filter(|(_, l)| column(l, 2) > 0.0).map(|(i, _)| i).collect();
    let path = dir.join("lif_exact_input.csv");
    std::fs::write(&path, input).expect("write");
    (path, fires)
}

/// `soma sweep ARGS --out DIR -q` in a scratch folder: the CSV's rows as maps from column name to value.
pub fn sweep_rows(name: &str, args: &[&str]) -> Vec<std::collections::HashMap<String, f64>> {
    let dir = temp_dir(name);
    let out = dir.join("sweep");
    let o = soma(&[&["sweep"], args, &["--out", out.to_str().expect("path"), "-q"]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    let csv = stdout(&o);
    let header: Vec<String> = csv.lines().next().expect("header").split(',').map(str::to_string).collect();
    let rows = csv
        .lines()
        .skip(1)
        .map(|l| header.iter().cloned().zip(l.split(',').map(|x| x.parse().expect("number"))).collect())
        .collect();
    std::fs::remove_dir_all(&dir).expect("cleanup");
    rows
}

/// The steps of spike times `t = (step + 1) dt` written as text, at the NIR paper's dt of 0.1 ms.
pub fn paper_steps(times: &[String]) -> Vec<usize> {
    times.iter().map(|t| (t.parse::<f64>().expect("a time") / 1e-4).round() as usize - 1).collect()
}

/// `examples/stdp_dense.snn` without its rule, written into `dir`: the same network with fixed weights.
pub fn stdp_dense_without_rule(dir: &std::path::Path) -> PathBuf {
    let text = std::fs::read_to_string("examples/stdp_dense.snn").expect("example");
    let (start, end) = (text.find("    plasticity =").expect("a rule"), text.rfind("    ),\n").expect("its end") + 7);
    let file = dir.join("static.snn");
    std::fs::write(&file, format!("{}{}", &text[..start], &text[end..])).expect("write");
    file
}

/// `soma COMMAND... examples/ca3_cam.snn` over its recall phase with its recall tests: the mean recall and the mean
/// intrusion over the 4 tests.
pub fn ca3_recall(command: &[&str]) -> (f64, f64) {
    let mut args = command.to_vec();
    args.extend([
        "examples/ca3_cam.snn",
        "--duration",
        "2.8s",
        "--recall",
        "examples/ca3_cam.recall.csv",
        "-q",
        "--json",
    ]);
    let r = run_json(&args);
    let tests = r["recall"].as_array().expect("recall scores").clone();
    assert_eq!(tests.len(), 4, "{args:?}");
    let mean = |k: &str| tests.iter().map(|t| t[k].as_f64().expect("score")).sum::<f64>() / 4.0;
    (mean("recall"), mean("intrusion"))
}
