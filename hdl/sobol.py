"""Gray-code Sobol generator (semantics and direction numbers: :mod:`scfpga.model.sobol`)."""
from functools import reduce
from operator import or_

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..model.sobol import SobolParams


class Sobol(wiring.Component):
    """One Sobol coordinate: register, index counter, direction table, lowest-zero encoder.

    Parameters
    ----------
    params : SobolParams

    Attributes
    ----------
    en : Signal, in
        Advance one point on this clock edge.
    value : Signal(width), out
        ``floor(x_k * 2**width)`` for the current point k; 0 after reset.
    """

    def __init__(self, params: SobolParams):
        self.params = params
        super().__init__({"en": In(1), "value": Out(params.width)})

    def elaborate(self, platform):
        m = Module()
        p = self.params
        index = Signal(p.index_width)
        # One-hot lowest zero bit of the index: ~k & (k + 1). It selects V_j, j = position + 1.
        lowest = Signal(p.index_width)
        m.d.comb += lowest.eq(~index & (index + 1))
        step = reduce(or_, [Mux(lowest[j], v, 0) for j, v in enumerate(p.directions)])
        with m.If(self.en):
            m.d.sync += index.eq(index + 1)
            with m.If(index.all()):          # no zero bit left: the period ends, restart at 0
                m.d.sync += self.value.eq(0)
            with m.Else():
                m.d.sync += self.value.eq(self.value ^ step)
        return m
