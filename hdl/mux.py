"""MUX scaled-adder generator (semantics: :mod:`scfpga.model.mux`)."""
from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..model.mux import MuxParams, uniform_select, uniform_weights
from .sources import make_source


def select_index(m, value, mux_params):
    """A signal holding the MUX select for source ``value`` (thresholds from ``mux_params``)."""
    n, width = mux_params.n_inputs, mux_params.source.width
    sel = Signal(range(n))
    if mux_params.weights == uniform_weights(n, width):
        # Uniform split: closed form, no comparators (power-of-two n: the source's top bits).
        m.d.comb += sel.eq(uniform_select(value, n, width))
    else:
        # Thresholds rise monotonically, so the last true comparison wins.
        for i, t in enumerate(mux_params.thresholds, start=1):
            with m.If(value >= t):
                m.d.comb += sel.eq(i)
    return sel


class Mux(wiring.Component):
    """Pass input ``sel`` where ``sel`` counts the weight thresholds at or below the source value.

    Attributes
    ----------
    en : Signal, in
        Advance the select source on this clock edge.
    inputs : Signal(n_inputs), in
        Input bits of the current cycle.
    bit : Signal, out
        The selected input bit.
    """

    def __init__(self, params: MuxParams):
        self.params = params
        super().__init__({"en": In(1), "inputs": In(params.n_inputs), "bit": Out(1)})

    def elaborate(self, platform):
        m = Module()
        p = self.params
        m.submodules.source = source = make_source(p.source)
        m.d.comb += source.en.eq(self.en)
        sel = select_index(m, source.value, p)
        m.d.comb += self.bit.eq(self.inputs.bit_select(sel, 1))
        return m
