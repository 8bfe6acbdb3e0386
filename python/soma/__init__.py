"""soma: what would this spiking network cost, and would it still work, on chip X?

The Python face of soma's Rust library (the same code as the `soma` command line, in-process):

    import soma
    net = soma.load("examples/cuba.snn", set={"scale": "0.5"})
    image = soma.compile(net, target="spinnaker1")
    result = soma.run(image, duration="100 ms", compare_reference=True)
    result.report["energy_j"], result.figures["rate_error"], result.spikes["time_s"]

`soma.load` takes a path (.snn, .nir, .csv), the bytes of one (with `format=`), or an in-memory `nir.NIRGraph`
(written to HDF5 in memory with the `nir` package, never to a file). Errors are `soma.SomaError` subclasses
carrying the command line's messages.
"""

import io as _io

from ._soma import (  # noqa: F401
    CompileError,
    Image,
    NetworkError,
    Result,
    RunError,
    SomaError,
    TargetError,
    Network,
    __version__,
    compile,
    read_image,
    run,
    simulate,
    sweep,
    targets,
)
from ._soma import load as _load


def load(source, dt=None, set=None, format=None):
    """Reads a network: a path to a .snn, .nir or .csv file, its bytes (with `format` "snn", "nir" or "csv"), or
    a `nir.NIRGraph`. `dt` (seconds, or text with a unit such as "0.1 ms") is the time step of a NIR graph or a
    connectome; `set` replaces constants of a .snn file, e.g. {"scale": "0.1"}."""
    if type(source).__name__ == "NIRGraph":
        import nir

        buffer = _io.BytesIO()
        nir.write(buffer, source)
        return _load(buffer.getvalue(), dt=dt, set=set, format="nir")
    return _load(source, dt=dt, set=set, format=format)


def compare(network, targets=("spinnaker1", "spinnaker2"), duration="100 ms", seed=1):
    """The same network on several targets next to the float reference: one dict of headline figures per target
    (energy on chip and at the wall, energy per synaptic event, step latency, size, rate error), rows a pandas
    DataFrame can be built from."""
    rows = []
    for target in targets:
        figures = run(network, target=target, duration=duration, seed=seed, compare_reference=True).figures
        rows.append({"target": target, **figures})
    return rows
