"""Windowed ones-counter generator (semantics: :mod:`scfpga.model.counter`)."""
from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..model.counter import CounterParams


class Counter(wiring.Component):
    """Count ones over ``window`` enabled cycles.

    Attributes
    ----------
    en : Signal, in
        Sample ``bit`` on this clock edge.
    bit : Signal, in
        The bitstream.
    count : Signal(window.bit_length()), out
        Ones in the last closed window.
    done : Signal, out
        1 for the one cycle after a window closes.
    """

    def __init__(self, params: CounterParams):
        self.params = params
        super().__init__({"en": In(1), "bit": In(1),
                          "count": Out(params.count_width), "done": Out(1)})

    def elaborate(self, platform):
        m = Module()
        w = self.params.window
        acc = Signal(self.params.count_width)
        phase = Signal(range(w))
        m.d.sync += self.done.eq(0)
        with m.If(self.en):
            with m.If(phase == w - 1):
                m.d.sync += [
                    self.count.eq(acc + self.bit),
                    self.done.eq(1),
                    acc.eq(0),
                    phase.eq(0),
                ]
            with m.Else():
                m.d.sync += [acc.eq(acc + self.bit), phase.eq(phase + 1)]
        return m
