"""Compiled kernels of the golden model's sequential parts (numba).

The neuron time loop is inherently sequential, and the per-cycle currents of a layer are
popcounts of packed input words against packed weight words; in NumPy both pay one allocating
call per cycle. These kernels run them as plain loops compiled by numba (LLVM): one pass, no
temporaries, state in registers. Why numba: it installs from PyPI as wheels on every platform
NumPy does (no compiler on the user's machine), compiles on first use and caches the machine
code next to this file (``cache=True``), and its loops read like the update rules they implement.

Every kernel states its reference: the NumPy rule it reproduces bit for bit (tests compare them).

* :func:`lif_kernel`: :func:`.lif.lif_step` over time (``lif_run``'s semantics).
* :func:`fixed_kernel`: the leaky / IF update rules of :mod:`.neuron_types` over time.
* :func:`packed_currents`: ``I_j(k) = sum_i sign_ji (a_i(k) AND [S(k) < Q_ji])`` from packed
  input words and per-source-value packed weight masks.
* :func:`dense_lif`: packed comparator inputs, currents and the LIF in one pass per sample.
* :func:`table_gather`: ``sum_i D[i, P_i]`` rows of a count table.
"""
import numpy as np
from numba import njit, types
from numba.extending import intrinsic

WORD = 64
# (x * _GATHER) >> 56 gathers the low bits of the 8 bytes of x into one byte (byte q -> bit q).
_GATHER = np.uint64(0x0102040810204080)

# The LIF's static parameters, as an int64 vector (one specialisation for every parameter set).
LIF_VMIN, LIF_VMAX, LIF_THR, LIF_SHIFT, LIF_SUBTRACT, LIF_REFRACTORY = range(6)


@intrinsic
def _popcount(typingctx, x):
    """The CPU's population count of a uint64 (LLVM ``ctpop``)."""
    if not isinstance(x, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        return builder.ctpop(args[0])
    return types.uint64(types.uint64), codegen


def lif_vector(p, max_current=None):
    """The static parameters of a :class:`.lif.LIFParams` for the kernels.

    The vector's dtype is the kernels' state dtype: int32 when ``max_current`` (the largest
    current magnitude of one cycle) is given and no intermediate of :func:`lif_update` can leave
    int32 (``2**(width-1) + max_current < 2**31``), else int64. int32 state lets LLVM update
    twice as many neurons per vector instruction (1.6x on a 64x16 layer)."""
    narrow = max_current is not None and (1 << (p.width - 1)) + max_current < (1 << 31)
    return np.array([p.v_min, p.v_max, p.threshold, p.leak_shift, p.reset == "subtract",
                     p.refractory], np.int32 if narrow else np.int64)


@njit(cache=True, nogil=True)
def lif_kernel(cur, lif, spikes, vs, full, v_last, r_last):
    """:func:`.lif.lif_run` on currents ``(M, T)``: writes spikes ``(M, T)``, when ``full`` the
    membrane ``vs (M, T)``, and the final state ``v_last``, ``r_last (M,)``; returns the spike
    counts ``(M,)``.

    Per neuron, the update of cycle k (current ``cur[m, k]``) sets spike and membrane of cycle
    k + 1, exactly as :func:`.lif.lif_step`."""
    vmin, vmax, thr, shift = lif[0], lif[1], lif[2], lif[3]
    subtract, refractory = lif[4] != 0, lif[5]
    M, T = cur.shape
    counts = np.zeros(M, np.int64)
    for m in range(M):
        v = np.int64(0)
        r = np.int64(0)
        c = np.int64(0)
        for k in range(T - 1):
            if r > 0:
                r -= 1
                fire = False
            else:
                u = v - ((v >> shift) if shift else 0) + cur[m, k]
                u = min(max(u, vmin), vmax)
                fire = u >= thr
                if fire:
                    v = u - thr if subtract else 0
                    r = refractory
                else:
                    v = u
            spikes[m, k + 1] = fire
            c += fire
            if full:
                vs[m, k + 1] = v
        counts[m] = c
        v_last[m] = v
        r_last[m] = r
    return counts


@njit(cache=True, nogil=True)
def lif_kernel_cycles(cur, lif, spikes, v_last, r_last):
    """:func:`lif_kernel` on cycle-major currents ``cur (B, T, N)``: spikes ``(B, T, N)`` and the
    final state ``(B, N)``; vectorised over the N neurons of a cycle (branch-free update)."""
    vmin, vmax, thr, shift = lif[0], lif[1], lif[2], lif[3]
    subtract, refractory = lif[4] != 0, lif[5]
    B, T, N = cur.shape
    for b in range(B):
        v = v_last[b]
        r = r_last[b]
        v[:] = 0
        r[:] = 0
        for k in range(T - 1):
            for j in range(N):
                vj = v[j]
                active = r[j] == 0
                u = vj - ((vj >> shift) if shift else 0) + cur[b, k, j]
                u = min(max(u, vmin), vmax)
                fire = active and u >= thr
                after = u - thr if subtract else 0
                v[j] = (after if fire else u) if active else vj
                r[j] = refractory if fire else (r[j] if active else r[j] - 1)
                spikes[b, k + 1, j] = fire


@njit(cache=True, nogil=True)
def fixed_kernel(cur, coef, spikes, v_out):
    """The :mod:`.neuron_types` leaky/IF update on currents ``(M, T)``; writes spikes
    ``(M, T)`` and the final membrane ``v_out (M,)``.

    ``coef`` = ``(kind, q_beta, q_in, q_bias, half, coef_bits, vmin, vmax, threshold, reset,
    v_reset)``: ``kind`` 0 leaky ``u = sat((q_beta v + q_in I + q_bias + half) >> B)``, 1 IF
    ``u = sat(((v << B) + q_in I + half) >> B)``; ``reset`` 0 subtract (``sat(u - thr)``),
    1 zero (``v_reset``), 2 none."""
    kind, q_beta, q_in, q_bias, half, bits = coef[0], coef[1], coef[2], coef[3], coef[4], coef[5]
    vmin, vmax, thr, reset, v_reset = coef[6], coef[7], coef[8], coef[9], coef[10]
    M, T = cur.shape
    for m in range(M):
        v = np.int64(0)
        for k in range(T - 1):
            if kind == 0:
                acc = q_beta * v + q_in * cur[m, k] + q_bias + half
            else:
                acc = (v << bits) + q_in * cur[m, k] + half
            u = min(max(acc >> bits, vmin), vmax)
            fire = u >= thr
            if fire:
                if reset == 0:
                    v = min(max(u - thr, vmin), vmax)
                elif reset == 1:
                    v = v_reset
                else:
                    v = u
            else:
                v = u
            spikes[m, k + 1] = fire
        v_out[m] = v


@njit(cache=True, nogil=True)
def pack_inputs(bits, n_terms, out):
    """Input bits ``(B, T, n)`` (uint8 0/1, cycle-major) -> packed words ``out (B, T, words)``
    with term i in bit ``i % 64`` of word ``i // 64``; terms ``n..n_terms-1`` (the bias) are
    always 1."""
    B, T, n = bits.shape
    W = out.shape[2]
    buf = np.zeros(W * 64, np.uint8)
    buf[n:n_terms] = 1
    b64 = buf.view(np.uint64)
    word = np.zeros(W, np.uint64)
    w8 = word.view(np.uint8)
    for b in range(B):
        for k in range(T):
            for i in range(n):
                buf[i] = bits[b, k, i]
            for q in range(W * 8):
                w8[q] = (b64[q] * _GATHER) >> np.uint64(56)
            for w in range(W):
                out[b, k, w] = word[w]


@njit(cache=True, nogil=True)
def packed_currents(a, gidx, pos, neg, cur, scores):
    """Currents ``cur (B, T, N)`` from packed inputs ``a (B, T, words)``: cycle k uses the
    weight masks ``pos/neg[gidx[k]] (words, N)`` of its weight-source value; their sums over
    the run in ``scores (B, N)``."""
    B, T, W = a.shape
    N = pos.shape[2]
    c = np.zeros(N, np.int64)
    for b in range(B):
        sc = scores[b]
        sc[:] = 0
        for k in range(T):
            g = gidx[k]
            c[:] = 0
            for w in range(W):
                aw = a[b, k, w]
                for j in range(N):
                    c[j] += np.int64(_popcount(aw & pos[g, w, j])) - \
                        np.int64(_popcount(aw & neg[g, w, j]))
            for j in range(N):
                cur[b, k, j] = c[j]
                sc[j] += c[j]


@njit(cache=True, nogil=True)
def cycle_counts(spikes, counts):
    """``counts (B, N)``: the spikes of cycle-major trains ``spikes (B, T, N)``."""
    B, T, N = spikes.shape
    for b in range(B):
        cb = counts[b]
        cb[:] = 0
        for k in range(T):
            for j in range(N):
                cb[j] += spikes[b, k, j]


@njit(cache=True, nogil=True, inline="always")
def lif_update(vj, rj, cj, vmin, vmax, thr, shift, subtract, refractory):
    """:func:`.lif.lif_step` of one neuron (membrane ``vj``, refractory count ``rj``, current
    ``cj``), branch-free; returns ``(v, r, spike)``.

    Scalars in and out and no integer literals (numba types them int64, widening int32 state,
    :func:`lif_vector`): both keep the callers' loops over neurons vectorised."""
    zero = vj ^ vj
    active = rj == zero
    u = vj - ((vj >> shift) if shift else zero) + cj
    u = min(max(u, vmin), vmax)
    fire = active and u >= thr
    after = u - thr if subtract else zero
    return ((after if fire else u) if active else vj,
            refractory if fire else (rj if active else rj + ~zero), fire)       # ~0 == -1


@njit(cache=True, nogil=True, inline="always")
def word_currents(a, pos, neg, g, c):
    """One SC cycle's currents ``c (N,)`` from its packed input bits ``a`` (W words): per
    neuron the popcounts of ``a`` against its positive and negative weight bits of source value
    ``g`` (:func:`packed_currents`)."""
    G, W, N = pos.shape
    c[:] = 0
    for w in range(W):
        aw = a[w]
        for j in range(N):
            c[j] += np.int64(_popcount(aw & pos[g, w, j])) - \
                np.int64(_popcount(aw & neg[g, w, j]))


@njit(cache=True, nogil=True, inline="always")
def cycle_currents(a, a8, b64, pos, neg, g, c):
    """:func:`word_currents` of a cycle's input bits given one byte per input in the bytes
    under ``b64`` (W * 8 uint64 words), packed into ``a`` (``a8`` its bytes) by one multiply
    per 8 bits."""
    for q in range(a.shape[0] * 8):
        a8[q] = (b64[q] * _GATHER) >> np.uint64(56)
    word_currents(a, pos, neg, g, c)


@njit(cache=True, nogil=True)
def dense_lif(rt, x, scale, n_terms, gidx, pos, neg, lif, full, cur_out, spk_out, v_out,
              counts, scores):
    """A dense layer's run for inputs ``x (B, n)`` in [0, 1], one pass per sample.

    Input i's threshold is ``P_i = floor(x_i * scale + 1/2)`` (:func:`.sng.quantize_unipolar`)
    and its bit in cycle k is ``rt[k, i] < P_i`` (``rt (T, words * 64)``: the input source
    values, columns from n on any value >= 0: their thresholds are 0); terms
    ``n..n_terms-1`` are the constant-1 bias. ``pos/neg (G, words, N)`` are the packed
    positive and negative weight bits per weight-source value, ``gidx (T,)`` each cycle's
    value index, ``lif`` :func:`lif_vector`. Writes ``counts`` and ``scores (B, N)``, with
    ``full`` >= 1 the spikes and with ``full`` = 2 also currents and membrane ``(B, T, N)``
    (cycle-major). Returns False, having written
    nothing, if an ``x`` is outside [0, 1] or NaN.

    Laid out so that the compiler vectorises over neurons: per cycle, each word of input bits
    meets the words of every neuron (contiguous), and the LIF update is branch-free."""
    T = rt.shape[0]
    B, n = x.shape
    G, W, N = pos.shape
    for b in range(B):
        for i in range(n):
            if not (x[b, i] >= 0.0 and x[b, i] <= 1.0):
                return False
    vmin, vmax, thr, shift = lif[0], lif[1], lif[2], lif[3]
    subtract, refractory = lif[4] != 0, lif[5]
    p = np.zeros(W * 64, rt.dtype)
    bias = np.zeros(W, np.uint64)                # the bias inputs' always-set bits
    for i in range(n, n_terms):
        bias[i // 64] |= np.uint64(1) << np.uint64(i % 64)
    a = np.zeros(W, np.uint64)
    v = np.zeros(N, lif.dtype)                   # the state dtype of lif_vector
    r = np.zeros(N, lif.dtype)
    f = np.zeros(N, lif.dtype)
    sc = np.zeros(N, np.int64)
    c = np.zeros(N, lif.dtype)
    fa = np.zeros(N, np.uint8)
    for b in range(B):
        for i in range(n):
            p[i] = np.int64(np.floor(x[b, i] * scale + 0.5))
        v[:] = 0
        r[:] = 0
        f[:] = 0
        sc[:] = 0
        for k in range(T):
            for w in range(W):                   # an OR-reduction the compiler vectorises
                word = bias[w]
                for i in range(64):
                    word |= np.uint64(rt[k, w * 64 + i] < p[w * 64 + i]) << np.uint64(i)
                a[w] = word
            word_currents(a, pos, neg, gidx[k], c)
            for j in range(N):
                sc[j] += c[j]
            if full == 2:
                for j in range(N):
                    cur_out[b, k, j] = c[j]
            if k == T - 1:
                continue
            for j in range(N):
                v[j], r[j], fire = lif_update(v[j], r[j], c[j], vmin, vmax, thr, shift,
                                              subtract, refractory)
                f[j] += fire
                fa[j] = fire
            if full:
                for j in range(N):
                    spk_out[b, k + 1, j] = fa[j]
            if full == 2:
                for j in range(N):
                    v_out[b, k + 1, j] = v[j]
        for j in range(N):
            counts[b, j] = f[j]
            scores[b, j] = sc[j]
    return True


@njit(cache=True, nogil=True)
def table_gather(table, p, bias, out):
    """``out[b] = sum_i table[i, p[b, i]] + bias`` (int16/int32 table rows, int64 sums)."""
    B, n = p.shape
    N = table.shape[2]
    acc = np.zeros(N, np.int64)
    for b in range(B):
        acc[:] = 0
        for i in range(n):
            row = table[i, p[b, i]]
            for j in range(N):
                acc[j] += row[j]
        for j in range(N):
            out[b, j] = acc[j] + bias[j]


@njit(cache=True, nogil=True)
def quantize_gather(table, x, scale, bias, out, acc_type, factor):
    """:func:`table_gather` of the thresholds ``floor(x * scale + 1/2)`` of ``x (B, n)`` in
    [0, 1] (:func:`.sng.quantize_unipolar`), summed in ``acc_type``'s dtype (int32 when no
    score can leave it: twice the vector width of int64), times ``factor`` (an int 1 for
    integer scores, a float decode factor for estimates written straight to a float ``out``);
    returns False, ``out`` partly written, if any ``x`` is outside [0, 1] or NaN (the caller
    then raises the validated error).

    Per sample, one loop quantises and checks every input (vectorised: truncation is the floor
    of the positive ``x * scale + 1/2``), then the rows are summed."""
    B, n = x.shape
    N = table.shape[2]
    p = np.empty(n, np.int64)
    acc = np.zeros(N, acc_type.dtype)
    for b in range(B):
        ok = True
        for i in range(n):
            xi = x[b, i]
            ok &= (xi >= 0.0) & (xi <= 1.0)
            p[i] = np.int64(xi * scale + 0.5)
        if not ok:
            return False
        acc[:] = 0
        for i in range(n):
            row = table[i, p[i]]
            for j in range(N):
                acc[j] += row[j]
        for j in range(N):
            out[b, j] = (acc[j] + bias[j]) * factor
    return True


def weight_masks(mag, sign, values):
    """Packed weight bits per weight-source value: ``(pos, neg)`` uint64 ``(G, words, N)`` with
    bit i of neuron j set when ``mag[j, i] > values[g]`` and the weight is positive / negative."""
    n_neurons, n_terms = mag.shape
    words = -(-n_terms // WORD)
    bits = mag[None] > np.asarray(values)[:, None, None]                     # (G, N, n_terms)
    out = []
    for keep in (sign > 0, sign < 0):
        b = np.zeros((len(values), n_neurons, words * WORD), np.uint8)
        b[:, :, :n_terms] = bits & keep[None]
        words_ = np.packbits(b, axis=-1, bitorder="little").view(np.uint64)
        out.append(np.ascontiguousarray(words_.reshape(len(values), n_neurons, words)
                                        .transpose(0, 2, 1)))
    return out


def source_groups(s):
    """``(values, index)``: the distinct weight-source values and each cycle's index into them."""
    values, index = np.unique(np.asarray(s), return_inverse=True)
    return values, index.astype(np.int64)


@njit(cache=True, nogil=True)
def layer_run(rt, p, scale, bits, n_terms, gidx, pos, neg, kind, par, cur, spikes, out):
    """One network layer over a batch in one pass per sample: input bits, currents, neurons.

    Input bits ``bits (B, T, n)`` (cycle-major uint8) are read, or, when ``rt (T, n)`` has
    rows, written first as the encoder's ``rt[k, i] < P[b, i]``: ``P = p`` (integer
    thresholds) when ``scale`` is 0, else ``P = floor(p * scale + 1/2)`` of inputs ``p`` in
    [0, 1] (:func:`.sng.quantize_unipolar`; returns False at a sample with an input outside
    [0, 1] or NaN, the outputs up to it written). Returns True. Terms ``n..n_terms-1`` are
    the constant-1 bias. Currents are :func:`packed_currents`'s (``pos/neg (G, words, N)``,
    ``gidx (T,)``), written to ``cur (B, T, N)`` and summed in ``scores (B, N)``. The neuron:
    ``kind`` 0 the LIF of :func:`lif_kernel_cycles` (``par`` = :func:`lif_vector`), 1 leaky and
    2 IF of :func:`fixed_kernel` (``par`` = its ``coef``); spikes ``(B, T, N)`` (cycle 0 shows
    none, the update with ``cur[k]`` sets cycle k + 1); ``out (2, B, N)`` their counts and the
    scores."""
    counts, scores = out[0], out[1]
    B, T, n = bits.shape
    G, W, N = pos.shape
    encode = rt.shape[0] > 0
    buf = np.zeros(W * 64, np.uint8)
    buf[n:n_terms] = 1
    b64 = buf.view(np.uint64)
    a = np.zeros(W, np.uint64)
    a8 = a.view(np.uint8)
    c = np.zeros(N, par.dtype)                   # int32 for a narrow lif_vector
    v = np.zeros(N, par.dtype)
    r = np.zeros(N, par.dtype)
    f = np.zeros(N, par.dtype)
    sc = np.zeros(N, np.int64)
    if kind == 0:
        vmin, vmax, thr, shift = par[0], par[1], par[2], par[3]
        subtract, refractory = par[4] != 0, par[5]
        q_beta = q_in = q_bias = half = cbits = reset = v_reset = par[0] ^ par[0]
    else:
        q_beta, q_in, q_bias, half, cbits = par[1], par[2], par[3], par[4], par[5]
        vmin, vmax, thr, reset, v_reset = par[6], par[7], par[8], par[9], par[10]
        shift = refractory = par[0] ^ par[0]        # zero in par's dtype (keeps int32 int32)
        subtract = False
    pb = np.zeros(n, rt.dtype)                  # the thresholds in the source's narrow type
    for b in range(B):
        v[:] = 0
        r[:] = 0
        f[:] = 0
        sc[:] = 0
        for j in range(N):
            spikes[b, 0, j] = 0
        if encode and scale > 0:
            ok = True
            for i in range(n):
                xi = p[b, i]
                ok &= (xi >= 0.0) & (xi <= 1.0)
                pb[i] = np.int64(xi * scale + 0.5)      # the floor of a positive value
            if not ok:
                return False
        elif encode:
            for i in range(n):
                pb[i] = p[b, i]
        for k in range(T):
            if encode:
                for i in range(n):
                    t = rt[k, i] < pb[i]
                    buf[i] = t
                    bits[b, k, i] = t
            else:
                for i in range(n):
                    buf[i] = bits[b, k, i]
            cycle_currents(a, a8, b64, pos, neg, gidx[k], c)
            for j in range(N):
                sc[j] += c[j]
                cur[b, k, j] = c[j]
            if k == T - 1:
                continue
            if kind == 0:
                for j in range(N):
                    v[j], r[j], fire = lif_update(v[j], r[j], c[j], vmin, vmax, thr, shift,
                                                  subtract, refractory)
                    f[j] += fire
                    spikes[b, k + 1, j] = fire
            else:
                for j in range(N):               # fixed_kernel's update
                    if kind == 1:
                        acc = q_beta * v[j] + q_in * c[j] + q_bias + half
                    else:
                        acc = (v[j] << cbits) + q_in * c[j] + half
                    u = min(max(acc >> cbits, vmin), vmax)
                    fire = u >= thr
                    if fire:
                        if reset == 0:
                            u = min(max(u - thr, vmin), vmax)
                        elif reset == 1:
                            u = v_reset
                    v[j] = u
                    f[j] += fire
                    spikes[b, k + 1, j] = fire
        for j in range(N):
            counts[b, j] = f[j]
            scores[b, j] = sc[j]
    return True


@njit(cache=True, nogil=True)
def quantize_check(x, scale, p):
    """``p = floor(x * scale + 1/2)`` (:func:`.sng.quantize_unipolar`) for ``x (B, n)``; returns
    False, ``p`` partly written, if any ``x`` is outside [0, 1] or NaN."""
    B, n = x.shape
    for b in range(B):
        for i in range(n):
            xi = x[b, i]
            if not (xi >= 0.0 and xi <= 1.0):
                return False
            p[b, i] = np.int64(np.floor(xi * scale + 0.5))
    return True
