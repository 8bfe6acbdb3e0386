"""A small snnTorch-style network written as a NIR graph with the `nir` package (no torch needed), run on a
SpiNNaker-style machine and a resistive crossbar next to the float reference, with the energy of each.

    python python/examples/nir_to_chips.py [--plot energy.png]

This is the worked example of docs/python.md; python/tests/test_soma.py runs it.
"""

import argparse

import nir
import numpy as np

import soma


def graph(seed=1, inputs=64, hidden=32, outputs=4):
    """Input -> Affine -> LIF -> Affine -> LIF -> Output, with random weights: what snnTorch's export writes for a
    two-layer `Linear` + `Leaky` network (tau 10 ms, unit resistance and threshold)."""
    rng = np.random.default_rng(seed)

    def lif(n):
        return nir.LIF(tau=np.full(n, 10e-3), r=np.ones(n), v_leak=np.zeros(n), v_threshold=np.ones(n))

    return nir.NIRGraph(
        nodes={
            "input": nir.Input(input_type={"input": np.array([inputs])}),
            "fc1": nir.Affine(weight=rng.normal(0.0, 0.6, (hidden, inputs)), bias=np.zeros(hidden)),
            "lif1": lif(hidden),
            "fc2": nir.Affine(weight=rng.normal(0.0, 0.6, (outputs, hidden)), bias=np.zeros(outputs)),
            "lif2": lif(outputs),
            "output": nir.Output(output_type={"output": np.array([outputs])}),
        },
        edges=[("input", "fc1"), ("fc1", "lif1"), ("lif1", "fc2"), ("fc2", "lif2"), ("lif2", "output")],
    )


def main(plot=None, duration="200 ms"):
    net = soma.load(graph(), dt="1 ms")
    print(net)
    rows = []
    for target in ["spinnaker1", "reram_128"]:
        result = soma.run(net, target=target, duration=duration, inputs="poisson:50Hz", compare_reference=True)
        f = result.figures
        rows.append((target, f["energy_j"], f["rate_error"]))
        print(f"{target:>12}: {f['energy_j']:.3e} J over {duration}, {f['size']} {f['size_unit']}, "
              f"rate error {100 * f['rate_error']:.1f}% against the reference")
    if plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(4, 3))
        ax.bar([r[0] for r in rows], [r[1] for r in rows])
        ax.set_yscale("log")
        ax.set_ylabel(f"energy over {duration} (J)")
        fig.tight_layout()
        fig.savefig(plot)
        print(f"wrote {plot}")
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--plot", help="write a bar chart of the energies here (needs matplotlib)")
    main(parser.parse_args().plot)
