"""Event-driven synapses: spikes as address events, weights stored only for real synapses.

Semantics (shared by the RTL, :mod:`scfpga.hdl.event`). A layer of ``n_pre`` inputs and
``n_post`` outputs holds its synapses in CSR order, sorted by input (pre) then output (post):
input ``i`` owns the synapse addresses ``pre_ptr[i] .. pre_ptr[i+1]-1``, synapse ``s`` adds the
signed integer ``weight[s]`` to output ``post[s]``. Per time step the input is a spike vector
``s`` (0/1 or boolean); the output is the integer sum

    y[j] = sum over active inputs i of the weights of i's synapses onto j
         = (s @ W)[j],   W = dense_weight(params)   (exactly: integers, no overflow),

because the accumulators are :attr:`EventParams.acc_width` bits wide, enough for the largest
column sum of either sign. Only the rows of active inputs are read, so the work of a step is

    event_cycles = STEP_CYCLES + sum over active inputs i of (EVENT_CYCLES + row length of i)

clock cycles in the hardware (a line in the number of active inputs, never the synapse count).

Connectivity of the random ops (``EventFixedProb``, ``FixedNumConn``) comes from
:func:`connectivity`, the one seeded generator: a SplitMix64 hash of ``(seed, pre, post)``, so it
does not depend on NumPy's generator versions and the same seed gives the same synapses in the
model, the hardware and on every machine.
"""
from dataclasses import dataclass

import numpy as np

from .params import ParameterError, check_int, check_seed, load_array, signed_range

MAX_PRE = 4096
MAX_POST = 4096
MAX_SYNAPSES = 1 << 20
MAX_WEIGHT_WIDTH = 32
MAX_FRAC = 30

EVENT_CYCLES = 2        # per active input: pop the address event, read its row pointers
STEP_CYCLES = 1         # per step: pop the end-of-step marker, publish the sums


def _bits(n):
    """Bits of an unsigned field holding 0..n (at least 1)."""
    return max(1, int(n).bit_length())


def _signed_bits(lo, hi):
    """Bits of a two's-complement field holding lo..hi (at least 2)."""
    bits = 2
    while not (signed_range(bits)[0] <= lo and hi <= signed_range(bits)[1]):
        bits += 1
    return bits


@dataclass(frozen=True)
class EventParams:
    """Synapses of an event-driven layer in CSR order (build with :func:`from_dense` or
    :func:`from_connections`).

    Parameters
    ----------
    n_pre : int
        Inputs (address-event sources), 1..4096.
    n_post : int
        Outputs (accumulators), 1..4096.
    pre_ptr : tuple of int
        ``n_pre + 1`` row pointers, non-decreasing from 0 to the synapse count.
    post : tuple of int
        Output index of each synapse, 0..n_post-1, increasing within a row (no duplicates).
    weight : tuple of int
        Signed weight of each synapse, in the ``weight_width``-bit two's-complement range.
    weight_width : int
        Bits of a stored weight (signed), 2..32.
    """
    n_pre: int
    n_post: int
    pre_ptr: tuple
    post: tuple
    weight: tuple
    weight_width: int = 8

    def __post_init__(self):
        check_int("n_pre", self.n_pre, 1, MAX_PRE)
        check_int("n_post", self.n_post, 1, MAX_POST)
        check_int("weight_width", self.weight_width, 2, MAX_WEIGHT_WIDTH)
        ptr = np.asarray(self.pre_ptr, np.int64)
        if ptr.shape != (self.n_pre + 1,) or ptr[0] != 0 or (np.diff(ptr) < 0).any():
            raise ParameterError(f"pre_ptr must be {self.n_pre + 1} non-decreasing row pointers "
                                 "starting at 0")
        n = int(ptr[-1])
        check_int("synapses", n, 0, MAX_SYNAPSES)
        post = np.asarray(self.post, np.int64)
        weight = np.asarray(self.weight, np.int64)
        if post.shape != (n,) or weight.shape != (n,):
            raise ParameterError(f"post and weight must hold one entry per synapse ({n})")
        if n and (post.min() < 0 or post.max() >= self.n_post):
            raise ParameterError(f"post must hold output indices in 0..{self.n_post - 1}")
        # Increasing within each row: a step down is allowed only where a new row starts.
        starts = np.zeros(n, bool)
        starts[ptr[:-1][ptr[:-1] < n]] = True
        if n and ((np.diff(post) <= 0) & ~starts[1:]).any():
            raise ParameterError("post must increase within each input's row (no duplicate "
                                 "synapses)")
        lo, hi = signed_range(self.weight_width)
        if n and (weight.min() < lo or weight.max() > hi):
            raise ParameterError(f"weight must hold integers in {lo}..{hi} "
                                 f"(weight_width {self.weight_width})")

    # ---- derived sizes (the hardware's field widths) -------------------------------------
    @property
    def n_synapses(self):
        return len(self.post)

    @property
    def index_bits(self):
        """Bits of an address event (an input index)."""
        return _bits(self.n_pre - 1)

    @property
    def ptr_bits(self):
        """Bits of a synapse address or row pointer (0..n_synapses)."""
        return _bits(self.n_synapses)

    @property
    def post_bits(self):
        return _bits(self.n_post - 1)

    @property
    def acc_width(self):
        """Signed accumulator bits: every column's sum of negative weights and of positive
        weights fits, so no step can overflow (the sums equal the dense product exactly)."""
        w = np.asarray(self.weight, np.int64)
        post = np.asarray(self.post, np.int64)
        neg = np.bincount(post, np.minimum(w, 0), self.n_post)
        pos = np.bincount(post, np.maximum(w, 0), self.n_post)
        return max(self.weight_width, _signed_bits(int(neg.min()), int(pos.max())))

    @property
    def row_lengths(self):
        return np.diff(np.asarray(self.pre_ptr, np.int64))


# ---------------------------------------------------------------------------- construction

def from_connections(n_pre, n_post, pre, post, weight, weight_width=8):
    """:class:`EventParams` of synapses given as parallel arrays (any order; sorted here).

    ``weight`` is a scalar (every synapse) or one integer per synapse.
    """
    check_int("n_pre", n_pre, 1, MAX_PRE)
    pre = np.asarray(pre, np.int64).ravel()
    post = np.asarray(post, np.int64).ravel()
    if pre.shape != post.shape:
        raise ParameterError(f"pre and post must have one entry per synapse, got {pre.shape} "
                             f"and {post.shape}")
    if pre.size and (pre.min() < 0 or pre.max() >= n_pre):
        raise ParameterError(f"pre must hold input indices in 0..{n_pre - 1}")
    weight = np.broadcast_to(np.asarray(weight), pre.shape)
    if weight.size and not np.issubdtype(weight.dtype, np.integer):
        raise ParameterError("weight must be integers (quantise floats with quantize_weights)")
    order = np.lexsort((post, pre))
    pre, post, weight = pre[order], post[order], weight[order].astype(np.int64)
    ptr = np.concatenate([[0], np.cumsum(np.bincount(pre, minlength=n_pre))])
    return EventParams(n_pre, n_post, tuple(ptr.tolist()), tuple(post.tolist()),
                       tuple(weight.tolist()), weight_width)


def from_dense(weight, weight_width=8):
    """:class:`EventParams` of an integer matrix ``(n_pre, n_post)``: one synapse per non-zero
    entry (a zero weight adds nothing, so skipping it keeps the result exact)."""
    w = np.asarray(weight)
    if w.ndim != 2 or w.size == 0:
        raise ParameterError(f"weight must be a 2-D (n_pre, n_post) array, got shape {w.shape}")
    if not np.issubdtype(w.dtype, np.integer):
        raise ParameterError("weight must be integers (quantise floats with quantize_weights)")
    pre, post = np.nonzero(w)
    return from_connections(w.shape[0], w.shape[1], pre, post, w[pre, post], weight_width)


def dense_weight(params: EventParams):
    """The ``(n_pre, n_post)`` integer matrix of the synapses (zeros where there is none)."""
    w = np.zeros((params.n_pre, params.n_post), np.int64)
    pre = np.repeat(np.arange(params.n_pre), params.row_lengths)
    w[pre, np.asarray(params.post, np.int64)] = params.weight
    return w


def quantize_weights(weight, bits):
    """Integers and fraction bits of real weights: ``(round(w * 2**frac), frac)``.

    The rule (documented for the float API): ``frac`` is the largest value in 0..30 for which
    every ``floor(w * 2**frac + 1/2)`` fits in ``bits`` signed bits (``bits - 1`` when every
    weight is 0); the integers are those rounded values. The float result of a layer is its
    integer result times ``2**-frac``.
    """
    check_int("weight_bits", bits, 2, MAX_WEIGHT_WIDTH)
    w = np.asarray(weight, np.float64)
    if not np.isfinite(w).all():
        raise ParameterError("weight must hold finite numbers")
    lo, hi = signed_range(bits)
    frac = bits - 1 if not w.size or not np.any(w) else None
    if frac is None:
        for f in range(MAX_FRAC, -1, -1):
            q = np.floor(w * 2.0 ** f + 0.5)
            if q.min() >= lo and q.max() <= hi:
                frac = f
                break
        else:
            raise ParameterError(f"weight magnitudes must be below {hi + 0.5} to fit "
                                 f"{bits} signed bits, got {np.abs(w).max()}")
    return np.floor(w * 2.0 ** frac + 0.5).astype(np.int64), frac


# ---------------------------------------------------------------------------- connectivity

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def _splitmix(x):
    x = x + _GOLDEN
    x = (x ^ (x >> np.uint64(30))) * _MIX1
    x = (x ^ (x >> np.uint64(27))) * _MIX2
    return x ^ (x >> np.uint64(31))


def seeded_hash(seed, *keys):
    """A 64-bit SplitMix64 hash of ``seed`` and the integer arrays ``keys`` (broadcast): the
    project's one source of seeded connectivity and graph spike encoding."""
    with np.errstate(over="ignore"):
        h = _splitmix(np.full(np.broadcast_shapes(*(np.shape(k) for k in keys)),
                              np.uint64(seed)))
        for k in keys:
            h = _splitmix(h ^ np.asarray(k, np.int64).astype(np.uint64))
    return h


def connectivity(n_pre, n_post, conn_num, seed, rule):
    """Seeded synapses ``(pre, post)`` (CSR order) of a random layer.

    ``rule="prob"``: each pair ``(i, j)`` is a synapse iff the top 32 bits of
    ``seeded_hash(seed, i, j)`` are below ``floor(conn_num * 2**32 + 1/2)`` (``conn_num`` a
    probability in [0, 1]). ``rule="num"``: every output ``j`` receives exactly ``conn_num``
    distinct inputs (fan-in), the ones with the smallest hashes (ties to the lower input).
    """
    check_int("n_pre", n_pre, 1, MAX_PRE)
    check_int("n_post", n_post, 1, MAX_POST)
    check_seed("seed", seed)
    h = seeded_hash(seed, np.arange(n_pre)[:, None], np.arange(n_post)[None, :])
    if rule == "prob":
        p = float(conn_num)
        if not 0.0 <= p <= 1.0:
            raise ParameterError(f"conn_num must be a probability in [0, 1], got {conn_num!r}")
        keep = (h >> np.uint64(32)) < np.uint64(int(np.floor(p * 2.0 ** 32 + 0.5)))
        pre, post = np.nonzero(keep)
    elif rule == "num":
        k = check_int("conn_num", conn_num, 0, n_pre)
        chosen = np.argsort(h, axis=0, kind="stable")[:k]          # (k, n_post) input indices
        pre, post = chosen.ravel(), np.tile(np.arange(n_post), k)
    else:
        raise ParameterError(f"rule must be prob or num, got {rule!r}")
    if len(pre) > MAX_SYNAPSES:
        raise ParameterError(f"synapses must be at most {MAX_SYNAPSES}, got {len(pre)}")
    order = np.lexsort((post, pre))
    return pre[order], post[order]


# --------------------------------------------------------------------------- golden model

def check_spikes(params: EventParams, spikes):
    """Spikes ``(..., n_pre)`` as uint8: booleans, or numbers that are all 0 or 1."""
    s = np.asarray(spikes)
    if s.ndim < 1 or s.shape[-1] != params.n_pre:
        raise ParameterError(f"spikes must have shape (..., {params.n_pre}), got {s.shape}")
    if s.dtype != bool and not (np.issubdtype(s.dtype, np.number) and np.isin(s, (0, 1)).all()):
        raise ParameterError("spikes must be boolean or hold only 0 and 1")
    return s.astype(np.uint8)


def event_apply(params: EventParams, spikes):
    """Per step sums ``(..., n_post)`` int64: the rows of the active inputs only, accumulated
    per output (equal to ``spikes @ dense_weight(params)``)."""
    s = check_spikes(params, spikes)
    flat = s.reshape(-1, params.n_pre)
    steps, syn = np.nonzero(flat[:, np.repeat(np.arange(params.n_pre), params.row_lengths)])
    weight = np.asarray(params.weight, np.int64)[syn]
    target = steps * params.n_post + np.asarray(params.post, np.int64)[syn]
    # Sums of integers below 2**53 are exact in bincount's float64.
    out = np.bincount(target, weight, len(flat) * params.n_post).astype(np.int64)
    return out.reshape(s.shape[:-1] + (params.n_post,))


def event_cycles(params: EventParams, spikes):
    """Clock cycles the hardware works on each step ``(...)``: :data:`STEP_CYCLES` plus
    :data:`EVENT_CYCLES` and the row length of every active input."""
    s = check_spikes(params, spikes).astype(np.int64)
    return STEP_CYCLES + s @ (EVENT_CYCLES + params.row_lengths)


# ---------------------------------------------------------------------------- memory image

def row_words(params: EventParams):
    """Row memory: word ``i`` = ``start | end << ptr_bits`` of input ``i``'s synapses."""
    ptr = np.asarray(params.pre_ptr, np.int64)
    return (ptr[:-1] | (ptr[1:] << params.ptr_bits)).tolist()


def synapse_words(params: EventParams):
    """Synapse memory: word ``s`` = ``post | (weight mod 2**weight_width) << post_bits``."""
    w = np.asarray(params.weight, np.int64) & ((1 << params.weight_width) - 1)
    return (np.asarray(params.post, np.int64) | (w << params.post_bits)).tolist()


def memory_bits(params: EventParams):
    """Bits of the row and synapse memories: ``n_pre * 2 * ptr_bits + n_synapses *
    (post_bits + weight_width)``; no dense matrix anywhere."""
    return (params.n_pre * 2 * params.ptr_bits
            + params.n_synapses * (params.post_bits + params.weight_width))


# ------------------------------------------------------------------------- the CLI's ops

def make_linear(v):
    """``event-linear`` from option values: ``weights`` (.npy, (n_pre, n_post) reals,
    quantised by :func:`quantize_weights`) or seeded random integers at ``density``."""
    bits = v["weight_width"]
    if v["weights"] is not None:
        w = load_array(v["weights"], "weights")
        if w.ndim != 2:
            raise ParameterError(f"weights must have shape (n_pre, n_post), got {w.shape}")
        return from_dense(quantize_weights(w, bits)[0], bits)
    check_int("n_pre", v["n_pre"], 1, MAX_PRE)
    check_int("n_post", v["n_post"], 1, MAX_POST)
    check_int("weight_width", bits, 2, MAX_WEIGHT_WIDTH)
    density = float(v["density"])
    if not 0.0 <= density <= 1.0:
        raise ParameterError(f"density must be in [0, 1], got {density}")
    rng = np.random.default_rng(check_seed("weight_seed", v["weight_seed"]))
    lo, hi = signed_range(bits)
    w = rng.integers(lo, hi + 1, (v["n_pre"], v["n_post"]))
    return from_dense(w * (rng.random(w.shape) < density), bits)


def make_random(rule):
    """``make`` of a seeded random layer (``rule`` of :func:`connectivity`), one weight for
    every synapse."""
    def make(v):
        pre, post = connectivity(v["n_pre"], v["n_post"], v["conn_num"], v["seed"], rule)
        return from_connections(v["n_pre"], v["n_post"], pre, post, v["conn_weight"],
                                v["weight_width"])
    return make


def model_lines(params, x, stim_seed):
    """Per step sums, one line per step. ``x``: a 0/1 spike raster (T, n_pre); default: 8
    seeded random steps of random activity."""
    if x is None:
        rng = np.random.default_rng(stim_seed)
        x = rng.random((8, params.n_pre)) < rng.random((8, 1))
    x = np.asarray(x)
    if x.ndim != 2:
        raise ParameterError(f"x must be a spike raster of shape (T, {params.n_pre}), "
                             f"got {x.shape}")
    return [" ".join(str(int(c)) for c in row) for row in event_apply(params, x)]
