"""sc_neurocore's ``PredictiveCodingSCLayer`` and ``SCRecurrentLayer`` on scfpga's golden model
(re-exported by :mod:`scfpga.layers`; the conventions there apply).

Both step once per hardware run of ``length`` cycles and keep state between steps (learned
prediction weights; the reservoir's state delay line) exactly as the RTL does, so a sequence of
``forward``/``step`` calls equals the same sequence of runs of the generated hardware
(ops ``predictive`` and ``recurrent``).
"""
import numpy as np

from .model.params import ParameterError, check_int
from .model.predictive import (PredictiveParams, initial_weights, predictive_step)
from .model.recurrent import (RecurrentParams, next_state, recurrent_acc, reservoir_weights,
                              shift_history)
from .model.sng import quantize_unipolar


def _seed(seed):
    return 0 if seed is None else check_int("seed", seed, 0, 2**32 - 1)


def _probabilities(name, values, n):
    x = np.asarray(values, np.float64)
    if x.shape != (n,) or not np.isfinite(x).all():
        raise ParameterError(f"{name} must be {n} finite numbers, got shape {x.shape}")
    return x


class PredictiveCodingSCLayer:
    """Predictive coding with sc_neurocore's call shape: ``forward(inputs)`` -> dict.

    Parameters
    ----------
    n_inputs, n_neurons : int
        1..16 each.
    length : int
        Bitstream length per step, a power of two (default 256).
    lr : float
        Learning rate in [0, 1], realised as ``round(lr * 2**lr_shift) / 2**lr_shift``.
    seed : int or None
        Seeds the initial weights (sc_neurocore's draw, ``RandomState(seed).uniform(0.1,
        0.9)``; ``None`` means 0 here).
    width, frac, lr_shift, streams, source
        Fixed point and streams of the hardware (:class:`~scfpga.model.predictive.
        PredictiveParams`).

    Attributes
    ----------
    params : PredictiveParams
        The op the RTL is generated from (its ``weights`` are the initial ones).

    Notes
    -----
    ``forward`` is one run of the bit-exact model (:mod:`scfpga.model.predictive`); differences
    from sc_neurocore forced by bit-exactness:

    * Streams are comparator streams of two Sobol (or LFSR) sources, not fresh Bernoulli draws
      on every call: the same inputs and weights give the same error. With the default
      ``streams="independent"`` the expected error is sc_neurocore's, ``x + w - 2 x w`` per
      pair; ``"shared"`` makes it ``|x - w|``.
    * Inputs (clipped to [0, 1] as in sc_neurocore) are quantised to ``width`` bits, weights
      to ``width + frac`` bits; the update uses the popcount of the input stream as the
      measured probability, as sc_neurocore does, in fixed point with a floored step, so the
      weights stay in [0, 1] without clipping.
    * ``length`` must be a power of two (the update's scaling is a shift).
    """

    def __init__(self, n_inputs, n_neurons, length=256, lr=0.01, seed=None, *, width=8,
                 frac=8, lr_shift=12, streams="independent", source="sobol"):
        self.n_inputs, self.n_neurons, self.length, self.lr = n_inputs, n_neurons, length, lr
        self.seed = seed
        self.params = PredictiveParams.from_float(
            initial_weights(n_inputs, n_neurons, _seed(seed)), length, lr, width, frac,
            lr_shift, streams=streams, source=source)
        self.reset()

    def reset(self):
        """Back to the initial weights."""
        self._w = np.array(self.params.weights, np.int64)

    @property
    def weights(self):
        """The current prediction weights as floats (n_neurons, n_inputs) (a copy)."""
        return self._w / self.params.one

    def forward(self, inputs):
        """One step: ``prediction_error`` (float, mean surprise), ``surprises`` (n_neurons,)
        and ``predictions`` (n_neurons, n_inputs), the weights this step predicted with."""
        x = np.clip(_probabilities("inputs", inputs, self.n_inputs), 0.0, 1.0)
        s = predictive_step(self.params, quantize_unipolar(x, self.params.width), self._w)
        self._w = s.weights
        surprises = s.errors / (self.params.length * self.n_inputs)
        return {"prediction_error": float(surprises.mean()), "surprises": surprises,
                "predictions": s.predicted / self.params.one}


class SCRecurrentLayer:
    """Echo-state reservoir with sc_neurocore's call shape: ``step(input_vector)`` -> state.

    Parameters
    ----------
    n_inputs, n_neurons : int
        1..16 inputs, 1..32 neurons.
    feedback_strength : float
        Accepted for the call shape; unused, as in sc_neurocore 3.16.
    input_strength, spectral_radius : float
        Input weight scale and the spectral radius ``W_rec`` is scaled to
        (:func:`~scfpga.model.recurrent.reservoir_weights`).
    length : int
        Cycles per step, a power of two (default 1024).
    seed : int or None
        Seeds the weights (``None`` means 0 here).
    width : int or None
        Comparator width (default ``max(8, log2 length)``).
    signed : bool
        Draw signed weights ``U(-1, 1)`` instead of sc_neurocore's non-negative ones.
    feedback_delay, source
        See :class:`~scfpga.model.recurrent.RecurrentParams`.

    Attributes
    ----------
    params : RecurrentParams
    W_in, W_rec : ndarray
        The realised (quantised) weights.
    state : ndarray
        The newest state (n_neurons,) in [0, 1].

    Notes
    -----
    ``step`` is one run of the bit-exact model (:mod:`scfpga.model.recurrent`): the state is
    ``clip(acc / L, 0, 1)`` with ``acc`` the SC accumulation of ``W_in x + W_rec s``.
    Differences from sc_neurocore:

    * ``W_rec`` is scaled to ``spectral_radius`` (sc_neurocore cites the bound but draws
      ``U(0, 0.2)`` unscaled); the draws are otherwise sc_neurocore's for the same seed.
    * Weights are sign-magnitude ``width``-bit values, inputs are quantised and must be in
      [0, 1] (streams), states are counts ``0..L``, so they are multiples of ``1 / L``.
    * The products are SC estimates, not exact dot products (error about ``sqrt(terms / L)``
      with LFSR streams and less with Sobol); the same call sequence gives the same states as
      the hardware.
    """

    def __init__(self, n_inputs, n_neurons, feedback_strength=0.5, input_strength=0.5,
                 spectral_radius=0.9, length=1024, seed=None, *, width=None, signed=False,
                 feedback_delay=1, source="sobol"):
        length = check_int("length", length, 1, 1 << 16)
        if width is None:
            width = max(8, (length - 1).bit_length())
        w_in, w_rec = reservoir_weights(n_inputs, n_neurons, _seed(seed), input_strength,
                                        spectral_radius, signed)
        self.params = RecurrentParams.from_float(w_in, w_rec, length, width,
                                                 feedback_delay=feedback_delay, source=source)
        self.n_inputs, self.n_neurons, self.length = n_inputs, n_neurons, length
        self.feedback_strength = float(feedback_strength)
        self.input_strength, self.spectral_radius = float(input_strength), float(spectral_radius)
        one = float(1 << width)
        self.W_in = np.array(self.params.w_in) / one
        self.W_rec = np.array(self.params.w_rec) / one
        self.reset()

    def reset(self):
        """Zero state (the hardware's reset)."""
        self._history = np.zeros((self.params.feedback_delay, self.n_neurons), np.int64)

    @property
    def state(self):
        return self._history[0] / self.length

    def step(self, input_vector):
        """One step on ``input_vector`` (n_inputs,) in [0, 1]; returns the new state
        (n_neurons,) in [0, 1]."""
        x = _probabilities("input_vector", input_vector, self.n_inputs)
        if not ((x >= 0) & (x <= 1)).all():
            raise ParameterError("input_vector must be in [0, 1] (SC streams)")
        acc = recurrent_acc(self.params, quantize_unipolar(x, self.params.width),
                            self._history[-1])
        self._history = shift_history(self._history, next_state(self.params, acc))
        return self.state

    def run(self, inputs):
        """States (T, n_neurons) of consecutive steps on ``inputs`` (T, n_inputs)."""
        return np.stack([self.step(x) for x in np.asarray(inputs, np.float64)])
