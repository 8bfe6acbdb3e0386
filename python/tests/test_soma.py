"""End-to-end checks of the Python package against the command line's numbers. Run as
`python python/tests/test_soma.py DIR` where DIR holds the package `soma` with its extension module (what
.ci/run assembles from `cargo build -p soma-python`), from the repository root."""

import json
import subprocess
import sys

sys.path.insert(0, sys.argv[1])
import soma  # noqa: E402

SOMA = "target/debug/soma"
failures = []


def check(name, condition, detail=""):
    if not condition:
        failures.append(f"{name}: {detail}")


def cli_json(*args):
    out = subprocess.run([SOMA, *args, "--json", "-q"], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


# The registry of targets is the command line's.
names = [t["name"] for t in soma.targets()]
check("targets", {"spinnaker1", "reram_128", "sfq_mitll"} <= set(names), names)

# A .snn network runs on every family with the CLI's numbers, bit for bit.
net = soma.load("tests/in/cuba_small.snn")
check("network", net.neurons == 200 and len(net.populations) == 2, repr(net))
for target in ["spinnaker1", "reram_128", "sfq_mitll"]:
    result = soma.run(net, target=target, duration="50 ms", seed=1, compare_reference=True)
    cli = cli_json("run", "tests/in/cuba_small.snn", "--target", target, "--duration", "50ms", "--compare-reference")
    check(f"{target} energy", result.report["energy_j"] == cli["energy_j"], (result.report["energy_j"], cli["energy_j"]))
    mine = [p["spikes"] for p in result.report["populations"]]
    theirs = [p["spikes"] for p in cli["populations"]]
    check(f"{target} spikes", mine == theirs, (mine, theirs))
    check(f"{target} spike list", len(result.spikes["time_s"]) == sum(mine), len(result.spikes["time_s"]))
    check(f"{target} fidelity", result.figures["rate_error"] == result.figures["rate_error"], result.figures)

# compile -> bytes -> read_image -> run gives the spikes of the in-memory image.
image = soma.compile(net, target="spinnaker1")
check("mapping", image.mapping["cores"] >= 1, image.mapping)
again = soma.read_image(image.to_bytes())
a = soma.run(image, duration=0.05).report["populations"]
b = soma.run(again, duration=0.05).report["populations"]
check("image round trip", a == b, (a, b))

# The reference simulator.
ref = soma.simulate(net, duration="50 ms")
cli = cli_json("simulate", "tests/in/cuba_small.snn", "--duration", "50ms")
check("simulate", [p["spikes"] for p in ref.report["populations"]] == [p["spikes"] for p in cli["populations"]])

# Errors are exceptions with the command line's messages.
for call, kind, text in [
    (lambda: soma.load("tests/in/bad_dimension.snn"), soma.NetworkError, "bad_dimension.snn:"),
    (lambda: soma.load(b"population p[1] : lif {}", format="snn"), soma.NetworkError, "timestep"),
    (lambda: soma.compile(net, target="no_such_chip"), soma.TargetError, "no target `no_such_chip`"),
    (lambda: soma.run(soma.load("tests/in/izhikevich.snn"), target="sfq_mitll"), soma.CompileError, "izhikevich"),
    (lambda: soma.run(net, duration="-1 s"), soma.RunError, "not a finite, non-negative time"),
]:
    try:
        call()
        failures.append(f"no {kind.__name__} raised")
    except kind as e:
        check(kind.__name__, text in str(e), str(e))

# An in-memory NIR graph (needs the nir package) reads like its file.
try:
    import nir
except ImportError:
    nir = None
if nir is None:
    print("note: the nir package is not installed: the in-memory NIRGraph check is skipped")
else:
    path = "tests/data/nir/csnn_small.nir"
    from_file = soma.load(path, dt="1 ms")
    from_graph = soma.load(nir.read(path), dt=1e-3)
    check("NIRGraph", repr(from_file).split(":", 1)[1] == repr(from_graph).split(":", 1)[1], (from_file, from_graph))
    a = soma.simulate(from_file, duration=0.02).report["populations"]
    b = soma.simulate(from_graph, duration=0.02).report["populations"]
    check("NIRGraph simulate", a == b, (a, b))
    import numpy

    spikes = soma.run(net, duration=0.05).spikes
    check("numpy spikes", isinstance(spikes["time_s"], numpy.ndarray) and spikes["neuron"].dtype == numpy.int64)
print("python checks:", "ok" if not failures else "FAILED")
for f in failures:
    print("  ", f)
sys.exit(1 if failures else 0)
