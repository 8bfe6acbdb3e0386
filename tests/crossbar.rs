//! The crossbar target end to end in-process: mapping counts, a tile read's energy by hand, exact delivery of an
//! ideal array, and rates against the float reference with and without non-idealities.

use soma_compiler::crossbar::compile;
use soma_compiler::front::snn::{Overrides, parse};
use soma_compiler::instantiate::instantiate;
mod common;

use common::instance;

use std::collections::HashMap;

use soma_isa::codec;
use soma_isa::crossbar::CrossbarImage;
use soma_runtime::crossbar::{CrossbarSynapses, Nonideal, run};
use soma_runtime::reference::Synapses;
use soma_runtime::reference::{RunOptions, Simulator};
use soma_targets::crossbar::Crossbar;
use soma_targets::with_overrides;

fn crossbar(preset: &str, overrides: &[(&str, f64)]) -> Crossbar {
    let o: Vec<(String, f64)> = overrides.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    with_overrides(preset, &o).expect("preset").crossbar().expect("a crossbar").clone()
}

/// 128 source channels that all spike at 0.5 ms onto 16 neurons, all to all, one weight.
fn one_tile() -> String {
    let times = vec!["[0.5 ms]"; 128].join(", ");
    format!(
        "
timestep 0.1 ms
source input[128] : spikes {{ times = [{times}] }}
population out[16] : if_curr_exp {{
    tau_m = 20 ms, cm = 1 nF, v_rest = -65 mV, v_reset = -65 mV, v_thresh = -50 mV, tau_refrac = 2 ms,
    tau_syn_e = 5 ms, tau_syn_i = 5 ms,
}}
projection input -> out : all_to_all {{ weight = 0.1 nA }}
"
    )
}

#[test]
fn one_full_tile_read_costs_what_the_preset_says_by_hand() {
    let xb = crossbar("reram_128", &[]);
    let inst = instance(&one_tile(), 1);
    let (program, report) = compile(&inst, &xb, "reram_128", 0).expect("compiles");
    // 8-bit weights over 2-bit cells: 4 slices x 2 halves = 8 columns per neuron, 16 neurons fill 128 columns.
    assert_eq!((report.tiles, report.neurons_per_tile, report.cells_per_weight), (1, 16, 8));
    assert_eq!(report.block_utilisation, 1.0);
    // Every weight is the largest (q = 255 = 3333 in base 4): all positive halves on, all negative halves off.
    assert_eq!(report.cell_utilisation, 0.5);
    let r = run(&inst, &program, &xb, &Nonideal::default(), &RunOptions { steps: 10, ..Default::default() }, None);
    let l = &r.ledger;
    assert_eq!((l.tile_reads, l.row_activations, l.adc_conversions), (1, 128, 128));
    // Each row: 64 cells at R_on = 100 kOhm and 64 at R_off = 1.7 MOhm, read at 0.5 V for 10 ns.
    let row_g = 64.0 / 100e3 + 64.0 / 1.7e6;
    let cells_j = 128.0 * 0.5 * 0.5 * row_g * 10e-9;
    assert!((l.cells_j - cells_j).abs() < 1e-6 * cells_j, "{} vs {cells_j}", l.cells_j);
    assert!((l.adc_j - 128.0 * 10.1e-12).abs() < 1e-20, "{}", l.adc_j);
    assert!((l.drivers_j - 128.0 * 3.9e-15).abs() < 1e-24, "{}", l.drivers_j);
    // The ADCs dominate: 1.29 nJ against 0.43 nJ of cell reads, as crossbar.md says they usually do.
    assert!(l.adc_j > 2.0 * l.cells_j);
    // One read: the pulse and 8 conversions per ADC, one update slot, one hop from the input port.
    assert!((l.step_latency_max_s - (10e-9 + 8.0 * 8e-9 + 10e-9 + 1e-9)).abs() < 1e-15, "{}", l.step_latency_max_s);
}

#[test]
fn a_narrow_adc_range_clips_a_fully_driven_tile() {
    let xb = crossbar("reram_128", &[]);
    let inst = instance(&one_tile(), 1);
    let (program, _) = compile(&inst, &xb, "reram_128", 0).expect("compiles");
    let all_rows: Vec<(u32, u32)> = (0..128).map(|n| (n, 1)).collect();
    let input = |adc_range: f64| {
        let mut synapses =
            CrossbarSynapses::new(&inst, &program, &xb, Nonideal { adc_range, ..Nonideal::default() }, 1);
        let mut out = Vec::new();
        synapses.deliver(0, &all_rows, &mut out);
        assert_eq!(out.len(), 16);
        out.iter().map(|o| o.2).sum::<f64>() / 16.0
    };
    // The calibrated range holds the full current: 128 inputs of 0.1 nA each (within the 6-bit ADC's rounding).
    assert!((input(1.0) - 12.8e-9).abs() < 1e-2 * 12.8e-9, "{}", input(1.0));
    // A quarter of it clips every column at a quarter of full scale, minus the off-state baseline.
    assert!(input(0.25) < 0.25 * 12.8e-9, "{}", input(0.25));
}

/// Random signed weights and a Poisson drive onto a small recurrent network.
const RANDOM: &str = "
timestep 0.1 ms
source drive[200] : poisson { rate = 20 Hz }
population net[300] : if_curr_exp {
    tau_m = 20 ms, cm = 1 nF, v_rest = -65 mV, v_reset = -65 mV, v_thresh = -50 mV, tau_refrac = 2 ms,
    tau_syn_e = 5 ms, tau_syn_i = 5 ms, v_init = uniform(-65 mV, -50 mV),
}
projection drive -> net : fixed_probability(0.3) { weight = normal(1.5 nA, 0.5 nA) }
projection net -> net : fixed_probability(0.1) { weight = normal(-0.2 nA, 0.4 nA), delay = uniform(0.1 ms, 0.5 ms) }
probe net : spikes
";

fn rate(counts: &[u64], neurons: usize, steps: u64) -> f64 {
    counts.iter().sum::<u64>() as f64 / neurons as f64 / (steps as f64 * 1e-4)
}

#[test]
fn an_ideal_array_with_fine_adcs_delivers_the_quantised_weights_and_matches_the_reference() {
    let inst = instance(RANDOM, 3);
    let steps = 3000;
    let opts = RunOptions { steps, record_all_spikes: true };
    let reference = Simulator::new(&inst).run(&opts, |_| ());
    let reference_rate = rate(&reference.spike_counts, 300, steps);
    assert!(reference_rate > 5.0, "the network is active: {reference_rate} Hz");
    let fine = crossbar("reram_128", &[("adc_bits", 16.0), ("weight_bits", 16.0)]);
    let (program, report) = compile(&inst, &fine, "reram_128", 0).expect("compiles");
    assert!(report.weight_errors.iter().all(|e| e.rms_relative < 1e-2), "{:?}", report.weight_errors);
    assert!(program.tiles.iter().any(|t| t.delay > 1), "delays get their own rows");
    let ideal = run(&inst, &program, &fine, &Nonideal::default(), &opts, None);
    assert_eq!(ideal.tile_reads.len(), program.tiles.len());
    assert_eq!(ideal.tile_reads.iter().sum::<u64>(), ideal.ledger.tile_reads, "every read is some tile's");
    let map = soma_runtime::crossbar::TileMap::of(&program, &ideal.tile_reads);
    assert_eq!(map.tiles.iter().map(|&n| n as usize).sum::<usize>(), program.tiles.len(), "every tile on the map");
    assert_eq!(map.reads.iter().max(), ideal.tile_reads.iter().max(), "the most-read tile is on the map");
    let ideal_rate = rate(&ideal.result.spike_counts, 300, steps);
    assert!((ideal_rate / reference_rate - 1.0).abs() < 0.05, "{ideal_rate} Hz vs {reference_rate} Hz");
    // Early on, before rounding differences can flip a spike near threshold, the spikes are the same.
    let first_difference = ideal.result.spikes[0]
        .iter()
        .zip(&reference.spikes[0])
        .position(|(a, b)| a != b)
        .map(|i| ideal.result.spikes[0][i].0);
    assert!(first_difference.is_none_or(|step| step > 20), "spikes part at step {first_difference:?}");

    // The preset's 6-bit ADCs and 8-bit weights, then every device non-ideality: fidelity degrades, the run
    // stays deterministic per seed.
    let coarse = crossbar("reram_128", &[]);
    let (program, _) = compile(&inst, &coarse, "reram_128", 0).expect("compiles");
    let noisy = Nonideal::from_preset(&coarse);
    let a = run(&inst, &program, &coarse, &noisy, &opts, None);
    let b = run(&inst, &program, &coarse, &noisy, &opts, None);
    assert_eq!(a.result.spikes, b.result.spikes);
    assert_eq!(a.ledger, b.ledger);
    assert_ne!(a.result.spikes[0], ideal.result.spikes[0]);
}

#[test]
fn an_ideal_array_delivers_each_step_what_the_exact_weights_sum_to() {
    let inst = instance(RANDOM, 5);
    let fine = crossbar("reram_128", &[("adc_bits", 16.0), ("weight_bits", 16.0)]);
    let (program, _) = compile(&inst, &fine, "reram_128", 0).expect("compiles");
    let mut synapses = CrossbarSynapses::new(&inst, &program, &fine, Nonideal::default(), 1);
    let k = 1; // net -> net: signed weights, several delays, fan-in over three row blocks
    let spikes: Vec<(u32, u32)> = (0..300).step_by(7).map(|n| (n, 1 + n % 2)).collect();
    let mut delivered = Vec::new();
    synapses.deliver(k, &spikes, &mut delivered);
    let mut got: HashMap<(u16, u32), f64> = HashMap::new();
    for (d, post, v) in delivered {
        *got.entry((d, post)).or_default() += v;
    }
    let mut exact: HashMap<(u16, u32), f64> = HashMap::new();
    let rows = &inst.projections[k].rows;
    for &(pre, count) in &spikes {
        for s in rows.row(pre as usize) {
            *exact.entry((rows.delays[s], rows.targets[s])).or_default() += rows.weights[s] as f64 * count as f64;
        }
    }
    let w_max = rows.weights.iter().fold(0.0f64, |m, w| m.max(w.abs() as f64));
    for (key, want) in &exact {
        let have = got.get(key).copied().unwrap_or(0.0);
        assert!((have - want).abs() < 2e-3 * w_max, "{key:?}: {have} vs {want}");
    }
    // Columns without an active synapse read (after the baseline is subtracted) within an ADC step of zero.
    for (key, have) in got.iter().filter(|(k, _)| !exact.contains_key(k)) {
        assert!(have.abs() < 2e-3 * w_max, "{key:?}: {have}");
    }
}

#[test]
fn crossbar_images_round_trip_and_hostile_contents_are_rejected_by_validation() {
    let xb = crossbar("reram_128", &[]);
    let inst = instance(RANDOM, 3);
    let (program, _) = compile(&inst, &xb, "reram_128", 0).expect("compiles");
    let image = CrossbarImage { program, network: inst, target_text: String::new() };
    let bytes = codec::encode(&image).expect("encodes");
    assert_eq!(codec::decode::<soma_isa::crossbar::CrossbarImage>(&bytes).expect("decodes"), image);
    assert!(codec::decode::<soma_isa::spinnaker::Image>(&bytes).is_err(), "not a SpiNNaker image");
    // Well-formed bytes with bad contents: each must be refused by validation, naming what is wrong.
    let refuse = |edit: &dyn Fn(&mut CrossbarImage), expect: &str| {
        let mut bad = image.clone();
        edit(&mut bad);
        let err = codec::decode::<soma_isa::crossbar::CrossbarImage>(&codec::encode(&bad).expect("encodes"))
            .expect_err(expect);
        assert!(err.to_string().contains(expect), "{err}");
    };
    refuse(&|b| b.program.tiles[0].cells[0].col = 60_000, "outside the block");
    refuse(&|b| b.program.tiles[0].projection = 99, "no such projection");
    refuse(&|b| b.program.tiles[0].post_first = 299, "outside the postsynaptic");
    refuse(&|b| b.network.projections[0].rows.targets[0] = 1_000, "missing neuron");
    refuse(&|b| b.network.projections[0].rows.offsets.pop().map(|_| ()).unwrap_or(()), "malformed synapse rows");
    refuse(&|b| b.network.dt = -1.0, "time step");
    refuse(&|b| b.program.projections.clear(), "do not match");
}

#[test]
fn every_example_instance_passes_the_validation_images_are_checked_with() {
    for file in ["examples/cuba.snn", "examples/synfire.snn", "examples/lsm.snn", "examples/microcircuit.snn"] {
        let text = std::fs::read_to_string(file).expect("example");
        let mut o = Overrides::new();
        if file.contains("microcircuit") {
            o.insert("scale".into(), (0.02, soma_isa::units::Dim::NONE));
        }
        let net = parse(&text, &o).unwrap_or_else(|e| panic!("{file}: {:?}", e.diagnostics(&text)));
        let inst = instantiate(&soma_compiler::valid::validate(&net).expect("valid"), 1).expect("instantiates");
        inst.validate().unwrap_or_else(|e| panic!("{file}: {e}"));
    }
}

#[test]
fn presets_without_room_or_with_gap_junctions_are_refused_clearly() {
    let inst = instance(RANDOM, 3);
    let tiny = crossbar("reram_128", &[("tiles", 2.0)]);
    let err = compile(&inst, &tiny, "reram_128", 0).expect_err("does not fit").to_string();
    assert!(err.contains("tiles") && err.contains("the chip has 2"), "{err}");
    // Refused at the first projection that overflows the chip, before the others are laid out.
    assert!(err.contains("(its first projection alone)"), "{err}");
}

mod cli {
    use super::common::{self, soma, stderr, stdout};

    #[test]
    fn soma_run_on_a_crossbar_reports_tiles_adc_share_and_the_reference() {
        let o = soma(&[
            "run",
            "examples/cuba.snn",
            "--target",
            "reram_128",
            "--duration",
            "300ms",
            "--compare-reference",
            "--json",
            "-q",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let r: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
        assert_eq!(r["mapping"]["tiles"], 8000, "cuba: 25 x 200 + 25 x 50 + 7 x 200 + 7 x 50 blocks of 128 x 16");
        let share = r["adc_energy_share"].as_f64().expect("share");
        assert!(share > 0.5 && share < 1.0, "{share}");
        let parts: f64 = ["cells_j", "drivers_j", "adc_j", "partial_sums_j", "neurons_j", "noc_j"]
            .iter()
            .map(|k| r["ledger"][k].as_f64().expect("part"))
            .sum();
        assert!((parts - r["energy_j"].as_f64().expect("total")).abs() < 1e-9 * parts);
        let macs = &r["in_memory_macs"];
        let mac_j: f64 = ["cells_j", "drivers_j", "adc_j", "partial_sums_j"]
            .iter()
            .map(|k| r["ledger"][k].as_f64().expect("part"))
            .sum();
        assert_eq!(macs["count"], r["synaptic_events"], "a MAC is a synaptic event");
        assert_eq!(macs["weight_bits"], 8.0);
        let per_mac = macs["energy_per_mac_j"].as_f64().expect("per MAC");
        let events = r["synaptic_events"].as_f64().expect("events");
        assert!((per_mac - mac_j / events).abs() < 1e-12 * per_mac, "{per_mac} against {}", mac_j / events);
        let tops = macs["tops_per_w"].as_f64().expect("TOPS/W");
        assert!((tops - 2.0 / per_mac / 1e12).abs() < 1e-9 * tops, "two operations a MAC");
        for p in r["reference"]["populations"].as_array().expect("populations") {
            let e = p["rate_error"].as_f64().expect("error");
            assert!(e.abs() < 0.1, "{p}");
        }
        assert!(stderr(&o).contains("ADCs"), "the text report goes to stderr");
        let json = common::temp_dir("crossbar-report").join("run.json");
        std::fs::write(&json, stdout(&o)).expect("json");
        let o = soma(&["report", json.to_str().expect("path")]);
        assert!(o.status.success() && stdout(&o).contains("adc "), "the report names the ADCs' energy: {}", stdout(&o));
    }

    #[test]
    fn a_compiled_crossbar_image_runs_like_the_network_and_corruption_is_an_error() {
        let o = soma(&["compile", "examples/lsm.snn", "--target", "reram_128"]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(stdout(&o).contains("no image written"), "{}", stdout(&o));
        let dir = common::temp_dir("crossbar-image");
        let img = dir.join("lsm.img");
        let img = img.to_str().expect("path");
        let o = soma(&["compile", "examples/lsm.snn", "--target", "reram_128", "-o", img]);
        assert!(o.status.success(), "{}", stderr(&o));
        let rates = |args: &[&str]| -> Vec<serde_json::Value> {
            let o = soma(args);
            assert!(o.status.success(), "{}", stderr(&o));
            let r: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
            r["populations"].as_array().expect("populations").clone()
        };
        let common_args = ["--duration", "200ms", "--nonideal", "all", "--json", "-q"];
        let from_image = rates(&[&["run", img][..], &common_args].concat());
        let from_network = rates(&[&["run", "examples/lsm.snn", "--target", "reram_128"][..], &common_args].concat());
        assert_eq!(from_image, from_network, "same network, program and seed: same spikes");
        // Flip one byte of the payload: the checksum catches it, and nothing panics.
        let mut bytes = std::fs::read(img).expect("image");
        let at = bytes.len() / 2;
        bytes[at] ^= 0x40;
        std::fs::write(img, &bytes).expect("write");
        let o = soma(&["run", img, "-q"]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert!(stderr(&o).contains("checksum mismatch"), "{}", stderr(&o));
        let o = soma(&["run", "examples/cuba.snn", "--target", "reram_128", "--nonideal", "telepathy", "-q"]);
        assert!(stderr(&o).contains("unknown `telepathy`"), "{}", stderr(&o));
        let o = soma(&["run", "examples/cuba.snn", "--target", "spinnaker1", "--nonideal", "all", "-q"]);
        assert!(stderr(&o).contains("model resistive devices; spinnaker1 is a spinnaker target"), "{}", stderr(&o));
    }

    #[test]
    fn the_nir_csnn_runs_on_the_crossbar_close_to_the_reference() {
        // Drive the second input channel (inputs 64..128), whose kernels excite the fourth feature map.
        let dir = common::temp_dir("crossbar-csnn");
        let input = dir.join("input.csv");
        let rows: Vec<String> = (0..300)
            .map(|t| {
                (0..128)
                    .map(|c| if c >= 64 && (t * 7 + c * 3) % 5 < 3 { "1" } else { "0" })
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .collect();
        std::fs::write(&input, rows.join("\n")).expect("input");
        // With no non-idealities and fine ADCs the crossbar must agree with the reference.
        let preset = std::fs::read_to_string("targets/presets/reram_128.toml").expect("preset");
        let fine = dir.join("fine.toml");
        std::fs::write(&fine, preset.replacen("adc_bits = { value = 6", "adc_bits = { value = 12", 1)).expect("toml");
        let o = soma(&[
            "run",
            "tests/data/nir/csnn_small.nir",
            "--dt",
            "1s",
            "--duration",
            "300s",
            "--input",
            input.to_str().expect("path"),
            "--target",
            fine.to_str().expect("path"),
            "--compare-reference",
            "--json",
            "-q",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let r: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
        assert_eq!(r["mapping"]["tiles"], 18);
        for p in r["reference"]["populations"].as_array().expect("populations") {
            assert!(p["rate_hz"].as_f64().expect("rate") > 0.0, "the input makes {} fire", p["name"]);
            assert!(p["rate_error"].as_f64().expect("error").abs() < 0.05, "{p}");
        }
        assert!(r["reference"]["spikes_matched"].as_f64().expect("matched") > 0.9, "{}", r["reference"]);
    }

    #[test]
    fn compare_puts_the_digital_and_the_crossbar_targets_side_by_side() {
        let o =
            soma(&["compare", "examples/cuba.snn", "--targets", "spinnaker1,reram_128", "--duration", "100ms", "-q"]);
        assert!(o.status.success(), "{}", stderr(&o));
        let out = stdout(&o);
        let row = |name: &str| out.lines().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("{out}")).to_string();
        assert!(row("spinnaker1").contains(" cores |"), "{out}");
        assert!(row("reram_128").contains("8000 tiles"), "{out}");
        let watts = |l: String| l.split(" | ").nth(1).expect("column").parse::<f64>().expect("number");
        assert!(watts(row("reram_128")) < watts(row("spinnaker1")), "{out}");
    }
}

#[test]
fn a_population_the_reference_leaves_silent_has_a_rate_difference_not_an_infinite_error() {
    // On reram_128 a population of the XOR network fires where the reference is silent.
    let o = common::soma(&["compare", "examples/xor_sfq.snn", "--targets", "reram_128", "--duration", "100ms", "-q"]);
    assert!(o.status.success(), "{}", common::stderr(&o));
    let out = common::stdout(&o);
    assert!(!out.contains("inf"), "{out}");
    assert!(out.contains("Hz where the reference is silent"), "{out}");
    let o = common::soma(&[
        "run",
        "examples/xor_sfq.snn",
        "--target",
        "reram_128",
        "--duration",
        "100ms",
        "--compare-reference",
        "-q",
    ]);
    assert!(o.status.success(), "{}", common::stderr(&o));
    assert!(common::stdout(&o).contains("(reference silent)"), "{}", common::stdout(&o));
}

/// One source channel onto one neuron through a plastic synapse of `[0, 1 nA]` starting at 0.5 nA.
fn one_plastic_synapse() -> String {
    "
timestep 0.1 ms
source input[1] : spikes { times = [[0.5 ms]] }
population out[1] : if_curr_exp {
    tau_m = 20 ms, cm = 1 nF, v_rest = -65 mV, v_reset = -65 mV, v_thresh = -50 mV, tau_refrac = 2 ms,
    tau_syn_e = 5 ms, tau_syn_i = 5 ms,
}
projection input -> out : one_to_one {
    weight = 0.5 nA,
    plasticity = STDPMechanism(timing_dependence = SpikePairRule(A_plus = 0.01),
                               weight_dependence = AdditiveWeightDependence(w_max = 1 nA)),
}
"
    .to_string()
}

#[test]
fn a_plastic_cell_moves_by_whole_pulses_along_the_devices_curve_and_pays_for_each() {
    let xb = crossbar("reram_128", &[]);
    let inst = instance(&one_plastic_synapse(), 1);
    let (program, _) = compile(&inst, &xb, "reram_128", 0).expect("compiles");
    // One analog cell, programmed to the pulse position nearest to half its range on the potentiation curve.
    let (ltp, ltd) = xb.learning.curves(1.0, 1.0);
    let level = program.tiles[0].cells[0].level as f64;
    assert_eq!((program.tiles.len(), program.tiles[0].cells.len(), level), (1, 1, ltp.position(0.5).round()));
    let mut cell = CrossbarSynapses::new(&inst, &program, &xb, Nonideal::default(), 1);
    assert!(cell.learns(0));
    let (w_max, x0) = (1e-9, ltp.fraction(level));
    // +0.1 of the range is 9.7 of the 97 potentiation pulses: 10 pulses, along the curve, not 0.1 further.
    let w1 = cell.write(0, 0, x0 * w_max, (x0 + 0.1) * w_max);
    let x1 = ltp.step(x0, 10.0);
    assert!((w1 - x1 * w_max).abs() < 1e-24 && (x1 - x0 - 0.1).abs() > 0.01, "{w1:e}, {x0} -> {x1}");
    // Each pulse costs V^2 G t at the mean of the conductances before and after (3.2 V, 300 us, Ag:a-Si's range).
    let g = |x: f64| 3.0769e-9 + x * (3.8462e-8 - 3.0769e-9);
    let by_hand = 10.0 * 3.2 * 3.2 * 0.5 * (g(x0) + g(x1)) * 300e-6;
    assert!((cell.ledger().write_j - by_hand).abs() < 1e-9 * by_hand, "{:e} vs {by_hand:e}", cell.ledger().write_j);
    // Less than half a pulse is lost; depression runs its own curve (100 pulses).
    assert_eq!(cell.write(0, 0, w1, w1 + 0.004 * w_max), w1);
    let w3 = cell.write(0, 0, w1, w1 - 0.1 * w_max);
    assert!((w3 - ltd.step(x1, -10.0) * w_max).abs() < 1e-24);
    let l = cell.ledger();
    assert_eq!((l.writes, l.write_pulses, l.rounded_away), (2, 20, 1));
    // A spike reads the cell through the ADC (a one-row tile spans G_max in 63 codes).
    let mut out = Vec::new();
    cell.deliver(0, &[(0, 1)], &mut out);
    let lsb = 3.8462e-8 / 63.0 / (3.8462e-8 - 3.0769e-9) * w_max;
    assert!(out.len() == 1 && (out[0].2 - w3).abs() <= 0.5 * lsb, "{out:?} vs {w3:e}");
}

#[test]
fn a_plastic_tile_reads_against_a_reference_column_so_a_neuron_without_current_gets_no_input() {
    // Two channels onto two neurons, one to one: the first row drives only the first neuron's cell.
    let text = one_plastic_synapse()
        .replace("input[1]", "input[2]")
        .replace("out[1]", "out[2]")
        .replace("times = [[0.5 ms]]", "times = [[0.5 ms], [0.6 ms]]");
    let inst = instance(&text, 1);
    for bits in [6.0, 8.0] {
        let xb = crossbar("reram_128", &[("adc_bits", bits)]);
        let (program, _) = compile(&inst, &xb, "reram_128", 0).expect("compiles");
        let mut tile = CrossbarSynapses::new(&inst, &program, &xb, Nonideal::default(), 1);
        let mut out = Vec::new();
        tile.deliver(0, &[(0, 1)], &mut out);
        // The second column carries the driven row's off-state current only, as the reference column does: the
        // same code, so exactly nothing (subtracting the exact baseline instead would leave a rounding offset on
        // every idle neuron at every read, which silenced a plastic liquid at 6 bits and ran it away at 8).
        assert_eq!(out.iter().map(|o| o.1).collect::<Vec<_>>(), [0], "{bits} bits: {out:?}");
        assert!((out[0].2 - 0.5e-9).abs() < 0.1e-9, "{bits} bits: {out:?}");
        // Two neurons' columns and the reference column are converted.
        assert_eq!(tile.ledger().adc_conversions, 3);
    }
}

#[test]
fn a_plastic_cell_wears_out_and_stochastic_rounding_keeps_small_changes_on_average() {
    let inst = instance(&one_plastic_synapse(), 1);
    let xb = crossbar("reram_128", &[("learning.endurance_pulses", 15.0)]);
    let (program, _) = compile(&inst, &xb, "reram_128", 0).expect("compiles");
    let mut cell = CrossbarSynapses::new(&inst, &program, &xb, Nonideal::default(), 1);
    let w0 = xb.learning.curves(1.0, 1.0).0.fraction(program.tiles[0].cells[0].level as f64) * 1e-9;
    let w1 = cell.write(0, 0, w0, w0 + 0.1e-9);
    let w2 = cell.write(0, 0, w1, w1 - 0.1e-9);
    // The second write takes the cell past 15 pulses: it still moves, then sticks.
    assert_ne!(w2, w1);
    assert_eq!(cell.write(0, 0, w2, w2 + 0.1e-9), w2);
    let l = cell.ledger();
    assert_eq!((l.writes, l.worn_cells, l.writes_refused), (2, 1, 1));

    let xb = crossbar("reram_128", &[("learning.pulse_rounding", 1.0)]);
    let (program, _) = compile(&inst, &xb, "reram_128", 0).expect("compiles");
    let mut cell = CrossbarSynapses::new(&inst, &program, &xb, Nonideal::default(), 7);
    let mut w = w0;
    let n = 2000;
    for k in 0..n {
        // 0.004 of the range: 0.388 potentiation or 0.4 depression pulses, taken with that probability.
        let step = if k % 2 == 0 { 0.004e-9 } else { -0.004e-9 };
        w = cell.write(0, 0, w, w + step);
    }
    let expected = n as f64 / 2.0 * (0.388 + 0.4);
    let sd = (n as f64 * 0.24).sqrt();
    let pulses = cell.ledger().write_pulses as f64;
    assert!((pulses - expected).abs() < 4.0 * sd, "{pulses} pulses, expected {expected} +- {sd}");
}
