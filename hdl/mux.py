"""MUX scaled-adder generator (semantics: :mod:`scfpga.model.mux`)."""
from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..model.mux import MuxParams
from .sources import make_source


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
        sel = Signal(range(p.n_inputs))
        width = p.source.width
        if p.weights == (1 << (width - (p.n_inputs - 1).bit_length()),) * p.n_inputs:
            # Uniform power-of-two split: the top bits of R are the select, no comparators.
            m.d.comb += sel.eq(source.value[width - (p.n_inputs - 1).bit_length():])
        else:
            # Thresholds rise monotonically, so the last true comparison wins.
            for i, t in enumerate(p.thresholds, start=1):
                with m.If(source.value >= t):
                    m.d.comb += sel.eq(i)
        m.d.comb += self.bit.eq(self.inputs.bit_select(sel, 1))
        return m
