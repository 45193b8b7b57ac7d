"""Attention bench: runs on random thresholds, random ``en`` pauses, ignored starts and
threshold changes while busy; checks ``busy``, ``done`` and every running ``den``/``num``.

Threshold ports carry new random values every cycle (10 % at the extremes 0 and 2**width); a
run must use the values of its ``start`` cycle only. Expected counts come from
:func:`scfpga.model.attention.attention_bits` of those thresholds.
"""
import numpy as np

from ..hdl.attention import count_ports, threshold_ports
from ..model.attention import AttentionParams, attention_bits
from ..model.params import ParameterError
from .timeline import enabled_index, random_enable


def default_cycles(params: AttentionParams):
    return 3 * (params.length + 24)


def _thresholds(params, rng, n):
    top = 1 << params.width
    t = rng.integers(0, top + 1, size=(n, len(threshold_ports(params))))
    extreme = rng.random(t.shape) < 0.1
    t[extreme] = rng.choice([0, top], size=int(extreme.sum()))
    return t


def make_case(params: AttentionParams, cycles, rng, p_on=0.85):
    p = params
    names, counts = threshold_ports(p), count_ports(p)
    nq, nk = p.n_q * p.dim_k, p.n_k * p.dim_k
    start, en, rows_exp = [], [], []
    state = np.zeros(len(counts), np.int64)
    busy, done = [], []
    done_next = 0
    thresholds = _thresholds(p, rng, cycles)
    while True:
        gap = int(rng.integers(1, 5))
        run_en = np.zeros(0, np.int64)
        while run_en.sum() < p.length:
            run_en = np.concatenate([run_en, random_enable(rng, 2 * p.length + 8, p_on)])
        run_en = run_en[:int(np.searchsorted(np.cumsum(run_en), p.length)) + 1]
        if len(start) + gap + len(run_en) > cycles:
            break
        # idle gap: held counts; the last gap cycle starts the run
        for g in range(gap):
            start.append(1 if g == gap - 1 else 0)
            en.append(int(rng.integers(0, 2)))
            rows_exp.append(state)
            busy.append(0)
            done.append(done_next if g == 0 else 0)
        t = thresholds[len(start) - 1]
        q = t[:nq].reshape(p.n_q, p.dim_k)
        k = t[nq:nq + nk].reshape(p.n_k, p.dim_k)
        v = t[nq + nk:].reshape(p.n_k, p.dim_v)
        den, num = attention_bits(p, q, k, v)
        inc = np.concatenate([den, num.reshape(-1, p.length)], axis=0)       # (ports, L)
        run_counts = np.concatenate([np.zeros((len(counts), 1), np.int64),
                                     np.cumsum(inc, axis=1)], axis=1)
        idx = enabled_index(run_en)
        rows_exp.extend(run_counts[:, idx].T)
        start.extend((rng.random(len(run_en)) < 0.1).astype(int).tolist())   # ignored
        en.extend(run_en.tolist())
        busy.extend([1] * len(run_en))
        done.extend([0] * len(run_en))
        state, done_next = run_counts[:, -1], 1
    if not busy or not any(busy):
        raise ParameterError(f"cycles must allow one run of length {p.length} plus a start")
    pad = cycles - len(start)
    for g in range(pad):
        start.append(0)
        en.append(int(rng.integers(0, 2)))
        rows_exp.append(state)
        busy.append(0)
        done.append(done_next if g == 0 else 0)
    stim = {"start": np.array(start, np.int64), "en": np.array(en, np.int64)}
    stim.update({name: thresholds[:, c] for c, name in enumerate(names)})
    exp = np.array(rows_exp, np.int64)
    expected = {"busy": np.array(busy, np.int64), "done": np.array(done, np.int64)}
    expected.update({name: exp[:, c] for c, name in enumerate(counts)})
    return stim, expected
