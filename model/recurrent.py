"""SC recurrent layer (echo-state reservoir): the state fed back as streams, one run per step.

Float semantics (:func:`reservoir_float`, sc_neurocore's ``SCRecurrentLayer.step``) for inputs
``x`` in [0, 1] (n_inputs), input weights ``W_in`` and recurrent weights ``W_rec``:

    s' = clip(W_in x + W_rec s_fb, 0, 1)

where ``s_fb`` is the fed-back state. Its timing is :attr:`RecurrentParams.feedback_delay`
``d`` and is defined here once for model and RTL: the states form a delay line of ``d``
vectors, newest first, all zero after reset; step ``n`` reads the oldest entry (the state
after step ``n - d``, zero while ``n < d``) and then shifts its own result in at the front
(:func:`shift_history`). ``d = 1`` is the usual reservoir, ``s_{n+1} = f(x_n, s_n)``.

Spectral-radius scaling (Jaeger, GMD Report 148, 2001, as sc_neurocore cites):
:func:`reservoir_weights` draws ``W_rec`` and scales it to spectral radius
``spectral_radius`` (default 0.9), so the echo-state property holds for the linear part.

Bitstream semantics (:func:`recurrent_acc`, the RTL's): ``length`` L = ``2**lg`` cycles per
step, two sources from :func:`.stream_pair.source_pair`, the data source ``R_a`` and the
weight source ``R_w``. Data streams: ``x_i`` compares its threshold ``0..2**width``, the
fed-back state ``s_k`` (a count ``0..L``) compares ``s_k << (width - lg)``; weight streams
compare ``|w|`` (sign-magnitude, ``width`` bits) against ``R_w``. Per cycle neuron ``j`` adds
``sum_t sign(w_jt) (data_t AND weight_jt)`` over its ``n_inputs + n_neurons`` terms; over the
step that accumulator ``acc_j`` estimates ``L (W_in x + W_rec s_fb)_j`` and the new state is
``clip(acc_j, 0, L)``: a count, so the state means ``count / L`` and needs no divider.

Time convention of a step (see :mod:`scfpga.hdl.recurrent`): sources and accumulators restart
at every run; the state delay line shifts on the edge that consumes the run's last cycle.
"""
from dataclasses import dataclass

import numpy as np

from .dense import quantize_weights
from .params import ParameterError, check_int, check_thresholds
from .sources import source_sequence
from .stream_pair import check_pair, source_pair

MAX_INPUTS = 16
MAX_NEURONS = 32
MAX_DELAY = 4


def reservoir_weights(n_inputs, n_neurons, seed=0, input_strength=0.5, spectral_radius=0.9,
                      signed=False):
    """Float ``(W_in, W_rec)`` of a reservoir. ``signed=False``: sc_neurocore's draws
    (``RandomState(seed)``: ``W_in ~ U(0, 1) input_strength``, ``W_rec ~ U(0, 0.2)``);
    ``signed=True``: both ``U(-1, 1)`` (``W_in`` times ``input_strength``). ``W_rec`` is then
    scaled to spectral radius ``spectral_radius``."""
    n, m = check_int("n_neurons", n_neurons, 1), check_int("n_inputs", n_inputs, 1)
    rng = np.random.RandomState(check_int("seed", seed, 0, 2**32 - 1))
    lo = -1.0 if signed else 0.0
    w_in = rng.uniform(lo, 1, (n, m)) * float(input_strength)
    w_rec = rng.uniform(lo, 1 if signed else 0.2, (n, n))
    rho = float(np.abs(np.linalg.eigvals(w_rec)).max())
    if not (np.isfinite(spectral_radius) and spectral_radius >= 0):
        raise ParameterError(f"spectral_radius must be a finite number >= 0, got {spectral_radius}")
    if rho > 0:
        w_rec = w_rec * (float(spectral_radius) / rho)
    return w_in, w_rec


@dataclass(frozen=True)
class RecurrentParams:
    """A recurrent SC layer of fixed shape.

    Parameters
    ----------
    n_inputs, n_neurons : int
        1..16 inputs, 1..32 neurons.
    w_in, w_rec : tuple of tuple of int or None
        Sign-magnitude weights in ``-2**width..2**width`` (units ``2**-width``), shapes
        (n_neurons, n_inputs) and (n_neurons, n_neurons); ``None``:
        :func:`reservoir_weights` (seed 0, sc_neurocore's draws) quantised.
    length : int
        Cycles per step L, a power of two 1..2**width.
    width : int
        Comparator width W, 3..16.
    feedback_delay : int
        Steps between a state and the run it feeds, 1..4 (module docstring: the one definition
        of the feedback timing).
    source : str
        ``"sobol"`` or ``"lfsr"``.
    seed : int or None
        LFSR start state of ``R_a`` (``None``: a dense default).
    sobol_dim : int
        Sobol dimension of ``R_a`` (``R_w``: the next).
    """
    n_inputs: int = 3
    n_neurons: int = 10
    w_in: tuple | None = None
    w_rec: tuple | None = None
    length: int = 256
    width: int = 8
    feedback_delay: int = 1
    source: str = "sobol"
    seed: int | None = None
    sobol_dim: int = 1

    def __post_init__(self):
        check_int("n_inputs", self.n_inputs, 1, MAX_INPUTS)
        check_int("n_neurons", self.n_neurons, 1, MAX_NEURONS)
        check_int("width", self.width, 3, 16)
        check_int("length", self.length, 1, 1 << self.width)
        if self.length & (self.length - 1):
            raise ParameterError(f"length must be a power of two 1..2**width = {1 << self.width}, "
                                 f"got {self.length}")
        check_int("feedback_delay", self.feedback_delay, 1, MAX_DELAY)
        object.__setattr__(self, "seed", check_pair(self.source, self.width, self.seed,
                                                    self.sobol_dim))
        if self.w_in is None or self.w_rec is None:
            w_in, w_rec = (quantize_weights(w, self.width)
                           for w in reservoir_weights(self.n_inputs, self.n_neurons))
        top = 1 << self.width
        for name, value, cols in (("w_in", self.w_in, self.n_inputs),
                                  ("w_rec", self.w_rec, self.n_neurons)):
            w = np.asarray({"w_in": w_in, "w_rec": w_rec}[name] if value is None else value)
            if w.shape != (self.n_neurons, cols) or not np.issubdtype(w.dtype, np.integer) or \
                    np.abs(w).max() > top:
                raise ParameterError(f"{name} must be integers in {-top}..{top} of shape "
                                     f"({self.n_neurons}, {cols})")
            object.__setattr__(self, name, tuple(tuple(int(v) for v in row) for row in w))

    @classmethod
    def from_float(cls, w_in, w_rec, length=256, width=8, **kw):
        """Quantise real weights in [-1, 1] once (sign-magnitude, ``width`` bits)."""
        w_in, w_rec = np.asarray(w_in, np.float64), np.asarray(w_rec, np.float64)
        if w_in.ndim != 2 or w_rec.shape != (w_in.shape[0],) * 2:
            raise ParameterError(f"w_in (n_neurons, n_inputs) and w_rec (n_neurons, n_neurons) "
                                 f"needed, got {w_in.shape} and {w_rec.shape}")
        width = check_int("width", width, 3, 16)
        return cls(w_in.shape[1], w_in.shape[0], quantize_weights(w_in, width),
                   quantize_weights(w_rec, width), length, width, **kw)

    @property
    def log_length(self):
        return self.length.bit_length() - 1

    @property
    def state_shift(self):
        """A state count ``s`` (0..L) streams as threshold ``s << state_shift``."""
        return self.width - self.log_length

    @property
    def terms(self):
        """Signed weights of every neuron's terms, int64 (n_neurons, n_inputs + n_neurons):
        inputs first, then the fed-back states."""
        return np.concatenate([np.array(self.w_in, np.int64), np.array(self.w_rec, np.int64)], 1)

    @property
    def sources(self):
        """``(R_a, R_w)``: the data and the weight source."""
        return source_pair(self.source, self.width, self.seed, self.sobol_dim)

    @property
    def acc_width(self):
        """Bits of a signed accumulator (``|acc| <= L (n_inputs + n_neurons)``)."""
        return (self.length * (self.n_inputs + self.n_neurons)).bit_length() + 1

    @property
    def state_width(self):
        return self.log_length + 1


def _bits(params, x, state):
    """Data bits (..., terms, L) and weight bits (n_neurons, terms, L), bool."""
    x = check_thresholds(x, params.n_inputs, params.width)
    s = np.asarray(state, np.int64)
    if s.shape[-1:] != (params.n_neurons,) or (s.size and (s.min() < 0 or s.max() > params.length)):
        raise ParameterError(f"state must be counts in 0..{params.length} of shape (..., "
                             f"{params.n_neurons})")
    batch = np.broadcast_shapes(x.shape[:-1], s.shape[:-1])
    thr = np.concatenate([np.broadcast_to(x, batch + x.shape[-1:]),
                          np.broadcast_to(s << params.state_shift, batch + s.shape[-1:])], -1)
    r_a, r_w = (source_sequence(src, params.length) for src in params.sources)
    return r_a < thr[..., None], r_w < np.abs(params.terms)[..., None]


def recurrent_bits(params: RecurrentParams, x, state):
    """Per-cycle accumulator increments, int64 (..., n_neurons, L), of a step on input
    thresholds ``x`` (..., n_inputs) with fed-back state counts ``state`` (..., n_neurons)."""
    data, weight = _bits(params, x, state)
    prod = data[..., None, :, :] & weight                              # (..., n, terms, L)
    return (prod * np.sign(params.terms)[..., None]).sum(-2, dtype=np.int64)


def recurrent_acc(params: RecurrentParams, x, state):
    """The step's accumulators ``acc_j``, int64 (..., n_neurons), on packed bits."""
    data, weight = _bits(params, x, state)
    ones = np.bitwise_count(np.packbits(data, axis=-1)[..., None, :, :] &
                            np.packbits(weight, axis=-1)).sum(-1, dtype=np.int64)
    return (ones * np.sign(params.terms)).sum(-1)


def next_state(params: RecurrentParams, acc):
    """The state count a step leaves: ``clip(acc, 0, L)``."""
    return np.clip(acc, 0, params.length)


def shift_history(history, new):
    """The delay line after a step (module docstring): ``new`` in front, the oldest dropped.
    ``history``: (feedback_delay, ..., n_neurons), newest first; the step read ``history[-1]``."""
    return np.concatenate([np.asarray(new)[None], history[:-1]])


def recurrent_run(params: RecurrentParams, xs):
    """``(accs, states)`` of consecutive steps from reset: ``xs`` (T, ..., n_inputs) gives
    accumulators (T, ..., n_neurons) and the state after each step (T, ..., n_neurons). A time
    loop vectorised over the batch."""
    xs = check_thresholds(xs, params.n_inputs, params.width)
    history = np.zeros((params.feedback_delay,) + xs.shape[1:-1] + (params.n_neurons,),
                       np.int64)
    accs, states = [], []
    for x in xs:
        acc = recurrent_acc(params, x, history[-1])
        history = shift_history(history, next_state(params, acc))
        accs.append(acc)
        states.append(history[0])
    shape = (0,) + xs.shape[1:-1] + (params.n_neurons,)
    return (np.stack(accs), np.stack(states)) if accs else (np.zeros(shape, np.int64),) * 2


def reservoir_float(xs, w_in, w_rec, feedback_delay=1):
    """Float reference: states (T, ..., n_neurons) for inputs ``xs`` (T, ..., n_inputs) in
    [0, 1], with the same delay line as the bitstream model."""
    xs = np.asarray(xs, np.float64)
    w_in, w_rec = np.asarray(w_in, np.float64), np.asarray(w_rec, np.float64)
    history = np.zeros((feedback_delay,) + xs.shape[1:-1] + (w_in.shape[0],))
    out = []
    for x in xs:
        s = np.clip(x @ w_in.T + history[-1] @ w_rec.T, 0, 1)
        history = shift_history(history, s)
        out.append(s)
    return np.stack(out)
