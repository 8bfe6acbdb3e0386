"""Side by side: soma's float reference simulator vs NEST 3 on CUBA and the microcircuit at scale 0.2.

Dev-time only (needs `pip install nest-simulator numpy` in a venv and a release build of soma):
    python tools/nest/compare.py > docs/reference-vs-nest.md
Each simulator runs the same network description over several seeds (the seeds draw different random networks
and initial states in each tool); the table compares mean per-population rates.
"""
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
SOMA = ROOT / "target" / "release" / "soma"


def soma(args, seed):
    t = time.time()
    out = subprocess.run([str(SOMA), "simulate", *args, "--seed", str(seed), "--json", "-q"],
                         check=True, capture_output=True, text=True).stdout
    return {p["name"]: p["rate_hz"] for p in json.loads(out)["populations"]}, time.time() - t


def nest(script, args, seeds):
    out = subprocess.run([sys.executable, str(HERE / script), *args, *map(str, seeds)],
                         check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def table(title, pops, soma_runs, nest_runs, tolerance):
    print(f"### {title}\n")
    print(f"| population | soma rate (Hz), mean ± sd | NEST rate (Hz), mean ± sd | difference | within {tolerance:.0%} |")
    print("|---|---|---|---|---|")
    for p in pops:
        s = [r[p] for r in soma_runs]
        n = [r[p] for r in nest_runs]
        ms, mn = statistics.mean(s), statistics.mean(n)
        diff = (ms - mn) / mn
        print(f"| {p} | {ms:.3f} ± {statistics.stdev(s):.3f} | {mn:.3f} ± {statistics.stdev(n):.3f} | "
              f"{diff:+.1%} | {'yes' if abs(diff) <= tolerance else 'NO'} |")
    print()


def main():
    seeds = list(range(1, 11))
    runs = [soma([str(ROOT / "examples/cuba.snn"), "--duration", "1s"], s) for s in seeds]
    print("## CUBA, 1 s, seeds 1-10\n")
    table("CUBA", ["exc", "inh"], [r for r, _ in runs], nest("cuba.py", [], seeds), 0.10)
    mc_seeds = list(range(1, 6))
    pops = ["L23e", "L23i", "L4e", "L4i", "L5e", "L5i", "L6e", "L6i"]
    runs = [soma([str(ROOT / "examples/microcircuit.snn"), "--set", "scale=0.2", "--duration", "1s"], s) for s in mc_seeds]
    print("## Microcircuit, scale 0.2, 1 s, seeds 1-5\n")
    table("Microcircuit", pops, [r for r, _ in runs], nest("microcircuit.py", ["0.2", "1000"], mc_seeds), 0.20)


if __name__ == "__main__":
    main()
