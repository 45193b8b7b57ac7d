"""The neuron zoo: IF, leaky (LIF), synaptic (CubaLIF), alpha, ALIF, Izhikevich and LI neurons.

Every type is a frozen parameter class built from the float parameters users know (``beta``,
``threshold``, ``reset_mechanism``, ...) and registered on the neuron interface of
:mod:`.neuron` (:func:`~.neuron.state_fields`, :func:`~.neuron.step`) and, in
:mod:`scfpga.hdl.neuron_types`, on :func:`scfpga.hdl.neuron.step_core`. The same update rule
(one function per type here, ``_update_<type>``) is evaluated on NumPy arrays by the model and
on Amaranth values by the RTL, so the two cannot drift.

Fixed point
-----------
Units: one unit of the integer input current (a layer's sum of signed product bits per SC
cycle, e.g. -64..64) is 1.0 in the float equations; thresholds, ``v_reset``, ``v_leak``,
``adapt`` and the Izhikevich ``c``, ``d``, ``v_peak`` are in those units (mV for Izhikevich).

* State: every field is a signed ``width``-bit integer with ``frac`` fraction bits,
  ``x = X / 2**frac``. ``frac = width - 1 - ceil(log2(v_range))`` (the state holds
  ``±v_range``); ``v_range`` defaults to 4 x threshold (Izhikevich 256, LI 128).
* Coefficients (``beta``, ``alpha``, ...) are multipliers in Q.B, ``B = coef_bits`` (default
  ``min(width, 18)``): ``q = round(c * 2**B)``. They are real multiplies (the UP5K has 8
  16x16 DSPs), not shifts.
* Current and constants enter each update scaled into the same accumulator:
  ``q_in = round(r * 2**(frac + B))`` per unit of current, ``q_0 = round(k * 2**(frac + B))``.
* Thresholds, resets, adaptation steps: ``round(x * 2**frac)``.
* Rounding of a parameter is half up: ``round(y) = floor(y + 1/2)``.
* An update is ``X' = sat((sum_j q_j * term_j + 2**(B-1)) >> B)``: one exact integer sum, one
  round-half-up shift, then saturation into ``width`` bits (never wrap-around). Saturation
  applies to every stored field and to the membrane before the threshold test.

Float references (``reference_run``) are the textbook equations these quantise, in float64:

* ``leaky``: snnTorch ``Leaky`` with the reset in the same step (``reset_delay=False``):
  ``u = beta*v + (1-beta)*v_leak + r*I``, spike if ``u >= threshold``, then ``v = u - threshold``
  (subtract), ``v_reset`` (zero) or ``u`` (none). With ``tau_mem`` and ``dt`` instead of ``beta``
  it is NIR's LIF ``tau_mem dv/dt = (v_leak - v) + r I`` by forward Euler:
  ``beta = 1 - dt/tau_mem`` and the input gain becomes ``r*dt/tau_mem``.
* ``if``: ``u = v + r*I`` (NIR IF ``dv/dt = r I``, Euler with ``dt`` folded into ``r``).
* ``synaptic``: snnTorch ``Synaptic``: ``syn = alpha*syn + w_in*I``,
  ``u = beta*v + (1-beta)*v_leak + r*syn`` (new ``syn``); tau form = NIR CubaLIF by Euler.
* ``alpha``: snnTorch ``Alpha``'s dual exponential: ``exc = alpha*exc + k*r*I``,
  ``inh = beta*inh - k*r*I``, ``u = exc + inh`` with
  ``k = log(beta) / (log(beta) - log(alpha))`` (snnTorch's ``tau_alpha``, folded into the
  input so the membrane is a plain sum); the reset acts on ``exc`` (subtract ``threshold``) or
  sets ``exc = v_reset, inh = 0``. Needs ``alpha > beta``.
* ``alif``: leaky plus an adaptive threshold (Bellec et al. 2018, LSNN): the threshold is
  ``threshold + a``; ``a = rho*a + adapt*spike`` (old ``a`` decides the spike; subtract reset
  removes the effective threshold). ``tau_adapt`` gives ``rho = 1 - dt/tau_adapt``.
* ``izhikevich``: Izhikevich (2003) by forward Euler with step ``dt`` (ms), both equations from
  the old state: ``v += dt*(0.04v^2 + 5v + 140 - u + r*I)``, ``u += dt*a*(b*v - u)``; spike if
  ``v >= v_peak``, then ``v = c``, ``u += d``. Stored as offsets ``v - c`` and ``u - b*c`` so
  the all-zero reset state is the rest point ``v = c, u = b*c``; ``v^2`` is a state x state
  multiply, ``(X*X) >> frac`` (floor).
* ``li``: the non-spiking leaky integrator (NIR LI): ``v = beta*v + (1-beta)*v_leak + r*I``.

Time convention: that of :mod:`.neuron` (the update with current ``k`` decides the spike of
cycle ``k + 1``); the reset state is all fields 0.
"""
import math
from dataclasses import dataclass, fields

import numpy as np

from .neuron import init_state, register_neuron, state_fields, step
from .params import ParameterError, check_choice, check_int, signed_range

RESET_MECHANISMS = ("subtract", "zero", "none")
MAX_WIDTH = 24
MAX_COEF_BITS = 18


def qround(y):
    """The rounding of every parameter: half up, ``floor(y + 1/2)``, as a Python int."""
    return int(math.floor(y + 0.5))


def _check_float(name, value, lo=None, hi=None, lo_open=False):
    try:
        x = float(value)
    except (TypeError, ValueError):
        x = math.nan
    if isinstance(value, bool) or not math.isfinite(x):
        raise ParameterError(f"{name} must be a finite number, got {value!r}")
    if lo is not None and (x < lo or (lo_open and x == lo)) or hi is not None and x > hi:
        lo_s = "-inf" if lo is None else f"{lo:g}"
        hi_s = "inf" if hi is None else f"{hi:g}"
        left = "(" if lo_open else "["
        raise ParameterError(f"{name} must be in {left}{lo_s}, {hi_s}], got {x:g}")
    return x


class _Fixed:
    """Fields and helpers of every type: ``width``, ``coef_bits``, ``v_range`` -> ``frac``."""

    name = "?"
    default_range = None          # -> v_range default; None: 4 * threshold

    def _setup(self, *float_fields):
        for f in float_fields:
            object.__setattr__(self, f, _check_float(f, getattr(self, f)))
        if "threshold" in float_fields:
            _check_float("threshold", self.threshold, 0, None, True)
        check_int("width", self.width, 4, MAX_WIDTH)
        if self.coef_bits is None:
            object.__setattr__(self, "coef_bits", min(self.width, MAX_COEF_BITS))
        check_int("coef_bits", self.coef_bits, 2, MAX_COEF_BITS)
        if self.v_range is None:
            rng = self.default_range or 4 * self.threshold
            object.__setattr__(self, "v_range", float(rng))
        object.__setattr__(self, "v_range", _check_float("v_range", self.v_range, 0, None, True))
        int_bits = max(0, math.ceil(math.log2(self.v_range)))
        frac = self.width - 1 - int_bits
        if frac < 0:
            raise ParameterError(f"width must be at least {int_bits + 1} to hold v_range "
                                 f"{self.v_range:g}, got {self.width}")
        object.__setattr__(self, "frac", frac)      # derived, not a field (not in eq/repr)

    # fixed-point helpers
    @property
    def v_min(self):
        return signed_range(self.width)[0]

    @property
    def v_max(self):
        return signed_range(self.width)[1]

    @property
    def half(self):
        return 1 << (self.coef_bits - 1)

    def q_coef(self, c):
        """A multiplier in Q.B."""
        return qround(c * (1 << self.coef_bits))

    def q_acc(self, k):
        """A current gain or constant scaled into the accumulator (state LSB x 2**B)."""
        return qround(k * (1 << (self.frac + self.coef_bits)))

    def q_state(self, x, name, lo=None):
        """A value in state units; it must fit the state's range."""
        q = qround(x * (1 << self.frac))
        lo = self.v_min if lo is None else lo
        if not lo <= q <= self.v_max:
            raise ParameterError(f"{name} = {x:g} does not fit width {self.width} with v_range "
                                 f"{self.v_range:g} (quantised {q} outside {lo}..{self.v_max}); "
                                 "raise v_range or width")
        return q

    def to_float(self, x):
        return np.asarray(x, np.float64) / (1 << self.frac)

    def fixed_params(self):
        """Every quantised constant (name -> int): what the RTL is built from."""
        return {k: getattr(self, k) for k in dir(self) if k.startswith("q_") and
                not callable(getattr(self, k))}


def _check_reset(p):
    check_choice("reset_mechanism", p.reset_mechanism, RESET_MECHANISMS)


def _spike_and_reset(p, ops, u, thr):
    """``(v, fire)``: spike if ``u >= thr``; then subtract ``thr``, set ``v_reset``, keep ``u``."""
    fire = u >= thr
    if p.reset_mechanism == "subtract":
        after = ops.sat(u - thr, p.width)
    elif p.reset_mechanism == "zero":
        after = p.q_v_reset
    else:
        return u, fire
    return ops.where(fire, after, u), fire


# ---------------------------------------------------------------------------- leaky

@dataclass(frozen=True)
class LeakyParams(_Fixed):
    """Leaky integrate-and-fire: ``u = beta*v + (1-beta)*v_leak + r*I`` (module docstring).

    Parameters: ``beta`` in [0, 1]; ``threshold`` > 0; ``reset_mechanism`` subtract/zero/none;
    ``v_reset`` (zero reset); ``v_leak``; ``r`` input gain (current units per unit of current);
    ``width`` 4..24; ``coef_bits`` 2..18 (default ``min(width, 18)``); ``v_range`` (default
    4 x threshold).
    """
    beta: float = 0.9
    threshold: float = 1.0
    reset_mechanism: str = "subtract"
    v_reset: float = 0.0
    v_leak: float = 0.0
    r: float = 1.0
    width: int = 16
    coef_bits: int | None = None
    v_range: float | None = None

    name = "leaky"

    def __post_init__(self):
        self._setup("beta", "threshold", "v_reset", "v_leak", "r")
        _check_float("beta", self.beta, 0, 1)
        _check_float("threshold", self.threshold, 0, None, True)
        _check_reset(self)
        self.q_threshold, self.q_v_reset     # validate that they fit

    q_beta = property(lambda p: p.q_coef(p.beta))
    q_in = property(lambda p: p.q_acc(p.r))
    q_bias = property(lambda p: p.q_acc((1 - p.beta) * p.v_leak))
    q_threshold = property(lambda p: p.q_state(p.threshold, "threshold", 1))
    q_v_reset = property(lambda p: p.q_state(p.v_reset, "v_reset"))


def _update_leaky(p, ops, s, current):
    u = ops.sat((p.q_beta * s["v"] + p.q_in * current + p.q_bias + p.half) >> p.coef_bits, p.width)
    v, fire = _spike_and_reset(p, ops, u, p.q_threshold)
    return {"v": v}, fire


def _ref_leaky(p, s, current):
    u = p.beta * s["v"] + (1 - p.beta) * p.v_leak + p.r * current
    return _ref_reset(p, u, p.threshold)


def _ref_reset(p, u, thr, extra=None):
    fire = u >= thr
    if p.reset_mechanism == "subtract":
        v = np.where(fire, u - thr, u)
    elif p.reset_mechanism == "zero":
        v = np.where(fire, p.v_reset, u)
    else:
        v = u
    return {"v": v, **(extra or {})}, fire


@state_fields.register
def _(p: LeakyParams):
    return (("v", p.width, True),)


@step.register
def _(p: LeakyParams, state, current):
    return _np_step(_update_leaky, p, state, current)


# ---------------------------------------------------------------------------- if

@dataclass(frozen=True)
class IFParams(_Fixed):
    """Integrate-and-fire (no leak): ``u = v + r*I``; same fields as :class:`LeakyParams`."""
    threshold: float = 1.0
    reset_mechanism: str = "subtract"
    v_reset: float = 0.0
    r: float = 1.0
    width: int = 16
    coef_bits: int | None = None
    v_range: float | None = None

    name = "if"

    def __post_init__(self):
        self._setup("threshold", "v_reset", "r")
        _check_float("threshold", self.threshold, 0, None, True)
        _check_reset(self)
        self.q_threshold, self.q_v_reset

    q_in = property(lambda p: p.q_acc(p.r))
    q_threshold = property(lambda p: p.q_state(p.threshold, "threshold", 1))
    q_v_reset = property(lambda p: p.q_state(p.v_reset, "v_reset"))


def _update_if(p, ops, s, current):
    # beta = 1 exactly: the state is shifted into the accumulator, no multiplier.
    u = ops.sat(((s["v"] << p.coef_bits) + p.q_in * current + p.half) >> p.coef_bits, p.width)
    v, fire = _spike_and_reset(p, ops, u, p.q_threshold)
    return {"v": v}, fire


def _ref_if(p, s, current):
    return _ref_reset(p, s["v"] + p.r * current, p.threshold)


@state_fields.register
def _(p: IFParams):
    return (("v", p.width, True),)


@step.register
def _(p: IFParams, state, current):
    return _np_step(_update_if, p, state, current)


# ---------------------------------------------------------------------------- synaptic

@dataclass(frozen=True)
class SynapticParams(_Fixed):
    """Current-based LIF: ``syn = alpha*syn + w_in*I``; ``u = beta*v + (1-beta)*v_leak + r*syn``.

    ``syn`` and ``v`` share one format (``v_range`` covers both).
    """
    alpha: float = 0.8
    beta: float = 0.9
    threshold: float = 1.0
    reset_mechanism: str = "subtract"
    v_reset: float = 0.0
    v_leak: float = 0.0
    r: float = 1.0
    w_in: float = 1.0
    width: int = 16
    coef_bits: int | None = None
    v_range: float | None = None

    name = "synaptic"

    def __post_init__(self):
        self._setup("alpha", "beta", "threshold", "v_reset", "v_leak", "r", "w_in")
        _check_float("alpha", self.alpha, 0, 1)
        _check_float("beta", self.beta, 0, 1)
        _check_float("threshold", self.threshold, 0, None, True)
        _check_reset(self)
        self.q_threshold, self.q_v_reset

    q_alpha = property(lambda p: p.q_coef(p.alpha))
    q_beta = property(lambda p: p.q_coef(p.beta))
    q_syn = property(lambda p: p.q_coef(p.r))
    q_in = property(lambda p: p.q_acc(p.w_in))
    q_bias = property(lambda p: p.q_acc((1 - p.beta) * p.v_leak))
    q_threshold = property(lambda p: p.q_state(p.threshold, "threshold", 1))
    q_v_reset = property(lambda p: p.q_state(p.v_reset, "v_reset"))


def _update_synaptic(p, ops, s, current):
    B = p.coef_bits
    syn = ops.sat((p.q_alpha * s["syn"] + p.q_in * current + p.half) >> B, p.width)
    u = ops.sat((p.q_beta * s["v"] + p.q_syn * syn + p.q_bias + p.half) >> B, p.width)
    v, fire = _spike_and_reset(p, ops, u, p.q_threshold)
    return {"syn": syn, "v": v}, fire


def _ref_synaptic(p, s, current):
    syn = p.alpha * s["syn"] + p.w_in * current
    u = p.beta * s["v"] + (1 - p.beta) * p.v_leak + p.r * syn
    return _ref_reset(p, u, p.threshold, {"syn": syn})


@state_fields.register
def _(p: SynapticParams):
    return (("syn", p.width, True), ("v", p.width, True))


@step.register
def _(p: SynapticParams, state, current):
    return _np_step(_update_synaptic, p, state, current)


# ---------------------------------------------------------------------------- alpha

@dataclass(frozen=True)
class AlphaParams(_Fixed):
    """snnTorch-style alpha neuron: ``exc = alpha*exc + k*r*I``, ``inh = beta*inh - k*r*I``,
    membrane ``exc + inh``, ``k = log(beta)/(log(beta) - log(alpha))``; ``1 > alpha > beta > 0``.
    """
    alpha: float = 0.9
    beta: float = 0.8
    threshold: float = 1.0
    reset_mechanism: str = "subtract"
    v_reset: float = 0.0
    r: float = 1.0
    width: int = 16
    coef_bits: int | None = None
    v_range: float | None = None

    name = "alpha"

    def __post_init__(self):
        self._setup("alpha", "beta", "threshold", "v_reset", "r")
        _check_float("alpha", self.alpha, 0, 1, True)
        _check_float("beta", self.beta, 0, 1, True)
        if not 1 > self.alpha > self.beta:
            raise ParameterError(f"alpha must be in (beta, 1) (snnTorch Alpha needs "
                                 f"1 > alpha > beta > 0), got alpha={self.alpha:g}, "
                                 f"beta={self.beta:g}")
        _check_float("threshold", self.threshold, 0, None, True)
        _check_reset(self)
        self.q_threshold, self.q_v_reset

    @property
    def tau_alpha(self):
        return math.log(self.beta) / (math.log(self.beta) - math.log(self.alpha))

    q_alpha = property(lambda p: p.q_coef(p.alpha))
    q_beta = property(lambda p: p.q_coef(p.beta))
    q_in = property(lambda p: p.q_acc(p.tau_alpha * p.r))
    q_threshold = property(lambda p: p.q_state(p.threshold, "threshold", 1))
    q_v_reset = property(lambda p: p.q_state(p.v_reset, "v_reset"))


def _update_alpha(p, ops, s, current):
    B, w = p.coef_bits, p.width
    drive = p.q_in * current
    exc = ops.sat((p.q_alpha * s["exc"] + drive + p.half) >> B, w)
    inh = ops.sat((p.q_beta * s["inh"] - drive + p.half) >> B, w)
    u = ops.sat(exc + inh, w)
    fire = u >= p.q_threshold
    if p.reset_mechanism == "subtract":
        exc = ops.where(fire, ops.sat(exc - p.q_threshold, w), exc)
    elif p.reset_mechanism == "zero":
        exc = ops.where(fire, p.q_v_reset, exc)
        inh = ops.where(fire, 0, inh)
    return {"exc": exc, "inh": inh}, fire


def _ref_alpha(p, s, current):
    drive = p.tau_alpha * p.r * current
    exc = p.alpha * s["exc"] + drive
    inh = p.beta * s["inh"] - drive
    fire = exc + inh >= p.threshold
    if p.reset_mechanism == "subtract":
        exc = np.where(fire, exc - p.threshold, exc)
    elif p.reset_mechanism == "zero":
        exc = np.where(fire, p.v_reset, exc)
        inh = np.where(fire, 0.0, inh)
    return {"exc": exc, "inh": inh}, fire


@state_fields.register
def _(p: AlphaParams):
    return (("exc", p.width, True), ("inh", p.width, True))


@step.register
def _(p: AlphaParams, state, current):
    return _np_step(_update_alpha, p, state, current)


# ---------------------------------------------------------------------------- alif

@dataclass(frozen=True)
class ALIFParams(_Fixed):
    """Adaptive LIF: leaky membrane, threshold ``threshold + a``, ``a = rho*a + adapt*spike``.

    ``a`` shares the membrane's format; ``v_range`` (default 4 x threshold) must cover
    ``threshold + a``.
    """
    beta: float = 0.9
    threshold: float = 1.0
    rho: float = 0.95
    adapt: float = 0.2
    reset_mechanism: str = "subtract"
    v_reset: float = 0.0
    v_leak: float = 0.0
    r: float = 1.0
    width: int = 16
    coef_bits: int | None = None
    v_range: float | None = None

    name = "alif"

    def __post_init__(self):
        self._setup("beta", "threshold", "rho", "adapt", "v_reset", "v_leak", "r")
        _check_float("beta", self.beta, 0, 1)
        _check_float("rho", self.rho, 0, 1)
        _check_float("adapt", self.adapt, 0)
        _check_float("threshold", self.threshold, 0, None, True)
        _check_reset(self)
        self.q_threshold, self.q_v_reset, self.q_adapt

    q_beta = property(lambda p: p.q_coef(p.beta))
    q_rho = property(lambda p: p.q_coef(p.rho))
    q_in = property(lambda p: p.q_acc(p.r))
    q_bias = property(lambda p: p.q_acc((1 - p.beta) * p.v_leak))
    q_threshold = property(lambda p: p.q_state(p.threshold, "threshold", 1))
    q_v_reset = property(lambda p: p.q_state(p.v_reset, "v_reset"))
    q_adapt = property(lambda p: p.q_state(p.adapt, "adapt", 0))


def _update_alif(p, ops, s, current):
    B, w = p.coef_bits, p.width
    a = s["a"]
    u = ops.sat((p.q_beta * s["v"] + p.q_in * current + p.q_bias + p.half) >> B, w)
    v, fire = _spike_and_reset(p, ops, u, p.q_threshold + a)
    a = ops.sat(((p.q_rho * a + p.half) >> B) + ops.where(fire, p.q_adapt, 0), w)
    return {"v": v, "a": a}, fire


def _ref_alif(p, s, current):
    u = p.beta * s["v"] + (1 - p.beta) * p.v_leak + p.r * current
    new, fire = _ref_reset(p, u, p.threshold + s["a"])
    new["a"] = p.rho * s["a"] + p.adapt * fire
    return new, fire


@state_fields.register
def _(p: ALIFParams):
    return (("v", p.width, True), ("a", p.width, True))


@step.register
def _(p: ALIFParams, state, current):
    return _np_step(_update_alif, p, state, current)


# ---------------------------------------------------------------------------- izhikevich

@dataclass(frozen=True)
class IzhikevichParams(_Fixed):
    """Izhikevich (2003), forward Euler with step ``dt`` ms; defaults: regular spiking.

    State fields ``v`` = v - c and ``u`` = u - b*c (offsets, so reset state = rest point).
    """
    a: float = 0.02
    b: float = 0.2
    c: float = -65.0
    d: float = 8.0
    dt: float = 0.5
    v_peak: float = 30.0
    r: float = 1.0
    width: int = 16
    coef_bits: int | None = None
    v_range: float | None = None

    name = "izhikevich"
    default_range = 256.0

    def __post_init__(self):
        self._setup("a", "b", "c", "d", "dt", "v_peak", "r")
        _check_float("dt", self.dt, 0, 2, True)
        _check_float("a", self.a, 0, 1)
        if self.v_peak <= self.c:
            raise ParameterError(f"v_peak must be above c = {self.c:g}, got {self.v_peak:g}")
        self.q_peak, self.q_d

    threshold = property(lambda p: p.v_peak - p.c)      # for reports: distance rest -> peak
    q_vv = property(lambda p: p.q_coef(1 + p.dt * (0.08 * p.c + 5)))
    q_vsq = property(lambda p: p.q_coef(0.04 * p.dt))
    q_vu = property(lambda p: p.q_coef(-p.dt))
    q_v0 = property(lambda p: p.q_acc(p.dt * (0.04 * p.c ** 2 + 5 * p.c + 140 - p.b * p.c)))
    q_in = property(lambda p: p.q_acc(p.dt * p.r))
    q_uu = property(lambda p: p.q_coef(1 - p.dt * p.a))
    q_uv = property(lambda p: p.q_coef(p.dt * p.a * p.b))
    q_peak = property(lambda p: p.q_state(p.v_peak - p.c, "v_peak - c", 1))
    q_d = property(lambda p: p.q_state(p.d, "d"))


def _update_izhikevich(p, ops, s, current):
    B, w = p.coef_bits, p.width
    x, y = s["v"], s["u"]
    sq = (x * x) >> p.frac
    xn = ops.sat((p.q_vv * x + p.q_vsq * sq + p.q_vu * y + p.q_in * current + p.q_v0
                  + p.half) >> B, w)
    yn = ops.sat((p.q_uu * y + p.q_uv * x + p.half) >> B, w)
    fire = xn >= p.q_peak
    return {"v": ops.where(fire, 0, xn), "u": ops.where(fire, ops.sat(yn + p.q_d, w), yn)}, fire


def _ref_izhikevich(p, s, current):
    """On the offsets ``v - c``, ``u - b*c``, but with the textbook equation on ``v`` and ``u``."""
    v, u = s["v"] + p.c, s["u"] + p.b * p.c
    vn = v + p.dt * (0.04 * v * v + 5 * v + 140 - u + p.r * current)
    un = u + p.dt * p.a * (p.b * v - u)
    fire = vn >= p.v_peak
    vn = np.where(fire, p.c, vn)
    un = np.where(fire, un + p.d, un)
    return {"v": vn - p.c, "u": un - p.b * p.c}, fire


@state_fields.register
def _(p: IzhikevichParams):
    return (("v", p.width, True), ("u", p.width, True))


@step.register
def _(p: IzhikevichParams, state, current):
    return _np_step(_update_izhikevich, p, state, current)


# ---------------------------------------------------------------------------- li

@dataclass(frozen=True)
class LIParams(_Fixed):
    """Leaky integrator readout (never spikes): ``v = beta*v + (1-beta)*v_leak + r*I``."""
    beta: float = 0.9
    v_leak: float = 0.0
    r: float = 1.0
    width: int = 16
    coef_bits: int | None = None
    v_range: float | None = None

    name = "li"
    default_range = 128.0
    threshold = 1.0                                      # scale for reports only

    def __post_init__(self):
        self._setup("beta", "v_leak", "r")
        _check_float("beta", self.beta, 0, 1)

    q_beta = property(lambda p: p.q_coef(p.beta))
    q_in = property(lambda p: p.q_acc(p.r))
    q_bias = property(lambda p: p.q_acc((1 - p.beta) * p.v_leak))


def _update_li(p, ops, s, current):
    v = ops.sat((p.q_beta * s["v"] + p.q_in * current + p.q_bias + p.half) >> p.coef_bits, p.width)
    return {"v": v}, ops.zero_fire(v)


def _ref_li(p, s, current):
    v = p.beta * s["v"] + (1 - p.beta) * p.v_leak + p.r * current
    return {"v": v}, np.zeros(np.shape(v), bool)


@state_fields.register
def _(p: LIParams):
    return (("v", p.width, True),)


@step.register
def _(p: LIParams, state, current):
    return _np_step(_update_li, p, state, current)


# ---------------------------------------------------------------------------- shared machinery

class _NumpyOps:
    """The two non-arithmetic operations of an update rule, on int64 arrays."""

    @staticmethod
    def sat(x, bits):
        return np.clip(x, *signed_range(bits))

    @staticmethod
    def where(cond, a, b):
        return np.where(cond, a, b)

    @staticmethod
    def zero_fire(v):
        return np.zeros(np.shape(v), bool)


UPDATES = {LeakyParams: _update_leaky, IFParams: _update_if, SynapticParams: _update_synaptic,
           AlphaParams: _update_alpha, ALIFParams: _update_alif,
           IzhikevichParams: _update_izhikevich, LIParams: _update_li}
"""Parameter class -> its update rule ``(params, ops, state, current) -> (state, fire)``,
written once for NumPy (``_NumpyOps``) and Amaranth (:mod:`scfpga.hdl.neuron_types`)."""

REFERENCES = {LeakyParams: _ref_leaky, IFParams: _ref_if, SynapticParams: _ref_synaptic,
              AlphaParams: _ref_alpha, ALIFParams: _ref_alif,
              IzhikevichParams: _ref_izhikevich, LIParams: _ref_li}


def _np_step(update, p, state, current):
    current = np.asarray(current, np.int64)
    s = {k: np.asarray(v, np.int64) for k, v in state.items()}
    new, fire = update(p, _NumpyOps, s, current)
    shape = np.broadcast(current, *s.values()).shape
    new = {k: np.broadcast_to(np.asarray(v, np.int64), shape).copy() for k, v in new.items()}
    return new, np.broadcast_to(np.asarray(fire, bool), shape).copy()


def membrane_fixed(p, state):
    """The membrane potential of a fixed-point state, as floats in current units (mV)."""
    if isinstance(p, AlphaParams):
        return p.to_float(np.clip(state["exc"] + state["inh"], p.v_min, p.v_max))
    if isinstance(p, IzhikevichParams):
        return p.to_float(state["v"]) + p.c
    return p.to_float(state["v"])


def membrane_float(p, state):
    """The membrane potential of a float reference state."""
    if isinstance(p, AlphaParams):
        return state["exc"] + state["inh"]
    if isinstance(p, IzhikevichParams):
        return state["v"] + p.c
    return state["v"]


def fixed_run(p, currents):
    """Fixed-point run on currents ``(..., T)``: spikes (uint8) and membrane (float) ``(..., T)``.

    Index ``k`` is cycle ``k`` (spike and state shown during it); the time loop is vectorised
    over every leading axis.
    """
    currents = np.asarray(currents, np.int64)
    spikes = np.zeros(currents.shape, np.uint8)
    mem = np.zeros(currents.shape, np.float64)
    state = init_state(p, currents.shape[:-1])
    mem[..., 0] = membrane_fixed(p, state)
    for k in range(currents.shape[-1] - 1):
        state, fire = step(p, state, currents[..., k])
        spikes[..., k + 1] = fire
        mem[..., k + 1] = membrane_fixed(p, state)
    return spikes, mem


def reference_run(p, currents):
    """The float64 textbook equations (module docstring) on the same currents and timing."""
    currents = np.asarray(currents, np.float64)
    spikes = np.zeros(currents.shape, np.uint8)
    mem = np.zeros(currents.shape, np.float64)
    state = {name: np.zeros(currents.shape[:-1]) for name, _, _ in state_fields(p)}
    ref = REFERENCES[type(p)]
    mem[..., 0] = membrane_float(p, state)
    for k in range(currents.shape[-1] - 1):
        state, fire = ref(p, state, currents[..., k])
        spikes[..., k + 1] = fire
        mem[..., k + 1] = membrane_float(p, state)
    return spikes, mem


# ---------------------------------------------------------------------------- factory and CLI table

NEURON_TYPES = {"leaky": LeakyParams, "if": IFParams, "synaptic": SynapticParams,
                "alpha": AlphaParams, "alif": ALIFParams, "izhikevich": IzhikevichParams,
                "li": LIParams}

# Time-constant forms (NIR, forward Euler): extra names create_neuron accepts per type.
_TAU_NAMES = {"leaky": ("tau_mem", "dt"), "if": ("dt",), "synaptic": ("tau_mem", "tau_syn", "dt"),
              "alpha": (), "alif": ("tau_mem", "tau_adapt", "dt"), "izhikevich": (),
              "li": ("tau_mem", "dt")}


def _param_names(cls):
    return tuple(f.name for f in fields(cls))


def accepted_parameters(name):
    """The keyword names :func:`create_neuron` accepts for neuron type ``name``."""
    return _param_names(NEURON_TYPES[name]) + _TAU_NAMES[name]


def _from_tau(name, kw):
    """Fold NIR time constants into the snnTorch-form fields (beta = 1 - dt/tau, Euler)."""
    if not any(k in kw for k in ("tau_mem", "tau_syn", "tau_adapt")) and "dt" not in kw:
        return kw
    kw = dict(kw)
    dt = _check_float("dt", kw.pop("dt", 1.0), 0, None, True)
    if name == "if":
        kw["r"] = kw.get("r", 1.0) * dt
        return kw

    def decay(tau_name, coef_name):
        if tau_name not in kw:
            return None
        if coef_name in kw:
            raise ParameterError(f"give {coef_name} or {tau_name}, not both")
        tau = _check_float(tau_name, kw.pop(tau_name), dt)
        kw[coef_name] = 1 - dt / tau
        return dt / tau

    g_mem = decay("tau_mem", "beta")
    if name == "synaptic":
        g_syn = decay("tau_syn", "alpha")
        if g_syn is not None:
            kw["w_in"] = kw.get("w_in", 1.0) * g_syn
    if name == "alif":
        decay("tau_adapt", "rho")
    if g_mem is not None:
        kw["r"] = kw.get("r", 1.0) * g_mem
    return kw


class Neuron:
    """A batch of neurons of one type: ``spk, state = neuron(current, state)``.

    ``current`` is an integer array (any shape: neurons, batch, ...); ``spk`` is uint8 of the same
    shape, the spike this update decides (shown by hardware in the next SC cycle).
    """

    def __init__(self, params):
        state_fields(params)                       # raises unless a registered type
        self.params = params

    @property
    def name(self):
        return self.params.name

    def init_state(self, shape):
        return init_state(self.params, shape)

    def __call__(self, current, state):
        state, fire = step(self.params, state, current)
        return fire.astype(np.uint8), state

    def membrane(self, state):
        return membrane_fixed(self.params, state)

    def run(self, currents):
        """Spikes (uint8) and membrane (float) over currents ``(..., T)`` (:func:`fixed_run`)."""
        return fixed_run(self.params, currents)

    def __repr__(self):
        return f"Neuron({self.params!r})"


def create_neuron(neuron_type, **float_params):
    """A :class:`Neuron` from a type name and its float parameters (or a Neuron/params as is).

    ``neuron_type``: one of ``leaky``, ``if``, ``synaptic``, ``alpha``, ``alif``,
    ``izhikevich``, ``li``. Parameters are the fields of the type's parameter class plus the
    time-constant forms (``tau_mem``, ``tau_syn``, ``tau_adapt``, ``dt``) where they apply.
    """
    if isinstance(neuron_type, Neuron):
        if float_params:
            raise ParameterError("parameters cannot be given with an existing neuron")
        return neuron_type
    if type(neuron_type) in UPDATES:
        return Neuron(neuron_type)
    if neuron_type not in NEURON_TYPES:
        raise ParameterError(f"neuron type must be one of {', '.join(NEURON_TYPES)}, "
                             f"got {neuron_type!r}")
    accepted = accepted_parameters(neuron_type)
    unknown = [k for k in float_params if k not in accepted]
    if unknown:
        raise ParameterError(f"unknown parameter {unknown[0]!r} for neuron type "
                             f"{neuron_type!r}; accepted: {', '.join(accepted)}")
    kw = _from_tau(neuron_type, float_params)
    return Neuron(NEURON_TYPES[neuron_type](**kw))


_COMMON_OPTIONS = (
    ("width", int, 16, "state width in bits (signed), 4..24"),
    ("coef_bits", int, None,
     "fraction bits of the multipliers (Q.B), 2..18 (default min(width, 18))"),
    ("v_range", float, None, "largest state magnitude the format holds, in current units "
                             "(default 4 x threshold; izhikevich 256, li 128)"),
)
_RESET_OPTIONS = (
    ("reset_mechanism", str, "subtract", "after a spike: subtract, zero (to v_reset) or none"),
    ("v_reset", float, 0.0, "membrane after a zero reset, current units"),
)
_THR = ("threshold", float, 1.0, "firing threshold, current units (> 0)")
_R = ("r", float, 1.0, "input gain: membrane change per unit of integer current")
_VLEAK = ("v_leak", float, 0.0, "resting potential the membrane leaks towards")

NEURON_OPTIONS = {
    "leaky": (("beta", float, 0.9, "membrane decay per cycle, 0..1"), _THR, *_RESET_OPTIONS,
              _VLEAK, _R, *_COMMON_OPTIONS),
    "if": (_THR, *_RESET_OPTIONS, _R, *_COMMON_OPTIONS),
    "synaptic": (("alpha", float, 0.8, "synaptic current decay per cycle, 0..1"),
                 ("beta", float, 0.9, "membrane decay per cycle, 0..1"), _THR, *_RESET_OPTIONS,
                 _VLEAK, ("r", float, 1.0, "gain from synaptic current to membrane"),
                 ("w_in", float, 1.0, "gain from input current to synaptic current"),
                 *_COMMON_OPTIONS),
    "alpha": (("alpha", float, 0.9, "excitatory decay, beta < alpha < 1"),
              ("beta", float, 0.8, "inhibitory decay, 0 < beta < alpha"), _THR, *_RESET_OPTIONS,
              _R, *_COMMON_OPTIONS),
    "alif": (("beta", float, 0.9, "membrane decay per cycle, 0..1"), _THR,
             ("rho", float, 0.95, "adaptation decay per cycle, 0..1"),
             ("adapt", float, 0.2, "threshold increase per spike, current units (>= 0)"),
             *_RESET_OPTIONS, _VLEAK, _R, *_COMMON_OPTIONS),
    "izhikevich": (("a", float, 0.02, "recovery time scale"),
                   ("b", float, 0.2, "recovery sensitivity"),
                   ("c", float, -65.0, "reset potential, mV"),
                   ("d", float, 8.0, "recovery jump per spike"),
                   ("dt", float, 0.5, "Euler step, ms (0 < dt <= 2)"),
                   ("v_peak", float, 30.0, "spike cut-off, mV"),
                   ("r", float, 1.0, "input gain: current per unit of integer current"),
                   *_COMMON_OPTIONS),
    "li": (("beta", float, 0.9, "decay per cycle, 0..1"), _VLEAK, _R, *_COMMON_OPTIONS),
}
"""Per type: ``(option name, type, default, help)`` for a CLI (``--beta 0.9`` sets ``beta``)."""


def neuron_from_options(type_name, values):
    """The parameter object of ``type_name`` from CLI option values (``None`` = default)."""
    if type_name not in NEURON_OPTIONS:
        raise ParameterError(f"neuron type must be one of {', '.join(NEURON_OPTIONS)}, "
                             f"got {type_name!r}")
    names = {o[0] for o in NEURON_OPTIONS[type_name]}
    kw = {}
    for k, v in values.items():
        if k not in names:
            raise ParameterError(f"unknown option {k!r} for neuron type {type_name!r}; accepted: "
                                 f"{', '.join(o[0] for o in NEURON_OPTIONS[type_name])}")
        if v is not None:
            kw[k] = v
    return create_neuron(type_name, **kw).params


def _spec_maker(name):
    def make(**values):
        return create_neuron(name, **values).params
    return make


for _name, _cls in NEURON_TYPES.items():          # network specs: neuron = {type = "leaky", ...}
    register_neuron(_name, _cls, _spec_maker(_name))


# The base class of every type above and the types themselves (the op table and the lowerings
# register them).
NeuronParams = _Fixed
PARAM_TYPES = (LeakyParams, IFParams, SynapticParams, AlphaParams, ALIFParams, IzhikevichParams,
               LIParams)
