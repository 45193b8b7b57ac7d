"""Rall dendrite generator (fixed-point semantics: :mod:`scfpga.model.dendrite`).

Every compartment is a signed ``width``-bit register updated in parallel on each edge with
``en = 1``: ``v + ((-leak v + coup (v_distal - v)) >> shift)`` (plus the branch input at the
tip), saturated. Constant coefficients only (shift-add logic). ``v<b>_<c>`` show the registers;
``soma`` is combinational from the proximal compartments.
"""
from amaranth.hdl import Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..model.dendrite import DendriteParams


class Dendrite(wiring.Component):
    """``n_branches`` x ``branch_length`` compartments and a 3/2-rule soma sum.

    Attributes
    ----------
    en : Signal, in
    i<b> : Signal(signed(input_width)), in
        Current injected at branch b's distal tip.
    v<b>_<c> : Signal(signed(width)), out
        Compartment voltages (registered).
    soma : Signal(signed(soma_width)), out
    """

    def __init__(self, params: DendriteParams):
        self.params = params
        p = params
        members = {"en": In(1)}
        members.update({f"i{b}": In(signed(p.input_width)) for b in range(p.n_branches)})
        members.update({f"v{b}_{c}": Out(signed(p.width))
                        for b in range(p.n_branches) for c in range(p.branch_length)})
        members["soma"] = Out(signed(p.soma_width))
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        p = self.params
        lo, hi = -(1 << (p.width - 1)), (1 << (p.width - 1)) - 1
        wide = p.width + p.shift + 4
        for b in range(p.n_branches):
            for c in range(p.branch_length):
                v = getattr(self, f"v{b}_{c}")
                delta = Signal(signed(wide), name=f"d{b}_{c}")
                if c == 0:
                    m.d.comb += delta.eq(-p.leak * v)
                else:
                    prev = getattr(self, f"v{b}_{c - 1}")
                    m.d.comb += delta.eq(-p.leak * v + p.coup * (prev - v))
                new = Signal(signed(wide), name=f"n{b}_{c}")
                extra = getattr(self, f"i{b}") if c == 0 else 0
                m.d.comb += new.eq(v + (delta >> p.shift) + extra)
                with m.If(self.en):
                    m.d.sync += v.eq(Mux(new > hi, hi, Mux(new < lo, lo, new)))
        total = sum(g * getattr(self, f"v{b}_{p.branch_length - 1}")
                    for b, g in enumerate(p.gains))
        acc = Signal(signed(p.soma_width + p.shift + 1))
        m.d.comb += [acc.eq(total), self.soma.eq(acc >> p.shift)]
        return m
