"""The on-chip STDP learning layer as a runnable design: weights learned on the board and
read back through the host link.

Loads ``0 .. n_inputs - 1`` are the input rates of one epoch (``0..2**width``; ``x`` in [0, 1]
quantised by :func:`~scfpga.model.stdp.quantize_rates`). A run is one epoch
(:func:`scfpga.hdl.stdp.run_cycles` clocks). Results ``0 .. n_neurons * n_inputs - 1`` are the
weights after the epoch, row-major ``w{j}_{i}`` (read from the weight block RAM), then each
neuron's spike count in the epoch. The design is stateful (:mod:`.runnable`): every epoch
starts from the weights the earlier epochs left in the block RAM, which after configuration
holds the layer's initial weights with the fault map's stuck cells applied
(:attr:`~scfpga.model.stdp.STDPParams.initial_weights`). A board reset does not restore them
(block RAM contents survive it); reconfiguring the FPGA does. Design files::

    design = "stdp"
    [params]               # the options of `scfpga gen stdp --help` (field or flag names)
    inputs = 16
    neurons = 4
    update = "stochastic"
"""
import numpy as np
from amaranth.hdl import Module

from ..hdl import stdp as stdp_hdl
from ..hdl.stdp import STDPLayer as STDPHardware, run_cycles
from ..model.stdp import quantize_rates, run_epoch
from .op_design import OpDesign
from .protocol import ADDR_WIDTH, LOAD_WIDTH, RESULT_WIDTH
from .runnable import Runnable


class STDPDesign(OpDesign):
    """:class:`~scfpga.model.stdp.STDPParams` behind the runnable contract (module docstring)."""
    stateful = True

    def check(self):
        # hdl/stdp.py gives the layer the contract's ports with its own copy of the widths
        # (hdl cannot import boards): they must be the protocol's.
        if (stdp_hdl.ADDR_WIDTH, stdp_hdl.LOAD_WIDTH, stdp_hdl.RESULT_WIDTH) != \
                (ADDR_WIDTH, LOAD_WIDTH, RESULT_WIDTH):
            raise RuntimeError("hdl/stdp.py port widths differ from boards/protocol.py")

    @property
    def length(self):
        return run_cycles(self.params)

    @property
    def load_width(self):
        return self.params.width

    @property
    def load_names(self):
        return tuple(f"rate{i}" for i in range(self.params.n_inputs))

    @property
    def result_names(self):
        p = self.params
        return tuple(f"w{j}_{i}" for j in range(p.n_neurons) for i in range(p.n_inputs)) + \
            tuple(f"count{j}" for j in range(p.n_neurons))

    def loads_from_x(self, x):
        return quantize_rates(self.params, self.unit_x(x))

    def rates(self, loads):
        """The rate RAM keeps ``width + 1`` bits; every encoder value is below ``2**width``."""
        return self.saturated_thresholds(loads, self.params.width)

    def initial_state(self):
        return self.params.initial_weights

    def advance(self, state, loads):
        epoch = run_epoch(self.params, state, self.rates(loads))
        return np.concatenate([epoch.weights.ravel(), epoch.counts]), epoch.weights

    def learned_weights(self, results):
        """The weight matrices (batch, n_neurons, n_inputs) in results (batch, n_results)."""
        p = self.params
        return np.atleast_2d(results)[:, :p.n_neurons * p.n_inputs].reshape(-1, *p.shape)

    def component(self):
        return STDPRunner(self)


class STDPRunner(Runnable):
    """:class:`scfpga.hdl.stdp.STDPLayer`, which has the contract's ports, with the
    contract's attributes (``result_latency = 1``: the weight RAM's read port and the
    registered count)."""

    def __init__(self, design: STDPDesign):
        self.design = design
        super().__init__(n_loads=design.n_loads, n_results=design.n_results,
                         length=design.run_cycles, design_id=design.design_id, result_latency=1)

    def elaborate(self, platform):
        m = Module()
        m.submodules.layer = layer = STDPHardware(self.design.params)
        m.d.comb += [layer.load_addr.eq(self.load_addr), layer.load_data.eq(self.load_data),
                     layer.load_we.eq(self.load_we), layer.start.eq(self.start),
                     self.busy.eq(layer.busy), layer.result_addr.eq(self.result_addr),
                     self.result_data.eq(layer.result_data)]
        return m
