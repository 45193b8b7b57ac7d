"""Predictive coding on bitstreams: XOR error streams, popcount magnitude, fixed-point update.

sc_neurocore's ``PredictiveCodingSCLayer``: ``n_neurons`` neurons each predict every one of
``n_inputs`` input probabilities with a weight ``w_ji`` in [0, 1]. One step (one run of
``length`` cycles) on input thresholds ``x_i``:

* input stream ``a_i[t] = R_a[t] < x_i``, prediction stream ``p_ji[t] = R_p[t] < (w_ji >> frac)``;
* error stream ``e_ji[t] = a_i[t] XOR p_ji[t]`` (one gate, no multiplier), its popcount
  ``E_ji`` the error magnitude; per neuron ``err_j = sum_i E_ji``, the surprise is
  ``err_j / (length n_inputs)`` and the layer's prediction error the mean surprise;
* after the run every weight moves toward the measured input probability, in fixed point:
  ``ones_i = sum_t a_i[t]``, target ``tgt_i = ones_i << (width + frac - log2 length)`` and

      w'_ji = w_ji + ((lr (tgt_i - w_ji)) >> lr_shift)          (``>>`` floors)

  which never leaves ``0..2**(width + frac)`` (``0 <= lr <= 2**lr_shift``), so no clipping.

Weights are ``width + frac`` bits (units ``2**-(width + frac)``): the ``frac`` bits below the
comparator keep small learning rates from rounding every update to zero. ``length`` is a power
of two so the target needs no divider.

Streams (``streams``): ``"independent"`` (sc_neurocore's Bernoulli statistics: ``E[E_ji] / L =
x + w - 2 x w``) takes ``R_a`` and ``R_p`` from :func:`.stream_pair.source_pair`;
``"shared"`` drives both from ``R_a``, so over a Sobol period ``E_ji / L = |x_i - w_ji|`` (the
XOR of two comparators of one source marks exactly the values between the two thresholds).

Time convention of a run (see :mod:`scfpga.hdl.predictive`): the sources and counts restart at
every run; the weights update on the edge that consumes the run's last cycle, so during a run
the RTL shows the weights the run predicts with.
"""
from dataclasses import dataclass

import numpy as np

from .params import ParameterError, check_choice, check_int, check_thresholds
from .sources import source_sequence
from .stream_pair import check_pair, source_pair

MAX_SIZE = 16
MAX_LENGTH = 1 << 20
STREAMS = ("independent", "shared")


@dataclass(frozen=True)
class PredictiveParams:
    """A predictive-coding layer of fixed shape.

    Parameters
    ----------
    n_inputs, n_neurons : int
        1..16 each.
    weights : tuple of tuple of int or None
        Initial weights (n_neurons x n_inputs) in ``0..2**(width + frac)``; ``None``: all 0.5.
    length : int
        Bitstream length L per step, a power of two 1..2**20 with ``log2 L <= width + frac``.
    width : int
        Comparator width W, 3..16 (input thresholds ``0..2**W``).
    frac : int
        Weight bits below the comparator, 0..16.
    lr, lr_shift : int
        Learning rate ``lr / 2**lr_shift``: ``lr_shift`` 0..16, ``lr`` 0..2**lr_shift.
    streams : str
        ``"independent"`` or ``"shared"`` (module docstring).
    source : str
        ``"sobol"`` or ``"lfsr"``.
    seed : int or None
        LFSR start state of ``R_a`` (``None``: a dense default).
    sobol_dim : int
        Sobol dimension of ``R_a`` (``R_p``: the next).
    """
    n_inputs: int = 4
    n_neurons: int = 4
    weights: tuple | None = None
    length: int = 256
    width: int = 8
    frac: int = 8
    lr: int = 10
    lr_shift: int = 10
    streams: str = "independent"
    source: str = "sobol"
    seed: int | None = None
    sobol_dim: int = 1

    def __post_init__(self):
        check_int("n_inputs", self.n_inputs, 1, MAX_SIZE)
        check_int("n_neurons", self.n_neurons, 1, MAX_SIZE)
        check_int("width", self.width, 3, 16)
        check_int("frac", self.frac, 0, 16)
        check_int("length", self.length, 1, MAX_LENGTH)
        if self.length & (self.length - 1) or self.log_length > self.weight_bits:
            raise ParameterError(f"length must be a power of two 1..2**(width + frac) = "
                                 f"{min(1 << self.weight_bits, MAX_LENGTH)}, got {self.length}")
        check_int("lr_shift", self.lr_shift, 0, 16)
        check_int("lr", self.lr, 0, 1 << self.lr_shift)
        check_choice("streams", self.streams, STREAMS)
        object.__setattr__(self, "seed", check_pair(self.source, self.width, self.seed,
                                                    self.sobol_dim))
        w = self.weights
        if w is None:
            w = np.full((self.n_neurons, self.n_inputs), 1 << (self.weight_bits - 1))
        w = np.asarray(w)
        if w.shape != (self.n_neurons, self.n_inputs) or not np.issubdtype(w.dtype, np.integer) \
                or w.min() < 0 or w.max() > self.one:
            raise ParameterError(f"weights must be integers in 0..{self.one} of shape "
                                 f"(n_neurons, n_inputs) = ({self.n_neurons}, {self.n_inputs})")
        object.__setattr__(self, "weights", tuple(tuple(int(v) for v in row) for row in w))

    @classmethod
    def from_float(cls, weights, length=256, lr=0.01, width=8, frac=8, lr_shift=10, **kw):
        """Quantise real initial weights in [0, 1] (n_neurons x n_inputs) and a real ``lr`` in
        [0, 1] once: ``floor(v * 2**bits + 1/2)``."""
        w = np.asarray(weights, np.float64)
        if w.ndim != 2 or not np.all((w >= 0) & (w <= 1)):
            raise ParameterError(f"weights must be a 2-D array (n_neurons, n_inputs) in [0, 1], "
                                 f"got shape {w.shape}")
        lr = float(lr)
        if not 0 <= lr <= 1:
            raise ParameterError(f"lr must be in [0, 1], got {lr}")
        bits = check_int("width", width, 3, 16) + check_int("frac", frac, 0, 16)
        q = np.floor(w * float(1 << bits) + 0.5).astype(np.int64)
        lr_q = int(np.floor(lr * (1 << check_int("lr_shift", lr_shift, 0, 16)) + 0.5))
        return cls(w.shape[1], w.shape[0], q, length, width, frac, lr_q, lr_shift, **kw)

    @property
    def weight_bits(self):
        return self.width + self.frac

    @property
    def one(self):
        """The weight meaning 1.0."""
        return 1 << self.weight_bits

    @property
    def log_length(self):
        return self.length.bit_length() - 1

    @property
    def sources(self):
        """``(R_a, R_p)``: the input and the prediction source (one source when shared)."""
        a, p = source_pair(self.source, self.width, self.seed, self.sobol_dim)
        return (a, a) if self.streams == "shared" else (a, p)

    @property
    def error_width(self):
        """Bits of a neuron's error count ``err_j`` (up to ``length * n_inputs``)."""
        return (self.length * self.n_inputs).bit_length()


def initial_weights(n_inputs, n_neurons, seed=0):
    """sc_neurocore's initial prediction weights: ``RandomState(seed).uniform(0.1, 0.9)``,
    shape (n_neurons, n_inputs), floats (quantise with :meth:`PredictiveParams.from_float`)."""
    rng = np.random.RandomState(check_int("seed", seed, 0, 2**32 - 1))
    return rng.uniform(0.1, 0.9, (check_int("n_neurons", n_neurons, 1, MAX_SIZE),
                                  check_int("n_inputs", n_inputs, 1, MAX_SIZE)))


def check_weights(params, w):
    w = np.asarray(params.weights if w is None else w)
    if w.shape[-2:] != (params.n_neurons, params.n_inputs) or \
            not np.issubdtype(w.dtype, np.integer) or w.min() < 0 or w.max() > params.one:
        raise ParameterError(f"weights must be integers in 0..{params.one} of shape (..., "
                             f"{params.n_neurons}, {params.n_inputs})")
    return w.astype(np.int64)


def stream_bits(params: PredictiveParams, x, w=None):
    """Input and prediction streams: bool (..., n_inputs, L) and (..., n_neurons, n_inputs, L)."""
    x, w = check_thresholds(x, params.n_inputs, params.width), check_weights(params, w)
    r_a, r_p = (source_sequence(s, params.length) for s in params.sources)
    return r_a < x[..., None], r_p < (w >> params.frac)[..., None]


def error_bits(params: PredictiveParams, x, w=None):
    """Per-cycle increments of ``err_j`` (int64 (..., n_neurons, L)) and the input bits
    (..., n_inputs, L): the RTL's view, cycle by cycle."""
    a, p = stream_bits(params, x, w)
    return (a[..., None, :, :] ^ p).sum(-2, dtype=np.int64), a


def error_counts(params: PredictiveParams, x, w=None):
    """``(E, ones)``: XOR popcounts int64 (..., n_neurons, n_inputs) and input ones
    (..., n_inputs) of one run, on packed bits."""
    a, p = stream_bits(params, x, w)
    pa = np.packbits(a, axis=-1)
    e = np.bitwise_count(pa[..., None, :, :] ^ np.packbits(p, axis=-1)).sum(-1, dtype=np.int64)
    return e, np.bitwise_count(pa).sum(-1, dtype=np.int64)


def update(params: PredictiveParams, w, ones):
    """Weights after a run whose input ones-counts were ``ones`` (module docstring)."""
    w = check_weights(params, w)
    target = np.asarray(ones, np.int64) << (params.weight_bits - params.log_length)
    return w + ((params.lr * (target[..., None, :] - w)) >> params.lr_shift)


@dataclass(frozen=True)
class PredictiveStep:
    """One step: ``errors`` (..., n_neurons), ``error_terms`` E_ji, input ``ones``, and the
    weights the step predicted with (``predicted``) and after its update (``weights``)."""
    errors: np.ndarray
    error_terms: np.ndarray
    ones: np.ndarray
    predicted: np.ndarray
    weights: np.ndarray


def predictive_step(params: PredictiveParams, x, w=None):
    """One run on input thresholds ``x`` (..., n_inputs) with weights ``w`` (default: the
    initial ones); see :class:`PredictiveStep`."""
    w = check_weights(params, w)
    e, ones = error_counts(params, x, w)
    return PredictiveStep(e.sum(-1), e, ones, w, update(params, w, ones))


def predictive_run(params: PredictiveParams, xs, w=None):
    """``(errors, weights)`` over steps: ``xs`` (T, ..., n_inputs) gives errors (T, ...,
    n_neurons) and the weights before each step and after the last, (T + 1, ..., n_neurons,
    n_inputs). A time loop vectorised over the batch."""
    xs = check_thresholds(xs, params.n_inputs, params.width)
    w = np.broadcast_to(check_weights(params, w),
                        xs.shape[1:-1] + (params.n_neurons, params.n_inputs))
    errors, weights = [], [w]
    for x in xs:
        s = predictive_step(params, x, w)
        errors.append(s.errors)
        w = s.weights
        weights.append(w)
    return np.stack(errors) if errors else np.zeros((0,) + w.shape[:-1], np.int64), \
        np.stack(weights)


def predictive_float(x, w, lr, streams="independent"):
    """Float reference of one step: expected surprise per neuron (..., n_neurons) and the
    updated weights, for real inputs ``x`` (..., n_inputs) and weights ``w`` (..., n_neurons,
    n_inputs) in [0, 1]."""
    x, w = np.asarray(x, np.float64)[..., None, :], np.asarray(w, np.float64)
    e = np.abs(x - w) if streams == "shared" else x + w - 2 * x * w
    return e.mean(-1), w + lr * (x - w)
