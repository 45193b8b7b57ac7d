"""Lateral inhibition generator (fixed-point semantics: :mod:`scfpga.model.inhibition`).

Per neuron ``i`` one constant-coefficient sum ``s_i = sum_d K_d (r_{i-d} + r_{i+d})`` (shift-add
logic; no multiplier), the shift by ``frac`` and a saturating subtraction, all in one clock.
Ports are flat, one per neuron (``r<i>`` in, ``y<i>`` out); ``en`` registers the result.
"""
from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..model.inhibition import InhibitionParams


class Inhibition(wiring.Component):
    """Gaussian-surround inhibition over ``n`` unsigned ``width``-bit rates, registered outputs.

    Parameters
    ----------
    params : InhibitionParams

    Attributes
    ----------
    en : Signal, in
        Register the result of the current inputs.
    r0 .. r{n-1} : Signal(width), in
        Rates (spike counts).
    y0 .. y{n-1} : Signal(width), out
        ``max(0, r_i - (s_i >> frac))``.
    """

    def __init__(self, params: InhibitionParams):
        self.params = params
        members = {"en": In(1)}
        members.update({f"r{i}": In(params.width) for i in range(params.n)})
        members.update({f"y{i}": Out(params.width) for i in range(params.n)})
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        p = self.params
        r = [getattr(self, f"r{i}") for i in range(p.n)]
        for i in range(p.n):
            terms = []
            for d, kd in enumerate(p.kernel, start=1):
                pair = [r[j] for j in (i - d, i + d) if 0 <= j < p.n]
                if kd and pair:
                    terms.append(kd * (pair[0] + pair[1] if len(pair) == 2 else pair[0]))
            s = Signal(p.sum_width, name=f"surround{i}")
            m.d.comb += s.eq(sum(terms) if terms else 0)
            sub = Signal(p.sum_width, name=f"inhibit{i}")
            m.d.comb += sub.eq(s >> p.frac)
            with m.If(self.en):
                m.d.sync += getattr(self, f"y{i}").eq(Mux(sub < r[i], r[i] - sub, 0))
        return m
