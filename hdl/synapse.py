"""AND / XNOR synapse generator (semantics: :mod:`scfpga.model.synapse`)."""
from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..model.synapse import SynapseParams


class Synapse(wiring.Component):
    """Combinational single-gate multiplier: ``bit = a & b`` or ``bit = ~(a ^ b)``.

    Attributes
    ----------
    a, b : Signal, in
        Operand bits of the current cycle.
    bit : Signal, out
        Product bit of the current cycle.
    """

    def __init__(self, params: SynapseParams):
        self.params = params
        super().__init__({"a": In(1), "b": In(1), "bit": Out(1)})

    def elaborate(self, platform):
        m = Module()
        if self.params.kind == "and":
            m.d.comb += self.bit.eq(self.a & self.b)
        else:
            m.d.comb += self.bit.eq(~(self.a ^ self.b))
        return m
