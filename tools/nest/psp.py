"""iaf_psc_exp single-neuron PSP trace in NEST 3 (values copied into runtime/tests/against_nest.rs)."""
import nest
nest.set_verbosity("M_ERROR")
nest.ResetKernel()
nest.resolution = 0.1
n = nest.Create("iaf_psc_exp", params=dict(C_m=250.0, tau_m=10.0, tau_syn_ex=2.0, tau_syn_in=0.5, E_L=-65.0, V_m=-65.0, V_th=-50.0, V_reset=-65.0, t_ref=2.0, I_e=0.0))
sg = nest.Create("spike_generator", params={"spike_times": [1.0, 4.0]})
nest.Connect(sg, n, syn_spec={"weight": 1000.0, "delay": 1.0})
sg2 = nest.Create("spike_generator", params={"spike_times": [3.0]})
nest.Connect(sg2, n, syn_spec={"weight": -500.0, "delay": 0.5})
mm = nest.Create("multimeter", params={"record_from": ["V_m"], "interval": 0.1})
nest.Connect(mm, n)
nest.Simulate(10.0)
ev = mm.events
for t, v in zip(ev["times"], ev["V_m"]):
    if round(t*10) in (19, 20, 21, 22, 30, 35, 36, 50, 51, 80, 99):
        print("%.1f %.12f" % (t, v))
