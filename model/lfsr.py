"""Maximal-length Fibonacci LFSR: parameters and golden model.

Convention (shared with :mod:`scfpga.hdl.lfsr`): the state ``s`` is a ``width``-bit register
that shifts towards the MSB; the new LSB is the XOR of the tapped stages::

    s[k+1] = ((s[k] << 1) | XOR_t s[k][t-1]) mod 2**width

``value`` during cycle 0 is the seed; every enabled clock edge advances one step. The period is
exactly ``2**width - 1`` for every non-zero seed (the taps come from :mod:`.lfsr_taps`).
"""
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .lfsr_taps import MAXIMAL_TAPS, MIN_WIDTH, MAX_WIDTH
from .params import ParameterError, check_int


@dataclass(frozen=True)
class LFSRParams:
    """A maximal-length LFSR.

    Parameters
    ----------
    width : int
        Register width, 3..32.
    seed : int
        Initial state, 1..2**width - 1 (zero is the lock-up state of an XOR LFSR).
    """
    width: int = 16
    seed: int = 1

    def __post_init__(self):
        check_int("width", self.width, MIN_WIDTH, MAX_WIDTH)
        check_int("seed", self.seed, 1, (1 << self.width) - 1)

    @property
    def taps(self):
        return MAXIMAL_TAPS[self.width]

    @property
    def period(self):
        return (1 << self.width) - 1


def _apply_columns(cols, v):
    """The GF(2) matrix with columns ``cols`` applied to the bit vector ``v``."""
    r, i = 0, 0
    while v:
        if v & 1:
            r ^= cols[i]
        v, i = v >> 1, i + 1
    return r


def lfsr_leap_columns(params: LFSRParams, steps: int):
    """Images of the unit state vectors after ``steps`` LFSR steps.

    One step is linear over GF(2), so ``steps`` steps are a matrix: column i is where state
    ``1 << i`` lands. Used by the model to jump ahead and by the hardware to build XOR networks
    that advance several steps per clock. Matrix power: O(width^2 log steps).
    """
    w, mask = params.width, (1 << params.width) - 1
    # One step: bit i moves to bit i+1; bit t-1 of every tap t also feeds the new bit 0.
    base = [((1 << (i + 1)) & mask) | (1 if (i + 1) in params.taps else 0) for i in range(w)]
    result = [1 << i for i in range(w)]
    steps = check_int("steps", steps, 0)
    while steps:
        if steps & 1:
            result = [_apply_columns(base, c) for c in result]
        base = [_apply_columns(base, c) for c in base]
        steps >>= 1
    return result


def lfsr_jump(params: LFSRParams, steps: int) -> int:
    """The LFSR state ``steps`` steps after ``params.seed``."""
    steps = check_int("steps", steps, 0) % params.period
    return _apply_columns(lfsr_leap_columns(params, steps), params.seed)


def _feedback_bits(width, seed, taps, n_bits):
    """The shifted-in bit stream ``b`` with ``b[j] = XOR_t b[j - t]`` (first ``width`` from seed).

    Vectorised by the Frobenius identity p(x)^(2^r) = p(x^(2^r)) over GF(2): for ``j >= m*width``
    (m a power of two) the stream also obeys ``b[j] = XOR_t b[j - m*t]``, so whole chunks of
    ``m`` bits come from earlier chunks in one NumPy operation. The chunk doubles as the history
    grows, so 2**20 bits take a few hundred array operations, not 2**20 Python steps.
    """
    b = np.empty(max(n_bits, width), dtype=np.uint8)
    b[:width] = [(seed >> (width - 1 - j)) & 1 for j in range(width)]
    pos, m = width, 1
    while pos < n_bits:
        while pos >= 2 * m * width:
            m *= 2
        chunk = min(m, n_bits - pos)
        acc = np.zeros(chunk, dtype=np.uint8)
        for t in taps:
            start = pos - m * t
            acc ^= b[start:start + chunk]
        b[pos:pos + chunk] = acc
        pos += chunk
    return b[:n_bits]


@lru_cache(maxsize=64)
def _lfsr_cached(width, seed, n):
    taps = MAXIMAL_TAPS[width]
    b = _feedback_bits(width, seed, taps, n + width - 1)
    values = np.zeros(n, dtype=np.int64)
    for i in range(width):
        # bit i of value k is b[k + width - 1 - i]
        values |= b[width - 1 - i:width - 1 - i + n].astype(np.int64) << i
    values.flags.writeable = False
    return values


def lfsr_sequence(params: LFSRParams, n: int) -> np.ndarray:
    """``value`` during cycles ``0..n-1`` (int64 array, read-only, cached)."""
    n = check_int("cycles", n, 0)
    if n > params.period:
        # Periodic: compute one period and tile it rather than the whole run.
        one = _lfsr_cached(params.width, params.seed, params.period)
        return np.resize(one, n)
    return _lfsr_cached(params.width, params.seed, n)
