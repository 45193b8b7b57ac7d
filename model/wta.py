"""k-winner-take-all over a layer's integer values (spike counts or membranes).

Semantics (shared by the RTL, :mod:`scfpga.hdl.wta`): for values ``x_0 .. x_{n-1}`` (unsigned,
``width`` bits) the rank of element ``i`` is the number of elements that beat it,

    rank_i = #{j : x_j > x_i} + #{j < i : x_j == x_i},

i.e. **ties go to the lower index**. Element ``i`` wins iff ``rank_i < k``; exactly ``k``
elements win (``k <= n``). The output is the winner mask and the values with every loser set to
0. The ranks form a permutation of ``0..n-1``, so the rule needs no sorting: in hardware it is
``n (n - 1)`` comparators and ``n`` popcounts, all in one clock.

Time convention (the hardware registers its outputs): during cycle ``k`` the outputs show the
result for the inputs of the last cycle before ``k`` with ``en = 1`` (0 before the first).
"""
from dataclasses import dataclass

import numpy as np

from .params import ParameterError, check_int

MAX_N = 32
MAX_WIDTH = 24


@dataclass(frozen=True)
class WTAParams:
    """A k-WTA over ``n`` values of ``width`` bits.

    Parameters
    ----------
    n : int
        Number of competing elements, 2..32.
    k : int
        Winners, 1..n.
    width : int
        Bits per value (unsigned), 1..24.
    """
    n: int = 8
    k: int = 1
    width: int = 8

    def __post_init__(self):
        check_int("n", self.n, 2, MAX_N)
        check_int("k", self.k, 1, self.n)
        check_int("width", self.width, 1, MAX_WIDTH)


def check_values(name, values, n, width):
    """``values`` as int64 of shape (..., n) with every entry in 0..2**width-1, else raise."""
    v = np.asarray(values)
    if v.ndim < 1 or v.shape[-1] != n:
        raise ParameterError(f"{name} must have shape (..., {n}), got {v.shape}")
    if v.size and (not np.issubdtype(v.dtype, np.integer) or v.min() < 0 or
                   v.max() >= (1 << width)):
        raise ParameterError(f"{name} must be integers in 0..{(1 << width) - 1}")
    return v.astype(np.int64)


def wta_rank(params: WTAParams, values):
    """Rank of every element (0 = best), int64 of shape (..., n); a permutation per row."""
    x = check_values("values", values, params.n, params.width)
    xi, xj = x[..., :, None], x[..., None, :]
    lower = np.tri(params.n, k=-1, dtype=bool)          # lower[i, j] = j < i
    return ((xj > xi) | ((xj == xi) & lower)).sum(-1)


def wta_mask(params: WTAParams, values):
    """Winner mask, uint8 of shape (..., n): exactly ``k`` ones per row."""
    return (wta_rank(params, values) < params.k).astype(np.uint8)


def wta_apply(params: WTAParams, values):
    """Values with every loser set to 0, int64 of shape (..., n)."""
    x = check_values("values", values, params.n, params.width)
    return x * wta_mask(params, x)


def pack_mask(mask):
    """A mask (..., n) as integers: bit ``i`` is element ``i`` (the RTL's ``winners`` port)."""
    mask = np.asarray(mask, np.int64)
    return (mask << np.arange(mask.shape[-1], dtype=np.int64)).sum(-1)
