"""MUX scaled adder: each cycle one of ``n_inputs`` streams passes, chosen by a uniform source.

The select is ``sel = #{i in 1..n-1 : R >= T_i}`` with ``T_i = w_0 + ... + w_(i-1)``, the
cumulative integer weights (they sum to ``2**width``). Input ``i`` is therefore chosen with
probability ``w_i / 2**width`` and the output probability is ``sum_i w_i p_i / 2**width``: the
weighted sum (uniform weights: the mean). With a Sobol select, every aligned ``2**width`` cycles
choose input ``i`` exactly ``w_i`` times. ``bit`` during cycle k is input ``sel(k)`` during
cycle k (combinational in the inputs).
"""
from dataclasses import dataclass

import numpy as np

from .lfsr import LFSRParams
from .params import ParameterError, check_int
from .sobol import SobolParams
from .sources import source_sequence

MAX_INPUTS = 256


def uniform_weights(n_inputs, width):
    """Integer weights that split ``2**width`` as evenly as possible (they differ by at most 1)."""
    edges = [(i * (1 << width)) // n_inputs for i in range(n_inputs + 1)]
    return tuple(edges[i + 1] - edges[i] for i in range(n_inputs))


def uniform_select(value, n_inputs, width):
    """The input a select value chooses under :func:`uniform_weights`: ``#{i : value >= T_i}``.

    The one statement of the uniform split's select, in closed form ``((value + 1) * n - 1) >>
    width`` (a power-of-two ``n`` is just the top ``log2 n`` bits). ``value`` may be an int, a
    NumPy array or an Amaranth value: the model and the generators use this same expression.
    """
    if n_inputs & (n_inputs - 1) == 0:
        return value >> (width - (n_inputs - 1).bit_length())
    return ((value + 1) * n_inputs - 1) >> width


def quantize_weights(weights, width):
    """Integer weights summing to ``2**width`` from non-negative reals (largest remainder)."""
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 1 or not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise ParameterError("weights must be non-negative numbers with a positive sum")
    exact = w / w.sum() * (1 << width)
    q = np.floor(exact).astype(np.int64)
    short = (1 << width) - int(q.sum())
    q[np.argsort(-(exact - q), kind="stable")[:short]] += 1
    return tuple(int(v) for v in q)


@dataclass(frozen=True)
class MuxParams:
    """An ``n_inputs``-way MUX adder.

    Parameters
    ----------
    n_inputs : int
        Number of input streams, 2..256.
    source : LFSRParams or SobolParams
        The select source; its width must satisfy ``2**width >= n_inputs``.
    weights : tuple of int or None
        Selection weights, non-negative, summing to ``2**width``. ``None``: uniform.
    """
    n_inputs: int = 4
    source: LFSRParams | SobolParams = SobolParams(width=8, dim=1)
    weights: tuple | None = None

    def __post_init__(self):
        check_int("n_inputs", self.n_inputs, 2, MAX_INPUTS)
        if not isinstance(self.source, (LFSRParams, SobolParams)):
            raise ParameterError("source must be lfsr or sobol")
        if (1 << self.source.width) < self.n_inputs:
            raise ParameterError(
                f"width must be at least {(self.n_inputs - 1).bit_length()} for {self.n_inputs} inputs")
        if self.weights is None:
            object.__setattr__(self, "weights", uniform_weights(self.n_inputs, self.source.width))
        w = tuple(int(v) for v in self.weights)
        if len(w) != self.n_inputs or min(w) < 0 or sum(w) != (1 << self.source.width):
            raise ParameterError(
                f"weights must be {self.n_inputs} non-negative integers summing to {1 << self.source.width}")
        object.__setattr__(self, "weights", w)

    @property
    def thresholds(self):
        """Cumulative weights ``T_1..T_(n-1)``: select ``i`` when ``T_i <= R < T_(i+1)``."""
        return tuple(int(t) for t in np.cumsum(self.weights)[:-1])


def mux_select(params: MuxParams, n: int) -> np.ndarray:
    """Selected input index during cycles ``0..n-1``."""
    r = source_sequence(params.source, n)
    return np.searchsorted(np.asarray(params.thresholds), r, side="right").astype(np.int64)


def mux_bits(params: MuxParams, inputs) -> np.ndarray:
    """Output bits for input bit streams of shape (..., n_inputs, n)."""
    inputs = np.asarray(inputs, dtype=np.uint8)
    if inputs.shape[-2] != params.n_inputs:
        raise ParameterError(f"inputs must have {params.n_inputs} streams, got {inputs.shape[-2]}")
    sel = mux_select(params, inputs.shape[-1])
    return np.take_along_axis(inputs, np.broadcast_to(sel, inputs.shape[:-2] + (1, sel.size)),
                              axis=-2)[..., 0, :]
