"""Potjans & Diesmann (2014) microcircuit in NEST 3, built exactly as examples/microcircuit.snn (DC background,
N and K scaled by `scale`, weights / sqrt(scale), DC compensation of the lost recurrent input, clipped normal
weights and delays): dev-time side-by-side check.

Usage: python microcircuit.py SCALE T_MS SEED [SEED ...]   -> one JSON line per seed with per-population rates.
"""
import json
import sys

import numpy as np
import nest

POPS = ["L23e", "L23i", "L4e", "L4i", "L5e", "L5i", "L6e", "L6i"]
N_FULL = np.array([20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948])
C = np.array([
    [0.1009, 0.1689, 0.0437, 0.0818, 0.0323, 0.0, 0.0076, 0.0],
    [0.1346, 0.1371, 0.0316, 0.0515, 0.0755, 0.0, 0.0042, 0.0],
    [0.0077, 0.0059, 0.0497, 0.1350, 0.0067, 0.0003, 0.0453, 0.0],
    [0.0691, 0.0029, 0.0794, 0.1597, 0.0033, 0.0, 0.1057, 0.0],
    [0.1004, 0.0622, 0.0505, 0.0057, 0.0831, 0.3726, 0.0204, 0.0],
    [0.0548, 0.0269, 0.0257, 0.0022, 0.0600, 0.3158, 0.0086, 0.0],
    [0.0156, 0.0066, 0.0211, 0.0166, 0.0572, 0.0197, 0.0396, 0.2252],
    [0.0364, 0.0010, 0.0034, 0.0005, 0.0277, 0.0080, 0.0658, 0.1443]])
K_EXT = np.array([1600, 1500, 2100, 1900, 2000, 1900, 2900, 2100])
RATES = np.array([0.903, 2.965, 4.414, 5.876, 7.569, 8.633, 1.105, 7.829])
CM, TAU_M, TAU_SYN = 250.0, 10.0, 0.5


def run(scale, t_sim, seed):
    nest.ResetKernel()
    nest.set_verbosity("M_ERROR")
    nest.SetKernelStatus({"resolution": 0.1, "rng_seed": seed, "local_num_threads": 2})
    sub = 1.0 / (TAU_SYN - TAU_M)
    pre = TAU_M * TAU_SYN / CM * sub
    frac = (TAU_M / TAU_SYN) ** sub
    w_full = 0.15 / (pre * (frac ** TAU_M - frac ** TAU_SYN))
    psc = np.tile(w_full * np.array([1, -4] * 4), (8, 1))
    psc[0, 2] *= 2
    full_syn = np.log(1 - C) / np.log(1 - 1 / np.outer(N_FULL, N_FULL))
    indeg = full_syn / N_FULL[:, None]
    rec = (psc * indeg * RATES).sum(axis=1)
    dc = 8.0 * K_EXT * w_full * TAU_SYN * 0.001 + 0.001 * TAU_SYN * (1 - np.sqrt(scale)) * rec
    n = np.round(N_FULL * scale).astype(int)
    nsyn = np.round(full_syn * scale * scale).astype(int)
    w = psc / np.sqrt(scale)
    pops = []
    for i in range(8):
        p = nest.Create("iaf_psc_exp", n[i], params=dict(C_m=CM, tau_m=TAU_M, tau_syn_ex=TAU_SYN, tau_syn_in=TAU_SYN,
                                                          E_L=-65.0, V_th=-50.0, V_reset=-65.0, t_ref=2.0, I_e=dc[i]))
        p.V_m = nest.random.normal(-58.0, 10.0)
        pops.append(p)
    for i in range(8):
        for j in range(8):
            if C[i, j] == 0:
                continue
            mean = w[i, j]
            normal = nest.random.normal(mean, abs(mean) * 0.1)
            weight = nest.math.max(normal, 0.0) if mean > 0 else nest.math.min(normal, 0.0)
            d = 1.5 if j % 2 == 0 else 0.75
            delay = nest.math.max(nest.random.normal(d, d * 0.5), 0.1)
            nest.Connect(pops[j], pops[i], {"rule": "fixed_total_number", "N": int(nsyn[i, j])},
                         {"weight": weight, "delay": delay})
    recs = nest.Create("spike_recorder", 8)
    for p, r in zip(pops, recs):
        nest.Connect(p, r)
    import time
    t0 = time.time()
    nest.Simulate(t_sim)
    simulate_s = time.time() - t0
    out = {"seed": seed, "scale": scale, "simulate_s": simulate_s}
    for i, name in enumerate(POPS):
        out[name] = recs[i].n_events / n[i] / (t_sim / 1000.0)
    return out


if __name__ == "__main__":
    scale, t_sim = float(sys.argv[1]), float(sys.argv[2])
    for s in sys.argv[3:] or ["1"]:
        print(json.dumps(run(scale, t_sim, int(s))), flush=True)
