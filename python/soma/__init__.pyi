"""Type stubs for the soma package (the extension module soma._soma and its wrapper)."""

import os
from typing import Any, Mapping, Optional, Sequence, Union

__version__: str

Time = Union[float, str]
"""Seconds, or text with a unit ("100 ms")."""
Inputs = Union[str, Any, Mapping[int, Sequence[float]]]
"""A NIR graph's input: "poisson:RATE", a (steps x channels) array of spike counts, or {channel: [times in s]}."""

class SomaError(Exception):
    """Every error soma raises."""

class NetworkError(SomaError):
    """A network that does not read, validate or instantiate."""

class TargetError(SomaError):
    """A target preset that does not exist or does not parse."""

class CompileError(SomaError):
    """A network the target cannot hold."""

class RunError(SomaError):
    """A run that cannot start (an option, an image, a duration)."""

class Network:
    """A network read and validated, not yet instantiated."""
    @property
    def name(self) -> str: ...
    @property
    def populations(self) -> list[dict[str, Any]]:
        """name, size and model of each population."""
    @property
    def neurons(self) -> int: ...
    @property
    def projections(self) -> int: ...
    @property
    def dt(self) -> float:
        """The time step, s."""

class Image:
    """A network compiled for a target: the family's image and its mapping report."""
    @property
    def family(self) -> str: ...
    @property
    def target(self) -> str: ...
    @property
    def mapping(self) -> Optional[dict[str, Any]]:
        """The mapping report (what `soma compile --json` prints)."""
    @property
    def text(self) -> str: ...
    def to_bytes(self) -> bytes:
        """The encoded image (what `soma compile -o` writes)."""

class Result:
    """What a run produced."""
    @property
    def report(self) -> dict[str, Any]:
        """The run's report (what `soma run --json` prints): rates, the energy ledger, counters, fidelity."""
    @property
    def figures(self) -> Optional[dict[str, Any]]:
        """The headline figures compare and sweep tabulate (None for a reference simulation)."""
    @property
    def text(self) -> str: ...
    @property
    def populations(self) -> list[str]: ...
    @property
    def spikes(self) -> dict[str, Any]:
        """Equal-length arrays time_s, population (index into populations) and neuron."""
    @property
    def traces(self) -> dict[str, Any]:
        """The probes of simulate (the reference) or run (the hardware's state, in SI units): {probe: steps x neurons
        array of V}, and "<probe> neurons" with their indices."""
    @property
    def weight_traces(self) -> dict[str, dict[str, Any]]:
        """The weight_probes' samples: {probe: {"time_s", "synapse", "pre", "post", "weight"}}, weight an array of
        samples x synapses (the rows --weight-trace writes)."""
    @property
    def weights(self) -> dict[str, dict[str, Any]]:
        """simulate's plastic projections: {projection: {"pre", "post", "before", "after"}}, one entry per synapse."""
    def to_json(self) -> str: ...
    def report_html(self, path: Union[str, os.PathLike]) -> None:
        """Writes the run's report page (what `soma report RUN.json --html` writes, with the probes' membrane traces
        plotted); raises RunError for a reference simulation, which has no page."""
    def _repr_html_(self) -> str: ...

def load(
    source: Union[str, os.PathLike, bytes, Any],
    dt: Optional[Time] = None,
    set: Optional[Mapping[str, Any]] = None,
    format: Optional[str] = None,
) -> Network:
    """Reads a .snn, .nir or .csv file, its bytes (with format), or a nir.NIRGraph."""

def compile(network: Network, target: str = "spinnaker1", boards: Union[int, str, None] = None, seed: int = 1) -> Image:
    """Compiles for a target preset or .toml path on `boards` (a number, "auto", or the preset's)."""

def read_image(data: bytes, target: Optional[str] = None) -> Image:
    """An image written by `soma compile -o` or Image.to_bytes."""

def run(
    image: Union[Image, Network],
    target: str = "spinnaker1",
    duration: Optional[Time] = None,
    seed: int = 1,
    compare_reference: bool = False,
    inputs: Optional[Inputs] = None,
    probes: Optional[Sequence[str]] = None,
    nonideal: Optional[str] = None,
    read_after: Optional[Time] = None,
    device_random: Optional[Sequence[str]] = None,
    adc_range: Optional[float] = None,
    weight_probes: Optional[Sequence[str]] = None,
    weight_every: Optional[Time] = None,
) -> Result:
    """Runs an image (or a network, compiled for `target` first) for `duration` (default 1 s); probes
    ("exc[0..10]:v") record the machine's membrane potentials into Result.traces (SpiNNaker targets). Crossbar targets
    take the device models of `soma run`: nonideal ("all", or program_noise,read_noise,stuck,drift), read_after,
    device_random (projections) and adc_range. weight_probes ("input->cell", "input->cell[0..10]") sample the
    plastic weights the hardware holds every weight_every (default 1 ms) into Result.weight_traces."""

def sweep(
    network: Network,
    vary: Mapping[str, Sequence[float]],
    target: str = "spinnaker1",
    duration: Optional[Time] = None,
    seed: int = 1,
    minimize: str = "energy_j",
    limits: Optional[Mapping[str, float]] = None,
) -> list[dict[str, Any]]:
    """Every combination of `vary` applied to the target's constants, run next to the reference (default 100 ms):
    one dict per point, its settings and target beside the headline figures, `feasible` under `limits`
    ({"rate_error": 0.05}), `pareto_optimal` and `recommended` for the feasible point with the least `minimize`:
    the rows of `soma sweep --json`."""

def simulate(
    network: Network,
    duration: Optional[Time] = None,
    seed: int = 1,
    inputs: Optional[Inputs] = None,
    probes: Optional[Sequence[str]] = None,
    weight_probes: Optional[Sequence[str]] = None,
    weight_every: Optional[Time] = None,
) -> Result:
    """The float reference simulator alone; probes ("exc[0..10]:v", "inh:spikes") record into Result.traces;
    weight_probes ("input->cell[0..10]") sample plastic weights every weight_every (default 1 ms) into
    Result.weight_traces."""

def compare(
    network: Network, targets: Sequence[str] = ..., duration: Time = "100 ms", seed: int = 1
) -> list[dict[str, Any]]:
    """One dict of headline figures per target, rows a pandas DataFrame can be built from."""

def targets() -> list[dict[str, str]]:
    """The target presets: name, family, description."""
