//! SpiNNaker 2 as a target of its own: performance levels trade energy for step latency, a network that outgrows
//! the lowest level overruns there, and small networks run on a single chip whose idle power is one chip's.

mod common;

use common::{run_json, soma, stderr, stdout, sweep_rows, temp_dir};

#[test]
fn performance_levels_trade_energy_for_latency_and_the_lowest_overruns() {
    let rows = sweep_rows(
        "s2-dvfs",
        &["examples/cuba.snn", "--target", "spinnaker2", "--vary", "performance_level=1,2,3", "--duration", "50ms"],
    );
    assert_eq!(rows.iter().map(|r| r["performance_level"]).collect::<Vec<_>>(), [1.0, 2.0, 3.0]);
    for pair in rows.windows(2) {
        assert!(pair[1]["step_latency_s"] < pair[0]["step_latency_s"], "a higher level is faster: {rows:?}");
        assert!(pair[1]["energy_j"] > pair[0]["energy_j"], "and costs more: {rows:?}");
    }
    // CUBA's 0.1 ms step needs about 20,000 cycles on its busiest core: 10,000 at 100 MHz is not enough.
    assert!(rows[0]["overruns"] > 0.0, "level 1 overruns: {rows:?}");
    assert_eq!(rows[2]["overruns"], 0.0, "level 3 keeps up: {rows:?}");
}

#[test]
fn levels_that_follow_the_load_keep_up_at_less_energy_and_the_same_spikes() {
    let run = |level: &str| {
        run_json(&[
            "run",
            "examples/cuba.snn",
            "--target",
            "spinnaker2",
            "--target-set",
            &format!("performance_level={level}"),
            "--duration",
            "50ms",
            "--json",
            "-q",
        ])
    };
    let (by_load, top) = (run("0"), run("3"));
    assert_eq!(by_load["raster"], top["raster"], "a core's clock changes when it finishes, not what it computes");
    assert_eq!(by_load["overruns"], top["overruns"], "a core that needs level 3 gets it");
    let f = |r: &serde_json::Value, key: &str| r["energy_breakdown_j"][key].as_f64().expect("a term");
    assert!(f(&by_load, "active_cores") < f(&top, "active_cores"), "lower levels where the load allows");
    assert!(by_load["energy_j"].as_f64() < top["energy_j"].as_f64());
    assert!(top.get("levels_by_load").is_none(), "a fixed level reports none");
    // The ledger by hand: each level's core power for the core-steps spent at it (spinnaker2.toml: 0.081, 0.25 and
    // 0.72 mW; steps of 0.1 ms).
    let steps: Vec<f64> = by_load["levels_by_load"]
        .as_array()
        .expect("core-steps per level")
        .iter()
        .map(|n| n.as_f64().expect("count"))
        .collect();
    let cores = by_load["energy_counts"]["cores"].as_f64().expect("cores");
    assert_eq!(steps.iter().sum::<f64>(), cores * 500.0, "every core, every step, at one level");
    assert!(steps[1] > steps[2] && steps[2] > 0.0, "CUBA's cores mostly fit level 2, some steps need 3: {steps:?}");
    let active = (steps[0] * 0.081e-3 + steps[1] * 0.25e-3 + steps[2] * 0.72e-3) * 1e-4;
    assert!((f(&by_load, "active_cores") - active).abs() < 1e-9 * active, "{active}");
    let latency = by_load["step_latency_s"].as_f64().expect("latency");
    assert!(latency > top["step_latency_s"].as_f64().expect("latency") && latency < 1e-4, "{latency}");
}

#[test]
fn a_small_network_runs_on_one_chip_and_a_large_one_grows_to_a_board() {
    let r = run_json(&["run", "examples/cuba.snn", "--target", "spinnaker2", "--duration", "20ms", "--json", "-q"]);
    assert_eq!(r["machine"]["boards"], 0);
    assert_eq!(r["energy_counts"]["chips"], 1);
    let idle = r["energy_breakdown_j"]["idle_chips"].as_f64().expect("idle");
    assert!((idle - 0.35 * 0.02).abs() < 1e-12, "one chip's idle power, not a board's: {idle}");
    let cycles = r["energy_breakdown_j"]["core_cycles"].as_f64().expect("cycles");
    assert!(cycles > 0.0, "busy cycles cost energy on SpiNNaker 2");

    // 40,000 neurons need 157 cores of 256: more than one chip's 151.
    let dir = temp_dir("s2-board");
    let net = dir.join("wide.snn");
    std::fs::write(
        &net,
        "timestep 1 ms\npopulation p[40000] : lif { tau = 20 ms, r = 1, v_leak = 0, v_threshold = 1, v_reset = 0 }\n",
    )
    .expect("write");
    for boards in [&["--boards", "auto"][..], &[]] {
        let o = soma(&[&["compile", net.to_str().expect("path"), "--target", "spinnaker2"], boards].concat());
        assert!(o.status.success(), "{boards:?}: {}", stderr(&o));
        assert!(stdout(&o).contains("machine: 1 board\n"), "{boards:?} (auto is the default): {}", stdout(&o));
    }
    let o = soma(&["compile", net.to_str().expect("path"), "--target", "spinnaker2", "--boards", "0"]);
    assert!(!o.status.success(), "a single chip cannot hold it");
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn compare_explains_the_difference_from_spinnaker1_by_term_and_constant() {
    let o = soma(&["compare", "examples/cuba.snn", "--targets", "spinnaker1,spinnaker2", "--duration", "50ms", "-q"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    let row = |name: &str| -> Vec<String> {
        let line = text.lines().find(|l| l.starts_with(&format!("{name} |"))).unwrap_or_else(|| panic!("{text}"));
        line.split(" | ").map(str::to_string).collect()
    };
    let (one, two) = (row("spinnaker1"), row("spinnaker2"));
    assert_ne!(one[1], two[1], "energy differs: {text}");
    assert_ne!(one[4], two[4], "step latency differs: {text}");
    assert!(text.contains("spinnaker2 against spinnaker1:\n  energy terms: "), "{text}");
    for constant in ["machine.boards 1 -> 0", "machine.cores_per_chip 18 -> 153", "dvfs.performance_level 1 -> 2"] {
        assert!(text.contains(constant), "{constant} in {text}");
    }
    assert!(!text.contains("mapping.neurons_per_core"), "constants that agree are not listed: {text}");
}

#[test]
fn compare_json_gives_each_target_its_figures_terms_and_differences() {
    let r = run_json(&[
        "compare",
        "examples/cuba.snn",
        "--targets",
        "spinnaker1,spinnaker2,reram_128",
        "--duration",
        "20ms",
        "--json",
        "-q",
    ]);
    let rows = r.as_array().expect("one object per target");
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[1]["against"], "spinnaker1");
    let terms = &rows[1]["energy_terms_j"];
    let sum: f64 = terms.as_object().expect("terms").values().map(|v| v.as_f64().expect("J")).sum();
    assert!((sum - rows[1]["figures"]["energy_j"].as_f64().expect("energy")).abs() < 1e-12, "the terms add up");
    let differs = rows[1]["constants_that_differ"].as_array().expect("differences");
    assert!(differs.iter().any(|d| d["constant"] == "dvfs.performance_level" && d["from"] == 1.0 && d["to"] == 2.0));
    assert!(rows[2]["against"].is_null(), "a crossbar is not compared constant by constant with a SpiNNaker");
}
