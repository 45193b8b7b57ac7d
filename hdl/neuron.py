"""Neuron update cores for folded layers (semantics: :mod:`scfpga.model.neuron`).

:func:`step_core` makes, for any registered neuron type, a purely combinational component

* ``current``: ``In(signed(current_bits))``, the SC cycle's current;
* ``state``: ``In(layout)`` and ``next``: ``Out(layout)``, one neuron's state before and after,
  with ``layout`` = :func:`state_layout` (the fields of :func:`scfpga.model.neuron.state_fields`,
  in that order, so a state word can sit in block RAM);
* ``fire``: ``Out(1)``, the neuron's spike in the next SC cycle.

A layer keeps the state of all its neurons in RAM and passes them through one core, one neuron
per clock. Register a new type with ``@step_core.register`` next to its core.
"""
from functools import singledispatch

from amaranth.hdl import Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from ..model.lif import LIFParams
from ..model.neuron import state_fields
from ..model.params import ParameterError, signed_range


def state_layout(params):
    """The :class:`amaranth.lib.data.StructLayout` of one neuron's state."""
    return data.StructLayout({name: (signed if sign else unsigned)(bits)
                              for name, bits, sign in state_fields(params)})


def step_signature(params, current_bits):
    layout = state_layout(params)
    return {"current": In(signed(current_bits)), "state": In(layout), "next": Out(layout),
            "fire": Out(1)}


@singledispatch
def step_core(params, current_bits):
    """The combinational update core of neuron type ``params``."""
    raise ParameterError(f"no neuron core for {type(params).__name__}")


def saturate(m, value, bits):
    """``value`` clamped into ``signed(bits)`` (neurons saturate, they never wrap)."""
    lo, hi = signed_range(bits)
    out = Signal(signed(bits))
    m.d.comb += out.eq(Mux(value > hi, hi, Mux(value < lo, lo, value)))
    return out


class LIFStep(wiring.Component):
    """One update of :func:`scfpga.model.lif.lif_step`, combinational.

    ``runtime_threshold``: the threshold is an input port (``threshold``, 1..2**(width-1)-1,
    e.g. a register loaded at run time) instead of the constant ``params.threshold``."""

    def __init__(self, params: LIFParams, current_bits: int, runtime_threshold=False):
        self.params, self.runtime_threshold = params, runtime_threshold
        ports = step_signature(params, current_bits)
        if runtime_threshold:
            ports["threshold"] = In(unsigned(params.width - 1), init=params.threshold)
        super().__init__(ports)

    def elaborate(self, platform):
        m = Module()
        p = self.params
        v = self.state.v
        wide = signed(max(p.width, len(self.current)) + 2)
        raw = Signal(wide)
        m.d.comb += raw.eq(v - ((v >> p.leak_shift) if p.leak_shift else 0) + self.current)
        u = saturate(m, raw, p.width)
        active = (self.state.r == 0) if p.refractory else 1
        thr = self.threshold if self.runtime_threshold else p.threshold
        m.d.comb += self.fire.eq(active & (u >= thr))
        after = (u - thr) if p.reset == "subtract" else 0
        m.d.comb += self.next.v.eq(Mux(active, Mux(self.fire, after, u), v))
        if p.refractory:
            m.d.comb += self.next.r.eq(Mux(self.fire, p.refractory,
                                           Mux(active, self.state.r, self.state.r - 1)))
        return m


step_core.register(LIFParams, LIFStep)
