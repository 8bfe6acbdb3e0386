//! End-to-end tests of the `soma` command line on the bundled examples and on malformed inputs.
//!
//! Rates are compared with NEST 3.10 running the same networks (tools/nest/compare.py, table in
//! docs/reference-vs-nest.md); the NEST means are copied here so the tests need no Python.

mod common;

use common::{run_json, soma, stderr, stdout, temp_dir};

use std::path::Path;

fn json(args: &[&str]) -> serde_json::Value {
    let o = soma(args);
    assert!(o.status.success(), "soma {args:?} failed: {}", stderr(&o));
    serde_json::from_slice(&o.stdout).expect("stdout is JSON")
}

fn rates(report: &serde_json::Value) -> Vec<(String, f64)> {
    report["populations"]
        .as_array()
        .expect("populations")
        .iter()
        .map(|p| (p["name"].as_str().expect("name").to_string(), p["rate_hz"].as_f64().expect("rate")))
        .collect()
}

#[test]
fn check_summarises_every_example() {
    for (file, pops, neurons) in [
        ("examples/cuba.snn", &["exc", "inh"][..], "4,000"),
        ("examples/microcircuit.snn", &["L23e", "L23i", "L4e", "L4i", "L5e", "L5i", "L6e", "L6i"][..], "77,169"),
        ("examples/synfire.snn", &["g0", "g9", "stimulus", "noise"][..], "1,000"),
    ] {
        let o = soma(&["check", file]);
        assert!(o.status.success(), "{file}: {}", stderr(&o));
        let out = stdout(&o);
        for p in pops {
            assert!(out.contains(p), "{file}: {p} missing from\n{out}");
        }
        assert!(out.contains(&format!("neurons: {neurons}")), "{out}");
    }
}

#[test]
fn full_scale_microcircuit_has_the_published_synapse_count() {
    let out = stdout(&soma(&["check", "examples/microcircuit.snn"]));
    // ~2.99e8 synapses (Potjans & Diesmann 2014; INM-6 model).
    let line = out.lines().find(|l| l.starts_with("synapses:")).expect("synapse line");
    let n: u64 = line.split_whitespace().nth(1).expect("count").replace(',', "").parse().expect("number");
    assert!((298_000_000..300_000_000).contains(&n), "{line}");
}

#[test]
fn cuba_rates_are_within_ten_percent_of_nest() {
    // NEST 3.10, iaf_psc_exp, 10 seeds, 1 s: exc 5.714 Hz, inh 5.634 Hz.
    let nest = [("exc", 5.714), ("inh", 5.634)];
    let seeds = ["1", "2", "3"];
    let mut sums = [0.0; 2];
    for seed in seeds {
        let report = json(&["simulate", "examples/cuba.snn", "--duration", "1s", "--seed", seed, "--json", "-q"]);
        for (k, (name, rate)) in rates(&report).into_iter().enumerate() {
            assert_eq!(name, nest[k].0);
            sums[k] += rate / seeds.len() as f64;
        }
    }
    for (k, (name, reference)) in nest.iter().enumerate() {
        let rel = (sums[k] - reference) / reference;
        assert!(rel.abs() < 0.10, "{name}: soma {:.3} Hz vs NEST {reference} Hz ({:+.1}%)", sums[k], rel * 100.0);
    }
}

#[test]
fn microcircuit_at_scale_0_2_rates_are_within_twenty_percent_of_nest() {
    // NEST 3.10, same construction (tools/nest/microcircuit.py), 5 seeds, 1 s.
    let nest = [
        ("L23e", 0.822),
        ("L23i", 2.428),
        ("L4e", 3.824),
        ("L4i", 5.293),
        ("L5e", 7.427),
        ("L5i", 7.806),
        ("L6e", 1.027),
        ("L6i", 6.957),
    ];
    let report =
        json(&["simulate", "examples/microcircuit.snn", "--set", "scale=0.2", "--duration", "1s", "--json", "-q"]);
    for ((name, rate), (nest_name, reference)) in rates(&report).into_iter().zip(nest) {
        assert_eq!(name, nest_name);
        let rel = (rate - reference) / reference;
        assert!(rel.abs() < 0.20, "{name}: soma {rate:.3} Hz vs NEST {reference} Hz ({:+.1}%)", rel * 100.0);
    }
}

#[test]
fn json_goes_to_stdout_and_text_to_stderr() {
    let o = soma(&["simulate", "examples/cuba.snn", "--duration", "100ms", "--json", "-q"]);
    assert!(o.status.success());
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    for key in ["populations", "neurons", "synapses", "duration_s", "wall_s"] {
        assert!(!report[key].is_null(), "{key} missing");
    }
    assert_eq!(report["neurons"], 4000);
    assert!((report["duration_s"].as_f64().expect("duration") - 0.1).abs() < 1e-12);
    for key in ["name", "neurons", "spikes", "rate_hz"] {
        assert!(!report["populations"][0][key].is_null(), "populations[0].{key} missing");
    }
    assert!(stderr(&o).contains("rate (Hz)"), "the table goes to stderr");
}

#[test]
fn same_seed_same_spikes_other_seed_other_spikes() {
    let dir = temp_dir("seed");
    let run = |seed: &str, name: &str| {
        let path = dir.join(name);
        let p = path.to_str().expect("utf-8 path");
        let o = soma(&["simulate", "examples/cuba.snn", "--duration", "200ms", "--seed", seed, "--spikes", p, "-q"]);
        assert!(o.status.success(), "{}", stderr(&o));
        std::fs::read_to_string(&path).expect("spikes written")
    };
    let (a, b, c) = (run("7", "a.csv"), run("7", "b.csv"), run("8", "c.csv"));
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert!(a.starts_with("time_s,population,neuron\n"));
    assert!(a.lines().count() > 100);
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn synfire_volley_travels_down_the_chain() {
    let dir = temp_dir("synfire");
    let path = dir.join("spikes.csv");
    let o = soma(&[
        "simulate",
        "examples/synfire.snn",
        "--duration",
        "100ms",
        "--spikes",
        path.to_str().expect("path"),
        "-q",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&path).expect("spikes");
    let mut first = [f64::INFINITY; 10];
    let mut count = [0usize; 10];
    for line in text.lines().skip(1) {
        let mut f = line.split(',');
        let t: f64 = f.next().expect("time").parse().expect("number");
        let pop = f.next().expect("pop");
        if let Some(k) = pop.strip_prefix('g').and_then(|k| k.parse::<usize>().ok()) {
            first[k] = first[k].min(t);
            count[k] += 1;
        }
    }
    for (k, n) in count.iter().enumerate() {
        assert!(*n >= 90, "group {k} fired {n} spikes");
    }
    for k in 1..10 {
        let lag = (first[k] - first[k - 1]) * 1e3;
        assert!((5.0..7.0).contains(&lag), "group {k} follows group {} by {lag:.2} ms", k - 1);
    }
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn set_overrides_constants_with_checked_units() {
    let out = stdout(&soma(&["check", "examples/microcircuit.snn", "--set", "scale=0.1"]));
    assert!(out.contains("neurons: 7,718"), "{out}");
    let o = soma(&["check", "examples/cuba.snn", "--set", "nope=1"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("no constant `nope`"), "{}", stderr(&o));
    let o = soma(&["check", "examples/cuba.snn", "--set", "taum=5 mV"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("a voltage (V), but the constant is a time (s)"), "{}", stderr(&o));
    let o = soma(&["check", "examples/cuba.snn", "--set", "taum=5 ms"]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn malformed_inputs_give_located_diagnostics_and_exit_1() {
    let cases = [
        ("unknown_identifier", "3:17", "unknown population or source `q`"),
        ("wrong_unit", "2:42", "expected a time (s), found a voltage (V)"),
        ("unknown_unit", "2:13", "unknown unit `msec`"),
        ("missing_parameter", "2:32", "missing parameter `cm`"),
        ("negative_tau", "2:32", "parameter `tau` of `p` is -0.01 s, but it must be greater than zero"),
        ("bad_syntax", "2:18", "expected `:` and a neuron model, found `lif`"),
        ("bad_probability", "3:1", "probability must be in [0, 1], got 1.5"),
        ("short_delay", "3:1", "delays must be at least one time step"),
        ("empty", "", "the file sets no time step"),
    ];
    for (name, at, message) in cases {
        let file = format!("tests/malformed/{name}.snn");
        let o = soma(&["check", &file]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{name}: {err}");
        assert!(err.contains(message), "{name}: expected {message:?} in\n{err}");
        assert!(
            err.contains(&format!("{file}{}", if at.is_empty() { String::new() } else { format!(":{at}") })),
            "{name}: no location in\n{err}"
        );
        assert!(!err.contains("panicked"));
    }
}

#[test]
fn binary_garbage_unknown_types_and_missing_files_exit_1() {
    let dir = temp_dir("garbage");
    let garbage = dir.join("garbage.snn");
    std::fs::write(&garbage, (0..=255u8).cycle().take(4096).collect::<Vec<u8>>()).expect("write");
    let latin1 = dir.join("latin1.snn");
    std::fs::write(&latin1, b"timestep 0.1 ms\nconst caf\xe9 = 1\n").expect("write");
    for (path, message) in [
        (garbage.as_path(), "not UTF-8"),
        (latin1.as_path(), "not UTF-8"),
        (Path::new("examples/none.snn"), "cannot read"),
        (Path::new("Cargo.toml"), "cannot tell the format from the extension `.toml`"),
    ] {
        let o = soma(&["check", path.to_str().expect("path")]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert!(stderr(&o).contains(message), "{path:?}: {}", stderr(&o));
    }
    let o = soma(&["simulate", "examples/cuba.snn", "--duration", "1 mV"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("expected a time such as 1s"), "{}", stderr(&o));
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn trace_writes_probed_membrane_potentials() {
    let dir = temp_dir("trace");
    let path = dir.join("v.csv");
    let o =
        soma(&["simulate", "examples/cuba.snn", "--duration", "10ms", "--trace", path.to_str().expect("path"), "-q"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&path).expect("trace");
    // `probe exc[0..5] : v`: 5 neurons x 100 steps.
    assert_eq!(text.lines().count(), 1 + 5 * 100);
    for line in text.lines().skip(1) {
        let v: f64 = line.rsplit(',').next().expect("v").parse().expect("number");
        assert!((-0.0601..=-0.0499).contains(&v), "{line}");
    }
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn sfq_targets_are_listed_and_refuse_models_they_cannot_lower() {
    let o = soma(&["targets"]);
    assert!(stdout(&o).contains("sfq_mitll"), "{}", stdout(&o));
    let net = temp_dir("sfq-models").join("izhikevich.snn");
    let text = "timestep 0.1 ms\npopulation rs[10] : izhikevich { a = 0.02 / ms, b = 0.2, c = -65 mV, d = 8 mV }\n";
    std::fs::write(&net, text).expect("write");
    let o = soma(&["run", net.to_str().expect("utf-8"), "--target", "sfq_mitll", "-q"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("population `rs` is `izhikevich`"), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("lowers linear integrate-and-fire neurons (`lif`, `if`, `cuba_lif`, `if_curr_exp`"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn every_command_takes_times_the_same_way() {
    // A bare number is seconds for every time flag, as --help says.
    let o = soma(&["simulate", "tests/data/nir/csnn_small.nir", "--dt", "1e-4", "--duration", "1e-3", "-q"]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Negative and unrepresentable durations are refused by every command that runs, before any work.
    for command in ["simulate", "run", "compare"] {
        for bad in ["--duration=-1s", "--duration=1e30s", "--duration=5 mV"] {
            let o = soma(&[command, "examples/cuba.snn", bad, "-q"]);
            assert_eq!(o.status.code(), Some(1), "{command} {bad}: {}", stderr(&o));
            assert!(stderr(&o).contains("--duration"), "{command} {bad}: {}", stderr(&o));
        }
    }
    let dir = temp_dir("durations");
    let out = dir.join("sweep");
    let o = soma(&[
        "sweep",
        "examples/cuba.snn",
        "--vary",
        "neurons_per_core=64",
        "--out",
        out.to_str().expect("path"),
        "--duration=-1s",
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn outputs_are_checked_before_any_work_and_never_overwrite_an_input() {
    let dir = temp_dir("outputs");
    let net = dir.join("net.snn");
    std::fs::copy("examples/cuba.snn", &net).expect("copy");
    let net_s = net.to_str().expect("path");
    let missing = dir.join("nodir/out.csv");
    let missing = missing.to_str().expect("path");
    for args in [
        vec!["run", net_s, "--target", "reram_128", "--spikes", missing],
        vec!["run", net_s, "--spikes", missing],
        vec!["simulate", net_s, "--spikes", missing],
        vec!["simulate", net_s, "--trace", missing],
        vec!["compile", net_s, "-o", missing],
        vec!["compare", net_s, "--html", missing],
    ] {
        let started = std::time::Instant::now();
        let o = soma(&[args.as_slice(), &["-q"]].concat());
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(missing) && stderr(&o).contains("does not exist"), "{args:?}: {}", stderr(&o));
        assert!(!stderr(&o).contains(".tmp"), "{args:?}: {}", stderr(&o));
        assert!(started.elapsed() < std::time::Duration::from_secs(30), "refused before the work");
    }
    let before = std::fs::read(&net).expect("read");
    let o = soma(&["compile", net_s, "-o", net_s]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("is also an input"), "{}", stderr(&o));
    assert_eq!(std::fs::read(&net).expect("read"), before, "the input is untouched");
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn networks_that_cannot_fit_are_refused_before_anything_is_allocated() {
    let dir = temp_dir("oversize");
    for (name, text) in [
        (
            "neurons",
            "timestep 0.1 ms\npopulation p[4000000000] : lif { tau = 10 ms, r = 1, v_leak = 0, v_threshold = 1 }\n",
        ),
        (
            "synapses",
            "timestep 0.1 ms\npopulation p[1000000] : lif { tau = 10 ms, r = 1, v_leak = 0, v_threshold = 1 }\n\
             projection p -> p : all_to_all { weight = 0.1 }\n",
        ),
    ] {
        let net = dir.join(format!("{name}.snn"));
        std::fs::write(&net, text).expect("write");
        let net = net.to_str().expect("path");
        let o = soma(&["check", net]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(stdout(&o).contains("memory to instantiate: at least"), "{}", stdout(&o));
        for (command, need) in [
            ("simulate", "to instantiate, and this machine has"),
            ("run", if name == "neurons" { "to instantiate" } else { "to compile for spinnaker1 and run (about" }),
            ("compile", if name == "neurons" { "to instantiate" } else { "to compile for spinnaker1 (about" }),
        ] {
            let o = soma(&[command, net, "-q"]);
            assert_eq!(o.status.code(), Some(1), "{name} {command}: {}", stderr(&o));
            assert!(stderr(&o).contains(need), "{name} {command}: {}", stderr(&o));
        }
    }
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn a_network_whose_compile_or_run_cannot_fit_is_refused_before_it_starts() {
    // 1e9 synapses instantiate in about 11 GiB, but an SFQ netlist of them needs about 410 bytes a synapse to
    // build and 1,200 to run: refused with the family's estimate, nothing allocated. (`check` prints the
    // instantiation floor only; `simulate` would run it.)
    let dir = temp_dir("oversize-family");
    let net = dir.join("dense.snn");
    std::fs::write(
        &net,
        "timestep 1 ms\npopulation p[31623] : lif { tau = 10 ms, r = 1, v_leak = 0, v_threshold = 1 }\n\
         projection p -> p : all_to_all { weight = 0.001 }\n",
    )
    .expect("write");
    let net = net.to_str().expect("path");
    for (command, need) in [
        ("compile", "to compile for sfq_mitll (about 410 bytes a synapse"),
        ("run", "to compile for sfq_mitll and run"),
    ] {
        let o = soma(&[command, net, "--target", "sfq_mitll", "-q"]);
        assert_eq!(o.status.code(), Some(1), "{command}: {}", stderr(&o));
        assert!(stderr(&o).contains(need) && stderr(&o).contains("available"), "{command}: {}", stderr(&o));
    }
    // An image is sized before it is read: a 20 GiB SFQ image (sparse on disk) needs about 12.6 times that to run.
    let image = dir.join("huge.img");
    let file = std::fs::File::create(&image).expect("create");
    std::io::Write::write_all(&mut &file, b"SOMASFQ\0").expect("magic");
    file.set_len(20 << 30).expect("sparse length");
    let o = soma(&["run", image.to_str().expect("path"), "-q"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("the image would need about 252.0 GiB to run (a 20.0 GiB sfq image at about 12.6 bytes"),
        "{}",
        stderr(&o)
    );
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn a_full_disk_on_stdout_is_an_error_not_a_panic() {
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full");
    let Ok(full) = full else { return }; // not Linux
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_soma"))
        .args(["targets", "show", "spinnaker1"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(full)
        .output()
        .expect("soma runs");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("cannot write to standard output"), "{}", stderr(&o));
}

#[test]
fn temporary_files_of_killed_writers_are_removed() {
    let dir = temp_dir("stale");
    let stale = dir.join(".spikes.csv.999999999.tmp"); // no process has this id
    std::fs::write(&stale, "half a file").expect("write");
    let spikes = dir.join("spikes.csv");
    let o =
        soma(&["simulate", "examples/cuba.snn", "--duration", "1ms", "--spikes", spikes.to_str().expect("path"), "-q"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(spikes.exists() && !stale.exists());
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn targets_list_is_the_listing_and_import_without_o_writes_to_stdout() {
    let bare = soma(&["targets"]);
    let list = soma(&["targets", "list"]);
    assert!(bare.status.success() && list.status.success());
    assert_eq!(stdout(&bare), stdout(&list));
    assert!(stdout(&list).contains("spinnaker1") && stdout(&list).contains("sfq_mitll"));
    let o = soma(&["targets", "lsit"]);
    assert!(!o.status.success() && stderr(&o).contains("`soma targets list`"), "{}", stderr(&o));
    let o = soma(&["import", "tests/data/nir/csnn_small.nir", "--dt", "1ms"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.starts_with("# Imported by soma") && text.contains("timestep 0.001 s"), "{text}");
    let dash = soma(&["import", "tests/data/nir/csnn_small.nir", "--dt", "1ms", "-o", "-"]);
    assert_eq!(stdout(&dash), text, "`-o -` is standard output too");
}

#[test]
fn quiet_commands_that_write_files_say_nothing_on_stderr() {
    let dir = temp_dir("quiet");
    let path = |name: &str| dir.join(name).to_str().expect("path").to_string();
    let o = soma(&["run", "examples/xor_sfq.snn", "--target", "sfq_mitll", "--duration", "20ms", "--json", "-q"]);
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::write(dir.join("run.json"), &o.stdout).expect("write");
    let (html, csv, snn) = (path("run.html"), path("csv"), path("net.snn"));
    for args in [
        vec!["report", &path("run.json"), "--html", &html, "--csv", &csv],
        vec!["import", "examples/cuba.snn", "-o", &snn],
    ] {
        let loud = soma(&args);
        assert!(loud.status.success() && stderr(&loud).contains("wrote "), "{args:?}: {}", stderr(&loud));
        let quiet = soma(&[&args[..], &["-q"]].concat());
        assert!(quiet.status.success(), "{args:?}: {}", stderr(&quiet));
        assert_eq!(stderr(&quiet), "", "{args:?}");
        assert_eq!(stdout(&quiet), stdout(&loud), "{args:?}: -q changes only stderr");
    }
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn targets_print_json_when_asked() {
    let listed = run_json(&["targets", "--json"]);
    let rows = listed.as_array().expect("an array of presets");
    assert_eq!(rows.len(), soma_targets::presets().len());
    let sfq = rows.iter().find(|r| r["name"] == "sfq_mitll").expect("sfq_mitll listed");
    assert_eq!(sfq["family"], "sfq");
    let shown = run_json(&["targets", "show", "spinnaker1", "--json"]);
    let target = soma_targets::lookup("spinnaker1").expect("preset");
    assert_eq!(shown["fingerprint"], format!("{:016x}", target.fingerprint));
    let constants = shown["constants"].as_array().expect("constants");
    assert_eq!(constants.len(), target.constants().len());
    let boards = constants.iter().find(|c| c["key"] == "machine.boards").expect("machine.boards");
    assert!(boards["source"].as_str().is_some_and(|s| s.contains("Furber")), "{boards}");
}

#[test]
fn a_frontend_error_is_printed_as_an_error_line() {
    let o = soma(&["check", "tests/data/nir/bad/edge_to_missing_node.nir", "--dt", "1ms"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).starts_with("error: tests/data/nir/bad/edge_to_missing_node.nir: ") && stderr(&o).ends_with('\n')
    );
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_a_long_run_cleanly_with_exit_code_130_and_writes_nothing() {
    let dir = temp_dir("ctrl-c");
    let spikes = dir.join("spikes.csv");
    let spikes_arg = spikes.to_str().expect("path").to_string();
    let commands: [Vec<&str>; 2] = [
        vec!["run", "examples/cuba.snn", "--duration", "1000s", "--spikes", &spikes_arg],
        vec!["simulate", "examples/cuba.snn", "--duration", "1000s", "--spikes", &spikes_arg],
    ];
    for args in commands {
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_soma"))
            .args(&args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stderr(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("soma starts");
        std::thread::sleep(std::time::Duration::from_millis(1500));
        let sent = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill");
        assert!(sent.success());
        let started = std::time::Instant::now();
        let o = child.wait_with_output().expect("soma ends");
        assert!(started.elapsed().as_secs() < 10, "{args:?} took {:?} to stop", started.elapsed());
        assert_eq!(o.status.code(), Some(130), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("interrupted after"), "{}", stderr(&o));
        assert!(!spikes.exists(), "{args:?} wrote its output");
        let left: Vec<_> = std::fs::read_dir(&dir).expect("dir").collect();
        assert!(left.is_empty(), "{args:?} left {left:?}");
    }
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn check_prints_json_with_the_figures_of_its_text() {
    let text = stdout(&soma(&["check", "examples/cuba.snn"]));
    let j = run_json(&["check", "examples/cuba.snn", "--json"]);
    let names: Vec<&str> =
        j["populations"].as_array().expect("populations").iter().map(|p| p["name"].as_str().expect("name")).collect();
    assert_eq!(names, ["exc", "inh"]);
    assert_eq!(j["neurons"], 4000);
    assert_eq!(j["dt_s"], 1e-4);
    let approx = if j["synapses_exact"] == false { "~" } else { "" };
    let count = soma_isa::report::thousands(j["synapses"].as_u64().expect("synapses"));
    assert!(text.contains(&format!("synapses: {approx}{count} in {} projections", j["projections"])), "{text}\n{j}");
    assert!(j["memory_bytes"].as_f64().expect("bytes") > 0.0);
    // Per family, compiling and running: the instance beside the image and the engine (docs/robustness.md).
    let (synapses, instance) = (j["synapses"].as_f64().expect("synapses"), j["memory_bytes"].as_f64().expect("bytes"));
    let families = j["run_memory_bytes"].as_array().expect("per family");
    // (compile bytes a synapse, image bytes a synapse, run bytes an image byte), as each family states them.
    for (family, (compile, image, run)) in
        [("spinnaker", (17.5, 5.1, 2.2)), ("crossbar", (80.0, 31.0, 4.8)), ("sfq", (410.0, 96.0, 12.6))]
    {
        let f = families.iter().find(|f| f["family"] == family).expect("a family");
        let bytes = f["bytes"].as_f64().expect("bytes");
        let expected = (synapses * compile).max(instance + synapses * image * run);
        assert!((bytes - expected).abs() < 1e-9 * expected, "{family}: {bytes} against {expected}");
        assert!(text.contains(&format!("{family} {}", soma_isa::memory::bytes_text(bytes))), "{text}");
    }
}
