"""Windowed ones-counter: decodes a bitstream into an integer every ``window`` enabled cycles.

The hardware accumulates the input bit on every enabled edge. On the edge that closes a window
it stores the window's total in ``count`` and raises ``done`` for the following cycle. So
``count`` during cycle k holds the ones of window ``k // window - 1`` (0 before the first window
closes) and ``done`` is 1 exactly in cycles ``window, 2*window, ...``.
"""
from dataclasses import dataclass

import numpy as np

from .params import ParameterError, check_int

MAX_WINDOW = 1 << 24


@dataclass(frozen=True)
class CounterParams:
    """``window``: cycles per count, 1..2**24. The count is ``window.bit_length()`` bits wide."""
    window: int = 256

    def __post_init__(self):
        check_int("window", self.window, 1, MAX_WINDOW)

    @property
    def count_width(self):
        return self.window.bit_length()


def counter_counts(params: CounterParams, bits):
    """``(count, done)`` during cycles ``0..n-1`` for input bits of shape (..., n)."""
    bits = np.asarray(bits)
    if bits.ndim == 0:
        raise ParameterError("bits must be an array of 0/1 values")
    n, w = bits.shape[-1], params.window
    full = n // w
    sums = bits[..., :full * w].reshape(bits.shape[:-1] + (full, w)).sum(-1, dtype=np.int64)
    k = np.arange(n)
    m = k // w                                   # windows closed before cycle k
    padded = np.concatenate([np.zeros(bits.shape[:-1] + (1,), np.int64), sums], axis=-1)
    count = padded[..., m]
    done = ((k % w == 0) & (k > 0)).astype(np.uint8)
    return count, np.broadcast_to(done, count.shape)
