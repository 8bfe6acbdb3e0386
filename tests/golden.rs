//! Golden tests in the style of naga's snapshots and cranelift's filetests: every network in `tests/in/` through
//! every family (`spinnaker1`, `reram_128`, `sfq_mitll`) to `tests/out/<target>/`: the mapping report of
//! `compile --json`, the summary of a short `run --json` (50 ms), or the diagnostics of a refusal. Wall times,
//! the constants table and the raster are left out (they are checked elsewhere); everything else is pinned.
//!
//! A change that moves an output fails here with the first differing line; review it like code and re-bless with
//! `SOMA_BLESS=1 cargo test --test golden`, then read the diff of `tests/out/`.

mod common;

use std::path::Path;

use common::{soma, stderr, stdout};

const TARGETS: &[&str] = &["spinnaker1", "reram_128", "sfq_mitll"];

/// Keys whose values change from run to run, or that other tests pin.
const VOLATILE: &[&str] =
    &["wall_s", "passes", "events_per_wall_s", "pulses_per_wall_s", "run_s", "build_s", "target_constants", "raster"];

fn normalise(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            map.retain(|k, _| !VOLATILE.contains(&k.as_str()));
            map.values_mut().for_each(normalise);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(normalise),
        _ => {}
    }
}

/// The command's golden text: its JSON without volatile fields, or `exit N` and its diagnostics.
fn output(args: &[&str]) -> String {
    let o = soma(args);
    if !o.status.success() {
        return format!("exit {}\n{}", o.status.code().unwrap_or(-1), stderr(&o));
    }
    let mut v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
    normalise(&mut v);
    serde_json::to_string_pretty(&v).expect("json") + "\n"
}

/// Compares `got` with the golden file (or writes it under `SOMA_BLESS=1`); returns a mismatch description.
fn check(path: &Path, got: &str) -> Option<String> {
    if std::env::var_os("SOMA_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().expect("folder")).expect("mkdir");
        std::fs::write(path, got).expect("bless");
        return None;
    }
    let want = std::fs::read_to_string(path).unwrap_or_default();
    if want == got {
        return None;
    }
    let line = want
        .lines()
        .zip(got.lines())
        .position(|(a, b)| a != b)
        .unwrap_or(want.lines().count().min(got.lines().count()));
    Some(format!(
        "{}: line {}: expected `{}`, got `{}`",
        path.display(),
        line + 1,
        want.lines().nth(line).unwrap_or("(end)"),
        got.lines().nth(line).unwrap_or("(end)")
    ))
}

#[test]
fn every_input_through_every_family_matches_its_golden_output() {
    let mut inputs: Vec<_> = std::fs::read_dir("tests/in").expect("tests/in").flatten().map(|e| e.path()).collect();
    inputs.sort();
    assert!(inputs.len() >= 4, "the golden inputs are there");
    let mut mismatches = Vec::new();
    for input in &inputs {
        let file = input.to_str().expect("path");
        let stem = input.file_stem().and_then(|s| s.to_str()).expect("name");
        for target in TARGETS {
            let out = Path::new("tests/out").join(target);
            let compile = output(&["compile", file, "--target", target, "--json", "-q"]);
            mismatches.extend(check(&out.join(format!("{stem}.compile.json")), &compile));
            let run = output(&["run", file, "--target", target, "--duration", "50ms", "--json", "-q"]);
            mismatches.extend(check(&out.join(format!("{stem}.run.json")), &run));
        }
    }
    assert!(
        mismatches.is_empty(),
        "outputs moved (re-bless with SOMA_BLESS=1 after review):\n{}",
        mismatches.join("\n")
    );
}

#[test]
fn every_bundled_example_runs_on_every_preset_or_is_refused_by_name() {
    // Every preset (whatever its family) and every example: a short run succeeds, or exits 1 saying what the
    // family cannot do; never a crash (exit 2) or a silent pass of something unsupported.
    // Networks are the .snn files; examples/ also holds their data (ca3_cam.recall.csv).
    let mut examples: Vec<_> = std::fs::read_dir("examples")
        .expect("examples")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "snn"))
        .collect();
    examples.sort();
    let mut ran = 0;
    for (preset, _) in soma_targets::presets() {
        for example in &examples {
            let file = example.to_str().expect("path");
            let mut args = vec!["run", file, "--target", preset, "--duration", "2ms", "-q"];
            if file.ends_with("microcircuit.snn") {
                args.extend(["--set", "scale=0.01"]);
            }
            let o = soma(&args);
            let plastic = std::fs::read_to_string(example).expect("example").contains("plasticity =");
            match o.status.code() {
                Some(0) => ran += 1,
                Some(1) if plastic => {
                    let err = stderr(&o);
                    assert!(
                        err.contains("cannot run a plastic projection") || err.contains("cannot be lowered: "),
                        "{preset} {file}: {err}"
                    )
                }
                Some(1) => assert!(stderr(&o).starts_with("error: "), "{preset} {file}: {}", stderr(&o)),
                other => panic!("{preset} {file}: exit {other:?}: {}", stderr(&o)),
            }
        }
    }
    // Only the SpiNNaker family learns (docs/plasticity.md): the examples with STDP are refused elsewhere, and a
    // third factor there.
    let fixed =
        examples.iter().filter(|e| !std::fs::read_to_string(e).expect("example").contains("plasticity =")).count();
    assert!(ran >= fixed * 3, "most combinations run ({ran})");
}
