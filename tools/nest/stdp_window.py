"""The STDP window of examples/stdp_window.snn in NEST 3 (stdp_synapse between parrot neurons).

Presynaptic parrot k spikes at 100 ms and 500 ms, postsynaptic parrot k at 100 ms + lag_k (lags -50..50 ms by 5);
the plastic synapse (delay 0.1 ms, all of it dendritic, as in soma) enters the post parrot on receptor 1, which
a parrot ignores, so only the kicks make it spike. Prints, per lag, the additive and the multiplicative weight
after 600 ms: tests/data/nest/stdp_window.txt is this output from its header line on (tests/plasticity.rs and
the docs/plasticity.md check read it).

    python3 -m venv venv && venv/bin/pip install nest-simulator && venv/bin/python tools/nest/stdp_window.py
"""
import nest

nest.set_verbosity("M_ERROR")
nest.ResetKernel()
nest.resolution = 0.1
LAGS = list(range(-50, 51, 5))
D = 0.1
W0, WMAX, A_PLUS, A_MINUS, TAU = 0.1, 0.2, 0.01, 0.012, 20.0


def window(mu):
    pre = nest.Create("parrot_neuron", len(LAGS))
    post = nest.Create("parrot_neuron", len(LAGS), params={"tau_minus": TAU})
    pre_gen = nest.Create("spike_generator", len(LAGS), params={"spike_times": [100.0 - D, 500.0 - D]})
    post_gen = nest.Create("spike_generator", len(LAGS))
    for k, lag in enumerate(LAGS):
        post_gen[k].spike_times = [100.0 + lag - D]
    nest.Connect(pre_gen, pre, "one_to_one", syn_spec={"delay": D})
    nest.Connect(post_gen, post, "one_to_one", syn_spec={"delay": D})
    nest.Connect(pre, post, "one_to_one", syn_spec={
        "synapse_model": "stdp_synapse", "weight": W0, "delay": D, "receptor_type": 1, "Wmax": WMAX,
        "lambda": A_PLUS, "alpha": A_MINUS / A_PLUS, "mu_plus": mu, "mu_minus": mu, "tau_plus": TAU})
    rec = nest.Create("spike_recorder")
    nest.Connect(pre + post, rec)
    return pre, post, rec


add = window(0.0)
mul = window(1.0)
nest.Simulate(600.0)
for pre, post, rec in (add, mul):
    ev = rec.events
    times = {}
    for s, t in zip(ev["senders"], ev["times"]):
        times.setdefault(s, []).append(round(t, 1))
    for k, lag in enumerate(LAGS):
        assert times[pre[k].global_id] == [100.0, 500.0] and times[post[k].global_id] == [round(100.0 + lag, 1)]
add_w = nest.GetConnections(add[0], add[1]).get("weight")
mul_w = nest.GetConnections(mul[0], mul[1]).get("weight")
print("lag_ms additive multiplicative")
for lag, a, m in zip(LAGS, add_w, mul_w):
    print("%d %.12f %.12f" % (lag, a, m))
