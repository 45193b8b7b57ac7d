"""Update cores of the neuron zoo (semantics and quantisation: :mod:`scfpga.model.neuron_types`).

Each core is the combinational component of :func:`scfpga.hdl.neuron.step_core` (ports
``current``, ``state``, ``next``, ``fire``). It evaluates the model's own update rule
(``scfpga.model.neuron_types.UPDATES``) on Amaranth values: the arithmetic (``*``, ``+``,
``>>``, comparisons) is exact because Amaranth widens every intermediate result, and the two
non-arithmetic operations map to a saturating clamp (:func:`scfpga.hdl.neuron.saturate`) and
``Mux``. Multipliers by the Q-format coefficients are real multiplies (DSP-mappable).
"""
from amaranth.hdl import C, Module, Mux, Signal, Value, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..model.neuron import state_fields
from ..model.neuron_types import (UPDATES, AlphaParams, ALIFParams, IFParams, IzhikevichParams,
                                  LeakyParams, LIParams, SynapticParams)
from .neuron import saturate, state_layout, step_core, step_signature


class _AmaranthOps:
    """Saturation and selection for an update rule, adding logic to module ``m``."""

    def __init__(self, m):
        self.m = m

    def sat(self, x, bits):
        raw = Signal(Value.cast(x).shape())          # evaluate once, clamp the signal
        self.m.d.comb += raw.eq(x)
        return saturate(self.m, raw, bits)

    @staticmethod
    def where(cond, a, b):
        return Mux(cond, a, b)

    @staticmethod
    def zero_fire(v):
        return C(0, 1)


class NeuronStep(wiring.Component):
    """One update of any zoo neuron type, combinational (``step_core`` of that type)."""

    def __init__(self, params, current_bits: int):
        self.params = params
        self._update = UPDATES[type(params)]
        super().__init__(step_signature(params, current_bits))

    def elaborate(self, platform):
        m = Module()
        names = [name for name, _, _ in state_fields(self.params)]
        state = {name: getattr(self.state, name) for name in names}
        new, fire = self._update(self.params, _AmaranthOps(m), state, self.current)
        for name in names:
            m.d.comb += getattr(self.next, name).eq(new[name])
        m.d.comb += self.fire.eq(fire)
        return m


step_core.register(LeakyParams, NeuronStep)
step_core.register(IFParams, NeuronStep)
step_core.register(SynapticParams, NeuronStep)
step_core.register(AlphaParams, NeuronStep)
step_core.register(ALIFParams, NeuronStep)
step_core.register(IzhikevichParams, NeuronStep)
step_core.register(LIParams, NeuronStep)


class FoldedNeurons(wiring.Component):
    """``n`` neurons of one type sharing one update core, one neuron per clock, round robin
    (how a folded layer uses the core; the bench is :mod:`scfpga.sim.neuron`)."""

    def __init__(self, params, current_bits=8, n=3):
        self.params, self.current_bits, self.n = params, current_bits, n
        ports = {"current": In(signed(current_bits)), "fire": Out(1)}
        for name, bits, sign in state_fields(params):
            ports[name] = Out(signed(bits) if sign else bits)
        super().__init__(ports)

    def elaborate(self, platform):
        m = Module()
        m.submodules.core = core = step_core(self.params, self.current_bits)
        regs = [Signal(state_layout(self.params), name=f"state{i}") for i in range(self.n)]
        sel = Signal(range(self.n))
        m.d.comb += core.current.eq(self.current)
        # Plain Mux expressions, not a case statement: Icarus leaves an ``always @*`` block
        # whose inputs do not change after time 0 at X (CONTRIBUTING, pitfalls).
        chosen = regs[-1].as_value()
        for i in reversed(range(self.n - 1)):
            chosen = Mux(sel == i, regs[i].as_value(), chosen)
        m.d.comb += core.state.eq(chosen)
        for i, reg in enumerate(regs):
            m.d.sync += reg.eq(Mux(sel == i, core.next.as_value(), reg.as_value()))
        m.d.sync += [sel.eq(Mux(sel == self.n - 1, 0, sel + 1)), self.fire.eq(core.fire)]
        for name, _, _ in state_fields(self.params):
            m.d.sync += getattr(self, name).eq(getattr(core.next, name))
        return m
