"""MUX scaled adder: exact selection counts with Sobol, weighted sums, model == RTL."""
import numpy as np
import pytest

from scfpga.model import (LFSRParams, MuxParams, ParameterError, SNGParams, SobolParams,
                          mux_bits, mux_select, sng_bits)
from scfpga.model.mux import quantize_weights, uniform_weights
from scfpga.sim import mux as bench

from conftest import amaranth_check, cosim_check


@pytest.mark.parametrize("n,width", [(2, 1), (3, 4), (4, 8), (5, 8), (16, 8), (100, 10)])
def test_sobol_select_counts_equal_weights(n, width):
    p = MuxParams(n, SobolParams(width, 1))
    counts = np.bincount(mux_select(p, 1 << width), minlength=n)
    assert tuple(counts) == p.weights
    assert max(p.weights) - min(p.weights) <= 1


def test_weighted_sum_of_probabilities():
    width, L = 8, 256
    p = MuxParams(3, SobolParams(width, 1), quantize_weights([0.5, 0.25, 0.25], width))
    probs = np.array([200, 40, 100])
    inputs = np.stack([sng_bits(SNGParams(SobolParams(width, d)), L, prob=int(q))
                       for d, q in zip((2, 3, 4), probs)])
    out = mux_bits(p, inputs).sum() / L
    exact = float(np.dot(np.array(p.weights) / L, probs / L))
    assert abs(out - exact) <= 4 / L


def test_one_hot_inputs_count_exactly():
    p = MuxParams(4, SobolParams(6, 1), (10, 0, 30, 24))
    for i, w in enumerate(p.weights):
        inputs = np.zeros((4, 64), np.uint8)
        inputs[i] = 1
        assert mux_bits(p, inputs).sum() == w


def test_quantize_weights_sums_to_full_scale():
    w = quantize_weights([0.7, 0.3], 8)
    assert sum(w) == 256 and w == (179, 77)
    assert sum(quantize_weights([1, 1, 1], 5)) == 32
    with pytest.raises(ParameterError, match="weights"):
        quantize_weights([-1, 2], 8)
    assert uniform_weights(3, 8) == (85, 85, 86)


@pytest.mark.parametrize("kw", [dict(n_inputs=1), dict(n_inputs=300),
                                dict(n_inputs=9, source=SobolParams(3, 1)),
                                dict(n_inputs=2, weights=(100, 100))])
def test_bad_parameters(kw):
    with pytest.raises(ParameterError, match="n_inputs|width|weights"):
        MuxParams(**kw)


@pytest.mark.parametrize("params", [MuxParams(4), MuxParams(3), MuxParams(2, LFSRParams(5, 3)),
                                    MuxParams(5, SobolParams(6, 2), (1, 2, 0, 40, 21))])
def test_amaranth_simulation(params):
    amaranth_check(params, bench, cycles=300)


# Two configurations through this block's own bench; the seeded campaign of
# tests/test_cosim_campaign.py proves 175 random primitives every cycle.
@pytest.mark.parametrize("case", range(2))
def test_cosim_random_parameters(case):
    rng = np.random.default_rng(4000 + case)
    n = int(rng.integers(2, 17))
    width = int(rng.integers(max(3, (n - 1).bit_length()), 11))
    source = LFSRParams(width, int(rng.integers(1, 1 << width))) if case % 2 else \
        SobolParams(width, int(rng.integers(1, 33)))
    weights = None if case < 2 else quantize_weights(rng.random(n) + 0.05, width)
    cosim_check("mux", MuxParams(n, source, weights), 1200, case)
