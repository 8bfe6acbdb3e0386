//! Plastic projections: the reference's STDP against NEST's `stdp_synapse`, the `.snn` syntax and its errors,
//! the weights `soma simulate` reports, SpiNNaker's fixed-point STDP against the reference, and the targets that
//! refuse to learn.

mod common;

use common::{instance, soma, stderr, stdout, temp_dir};
use soma_runtime::reference::{RunOptions, Simulator};
use soma_runtime::spinnaker::Machine;

/// tests/data/nest/stdp_window.txt (tools/nest/stdp_window.py, NEST 3.10): per lag t_post - t_pre (ms), the weight
/// after the protocol of examples/stdp_window.snn with additive and with multiplicative weight dependence (initial
/// weight 0.1).
fn nest_window() -> Vec<(i32, f64, f64)> {
    let text = std::fs::read_to_string("tests/data/nest/stdp_window.txt").expect("NEST's numbers");
    let row = |l: &str| {
        let f: Vec<&str> = l.split_whitespace().collect();
        (f[0].parse().expect("a number"), f[1].parse().expect("a number"), f[2].parse().expect("a number"))
    };
    text.lines().skip(1).map(row).collect()
}

#[test]
fn the_stdp_window_is_nests_at_every_lag() {
    let text = std::fs::read_to_string("examples/stdp_window.snn").expect("example");
    let inst = instance(&text, 1);
    let result = Simulator::new(&inst).run(&RunOptions { steps: 6000, record_all_spikes: false }, |_| {});
    let [add, mul] = &result.learned[..] else { panic!("two plastic projections, got {}", result.learned.len()) };
    assert_eq!((inst.projections[add.projection].name.as_str(), add.weights.len()), ("pre->post_add", 21));
    assert_eq!((inst.projections[mul.projection].name.as_str(), mul.weights.len()), ("pre->post_mul", 21));
    // soma's weights start at 0.1 as f32 (NEST's at 0.1 in f64): compare the changes, which NEST prints to about
    // eight significant digits.
    let w0 = 0.1f32 as f64;
    let nest = nest_window();
    assert_eq!(nest.len(), 21);
    for (k, &(lag, nest_add, nest_mul)) in nest.iter().enumerate() {
        for (soma_w, nest_w, what) in
            [(add.weights[k], nest_add, "additive"), (mul.weights[k], nest_mul, "multiplicative")]
        {
            let (ours, theirs) = (soma_w - w0, nest_w - 0.1);
            assert!(
                (ours - theirs).abs() <= 1e-6 * theirs.abs(),
                "{what}, lag {lag} ms: soma changes the weight by {ours:e}, NEST by {theirs:e}"
            );
        }
    }
}

#[test]
fn simulate_reports_and_writes_the_learned_weights() {
    let dir = temp_dir("plastic-weights");
    let csv = dir.join("w.csv");
    let o = soma(&["simulate", "examples/stdp_window.snn", "-q", "--weights", csv.to_str().expect("path")]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("learned pre->post_add: 21 synapses; mean weight 0.1 -> 0.1 (+0.0298%);"), "{text}");
    assert!(text.contains("; 11 potentiated, 10 depressed"), "{text}");
    // All start at 0.1, in the middle of [0, 0.2]; the depressed ones end just below it.
    assert!(
        text.contains("tenth of [w_min, w_max]: before 0 0 0 0 0 21 0 0 0 0; after 0 0 0 0 10 11 0 0 0 0"),
        "{text}"
    );
    let written = std::fs::read_to_string(&csv).expect("weights csv");
    let lines: Vec<&str> = written.lines().collect();
    assert_eq!(lines[0], "projection,pre,post,delay_s,weight_before,weight_after");
    assert_eq!(lines.len(), 1 + 42);
    // Lag -5 ms: post before pre, depressed.
    let after: f64 = lines[10].rsplit(',').next().expect("a field").parse().expect("a number");
    assert!(lines[10].starts_with("pre->post_add,9,9,0.0001,0.1,"), "{}", lines[10]);
    assert!((after - nest_window()[9].1).abs() < 1e-8, "{after}");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn weight_traces_show_when_each_pair_is_applied() {
    let dir = temp_dir("plastic-trace");
    let csv = dir.join("trace.csv");
    let o = soma(&[
        "simulate",
        "examples/stdp_window.snn",
        "-q",
        "--weight-probe",
        "pre->post_add[9..11]",
        "--weight-trace",
        csv.to_str().expect("path"),
        "--weight-every",
        "50ms",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&csv).expect("trace");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "time_s,projection,synapse,pre,post,weight");
    assert_eq!(lines.len(), 1 + 20 * 2, "20 samples of 2 synapses in 1 s");
    let weight = |time: f64, synapse: &str| -> f64 {
        let line = lines[1..]
            .iter()
            .map(|l| l.split(',').collect::<Vec<_>>())
            .find(|f| (f[0].parse::<f64>().expect("a time") - time).abs() < 1e-9 && f[2] == synapse)
            .expect("a sample");
        line[5].parse().expect("a number")
    };
    let (w0, nest) = (0.1f32 as f64, nest_window());
    // Lag -5 ms (synapse 9) is depressed by the pre spike at 100 ms; lag 0 (synapse 10) is potentiated only when the
    // next pre spike arrives, at 500 ms (deferred updates): a sample at t holds the steps before t, the spike at
    // 500 ms is in the next.
    assert_eq!(weight(0.1, "9"), w0);
    assert!((weight(0.15, "9") - nest[9].1).abs() < 1e-8);
    assert_eq!(weight(0.5, "10"), w0);
    assert!((weight(0.55, "10") - nest[10].1).abs() < 1e-8);
    std::fs::remove_dir_all(dir).ok();
}

/// A network with one plastic projection whose block ends in `rest` (after `weight = w0`).
fn plastic(connector: &str, rest: &str) -> String {
    format!(
        "timestep 0.1 ms\nsource s[4] : poisson {{ rate = 10 Hz }}\npopulation p[4] : if_curr_exp {{ tau_m = 20 ms, \
         cm = 1 nF, v_rest = -65 mV, v_reset = -65 mV, v_thresh = -50 mV, tau_refrac = 2 ms, tau_syn_e = 5 ms, \
         tau_syn_i = 5 ms }}\nprojection s -> p : {connector} {{ weight = 0.5 nA, {rest} }}\n"
    )
}

const RULE: &str = "plasticity = STDPMechanism(timing_dependence = SpikePairRule(A_plus = 0.01), \
                    weight_dependence = AdditiveWeightDependence(w_max = 1 nA))";

fn check_fails(text: &str, expected: &str) {
    let dir = temp_dir("plastic-errors");
    let file = dir.join("net.snn");
    std::fs::write(&file, text).expect("write");
    let o = soma(&["check", file.to_str().expect("path")]);
    assert!(!o.status.success(), "{text} should be refused");
    assert!(stderr(&o).contains(expected), "{text}: expected `{expected}` in\n{}", stderr(&o));
    assert!(stderr(&o).contains("net.snn:4:"), "the error points at the projection: {}", stderr(&o));
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn rules_are_checked_where_they_are_written() {
    // PyNN's defaults fill what is not given; the rule reads back as written.
    let inst = instance(&plastic("all_to_all", RULE), 1);
    let rule = inst.projections[0].plasticity.expect("plastic");
    assert_eq!((rule.tau_plus, rule.tau_minus, rule.a_plus, rule.a_minus), (0.02, 0.02, 0.01, 0.01));
    assert_eq!((rule.w_min, rule.w_max), (0.0, 1e-9));
    check_fails(&plastic("all_to_all", &RULE.replace("1 nA", "1 mV")), "expected a current");
    check_fails(&plastic("all_to_all", &RULE.replace("A_plus = 0.01", "A_plus = -1")), "A_plus = -1 is not");
    check_fails(&plastic("all_to_all", &RULE.replace("SpikePairRule", "SpikeTripletRule")), "SpikePairRule(...)");
    check_fails(&plastic("all_to_all", &RULE.replace("w_max = 1 nA", "w_min = 1 nA")), "missing `w_max`");
    check_fails(&plastic("all_to_all", &RULE.replace("1 nA", "0.25 nA")), "outside the plasticity bounds");
    let modulated = |m: &str| RULE.replace("w_max = 1 nA)", &format!("w_max = 1 nA), modulation = {m}"));
    let inst = instance(&plastic("all_to_all", &modulated("RateModulation(of = p, tau = 1 s, gain = 0.1 s)")), 1);
    let m = inst.projections[0].plasticity.and_then(|r| r.modulation).expect("a third factor");
    assert_eq!((m.of, m.tau, m.gain, m.baseline), (soma_isa::instance::Pre::Population(0), 1.0, 0.1, 0.0));
    check_fails(
        &plastic("all_to_all", &modulated("RateModulation(of = q, tau = 1 s, gain = 0.1 s)")),
        "no population or source `q`",
    );
    check_fails(
        &plastic("all_to_all", &modulated("RateModulation(of = s, tau = 0 s, gain = 0.1 s)")),
        "modulation tau = 0 s",
    );
    check_fails(&plastic("all_to_all", &modulated("RateModulation(of = s, tau = 1 s, gain = 0.1)")), "expected a time");
    check_fails(
        &plastic(
            "conv2d(input = [1, 2, 2], out_channels = 1, kernel = [1, 1], weights = [0.5 nA])",
            &RULE.replace("weight = 0.5 nA, ", ""),
        )
        .replace("weight = 0.5 nA, ", ""),
        "cannot learn per synapse",
    );
}

#[test]
fn spinnaker1_learns_the_stdp_window_within_its_quantisation_bound() {
    let text = std::fs::read_to_string("examples/stdp_window.snn").expect("example");
    let inst = instance(&text, 1);
    let target = soma_targets::lookup("spinnaker1").expect("preset");
    let spinn = target.spinnaker().expect("a SpiNNaker preset");
    let image =
        soma_compiler::spinnaker::compile(&inst, spinn, &target.name, target.fingerprint, 1).expect("compiles").0;
    let mut machine = Machine::new(&image, spinn, target.fingerprint).expect("loads");
    for _ in 0..6000 {
        machine.advance();
    }
    let reference = Simulator::new(&inst).run(&RunOptions { steps: 6000, record_all_spikes: false }, |_| {});
    let (initial, learned) = (machine.plastic_weights(true), machine.plastic_weights(false));
    for (k, p) in image.plastic.iter().enumerate() {
        let unit = image
            .cores
            .iter()
            .find_map(|c| match &c.kind {
                soma_isa::spinnaker::CoreKind::Neurons(n) => n.synapses.plastic.as_ref().map(|p| p.unit),
                _ => None,
            })
            .expect("a core with plastic rows");
        let theirs = reference.learned.iter().find(|l| inst.projections[l.projection].name == p.name).expect("learned");
        for (s, ((&w0, &w), &r)) in initial[k].iter().zip(&learned[k]).zip(&theirs.weights).enumerate() {
            // The initial weight rounds to the unit (half a unit), each of the two presynaptic spikes truncates the
            // updated weight (under one unit each), the traces round (under 3/2048 of a step of 0.002 / unit).
            let bound = unit * (0.5 + 2.0) + 0.002 * 3.0 / 2048.0;
            assert!(
                (w - r).abs() <= bound,
                "{} synapse {s}: spinnaker1 {w:e}, reference {r:e} (bound {bound:e})",
                p.name
            );
            // Every pairing moves the weight as in the reference: a step of about 1e-3 is 16 units here.
            assert_eq!(
                (w - w0).signum(),
                (r - 0.1f32 as f64).signum(),
                "{} synapse {s}: {w0:e} -> {w:e}, reference -> {r:e}",
                p.name
            );
        }
    }
    let spinnaker_cost = machine.counters().iter().map(|c| c.plastic_events).sum::<u64>();
    assert_eq!(
        spinnaker_cost, 84,
        "42 pre spikes onto each of the two projections' 21 synapses, each one plastic event"
    );
}

#[test]
fn spinnaker_refuses_what_it_cannot_learn_at_the_projection() {
    let dir = temp_dir("plastic-spinnaker");
    let modulated = "plasticity = STDPMechanism(timing_dependence = SpikePairRule(A_plus = 0.01), weight_dependence \
                     = AdditiveWeightDependence(w_max = 1 nA), modulation = RateModulation(of = s, tau = 100 ms, gain \
                     = 0.01 s, baseline = 1))";
    let slow = format!("delay = 3 ms, {RULE}");
    for (name, text, reason) in [
        ("modulated", plastic("all_to_all", modulated), "a third factor"),
        ("slow", plastic("all_to_all", &slow), "needs a delay-extension core"),
        (
            "negative",
            plastic("all_to_all", &RULE.replace("w_max = 1 nA", "w_min = -1 nA, w_max = 1 nA")),
            "excitatory magnitudes",
        ),
    ] {
        let file = dir.join(format!("{name}.snn"));
        std::fs::write(&file, &text).expect("write");
        let out = dir.join(format!("{name}.img"));
        let o = soma(&[
            "compile",
            file.to_str().expect("path"),
            "--target",
            "spinnaker1",
            "-o",
            out.to_str().expect("path"),
        ]);
        assert!(!o.status.success(), "{name}: spinnaker1 compiled it");
        let err = stderr(&o);
        assert!(err.contains("plastic projection s->p cannot be lowered") && err.contains(reason), "{name}: {err}");
        assert!(err.contains(&format!("{name}.snn:4:")), "{name}: the error points at the projection: {err}");
        assert!(!out.exists(), "{name}: an image was written");
    }
    // Two projections with different rules onto one population: sPyNNaker runs one synapse dynamics per population.
    let two = plastic("one_to_one", RULE)
        + &format!(
            "projection s -> p : all_to_all {{ weight = 0.5 nA, {} }}\n",
            RULE.replace("A_plus = 0.01", "A_plus = 0.02")
        );
    let file = dir.join("two.snn");
    std::fs::write(&file, two).expect("write");
    let o = soma(&[
        "compile",
        file.to_str().expect("path"),
        "--target",
        "spinnaker1",
        "-o",
        dir.join("two.img").to_str().expect("path"),
    ]);
    assert!(!o.status.success() && stderr(&o).contains("one synapse dynamics per population"), "{}", stderr(&o));
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn sfq_does_not_learn_and_says_so_at_the_projection() {
    let dir = temp_dir("plastic-targets");
    let file = dir.join("net.snn");
    std::fs::write(&file, plastic("all_to_all", RULE)).expect("write");
    let out = dir.join("sfq.img");
    let o =
        soma(&["compile", file.to_str().expect("path"), "--target", "sfq_mitll", "-o", out.to_str().expect("path")]);
    assert!(!o.status.success(), "SFQ compiled a plastic projection");
    let err = stderr(&o);
    assert!(
        err.contains("cannot run a plastic projection") && err.contains("no sourced SFQ learning circuit"),
        "{err}"
    );
    assert!(err.contains("net.snn:4:"), "the error points at the projection: {err}");
    assert!(!out.exists(), "SFQ wrote an image");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn the_crossbar_refuses_what_one_analog_cell_cannot_hold() {
    let dir = temp_dir("plastic-crossbar");
    let file = dir.join("net.snn");
    let signed =
        RULE.replace("AdditiveWeightDependence(w_max = 1 nA)", "AdditiveWeightDependence(w_min = -1 nA, w_max = 1 nA)");
    std::fs::write(&file, plastic("all_to_all", &signed)).expect("write");
    let o = soma(&["compile", file.to_str().expect("path"), "--target", "reram_128"]);
    let err = stderr(&o);
    assert!(!o.status.success() && err.contains("one analog cell per synapse") && err.contains("net.snn:4:"), "{err}");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn the_write_back_rounding_is_a_target_setting() {
    let mean_after = |extra: &[&str]| {
        let mut args = vec!["run", "examples/stdp_window.snn", "--target", "spinnaker1", "-q", "--json"];
        args.extend(extra);
        let r = common::run_json(&args);
        r["plasticity"]["learned"][0]["mean_after"].as_f64().expect("mean")
    };
    let (truncated, rounded) = (mean_after(&[]), mean_after(&["--target-set", "stdp_rounding=1"]));
    // Rounding never gives less than truncating, and here it gives more (some updates end with a fraction above 1/2).
    assert!(rounded > truncated, "rounded {rounded:e}, truncated {truncated:e}");
    let o = soma(&["run", "examples/stdp_window.snn", "--target-set", "stdp_rounding=2"]);
    assert!(
        !o.status.success() && stderr(&o).contains("stdp_rounding must be a whole number in 0..=1"),
        "{}",
        stderr(&o)
    );
    let o = soma(&["run", "examples/stdp_window.snn", "--target-set", "rounding"]);
    assert!(!o.status.success() && stderr(&o).contains("expected KEY=VALUE"), "{}", stderr(&o));
    // An image carries its target: changing it at run time is refused.
    let dir = temp_dir("plastic-target-set");
    let img = dir.join("w.img");
    let o = soma(&[
        "compile",
        "examples/stdp_window.snn",
        "--target-set",
        "stdp_rounding=1",
        "-o",
        img.to_str().expect("path"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = soma(&["run", img.to_str().expect("path"), "--target-set", "stdp_rounding=0"]);
    assert!(!o.status.success() && stderr(&o).contains("compile the network with it"), "{}", stderr(&o));
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn the_ca3_memory_recalls_every_pattern_on_the_reference_and_on_spinnaker1() {
    let recall = common::ca3_recall;
    assert_eq!(recall(&["simulate"]), (1.0, 0.0), "the reference completes every pattern, and only it");
    assert_eq!(recall(&["run", "--target", "spinnaker1"]), (1.0, 0.0), "spinnaker1 recalls the same patterns");
    // The control: synapses that cannot grow strong enough store nothing, and the score says so.
    assert_eq!(recall(&["simulate", "--set", "w_max=0.2 nA"]), (0.0, 0.0));
}

#[test]
fn the_ca3_memory_learns_in_place_on_the_crossbar_until_its_cells_are_too_coarse() {
    let recall = common::ca3_recall;
    assert_eq!(recall(&["run", "--target", "reram_128"]), (1.0, 0.0), "97-pulse Ag:a-Si cells hold the patterns");
    let coarse = ["run", "--target", "reram_128", "--target-set", "pulses_ltp=3", "--target-set", "pulses_ltd=3"];
    let (coarse_recall, _) = recall(&coarse);
    assert!(coarse_recall < 0.5, "3 pulses across the range lose most of a pattern's synapses: {coarse_recall}");
    // What learning cost: the write pulses' energy, and the cells they wore.
    let r = common::run_json(&[
        "run",
        "examples/ca3_cam.snn",
        "--target",
        "reram_128",
        "--duration",
        "2.8s",
        "--compare-reference",
        "-q",
        "--json",
    ]);
    let (share, writes) =
        (r["write_energy_share"].as_f64().expect("share"), r["ledger"]["writes"].as_u64().expect("n"));
    assert!(share > 0.1 && share < 0.9 && writes > 500, "write share {share}, {writes} writes");
    assert_eq!(r["learned"][0]["projection"], "ca3->ca3");
    assert!(r["reference"]["weights"][0]["rms_difference"].as_f64().is_some(), "{}", r["reference"]["weights"]);
    // The HTML report shows the writes and what was learned.
    let dir = temp_dir("plastic-crossbar-html");
    let (json, html) = (dir.join("run.json"), dir.join("run.html"));
    std::fs::write(&json, r.to_string()).expect("write");
    let o = soma(&["report", json.to_str().expect("path"), "--html", html.to_str().expect("path")]);
    assert!(o.status.success(), "{}", stderr(&o));
    let page = std::fs::read_to_string(&html).expect("page");
    let writes = format!("{} cell writes of", soma_isa::report::thousands(writes));
    assert!(page.contains("<h2>Plasticity</h2>") && page.contains(&writes), "the writes");
    assert!(page.contains("<h3>ca3-&gt;ca3</h3>") && page.contains("the cells' conductances"), "per projection");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn the_astrocyte_holds_the_plastic_liquid_on_the_crossbar_near_the_references_rate() {
    let run = |args: &[&str]| {
        let mut a = args.to_vec();
        a.extend(["examples/lsm_astro.snn", "--duration", "5s", "-q", "--json"]);
        let r = common::run_json(&a);
        let change = r["learned"][0]["mean_after"].as_f64().expect("mean")
            / r["learned"][0]["mean_before"].as_f64().expect("mean");
        (r["populations"][0]["rate_hz"].as_f64().expect("rate"), change)
    };
    let (reference, reference_change) = run(&["simulate"]);
    let (crossbar, crossbar_change) = run(&["run", "--target", "reram_128"]);
    // The plastic tiles read against a reference column: no rounding offset reaches idle neurons, which once
    // silenced this liquid (0.5 Hz) at the preset's 6-bit ADCs.
    assert!((crossbar / reference - 1.0).abs() < 0.3, "exc at {crossbar} Hz against the reference's {reference} Hz");
    assert!(reference_change < 1.0 && crossbar_change < 1.0, "{reference_change}, {crossbar_change}");
}

#[test]
fn the_html_report_shows_what_spinnaker_learned() {
    let dir = temp_dir("plastic-html");
    let (json, html) = (dir.join("run.json"), dir.join("run.html"));
    let o = soma(&["run", "examples/stdp_window.snn", "--target", "spinnaker1", "--compare-reference", "-q", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::write(&json, &o.stdout).expect("write");
    let o = soma(&["report", json.to_str().expect("path"), "--html", html.to_str().expect("path")]);
    assert!(o.status.success(), "{}", stderr(&o));
    let page = std::fs::read_to_string(&html).expect("page");
    assert!(page.contains("<h2>Plasticity</h2>") && page.contains("84 plastic synaptic events"), "the costs");
    assert!(
        page.contains("<h3>pre-&gt;post_add</h3>") && page.contains("[w_min, w_max] in 3277 steps"),
        "per projection"
    );
    assert!(page.contains("mean weight, reference"), "the weights against the reference");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn plastic_populations_fit_fewer_neurons_into_a_cores_dtcm() {
    // With 40,000 B of DTCM, a static core holds the preset's 256 neurons (96 B each); a plastic one also keeps a
    // 100 B postsynaptic history per neuron and the rule's decay tables (6.1 KB): 172 neurons, so 1,000 take 6 cores.
    let cores = |file: &str| {
        let o = soma(&["compile", file, "--target-set", "dtcm_bytes=40000"]);
        assert!(o.status.success(), "{}", stderr(&o));
        stdout(&o).lines().find(|l| l.starts_with("cores ")).expect("a cores line").to_string()
    };
    let dir = temp_dir("plastic-dtcm");
    let fixed = common::stdp_dense_without_rule(&dir);
    assert!(cores("examples/stdp_dense.snn").contains("(6 neuron,"), "{}", cores("examples/stdp_dense.snn"));
    assert!(cores(fixed.to_str().expect("path")).contains("(4 neuron,"));
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn run_writes_the_weights_the_machine_learned_beside_the_references() {
    let dir = temp_dir("run-weights");
    let (machine, reference) = (dir.join("machine.csv"), dir.join("reference.csv"));
    let path = |p: &std::path::Path| p.to_str().expect("path").to_string();
    for (command, file) in [("run", &machine), ("simulate", &reference)] {
        let o = soma(&[command, "examples/stdp_window.snn", "--weights", &path(file), "-q"]);
        assert!(o.status.success(), "{command}: {}", stderr(&o));
    }
    let rows = |p: &std::path::Path| -> Vec<Vec<String>> {
        let text = std::fs::read_to_string(p).expect("weights");
        text.lines().skip(1).map(|l| l.split(',').map(str::to_string).collect()).collect()
    };
    let (m, r) = (rows(&machine), rows(&reference));
    assert_eq!(m.len(), 42, "both projections' 21 synapses");
    for (a, b) in m.iter().zip(&r) {
        assert_eq!(a[..5], b[..5], "the same synapses, delays and initial weights");
        let (wa, wb): (f64, f64) = (a[5].parse().expect("weight"), b[5].parse().expect("weight"));
        // Within spinnaker1's quantisation bound (2.5 units of about 6e-5: see the test above).
        assert!((wa - wb).abs() < 2e-4, "{a:?} against the reference's {b:?}");
    }
    let img = dir.join("w.img");
    assert!(soma(&["compile", "examples/stdp_window.snn", "-o", &path(&img), "-q"]).status.success());
    let o = soma(&["run", &path(&img), "--weights", &path(&machine)]);
    assert!(!o.status.success() && stderr(&o).contains("--weights needs the network"), "{}", stderr(&o));
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn run_samples_the_weights_the_hardware_holds_as_simulate_samples_the_references() {
    let dir = temp_dir("run-weight-trace");
    let path = |name: &str| dir.join(name).to_str().expect("path").to_string();
    let probe = ["--weight-probe", "pre->post_add[9..11]", "--weight-every", "50ms", "-q"];
    for (command, target) in [("simulate", None), ("run", Some("spinnaker1")), ("run", Some("reram_128"))] {
        let name = target.unwrap_or("reference");
        let files = ["--weight-trace", &path(&format!("{name}.csv")), "--weights", &path(&format!("{name}-w.csv"))];
        let on = target.map_or(vec![], |t| vec!["--target", t]);
        let o = soma(&[&[command, "examples/stdp_window.snn"][..], &on, &probe, &files].concat());
        assert!(o.status.success(), "{name}: {}", stderr(&o));
    }
    let rows = |name: &str| -> Vec<Vec<String>> {
        let text = std::fs::read_to_string(dir.join(name)).expect("csv");
        text.lines().skip(1).map(|l| l.split(',').map(str::to_string).collect()).collect()
    };
    let weight = |r: &[String]| -> f64 { r[5].parse().expect("a weight") };
    let reference = rows("reference.csv");
    assert_eq!(reference.len(), 20 * 2, "20 samples of 2 synapses in 1 s");
    for target in ["spinnaker1", "reram_128"] {
        let samples = rows(&format!("{target}.csv"));
        assert_eq!(samples.len(), reference.len(), "{target}");
        for (m, r) in samples.iter().zip(&reference) {
            assert_eq!(m[..5], r[..5], "{target}: the same times and synapses");
        }
        // The last samples are the weights the run ends with, as --weights writes them.
        let learned: Vec<Vec<String>> =
            rows(&format!("{target}-w.csv")).into_iter().filter(|r| r[0] == "pre->post_add").collect();
        for (synapse, last) in [(9, &samples[38]), (10, &samples[39])] {
            assert_eq!(last[2], synapse.to_string());
            assert_eq!(weight(last), learned[synapse][5].parse::<f64>().expect("a weight"), "{target} {synapse}");
        }
    }
    let machine = rows("spinnaker1.csv");
    for (m, r) in machine.iter().zip(&reference) {
        // Within spinnaker1's quantisation bound (2.5 units of about 6e-5: see the window test above).
        assert!((weight(m) - weight(r)).abs() < 2e-4, "{m:?} against the reference's {r:?}");
    }
    // Lag 0 (synapse 10) is potentiated when the pre spike at 500 ms fetches its row: the sample at 0.5 s still
    // holds the initial weight, the one at 0.55 s the new one.
    let at =
        |time: &str, synapse: &str| weight(machine.iter().find(|r| r[0] == time && r[2] == synapse).expect("a sample"));
    assert!(at("0.55", "10") > at("0.5", "10") + 1e-4, "{} -> {}", at("0.5", "10"), at("0.55", "10"));
    // Where the weights cannot be sampled, the run is refused and says why; nothing is written.
    let trace = path("x.csv");
    let img = path("w.img");
    assert!(soma(&["compile", "examples/stdp_window.snn", "-o", &img, "-q"]).status.success());
    let o = soma(&[&["run", &img][..], &probe, &["--weight-trace", &trace]].concat());
    assert!(!o.status.success() && stderr(&o).contains("--weight-probe needs the network"), "{}", stderr(&o));
    let o = soma(&["run", "examples/stdp_window.snn", "--weight-trace", &trace]);
    assert!(!o.status.success() && stderr(&o).contains("go together"), "{}", stderr(&o));
    assert!(!dir.join("x.csv").exists(), "nothing written by a refused run");
    std::fs::remove_dir_all(&dir).expect("cleanup");
}
