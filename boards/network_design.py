"""A spiking network as a runnable design: board top, UART protocol, host and run-level proof.

Loads are the input thresholds ``P_i = quantize_unipolar(x_i, width)`` (``n_inputs`` words).
Results ``0..n-1`` are the output layer's spike counts, ``n..2n-1`` its signed scores (sum of
currents; ``argmax`` is the class). A run takes :attr:`run_cycles` clocks
(:func:`scfpga.hdl.network.schedule`). Design files are network specs
(:mod:`scfpga.model.netspec`) with ``design = "network"``; a build writes one with the weights
inline, so ``design.json`` stands on its own.
"""
import dataclasses

import numpy as np
from amaranth.hdl import Module, Mux, Signal

from ..hdl.network import Network, schedule
from ..hdl.network_fit import CAPACITY, fit_layout
from ..model.netspec import load_network, network_from_spec, network_to_spec
from ..model.network import Network as NetworkModel, NetworkParams
from ..model.ops import Option
from ..model.params import ParameterError
from .dense_design import ClassifierResults
from .designs import MAX_LOAD_WIDTH
from .protocol import LOAD_WIDTH
from .runnable import Runnable


@dataclasses.dataclass(frozen=True)
class NetworkDesign(ClassifierResults):
    """A :class:`~scfpga.model.network.NetworkParams` network behind the runnable contract."""
    params: NetworkParams
    spec: dict | None = dataclasses.field(default=None, compare=False, repr=False)

    RUN_OPTIONS = (Option("--fit", "fit", str, None,
                          "choose fold and lanes of every layer to fit this device's block RAM "
                          "and logic with the fewest clocks (the layers' own fold/lanes are "
                          "replaced; design.json keeps the result)", tuple(CAPACITY)),)
    name = "network"

    @classmethod
    def from_values(cls, op, values, fit=None):
        """``scfpga build NET.toml [--fit DEVICE]``: the design from the spec file."""
        params, _ = op.build(values)
        if fit is not None:
            params, _ = fit_layout(params, fit)
        return cls(params)

    @classmethod
    def from_spec(cls, op, spec, base=None):
        """A design file ``design = "network"`` (a network spec)."""
        return cls(network_from_spec(spec, base))

    @classmethod
    def from_file(cls, path):
        return cls(load_network(path))

    def __post_init__(self):
        if not isinstance(self.params, NetworkParams):
            raise ParameterError("params must be a NetworkParams")
        if self.params.width > MAX_LOAD_WIDTH:
            raise ParameterError(f"width must be in 1..{MAX_LOAD_WIDTH} for a board design "
                                 f"(a threshold of 2**width must fit a {LOAD_WIDTH}-bit load word)")
        if self.spec is None:
            object.__setattr__(self, "spec", {"design": "network",
                                              **network_to_spec(self.params)})

    @property
    def run_cycles(self):
        return schedule(self.params).run_clocks

    @property
    def n_outputs(self):
        return self.params.n_outputs

    def describe(self):
        return {"design": "network", **network_to_spec(self.params)}

    def component(self):
        return NetworkRunner(self)

    def check_loads(self, loads):
        loads = np.atleast_2d(np.asarray(loads))
        top = 1 << self.params.width
        if loads.ndim != 2 or loads.shape[1] != self.n_loads or \
                not np.issubdtype(loads.dtype, np.integer) or loads.min() < 0 or loads.max() > top:
            raise ParameterError(f"loads must be integers in 0..{top} of shape "
                                 f"(batch, {self.n_loads})")
        return loads.astype(np.int64)

    def expected_results(self, loads):
        run = NetworkModel(self.params).evaluate_thresholds(self.check_loads(loads))
        return np.concatenate([run.counts[-1], run.scores[-1]], axis=1).astype(np.int64)


class NetworkRunner(Runnable):
    """:class:`~scfpga.hdl.network.Network` with the runnable ports. The network's result RAM
    answers one clock after ``sel``; ``result_data`` is registered after it (latency 2)."""

    def __init__(self, design: NetworkDesign):
        self.design = design
        super().__init__(n_loads=design.n_loads, n_results=design.n_results, length=design.length,
                         design_id=design.design_id, result_latency=2)

    def elaborate(self, platform):
        m = Module()
        n = self.design.params.n_outputs
        m.submodules.network = net = Network(self.design.params)
        is_score, was_score = Signal(), Signal()
        m.d.comb += [
            net.load.eq(self.load_we), net.addr.eq(self.load_addr), net.data.eq(self.load_data),
            net.start.eq(self.start), self.busy.eq(net.busy),
            is_score.eq(self.result_addr >= n),
            net.sel.eq(Mux(is_score, self.result_addr - n, self.result_addr)),
        ]
        m.d.sync += [was_score.eq(is_score),
                     self.result_data.eq(Mux(was_score, net.score, net.count))]
        return m
