"""Stochastic attention: row-sum normalised attention with AND-gate inner products.

Float semantics (:func:`attention_float`, sc_neurocore's ``forward``): for queries ``Q``
(n_q, dim_k), keys ``K`` (n_k, dim_k) and values ``V`` (n_k, dim_v), all in [0, 1],

    S = Q K^T,   A_ij = S_ij / sum_j S_ij,   out = A V          (a zero row gives 0)

— no exponential, so it maps onto SC: every product is an AND of two streams.

Bitstream semantics (:func:`attention_counts`, the RTL's): each value is a comparator SNG
stream (:mod:`.sng`) of ``length`` cycles. One source per operand drives every stream of that
operand, three sources in all:

* ``R_q`` for every element of Q, ``R_k`` for K, ``R_v`` for V. A product term
  ``q_id & k_jd & v_jv`` takes one stream of each operand, so only independence *between* the
  three sources matters (streams of one operand are fully correlated with each other, which
  no term ever sees).
* ``source = "sobol"``: dimensions ``sobol_dim``, ``+1``, ``+2`` (default 1, 2, 3) of one
  Sobol sequence; over ``2**width`` cycles the three are jointly stratified, which is what
  gives the bitstream path its ~1/L error.
* ``source = "lfsr"``: one maximal LFSR of ``width`` bits at three phases, ``seed`` and the
  states ``period // 4`` and ``period // 2`` steps later (:func:`.lfsr.lfsr_jump`). Thirds of
  the period must not be used: when 3 divides ``2**W - 1`` (every even W) the three phases
  P/3 apart XOR to zero bit for bit (the shift is a cube root of unity in GF(2**W)), and the
  error then never falls with L.

Per cycle ``t``: ``p_ij[t] = sum_d q_id[t] & k_jd[t]`` (an AND per key element, a popcount),
and over the run

    den_i  = sum_t sum_j p_ij[t]
    num_iv = sum_t sum_j v_jv[t] p_ij[t]

so ``num_iv / den_i`` estimates ``sum_j S_ij V_jv / sum_j S_ij``. The hardware delivers the
integer counts; the quotient is formed by the reader (:func:`attention_bitstream`).

Time convention of a run: both the counts and the sources restart at every run (see
:mod:`scfpga.hdl.attention`); index ``t`` is the run's ``t``-th enabled cycle.
"""
from dataclasses import dataclass

import numpy as np

from .lfsr import LFSRParams, lfsr_jump
from .params import ParameterError, check_choice, check_int
from .sng import quantize_unipolar
from .sobol import MAX_DIM, SobolParams
from .sources import SOURCE_KINDS, source_sequence

MAX_SIZE = 16
MAX_LENGTH = 1 << 20
DEFAULT_SEED = 0x9E3779B9


@dataclass(frozen=True)
class AttentionParams:
    """A stochastic attention block of fixed shape.

    Parameters
    ----------
    n_q, n_k : int
        Queries and keys (rows of Q and of K, V), 1..16.
    dim_k, dim_v : int
        Key and value widths, 1..16.
    length : int
        Bitstream length L (cycles per run), 1..2**20.
    width : int
        Source and comparator width W, 3..24; thresholds are ``0..2**W``.
    source : str
        ``"sobol"`` or ``"lfsr"``.
    seed : int or None
        LFSR start state of ``R_q``, 1..2**W - 1 (``None``: the top W bits of 0x9E3779B9).
    sobol_dim : int
        Sobol dimension of ``R_q`` (``R_k``, ``R_v``: the next two), 1..MAX_DIM - 2.
    """
    n_q: int = 2
    n_k: int = 3
    dim_k: int = 4
    dim_v: int = 2
    length: int = 256
    width: int = 8
    source: str = "sobol"
    seed: int | None = None
    sobol_dim: int = 1

    def __post_init__(self):
        for name in ("n_q", "n_k", "dim_k", "dim_v"):
            check_int(name, getattr(self, name), 1, MAX_SIZE)
        check_int("length", self.length, 1, MAX_LENGTH)
        check_int("width", self.width, 3, 24)
        check_choice("source", self.source, SOURCE_KINDS)
        check_int("sobol_dim", self.sobol_dim, 1, MAX_DIM - 2)
        if self.seed is None:
            object.__setattr__(self, "seed", DEFAULT_SEED >> (32 - self.width))
        check_int("seed", self.seed, 1, (1 << self.width) - 1)

    @property
    def sources(self):
        """``(R_q, R_k, R_v)`` parameter objects (module docstring)."""
        if self.source == "sobol":
            return tuple(SobolParams(self.width, self.sobol_dim + i) for i in range(3))
        base = LFSRParams(self.width, self.seed)
        return tuple(LFSRParams(self.width, lfsr_jump(base, base.period // d)) if d else base
                     for d in (0, 4, 2))

    @property
    def shapes(self):
        """Shapes of Q, K, V."""
        return (self.n_q, self.dim_k), (self.n_k, self.dim_k), (self.n_k, self.dim_v)

    @property
    def count_width(self):
        """Bits of a count (num or den): up to ``length * n_k * dim_k``."""
        return (self.length * self.n_k * self.dim_k).bit_length()


def _check(params, q, k, v):
    top = 1 << params.width
    out = []
    for name, x, shape in zip("QKV", (q, k, v), params.shapes):
        x = np.asarray(x)
        if x.shape[-2:] != shape:
            raise ParameterError(f"{name} must have shape (..., {shape[0]}, {shape[1]}), "
                                 f"got {x.shape}")
        if not np.issubdtype(x.dtype, np.integer) or (x.size and (x.min() < 0 or x.max() > top)):
            raise ParameterError(f"{name} thresholds must be integers in 0..{top}")
        out.append(x.astype(np.int64))
    return out


def attention_bits(params: AttentionParams, q, k, v):
    """Per-cycle increments ``(den, num)``: int64 (..., n_q, L) and (..., n_q, dim_v, L).

    ``q``, ``k``, ``v``: integer SNG thresholds of shapes (..., n_q, dim_k), (..., n_k, dim_k),
    (..., n_k, dim_v).
    """
    q, k, v = _check(params, q, k, v)
    r = [source_sequence(s, params.length) for s in params.sources]
    qb = (r[0] < q[..., None]).astype(np.int32)               # (..., n_q, dk, L)
    kb = (r[1] < k[..., None]).astype(np.int32)               # (..., n_k, dk, L)
    vb = (r[2] < v[..., None]).astype(np.int32)               # (..., n_k, dv, L)
    p = np.einsum("...idt,...jdt->...ijt", qb, kb)             # (..., n_q, n_k, L)
    den = p.sum(-2)
    num = np.einsum("...ijt,...jvt->...ivt", p, vb)
    return den.astype(np.int64), num.astype(np.int64)


def attention_counts(params: AttentionParams, q, k, v):
    """``(den, num)`` over the run: int64 (..., n_q) and (..., n_q, dim_v)."""
    den, num = attention_bits(params, q, k, v)
    return den.sum(-1), num.sum(-1)


def attention_bitstream(params: AttentionParams, q, k, v):
    """The decoded output ``num / den`` (0 where ``den = 0``), float (..., n_q, dim_v)."""
    den, num = attention_counts(params, q, k, v)
    return num / np.maximum(den, 1)[..., None]


def attention_float(Q, K, V):
    """Row-sum normalised attention in float (module docstring); batched over leading axes."""
    Q, K, V = (np.asarray(a, np.float64) for a in (Q, K, V))
    s = Q @ np.swapaxes(K, -1, -2)
    total = s.sum(-1, keepdims=True)
    return np.where(total > 0, s / np.where(total > 0, total, 1), 0.0) @ V


def softmax_attention(Q, K, V, temperature):
    """``softmax(Q K^T / temperature) V`` in float, max-subtracted (model only)."""
    Q, K, V = (np.asarray(a, np.float64) for a in (Q, K, V))
    s = Q @ np.swapaxes(K, -1, -2) / temperature
    e = np.exp(s - s.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True) @ V


def quantize(params, Q, K, V):
    """Integer thresholds of real Q, K, V in [0, 1] (``width`` bits, 2**W meaning 1.0)."""
    return tuple(quantize_unipolar(a, params.width) for a in (Q, K, V))
