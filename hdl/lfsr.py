"""Fibonacci LFSR generator (semantics and taps: :mod:`scfpga.model.lfsr`)."""
from functools import reduce
from operator import xor

from amaranth.hdl import Cat, Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..model.lfsr import LFSRParams


class LFSR(wiring.Component):
    """Maximal-length LFSR.

    Parameters
    ----------
    params : LFSRParams

    Attributes
    ----------
    en : Signal, in
        Advance one step on this clock edge.
    value : Signal(width), out
        The register; the seed after reset.
    """

    def __init__(self, params: LFSRParams):
        self.params = params
        super().__init__({"en": In(1), "value": Out(params.width, init=params.seed)})

    def elaborate(self, platform):
        m = Module()
        feedback = reduce(xor, [self.value[t - 1] for t in self.params.taps])
        with m.If(self.en):
            m.d.sync += self.value.eq(Cat(feedback, self.value[:-1]))
        return m
