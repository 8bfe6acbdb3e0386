"""soma and NEST 3 on the same workloads in one session, as docs/performance.md's side-by-side table reports them.

Wall times on a shared machine drift from day to day, so only numbers taken in one session compare: this script
runs each soma command (the whole process, release binary) and each NEST script (its `Simulate` call, which is
what NEST users time) `--repeat` times, interleaved, and prints one markdown row per workload with the medians
and their ratio, dated.

    cargo build --release
    python3 -m venv venv && venv/bin/pip install nest-simulator
    PYNEST_QUIET=1 venv/bin/python tools/bench/side_by_side.py [--repeat 3]

With `--brian2 PYTHON` (an interpreter that has Brian2: `python3 -m venv b2 && b2/bin/pip install brian2
"numpy<2"`; Brian2 2.9 does not run on NumPy 2) it also times soma's float reference against Brian2's C++
standalone binary of the same CUBA (tools/brian2/cuba.py builds it once; its binary is timed whole, as soma's
process is), interleaved.
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


def brian2_row(python, repeat):
    """soma's reference on CUBA against Brian2's standalone binary, interleaved: one markdown row."""
    build = subprocess.run([python, "tools/brian2/cuba.py", "--repeat", "1"], cwd=ROOT, check=True,
                           capture_output=True, text=True)
    print("Brian2 CUBA rates:", build.stdout.strip().splitlines()[-1], file=sys.stderr)
    ours, theirs = [], []
    for _ in range(repeat):
        ours.append(soma_s([SOMA, "simulate", "examples/cuba.snn", "-q"]))
        t0 = time.perf_counter()
        subprocess.run(["/tmp/brian2_cuba/main"], cwd="/tmp/brian2_cuba", check=True, stdout=subprocess.DEVNULL)
        theirs.append(time.perf_counter() - t0)
    a, b = statistics.median(ours), statistics.median(theirs)
    print("| CUBA 1 s, float reference against Brian2 2.9 C++ standalone (whole binary) | %.3f s | %.3f s | %.2f |"
          % (a, b, a / b), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--brian2", metavar="PYTHON", help="an interpreter with Brian2 installed")
    parser.add_argument("--skip-nest", action="store_true", help="only the Brian2 row")
    args = parser.parse_args()
    if args.brian2:
        print("| workload | soma, whole command | Brian2 | soma / Brian2 |")
        print("|---|---|---|---|")
        brian2_row(args.brian2, args.repeat)
        if args.skip_nest:
            return
        print()
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
