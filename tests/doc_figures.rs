//! Figures in docs/ against the commands written beside them: each check reruns the command and renders the
//! figure as the doc writes it, and the doc must contain that text. A change that moves a documented figure
//! fails here until the doc says the new one. Checks that take more than a few seconds are `#[ignore]`d: run them
//! with `cargo test --release --test doc_figures -- --ignored` before changing a doc's figures.

mod common;

use common::{run_json, soma, stderr, stdout, sweep_rows};

/// Asserts that `doc` contains `figure`, naming the command that produced it.
fn documented(doc: &str, figure: &str, command: &str) {
    let text = std::fs::read_to_string(doc).expect("doc");
    assert!(text.contains(figure), "{doc} should say `{figure}` (from `{command}`)");
}

#[test]
fn runtime_md_ring_buffer_sigma_sweep() {
    let command = "soma sweep examples/xor_sfq.snn --target spinnaker1 --vary ring_buffer_sigma=5,20 --out DIR";
    let rows =
        sweep_rows("doc-rbs", &["examples/xor_sfq.snn", "--target", "spinnaker1", "--vary", "ring_buffer_sigma=5,20"]);
    let figure = format!(
        "mean rate error from {:.1}% to {:.1}% and the saturations from {} to {}",
        rows[0]["rate_error"] * 100.0,
        rows[1]["rate_error"] * 100.0,
        rows[0]["ring_buffer_saturations"],
        rows[1]["ring_buffer_saturations"]
    );
    documented("docs/runtime.md", &figure, command);
}

#[test]
fn sfq_md_xor_on_spinnaker() {
    for target in ["spinnaker1", "spinnaker2"] {
        let r = run_json(&[
            "run",
            "examples/xor_sfq.snn",
            "--target",
            target,
            "--duration",
            "1s",
            "--compare-reference",
            "--json",
            "-q",
        ]);
        let errors: Vec<f64> = r["reference"]["populations"]
            .as_array()
            .expect("populations")
            .iter()
            .map(|p| p["rate_error"].as_f64().expect("a rate error").abs())
            .collect();
        let mean = errors.iter().sum::<f64>() / errors.len() as f64;
        let energy = r["energy_j"].as_f64().expect("energy");
        let system = r["system"]["energy_j"].as_f64().expect("system level");
        let (note, wall) = if target == "spinnaker1" {
            (" (a 48-chip board idling)", format!("{system:.1} J (with the board's box)"))
        } else {
            (" (one chip idling, an estimate: docs/spinnaker2.md)", "-".to_string())
        };
        let figure = format!(
            "| {target} | {energy:.1} J{note} | {wall} | {:.1e} | {:.1} us | {} cores | {:.1}% |",
            r["energy_per_synaptic_event_j"].as_f64().expect("per event"),
            r["step_latency_s"].as_f64().expect("latency") * 1e6,
            r["energy_counts"]["cores"],
            mean * 100.0
        );
        documented(
            "docs/sfq.md",
            &figure,
            "soma compare examples/xor_sfq.snn --targets spinnaker1,spinnaker2 ... --duration 1s",
        );
    }
}

#[test]
#[ignore = "75 s: run before changing docs/sfq.md's CUBA figures"]
fn sfq_md_cuba_on_sfq() {
    let r = run_json(&[
        "run",
        "examples/cuba.snn",
        "--target",
        "sfq_mitll",
        "--compare-reference",
        "--duration",
        "1s",
        "--json",
        "-q",
    ]);
    let p = &r["reference"]["populations"];
    let figure = format!(
        "exc {:.3} Hz in the reference, {:.3} Hz on SFQ ({:+.1}%); inh\n  {:.3} against {:.3} Hz ({:+.1}%)",
        p[0]["rate_hz"].as_f64().expect("rate"),
        p[0]["machine_rate_hz"].as_f64().expect("rate"),
        p[0]["rate_error"].as_f64().expect("error") * 100.0,
        p[1]["rate_hz"].as_f64().expect("rate"),
        p[1]["machine_rate_hz"].as_f64().expect("rate"),
        p[1]["rate_error"].as_f64().expect("error") * 100.0,
    );
    documented(
        "docs/sfq.md",
        &figure,
        "soma run examples/cuba.snn --target sfq_mitll --compare-reference --duration 1s",
    );
}

#[test]
fn reports_md_neurons_per_core_sweep() {
    let rows = sweep_rows(
        "doc-npc",
        &[
            "examples/microcircuit.snn",
            "--set",
            "scale=0.1",
            "--vary",
            "neurons_per_core=64,128,256",
            "--duration",
            "50ms",
        ],
    );
    for x in &rows {
        let figure = format!(
            "| {} | {} | {:.3} | {:.1e} | {} |",
            x["neurons_per_core"], x["cores"], x["energy_j"], x["step_latency_s"], x["overruns"]
        );
        documented("docs/reports.md", &figure, "soma sweep examples/microcircuit.snn --set scale=0.1 ...");
    }
}

/// `soma compare ARGS -q`: the table's row for each target, as printed.
fn compare_rows(args: &[&str]) -> Vec<String> {
    let o = soma(&[&["compare"], args, &["-q"]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    stdout(&o)
        .lines()
        .filter(|l| l.starts_with("spinnaker"))
        .filter(|l| l.contains(" | "))
        .map(str::to_string)
        .collect()
}

#[test]
fn spinnaker2_md_cuba_against_spinnaker1() {
    let command = "soma compare examples/cuba.snn --targets spinnaker1,spinnaker2 --duration 1s";
    let rows = compare_rows(&["examples/cuba.snn", "--targets", "spinnaker1,spinnaker2", "--duration", "1s"]);
    assert_eq!(rows.len(), 2);
    for row in rows {
        documented("docs/spinnaker2.md", &format!("{row}\n"), command);
    }
}

#[test]
fn spinnaker2_md_performance_levels() {
    let rows = sweep_rows(
        "doc-s2-dvfs",
        &["examples/cuba.snn", "--target", "spinnaker2", "--vary", "performance_level=0,1,2,3", "--duration", "1s"],
    );
    for r in rows {
        let figure = format!("| {:.4} | {:.0} us | {} |", r["energy_j"], r["step_latency_s"] * 1e6, r["overruns"],);
        documented(
            "docs/spinnaker2.md",
            &figure,
            "soma sweep examples/cuba.snn --target spinnaker2 --vary performance_level=0,1,2,3 --duration 1s",
        );
    }
}

#[test]
#[ignore = "10 s: run before changing docs/spinnaker2.md's levels on the microcircuit"]
fn spinnaker2_md_levels_by_load_on_the_microcircuit() {
    let command =
        "soma run examples/microcircuit.snn --set scale=0.2 --target spinnaker2 --target-set performance_level=L";
    for level in ["0", "2", "3"] {
        let set = format!("performance_level={level}");
        let r = run_json(&[
            "run",
            "examples/microcircuit.snn",
            "--set",
            "scale=0.2",
            "--target",
            "spinnaker2",
            "--target-set",
            &set,
            "--duration",
            "1s",
            "--json",
            "-q",
        ]);
        let (energy, overruns) = (r["energy_j"].as_f64().expect("energy"), r["overruns"].to_string());
        let figure = match r["levels_by_load"].as_array() {
            Some(steps) => {
                let steps: Vec<f64> = steps.iter().map(|n| n.as_f64().expect("count")).collect();
                let all: f64 = steps.iter().sum();
                let share: Vec<String> = steps.iter().map(|n| format!("{:.1}%", 100.0 * n / all)).collect();
                format!("| 0 (by load) | {energy:.4} | {overruns} | {} |", share.join(" / "))
            }
            None => format!("| {level} | {energy:.4} | {overruns} | |"),
        };
        documented("docs/spinnaker2.md", &figure, command);
    }
}

#[test]
#[ignore = "20 s: run before changing docs/spinnaker2.md's microcircuit and CSNN figures"]
fn spinnaker2_md_microcircuit_and_csnn() {
    let micro = compare_rows(&[
        "examples/microcircuit.snn",
        "--set",
        "scale=0.2",
        "--duration",
        "1s",
        "--targets",
        "spinnaker1,spinnaker2",
    ]);
    let field = |row: &str, k: usize| row.split(" | ").nth(k).expect("a column").to_string();
    let watts = |row: &str| field(row, 1).parse::<f64>().expect("watts");
    let micros = |row: &str| field(row, 4).parse::<f64>().expect("latency") * 1e6;
    let (one, two) = (&micro[0], &micro[1]);
    let figure = format!(
        "{:.1} W -> {:.2} W, step latency {:.0} us -> {:.0} us,\n{} on both (on one SpiNNaker 2 chip), overruns {} -> {}",
        watts(one),
        watts(two),
        micros(one),
        micros(two),
        field(two, 5),
        thousands(&field(one, 7)),
        thousands(&field(two, 7)),
    );
    documented("docs/spinnaker2.md", &figure, "soma compare examples/microcircuit.snn --set scale=0.2 ...");
    documented(
        "docs/spinnaker2.md",
        &format!("mean rate error {} -> {}", field(one, 9), field(two, 9)),
        "soma compare examples/microcircuit.snn --set scale=0.2 ...",
    );
    let csnn = compare_rows(&[
        "tests/data/nir/csnn_small.nir",
        "--dt",
        "1s",
        "--duration",
        "2000s",
        "--input",
        "poisson:0.2Hz",
        "--targets",
        "spinnaker1,spinnaker2",
    ]);
    let figure = format!("{:.1} W -> {:.2} W, {} on both", watts(&csnn[0]), watts(&csnn[1]), field(&csnn[1], 5));
    documented("docs/spinnaker2.md", &figure, "soma compare tests/data/nir/csnn_small.nir ...");
}

/// `650000` as the docs write it: `650,000`.
fn thousands(n: &str) -> String {
    soma_isa::report::thousands(n.parse().expect("a count"))
}

/// `soma run NET --target TARGET --compare-reference --duration 1s --json`.
fn run_1s(net: &str, target: &str) -> serde_json::Value {
    run_json(&["run", net, "--target", target, "--compare-reference", "--duration", "1s", "--json", "-q"])
}

/// A population's `field` (machine_rate_hz, rate_hz, rate_error) from a run's reference comparison.
fn compared(r: &serde_json::Value, population: usize, field: &str) -> f64 {
    r["reference"]["populations"][population][field].as_f64().expect("a compared figure")
}

#[test]
#[ignore = "20 s: run before changing docs/crossbar.md's measured figures"]
fn crossbar_md_measured() {
    let doc = "docs/crossbar.md";
    let r = run_1s("examples/cuba.snn", "reram_128");
    let (m, l) = (&r["mapping"], &r["ledger"]);
    let f = |v: &serde_json::Value| v.as_f64().expect("a number");
    let energy = f(&r["energy_j"]);
    let figure = format!(
        "{} tiles of {} ({:.1}% of their cells in mapped blocks, {:.2}% holding\na synapse: sparse connectivity \
         wastes arrays), rates {:.2} / {:.2} Hz against the reference's {:.2} / {:.2} Hz,\n{:.1} mJ of which the \
         ADCs take {:.0}% and the mesh {:.0}% (naive row-major placement: {:.0} hops per packet), {:.1} nJ per\n\
         synaptic event, {:.2} us of hardware time per 0.1 ms step.",
        soma_isa::report::thousands(m["tiles"].as_u64().expect("tiles")),
        soma_isa::report::thousands(m["tiles_available"].as_u64().expect("tiles")),
        f(&m["block_utilisation"]) * 100.0,
        f(&m["cell_utilisation"]) * 100.0,
        compared(&r, 0, "machine_rate_hz"),
        compared(&r, 1, "machine_rate_hz"),
        compared(&r, 0, "rate_hz"),
        compared(&r, 1, "rate_hz"),
        energy * 1e3,
        f(&l["adc_j"]) / energy * 100.0,
        f(&l["noc_j"]) / energy * 100.0,
        f(&l["hops"]) / f(&l["packets"]),
        f(&r["energy_per_synaptic_event_j"]) * 1e9,
        f(&r["step_latency_s"]) * 1e6,
    );
    documented(doc, &figure, "soma run examples/cuba.snn --target reram_128 --compare-reference --duration 1s");

    let r = run_1s("examples/lsm.snn", "reram_40nm_lsm");
    let energy = f(&r["energy_j"]);
    let figure = format!(
        "the excitatory rate rises from {:.1} to {:.1} Hz",
        compared(&r, 0, "rate_hz"),
        compared(&r, 0, "machine_rate_hz")
    );
    documented(doc, &figure, "soma run examples/lsm.snn --target reram_40nm_lsm ...");
    let figure = format!(
        "the ADCs take {:.0}% of {:.2} mJ\nper second",
        f(&r["ledger"]["adc_j"]) / energy * 100.0,
        energy * 1e3
    );
    documented(doc, &figure, "soma run examples/lsm.snn --target reram_40nm_lsm ...");

    let r = run_1s("examples/lsm.snn", "reram_128");
    let figure = format!(
        "exc\n{:+.1}%, inh {:+.1}%, but the readout fires at {:.1} Hz against {:.1} Hz ({:+.1}%)",
        compared(&r, 0, "rate_error") * 100.0,
        compared(&r, 1, "rate_error") * 100.0,
        compared(&r, 2, "machine_rate_hz"),
        compared(&r, 2, "rate_hz"),
        compared(&r, 2, "rate_error") * 100.0,
    );
    documented(doc, &figure, "soma run examples/lsm.snn --target reram_128 --compare-reference --duration 1s");

    let dir = common::temp_dir("doc-crossbar");
    let copy = dir.join("reram16.toml");
    let preset = std::fs::read_to_string("targets/presets/reram_128.toml").expect("preset");
    std::fs::write(&copy, preset.replacen("adc_bits = { value = 6", "adc_bits = { value = 16", 1)).expect("copy");
    let r = run_1s("examples/lsm.snn", copy.to_str().expect("path"));
    let figure = format!(
        "the readout\nmatches: {:+.1}% (exc {:+.1}%, inh {:+.1}%)",
        compared(&r, 2, "rate_error") * 100.0,
        compared(&r, 0, "rate_error") * 100.0,
        compared(&r, 1, "rate_error") * 100.0,
    );
    documented(doc, &figure, "soma run examples/lsm.snn --target reram16.toml ...");
    let r = run_json(&[
        "run",
        "examples/lsm.snn",
        "--target",
        "reram_128",
        "--adc-range",
        "0.3",
        "--compare-reference",
        "--duration",
        "1s",
        "--json",
        "-q",
    ]);
    let figure = format!("brings it to {:+.1}%.", compared(&r, 2, "rate_error") * 100.0);
    documented(doc, &figure, "soma run examples/lsm.snn --target reram_128 --adc-range 0.3 ...");
}

/// The CSNN input of docs/crossbar.md's tables (as `tests/crossbar.rs` writes it): 300 steps on the second input
/// channel (inputs 64..128), input `c` spiking in step `t` when `(7t + 3c) mod 5 < 3`.
fn csnn_input(dir: &std::path::Path) -> std::path::PathBuf {
    let rows: Vec<String> = (0..300)
        .map(|t| {
            let row: Vec<&str> = (0..128).map(|c| if c >= 64 && (t * 7 + c * 3) % 5 < 3 { "1" } else { "0" }).collect();
            row.join(",")
        })
        .collect();
    let input = dir.join("input.csv");
    std::fs::write(&input, rows.join("\n")).expect("input");
    input
}

/// Mean |rate error| over a run's populations.
fn mean_rate_error(r: &serde_json::Value) -> f64 {
    let pops = r["reference"]["populations"].as_array().expect("populations");
    pops.iter().map(|p| p["rate_error"].as_f64().expect("error").abs()).sum::<f64>() / pops.len() as f64
}

#[test]
#[ignore = "10 min: run before changing docs/crossbar.md's ADC and read-noise tables"]
fn crossbar_md_adc_and_read_noise_tables() {
    let dir = common::temp_dir("doc-adc");
    let input = csnn_input(&dir);
    let preset = std::fs::read_to_string("targets/presets/reram_128.toml").expect("preset");
    let noises = [("0", "0"), ("2.5%", "0.025"), ("5%", "0.05"), ("10%", "0.1")];
    let rows: Vec<(String, String)> = (2..=8)
        .map(|bits| {
            let (mut csnn, mut cuba) = (format!("| {bits} |"), format!("| {bits} |"));
            for (_, noise) in noises {
                let copy = dir.join(format!("adc{bits}_noise{noise}.toml"));
                let text = preset
                    .replacen("adc_bits = { value = 6", &format!("adc_bits = {{ value = {bits}"), 1)
                    .replacen("read_noise = { value = 0.01", &format!("read_noise = {{ value = {noise}"), 1);
                std::fs::write(&copy, text).expect("preset copy");
                let copy = copy.to_str().expect("path");
                let common = ["--target", copy, "--nonideal", "read_noise", "--compare-reference", "--json", "-q"];
                let r = run_json(
                    &[
                        &["run", "tests/data/nir/csnn_small.nir", "--dt", "1s", "--duration", "300s"][..],
                        &["--input", input.to_str().expect("path")],
                        &common,
                    ]
                    .concat(),
                );
                let matched = r["reference"]["spikes_matched"].as_f64().expect("matched");
                csnn += &format!(" {:.1}% / {:.0}% |", mean_rate_error(&r) * 100.0, matched * 100.0);
                let r = run_json(&[&["run", "examples/cuba.snn", "--duration", "1s"][..], &common].concat());
                cuba += &format!(" {:.1}% |", mean_rate_error(&r) * 100.0);
            }
            eprintln!("{csnn}\n{cuba}");
            (csnn, cuba)
        })
        .collect();
    for (csnn, cuba) in rows {
        documented("docs/crossbar.md", &format!("{csnn}\n"), "soma run tests/data/nir/csnn_small.nir ... (table)");
        documented("docs/crossbar.md", &format!("{cuba}\n"), "soma run examples/cuba.snn ... (table)");
    }
}

#[test]
fn plasticity_md_stdp_window() {
    let command = "soma simulate examples/stdp_window.snn --weights weights.csv";
    let dir = common::temp_dir("doc-stdp");
    let csv = dir.join("weights.csv");
    let o = soma(&["simulate", "examples/stdp_window.snn", "-q", "--weights", csv.to_str().expect("path")]);
    assert!(o.status.success(), "{}", stderr(&o));
    let written = std::fs::read_to_string(&csv).expect("weights");
    // Column 4 is the weight before (0.1 as f32, written as 0.1), column 5 after.
    let change: Vec<f64> = written
        .lines()
        .skip(1)
        .map(|l| l.rsplit(',').next().expect("a field").parse::<f64>().expect("a number") - 0.1f32 as f64)
        .collect();
    let nest = std::fs::read_to_string("tests/data/nest/stdp_window.txt").expect("NEST's numbers");
    let mut table = String::from(
        "| lag (ms) | additive: soma | additive: NEST | multiplicative: soma | multiplicative: NEST |\n|---|---|---|---|---|\n",
    );
    let mut worst = 0f64;
    for (k, line) in nest.lines().skip(1).enumerate() {
        let f: Vec<f64> = line.split_whitespace().map(|x| x.parse().expect("a number")).collect();
        let (add, mul) = (f[1] - 0.1, f[2] - 0.1);
        worst = worst.max(((change[k] - add) / add).abs()).max(((change[21 + k] - mul) / mul).abs());
        table += &format!("| {} | {:+.5e} | {add:+.5e} | {:+.5e} | {mul:+.5e} |\n", f[0], change[k], change[21 + k]);
    }
    documented("docs/plasticity.md", &table, command);
    documented("docs/plasticity.md", &format!("relative difference at most {:.0e}", worst.max(1e-9)), command);
    std::fs::remove_dir_all(dir).ok();
}

/// The largest distance between the empirical distribution functions of `a` and `b` (two-sample
/// Kolmogorov-Smirnov statistic).
fn ks_distance(a: &[f64], b: &[f64]) -> f64 {
    let (mut a, mut b) = (a.to_vec(), b.to_vec());
    a.sort_by(f64::total_cmp);
    b.sort_by(f64::total_cmp);
    let (mut i, mut j, mut d) = (0, 0, 0f64);
    while i < a.len() && j < b.len() {
        let x = a[i].min(b[j]);
        while i < a.len() && a[i] <= x {
            i += 1;
        }
        while j < b.len() && b[j] <= x {
            j += 1;
        }
        d = d.max((i as f64 / a.len() as f64 - j as f64 / b.len() as f64).abs());
    }
    d
}

/// Ten bins of `w / w_max` over [0, 1] (the last bin holds w_max).
fn deciles(w: &[f64], w_max: f64) -> String {
    let mut bins = [0u32; 10];
    for &x in w {
        bins[((x / w_max * 10.0) as usize).min(9)] += 1;
    }
    bins.iter().map(u32::to_string).collect::<Vec<_>>().join(" ")
}

#[test]
#[ignore = "runs 300 s of model time twice (about 70 s in release)"]
fn plasticity_md_song_abbott() {
    let command = "soma simulate examples/song_abbott.snn --duration 300s --seed SEED --weights weights.csv";
    let dir = common::temp_dir("doc-song-abbott");
    let mut ours = Vec::new();
    for seed in ["1", "2"] {
        let csv = dir.join(format!("w{seed}.csv"));
        let r = run_json(&[
            "simulate",
            "examples/song_abbott.snn",
            "--duration",
            "300s",
            "--seed",
            seed,
            "-q",
            "--json",
            "--weights",
            csv.to_str().expect("path"),
        ]);
        let text = std::fs::read_to_string(&csv).expect("weights");
        let w: Vec<f64> = text
            .lines()
            .skip(1)
            .map(|l| l.rsplit(',').next().expect("a field").parse::<f64>().expect("a number") * 1e12)
            .collect();
        ours.push((w, r["populations"][0]["rate_hz"].as_f64().expect("rate")));
    }
    let nest: Vec<(Vec<f64>, f64)> = ["1", "2"]
        .iter()
        .map(|seed| {
            let text =
                std::fs::read_to_string(format!("tests/data/nest/song_abbott_seed{seed}.txt")).expect("NEST's weights");
            let header = text.lines().next().expect("header");
            let rate = header.split("rate ").nth(1).and_then(|r| r.split(' ').next()).expect("rate");
            let w = text.lines().skip(1).map(|l| l.parse::<f64>().expect("a weight")).collect();
            (w, rate.parse().expect("a rate"))
        })
        .collect();
    let mut table = String::from("| run | rate (Hz) | weights per tenth of w_max, 0 .. 1 |\n|---|---|---|\n");
    for (name, (w, rate)) in
        [("soma, seed 1", &ours[0]), ("soma, seed 2", &ours[1]), ("NEST, seed 1", &nest[0]), ("NEST, seed 2", &nest[1])]
    {
        table += &format!("| {name} | {rate:.2} | {} |\n", deciles(w, 8.0));
    }
    documented("docs/plasticity.md", &table, command);
    let distances = format!(
        "soma against NEST {:.3} (seed 1 against seed 1), NEST against NEST {:.3}, soma against soma {:.3}",
        ks_distance(&ours[0].0, &nest[0].0),
        ks_distance(&nest[0].0, &nest[1].0),
        ks_distance(&ours[0].0, &ours[1].0)
    );
    documented("docs/plasticity.md", &distances, command);
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn plasticity_md_astrocyte_lsm() {
    let command = "soma simulate examples/lsm_astro.snn --duration 5s [--set \"astro_gain=0 s\"] --json";
    let mut figures = Vec::new();
    for gain in ["-0.2 s", "0 s"] {
        let set = format!("astro_gain={gain}");
        let r = run_json(&["simulate", "examples/lsm_astro.snn", "--duration", "5s", "--set", &set, "-q", "--json"]);
        let learned = &r["learned"][0];
        figures.push(format!(
            "exc at {:.1} Hz, mean weight {:.3} nA -> {:.3} nA",
            r["populations"][0]["rate_hz"].as_f64().expect("rate"),
            learned["mean_before"].as_f64().expect("mean") * 1e9,
            learned["mean_after"].as_f64().expect("mean") * 1e9
        ));
    }
    documented(
        "docs/plasticity.md",
        &format!("with the astrocyte: {}; without it: {}", figures[0], figures[1]),
        command,
    );
}

#[test]
fn plasticity_md_astrocyte_lsm_crossbar() {
    let command = "soma run examples/lsm_astro.snn --target reram_128 --duration 5s [--set \"astro_gain=0 s\"] [--target-set adc_bits=16]";
    let row = |label: &str, args: &[&str]| {
        let mut cells = format!("| {label} |");
        for gain in ["-0.2 s", "0 s"] {
            let set = format!("astro_gain={gain}");
            let mut a = args.to_vec();
            a.extend(["examples/lsm_astro.snn", "--duration", "5s", "--set", &set, "-q", "--json"]);
            let r = run_json(&a);
            let learned = &r["learned"][0];
            cells += &format!(
                " {:.2} Hz | {:.3} -> {:.3} nA |",
                r["populations"][0]["rate_hz"].as_f64().expect("rate"),
                learned["mean_before"].as_f64().expect("mean") * 1e9,
                learned["mean_after"].as_f64().expect("mean") * 1e9
            );
        }
        cells + "\n"
    };
    let table = row("reference (`soma simulate`)", &["simulate"])
        + &row("reram_128 (6-bit ADCs)", &["run", "--target", "reram_128"])
        + &row("reram_128, `adc_bits = 16`", &["run", "--target", "reram_128", "--target-set", "adc_bits=16"]);
    documented("docs/plasticity.md", &table, command);
}

#[test]
fn plasticity_md_spinnaker_window() {
    let command = "soma run examples/stdp_window.snn --target spinnaker1 --compare-reference";
    let r =
        run_json(&["run", "examples/stdp_window.snn", "--target", "spinnaker1", "--compare-reference", "-q", "--json"]);
    let resolution = &r["plasticity"]["resolution"][0];
    let step = resolution["step"].as_f64().expect("step");
    let worst: Vec<f64> =
        (0..2).map(|k| r["reference"]["weights"][k]["max_difference"].as_f64().expect("difference")).collect();
    documented(
        "docs/plasticity.md",
        &format!(
            "the weight step is {step:.3e} (the kicks' weight of 2\nonto the same cores sets it: `[0, w_max]` is {:.0} steps)",
            resolution["range_steps"].as_f64().expect("steps")
        ),
        command,
    );
    documented(
        "docs/plasticity.md",
        &format!(
            "synapse is {:.3e} (additive) and {:.3e} (multiplicative), {:.1} steps",
            worst[0],
            worst[1],
            worst[0].max(worst[1]) / step
        ),
        command,
    );
}

#[test]
fn plasticity_md_stdp_dense_cost() {
    let command = "soma run examples/stdp_dense.snn --target spinnaker1";
    let run = |file: &str, target: &str| run_json(&["run", file, "--target", target, "-q", "--json"]);
    let plastic = run("examples/stdp_dense.snn", "spinnaker1");
    // The same network without its rule.
    let dir = common::temp_dir("doc-dense");
    let file = common::stdp_dense_without_rule(&dir);
    let fixed = run(file.to_str().expect("path"), "spinnaker1");
    assert!(fixed.get("plasticity").is_none(), "the copy has no plastic projection");
    let p = &plastic["plasticity"];
    let f = |v: &serde_json::Value, k: &str| v[k].as_f64().unwrap_or_else(|| panic!("{k}"));
    let figure = format!(
        "A plastic synaptic event costs {:.1} cycles\n(pairs and write-back included; {:.2} pairs per event) against {:.0} for a static one, {:.1}% of busy\ncycles; the busiest core's worst step takes {:.2} of its budget against {:.2} without `plasticity` (the same file\nwithout the rule).",
        f(p, "cycles_per_plastic_event"),
        f(p, "pairs") / f(p, "plastic_events"),
        f(p, "cycles_per_static_event"),
        f(p, "cycles_share") * 100.0,
        f(&plastic, "core_load_max"),
        f(&fixed, "core_load_max"),
    );
    documented("docs/plasticity.md", &figure, command);
    let two = run("examples/stdp_dense.snn", "spinnaker2");
    let figure = format!(
        "{:.3e} J of the {:.3e} J of busy-cycle energy ({:.0}%)",
        f(&two["plasticity"], "energy_j"),
        f(&two["energy_breakdown_j"], "core_cycles"),
        f(&two["plasticity"], "energy_j") / f(&two["energy_breakdown_j"], "core_cycles") * 100.0
    );
    documented("docs/plasticity.md", &figure, command);
    std::fs::remove_dir_all(dir).ok();
}

#[test]
#[ignore = "four runs of 300 s of model time on spinnaker1: about five minutes in release"]
fn plasticity_md_song_abbott_spinnaker() {
    let command = "soma run examples/song_abbott.snn --target spinnaker1 --duration 300s --seed 1";
    let mut table = String::new();
    for (label, scaled, nearest) in [
        ("spinnaker1", false, false),
        ("spinnaker1, x32", true, false),
        ("spinnaker1, rounding to nearest", false, true),
        ("spinnaker1, x32, rounding to nearest", true, true),
    ] {
        let mut args = vec![
            "run",
            "examples/song_abbott.snn",
            "--target",
            "spinnaker1",
            "--duration",
            "300s",
            "--seed",
            "1",
            "-q",
        ];
        if scaled {
            args.extend(["--set", "w_max=256 pA", "--set", "cm=8000 pF"]);
        }
        if nearest {
            args.extend(["--target-set", "stdp_rounding=1"]);
        }
        args.push("--json");
        let r = run_json(&args);
        let p = &r["plasticity"];
        let bins: Vec<String> = p["learned"][0]["histogram_after"]
            .as_array()
            .expect("bins")
            .iter()
            .map(|b| b.as_u64().expect("count").to_string())
            .collect();
        table += &format!(
            "| {label} | {:.3} fA | {:.0} | {:.2} | {} |\n",
            p["resolution"][0]["step"].as_f64().expect("step") * 1e15,
            p["resolution"][0]["range_steps"].as_f64().expect("steps"),
            r["populations"][0]["rate_hz"].as_f64().expect("rate"),
            bins.join(" ")
        );
    }
    documented("docs/plasticity.md", &table, command);
}

#[test]
fn plasticity_md_ca3_cam() {
    let command =
        "soma run examples/ca3_cam.snn --target spinnaker1 --duration 2.8s --recall examples/ca3_cam.recall.csv";
    let mut table = String::new();
    for (label, args) in [
        ("reference (`soma simulate`)", vec!["simulate"]),
        ("spinnaker1", vec!["run", "--target", "spinnaker1"]),
        ("spinnaker2", vec!["run", "--target", "spinnaker2"]),
        ("reference, `w_max = 0.2 nA` (control)", vec!["simulate", "--set", "w_max=0.2 nA"]),
    ] {
        let (recall, intrusion) = common::ca3_recall(&args);
        table += &format!("| {label} | {:.1}% | {:.1}% |\n", recall * 100.0, intrusion * 100.0);
    }
    documented("docs/plasticity.md", &table, command);
}

#[test]
fn plasticity_md_crossbar() {
    let base = ["run", "examples/ca3_cam.snn", "--target", "reram_128", "--duration", "2.8s"];
    let recall_of = |r: &serde_json::Value| {
        let tests = r["recall"].as_array().expect("recall scores");
        let mean = |k: &str| tests.iter().map(|t| t[k].as_f64().expect("score")).sum::<f64>() / tests.len() as f64;
        (mean("recall"), mean("intrusion"))
    };
    let run = |extra: &[&str]| {
        let mut args = base.to_vec();
        args.extend(["--recall", "examples/ca3_cam.recall.csv", "-q", "--json"]);
        args.extend(extra);
        run_json(&args)
    };
    let r = run(&["--compare-reference"]);
    let (l, w) = (&r["ledger"], &r["reference"]["weights"][0]);
    let (recall, intrusion) = recall_of(&r);
    let n = |v: &serde_json::Value| soma_isa::report::thousands(v.as_u64().expect("count"));
    let f = |v: &serde_json::Value| v.as_f64().expect("number");
    let table = format!(
        "| mean recall, mean intrusion | {:.1}%, {:.1}% |\n\
         | cell writes, pulses | {}, {} |\n\
         | weight changes rounded to no pulse | {} |\n\
         | write energy, share of the run's energy | {:.3e} J, {:.1}% |\n\
         | row writes, hardware time (2.8 s of model time) | {:.3} s; slowest step {:.3e} s |\n\
         | final weights against the reference | mean {:.3e} A vs {:.3e} A, rms difference {:.3e} A |\n",
        recall * 100.0,
        intrusion * 100.0,
        n(&l["writes"]),
        n(&l["write_pulses"]),
        n(&l["rounded_away"]),
        f(&l["write_j"]),
        f(&r["write_energy_share"]) * 100.0,
        f(&l["write_time_s"]),
        f(&l["step_latency_max_s"]),
        f(&w["mean_machine"]),
        f(&w["mean_reference"]),
        f(&w["rms_difference"]),
    );
    documented(
        "docs/plasticity.md",
        &table,
        "soma run examples/ca3_cam.snn --target reram_128 --duration 2.8s --recall examples/ca3_cam.recall.csv --compare-reference",
    );
    let mut table = String::new();
    for (label, value) in [("1e6 (preset)", "1e6"), ("100", "100"), ("60", "60"), ("40", "40")] {
        let r = run(&["--target-set", &format!("endurance_pulses={value}")]);
        table += &format!("| {label} | {:.1}% | {} |\n", recall_of(&r).0 * 100.0, n(&r["ledger"]["worn_cells"]));
    }
    documented("docs/plasticity.md", &table, "--target-set endurance_pulses=60");
    let mut table = String::new();
    for (label, rate) in
        [("0", "0"), ("0.02", "0.02"), ("0.05", "0.05"), ("0.09 (MNSIM's default)", "0.09"), ("0.2", "0.2")]
    {
        let mean = (1..=5)
            .map(|seed| {
                let seed = seed.to_string();
                let rate = format!("stuck_off_rate={rate}");
                let extra =
                    ["--nonideal", "stuck", "--target-set", "stuck_on_rate=0", "--target-set", &rate, "--seed", &seed];
                recall_of(&run(&extra)).0
            })
            .sum::<f64>()
            / 5.0;
        table += &format!("| {label} | {:.1}% |\n", mean * 100.0);
    }
    documented("docs/plasticity.md", &table, "--target-set stuck_on_rate=0 --target-set stuck_off_rate=0.09 --seed 1");
}

#[test]
#[ignore = "two full-scale microcircuit runs: about four minutes and 7.5 GB in release"]
fn energy_validation_md_spinnaker1() {
    let doc = "docs/energy-validation.md";
    let run = |sets: &[&str], boards: &str| {
        let mut args = vec!["run", "examples/microcircuit.snn", "--target", "spinnaker1", "--boards", boards];
        for set in sets {
            args.extend(["--target-set", set]);
        }
        args.extend(["--duration", "0.3s", "--json", "-q"]);
        run_json(&args)
    };
    let row = |r: &serde_json::Value, published: f64| {
        let chip = r["energy_per_synaptic_event_j"].as_f64().expect("chip level");
        let system = r["system"]["energy_per_synaptic_event_j"].as_f64().expect("system level");
        let error = |x: f64| (x / published - 1.0) * 100.0;
        format!("| {:.3} uJ | {:.3} uJ | {:+.1}% / {:+.1}% |", chip * 1e6, system * 1e6, error(chip), error(system))
    };
    let slow = run(&["time_scale_factor=20"], "6");
    let command = "soma run examples/microcircuit.snn --target spinnaker1 --target-set time_scale_factor=20 --boards 6";
    documented(doc, &row(&slow, 4.4e-6), command);
    let counts = format!(
        "{} overruns in 3,000 steps over {} cores, {} dropped packets",
        thousands(&slow["overruns"].to_string()),
        slow["energy_counts"]["cores"],
        slow["dropped_packets"]
    );
    documented(doc, &counts, command);
    documented(doc, &format!("over {} synaptic events", thousands(&slow["synaptic_events"].to_string())), command);
    let real = run(&["neurons_per_core=80"], "12");
    let command = "soma run examples/microcircuit.snn --target spinnaker1 --target-set neurons_per_core=80 --boards 12";
    documented(doc, &row(&real, 0.6e-6), command);
}

#[test]
fn energy_validation_md_crossbar_and_sfq() {
    let doc = "docs/energy-validation.md";
    let command = "soma run examples/cim_macro.snn --target reram_128 --duration 100ms";
    let args = ["run", "examples/cim_macro.snn", "--target", "reram_128", "--duration", "100ms"];
    let text = stdout(&soma(&args));
    for line in text.lines().filter(|l| l.starts_with("energy ") || l.starts_with("in-memory MACs")) {
        documented(doc, line, command);
    }
    for name in ["cuba", "cim_macro"] {
        let file = format!("examples/{name}.snn");
        let o = soma(&["run", &file, "--target", "reram_128", "--duration", "100ms"]);
        let line = stdout(&o).lines().find(|l| l.starts_with("in-memory MACs")).expect("the MAC line").to_string();
        documented("docs/crossbar.md", &format!("{name}: {line}"), "soma run examples/NAME.snn --target reram_128");
    }
    let r = run_json(&[&args[..], &["--json", "-q"]].concat());
    let (l, macs) = (&r["ledger"], &r["in_memory_macs"]);
    let j = |key: &str| l[key].as_f64().expect("a ledger energy");
    let count = macs["count"].as_f64().expect("MACs");
    // An 8-bit input is eight 1-bit reads; an operation is half a MAC.
    let per_8bit = 8.0 * macs["energy_per_mac_j"].as_f64().expect("energy per MAC");
    let published = 2.0 / 21.6e12;
    let row = format!(
        "| 21.6 TOPS/W ({:.1} fJ per MAC) | {:.3} TOPS/W ({:.2} pJ per MAC), `reram_128` | x{:.1} the energy |",
        published * 1e15,
        2.0 / per_8bit / 1e12,
        per_8bit * 1e12,
        per_8bit / published
    );
    documented(doc, &row, command);
    let mac_j = macs["energy_j"].as_f64().expect("MAC energy");
    let readout = format!(
        "{:.0} nJ of the run's {:.0} nJ of in-memory MAC energy ({:.0}%) are conversions, {} at",
        j("adc_j") * 1e9,
        mac_j * 1e9,
        j("adc_j") / mac_j * 100.0,
        thousands(&l["adc_conversions"].to_string())
    );
    documented(doc, &readout, command);
    let array = 8.0 * (mac_j - j("adc_j")) / count;
    let array = format!("{:.0} fJ per 8-bit MAC (x{:.1})", array * 1e15, array / published);
    documented(doc, &array, command);
    documented(doc, &format!("reads ({:.1} nJ:", j("cells_j") * 1e9), command);

    let command = "soma compile examples/xor_sfq.snn --target sfq_mitll -o xor.img";
    let c = run_json(&["compile", "examples/xor_sfq.snn", "--target", "sfq_mitll", "--json", "-q"]);
    let static_w = c["static_w"].as_f64().expect("static power");
    let junctions = c["junctions"].as_f64().expect("junctions");
    let (chip_junctions, chip_w) = (5822.0, 2.15e-3);
    let soma_w = static_w / junctions * chip_junctions;
    let row = format!(
        "| 2.15 mW static (369 nW a junction) | {:.3} mW ({:.0} nW a junction), `sfq_mitll` | {:+.1}% |",
        soma_w * 1e3,
        static_w / junctions * 1e9,
        (soma_w / chip_w - 1.0) * 100.0
    );
    documented(doc, &row, command);
    let xor = format!("compiles to {} junctions and {:.2} mW", thousands(&c["junctions"].to_string()), static_w * 1e3);
    documented(doc, &xor, command);
    let command = "soma run examples/xor_sfq.snn --target sfq_mitll --duration 100ms";
    let r = run_json(&["run", "examples/xor_sfq.snn", "--target", "sfq_mitll", "--duration", "100ms", "--json", "-q"]);
    let switching = r["ledger"]["dynamic_total_j"].as_f64().expect("switching energy");
    documented(doc, &format!("switching {:.1} fJ over {} steps", switching * 1e15, r["steps"]), command);
}

#[test]
#[ignore = "four runs of 300 s of model time on reram_128: about three minutes in release"]
fn plasticity_md_song_abbott_crossbar() {
    let command = "soma run examples/song_abbott.snn --target reram_128 --duration 300s";
    let mut table = String::new();
    for (label, linear, stochastic) in [
        ("Ag:a-Si, rounding to nearest", false, false),
        ("Ag:a-Si, stochastic rounding", false, true),
        ("linear cells, rounding to nearest", true, false),
        ("linear cells, stochastic rounding", true, true),
    ] {
        let mut args = vec!["run", "examples/song_abbott.snn", "--target", "reram_128", "--duration", "300s", "-q"];
        if stochastic {
            args.extend(["--target-set", "pulse_rounding=1"]);
        }
        if linear {
            args.extend(["--target-set", "a_ltp=100", "--target-set", "a_ltd=100"]);
        }
        args.push("--json");
        let r = run_json(&args);
        let bins: Vec<String> = r["learned"][0]["histogram_after"]
            .as_array()
            .expect("bins")
            .iter()
            .map(|b| b.as_u64().expect("count").to_string())
            .collect();
        let rate = r["populations"][0]["rate_hz"].as_f64().expect("rate");
        table += &format!("| {label} | {rate:.2} | {} |\n", bins.join(" "));
    }
    documented("docs/plasticity.md", &table, command);
}

#[test]
fn nir_md_connectome_regime() {
    let connectome = "tests/data/connectomes/white1986_whole.csv";
    let rates = |extra: &[&str]| -> Vec<f64> {
        let r = run_json(&[&["simulate", connectome, "--json", "-q"], extra].concat());
        let mut rates: Vec<f64> = r["populations"]
            .as_array()
            .expect("populations")
            .iter()
            .map(|p| p["rate_hz"].as_f64().expect("a rate"))
            .collect();
        rates.sort_by(f64::total_cmp);
        rates
    };
    let command = "soma simulate tests/data/connectomes/white1986_whole.csv --drive DRIVE --json";
    for drive in ["0.74", "0.76", "0.8"] {
        let r = rates(&["--drive", &format!("{drive}nA")]);
        let q = |f: f64| r[(f * (r.len() - 1) as f64) as usize];
        let silent = 100.0 * r.iter().filter(|&&x| x == 0.0).count() as f64 / r.len() as f64;
        let figure = format!(
            "| {drive} nA | {:.0} Hz | {:.0} Hz | {:.0} Hz | {:.0} Hz | {silent:.0}% |",
            q(0.1),
            q(0.5),
            q(0.9),
            r[r.len() - 1]
        );
        documented("docs/nir.md", &figure, command);
    }
    let alone = rates(&["--drive", "0.8nA", "--weight", "0nA", "--gap-weight", "0nS"]);
    assert_eq!(alone[0], alone[alone.len() - 1], "uncoupled neurons fire alike");
    documented("docs/nir.md", &format!("0nS`: {:.0} Hz each", alone[0]), "--weight 0nA --gap-weight 0nS");
}
