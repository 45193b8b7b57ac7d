"""Update cores of the neuron zoo (semantics and quantisation: :mod:`scfpga.model.neuron_types`).

Each core is the combinational component of :func:`scfpga.hdl.neuron.step_core` (ports
``current``, ``state``, ``next``, ``fire``). It evaluates the model's own update rule
(``scfpga.model.neuron_types.UPDATES``) on Amaranth values: the arithmetic (``*``, ``+``,
``>>``, comparisons) is exact because Amaranth widens every intermediate result, and the two
non-arithmetic operations map to a saturating clamp (:func:`scfpga.hdl.neuron.saturate`) and
``Mux``. Multipliers by the Q-format coefficients are real multiplies (DSP-mappable).
"""
from amaranth.hdl import C, Module, Mux, Signal, Value
from amaranth.lib import wiring

from ..model.neuron import state_fields
from ..model.neuron_types import (UPDATES, AlphaParams, ALIFParams, IFParams, IzhikevichParams,
                                  LeakyParams, LIParams, SynapticParams)
from .neuron import saturate, step_core, step_signature


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
