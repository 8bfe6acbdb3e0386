"""soma and NEST 3 on the same workloads in one session, as docs/runtime.md's speed table reports them.

Wall times on a shared machine drift from day to day, so only numbers taken in one session compare: this script
runs each soma command (the whole process, release binary) and each NEST script (its `Simulate` call, which is
what NEST users time) `--repeat` times, interleaved, and prints one markdown row per workload with the medians
and their ratio, dated.

    cargo build --release
    python3 -m venv venv && venv/bin/pip install nest-simulator
    PYNEST_QUIET=1 venv/bin/python tools/bench/side_by_side.py [--repeat 3]
"""
import argparse
import datetime
import json
import pathlib
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
SOMA = str(ROOT / "target" / "release" / "soma")
WORKLOADS = [
    ("CUBA 1 s, float reference", [SOMA, "simulate", "examples/cuba.snn", "-q"], ["tools/nest/cuba.py", "1"]),
    ("CUBA 1 s, spinnaker1 machine", [SOMA, "run", "examples/cuba.snn", "--target", "spinnaker1", "-q"],
     ["tools/nest/cuba.py", "1"]),
    ("microcircuit scale 0.2, 1 s, spinnaker1 machine",
     [SOMA, "run", "examples/microcircuit.snn", "--set", "scale=0.2", "--target", "spinnaker1", "-q"],
     ["tools/nest/microcircuit.py", "0.2", "1000", "1"]),
]


def soma_s(command):
    t0 = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def nest_s(script):
    out = subprocess.run([sys.executable, *script], cwd=ROOT, check=True, capture_output=True, text=True).stdout
    lines = [l for l in out.splitlines() if l.startswith("{")]
    return json.loads(lines[-1])["simulate_s"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print("| workload | soma, whole command | NEST 3, `Simulate` | soma / NEST |")
    print("|---|---|---|---|")
    for name, soma, nest in WORKLOADS:
        ours, theirs = [], []
        for _ in range(args.repeat):
            ours.append(soma_s(soma))
            theirs.append(nest_s(nest))
        a, b = statistics.median(ours), statistics.median(theirs)
        print("| %s | %.2f s | %.2f s | %.2f |" % (name, a, b, a / b), flush=True)
    print("\nmedians of %d, interleaved, %s" % (args.repeat, datetime.date.today().isoformat()))


if __name__ == "__main__":
    main()
