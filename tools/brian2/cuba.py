"""CUBA (Brette et al. 2007, benchmark 2) in Brian2's C++ standalone mode, as examples/cuba.snn and
tools/nest/cuba.py: dev-time side-by-side speed check (issue 16).

Usage: python cuba.py [--repeat N] [--dir DIR]
Builds the standalone project once, then runs its binary N times and prints one JSON line per run with the
binary's wall time (the whole process, as soma's figure is) and the per-population rates (Hz).
"""
import argparse
import json
import pathlib
import subprocess
import time

from brian2 import (NeuronGroup, Synapses, SpikeMonitor, defaultclock, device, ms, mV, pA, pF, run, seed,
                    set_device)


def build(directory):
    set_device("cpp_standalone", directory=directory, build_on_run=False)
    seed(1)
    defaultclock.dt = 0.1 * ms
    # NEST's iaf_psc_exp as in tools/nest/cuba.py: C_m 1000 pF, tau_m 20 ms, E_L -49 mV, V_th -50 mV, V_reset
    # -60 mV, t_ref 5 ms, tau_syn 5 / 10 ms; weights are current jumps of 81 pA and -450 pA.
    eqs = """
    dv/dt = (-49*mV - v) / (20*ms) + (ie + ii) / (1000*pF) : volt (unless refractory)
    die/dt = -ie / (5*ms) : amp
    dii/dt = -ii / (10*ms) : amp
    """
    cells = NeuronGroup(4000, eqs, threshold="v >= -50*mV", reset="v = -60*mV", refractory=5 * ms,
                        method="exact")
    cells.v = "-60*mV + 10*mV*rand()"
    exc, inh = cells[:3200], cells[3200:]
    se = Synapses(exc, cells, on_pre="ie_post += 81*pA", delay=0.1 * ms)
    se.connect(p=0.02)
    si = Synapses(inh, cells, on_pre="ii_post += -450*pA", delay=0.1 * ms)
    si.connect(p=0.02)
    spikes = SpikeMonitor(cells)
    run(1000 * ms)
    device.build(directory=directory, compile=True, run=False)
    return spikes


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--dir", default="/tmp/brian2_cuba")
    args = parser.parse_args()
    build(args.dir)
    binary = pathlib.Path(args.dir) / "main"
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        subprocess.run([str(binary)], cwd=args.dir, check=True, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - t0
        ids = (pathlib.Path(args.dir) / "results").glob("_dynamic_array_spikemonitor_i*")
        counts = [0, 0]
        for f in ids:
            import numpy as np
            i = np.fromfile(f, dtype=np.int32)
            counts = [int((i < 3200).sum()), int((i >= 3200).sum())]
        print(json.dumps({"binary_s": wall, "exc": counts[0] / 3200, "inh": counts[1] / 800}), flush=True)


if __name__ == "__main__":
    main()
