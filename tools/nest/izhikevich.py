"""NEST izhikevich regular-spiking spike times (values copied into runtime/tests/against_nest.rs)."""
import nest
nest.set_verbosity("M_ERROR")
nest.ResetKernel()
nest.resolution = 0.1
n = nest.Create("izhikevich", params=dict(a=0.02, b=0.2, c=-65.0, d=8.0, I_e=10.0, V_m=-65.0, U_m=0.2*-65.0, V_th=30.0))
sr = nest.Create("spike_recorder")
nest.Connect(n, sr)
nest.Simulate(200.0)
print([round(t, 1) for t in sr.events["times"]])
