"""Lateral inhibition (Gaussian surround) over a line of neurons, in fixed point.

Real parameters (``radius``, ``strength``) become one integer kernel once, in
:meth:`InhibitionParams.from_float`:

    K_d = floor(strength * exp(-d**2 / (2 radius**2)) * 2**frac + 1/2),  d = 1 .. reach,
    reach = min(n - 1, ceil(3 radius))

(the centre ``d = 0`` is the neuron's own excitation and is not inhibited). For unsigned
integer rates ``r`` (spike counts, ``width`` bits) the output of neuron ``i`` is

    s_i   = sum_{d=1..reach} K_d (r_{i-d} + r_{i+d})     (neighbours past either end count 0)
    out_i = max(0, r_i - floor(s_i / 2**frac))

which stays in ``0..r_i``, so it has ``width`` bits. The edges are not wrapped: a neuron at the
end of the line has fewer inhibitors, as in the float reference :func:`inhibition_float`.

Time convention: the RTL (:mod:`scfpga.hdl.inhibition`) registers its outputs; during cycle
``k`` they show the result for the inputs of the last cycle before ``k`` with ``en = 1``.
"""
import math
from dataclasses import dataclass

import numpy as np

from .params import ParameterError, check_int
from .wta import check_values

MAX_N = 64
MAX_WIDTH = 24
MAX_FRAC = 16


@dataclass(frozen=True)
class InhibitionParams:
    """Fixed-point lateral inhibition over ``n`` neurons.

    Parameters
    ----------
    n : int
        Neurons on the line, 2..64.
    kernel : tuple of int
        ``K_1 .. K_reach``, each 0..2**frac (strength at most 1 per neighbour); 1..n-1 entries.
    width : int
        Bits per rate (unsigned), 1..24.
    frac : int
        Fraction bits of the kernel, 0..16.
    """
    n: int = 8
    kernel: tuple = (113, 78, 42, 17, 6, 1)    # from_float(8, radius=2, strength=0.5)
    width: int = 8
    frac: int = 8

    def __post_init__(self):
        check_int("n", self.n, 2, MAX_N)
        check_int("width", self.width, 1, MAX_WIDTH)
        check_int("frac", self.frac, 0, MAX_FRAC)
        try:
            kernel = tuple(int(check_int("kernel", k, 0, 1 << self.frac)) for k in self.kernel)
        except TypeError:
            raise ParameterError(f"kernel must be a sequence of integers, got {self.kernel!r}") from None
        if not 1 <= len(kernel) <= self.n - 1:
            raise ParameterError(f"kernel must have 1..{self.n - 1} entries (n - 1), "
                                 f"got {len(kernel)}")
        object.__setattr__(self, "kernel", kernel)

    @classmethod
    def from_float(cls, n=8, radius=2.0, strength=0.5, width=8, frac=8):
        """Quantise a Gaussian surround (module docstring) once."""
        check_int("n", n, 2, MAX_N)
        check_int("frac", frac, 0, MAX_FRAC)
        radius, strength = float(radius), float(strength)
        if not (math.isfinite(radius) and 0 < radius <= 64):
            raise ParameterError(f"radius must be in (0, 64], got {radius}")
        if not (math.isfinite(strength) and 0 <= strength <= 1):
            raise ParameterError(f"strength must be in [0, 1], got {strength}")
        reach = min(n - 1, max(1, math.ceil(3 * radius)))
        d = np.arange(1, reach + 1)
        kernel = np.floor(strength * np.exp(-d ** 2 / (2 * radius ** 2)) * (1 << frac) + 0.5)
        return cls(n, tuple(int(k) for k in kernel), width, frac)

    @property
    def reach(self):
        return len(self.kernel)

    @property
    def sum_width(self):
        """Bits of the surround sum ``s_i``."""
        return (2 * sum(self.kernel) * ((1 << self.width) - 1)).bit_length() or 1

    def matrix(self):
        """The (n, n) integer inhibition matrix ``M[i, j] = K_|i-j|`` (0 on the diagonal)."""
        d = np.abs(np.arange(self.n)[:, None] - np.arange(self.n)[None, :])
        k = np.concatenate([[0], self.kernel, np.zeros(self.n, np.int64)]).astype(np.int64)
        return k[d]


def inhibition_apply(params: InhibitionParams, rates):
    """Inhibited integer rates, int64 of shape (..., n) (module docstring)."""
    r = check_values("rates", rates, params.n, params.width)
    s = r @ params.matrix().T
    return np.maximum(0, r - (s >> params.frac))


def inhibition_float(rates, radius=2.0, strength=0.5):
    """The float reference: ``max(0, r_i - strength sum_{j != i} exp(-(i-j)^2 / 2 radius^2) r_j)``."""
    r = np.asarray(rates, np.float64)
    n = r.shape[-1]
    d = np.arange(n)[:, None] - np.arange(n)[None, :]
    g = strength * np.exp(-d ** 2 / (2 * radius ** 2))
    np.fill_diagonal(g, 0.0)
    return np.maximum(0.0, r - r @ g.T)
