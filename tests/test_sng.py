"""SNG: exact counts with Sobol, the LFSR's documented bias, quantisation, model == RTL."""
import numpy as np
import pytest

from scfpga.model import (LFSRParams, ParameterError, SNGParams, SobolParams, quantize_bipolar,
                          quantize_unipolar, sng_bits)
from scfpga.sim import sng as bench

from conftest import amaranth_check, cosim_check


@pytest.mark.parametrize("width", [1, 2, 5, 8, 12])
@pytest.mark.parametrize("dim", [1, 2, 17])
def test_sobol_counts_are_exact_for_every_p(width, dim):
    top = 1 << width
    params = SNGParams(SobolParams(width, dim, index_width=width + 1))
    probs = np.arange(top + 1)
    bits = sng_bits(params, 2 * top, prob=probs)            # two aligned periods
    assert np.array_equal(bits[:, :top].sum(1), probs)
    assert np.array_equal(bits[:, top:].sum(1), probs)


@pytest.mark.parametrize("width", [3, 8, 12])
def test_lfsr_counts_over_a_period(width):
    top = 1 << width
    params = SNGParams(LFSRParams(width, 5))
    counts = sng_bits(params, top - 1, prob=np.arange(top + 1)).sum(1)
    expected = np.maximum(np.arange(top + 1) - 1, 0)
    expected[-1] = top - 1                                   # P = 2**W: every cycle
    assert np.array_equal(counts, expected)


def test_quantisation_rule():
    assert quantize_unipolar([0.0, 1.0, 0.5, 1 / 512, 0.999], 8).tolist() == [0, 256, 128, 1, 256]
    assert quantize_unipolar(3 / 512, 8) == 2                # half rounds up
    assert quantize_bipolar([-1.0, 0.0, 1.0, -0.5], 8).tolist() == [0, 128, 256, 64]
    for bad in (-0.01, 1.01, np.nan):
        with pytest.raises(ParameterError, match="x must be in"):
            quantize_unipolar(bad, 8)
    with pytest.raises(ParameterError):
        quantize_bipolar(-1.5, 8)


def test_bipolar_decode_round_trip():
    x = np.linspace(-1, 1, 33)
    p = SNGParams(SobolParams(8, 3))
    ones = sng_bits(p, 256, prob=quantize_bipolar(x, 8)).sum(1)
    assert np.max(np.abs(2 * ones / 256 - 1 - x)) <= 1 / 256


def test_bad_prob():
    with pytest.raises(ParameterError, match="prob"):
        SNGParams(SobolParams(8, 1), 257)
    with pytest.raises(ParameterError, match="prob"):
        sng_bits(SNGParams(SobolParams(8, 1)), 10)          # no threshold anywhere


@pytest.mark.parametrize("params", [SNGParams(SobolParams(8, 2)), SNGParams(LFSRParams(5, 7)),
                                    SNGParams(SobolParams(4, 1), prob=16), SNGParams(LFSRParams(16, 9), 0)])
def test_amaranth_simulation(params):
    amaranth_check(params, bench, cycles=300)


# Two configurations through this block's own bench; the seeded campaign of
# tests/test_cosim_campaign.py proves 175 random primitives every cycle.
@pytest.mark.parametrize("case", range(2))
def test_cosim_random_parameters(case):
    rng = np.random.default_rng(3000 + case)
    width = int(rng.integers(3, 17))
    source = LFSRParams(width, int(rng.integers(1, 1 << width))) if case % 2 else \
        SobolParams(width, int(rng.integers(1, 33)))
    prob = None if case % 4 < 2 else int(rng.integers(0, (1 << width) + 1))
    cosim_check("sng", SNGParams(source, prob), 1500, case)
