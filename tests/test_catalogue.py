"""The SC layer catalogue on hardware: golden models against independent oracles, the
reference class shapes, and co-simulation of seeded random configurations, every output."""
import math

import numpy as np
import pytest

from scfpga.hdl.verilog import to_verilog
from scfpga.layers import LateralInhibition, RallDendrite, StochasticAttention, WinnerTakeAll
from scfpga.model import ParameterError
from scfpga.model.attention import AttentionParams, attention_counts
from scfpga.model.dendrite import (DendriteParams, branch_shares, dendrite_float, dendrite_run,
                                    soma)
from scfpga.model.inhibition import InhibitionParams, inhibition_apply, inhibition_float
from scfpga.model.lfsr import LFSRParams, lfsr_jump, lfsr_sequence
from scfpga.model.sources import source_sequence
from scfpga.model.wta import WTAParams, pack_mask, wta_apply, wta_mask, wta_rank
from scfpga.sim import cosim
from scfpga.sim.ops import bench
from scfpga.sim.timeline import registered


def cosim_ok(params, name, cycles, seed, tmp_path):
    b = bench(params)
    stim, expected = b.make_case(params, cycles, np.random.default_rng(seed))
    result = cosim(to_verilog(b.dut(params), name), name, stim, expected, b.signed_ports,
                   build_root=tmp_path)
    assert result.ok, f"{params}: {result.describe(name)}"
    return stim, expected


# --- winner-take-all --------------------------------------------------------------------------

def test_wta_matches_a_stable_sort_oracle(rng):
    for n, k, width in [(2, 1, 1), (5, 2, 3), (8, 3, 2), (16, 16, 8)]:
        p = WTAParams(n, k, width)
        x = rng.integers(0, 1 << width, size=(200, n))
        # Oracle: a stable sort on -x puts equal values in index order (ties to the lower index).
        order = np.argsort(-x, axis=1, kind="stable")
        expect = np.zeros_like(x)
        np.put_along_axis(expect, order[:, :k], 1, axis=1)
        np.testing.assert_array_equal(wta_mask(p, x), expect)
        assert (wta_mask(p, x).sum(1) == k).all()
        np.testing.assert_array_equal(np.sort(wta_rank(p, x), 1), np.tile(np.arange(n), (200, 1)))
        np.testing.assert_array_equal(wta_apply(p, x), x * expect)


def test_wta_reference_shape_and_ties():
    wta = WinnerTakeAll(k=2)
    r = np.array([0.1, 0.9, 0.5, 0.9, 0.2])
    np.testing.assert_array_equal(wta.apply(r), [0, 0.9, 0, 0.9, 0])
    np.testing.assert_array_equal(wta.winners(r), [1, 3])
    np.testing.assert_array_equal(WinnerTakeAll(1).winners(np.array([3, 7, 7, 1])), [1])
    assert WinnerTakeAll(1).apply(np.full((4, 6), 5)).sum(1).tolist() == [5] * 4
    with pytest.raises(ParameterError, match="k"):
        WinnerTakeAll(k=4).apply(np.zeros(3))
    with pytest.raises(ParameterError, match="rates"):
        WinnerTakeAll().apply(np.array([0.5, 1.5]))


@pytest.mark.parametrize("kwargs, name", [(dict(n=1), "n"), (dict(n=33), "n"), (dict(k=0), "k"),
                                          (dict(n=4, k=5), "k"), (dict(width=0), "width")])
def test_wta_bad_parameters(kwargs, name):
    with pytest.raises(ParameterError, match=name):
        WTAParams(**kwargs)


# --- lateral inhibition -----------------------------------------------------------------------

def test_inhibition_matches_the_definition_and_the_float_reference(rng):
    p = InhibitionParams.from_float(12, radius=1.5, strength=0.4, width=10, frac=10)
    assert p.kernel[0] == int(np.floor(0.4 * np.exp(-1 / 4.5) * 1024 + 0.5)) and p.reach == 5
    r = rng.integers(0, 1024, size=(50, 12))
    out = inhibition_apply(p, r)
    for b in range(3):                                  # literal per-neuron loop
        for i in range(12):
            s = sum(kd * sum(r[b, j] for j in (i - d, i + d) if 0 <= j < 12)
                    for d, kd in enumerate(p.kernel, 1))
            assert out[b, i] == max(0, r[b, i] - s // 1024)
    # Fixed point against the float Gaussian: within the kernel's rounding and the floor.
    ref = inhibition_float(r, 1.5, 0.4)
    bound = 1 + r.sum(1, keepdims=True) * 0.5 / 1024 + 1024 * 12 * 0.4 * np.exp(-36 / 4.5)
    assert (np.abs(out - ref) <= bound).all()


def test_lateral_inhibition_reference_shape():
    li = LateralInhibition(8, radius=2.0, strength=0.5)
    r = np.zeros(8)
    r[3] = 0.5
    np.testing.assert_array_equal(li.apply(r), r)        # a lone neuron is not inhibited
    flat = LateralInhibition(8, radius=2.0, strength=0.2).apply(np.full(8, 0.5))
    assert flat[0] > flat[3] and flat[7] > flat[4]        # edges have fewer inhibitors
    counts = LateralInhibition(8).apply(np.array([10, 200, 10, 0, 0, 0, 0, 0]))
    assert counts.dtype.kind == "i" and counts[1] > 0 and counts[0] == counts[2] == 0
    with pytest.raises(ParameterError, match="radius"):
        LateralInhibition(8, radius=0)
    with pytest.raises(ParameterError, match="kernel"):
        InhibitionParams(4, kernel=(1, 2, 3, 4))


# --- hardware ---------------------------------------------------------------------------------

def random_wta(seed):
    rng = np.random.default_rng(500 + seed)
    n = int(rng.integers(2, 13))
    return WTAParams(n, int(rng.integers(1, n + 1)), int(rng.integers(1, 11)))


def random_inhibition(seed):
    rng = np.random.default_rng(600 + seed)
    return InhibitionParams.from_float(int(rng.integers(2, 13)), float(rng.uniform(0.5, 3)),
                                       float(rng.uniform(0.1, 1)), int(rng.integers(2, 11)),
                                       int(rng.integers(4, 11)))


@pytest.mark.parametrize("seed", range(4))
def test_wta_cosimulation(seed, tmp_path):
    p = random_wta(seed)
    stim, expected = cosim_ok(p, "wta", 300, seed, tmp_path)
    # the masks vary (0 before the first enabled edge, then at least 2 of the C(n, k) masks)
    assert len(np.unique(expected["winners"])) >= 1 + min(2, math.comb(p.n, p.k))


@pytest.mark.parametrize("seed", range(4))
def test_inhibition_cosimulation(seed, tmp_path):
    p = random_inhibition(seed)
    cosim_ok(p, "inhibition", 300, seed, tmp_path)


def test_cosimulation_catches_the_other_tie_rule(tmp_path):
    p = WTAParams(6, 2, 2)
    b = bench(p)
    stim, expected = b.make_case(p, 200, np.random.default_rng(0))
    x = np.stack([stim[f"x{i}"] for i in range(6)], 1)
    flipped = wta_mask(p, x[:, ::-1])[:, ::-1]           # ties to the higher index instead
    assert (flipped != wta_mask(p, x)).any()
    expected["winners"] = registered(pack_mask(flipped), stim["en"])
    result = cosim(to_verilog(p, "wta"), "wta", stim, expected, build_root=tmp_path)
    assert not result.ok and result.port == "winners"


# --- stochastic attention ---------------------------------------------------------------------

def random_attention(seed):
    rng = np.random.default_rng(700 + seed)
    width = int(rng.integers(3, 9))
    return AttentionParams(*(int(x) for x in rng.integers(1, 5, 4)), length=int(rng.integers(8, 70)),
                           width=width, source=("sobol", "lfsr")[seed % 2],
                           seed=int(rng.integers(1, 1 << width)), sobol_dim=int(rng.integers(1, 5)))


def test_attention_counts_match_a_per_cycle_oracle(rng):
    p = random_attention(1)
    top = 1 << p.width
    q, k, v = (rng.integers(0, top + 1, size=(2,) + s) for s in p.shapes)
    den, num = attention_counts(p, q, k, v)
    r = [source_sequence(s, p.length) for s in p.sources]
    for b in range(2):
        d = np.zeros(p.n_q, int)
        n = np.zeros((p.n_q, p.dim_v), int)
        for t in range(p.length):
            for i in range(p.n_q):
                for j in range(p.n_k):
                    pij = sum((r[0][t] < q[b, i, c]) and (r[1][t] < k[b, j, c]) for c in range(p.dim_k))
                    d[i] += pij
                    n[i] += pij * (r[2][t] < v[b, j])
        np.testing.assert_array_equal(den[b], d)
        np.testing.assert_array_equal(num[b], n)


def test_attention_reference_examples_and_error_rates():
    Q = np.random.default_rng(0).uniform(0, 1, (4, 8))
    K = np.random.default_rng(1).uniform(0, 1, (6, 8))
    V = np.random.default_rng(2).uniform(0, 1, (6, 5))
    attn = StochasticAttention(dim_k=8)
    assert attn.forward(Q, K, V).shape == (4, 5) and attn.forward_softmax(Q, K, V).shape == (4, 5)
    s = Q @ K.T
    np.testing.assert_allclose(attn.forward(Q, K, V), (s / s.sum(1, keepdims=True)) @ V)
    e = np.exp(s / np.sqrt(8))
    np.testing.assert_allclose(attn.forward_softmax(Q, K, V), (e / e.sum(1, keepdims=True)) @ V)
    rng = np.random.default_rng(5)
    Q, K, V = rng.random((16, 4, 8)), rng.random((16, 6, 8)), rng.random((16, 6, 5))
    ref = attn.forward(Q, K, V)
    lengths = np.array([64, 256, 1024])
    err = [np.abs(attn.forward_bitstream(Q, K, V, int(n), True) - ref).mean() for n in lengths]
    assert np.polyfit(np.log(lengths), np.log(err), 1)[0] < -0.85, err     # Sobol: ~1/L
    assert err[-1] < 1e-3
    lf = np.abs(attn.forward_bitstream(Q, K, V, 1024) - ref).mean()
    assert 2e-3 < lf < 0.05                                                # LFSR: ~1/sqrt(L)
    with pytest.raises(ParameterError, match="dim_k"):
        attn.forward(Q[..., :4], K, V)


def test_lfsr_phases_avoid_the_xor_relation_of_thirds():
    p = AttentionParams(width=16, source="lfsr", length=512)
    r = [source_sequence(s, 512) for s in p.sources]
    assert (r[0] ^ r[1] ^ r[2]).any()
    base = p.sources[0]
    thirds = [lfsr_sequence(LFSRParams(16, lfsr_jump(base, base.period * i // 3)), 512)
              for i in range(3)]
    assert not (thirds[0] ^ thirds[1] ^ thirds[2]).any()   # why thirds are not used


@pytest.mark.parametrize("seed", range(3))
def test_attention_cosimulation(seed, tmp_path):
    p = random_attention(seed)
    stim, expected = cosim_ok(p, "attention", 2 * p.length + 60, seed, tmp_path)
    assert expected["done"].sum() >= 1


# --- Rall dendrite ----------------------------------------------------------------------------

def test_dendrite_fixed_point_tracks_the_float_reference():
    rng = np.random.default_rng(3)
    T = 300
    t = np.arange(T)[:, None]
    drive = 2 + np.sin(2 * np.pi * t / 50 + np.arange(4)) + 0.2 * rng.standard_normal((T, 4))
    p = DendriteParams.from_float(4, 3, 10.0, 0.3, 1.0, shift=12, frac=8, width=20)
    q = np.floor(drive * 256 + 0.5).astype(np.int64)
    states = dendrite_run(p, q)
    fv, fs = dendrite_float(q / 256, 3, 10.0, 0.3, 1.0)
    err = np.abs(soma(p, states) / 256 - fs)
    assert err.max() < 0.05 * np.abs(fs).max(), err.max()
    assert np.abs(states / 256 - fv).max() < 0.5
    # the quantised constants are what the docstring says
    assert (p.leak, p.coup, p.gains) == (410, 1229, (1024,) * 4)


def test_dendrite_rall_rule_and_reference_shape():
    np.testing.assert_allclose(branch_shares(2, [1.0, 4.0]), [1 / 9, 8 / 9])
    d = RallDendrite(n_branches=3, branch_length=4, tau=10.0, coupling=0.5, dt=1.0)
    assert d.branch_voltages.shape == (3, 4)
    v = [d.step(np.array([1.0, 0.0, 0.0])) for _ in range(20)]
    assert isinstance(v[0], float) and v[0] == 0.0 and v[-1] > 0   # distal input reaches the soma late
    bv = d.branch_voltages
    assert (np.diff(bv[0]) < 0).all() and (bv[1:] == 0).all()    # decays toward the soma
    with pytest.raises(ParameterError, match="coupling"):
        RallDendrite(2, 2, coupling=1.5)
    with pytest.raises(ParameterError, match="branch_inputs"):
        d.step(np.array([100.0, 0, 0]))


@pytest.mark.parametrize("seed", range(3))
def test_dendrite_cosimulation(seed, tmp_path):
    rng = np.random.default_rng(800 + seed)
    width = int(rng.integers(8, 19))
    p = DendriteParams.from_float(int(rng.integers(1, 5)), int(rng.integers(1, 5)),
                                  float(rng.uniform(2, 20)), float(rng.uniform(0, 1)), 1.0,
                                  width=width, input_width=int(rng.integers(2, width + 1)),
                                  shift=int(rng.integers(4, 13)), frac=0)
    cosim_ok(p, "dendrite", 300, seed, tmp_path)
