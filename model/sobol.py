"""One coordinate of the unscrambled Sobol sequence in Gray-code order.

Element ``k`` equals ``floor(x_k * 2**width)`` where ``x_k`` is coordinate ``dim - 1`` of point
``k`` of ``scipy.stats.qmc.Sobol(d, scramble=False)``, for ``k < 2**index_width``. Gray-code
order means ``x[k+1] = x[k] XOR V[c(k)]`` with ``c(k)`` the position of the lowest zero bit of
``k``: the hardware is a ``width``-bit register, a ``index_width``-bit index counter, a table of
direction numbers and a lowest-zero-bit encoder. When the counter has no zero bit left the
sequence restarts at 0, so it is periodic with period ``2**index_width``.

The default ``index_width = width`` gives period ``2**width``; every aligned block of
``2**width`` elements is then a permutation of ``0..2**width - 1``, which is what makes a
Sobol-driven SNG exact.
"""
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .params import check_int
from .sobol_table import SOBOL_TABLE, MAX_DIM

MAX_WIDTH = 32


@lru_cache(maxsize=None)
def direction_integers(dim, count):
    """Joe-Kuo direction integers ``m_1..m_count`` of dimension ``dim`` (1-based)."""
    poly, m_init = SOBOL_TABLE[dim - 1]
    s = poly.bit_length() - 1
    if s == 0:                        # dimension 1: van der Corput, all m_j = 1
        return (1,) * count
    m = list(m_init[:s])
    for j in range(s, count):
        new = m[j - s] ^ (m[j - s] << s)
        for i in range(1, s):
            if (poly >> (s - i)) & 1:
                new ^= m[j - i] << i
        m.append(new)
    return tuple(m[:count])


def direction_numbers(dim, width, count):
    """``V_1..V_count`` scaled to ``width`` bits: ``m_j * 2**(width - j)``, truncated past width."""
    m = direction_integers(dim, count)
    return tuple(mj << (width - j) if j <= width else mj >> (j - width)
                 for j, mj in enumerate(m, start=1))


@dataclass(frozen=True)
class SobolParams:
    """One Sobol coordinate as a ``width``-bit integer stream.

    Parameters
    ----------
    width : int
        Output width W, 1..32: element k is ``floor(x_k * 2**W)``.
    dim : int
        Sobol dimension, 1..1024 (1 is van der Corput).
    index_width : int or None
        Width of the point-index counter, width..32; the sequence follows SciPy for
        ``k < 2**index_width`` and then repeats. ``None`` means ``width``.
    """
    width: int = 16
    dim: int = 1
    index_width: int | None = None

    def __post_init__(self):
        check_int("width", self.width, 1, MAX_WIDTH)
        check_int("dim", self.dim, 1, MAX_DIM)
        if self.index_width is None:
            object.__setattr__(self, "index_width", self.width)
        check_int("index_width", self.index_width, self.width, MAX_WIDTH)

    @property
    def directions(self):
        """Direction numbers ``V_1..V_index_width`` as ``width``-bit integers."""
        return direction_numbers(self.dim, self.width, self.index_width)

    @property
    def period(self):
        return 1 << self.index_width


@lru_cache(maxsize=64)
def _sobol_cached(width, dim, index_width, n):
    k = np.arange(n, dtype=np.int64)
    gray = k ^ (k >> 1)
    values = np.zeros(n, dtype=np.int64)
    for j, v in enumerate(direction_numbers(dim, width, index_width)):
        values ^= np.where((gray >> j) & 1, v, 0)
    values.flags.writeable = False
    return values


def sobol_sequence(params: SobolParams, n: int) -> np.ndarray:
    """``value`` during cycles ``0..n-1`` (int64 array, read-only, cached)."""
    n = check_int("cycles", n, 0)
    if n > params.period:
        one = _sobol_cached(params.width, params.dim, params.index_width, params.period)
        return np.resize(one, n)
    return _sobol_cached(params.width, params.dim, params.index_width, n)
