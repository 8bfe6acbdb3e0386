"""examples/song_abbott.snn in NEST 3: 1000 Poisson inputs at 10 Hz onto one iaf_psc_exp neuron through additive
stdp_synapse (A_plus = 0.005, A_minus / A_plus = 1.05, tau 20 ms, Wmax 8 pA, initial weights uniform in [0, Wmax)),
through parrot neurons (a generator cannot drive a plastic synapse). Prints the neuron's rate and every final
weight in pA; tests/data/nest/song_abbott_seed{1,2}.txt are its output for seeds 1 and 2 after 300 s, which the
docs/plasticity.md check compares soma's distribution with.

    PYNEST_QUIET=1 venv/bin/python tools/nest/song_abbott.py SEED 300 > tests/data/nest/song_abbott_seedSEED.txt
"""
import sys

import numpy as np
import nest

seed, seconds = int(sys.argv[1]), float(sys.argv[2])
N, RATE, WMAX = 1000, 10.0, 8.0
nest.set_verbosity("M_ERROR")
nest.ResetKernel()
nest.resolution = 0.1
nest.rng_seed = seed
cell = nest.Create("iaf_psc_exp", params=dict(
    C_m=250.0, tau_m=20.0, tau_syn_ex=5.0, tau_syn_in=5.0, E_L=-70.0, V_m=-70.0, V_th=-54.0, V_reset=-60.0,
    t_ref=2.0, tau_minus=20.0))
generator = nest.Create("poisson_generator", params={"rate": RATE})
inputs = nest.Create("parrot_neuron", N)
nest.Connect(generator, inputs, syn_spec={"delay": 0.1})
w0 = np.random.default_rng(seed).uniform(0.0, WMAX, N)
nest.Connect(inputs, cell, "all_to_all", syn_spec={
    "synapse_model": "stdp_synapse", "weight": w0.reshape(1, N), "delay": 0.1, "Wmax": WMAX, "lambda": 0.005,
    "alpha": 1.05, "mu_plus": 0.0, "mu_minus": 0.0, "tau_plus": 20.0})
recorder = nest.Create("spike_recorder")
nest.Connect(cell, recorder)
nest.Simulate(seconds * 1000.0)
print("# NEST %s, seed %d, %g s: rate %.4f Hz; final weights (pA)" % (nest.__version__, seed, seconds,
                                                                      recorder.n_events / seconds))
for w in nest.GetConnections(inputs, cell).get("weight"):
    print("%.9g" % w)
