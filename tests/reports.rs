//! Reports, comparisons and sweeps end to end: the HTML page is self-contained and has every plot, CSV tables
//! are written, sweep results move the way the hardware says they should, and an interrupted sweep resumes.

mod common;

use common::{soma, stderr, stdout, temp_dir};

const SMALL: &str = "timestep 0.1 ms
source noise[200] : poisson { rate = 20 Hz }
population a[400] : if_curr_exp { tau_m = 20 ms, cm = 1 nF, v_rest = -65 mV, v_reset = -65 mV, v_thresh = -50 mV,
    tau_refrac = 2 ms, tau_syn_e = 5 ms, tau_syn_i = 5 ms }
population b[200] : if_curr_exp { tau_m = 20 ms, cm = 1 nF, v_rest = -65 mV, v_reset = -65 mV, v_thresh = -50 mV,
    tau_refrac = 2 ms, tau_syn_e = 5 ms, tau_syn_i = 5 ms }
projection noise -> a : fixed_indegree(20) { weight = 0.5 nA }
projection a -> b : fixed_probability(0.1) { weight = 0.3 nA, delay = 2 ms }
projection b -> a : fixed_probability(0.1) { weight = -0.2 nA, receptor = inhibitory, delay = 1 ms }
";

/// A whole page with no external references: the only URL is the SVG namespace.
fn assert_self_contained(page: &str) {
    assert!(page.starts_with("<!DOCTYPE html>") && page.trim_end().ends_with("</html>"));
    assert!(
        !page.contains("<script") && !page.contains("src=") && !page.contains("href=") && !page.contains("@import")
    );
    assert_eq!(page.matches("http").count(), page.matches("http://www.w3.org/2000/svg").count());
}

#[test]
fn the_html_report_is_self_contained_and_has_every_plot() {
    let dir = temp_dir("report");
    let net = dir.join("net.snn");
    std::fs::write(&net, SMALL).expect("write");
    let o = soma(&["run", net.to_str().expect("path"), "--duration", "100ms", "--compare-reference", "--json", "-q"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let json = dir.join("run.json");
    std::fs::write(&json, &o.stdout).expect("write");
    let html = dir.join("report.html");
    let csv = dir.join("csv");
    let o = soma(&[
        "report",
        json.to_str().expect("path"),
        "--html",
        html.to_str().expect("path"),
        "--csv",
        csv.to_str().expect("path"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("energy"), "a text summary on stdout");
    let page = std::fs::read_to_string(&html).expect("html");
    // Energy by component, by population, core load and its colour scale, link traffic, raster, rate over time,
    // fidelity.
    assert_eq!(page.matches("<svg").count(), 8, "every plot");
    for heading in [
        "Energy:",
        "by population",
        "Core load",
        "Link traffic",
        "Spike raster",
        "Fidelity",
        "NeuroBench",
        "constants and sources",
    ] {
        assert!(page.contains(heading), "{heading} missing");
    }
    assert_self_contained(&page);
    for f in ["populations.csv", "energy.csv", "cores.csv"] {
        assert!(std::fs::read_to_string(csv.join(f)).expect(f).lines().count() >= 2, "{f}");
    }
    // One chip: no link carried anything, but the table is there.
    assert!(std::fs::read_to_string(csv.join("links.csv")).expect("links").starts_with("chip_x,chip_y,link,packets"));
    assert_eq!(soma(&["report", net.to_str().expect("path")]).status.code(), Some(1), "not a report");
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn crossbar_and_sfq_runs_get_report_pages_whose_energy_parts_sum_to_the_total() {
    let dir = temp_dir("family-report");
    let net = dir.join("net.snn");
    std::fs::write(&net, SMALL).expect("write");
    let net = net.to_str().expect("path");
    for (name, input, target, extra, plots) in [
        ("crossbar", net, "reram_128", "Tile reads over the mesh", 6),
        ("sfq", "examples/xor_sfq.snn", "sfq_mitll", "worst cells", 4),
    ] {
        let o = soma(&["run", input, "--target", target, "--duration", "100ms", "--compare-reference", "--json", "-q"]);
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        let json = dir.join(format!("{name}.json"));
        std::fs::write(&json, &o.stdout).expect("write");
        let run: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
        let (html, csv) = (dir.join(format!("{name}.html")), dir.join(format!("{name}-csv")));
        let args = ["report", json.to_str().expect("path"), "--html", html.to_str().expect("path"), "--csv"];
        let o = soma(&[&args[..], &[csv.to_str().expect("path")]].concat());
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        assert!(stdout(&o).contains("energy") && stdout(&o).contains("against the float reference"), "{name}");
        let page = std::fs::read_to_string(&html).expect("html");
        assert_self_contained(&page);
        // Energy by component, raster, rate over time, fidelity; the crossbar's tile map and its colour key.
        assert_eq!(page.matches("<svg").count(), plots, "{name}: every plot");
        for raw in ["<td>false</td>", "<td>true</td>", "<td>[", "<td>{"] {
            assert!(!page.contains(raw), "{name}: no raw JSON values in cells ({raw})");
        }
        let headers: Vec<&str> = page.split("<th>").skip(1).map(|h| h.split('<').next().unwrap_or("")).collect();
        assert!(headers.iter().all(|h| !h.contains('_')), "{name}: column names in words: {headers:?}");
        for heading in
            ["Energy:", "Counts and timing", "Mapping", "Spike raster", "Fidelity", "constants and sources", extra]
        {
            assert!(page.contains(heading), "{name}: {heading} missing");
        }
        // The components in energy.csv are the ledger's parts and add up to the run's energy.
        let energy = std::fs::read_to_string(csv.join("energy.csv")).expect("energy.csv");
        let value = |row: &str| row.split(',').nth(1).and_then(|v| v.parse::<f64>().ok()).expect("a number");
        let parts: f64 =
            energy.lines().skip(1).filter(|l| !l.starts_with("total") && !l.starts_with("wall_plug")).map(value).sum();
        let total = run["energy_j"].as_f64().expect("energy");
        assert!((parts / total - 1.0).abs() < 1e-9, "{name}: parts {parts} vs total {total}\n{energy}");
        assert!(std::fs::read_to_string(csv.join("populations.csv")).expect("populations").lines().count() >= 3);
        // Written again over an existing folder: the new set replaces the old one whole, other files stay, and no
        // temporary folder is left beside it.
        std::fs::write(csv.join("energy.csv"), "stale").expect("write");
        std::fs::write(csv.join("mine.txt"), "kept").expect("write");
        let o = soma(&[&args[..], &[csv.to_str().expect("path")]].concat());
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        assert_eq!(std::fs::read_to_string(csv.join("energy.csv")).expect("energy.csv"), energy);
        assert_eq!(std::fs::read_to_string(csv.join("mine.txt")).expect("kept"), "kept");
        let leftovers = std::fs::read_dir(&dir)
            .expect("dir")
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
            .count();
        assert_eq!(leftovers, 0, "{name}: temporary folders left");
    }
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

fn sweep(dir: &std::path::Path) -> (String, String) {
    sweep_for(dir, "50ms")
}

fn sweep_for(dir: &std::path::Path, duration: &str) -> (String, String) {
    let net = dir.join("net.snn");
    std::fs::write(&net, SMALL).expect("write");
    let o = soma(&[
        "sweep",
        net.to_str().expect("path"),
        "--vary",
        "neurons_per_core=32,64,128",
        "--out",
        dir.join("out").to_str().expect("path"),
        "--duration",
        duration,
        "-q",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    (std::fs::read_to_string(dir.join("out/sweep.csv")).expect("csv"), stderr(&o))
}

#[test]
fn report_json_gives_back_the_run_report_it_read_and_fills_what_an_older_one_lacks() {
    let dir = temp_dir("report-json");
    let net = dir.join("net.snn");
    std::fs::write(&net, SMALL).expect("write");
    let net = net.to_str().expect("path");
    for (input, target) in [(net, "spinnaker1"), (net, "reram_128"), ("examples/xor_sfq.snn", "sfq_mitll")] {
        let o = soma(&["run", input, "--target", target, "--duration", "50ms", "--compare-reference", "--json", "-q"]);
        assert!(o.status.success(), "{target}: {}", stderr(&o));
        let json = dir.join(format!("{target}.json"));
        std::fs::write(&json, &o.stdout).expect("write");
        let run: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
        let o = soma(&["report", json.to_str().expect("path"), "--json"]);
        assert!(o.status.success(), "{target}: {}", stderr(&o));
        let back: serde_json::Value = serde_json::from_slice(&o.stdout).expect("report --json is JSON");
        assert_eq!(back, run, "{target}: the whole report, fields the page does not read included");
        assert!(stderr(&o).contains("spikes"), "{target}: the summary goes to stderr");
    }
    // A SpiNNaker report from before the ring-buffer saturation count: read with the count at zero.
    let mut old: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("spinnaker1.json")).expect("read")).expect("json");
    old.as_object_mut().expect("object").remove("ring_buffer_saturations").expect("the field is there today");
    let json = dir.join("old.json");
    std::fs::write(&json, old.to_string()).expect("write");
    let o = soma(&["report", json.to_str().expect("path"), "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let back: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(back["ring_buffer_saturations"], 0);
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn sweeps_show_the_expected_trends_and_resume() {
    let dir = temp_dir("sweep");
    let (csv, log) = sweep(&dir);
    assert!(log.contains("3 computed, 0 reused"), "{log}");
    let rows: Vec<Vec<f64>> =
        csv.lines().skip(1).map(|l| l.split(',').map(|x| x.parse().expect("number")).collect()).collect();
    // Columns: neurons_per_core, cores, chips, energy_j, J/event, step latency, overruns, dropped, rate error.
    assert_eq!(rows.iter().map(|r| r[0]).collect::<Vec<_>>(), [32.0, 64.0, 128.0]);
    for w in rows.windows(2) {
        assert!(w[1][1] < w[0][1], "fewer cores with more neurons per core: {csv}");
        assert!(w[1][3] < w[0][3], "less active-core energy with fewer cores: {csv}");
        assert!(w[1][5] > w[0][5], "longer steps with more neurons per core: {csv}");
        assert!(w[1][6] >= w[0][6], "no fewer overruns with more neurons per core: {csv}");
    }
    assert!(std::fs::read_to_string(dir.join("out/sweep.html")).expect("html").contains("<svg"));
    // An interrupted sweep: one point missing. Re-running computes only that one, with identical results.
    let points: Vec<_> =
        std::fs::read_dir(dir.join("out/points")).expect("points").flatten().map(|e| e.path()).collect();
    assert_eq!(points.len(), 3);
    std::fs::remove_file(&points[0]).expect("remove");
    let (again, log) = sweep(&dir);
    assert!(log.contains("1 computed, 2 reused"), "{log}");
    assert_eq!(again, csv);
    // All reused: the CSV is the same bytes (floats read back exactly).
    let (again, log) = sweep(&dir);
    assert!(log.contains("0 computed, 3 reused"), "{log}");
    assert_eq!(again, csv);
    // Another experiment in the same folder (another duration) reuses nothing, and leaves the first one's points.
    let (other, log) = sweep_for(&dir, "20ms");
    assert!(log.contains("3 computed, 0 reused"), "{log}");
    assert_ne!(other, csv);
    assert_eq!(std::fs::read_dir(dir.join("out/points")).expect("points").count(), 6);
    // A stored point that cannot be a run's is recomputed, and the log says why.
    let text = std::fs::read_to_string(&points[1]).expect("point");
    let value: serde_json::Value = serde_json::from_str(&text).expect("json");
    let energy = value["energy_j"].to_string();
    std::fs::write(&points[1], text.replacen(&format!("\"energy_j\": {energy}"), "\"energy_j\": -1", 1))
        .expect("write");
    let (again, log) = sweep(&dir);
    assert!(log.contains("1 computed, 2 reused") && log.contains("energy_j = -1"), "{log}");
    assert_eq!(again, csv);
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn compare_puts_targets_side_by_side() {
    let dir = temp_dir("compare");
    let net = dir.join("net.snn");
    std::fs::write(&net, SMALL).expect("write");
    let html = dir.join("c.html");
    let o = soma(&[
        "compare",
        net.to_str().expect("path"),
        "--targets",
        "spinnaker1,spinnaker2",
        "--duration",
        "20ms",
        "--html",
        html.to_str().expect("path"),
        "-q",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.lines().any(|l| l.starts_with("spinnaker1 |")) && out.lines().any(|l| l.starts_with("spinnaker2 |")),
        "{out}"
    );
    assert!(std::fs::read_to_string(&html).expect("html").contains("<table>"));
    let o = soma(&["compare", net.to_str().expect("path"), "--targets", "spinnaker1,loihi9"]);
    assert_eq!(o.status.code(), Some(1));
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn a_constrained_sweep_never_recommends_an_infeasible_point() {
    let dir = temp_dir("sweep-limits");
    let out = dir.join("sweep");
    let args = ["sweep", "examples/xor_sfq.snn", "--target", "spinnaker1", "--vary", "ring_buffer_sigma=5,20"];
    let o = soma(
        &[&args[..], &["--duration", "50ms", "--max", "rate_error=5%", "--out", out.to_str().expect("path"), "-q"]]
            .concat(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let csv = stdout(&o);
    let header: Vec<&str> = csv.lines().next().expect("header").split(',').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let rows: Vec<Vec<f64>> =
        csv.lines().skip(1).map(|l| l.split(',').map(|x| x.parse().expect("number")).collect()).collect();
    // The cheaper-or-equal point with sigma 5 loses input (a large rate error): infeasible, not recommended.
    let (sigma, error, feasible) = (column("ring_buffer_sigma"), column("rate_error"), column("feasible"));
    for r in &rows {
        assert_eq!(r[feasible] == 1.0, r[error] <= 0.05, "{r:?}");
    }
    assert!(rows.iter().any(|r| r[feasible] == 0.0), "the limit excludes a point: {csv}");
    let said = stderr(&o);
    let recommended = said.lines().find(|l| l.starts_with("recommended")).expect("a recommendation");
    let best = rows.iter().find(|r| r[feasible] == 1.0).expect("a feasible point");
    assert!(recommended.contains(&format!("ring_buffer_sigma={}", best[sigma])), "{recommended}");
    let page = std::fs::read_to_string(out.join("sweep.html")).expect("page");
    assert!(page.contains("#2e7d32") && page.contains("#bbbbbb"), "recommended and infeasible points are drawn");
    // --json: the same points (reused from the folder) as rows, judged the same way.
    let o = soma(
        &[&args[..], &["--duration", "50ms", "--max", "rate_error=5%", "--out", out.to_str().expect("path"), "--json"]]
            .concat(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON on stdout");
    let json = json.as_array().expect("an array of rows");
    assert_eq!(json.len(), rows.len());
    for (j, r) in json.iter().zip(&rows) {
        assert_eq!(j["ring_buffer_sigma"].as_f64(), Some(r[sigma]));
        assert_eq!(j["feasible"].as_bool(), Some(r[feasible] == 1.0));
        assert_eq!(j["energy_j"].as_f64(), Some(r[column("energy_j")]));
        assert_eq!(j["target"], "spinnaker1");
    }
    assert_eq!(json.iter().filter(|j| j["recommended"] == true).count(), 1);
    let o = soma(&[&args[..], &["--max", "nope=1", "--out", out.to_str().expect("path"), "-q"]].concat());
    assert!(!o.status.success() && stderr(&o).contains("not a figure; the figures are energy_j"), "{}", stderr(&o));
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn a_report_with_a_wrong_field_is_refused_naming_the_line_and_column() {
    let dir = temp_dir("report-wrong-field");
    for (name, target) in [("machine", "spinnaker1"), ("family", "sfq_mitll")] {
        let o = soma(&["run", "examples/xor_sfq.snn", "--target", target, "--duration", "20ms", "--json", "-q"]);
        assert!(o.status.success(), "{}", stderr(&o));
        let text = String::from_utf8(o.stdout).expect("utf-8");
        // The first `"energy_j": NUMBER` becomes a string.
        let at = text.find("\"energy_j\": ").expect("an energy field") + "\"energy_j\": ".len();
        let end = at + text[at..].find([',', '\n']).expect("the value ends");
        let edited = format!("{}\"lots\"{}", &text[..at], &text[end..]);
        let line = edited[..at].lines().count();
        let json = dir.join(format!("{name}.json"));
        std::fs::write(&json, edited).expect("write");
        let o = soma(&["report", json.to_str().expect("path")]);
        assert_eq!(o.status.code(), Some(1), "{name}: {}", stderr(&o));
        let err = stderr(&o);
        let place = format!("{}:{line}:", json.display());
        assert!(err.contains(&place), "{name}: names {place}: {err}");
        assert!(err.contains("invalid type: string \"lots\", expected f64"), "{name}: {err}");
        assert!(err.contains("energy_j): not a"), "{name}: names the field's path: {err}");
        assert!(err.contains("\"energy_j\": \"lots\""), "{name}: quotes the line: {err}");
    }
}

#[test]
fn the_html_report_overlays_the_machines_membrane_on_the_reference() {
    let dir = temp_dir("report-trace");
    let (json, trace, page) = (dir.join("run.json"), dir.join("v.csv"), dir.join("r.html"));
    let path = |p: &std::path::Path| p.to_str().expect("path").to_string();
    let o = soma(&[
        "run",
        "tests/in/cuba_small.snn",
        "--duration",
        "20ms",
        "--probe",
        "exc[0..2]:v",
        "--trace",
        &path(&trace),
        "--compare-reference",
        "--json",
        "-q",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::write(&json, &o.stdout).expect("write");
    let o = soma(&["report", &path(&json), "--trace", &path(&trace), "--html", &path(&page)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let html = std::fs::read_to_string(&page).expect("page");
    let section = &html[html.find("Membrane potential: machine and reference").expect("the section")..];
    assert_eq!(section.matches("<polyline").count(), 4, "two neurons, machine and reference each");
    assert!(html.contains(" mV</text>") && html.contains(" ms</text>"), "tick values in SI units");
    // A broken trace file is refused naming its line.
    std::fs::write(&trace, "time_s,population,neuron,v,raw,reference_v\n0.0001,exc,0,oops,1,\n").expect("write");
    let o = soma(&["report", &path(&json), "--trace", &path(&trace), "--html", &path(&page)]);
    assert!(!o.status.success() && stderr(&o).contains("v.csv:2: v is not a number"), "{}", stderr(&o));
    std::fs::remove_dir_all(&dir).expect("cleanup");
}
