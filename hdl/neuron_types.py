"""Update cores of the neuron zoo (semantics and quantisation: :mod:`scfpga.model.neuron_types`).

Each core is the combinational component of :func:`scfpga.hdl.neuron.step_core` (ports
``current``, ``state``, ``next``, ``fire``). It evaluates the model's own update rule
(``scfpga.model.neuron_types.UPDATES``) on Amaranth values: the arithmetic (``*``, ``+``,
``>>``, comparisons) is exact because Amaranth widens every intermediate result, and the two
non-arithmetic operations map to a saturating clamp (:func:`scfpga.hdl.neuron.saturate`) and
``Mux``. Multipliers by the Q-format coefficients are real multiplies (DSP-mappable).

A network layer uses the pipelined core (:func:`pipelined_core`): the same rule evaluated on
:class:`_Staged` values, which register every product right after its multiply and every
saturated value, and delay the operands of later operations to the same clock. The arithmetic
is the rule's own (bit-exact with the model); only timing changes: a leaky update becomes
multiply | add, shift, saturate | compare, subtract the threshold, saturate | reset mux
(latency 3, 2 with a reset to a value); CubaLIF's chained multiplies (the membrane
multiplies the *updated* synaptic current) are in different clocks (latency 5, 4). On the
UP5K every multiply is then an SB_MAC16 between two fabric registers: a short path that
:mod:`scfpga.boards.build` bounds (nextpnr does not time through a DSP).
"""
from functools import lru_cache

from amaranth.hdl import C, Const, Fragment, Module, Mux, Signal, Value, signed
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


class _Pipe:
    """The registers of a pipelined update: delay chains of values, shared per value."""

    def __init__(self, m):
        self.m, self.chains = m, {}

    def at(self, x, stage):
        """The value of ``x`` (a :class:`_Staged` or a constant) in pipeline stage ``stage``."""
        if not isinstance(x, _Staged):
            return x                        # ints and Consts are valid in every stage
        if isinstance(x.value, Const):
            return x.value
        _, chain = self.chains.setdefault(id(x), (x, [x.value]))   # keep x alive: stable id
        while len(chain) <= stage - x.stage:
            reg = Signal(Value.cast(chain[-1]).shape())
            self.m.d.sync += reg.eq(chain[-1])
            chain.append(reg)
        return chain[stage - x.stage]


def _stage(x):
    return x.stage if isinstance(x, _Staged) else 0


class _Staged:
    """An Amaranth value and the pipeline stage it is valid in. Arithmetic aligns operands to
    the later stage; a product is registered, so it is valid one stage later."""

    def __init__(self, pipe, value, stage):
        self.pipe, self.value, self.stage = pipe, value, stage

    def _op(self, a, b, f, register=False):
        s = max(_stage(a), _stage(b))
        v = f(self.pipe.at(a, s), self.pipe.at(b, s))
        if not register:
            return _Staged(self.pipe, v, s)
        # A register with reset: Yosys leaves it out of the SB_MAC16, whose multiply then
        # sits between two fabric registers (boards.build bounds that path).
        reg = Signal(Value.cast(v).shape())
        self.pipe.m.d.sync += reg.eq(v)
        return _Staged(self.pipe, reg, s + 1)

    __add__ = lambda a, b: a._op(a, b, lambda x, y: x + y)                   # noqa: E731
    __radd__ = lambda a, b: a._op(b, a, lambda x, y: x + y)                  # noqa: E731
    __sub__ = lambda a, b: a._op(a, b, lambda x, y: x - y)                   # noqa: E731
    __rsub__ = lambda a, b: a._op(b, a, lambda x, y: x - y)                  # noqa: E731
    __mul__ = lambda a, b: a._op(a, b, lambda x, y: x * y, True)             # noqa: E731
    __rmul__ = lambda a, b: a._op(b, a, lambda x, y: x * y, True)            # noqa: E731
    __rshift__ = lambda a, b: a._op(a, b, lambda x, y: x >> y)               # noqa: E731
    __lshift__ = lambda a, b: a._op(a, b, lambda x, y: x << y)               # noqa: E731
    __ge__ = lambda a, b: a._op(a, b, lambda x, y: x >= y)                   # noqa: E731
    __gt__ = lambda a, b: a._op(a, b, lambda x, y: x > y)                    # noqa: E731
    __le__ = lambda a, b: a._op(a, b, lambda x, y: x <= y)                   # noqa: E731
    __lt__ = lambda a, b: a._op(a, b, lambda x, y: x < y)                    # noqa: E731
    __and__ = lambda a, b: a._op(a, b, lambda x, y: x & y)                   # noqa: E731
    __or__ = lambda a, b: a._op(a, b, lambda x, y: x | y)                    # noqa: E731
    __neg__ = lambda a: _Staged(a.pipe, -a.value, a.stage)                   # noqa: E731
    __invert__ = lambda a: _Staged(a.pipe, ~a.value, a.stage)                # noqa: E731


class _StagedOps:
    """:class:`_AmaranthOps` on :class:`_Staged` values."""

    def __init__(self, m, pipe):
        self.m, self.pipe = m, pipe

    def sat(self, x, bits):
        # A saturation ends a stage too: the wide sum, its shift and clamp are one carry
        # chain and two comparisons, and the threshold compare and reset follow it.
        value = _AmaranthOps(self.m).sat(x.value, bits)
        reg = Signal(value.shape())
        self.m.d.sync += reg.eq(value)
        return _Staged(self.pipe, reg, x.stage + 1)

    def where(self, cond, a, b):
        s = max(_stage(cond), _stage(a), _stage(b))
        at = self.pipe.at
        return _Staged(self.pipe, Mux(at(cond, s), at(a, s), at(b, s)), s)

    @staticmethod
    def zero_fire(v):
        return C(0, 1)


def _evaluate(params, m, state, current, pipelined):
    """``(new state dict, fire, latency)``: the update rule of ``params`` on Amaranth values,
    combinational or pipelined (every output delayed to the last stage)."""
    update = UPDATES[type(params)]
    if not pipelined:
        new, fire = update(params, _AmaranthOps(m), state, current)
        return new, fire, 0
    pipe = _Pipe(m)
    new, fire = update(params, _StagedOps(m, pipe),
                       {k: _Staged(pipe, v, 0) for k, v in state.items()},
                       _Staged(pipe, current, 0))
    latency = max(_stage(x) for x in (*new.values(), fire))
    return {k: pipe.at(v, latency) for k, v in new.items()}, pipe.at(fire, latency), latency


@lru_cache(maxsize=None)
def update_latency(params):
    """Clocks from a neuron's state and current to its next state and spike in the
    :func:`pipelined_core` of ``params`` (0: a combinational core)."""
    if type(params) not in UPDATES:
        return 0
    m = Module()
    state = {name: Signal(signed(bits) if sign else bits)
             for name, bits, sign in state_fields(params)}
    latency = _evaluate(params, m, state, Signal(signed(8)), True)[2]
    Fragment.get(m, None)            # a probe, never instantiated: mark it used
    return latency


class NeuronStep(wiring.Component):
    """One update of any zoo neuron type: combinational (``step_core`` of that type) or, with
    ``pipelined``, with every product registered (outputs :attr:`latency` clocks after the
    inputs; a new neuron may enter every clock)."""

    def __init__(self, params, current_bits: int, pipelined=False):
        self.params, self.pipelined = params, pipelined
        self.latency = update_latency(params) if pipelined else 0
        super().__init__(step_signature(params, current_bits))

    def elaborate(self, platform):
        m = Module()
        names = [name for name, _, _ in state_fields(self.params)]
        state = {name: getattr(self.state, name) for name in names}
        new, fire, _ = _evaluate(self.params, m, state, self.current, self.pipelined)
        for name in names:
            m.d.comb += getattr(self.next, name).eq(new[name])
        m.d.comb += self.fire.eq(fire)
        return m


def pipelined_core(params, current_bits):
    """The update core a network layer uses: :class:`NeuronStep` pipelined for the zoo types
    (its ``latency``), the combinational :func:`step_core` (latency 0) for the others."""
    if type(params) in UPDATES:
        return NeuronStep(params, current_bits, pipelined=True)
    core = step_core(params, current_bits)
    core.latency = 0
    return core


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
