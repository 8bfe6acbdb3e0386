"""The Python package against the command line's numbers (pytest; .ci/run builds the wheel, installs it into a
venv with numpy and nir, and runs this after the Rust tests). The CLI binary is $SOMA_BIN, or target/debug/soma."""

import io
import json
import os
import pathlib
import subprocess

import numpy
import nir
import pytest

import soma

ROOT = pathlib.Path(__file__).resolve().parents[2]
SOMA = os.environ.get("SOMA_BIN", str(ROOT / "target" / "debug" / "soma"))
CUBA = str(ROOT / "tests" / "in" / "cuba_small.snn")
CSNN = str(ROOT / "tests" / "data" / "nir" / "csnn_small.nir")


def cli_json(*args):
    out = subprocess.run([SOMA, *args, "--json", "-q"], capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout)


def test_the_targets_are_the_command_lines():
    names = {t["name"] for t in soma.targets()}
    assert {"spinnaker1", "reram_128", "sfq_mitll"} <= names


@pytest.mark.parametrize("target", ["spinnaker1", "reram_128", "sfq_mitll"])
def test_a_run_gives_the_command_lines_energy_and_spikes(target):
    net = soma.load(CUBA)
    assert net.neurons == 200 and [p["name"] for p in net.populations] == ["exc", "inh"]
    result = soma.run(net, target=target, duration="50 ms", compare_reference=True)
    cli = cli_json("run", CUBA, "--target", target, "--duration", "50ms", "--compare-reference")
    assert result.report["energy_j"] == cli["energy_j"]
    assert [p["spikes"] for p in result.report["populations"]] == [p["spikes"] for p in cli["populations"]]
    assert len(result.spikes["time_s"]) == sum(p["spikes"] for p in cli["populations"])
    assert isinstance(result.spikes["neuron"], numpy.ndarray) and result.spikes["neuron"].dtype == numpy.int64
    assert result.figures["rate_error"] == result.figures["rate_error"]  # compared: a number, not NaN


def test_an_image_through_bytes_runs_like_the_one_in_memory():
    image = soma.compile(soma.load(CUBA), target="spinnaker1")
    assert image.mapping["cores"] >= 1 and "cores" in image.text
    again = soma.read_image(image.to_bytes())
    assert soma.run(image, duration=0.05).report["populations"] == soma.run(again, duration=0.05).report["populations"]


def test_simulate_is_the_reference_the_cli_runs():
    ref = soma.simulate(soma.load(CUBA), duration="50 ms")
    cli = cli_json("simulate", CUBA, "--duration", "50ms")
    assert [p["spikes"] for p in ref.report["populations"]] == [p["spikes"] for p in cli["populations"]]


def test_an_in_memory_nir_graph_runs_like_its_file_on_the_cli():
    graph = nir.read(CSNN)
    net = soma.load(graph, dt="1 ms")
    result = soma.run(net, target="spinnaker1", duration="20 ms", inputs="poisson:200Hz")
    cli = cli_json("run", CSNN, "--dt", "1ms", "--target", "spinnaker1", "--duration", "20ms", "--input", "poisson:200Hz")
    assert result.report["energy_j"] == cli["energy_j"]
    assert [p["spikes"] for p in result.report["populations"]] == [p["spikes"] for p in cli["populations"]]


def test_a_numpy_input_equals_the_same_spike_file(tmp_path):
    net = soma.load(CSNN, dt="1 ms")
    channels = 2 * 8 * 8  # csnn_small's input: (2, 8, 8)
    rng = numpy.random.default_rng(3)
    counts = (rng.random((20, channels)) < 0.2).astype(int)
    spike_file = tmp_path / "in.csv"
    spike_file.write_text("\n".join(",".join(str(c) for c in row) for row in counts) + "\n")
    from_array = soma.run(net, duration="20 ms", inputs=counts)
    cli = cli_json("run", CSNN, "--dt", "1ms", "--duration", "20ms", "--input", str(spike_file))
    assert from_array.report["energy_j"] == cli["energy_j"]
    assert [p["spikes"] for p in from_array.report["populations"]] == [p["spikes"] for p in cli["populations"]]
    with pytest.raises(soma.RunError, match="columns, but the graph has 128 input channels"):
        soma.run(net, duration="20 ms", inputs=counts[:, :5])


def test_a_bad_graph_raises_an_error_naming_the_node():
    graph = nir.read(CSNN)
    name = next(k for k, n in graph.nodes.items() if type(n).__name__ == "LIF")
    graph.nodes[name].tau = -graph.nodes[name].tau
    with pytest.raises(soma.NetworkError, match=f"node `{name}`: "):
        soma.load(graph, dt="1 ms")


def test_work_that_cannot_fit_is_refused_with_the_estimate():
    # 1e9 synapses instantiate in about 11 GiB, but an SFQ netlist of them needs about 410 bytes a synapse to build.
    dense = (
        b"timestep 1 ms\npopulation p[31623] : lif { tau = 10 ms, r = 1, v_leak = 0, v_threshold = 1 }\n"
        b"projection p -> p : all_to_all { weight = 0.001 }\n"
    )
    network = soma.load(dense, format="snn")
    with pytest.raises(soma.NetworkError, match="to compile for sfq_mitll \\(about 410 bytes a synapse"):
        soma.compile(network, target="sfq_mitll")
    with pytest.raises(soma.NetworkError, match="to compile for sfq_mitll and run"):
        soma.run(network, target="sfq_mitll")


@pytest.mark.parametrize(
    "call, kind, text",
    [
        (lambda: soma.load(str(ROOT / "tests" / "in" / "bad_dimension.snn")), soma.NetworkError, "bad_dimension.snn:4:43"),
        (lambda: soma.load(b"population p[1] : lif {}", format="snn"), soma.NetworkError, "timestep"),
        (lambda: soma.compile(soma.load(CUBA), target="no_such_chip"), soma.TargetError, "no target `no_such_chip`"),
        (lambda: soma.run(soma.load(CUBA), duration="-1 s"), soma.RunError, "not a finite, non-negative time"),
        (
            lambda: soma.run(soma.load(str(ROOT / "tests" / "in" / "izhikevich.snn")), target="sfq_mitll"),
            soma.CompileError,
            "izhikevich",
        ),
    ],
)
def test_errors_are_exceptions_with_the_command_lines_messages(call, kind, text):
    with pytest.raises(kind, match=text) as e:
        call()
    assert isinstance(e.value, soma.SomaError)


def test_compare_gives_rows_for_a_dataframe():
    rows = soma.compare(soma.load(CUBA), targets=["spinnaker1", "reram_128"], duration="20 ms")
    assert [r["target"] for r in rows] == ["spinnaker1", "reram_128"]
    assert all(r["energy_j"] > 0 and r["rate_error"] >= 0 for r in rows)


def test_the_worked_example_runs_on_both_families():
    import sys

    sys.path.insert(0, str(ROOT / "python" / "examples"))
    import nir_to_chips

    rows = nir_to_chips.main(duration="50 ms")
    assert [r[0] for r in rows] == ["spinnaker1", "reram_128"]
    assert all(energy > 0 and error == error for _, energy, error in rows)


@pytest.mark.parametrize("call", [
    lambda net: soma.run(net, target="spinnaker1", duration="1000 s"),
    lambda net: soma.run(net, target="reram_128", duration="1000 s"),
    lambda net: soma.simulate(net, duration="1000 s"),
])
def test_ctrl_c_interrupts_a_long_run(call):
    import signal
    import threading
    import time

    net = soma.load(str(ROOT / "examples" / "cuba.snn"))
    timer = threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT))
    start = time.monotonic()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        call(net)
    timer.join()
    assert time.monotonic() - start < 30, "the run stopped soon after the signal"


def cli_trace(tmp_path, command, probe, shape):
    """The v column of `soma COMMAND CUBA --probe PROBE --trace` over 20 ms, as a steps x neurons array."""
    out = tmp_path / f"{command}.csv"
    subprocess.run([SOMA, command, CUBA, "--duration", "20ms", "--probe", probe, "--trace", str(out), "-q"],
                   check=True, cwd=ROOT, capture_output=True)
    rows = [line.split(",") for line in out.read_text().splitlines()[1:]]
    return numpy.array([float(r[3]) for r in rows]).reshape(shape)


def test_probes_give_membrane_traces_like_the_cli(tmp_path):
    net = soma.load(CUBA)
    result = soma.simulate(net, duration="20 ms", probes=["exc[0..3]:v"])
    trace = result.traces["exc[0..3]:v"]
    assert trace.shape == (200, 3) and list(result.traces["exc[0..3]:v neurons"]) == [0, 1, 2]
    assert numpy.array_equal(trace, cli_trace(tmp_path, "simulate", "exc[0..3]:v", trace.shape))
    with pytest.raises(soma.NetworkError, match="no population `nope`"):
        soma.simulate(net, duration="1 ms", probes=["nope:v"])


def test_run_probes_give_the_machines_membrane_like_the_cli(tmp_path):
    result = soma.run(soma.load(CUBA), duration="20 ms", probes=["exc[0..3]:v"])
    trace = result.traces["exc[0..3]:v"]
    assert trace.shape == (200, 3) and list(result.traces["exc[0..3]:v neurons"]) == [0, 1, 2]
    assert numpy.array_equal(trace, cli_trace(tmp_path, "run", "exc[0..3]:v", trace.shape)), "soma run --trace's"
    reference = soma.simulate(soma.load(CUBA), duration="20 ms", probes=["exc[0..3]:v"]).traces["exc[0..3]:v"]
    assert numpy.abs(trace[0] - reference[0]).max() < 1e-7, "the first step agrees to the register's resolution"
    image = soma.compile(soma.load(CUBA))
    with pytest.raises(soma.RunError, match="probes"):
        soma.run(image, duration="1 ms", probes=["exc:v"])


def test_device_non_idealities_are_the_command_lines():
    net = soma.load(CUBA)
    result = soma.run(net, target="reram_128", duration="50 ms", nonideal="all", read_after="1 s", adc_range=0.5)
    cli = cli_json("run", CUBA, "--target", "reram_128", "--duration", "50ms", "--nonideal", "all", "--read-after", "1s",
                   "--adc-range", "0.5")
    assert result.report["energy_j"] == cli["energy_j"] and result.report["nonideal"] == cli["nonideal"]
    assert [p["spikes"] for p in result.report["populations"]] == [p["spikes"] for p in cli["populations"]]
    with pytest.raises(soma.RunError, match="model resistive devices; spinnaker1 is a spinnaker target"):
        soma.run(net, target="spinnaker1", duration="1 ms", nonideal="all")
    with pytest.raises(soma.RunError, match="no projection `nope`"):
        soma.run(net, target="reram_128", duration="1 ms", device_random=["nope"])


def test_a_sweep_gives_the_command_lines_points(tmp_path):
    rows = soma.sweep(soma.load(CUBA), {"neurons_per_core": [64, 128]}, duration="20 ms")
    subprocess.run([SOMA, "sweep", CUBA, "--vary", "neurons_per_core=64,128", "--duration", "20ms", "--out",
                    str(tmp_path), "-q"], check=True, cwd=ROOT, capture_output=True)
    lines = (tmp_path / "sweep.csv").read_text().splitlines()
    header = lines[0].split(",")
    cli = [dict(zip(header, line.split(","))) for line in lines[1:]]
    assert [r["neurons_per_core"] for r in rows] == [64.0, 128.0]
    assert [r["energy_j"] for r in rows] == [float(c["energy_j"]) for c in cli]
    assert [r["size"] for r in rows] == [int(c["cores"]) for c in cli]
    with pytest.raises(soma.TargetError, match="no constant `nope`"):
        soma.sweep(soma.load(CUBA), {"nope": [1]}, duration="1 ms")


def test_a_constrained_sweep_recommends_what_the_cli_recommends(tmp_path):
    xor = str(ROOT / "examples" / "xor_sfq.snn")
    rows = soma.sweep(soma.load(xor), {"ring_buffer_sigma": [5, 20]}, duration="50 ms", limits={"rate_error": 0.05})
    out = subprocess.run([SOMA, "sweep", xor, "--vary", "ring_buffer_sigma=5,20", "--duration", "50ms", "--max",
                          "rate_error=5%", "--out", str(tmp_path), "--json", "-q"], check=True, cwd=ROOT,
                         capture_output=True, text=True)
    said = next(line for line in out.stderr.splitlines() if line.startswith("recommended"))
    best = next(r for r in rows if r["recommended"])
    assert f"ring_buffer_sigma={best['ring_buffer_sigma']:g}" in said
    assert [r["feasible"] for r in rows] == [r["rate_error"] <= 0.05 for r in rows]
    assert rows == json.loads(out.stdout), "the same rows as `soma sweep --json`"
    assert any(r["pareto_optimal"] for r in rows)


def test_learned_weights_are_the_command_lines():
    result = soma.simulate(soma.load(str(ROOT / "examples" / "stdp_window.snn")))
    learned = result.weights["pre->post_add"]
    assert len(learned["after"]) == 21 and list(learned["pre"][:3]) == [0, 1, 2]
    cli = cli_json("simulate", "examples/stdp_window.snn")["learned"][0]
    assert result.report["learned"][0] == cli
    assert abs(float(numpy.mean(learned["after"])) - cli["mean_after"]) < 1e-15
    # Lag -5 ms (synapse 9): NEST's stdp_synapse ends at 0.098121509104 (tests/data/nest/stdp_window.txt).
    assert abs(learned["after"][9] - 0.098121509104) < 1e-8
    assert soma.simulate(soma.load(CUBA), duration="10 ms").weights == {}


def test_a_run_gives_the_weights_the_machine_learned_like_the_cli(tmp_path):
    window = str(ROOT / "examples" / "stdp_window.snn")
    learned = soma.run(soma.load(window)).weights["pre->post_add"]
    out = tmp_path / "w.csv"
    subprocess.run([SOMA, "run", window, "--weights", str(out), "-q"], check=True, cwd=ROOT, capture_output=True)
    rows = [line.split(",") for line in out.read_text().splitlines()[1:] if line.startswith("pre->post_add,")]
    assert list(learned["after"]) == [float(r[5]) for r in rows]
    reference = soma.simulate(soma.load(window)).weights["pre->post_add"]["after"]
    assert numpy.abs(numpy.array(learned["after"]) - numpy.array(reference)).max() < 2e-4


@pytest.mark.parametrize("command", [["simulate"], ["run", "--target", "spinnaker1"]])
def test_weight_traces_are_the_command_lines_weight_trace_rows(tmp_path, command):
    window = str(ROOT / "examples" / "stdp_window.snn")
    probe = "pre->post_add[3..8]"
    call = soma.simulate if command[0] == "simulate" else soma.run
    traces = call(soma.load(window), weight_probes=[probe], weight_every="10 ms").weight_traces[probe]
    out = tmp_path / "w.csv"
    subprocess.run([SOMA, *command, window, "--weight-probe", probe, "--weight-trace", str(out),
                    "--weight-every", "10ms", "-q"], check=True, cwd=ROOT, capture_output=True)
    rows = [line.split(",") for line in out.read_text().splitlines()[1:]]
    samples, synapses = len(traces["time_s"]), len(traces["synapse"])
    assert synapses == 5 and samples * synapses == len(rows) and samples > 10
    for k in range(samples):
        for j in range(synapses):
            time_s, _, synapse, pre, post, weight = rows[k * synapses + j]
            assert float(time_s) == traces["time_s"][k]
            assert (int(synapse), int(pre), int(post)) == (traces["synapse"][j], traces["pre"][j], traces["post"][j])
            assert float(weight) == traces["weight"][k][j]
    with pytest.raises(soma.RunError, match="weight_probes nope: no plastic projection `nope`"):
        call(soma.load(window), weight_probes=["nope"])
    with pytest.raises(soma.RunError, match="weight_every: 0 s is not a positive time"):
        call(soma.load(window), weight_probes=[probe], weight_every=0)


@pytest.mark.parametrize("target", ["spinnaker1", "reram_128"])
def test_the_report_page_is_the_command_lines(tmp_path, target):
    result = soma.run(soma.load(CUBA), target=target, duration="20 ms")
    report = tmp_path / "run.json"
    report.write_text(result.to_json())
    cli_page = tmp_path / "cli.html"
    subprocess.run([SOMA, "report", str(report), "--html", str(cli_page)], check=True, cwd=ROOT, capture_output=True)
    result.report_html(tmp_path / "py.html")
    assert (tmp_path / "py.html").read_bytes() == cli_page.read_bytes()


def test_the_report_page_plots_the_probes_and_a_simulation_has_none(tmp_path):
    result = soma.run(soma.load(CUBA), duration="20 ms", probes=["exc[0..3]:v"])
    result.report_html(tmp_path / "run.html")
    page = (tmp_path / "run.html").read_text()
    assert "Membrane potential: machine and reference" in page and "exc neuron 2" in page
    with pytest.raises(soma.RunError, match="no report page"):
        soma.simulate(soma.load(CUBA), duration="1 ms").report_html(tmp_path / "sim.html")
    assert not (tmp_path / "sim.html").exists()
