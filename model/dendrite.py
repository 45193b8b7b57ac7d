"""Rall branching dendrite: compartments in fixed point, distal-to-proximal propagation.

Float semantics (:func:`dendrite_float`), ``n_branches`` branches of ``branch_length``
compartments each, compartment 0 the distal tip and ``branch_length - 1`` the proximal end; all
compartments update at once from the previous step's voltages:

    v'[b, 0] = v[b, 0] - (dt / tau) v[b, 0] + I_b                       (input at the tip)
    v'[b, c] = v[b, c] - (dt / tau) v[b, c] + coupling (v[b, c-1] - v[b, c]),   c >= 1
    soma     = sum_b g_b v'[b, last],   g_b = d_b^(3/2) / sum_b d_b^(3/2)

The 3/2 power rule matches the parent's input impedance to its daughters
(``D^(3/2) = sum_b d_b^(3/2)``); each branch drives the soma in proportion to its share
``g_b`` of that sum. With equal daughters (sc_neurocore's call shape has no diameters) every
``g_b`` is ``1 / n_branches``.

Fixed point (:func:`dendrite_run`, the RTL's): voltages and inputs are signed integers in units
of ``2**-frac``; the constants are quantised once to ``shift`` bits,
``leak = round(dt / tau * 2**shift)``, ``coup = round(coupling * 2**shift)``,
``g_b = round(share_b * 2**shift)``, and

    v'[b, c] = sat(v + ((-leak v + coup (v[b, c-1] - v)) >> shift) [+ I_b at c = 0])
    soma     = (sum_b g_b v'[b, last]) >> shift

(``>>`` floors; ``sat`` clamps to ``width`` bits signed). Time convention: the state is
registered; during cycle ``k`` the RTL shows the state after the enabled edges before ``k``
(all zero after reset), and ``soma`` is combinational from it.
"""
import math
from dataclasses import dataclass

import numpy as np

from .params import ParameterError, check_int, signed_range

MAX_BRANCHES = 16
MAX_LENGTH = 16


@dataclass(frozen=True)
class DendriteParams:
    """Fixed-point Rall dendrite.

    Parameters
    ----------
    n_branches, branch_length : int
        1..16 each.
    leak, coup : int
        ``dt / tau`` and ``coupling`` in units of ``2**-shift``, 0..2**shift.
    gains : tuple of int
        Soma weight of each branch in units of ``2**-shift``, 0..2**shift each.
    width : int
        Voltage register width (signed), 8..32.
    input_width : int
        Input width (signed), 2..width.
    shift : int
        Fraction bits of the constants, 1..16.
    frac : int
        Fraction bits of voltages and inputs (units of ``2**-frac``), 0..width-2.
    """
    n_branches: int = 4
    branch_length: int = 3
    leak: int = 26
    coup: int = 77
    gains: tuple = (64, 64, 64, 64)
    width: int = 16
    input_width: int = 12
    shift: int = 8
    frac: int = 8

    def __post_init__(self):
        check_int("n_branches", self.n_branches, 1, MAX_BRANCHES)
        check_int("branch_length", self.branch_length, 1, MAX_LENGTH)
        check_int("shift", self.shift, 1, 16)
        check_int("leak", self.leak, 0, 1 << self.shift)
        check_int("coup", self.coup, 0, 1 << self.shift)
        check_int("width", self.width, 8, 32)
        check_int("input_width", self.input_width, 2, self.width)
        check_int("frac", self.frac, 0, self.width - 2)
        gains = tuple(self.gains)
        if len(gains) != self.n_branches:
            raise ParameterError(f"gains must have n_branches = {self.n_branches} entries, "
                                 f"got {len(gains)}")
        object.__setattr__(self, "gains", tuple(check_int("gains", g, 0, 1 << self.shift)
                                                for g in gains))

    @classmethod
    def from_float(cls, n_branches=4, branch_length=3, tau=10.0, coupling=0.3, dt=1.0,
                   diameters=None, width=16, input_width=12, shift=8, frac=8):
        """Quantise the float constants once (module docstring); ``diameters``: one per
        branch (default equal)."""
        check_int("n_branches", n_branches, 1, MAX_BRANCHES)
        tau, coupling, dt = float(tau), float(coupling), float(dt)
        if not (math.isfinite(tau) and math.isfinite(dt) and 0 < dt <= tau):
            raise ParameterError(f"dt and tau must satisfy 0 < dt <= tau, got dt={dt}, tau={tau}")
        if not (math.isfinite(coupling) and 0 <= coupling <= 1):
            raise ParameterError(f"coupling must be in [0, 1], got {coupling}")
        one = 1 << check_int("shift", shift, 1, 16)
        return cls(n_branches, branch_length, round(dt / tau * one), round(coupling * one),
                   tuple(int(round(g * one)) for g in branch_shares(n_branches, diameters)),
                   width, input_width, shift, frac)

    @property
    def soma_width(self):
        return self.width + 1 + max(1, self.n_branches.bit_length())


def branch_shares(n_branches, diameters=None):
    """``d_b^(3/2) / sum d^(3/2)``: the 3/2 power rule's share of each branch."""
    d = np.ones(n_branches) if diameters is None else np.asarray(diameters, np.float64)
    if d.shape != (n_branches,) or not np.all(d > 0):
        raise ParameterError(f"diameters must be {n_branches} positive numbers")
    w = d ** 1.5
    return w / w.sum()


def _sat(v, width):
    lo, hi = signed_range(width)
    return np.clip(v, lo, hi)


def dendrite_step(params: DendriteParams, v, inputs):
    """One fixed-point step: ``v`` int64 (..., n_branches, branch_length), ``inputs`` int64
    (..., n_branches); returns the new ``v``."""
    prev = np.concatenate([np.zeros_like(v[..., :1]), v[..., :-1]], axis=-1)
    delta = -params.leak * v + params.coup * (prev - v)
    delta[..., 0] = -params.leak * v[..., 0]
    new = v + (delta >> params.shift)
    new[..., 0] += inputs
    return _sat(new, params.width)


def soma(params: DendriteParams, v):
    """Somatic voltage (integer) of state ``v``."""
    return (v[..., -1] * np.asarray(params.gains, np.int64)).sum(-1) >> params.shift


def check_inputs(params, inputs):
    x = np.asarray(inputs)
    lim = 1 << (params.input_width - 1)
    if x.shape[-1:] != (params.n_branches,) or not np.issubdtype(x.dtype, np.integer) or \
            (x.size and (x.min() < -lim or x.max() >= lim)):
        raise ParameterError(f"inputs must be integers in {-lim}..{lim - 1} of shape "
                             f"(..., {params.n_branches})")
    return x.astype(np.int64)


def dendrite_run(params: DendriteParams, inputs):
    """States after each step: int64 (T + 1, ..., n_branches, branch_length) for ``inputs``
    (T, ..., n_branches); index 0 is the reset state (zeros). A time loop vectorised over
    branches, compartments and the batch."""
    x = check_inputs(params, inputs)
    v = np.zeros(x.shape[1:] + (params.branch_length,), np.int64)
    out = [v]
    for t in range(x.shape[0]):
        v = dendrite_step(params, v, x[t])
        out.append(v)
    return np.stack(out)


def dendrite_float(inputs, branch_length=3, tau=10.0, coupling=0.3, dt=1.0, diameters=None):
    """The float reference: voltages (T + 1, ..., n_branches, branch_length) and soma (T + 1, ...)."""
    x = np.asarray(inputs, np.float64)
    g = branch_shares(x.shape[-1], diameters)
    v = np.zeros(x.shape[1:] + (branch_length,))
    vs = [v]
    for t in range(x.shape[0]):
        prev = np.concatenate([np.zeros_like(v[..., :1]), v[..., :-1]], axis=-1)
        delta = -(dt / tau) * v + coupling * (prev - v)
        delta[..., 0] = -(dt / tau) * v[..., 0]
        v = v + delta
        v[..., 0] += x[t]
        vs.append(v)
    vs = np.stack(vs)
    return vs, (vs[..., -1] * g).sum(-1)
