"""A dense layer that learns on the chip: pair-based STDP in fixed point (golden model).

``n_neurons`` leaky integrate-and-fire neurons each see ``n_inputs`` inputs through unsigned
``weight_bits``-bit weights ``w[j, i]`` that live in a writable memory. An **epoch** is one run of
``length`` time steps on one input vector (rates ``r_i`` in ``0..2**width``, ``2**width`` = 1.0).
At the start of an epoch the membranes, traces, spike counts and both random sources restart;
the weights do not (they are what the layer learns). Time step ``t = 0 .. length-1``:

1. **Encode.** Visit ``k = t * n_inputs + i`` of the encoder: ``s_i = R_k < r_i`` where ``R_k``
   is the top ``width`` bits of a 16-bit LFSR (seed ``seed``) leapt 16 steps per visit (every
   visit sees 16 fresh feedback bits, so neighbouring inputs are not shifted copies).
2. **Pre traces.** ``x_i = T_max`` if ``s_i`` else ``x_i - (x_i >> tau_pre_shift)``, with
   ``T_max = 2**trace_bits - 1`` (nearest-spike pairing: a spike resets the trace to its
   maximum rather than adding to it). ``tau_pre_shift`` sets the potentiation window: the trace
   decays by a factor ``1 - 2**-tau_pre_shift`` per step.
3. **Neurons.** ``I_j = sum_i e[j, i] * s_i`` with the effective weight
   ``e = clip(w + offset, 0, 2**weight_bits - 1)`` (``offset``: variability, :mod:`.faults`);
   ``u = clamp(v - (v >> leak_shift) + I_j)`` to the signed ``v_width``-bit range;
   ``post_j = u >= threshold``; ``v = 0`` if it fired, else ``u``.
4. **Learning** (every synapse, with the post traces ``y_j`` of the steps before this one):
   potentiation ``P = post_j * dp(x_i)``, depression ``D = s_i * dd(y_j)``,
   ``w = stored(clip(w + P - D, w_min, w_max))`` where ``stored`` applies the stuck cells of
   the fault map (:meth:`.faults.FaultMap.stored`). A pre and a post spike in the same step
   count as causal (the pre spike was integrated before the post spike): potentiation.
   Deterministic: ``dp(x) = (a_plus * x) >> rate_shift``, ``dd(y) = (a_minus * y) >> rate_shift``.
   Stochastic (``stochastic=True``, an SC update): ``dp(x) = a_plus * [R'_k < x]``,
   ``dd(y) = a_minus * [R'_k < y]`` with ``R'_k`` a ``trace_bits``-bit value of the update source
   at visit ``k = (t * n_neurons + j) * n_inputs + i``: the 16-bit LFSR (seed ``update_seed``,
   leapt as in 1., top bits) or a Sobol coordinate (dimension ``update_seed``, one point per
   visit). The expected step is ``a * x / 2**trace_bits`` without truncation.
5. **Post traces.** ``y_j = T_max`` if ``post_j`` else ``y_j - (y_j >> tau_post_shift)``
   (``tau_post_shift``: the depression window).

``a_minus > a_plus`` by default, the asymmetry of Bi & Poo (1998): depression slightly outweighs
potentiation, so uncorrelated inputs lose weight while inputs that drive spikes gain it.

Outputs of an epoch: the weights after it (exactly what the hardware's weight memory holds),
each neuron's spike count and the spike raster. Transient faults (:class:`Flip`) flip one bit of
a stored weight or of a membrane before a chosen step; :mod:`scfpga.sim.stdp` injects the same
flips into the RTL simulation.
"""
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from .faults import FaultMap, stuck_at_map
from .lfsr import LFSRParams, lfsr_sequence
from .params import ParameterError, check_choice, check_int, check_seed, signed_range
from .sobol import SobolParams, sobol_sequence

MAX_INPUTS = 64
MAX_NEURONS = 16
MAX_LENGTH = 4096
LFSR_WIDTH = 16                    # encoder and update LFSR register width
LEAP = LFSR_WIDTH                  # LFSR steps per visit
UPDATE_SOURCES = ("lfsr", "sobol")


@dataclass(frozen=True)
class STDPParams:
    """An on-chip learning layer (module docstring for the exact rule).

    Parameters
    ----------
    n_inputs : int
        Inputs, 1..64.
    n_neurons : int
        Neurons, 1..16.
    length : int
        Time steps per epoch, 1..4096.
    width : int
        Input rate bits W, 1..12 (rates 0..2**W).
    weight_bits : int
        Unsigned weight width B, 2..12.
    weights : tuple of tuples of int or None
        Initial weights (n_neurons, n_inputs) in 0..2**B-1 (before the fault map's stuck cells);
        ``None``: uniform random in ``[w_min, w_max]`` from ``weight_seed``.
    w_min, w_max : int or None
        Weight bounds of learning, ``0 <= w_min <= w_max <= 2**B - 1`` (default: 0, 2**B - 1).
    trace_bits : int
        Trace width, 2..12.
    tau_pre_shift, tau_post_shift : int
        Trace decay shifts (potentiation and depression windows), 1..trace_bits.
    a_plus, a_minus : int
        Potentiation and depression amplitudes, 0..15.
    rate_shift : int
        Deterministic update: ``dw = (a * trace) >> rate_shift``, 0..trace_bits + 4.
    stochastic : bool
        Stochastic (SC) update instead (module docstring).
    update_source : str
        ``"lfsr"`` or ``"sobol"``: the stochastic update's random source.
    threshold : int or None
        Firing threshold, 1..2**(v_width-1)-1 (default ``n_inputs * 2**B / 2``, capped).
    leak_shift : int
        Membrane leak ``v >> leak_shift`` per step, 0..v_width-1 (0: none).
    v_width : int
        Membrane width (signed), 8..24.
    seed : int
        Encoder LFSR seed, 1..65535.
    update_seed : int or None
        Update LFSR seed 1..65535 (default 0xACE1), or Sobol dimension 1..1024 (default 1).
    weight_seed : int
        Seed of the default initial weights.
    faults : FaultMap or None
        Stuck cells and offsets of the weight memory (:mod:`.faults`).
    """
    n_inputs: int = 16
    n_neurons: int = 4
    length: int = 64
    width: int = 8
    weight_bits: int = 8
    weights: tuple | None = None
    w_min: int | None = None
    w_max: int | None = None
    trace_bits: int = 8
    tau_pre_shift: int = 3
    tau_post_shift: int = 3
    a_plus: int = 4
    a_minus: int = 5
    rate_shift: int = 8
    stochastic: bool = False
    update_source: str = "lfsr"
    threshold: int | None = None
    leak_shift: int = 3
    v_width: int = 16
    seed: int = 1
    update_seed: int | None = None
    weight_seed: int = 0
    faults: FaultMap | None = field(default=None, compare=True)

    def __post_init__(self):
        check_int("n_inputs", self.n_inputs, 1, MAX_INPUTS)
        check_int("n_neurons", self.n_neurons, 1, MAX_NEURONS)
        check_int("length", self.length, 1, MAX_LENGTH)
        check_int("width", self.width, 1, 12)
        check_int("weight_bits", self.weight_bits, 2, 12)
        top = (1 << self.weight_bits) - 1
        if self.w_min is None:
            object.__setattr__(self, "w_min", 0)
        if self.w_max is None:
            object.__setattr__(self, "w_max", top)
        check_int("w_min", self.w_min, 0, top)
        check_int("w_max", self.w_max, self.w_min, top)
        check_int("trace_bits", self.trace_bits, 2, 12)
        check_int("tau_pre_shift", self.tau_pre_shift, 1, self.trace_bits)
        check_int("tau_post_shift", self.tau_post_shift, 1, self.trace_bits)
        check_int("a_plus", self.a_plus, 0, 15)
        check_int("a_minus", self.a_minus, 0, 15)
        check_int("rate_shift", self.rate_shift, 0, self.trace_bits + 4)
        if not isinstance(self.stochastic, (bool, np.bool_)):
            raise ParameterError(f"stochastic must be True or False, got {self.stochastic!r}")
        object.__setattr__(self, "stochastic", bool(self.stochastic))
        check_choice("update_source", self.update_source, UPDATE_SOURCES)
        check_int("v_width", self.v_width, 8, 24)
        check_int("leak_shift", self.leak_shift, 0, self.v_width - 1)
        hi = signed_range(self.v_width)[1]
        if self.threshold is None:
            object.__setattr__(self, "threshold", min(hi, max(1, self.n_inputs * (top + 1) // 2)))
        check_int("threshold", self.threshold, 1, hi)
        check_int("seed", self.seed, 1, (1 << LFSR_WIDTH) - 1)
        if self.update_seed is None:
            object.__setattr__(self, "update_seed", 0xACE1 if self.update_source == "lfsr" else 1)
        if self.update_source == "lfsr":
            check_int("update_seed", self.update_seed, 1, (1 << LFSR_WIDTH) - 1)
        else:
            check_int("update_seed", self.update_seed, 1, 1024)
        check_seed("weight_seed", self.weight_seed)
        shape = (self.n_neurons, self.n_inputs)
        if self.weights is None:
            rng = np.random.default_rng(self.weight_seed)
            object.__setattr__(self, "weights", rng.integers(self.w_min, self.w_max + 1, shape))
        w = np.asarray(self.weights)
        if w.shape != shape or not np.issubdtype(w.dtype, np.integer):
            raise ParameterError(f"weights must be integers of shape (n_neurons, n_inputs) = "
                                 f"{shape}, got {w.dtype} {w.shape}")
        if w.min() < 0 or w.max() > top:
            raise ParameterError(f"weights must be in 0..{top} (weight_bits = {self.weight_bits})")
        object.__setattr__(self, "weights", tuple(tuple(int(x) for x in r) for r in w))
        if self.faults is not None:
            if not isinstance(self.faults, FaultMap):
                raise ParameterError(f"faults must be a FaultMap, got {type(self.faults).__name__}")
            if self.faults.shape != shape or self.faults.bits != self.weight_bits:
                raise ParameterError(f"faults must be a FaultMap of shape {shape} and "
                                     f"{self.weight_bits} bits, got {self.faults.shape}, "
                                     f"{self.faults.bits} bits")

    # -- derived quantities both sides use ----------------------------------------------------
    @property
    def shape(self):
        return (self.n_neurons, self.n_inputs)

    @property
    def t_max(self):
        return (1 << self.trace_bits) - 1

    @property
    def fault_map(self):
        """The fault map (a clean one if none was given)."""
        return self.faults or FaultMap.none(self.shape, self.weight_bits)

    @property
    def initial_weights(self):
        """What the weight memory holds after configuration: the stuck cells applied."""
        return self.fault_map.stored(np.asarray(self.weights, np.int64))

    @property
    def encoder(self):
        return LFSRParams(LFSR_WIDTH, self.seed)

    @property
    def update(self):
        if self.update_source == "lfsr":
            return LFSRParams(LFSR_WIDTH, self.update_seed)
        return SobolParams(self.trace_bits, self.update_seed, LFSR_WIDTH)

    @property
    def v_range(self):
        return signed_range(self.v_width)

    @property
    def current_bits(self):
        """Unsigned bits of the largest current ``n_inputs * (2**B - 1)``."""
        return (self.n_inputs * ((1 << self.weight_bits) - 1)).bit_length()

    def with_faults(self, faults):
        """The same layer with another fault map."""
        return _replace(self, faults=faults)

    def with_weights(self, weights):
        return _replace(self, weights=np.asarray(weights, np.int64))


def _replace(params, **kw):
    values = {f: getattr(params, f) for f in params.__dataclass_fields__}
    values.update(kw)
    return STDPParams(**values)


@dataclass(frozen=True)
class Flip:
    """A transient fault: flip ``bit`` of a stored weight ``w[neuron, input]``
    (``target="weight"``) or of neuron ``neuron``'s membrane (``target="v"``, ``input``
    unused) just before time step ``step`` of an epoch."""
    step: int
    target: str
    neuron: int
    bit: int
    input: int = 0


def check_flip(params: STDPParams, f: Flip):
    check_int("step", f.step, 0, params.length - 1)
    check_choice("target", f.target, ("weight", "v"))
    check_int("neuron", f.neuron, 0, params.n_neurons - 1)
    check_int("input", f.input, 0, params.n_inputs - 1)
    check_int("bit", f.bit, 0, (params.weight_bits if f.target == "weight" else params.v_width) - 1)
    return f


def _leapt(source: LFSRParams, visits, shift):
    """Top bits (``>> shift``) of an LFSR leapt :data:`LEAP` steps per visit, visits 0..n-1."""
    period = source.period
    seq = lfsr_sequence(source, period)
    return seq[(np.arange(visits, dtype=np.int64) * LEAP) % period] >> shift


def encoder_values(params: STDPParams):
    """``R`` of every encoder visit, int64 (length, n_inputs)."""
    r = _leapt(params.encoder, params.length * params.n_inputs, LFSR_WIDTH - params.width)
    return r.reshape(params.length, params.n_inputs)


def update_values(params: STDPParams):
    """``R'`` of every update visit, int64 (length, n_neurons, n_inputs)."""
    n = params.length * params.n_neurons * params.n_inputs
    if params.update_source == "lfsr":
        r = _leapt(params.update, n, LFSR_WIDTH - params.trace_bits)
    else:
        r = sobol_sequence(params.update, n)
    return r.reshape(params.length, params.n_neurons, params.n_inputs)


def check_rates(params: STDPParams, rates):
    r = np.asarray(rates)
    if r.shape != (params.n_inputs,) or not np.issubdtype(r.dtype, np.integer):
        raise ParameterError(f"rates must be {params.n_inputs} integers, got {r.dtype} {r.shape}")
    if r.min() < 0 or r.max() > (1 << params.width):
        raise ParameterError(f"rates must be in 0..{1 << params.width} (width = {params.width})")
    return r.astype(np.int64)


def quantize_rates(params: STDPParams, x):
    """Real inputs in [0, 1] as integer rates ``floor(x * 2**W + 1/2)``."""
    x = np.asarray(x, np.float64)
    if not np.all((x >= 0) & (x <= 1)):
        raise ParameterError("input values must be in [0, 1]")
    return np.floor(x * (1 << params.width) + 0.5).astype(np.int64)


class Epoch(NamedTuple):
    weights: np.ndarray        # int64 (n_neurons, n_inputs): the weight memory after the epoch
    counts: np.ndarray         # int64 (n_neurons,): spikes of each neuron
    spikes: np.ndarray         # uint8 (length, n_neurons)
    pre: np.ndarray            # uint8 (length, n_inputs): the encoded inputs


def run_epoch(params: STDPParams, weights, rates, flips=()):
    """One epoch from the weight memory ``weights`` on integer ``rates`` (module docstring).

    The time loop is vectorised over every neuron and synapse (a few array operations a step).
    """
    p = params
    w = np.array(weights, dtype=np.int64)
    if w.shape != p.shape:
        raise ParameterError(f"weights must have shape {p.shape}, got {w.shape}")
    rates = check_rates(p, rates)
    flips = sorted((check_flip(p, f) for f in flips), key=lambda f: f.step)
    fmap = p.fault_map
    lo, hi = p.v_range
    pre = (encoder_values(p) < rates).astype(np.uint8)
    upd = update_values(p) if p.stochastic else None
    x = np.zeros(p.n_inputs, np.int64)
    y = np.zeros(p.n_neurons, np.int64)
    v = np.zeros(p.n_neurons, np.int64)
    spikes = np.zeros((p.length, p.n_neurons), np.uint8)
    vmask = (1 << p.v_width) - 1
    fi = 0
    for t in range(p.length):
        while fi < len(flips) and flips[fi].step == t:
            f = flips[fi]
            if f.target == "weight":
                w[f.neuron, f.input] ^= 1 << f.bit
            else:                               # flip in the two's-complement register
                u = (int(v[f.neuron]) & vmask) ^ (1 << f.bit)
                v[f.neuron] = u - (1 << p.v_width) if u >> (p.v_width - 1) else u
            fi += 1
        s = pre[t].astype(np.int64)
        x = np.where(s == 1, p.t_max, x - (x >> p.tau_pre_shift))
        current = fmap.effective(w) @ s
        leak = (v >> p.leak_shift) if p.leak_shift else 0
        u = np.clip(v - leak + current, lo, hi)
        post = (u >= p.threshold).astype(np.int64)
        v = np.where(post == 1, 0, u)
        spikes[t] = post
        if p.stochastic:
            r = upd[t]
            dp = p.a_plus * (r < x[None, :])
            dd = p.a_minus * (r < y[:, None])
        else:
            dp = np.broadcast_to((p.a_plus * x) >> p.rate_shift, p.shape)
            dd = np.broadcast_to(((p.a_minus * y) >> p.rate_shift)[:, None], p.shape)
        w = fmap.stored(np.clip(w + post[:, None] * dp - s[None, :] * dd, p.w_min, p.w_max))
        y = np.where(post == 1, p.t_max, y - (y >> p.tau_post_shift))
    return Epoch(w, spikes.sum(0).astype(np.int64), spikes, pre)


class STDPLayer:
    """The golden model with state: the weight memory carried from epoch to epoch."""

    def __init__(self, params: STDPParams):
        self.params = params
        self.weights = params.initial_weights

    def run_epoch(self, rates, flips=()):
        epoch = run_epoch(self.params, self.weights, rates, flips)
        self.weights = epoch.weights
        return epoch

    def train(self, rates_list, flips=None):
        """Epochs on each row of ``rates_list``; ``flips``: per epoch, a sequence of
        :class:`Flip` (or None). Returns the list of :class:`Epoch`."""
        flips = flips or [()] * len(rates_list)
        return [self.run_epoch(r, f) for r, f in zip(rates_list, flips)]


# ------------------------------------------------------------------------------ the op's CLI

# (flag, field, type, default, help[, choices]) of ``scfpga gen|model|sim stdp``.
OPTIONS = (
    ("--inputs", "n_inputs", int, 16, "inputs, 1..64"),
    ("--neurons", "n_neurons", int, 4, "neurons, 1..16"),
    ("--length", "length", int, 64, "time steps per epoch, 1..4096"),
    ("--width", "width", int, 8, "input rate bits, 1..12"),
    ("--weight-bits", "weight_bits", int, 8, "unsigned weight bits, 2..12"),
    ("--trace-bits", "trace_bits", int, 8, "trace bits, 2..12"),
    ("--tau-pre", "tau_pre_shift", int, 3, "pre trace decay shift (potentiation window)"),
    ("--tau-post", "tau_post_shift", int, 3, "post trace decay shift (depression window)"),
    ("--a-plus", "a_plus", int, 4, "potentiation amplitude, 0..15"),
    ("--a-minus", "a_minus", int, 5, "depression amplitude, 0..15"),
    ("--rate-shift", "rate_shift", int, 8, "deterministic update dw = (a * trace) >> rate_shift"),
    ("--update", "update", str, "deterministic", "weight update rule",
     ("deterministic", "stochastic")),
    ("--update-source", "update_source", str, "lfsr", "stochastic update source", UPDATE_SOURCES),
    ("--update-seed", "update_seed", int, None, "update LFSR seed (default 0xACE1), or Sobol "
     "dimension (default 1)"),
    ("--threshold", "threshold", int, None, "firing threshold (default n_inputs * 2**B / 2)"),
    ("--leak-shift", "leak_shift", int, 3, "membrane leak shift, 0: none"),
    ("--seed", "seed", int, 1, "encoder LFSR seed, 1..65535"),
    ("--weight-seed", "weight_seed", int, 0, "seed of the random initial weights"),
    ("--stuck-rate", "stuck_rate", float, 0.0, "fraction of synapses stuck at 0 or at 1, [0, 1]"),
    ("--fault-seed", "fault_seed", int, 0, "seed of the fault map"),
)


def from_options(v):
    """:class:`STDPParams` from the option values (``update``, ``stuck_rate``, ``fault_seed``
    become ``stochastic`` and a fault map)."""
    v = dict(v)
    stochastic = v.pop("update") == "stochastic"
    rate, fseed = v.pop("stuck_rate"), v.pop("fault_seed")
    params = STDPParams(stochastic=stochastic, **v)
    if rate:
        params = params.with_faults(stuck_at_map(params.shape, params.weight_bits, rate, fseed))
    return params


def model_lines(params, x, stim_seed):
    """Per epoch, each neuron's spike count (space-separated). ``x``: rates in [0, 1]
    (epochs, inputs); default: 4 seeded random epochs."""
    if x is None:
        x = np.random.default_rng(stim_seed).random((4, params.n_inputs))
    x = np.atleast_2d(np.asarray(x, np.float64))
    if x.ndim != 2 or x.shape[1] != params.n_inputs:
        raise ParameterError(f"x must have shape (epochs, {params.n_inputs}), got {x.shape}")
    epochs = STDPLayer(params).train([quantize_rates(params, r) for r in x])
    return [" ".join(str(int(c)) for c in e.counts) for e in epochs]
