"""Dense stochastic-computing layer: parameters, stream plan and golden model.

Neuron ``j`` sees ``n_terms`` synapses: the ``n_inputs`` inputs plus, optionally, a bias whose
input is the constant 1. Every cycle ``k`` of a run:

* input ``i`` is the comparator bit ``a_i(k) = R_i(k) < P_i`` with ``P_i`` the unipolar threshold
  of ``x_i`` (:func:`.sng.quantize_unipolar`); the bias input is always 1;
* the weight ``w_ji`` in [-1, 1] is stored sign-magnitude, ``q_ji = sign * Q_ji`` with
  ``Q_ji = quantize_unipolar(|w_ji|)``; its stream is ``b_ji(k) = S(k) < Q_ji`` from the one
  weight source ``S`` shared by every synapse. The sign steers an up/down count, so the
  magnitudes keep unipolar accuracy. Measured on 64-input dot products (|Wx| ~ 3 RMS) at
  L = 256 with the same sources: RMS error 0.023 (Sobol) / 0.16 (LFSR) for sign-magnitude
  against 0.095 / 0.64 for bipolar XNOR, whose streams sit near p = 1/2 where variance peaks;
* ``accumulation = "counter"``: the exact parallel count
  ``I_j(k) = sum_i sign_ji (a_i(k) AND b_ji(k))``, whose expectation is ``sum_i w_ji x_i``;
* ``accumulation = "mux"``: one term per cycle, ``sel(k)``, chosen uniformly by a select source
  (:func:`.mux.uniform_weights` split, select :func:`.mux.uniform_select`),
  ``I_j(k) = sign (a_sel AND b_j,sel)``: expectation
  ``sum_i w_ji x_i / n_terms`` with one adder-free path per neuron.

``I_j(k)`` is the integer current of a LIF neuron (:func:`.lif.lif_run`, so ``spike`` during
cycle k reflects the currents of cycles < k; the last cycle's current reaches no spike of the
run). Per neuron and run the model returns the spike train, the spike ``count`` and the
``score`` = ``sum_k I_j(k)``: the exact signed count of product bits, ``score / L`` (times
``n_terms`` for mux) estimates the dot product. The score is the robust class score of a
classifier: it does not depend on the neuron dynamics.

Decorrelation rule: :mod:`.streams` (:func:`.streams.stream_plan`, the one-layer case of the
network rule); the hardware builds its tables from it.

A run restarts every source at element 0. Index ``k`` of every per-cycle array is the value
during the run's k-th cycle (the hardware's enabled cycles, see :mod:`scfpga.hdl.dense`).

Differences from sc_neurocore's layers: weights are signed (``SCDenseLayer`` shares one
current between identical neurons; ``VectorizedSCLayer`` draws new random streams per call,
so its outputs are not reproducible); ``forward`` returns LIF spike rates, ``estimate`` the
decoded dot product and ``scores`` the integer class scores; everything takes a batch.
"""
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

import numpy as np

from .bits import pack_bits
from .lfsr_taps import MAX_WIDTH as LFSR_MAX_WIDTH
from .kernels import (dense_lif, lif_vector, quantize_gather, source_groups, table_gather,
                      weight_masks)
from .lif import LIFParams, lif_run
from .mux import uniform_select
from .params import ParameterError, check_choice, check_int
from .sng import quantize_unipolar
from .sobol import MAX_DIM
from .sources import SOURCE_KINDS
from .streams import (StreamPlan, sobol_order, sobol_pair_t, stream_plan,  # noqa: F401
                      stream_values)

ACCUMULATIONS = ("counter", "mux")
MAX_WIDTH = 16
MAX_LFSR_WIDTH = min(20, LFSR_MAX_WIDTH)   # the model tabulates one period (8 MB at 20 bits)
MAX_LENGTH = 1 << 20
MAX_INPUTS = MAX_DIM - 2                   # Sobol: weight + select + inputs distinct dimensions
MAX_NEURONS = 4096


# ---------------------------------------------------------------------------- parameters

def quantize_weights(weights, width):
    """Sign-magnitude integer weights: ``sign(w) * quantize_unipolar(|w|, width)``."""
    w = np.asarray(weights, dtype=np.float64)
    if not np.all(np.isfinite(w)) or np.any(np.abs(w) > 1):
        raise ParameterError("weights must be in [-1, 1]")
    return (np.sign(w) * quantize_unipolar(np.abs(w), width)).astype(np.int64)


def int_matrix(name, value, lo, hi):
    """``value`` as a tuple of int tuples (a non-empty 2-D integer array in lo..hi)."""
    try:
        a = np.asarray(value)
    except ValueError:
        a = np.empty(0)
    if a.ndim != 2 or a.size == 0 or not np.issubdtype(a.dtype, np.integer):
        raise ParameterError(f"{name} must be a non-empty 2-D array of integers "
                             f"(n_neurons x n_inputs) in {lo}..{hi}")
    if a.min() < lo or a.max() > hi:
        raise ParameterError(f"{name} must be in {lo}..{hi}")
    return tuple(tuple(int(v) for v in row) for row in a)


def signed_terms(weights, bias):
    """(neurons, terms) read-only int64 array: ``weights`` with ``bias`` as the last column."""
    q = np.array(weights, dtype=np.int64)
    if bias is not None:
        q = np.concatenate([q, np.array(bias, dtype=np.int64)[:, None]], axis=1)
    q.flags.writeable = False
    return q


class SynapseMatrix:
    """What a layer of ``weights`` (neurons x inputs, tuples of ints) and an optional per-neuron
    ``bias`` synapse (input always 1) knows of its shape; shared by the dense layer and the
    network's layers."""

    @property
    def n_inputs(self):
        return len(self.weights[0])

    @property
    def n_neurons(self):
        return len(self.weights)

    @property
    def n_terms(self):
        """Synapses per neuron: inputs plus the bias term."""
        return self.n_inputs + (self.bias is not None)

    @cached_property
    def signed_terms(self):
        """(n_neurons, n_terms) int64 array: the weights with the bias as the last column."""
        return signed_terms(self.weights, self.bias)


@dataclass(frozen=True)
class DenseParams(SynapseMatrix):
    """A dense SC layer; consumed by the model and by :class:`scfpga.hdl.dense.Dense`.

    Parameters
    ----------
    weights : 2-D int array (n_neurons, n_inputs)
        Sign-magnitude weights ``q = sign * Q``, ``|q| <= 2**width`` (``Q = 2**width`` is 1.0);
        :meth:`from_float` quantises reals in [-1, 1].
    bias : sequence of int or None
        Per-neuron bias in the same format: a synapse whose input is the constant 1.
    width : int
        Comparator width W, 1..16 (thresholds 0..2**W).
    length : int
        Cycles per run L, 1..2**20 (the hardware runs exactly L).
    source : str
        ``"sobol"`` or ``"lfsr"`` for every stream of the layer.
    seed : int
        Sobol: the weight stream is dimension ``1 + seed``; LFSR: phase offset of all streams.
    accumulation : str
        ``"counter"`` (exact parallel count) or ``"mux"`` (scaled add, needs ``n_terms <= 2**W``).
    lfsr_width : int
        LFSR register width, max(3, W)..20 (LFSR source only).
    lif : LIFParams or None
        Neuron dynamics (``n_inputs``/``weights`` of it are unused: the current is ``I_j``).
        ``None``: no leak, reset by subtraction, threshold ``n_terms`` (counter) or 1 (mux),
        at least 16 bits and wide enough never to saturate, so ``forward`` is about
        ``relu(W x) / n_terms``.
    """
    weights: tuple
    bias: tuple | None = None
    width: int = 8
    length: int = 256
    source: str = "sobol"
    seed: int = 0
    accumulation: str = "counter"
    lfsr_width: int = 16
    lif: LIFParams | None = None

    def __post_init__(self):
        w = check_int("width", self.width, 1, MAX_WIDTH)
        top = 1 << w
        weights = int_matrix("weights", self.weights, -top, top)
        object.__setattr__(self, "weights", weights)
        check_int("n_inputs", len(weights[0]), 1, MAX_INPUTS)
        check_int("n_neurons", len(weights), 1, MAX_NEURONS)
        if self.bias is not None:
            bias = int_matrix("bias", [list(self.bias)], -top, top)[0]
            if len(bias) != len(weights):
                raise ParameterError(f"bias must have n_neurons = {len(weights)} entries")
            object.__setattr__(self, "bias", bias)
        check_int("length", self.length, 1, MAX_LENGTH)
        check_choice("source", self.source, SOURCE_KINDS)
        check_choice("accumulation", self.accumulation, ACCUMULATIONS)
        if self.source == "sobol":
            check_int("seed", self.seed, 0, MAX_DIM - 1)
        else:
            check_int("lfsr_width", self.lfsr_width, max(3, w), MAX_LFSR_WIDTH)
            period = (1 << self.lfsr_width) - 1
            check_int("seed", self.seed, 0, period - 1)
            if period // (self.n_inputs + 2) < self.lfsr_width:
                raise ParameterError(f"lfsr_width must be larger for {self.n_inputs} inputs "
                                     f"(period // (n_inputs + 2) >= lfsr_width)")
        if self.accumulation == "mux" and self.n_terms > top:
            raise ParameterError(f"mux accumulation needs n_inputs + bias <= 2**width = {top}")
        if self.lif is None:
            # Wide enough never to saturate in a run, so the closed form applies.
            thr = self.n_terms if self.accumulation == "counter" else 1
            width = max(16, (thr * self.length).bit_length() + 1)
            object.__setattr__(self, "lif", LIFParams(width=width, n_inputs=1, weights=(1,),
                                                      threshold=thr, leak_shift=0))
        elif not isinstance(self.lif, LIFParams):
            raise ParameterError("lif must be a LIFParams")

    @classmethod
    def from_float(cls, weights, bias=None, width=8, **kwargs):
        """Quantise real weights (and bias) in [-1, 1] with :func:`quantize_weights`."""
        check_int("width", width, 1, MAX_WIDTH)
        q = quantize_weights(weights, width)
        b = None if bias is None else quantize_weights(np.ravel(bias), width)
        return cls(q, b, width, **kwargs)

    @property
    def plan(self):
        return stream_plan(self.source, self.width, self.n_inputs, self.seed,
                           self.lfsr_width, self.length)

    @property
    def score_range(self):
        """Largest ``|score|`` of a run: every synapse's product bit set in every cycle."""
        return self.n_terms * self.length

    @property
    def decode_scale(self):
        """``score * decode_scale`` estimates ``sum_i w_i x_i`` (+ bias)."""
        return (self.n_terms if self.accumulation == "mux" else 1) / self.length

    def describe(self):
        return (f"dense {self.n_inputs}x{self.n_neurons}{' +bias' if self.bias else ''}, "
                f"W={self.width}, L={self.length}, {self.source} (seed {self.seed}), "
                f"{self.accumulation} accumulation, LIF threshold {self.lif.threshold}")


# ---------------------------------------------------------------------------- golden model

class DenseRun(NamedTuple):
    """One run of a batch: per-cycle arrays have the cycle axis last."""
    spikes: np.ndarray      # (..., n_neurons, T) uint8
    currents: np.ndarray    # (..., n_neurons, T) int64
    v: np.ndarray           # (..., n_neurons, T) int64 membrane
    counts: np.ndarray      # (..., n_neurons) int64, spikes per run
    scores: np.ndarray      # (..., n_neurons) int64, sum of currents


def integrate_fire_exact(params, T):
    """True if :func:`integrate_fire` equals :func:`.lif.lif_run` for any run of ``T`` cycles.

    That needs a non-leaky, non-refractory neuron that resets by subtraction, never saturates
    (``|v + I|`` stays in range: ``n_terms * (T - 1) <= 2**(width-1)`` below,
    ``threshold - 1 + max I`` above) and gets at most ``threshold`` per cycle.
    """
    lif = params.lif
    i_max = params.n_terms if params.accumulation == "counter" else 1
    return (lif.leak_shift == 0 and lif.refractory == 0 and lif.reset == "subtract"
            and i_max <= lif.threshold and lif.threshold - 1 + i_max <= lif.v_max
            and i_max * (T - 1) <= -lif.v_min)


def integrate_fire(threshold, currents):
    """Closed form of :func:`.lif.lif_run` under :func:`integrate_fire_exact`: (spikes, v).

    With ``C(k)`` the sum of the currents before cycle k, the spikes so far are
    ``F(k) = max_{m <= k} floor(C(m) / threshold)`` (``C(0) = 0``, so ``F >= 0``): a spike takes
    the membrane ``C(k) - threshold * F(k)`` below the threshold again, and a current of at most
    ``threshold`` raises ``floor(C / threshold)`` by at most one per cycle, so every new maximum
    is exactly one spike. ``currents`` has the cycle axis last, like :func:`.lif.lif_run`.
    """
    cur = np.moveaxis(np.asarray(currents, dtype=np.int64), -1, 0)
    c, f = _prefix_fire(threshold, cur)
    spikes = np.zeros(f.shape, np.uint8)
    spikes[1:] = f[1:] != f[:-1]
    return np.moveaxis(spikes, 0, -1), np.moveaxis(c - threshold * f, 0, -1)


def _prefix_fire(threshold, cur):
    """``(C, F)`` of :func:`integrate_fire` for currents with the cycle axis first."""
    c = np.empty_like(cur)
    c[0] = 0
    if cur[0].size < 4096:          # few neurons x samples: accumulate along the cycle axis
        np.cumsum(cur[:-1], axis=0, out=c[1:])
        return c, np.maximum.accumulate(c // threshold, axis=0)
    # Many: row loops, one vectorised operation per cycle over every neuron and sample, are
    # faster than NumPy's accumulate along a leading axis.
    for k in range(1, len(cur)):
        np.add(c[k - 1], cur[k - 1], out=c[k])
    f = c // threshold
    for k in range(1, len(cur)):
        np.maximum(f[k - 1], f[k], out=f[k])
    return c, f


_NONE_I64 = np.zeros((0, 0, 0), np.int64)      # per-cycle outputs of a counts-only run
_NONE_U8 = np.zeros((0, 0, 0), np.uint8)
_ACC32, _ACC64 = np.zeros(0, np.int32), np.zeros(0, np.int64)   # quantize_gather's sum dtype


class SCDenseLayer:
    """Golden model of a dense layer; every method takes ``x`` of shape (n_inputs,) or
    (batch, n_inputs) and returns arrays with the same leading batch axis (or none).

    Speed comes from the layer's structure, not from bit loops: an input's stream depends on
    ``x`` only through its integer threshold, so scores are sums of rows of a per-input count
    table (:meth:`count_table`); every synapse shares the weight source, so the per-cycle
    currents of all cycles with the same source value are one GEMM over the batch; and the
    default neuron has a closed form (:func:`integrate_fire`). All are exact and tested
    against unpacked bit-level references.

    Parameters
    ----------
    params : DenseParams
    """

    # Largest float32 matrix stack cached for the per-cycle GEMMs (bytes).
    CACHE_BYTES = 128 << 20

    def __init__(self, params: DenseParams):
        if not isinstance(params, DenseParams):
            raise ParameterError("params must be a DenseParams")
        self.params = params
        q = params.signed_terms
        self._mag = np.abs(q)
        self._sign = np.sign(q).astype(np.float32)
        self._cache = {}            # streams, count tables, weight matrices, keyed by use and T
        self._trains = None
        self._table_fast = {}       # T (None: length) -> _table_scores's constants

    @classmethod
    def from_weights(cls, weights, bias=None, width=8, **kwargs):
        """Layer from real weights (n_neurons, n_inputs) in [-1, 1]; see :class:`DenseParams`."""
        return cls(DenseParams.from_float(weights, bias, width, **kwargs))

    @property
    def n_inputs(self):
        return self.params.n_inputs

    @property
    def n_neurons(self):
        return self.params.n_neurons

    # -- streams -----------------------------------------------------------------------

    def streams(self, T):
        """(input values (n_inputs, T), weight values (T,), select index (T,)), cached."""
        key = ("streams", T)
        if key not in self._cache:
            p, plan = self.params, self.params.plan
            r = stream_values(plan, plan.inputs, T)
            s = stream_values(plan, (plan.weight,), T)[0]
            sel = None
            if p.accumulation == "mux":
                sv = stream_values(plan, (plan.select,), T)[0].astype(np.int64)
                sel = uniform_select(sv, p.n_terms, p.width)
            for a in (r, s, sel):
                if a is not None:
                    a.flags.writeable = False
            self._cache[key] = (r, s, sel)
        return self._cache[key]

    def thresholds(self, x):
        """Integer input thresholds ``P`` for ``x`` in [0, 1] (:func:`.sng.quantize_unipolar`)."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim not in (1, 2) or x.shape[-1] != self.n_inputs:
            raise ParameterError(f"x must have shape (n_inputs,) or (batch, n_inputs) with "
                                 f"n_inputs = {self.n_inputs}, got {x.shape}")
        return quantize_unipolar(x, self.params.width)

    def _check_p(self, p, T):
        p = np.asarray(p)
        top = 1 << self.params.width
        if p.ndim not in (1, 2) or p.shape[-1] != self.n_inputs or \
                not np.issubdtype(p.dtype, np.integer) or p.min() < 0 or p.max() > top:
            raise ParameterError(f"thresholds must be integers in 0..{top}, shape "
                                 f"(n_inputs,) or (batch, n_inputs), n_inputs = {self.n_inputs}")
        T = self.params.length if T is None else check_int("T", T, 1, MAX_LENGTH)
        return p.astype(np.int64), T

    def input_bits(self, p, T):
        """(batch, n_terms, T) uint8: input streams ``R_i < P_i`` and the all-ones bias input."""
        r = self.streams(T)[0]
        a = (r[None] < p[:, :, None]).astype(np.uint8)
        if self.params.bias is not None:
            a = np.concatenate([a, np.ones((len(p), 1, T), np.uint8)], axis=1)
        return a

    # -- per-cycle currents ------------------------------------------------------------

    def _groups(self, T):
        """Cycles sorted by weight-source value: (values, order, group edges), cached."""
        key = ("groups", T)
        if key not in self._cache:
            s = self.streams(T)[1]
            uniq, inv = np.unique(s, return_inverse=True)
            order = np.argsort(inv, kind="stable")
            self._cache[key] = (uniq, order, np.searchsorted(inv[order], np.arange(len(uniq) + 1)))
        return self._cache[key]

    def _matrices(self, values):
        """float32 (len(values), N, n_terms): the signed weight bits for weight-source values.

        All synapses share the weight source, so every cycle with the same source value uses the
        same matrix: the currents of those cycles are one GEMM over cycles and batch.
        """
        key = values.tobytes()
        nbytes = len(values) * self._mag.size * 4
        if self._cache.get("mats_key") == key:
            return self._cache["mats"]
        m = np.where(self._mag[None] > values[:, None, None], self._sign[None], np.float32(0))
        if nbytes <= self.CACHE_BYTES:
            self._cache["mats_key"], self._cache["mats"] = key, m
        return m

    def _currents_counter(self, p, T):
        """(T, N, batch) int32 currents: exact signed counts, one GEMM per weight-source value."""
        p_ = self.params
        r = self.streams(T)[0]
        uniq, order, edges = self._groups(T)
        nb, nt, n_g = len(p), p_.n_terms, len(uniq)
        sizes = np.diff(edges)
        g = int(sizes[0])
        small = np.int16 if p_.width < 15 else np.int32      # compares run faster narrow
        rs = r[:, order].astype(small)
        pt = np.ascontiguousarray(p.T, dtype=small)
        out = np.empty((T, self.n_neurons, nb), np.float32)
        chunk = max(1, self.CACHE_BYTES // (self._mag.size * 4))
        if np.all(sizes == g):
            # Equal groups (Sobol): input bits laid out (group, term, cycle in group, batch).
            a = np.empty((n_g, nt, g, nb), np.float32)
            np.less(rs.reshape(len(r), n_g, g).transpose(1, 0, 2)[..., None],
                    pt[None, :, None, :], out=a[:, :p_.n_inputs], casting="unsafe")
            a[:, p_.n_inputs:] = 1                                # the bias input
            a = a.reshape(n_g, nt, g * nb)
            for lo in range(0, n_g, chunk):
                m = self._matrices(uniq[lo:lo + chunk])
                res = np.matmul(m, a[lo:lo + chunk]).reshape(len(m), -1, g, nb)
                out[edges[lo]:edges[min(lo + chunk, n_g)]] = \
                    res.transpose(0, 2, 1, 3).reshape(-1, self.n_neurons, nb)
        else:
            a = np.empty((T, nt, nb), np.float32)
            np.less(rs.T[:, :, None], pt[None], out=a[:, :p_.n_inputs], casting="unsafe")
            a[:, p_.n_inputs:] = 1
            for lo in range(0, n_g, chunk):
                mats = self._matrices(uniq[lo:lo + chunk])
                for m, a0, a1 in zip(mats, edges[lo:lo + chunk], edges[lo + 1:lo + chunk + 1]):
                    blk = a[a0:a1].transpose(1, 0, 2).reshape(nt, -1)
                    out[a0:a1] = (m @ blk).reshape(-1, a1 - a0, nb).transpose(1, 0, 2)
        rank = np.empty(T, np.int64)
        rank[order] = np.arange(T)
        return out[rank].astype(np.int32)            # exact: |I| <= n_terms < 2**24

    def _currents_mux(self, p, T):
        """(T, N, batch) int32: the selected term's signed product bit."""
        r, s, sel = self.streams(T)
        k = np.arange(T)
        sign = np.sign(self.params.signed_terms)
        wbit = ((self._mag[:, sel] > s[None]) * sign[:, sel]).T.astype(np.int32)   # (T, N)
        abit = np.ones((T, len(p)), np.int32)
        is_input = sel < self.n_inputs
        idx = sel[is_input]
        abit[is_input] = r[idx, k[is_input], None] < p.T[idx]
        return wbit[:, :, None] * abit[:, None, :]

    def _currents(self, p, T):
        if self.params.accumulation == "counter":
            return self._currents_counter(p, T)
        return self._currents_mux(p, T)

    def currents_thresholds(self, p, T=None):
        """Per-cycle neuron currents (batch, n_neurons, T) for integer thresholds ``p``."""
        p, T = self._check_p(p, T)
        cur = self._currents(np.atleast_2d(p), T).astype(np.int64).transpose(2, 1, 0)
        return cur[0] if p.ndim == 1 else cur

    # -- results -----------------------------------------------------------------------

    def _packed(self, T):
        """(input values (T, words * 64), cycle -> value index, positive and negative packed
        weight masks per weight-source value, LIF vector) for the compiled run, cached; None
        when the masks would exceed ``CACHE_BYTES`` (then the GEMM path runs)."""
        key = ("packed_masks", T)
        if key not in self._cache:
            r, s, _ = self.streams(T)
            values, gidx = source_groups(s)
            words = -(-self.params.n_terms // 64)
            if 16 * len(values) * self.n_neurons * words > self.CACHE_BYTES:
                self._cache[key] = None
            else:
                small = np.int16 if self.params.width < 15 else np.int32
                q = self.params.signed_terms
                rt = np.zeros((T, words * 64), small)       # padded: 64 inputs per word
                rt[:, :self.n_inputs] = r.T
                self._cache[key] = (rt, gidx,
                                    *weight_masks(self._mag, np.sign(q), values),
                                    lif_vector(self.params.lif, self.params.n_terms))
        return self._cache[key]

    def _compiled(self, T):
        """The sample-independent arguments of :func:`.kernels.dense_lif` (input values, threshold
        scale, terms, cycle -> value index, weight masks, LIF vector) for counter accumulation,
        cached per T (one dict lookup on the one-sample hot path); None for the GEMM path."""
        key = ("compiled", T)
        if key not in self._cache:
            packed = self._packed(T) if self.params.accumulation == "counter" else None
            self._cache[key] = None if packed is None else (
                packed[0], float(1 << self.params.width), self.params.n_terms, *packed[1:])
        return self._cache[key]

    def _run_compiled(self, x, T, full, args=None):
        """:meth:`_simulate` by :func:`.kernels.dense_lif` for inputs ``x (batch, n)``; None
        if an ``x`` is outside [0, 1] (the caller raises the validated error)."""
        rt, scale, n_terms, gidx, pos, neg, lif = args or self._compiled(T)
        nb, N = len(x), pos.shape[2]
        out = np.empty((2, nb, N), np.int64)
        # Written cycle-major, (batch, T, N); full: 0 counts, 1 + spikes, 2 + currents, v.
        spikes = np.zeros((nb, T, N), np.uint8) if full else _NONE_U8
        cur, v = ((np.empty((nb, T, N), np.int64), np.zeros((nb, T, N), np.int64))
                  if full == 2 else (_NONE_I64, _NONE_I64))
        if not dense_lif(rt, x, scale, n_terms, gidx, pos, neg, lif, full, cur, spikes, v,
                         out[0], out[1]):
            return None
        counts, scores = out[0].T, out[1].T
        if not full:
            return None, None, None, counts, scores
        if full == 1:
            return spikes.transpose(1, 2, 0), None, None, counts, scores
        return (*(a.transpose(1, 2, 0) for a in (spikes, cur, v)), counts, scores)

    def _simulate(self, p, T, full=True):
        """Currents and LIF for a batch, cycle axis first; ``full=False``: counts/scores only.

        Counter accumulation runs compiled (:func:`.kernels.dense_lif`): per sample, the input
        bits packed into 64-bit words per cycle, each current a few popcounts against the packed
        weight bits of the cycle's weight-source value, the LIF in the same pass."""
        if self._compiled(T) is not None:
            # p is validated: its x = p / 2**W quantises back to p exactly.
            return self._run_compiled(p / float(1 << self.params.width), T, 2 if full else 0)
        cur = self._currents(p, T)                                      # (T, N, batch)
        if integrate_fire_exact(self.params, T):
            c, f = _prefix_fire(self.params.lif.threshold, cur)
            counts, scores = f[-1].astype(np.int64), c[-1].astype(np.int64) + cur[-1]
            if not full:
                return None, None, None, counts, scores
            spikes = np.zeros(f.shape, np.uint8)
            spikes[1:] = f[1:] != f[:-1]
            v = c.astype(np.int64) - self.params.lif.threshold * f
        else:
            spikes, v = (x.transpose(2, 1, 0) for x in
                         lif_run(self.params.lif, cur.transpose(2, 1, 0)))
            counts, scores = spikes.sum(0, dtype=np.int64), cur.sum(0, dtype=np.int64)
        return spikes, cur.astype(np.int64), v, counts, scores

    def evaluate_thresholds(self, p, T=None):
        """A :class:`DenseRun` for integer thresholds (what the hardware is loaded with)."""
        p, T = self._check_p(p, T)
        spikes, cur, v, counts, scores = self._simulate(np.atleast_2d(p), T)
        run = DenseRun(*(x.transpose(2, 1, 0) for x in (spikes, cur, v)), counts.T, scores.T)
        return DenseRun(*(x[0] for x in run)) if p.ndim == 1 else run

    def evaluate(self, x, T=None):
        """A :class:`DenseRun` for inputs ``x`` in [0, 1]."""
        return self.evaluate_thresholds(self.thresholds(x), T)

    def run(self, x, T=None):
        """Spike trains (n_neurons, T), or (batch, n_neurons, T); T defaults to ``length``."""
        T = self.params.length if T is None else check_int("T", T, 1, MAX_LENGTH)
        self._trains = None
        args = self._compiled(T)
        if args is not None:
            xa = np.asarray(x, np.float64)          # spikes only, one compiled call
            n = self.params.n_inputs
            if xa.ndim == 1 and len(xa) == n:       # one sample: the shortest path
                N = args[4].shape[2]
                out, spikes = np.empty((2, 1, N), np.int64), np.zeros((1, T, N), np.uint8)
                if dense_lif(args[0], xa.reshape(1, n), *args[1:], 1, _NONE_I64, spikes,
                             _NONE_I64, out[0], out[1]):
                    self._trains = spikes[0].T
                    return self._trains
            elif xa.ndim == 2 and xa.shape[-1] == n:
                run = self._run_compiled(xa.reshape(-1, n), T, 1, args)
                if run is not None:
                    spikes = run[0].transpose(2, 1, 0)
                    self._trains = spikes[0] if xa.ndim == 1 else spikes
        if self._trains is None:
            self._trains = self.evaluate(x, T).spikes
        return self._trains

    def get_spike_trains(self):
        """The spike trains of the last :meth:`run` (sc_neurocore name)."""
        return self._trains

    def forward(self, x):
        """Per-neuron firing rates ``count / length`` in [0, 1] (about ``relu(W x) / n_terms``
        with the default LIF)."""
        L = self.params.length
        args = self._compiled(L)
        if args is not None:
            xa = np.asarray(x, np.float64)          # one compiled call that also validates x
            n = self.params.n_inputs
            if xa.ndim == 1 and len(xa) == n:       # one sample: the shortest path
                out = np.empty((2, 1, args[4].shape[2]), np.int64)
                if dense_lif(args[0], xa.reshape(1, n), *args[1:], 0, _NONE_I64, _NONE_U8,
                             _NONE_I64, out[0], out[1]):
                    return out[0, 0] / L
            elif xa.ndim == 2 and xa.shape[1] == n:
                run = self._run_compiled(xa, L, 0, args)
                if run is not None:
                    return run[3].T / L
        p = self.thresholds(x)
        counts = self._simulate(np.atleast_2d(p), L, full=False)[3].T
        return (counts[0] if p.ndim == 1 else counts) / L

    def scores_thresholds(self, p, T=None):
        """Class scores ``sum_k I_j(k)`` for integer thresholds, without per-cycle currents.

        Counter accumulation: an input's stream depends on ``x`` only through its threshold
        ``P`` (2**W + 1 values), so :meth:`count_table` holds every synapse's signed product
        count for every ``P`` and a score is ``n_inputs`` table rows summed.
        """
        return self._scores(*self._check_p(p, T))

    def _scores(self, p, T):
        if self.params.accumulation == "mux":
            cur = self._currents(np.atleast_2d(p), T).sum(0, dtype=np.int64).T
            return cur[0] if p.ndim == 1 else cur
        table, bias = self.count_table(T)
        if table is None:                         # too large to tabulate: packed popcounts
            return self._scores_packed(p, T)
        p2 = np.ascontiguousarray(p, np.int64).reshape(-1, self.n_inputs)
        out = np.empty((len(p2), self.n_neurons), np.int64)
        table_gather(table, p2, bias, out)                         # sum of table rows, compiled
        return out[0] if p.ndim == 1 else out

    def count_table(self, T):
        """``(D, bias)``: ``D[i, P, j]`` = signed count of ``a_i AND b_ji`` over T cycles when
        input i has threshold P; ``bias[j]`` the bias synapse's count. Cached; ``(None, None)``
        when D would exceed ``CACHE_BYTES * 4``."""
        key = ("table", T)
        if key in self._cache:
            return self._cache[key]
        p_, n, top = self.params, self.n_inputs, 1 << self.params.width
        dtype = np.int16 if T < (1 << 15) else np.int32
        if n * (top + 1) * self.n_neurons * np.dtype(dtype).itemsize > 4 * self.CACHE_BYTES:
            self._cache[key] = (None, None)
            return self._cache[key]
        r, s, _ = self.streams(T)
        sign = np.sign(p_.signed_terms).astype(np.int32)
        order = np.argsort(r, axis=1, kind="stable")
        cycles_below = np.stack([np.searchsorted(row, np.arange(top + 1))
                                 for row in np.take_along_axis(r, order, 1)])   # (n, 2**W+1)
        table = np.empty((n, top + 1, self.n_neurons), dtype)
        chunk = max(1, (32 << 20) // (T * self.n_neurons * 4))
        for lo in range(0, n, chunk):
            hi = min(n, lo + chunk)
            # Cycles of each input in order of its source value: [R < P] is a prefix of them.
            wbits = s[order[lo:hi]][:, :, None] < self._mag[:, lo:hi].T[:, None, :]
            acc = np.zeros((hi - lo, T + 1, self.n_neurons), np.int32)
            np.cumsum(wbits * sign[:, lo:hi].T[:, None, :], axis=1, out=acc[:, 1:])
            table[lo:hi] = np.take_along_axis(acc, cycles_below[lo:hi, :, None], 1)
        bias = np.zeros(self.n_neurons, np.int64)
        if p_.bias is not None:
            bias = sign[:, -1] * (self._mag[:, -1][:, None] > s[None]).sum(-1)
        self._cache[key] = (table, bias)
        return self._cache[key]

    def _scores_packed(self, p, T):
        """Scores from packed streams: AND, ``np.bitwise_count``, signed sum."""
        single = p.ndim == 1
        p = np.atleast_2d(p)
        a = pack_bits(self.input_bits(p, T))              # (B, n_terms, words)
        w = self._packed_weights(T)                        # (N, n_terms, words)
        sign = np.sign(self.params.signed_terms)
        chunk = max(1, (16 << 20) // max(1, w.size))       # bound the AND temporary to ~128 MB
        out = np.empty((len(p), self.n_neurons), np.int64)
        for lo in range(0, len(p), chunk):
            ones = np.bitwise_count(a[lo:lo + chunk, None] & w[None]).sum(-1, dtype=np.int64)
            out[lo:lo + chunk] = (ones * sign).sum(-1)
        return out[0] if single else out

    def _packed_weights(self, T):
        key = ("packed", T)
        if key not in self._cache:
            s = self.streams(T)[1]
            self._cache[key] = pack_bits(self._mag[:, :, None] > s[None, None, :])
        return self._cache[key]

    def _table_scores(self, x, T, decode):
        """Scores of ``x`` (``decode``: times :meth:`estimate`'s decode factor, as floats) by
        one compiled call (quantise, check, sum count-table rows), or None when T has no table
        yet or ``x`` needs the validated path. The one-sample hot path: one dict lookup, no
        parameter checks."""
        fast = self._table_fast.get(T) if T is None or type(T) is int else None
        if fast is None:
            return None                   # (T not yet validated: scores() checks it first)
        table, bias, scale, acc_type, factor = fast
        x = np.asarray(x, np.float64)
        n = table.shape[0]
        dtype, factor = (np.float64, factor) if decode else (np.int64, 1)
        if x.ndim == 1 and len(x) == n:
            out = np.empty((1, len(bias)), dtype)
            if quantize_gather(table, x.reshape(1, n), scale, bias, out, acc_type, factor):
                return out[0]
        elif x.ndim == 2 and x.shape[1] == n:
            out = np.empty((len(x), len(bias)), dtype)
            if quantize_gather(table, x, scale, bias, out, acc_type, factor):
                return out
        return None

    def scores(self, x, T=None):
        """Integer class scores (the SC estimate of the dot product times ``1/decode_scale``)."""
        fast = self._table_scores(x, T, False)
        if fast is not None:
            return fast
        T = self.params.length if T is None else check_int("T", T, 1, MAX_LENGTH)
        scores = self._scores(self.thresholds(x), T)     # thresholds() validated x
        table = self.count_table(T)[0] if self.params.accumulation == "counter" else None
        if table is not None:
            # int32 sums when no score can leave int32 (every term counts at most T).
            narrow = self.params.n_terms * T < (1 << 31)
            fast = (table, self.count_table(T)[1], float(1 << self.params.width),
                    _ACC32 if narrow else _ACC64,
                    self.params.decode_scale * self.params.length / T)
            self._table_fast[T] = fast
            if T == self.params.length:
                self._table_fast[None] = fast
        return scores

    def estimate(self, x, T=None):
        """Decoded dot products ``sum_i w_ji x_i + b_j`` (floats)."""
        fast = self._table_scores(x, T, True)
        if fast is not None:
            return fast
        T = self.params.length if T is None else T
        return self.scores(x, T) * (self.params.decode_scale * self.params.length / T)

    def predict(self, x, T=None):
        """Index of the neuron with the highest score (first on ties)."""
        return np.argmax(self.scores(x, T), axis=-1)

    def exact(self, x):
        """The dot products the layer estimates, from the quantised weights and inputs."""
        p = self.thresholds(x)
        q = self.params.signed_terms
        top = float(1 << self.params.width)
        dot = p @ q[:, :self.n_inputs].T / top ** 2
        if self.params.bias is not None:
            dot = dot + q[:, -1] / top
        return dot
