"""CUBA (Brette et al. 2007, benchmark 2) in NEST 3, exactly as examples/cuba.snn: dev-time side-by-side check.

Usage: python cuba.py SEED [SEED ...]   -> prints one JSON line per seed with per-population rates (Hz).
"""
import json
import sys

import nest


def run(seed, t_sim=1000.0):
    nest.ResetKernel()
    nest.set_verbosity("M_ERROR")
    nest.SetKernelStatus({"resolution": 0.1, "rng_seed": seed, "local_num_threads": 1})
    params = dict(C_m=1000.0, tau_m=20.0, E_L=-49.0, V_reset=-60.0, V_th=-50.0, t_ref=5.0,
                  tau_syn_ex=5.0, tau_syn_in=10.0, I_e=0.0)
    exc = nest.Create("iaf_psc_exp", 3200, params=params)
    inh = nest.Create("iaf_psc_exp", 800, params=params)
    for pop in (exc, inh):
        pop.V_m = nest.random.uniform(-60.0, -50.0)
    conn = {"rule": "pairwise_bernoulli", "p": 0.02, "allow_autapses": True}
    for pre, w in ((exc, 81.0), (inh, -450.0)):
        for post in (exc, inh):
            nest.Connect(pre, post, conn, {"weight": w, "delay": 0.1})
    rec = nest.Create("spike_recorder", 2)
    nest.Connect(exc, rec[0])
    nest.Connect(inh, rec[1])
    import time
    t0 = time.time()
    nest.Simulate(t_sim)
    simulate_s = time.time() - t0
    n = [3200, 800]
    return {"seed": seed, "simulate_s": simulate_s, "exc": rec[0].n_events / n[0] / (t_sim / 1000), "inh": rec[1].n_events / n[1] / (t_sim / 1000)}


if __name__ == "__main__":
    for s in sys.argv[1:] or ["1"]:
        print(json.dumps(run(int(s))), flush=True)
