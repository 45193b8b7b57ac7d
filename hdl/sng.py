"""Comparator SNG generator (semantics and quantisation: :mod:`scfpga.model.sng`)."""
from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..model.sng import SNGParams
from .sources import make_source


class SNG(wiring.Component):
    """``bit = R < P`` over its own LFSR or Sobol source.

    Parameters
    ----------
    params : SNGParams
        With ``params.prob = None`` the threshold is the input port ``prob``.

    Attributes
    ----------
    en : Signal, in
        Advance the source on this clock edge.
    prob : Signal(width + 1), in
        Threshold P in ``0..2**width`` (only when ``params.prob`` is None).
    bit : Signal, out
        The stochastic bit of the current cycle.
    """

    def __init__(self, params: SNGParams):
        self.params = params
        ports = {"en": In(1), "bit": Out(1)}
        if params.prob is None:
            ports["prob"] = In(params.width + 1)
        super().__init__(ports)

    def elaborate(self, platform):
        m = Module()
        m.submodules.source = source = make_source(self.params.source)
        threshold = self.prob if self.params.prob is None else self.params.prob
        m.d.comb += [
            source.en.eq(self.en),
            self.bit.eq(source.value < threshold),
        ]
        return m
