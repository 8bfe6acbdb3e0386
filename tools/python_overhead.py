"""Dev script: the Python package's calling overhead against the CLI, on the same run in one session.

    python tools/python_overhead.py [--runs 5] [--soma target/release/soma] [--network examples/cuba.snn]

Needs the package installed from a release wheel (`cd python && maturin build --release`, then pip install the
wheel) and the release CLI (`cargo build --release`). Prints the median wall time of each over --runs runs
(whole processes for the CLI, `soma.load` + `soma.run` in this process for Python) and their ratio.
"""

import argparse
import statistics
import subprocess
import time

import soma

parser = argparse.ArgumentParser()
parser.add_argument("--runs", type=int, default=5)
parser.add_argument("--soma", default="target/release/soma")
parser.add_argument("--network", default="examples/cuba.snn")
parser.add_argument("--target", default="spinnaker1")
parser.add_argument("--duration", default="1s")
args = parser.parse_args()


def timed(work):
    t0 = time.perf_counter()
    work()
    return time.perf_counter() - t0


cli, python = [], []
for _ in range(args.runs):
    cli.append(timed(lambda: subprocess.run(
        [args.soma, "run", args.network, "--target", args.target, "--duration", args.duration, "-q"],
        check=True, capture_output=True)))
    python.append(timed(lambda: soma.run(soma.load(args.network), target=args.target, duration=args.duration)))
c, p = statistics.median(cli), statistics.median(python)
print(f"{args.network} on {args.target}, {args.duration}: CLI {c:.3f} s, Python {p:.3f} s (median of {args.runs}); "
      f"Python / CLI = {p / c:.3f}")
