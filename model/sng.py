"""Comparator stochastic number generator: ``bit = R < P``.

``R`` is the ``width``-bit value of an LFSR or Sobol source during the cycle and ``P`` an integer
in ``0..2**width``; ``P = 2**width`` encodes 1.0 (every R is below it). With a Sobol source the
number of ones over any aligned ``2**width`` cycles is exactly ``P``. An LFSR never produces
``R = 0``, so over its period of ``2**width - 1`` cycles it yields ``max(P - 1, 0)`` ones
(``2**width - 1`` for ``P = 2**width``): a bias of at most one count per period.

Quantisation of real values (shared with the hardware, which only ever sees the integer P):

* unipolar ``x`` in [0, 1]: ``P = floor(x * 2**width + 1/2)`` (round half up);
* bipolar ``x`` in [-1, 1]: ``P = floor((x + 1) / 2 * 2**width + 1/2)``, decoded as
  ``2 * ones / L - 1``.
"""
from dataclasses import dataclass

import numpy as np

from .lfsr import LFSRParams
from .params import ParameterError, check_int
from .sobol import SobolParams
from .sources import source_sequence


@dataclass(frozen=True)
class SNGParams:
    """A comparator SNG.

    Parameters
    ----------
    source : LFSRParams or SobolParams
        The random-number source; its width is the SNG's width.
    prob : int or None
        Constant threshold P in 0..2**width. ``None`` makes P a run-time input port ``prob``.
    """
    source: LFSRParams | SobolParams = SobolParams()
    prob: int | None = None

    def __post_init__(self):
        if not isinstance(self.source, (LFSRParams, SobolParams)):
            raise ParameterError("source must be lfsr or sobol")
        if self.prob is not None:
            check_int("prob", self.prob, 0, 1 << self.width)

    @property
    def width(self):
        return self.source.width


def _check_range(name, x, lo, hi):
    x = np.asarray(x, dtype=np.float64)
    if not ((x >= lo) & (x <= hi)).all():         # one pass; NaN fails both comparisons
        raise ParameterError(f"{name} must be in [{lo}, {hi}]")
    return x


def quantize_unipolar(x, width):
    """Integer threshold P for unipolar values ``x`` in [0, 1] (array or scalar)."""
    x = _check_range("x", x, 0.0, 1.0)
    return np.floor(x * float(1 << width) + 0.5).astype(np.int64)


def quantize_bipolar(x, width):
    """Integer threshold P for bipolar values ``x`` in [-1, 1]: unipolar of ``(x + 1) / 2``."""
    x = _check_range("x", x, -1.0, 1.0)
    return quantize_unipolar((x + 1.0) / 2.0, width)


def compare(values, prob):
    """``values < prob`` as uint8; an array of thresholds gives one stream per entry."""
    return (np.asarray(values) < np.asarray(prob)[..., None]).astype(np.uint8)


def sng_bits(params: SNGParams, n: int, prob=None) -> np.ndarray:
    """SNG output during cycles ``0..n-1``.

    ``prob`` overrides ``params.prob``; an array of thresholds gives one stream per entry,
    shape ``prob.shape + (n,)``, all drawn from the same source values.
    """
    p = params.prob if prob is None else prob
    if p is None:
        raise ParameterError("prob must be given (in 0..2**width)")
    p = np.asarray(p, dtype=np.int64)
    if np.any(p < 0) or np.any(p > (1 << params.width)):
        raise ParameterError(f"prob must be in 0..{1 << params.width}")
    return compare(source_sequence(params.source, n), p)
