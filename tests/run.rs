//! `soma run` end to end: fidelity against the float reference on CUBA and the microcircuit, the NIR paper's
//! LIF on spinnaker1, the JSON report, and images that do not match their target.

mod common;

use common::{lif_exact_input, lif_norse_on_the_papers_input, paper_steps, run_json, soma, stderr, stdout, temp_dir};

fn check_fidelity(report: &serde_json::Value, tolerance: f64) {
    for p in report["reference"]["populations"].as_array().expect("reference populations") {
        let err = p["rate_error"].as_f64().expect("rate error");
        assert!(
            err.abs() < tolerance,
            "{}: machine {} Hz vs reference {} Hz",
            p["name"],
            p["machine_rate_hz"],
            p["rate_hz"]
        );
    }
}

#[test]
fn cuba_on_spinnaker1_matches_the_reference_within_ten_percent() {
    let r = run_json(&[
        "run",
        "examples/cuba.snn",
        "--target",
        "spinnaker1",
        "--duration",
        "1s",
        "--compare-reference",
        "--json",
        "-q",
    ]);
    check_fidelity(&r, 0.10);
    for key in [
        "populations",
        "energy_j",
        "energy_breakdown_j",
        "energy_per_synaptic_event_j",
        "synaptic_events",
        "overruns",
        "dropped_packets",
        "duration_s",
        "wall_s",
        "events_per_wall_s",
    ] {
        assert!(!r[key].is_null(), "{key} missing");
    }
    let b = &r["energy_breakdown_j"];
    let sum = b["idle_chips"].as_f64().expect("idle")
        + b["active_cores"].as_f64().expect("active")
        + b["core_cycles"].as_f64().expect("cycles")
        + b["packets"].as_f64().expect("packets");
    assert!((sum - r["energy_j"].as_f64().expect("total")).abs() < 1e-9);
    assert!(r["synaptic_events"].as_u64().expect("events") > 1_000_000);
}

#[test]
fn microcircuit_at_scale_0_2_matches_the_reference_within_fifteen_percent() {
    let r = run_json(&[
        "run",
        "examples/microcircuit.snn",
        "--set",
        "scale=0.2",
        "--duration",
        "1s",
        "--compare-reference",
        "--json",
        "-q",
    ]);
    check_fidelity(&r, 0.15);
}

#[test]
fn the_nir_paper_lif_fires_when_the_exact_reference_does() {
    let dir = temp_dir("run-norse");
    let (times, expected) = lif_norse_on_the_papers_input(&dir, &["run", "--target", "spinnaker1"]);
    let steps = paper_steps(&times);
    assert_eq!(steps.len(), expected.len(), "{steps:?} vs {expected:?}");
    for (s, e) in steps.iter().zip(&expected) {
        assert!(s.abs_diff(*e) <= 1, "spike in step {s}, reference {e}");
    }
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn the_nir_paper_lif_on_spinnaker2_fires_in_the_steps_spinnaker2_did() {
    // paper/lif_spinnaker2.csv: what the SpiNNaker 2 chip produced for the NIR paper (column 2: output spike).
    let dir = temp_dir("run-norse-s2");
    let (times, _) = lif_norse_on_the_papers_input(&dir, &["run", "--target", "spinnaker2"]);
    let steps = paper_steps(&times);
    let chip = std::fs::read_to_string("tests/data/nir/paper/lif_spinnaker2.csv").expect("the paper's output");
    let fired: Vec<usize> = chip
        .lines()
        .enumerate()
        .filter(|(_, l)| l.split(',').nth(2).and_then(|x| x.parse::<f64>().ok()).expect("a number") > 0.0)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(fired.len(), 4, "the paper's chip fired four times");
    assert_eq!(steps, fired);
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn a_time_scale_factor_gives_each_step_its_cycles_and_charges_the_wall_time() {
    // CUBA's busiest core needs about 1.5x the 20,000 cycles of a real-time 0.1 ms step: twice the wall time fits.
    let run = |factor: &str| {
        let set = format!("time_scale_factor={factor}");
        run_json(&[
            "run",
            "examples/cuba.snn",
            "--target",
            "spinnaker1",
            "--target-set",
            &set,
            "--duration",
            "50ms",
            "--json",
            "-q",
        ])
    };
    let (real, slow) = (run("1"), run("2"));
    assert!(real["overruns"].as_u64().expect("overruns") > 0, "real time overruns");
    assert_eq!(slow["overruns"], 0, "half speed keeps up");
    let idle = |r: &serde_json::Value| r["energy_breakdown_j"]["idle_chips"].as_f64().expect("idle");
    assert!((idle(&real) - 26.84 * 0.05).abs() < 1e-9 && (idle(&slow) - 2.0 * 26.84 * 0.05).abs() < 1e-9);
    // The system level adds the board's box over the machine's time; the wall-plug figure is that total.
    let system = &slow["system"];
    assert_eq!(system["machine_time_s"], 0.1);
    assert!((system["enclosure_j"].as_f64().expect("box") - 5.04 * 0.1).abs() < 1e-9, "{system}");
    let chip = slow["energy_j"].as_f64().expect("energy");
    assert!((system["energy_j"].as_f64().expect("system") - chip - 5.04 * 0.1).abs() < 1e-9);
    assert_eq!(system["unknown"], serde_json::json!([]));
    // SpiNNaker 2's enclosure has no published figure: on a board, the report names the unknown term.
    let s2 = run_json(&[
        "run",
        "examples/cuba.snn",
        "--target",
        "spinnaker2",
        "--boards",
        "1",
        "--duration",
        "10ms",
        "--json",
        "-q",
    ]);
    assert_eq!(s2["system"]["unknown"], serde_json::json!(["system.box_w"]));
    assert_eq!(s2["system"]["energy_j"], s2["energy_j"]);
}

#[test]
fn images_run_only_on_their_target() {
    let dir = temp_dir("run-image");
    let img = dir.join("cuba.img");
    let img = img.to_str().expect("path");
    assert!(soma(&["compile", "examples/cuba.snn", "-o", img]).status.success());
    let r = run_json(&["run", img, "--duration", "100ms", "--json", "-q"]);
    assert_eq!(r["target"], "spinnaker1");
    let o = soma(&["run", img, "--target", "spinnaker2", "--duration", "10ms"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("compiled for spinnaker1 with other constants than spinnaker2"), "{}", stderr(&o));
    let o = soma(&["run", img, "--compare-reference"]);
    assert_eq!(o.status.code(), Some(1));
    // Flags that would change what the image fixes are refused, not ignored.
    let o = soma(&["run", img, "--set", "n=400", "--seed", "7", "--boards", "3"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("--set, --boards, --seed: an image fixes"), "{}", stderr(&o));
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

/// Eight neurons fire in the same step into one neuron: 8 x 3 of input in one ring-buffer entry.
const SYNCHRONOUS: &str = "timestep 1 ms
source s[8] : spikes { times = [[10 ms, 50 ms], [10 ms, 50 ms], [10 ms, 50 ms], [10 ms, 50 ms], [10 ms, 50 ms], \
[10 ms, 50 ms], [10 ms, 50 ms], [10 ms, 50 ms]] }
population a[8] : lif { tau = 20 ms, r = 1, v_leak = 0, v_threshold = 1, v_reset = 0 }
population b[1] : lif { tau = 20 ms, r = 1, v_leak = 0, v_threshold = 1, v_reset = 0 }
projection s -> a : one_to_one { weight = 30 }
projection a -> b : all_to_all { weight = 3 }
";

#[test]
fn synchronous_input_saturates_the_ring_buffer_as_spynnakers_shift_heuristic_predicts() {
    let dir = temp_dir("saturation");
    let net = dir.join("sync.snn");
    std::fs::write(&net, SYNCHRONOUS).expect("write");
    let preset = std::fs::read_to_string("targets/presets/spinnaker1.toml").expect("preset");
    let wider = dir.join("wide.toml");
    let line = preset.lines().find(|l| l.starts_with("ring_buffer_sigma")).expect("ring_buffer_sigma in the preset");
    std::fs::write(&wider, preset.replace(line, "ring_buffer_sigma = { value = 20, source = \"test\" }"))
        .expect("write");
    let run = |target: &str| {
        let args = ["run", net.to_str().expect("utf-8"), "--target", target, "--duration", "100ms"];
        run_json(&[&args[..], &["--compare-reference", "--json", "-q"]].concat())
    };
    let b_rate = |r: &serde_json::Value| r["populations"][1]["rate_hz"].as_f64().expect("rate");
    // Sigma 5 at 30 Hz: b's excitatory peak is 8 x 3 x 0.03 + 5 sd (sd^2 = 8 x 9 x 0.03 x 0.97) = 7.96, so the
    // shift is 2 and an entry holds at most 65535 x 4 / 32768 = 8.0: of the 8 weights of 3 (24576 each) the third
    // to the eighth saturate, twice. b never reaches its threshold; the reference fires it at both volleys.
    let narrow = run("spinnaker1");
    assert_eq!(narrow["ring_buffer_saturations"], 12);
    assert_eq!(b_rate(&narrow), 0.0);
    assert_eq!(narrow["reference"]["populations"][1]["rate_hz"], 20.0);
    // Sigma 20: the peak is 29.7, the shift 4, the entry's range 32: nothing saturates and b fires as in the reference.
    let wide = run(wider.to_str().expect("utf-8"));
    assert_eq!(wide["ring_buffer_saturations"], 0);
    assert_eq!(b_rate(&wide), 20.0);
}

#[test]
fn an_image_carries_its_target_and_runs_without_the_preset_file() {
    // Compiled against a preset copy that is then deleted: every family's image still runs on its own.
    let dir = temp_dir("run-carried");
    for (preset, net) in
        [("spinnaker1", "examples/cuba.snn"), ("reram_128", "examples/cuba.snn"), ("sfq_mitll", "examples/xor_sfq.snn")]
    {
        let copy = dir.join(format!("{preset}_copy.toml"));
        let text = std::fs::read_to_string(format!("targets/presets/{preset}.toml")).expect("preset");
        std::fs::write(&copy, text.replacen(&format!("name = \"{preset}\""), &format!("name = \"{preset}_copy\""), 1))
            .expect("copy");
        let img = dir.join(format!("{preset}.img"));
        let o =
            soma(&["compile", net, "--target", copy.to_str().expect("path"), "-o", img.to_str().expect("path"), "-q"]);
        assert!(o.status.success(), "{preset}: {}", stderr(&o));
        std::fs::remove_file(&copy).expect("delete the copy");
        let o = soma(&["run", img.to_str().expect("path"), "--duration", "5ms", "--json", "-q"]);
        assert!(o.status.success(), "{preset}: {}", stderr(&o));
        let r: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
        assert_eq!(r["target"], format!("{preset}_copy"), "{preset}");
    }
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn run_records_the_hardware_membrane_beside_the_reference() {
    let dir = temp_dir("run-trace");
    let trace = dir.join("v.csv");
    let t = trace.to_str().expect("path");
    let o = soma(&[
        "run",
        "examples/cuba.snn",
        "--duration",
        "20ms",
        "--probe",
        "exc[7..9]:v",
        "--trace",
        t,
        "--compare-reference",
        "-q",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&trace).expect("trace");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("time_s,population,neuron,v,raw,reference_v"));
    let all: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(all.len(), 200 * 7, "the file's five probed neurons and the two asked for, 200 steps");
    let rows: Vec<&Vec<&str>> = all.iter().filter(|r| r[2] == "7" || r[2] == "8").collect();
    assert_eq!(rows.len(), 200 * 2, "neurons 7 and 8 (the range's end is exclusive)");
    for r in &rows {
        let (v, raw): (f64, f64) = (r[3].parse().expect("v"), r[4].parse().expect("raw"));
        assert!((v - raw / 32768.0 * 1e-3).abs() < 1e-15, "v is the s16.15 register in mV, as volts: {r:?}");
        assert!((-0.08..=-0.04).contains(&v), "a membrane potential in volts: {r:?}");
    }
    // The first step: the same start and update on both, to the register's resolution (2^-15 mV).
    for r in &rows[..2] {
        let (v, reference): (f64, f64) = (r[3].parse().expect("v"), r[5].parse().expect("reference"));
        assert!((v - reference).abs() < 1e-7, "{r:?}");
    }
    // Families that do not record traces, and images, say so.
    let o = soma(&["run", "examples/cuba.snn", "--target", "reram_128", "--probe", "exc:v", "--duration", "1ms"]);
    assert!(!o.status.success() && stderr(&o).contains("does not record them yet"), "{}", stderr(&o));
    let img = dir.join("cuba.img");
    assert!(soma(&["compile", "examples/cuba.snn", "-o", img.to_str().expect("path"), "-q"]).status.success());
    let o = soma(&["run", img.to_str().expect("path"), "--probe", "exc:v", "--duration", "1ms"]);
    assert!(!o.status.success() && stderr(&o).contains("--probe needs the network"), "{}", stderr(&o));
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn the_nir_papers_lif_membrane_on_spinnaker1_follows_the_reference_within_its_quantisation() {
    let dir = temp_dir("run-trace-lif");
    let (input, expected) = lif_exact_input(&dir);
    let trace = dir.join("v.csv");
    let o = soma(&[
        "run",
        "tests/data/nir/paper/lif_norse.nir",
        "--dt",
        "0.1ms",
        "--duration",
        "100ms",
        "--input",
        input.to_str().expect("path"),
        "--probe",
        "n1:v",
        "--trace",
        trace.to_str().expect("path"),
        "--compare-reference",
        "-q",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let rows: Vec<(f64, f64)> = std::fs::read_to_string(&trace)
        .expect("trace")
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[3].parse().expect("v"), f[5].parse().expect("reference"))
        })
        .collect();
    assert_eq!(rows.len(), 1000);
    // Up to the first spike: every step's rounding (half a unit of 2^-15 of the unitless register) and the
    // weight's quantisation accumulate to at most 16 units. After a spike the two differ by design: the exact
    // reference resets at the crossing inside the step and integrates the rest of it, the machine at the step's
    // end (docs/isa.md).
    let first = expected[0];
    let worst = rows[..first].iter().map(|(v, r)| (v - r).abs()).fold(0.0, f64::max);
    assert!(worst <= 16.0 / 32768.0, "largest difference before the first spike {worst:e}");
    assert!(rows[first].0 == 0.0, "the machine resets at the step of the reference's first spike");
    std::fs::remove_dir_all(&dir).expect("cleanup");
}
