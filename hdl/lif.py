"""Fixed-point LIF neuron generator (semantics: :mod:`scfpga.model.lif`)."""
from amaranth.hdl import Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..model.lif import LIFParams


def current_width(params: LIFParams):
    """Signed width that holds any input current ``sum(weights[i] * bit[i])``."""
    span = max(sum(w for w in params.weights if w > 0), -sum(w for w in params.weights if w < 0), 1)
    return span.bit_length() + 1


class LIFCore(wiring.Component):
    """The neuron state machine, driven by an integer current (shared by layers).

    Attributes
    ----------
    en : Signal, in
        Integrate ``current`` on this clock edge.
    current : Signal(signed), in
        Input current of the current cycle.
    spike : Signal, out
        1 during the cycle after a firing edge.
    v : Signal(signed(width)), out
        Membrane potential.
    """

    def __init__(self, params: LIFParams, current_bits: int):
        self.params = params
        super().__init__({"en": In(1), "current": In(signed(current_bits)),
                          "spike": Out(1), "v": Out(signed(params.width))})

    def elaborate(self, platform):
        m = Module()
        p = self.params
        wide = signed(max(p.width, len(self.current)) + 2)
        leak = (self.v >> p.leak_shift) if p.leak_shift else 0
        raw = Signal(wide)
        u = Signal(signed(p.width))
        m.d.comb += raw.eq(self.v - leak + self.current)
        # Saturate, never wrap: clamp into the membrane's signed range.
        m.d.comb += u.eq(Mux(raw > p.v_max, p.v_max, Mux(raw < p.v_min, p.v_min, raw)))
        refractory = Signal(range(p.refractory + 1))
        with m.If(self.en):
            with m.If(refractory != 0):
                m.d.sync += [refractory.eq(refractory - 1), self.spike.eq(0)]
            with m.Elif(u >= p.threshold):
                m.d.sync += [
                    self.v.eq(u - p.threshold if p.reset == "subtract" else 0),
                    refractory.eq(p.refractory),
                    self.spike.eq(1),
                ]
            with m.Else():
                m.d.sync += [self.v.eq(u), self.spike.eq(0)]
        return m


class LIF(wiring.Component):
    """LIF neuron fed by ``n_inputs`` bitstreams with constant integer weights.

    Attributes
    ----------
    en : Signal, in
        Integrate on this clock edge.
    inputs : Signal(n_inputs), in
        Input spikes/bits of the current cycle.
    spike : Signal, out
        Output spike bitstream.
    v : Signal(signed(width)), out
        Membrane potential (for observation).
    """

    def __init__(self, params: LIFParams):
        self.params = params
        super().__init__({"en": In(1), "inputs": In(params.n_inputs),
                          "spike": Out(1), "v": Out(signed(params.width))})

    def elaborate(self, platform):
        m = Module()
        p = self.params
        m.submodules.core = core = LIFCore(p, current_width(p))
        current = sum(Mux(self.inputs[i], w, 0) for i, w in enumerate(p.weights))
        m.d.comb += [
            core.en.eq(self.en),
            core.current.eq(current),
            self.spike.eq(core.spike),
            self.v.eq(core.v),
        ]
        return m
