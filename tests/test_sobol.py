"""Sobol: equals SciPy's unscrambled sampler, periods are permutations, model == RTL."""
import numpy as np
import pytest
from scipy.stats import qmc

from scfpga.model import ParameterError, SobolParams, sobol_sequence
from scfpga.sim import sobol as bench

from conftest import amaranth_check, cosim_check


def _scipy(dim, width, n):
    bits = 30 if width <= 30 else 64
    x = qmc.Sobol(dim, scramble=False, bits=bits).random(n)[:, dim - 1]
    return np.floor(x * 2.0 ** width).astype(np.int64)


@pytest.mark.parametrize("dim", range(1, 33))
def test_equals_scipy(dim):
    for width in (1, 3, 8, 12, 16, 24, 30, 31, 32):
        n = min(1 << width, 2048)
        got = sobol_sequence(SobolParams(width, dim), n)
        assert np.array_equal(got, _scipy(dim, width, n)), f"dim {dim} width {width}"


@pytest.mark.parametrize("dim", [1, 2, 7, 32, 200, 1024])
def test_wide_index_follows_scipy_past_one_period(dim):
    p = SobolParams(width=6, dim=dim, index_width=14)
    assert np.array_equal(sobol_sequence(p, 4096), _scipy(dim, 6, 4096))


@pytest.mark.parametrize("dim", [1, 2, 5, 32])
@pytest.mark.parametrize("width", [1, 4, 8, 12])
def test_every_aligned_period_is_a_permutation(dim, width):
    p = SobolParams(width, dim, index_width=min(width + 2, 32))
    blocks = sobol_sequence(p, 4 << width).reshape(4, 1 << width)
    for block in blocks:
        assert np.array_equal(np.sort(block), np.arange(1 << width))


def test_sequence_restarts_after_index_period():
    p = SobolParams(5, 3)
    seq = sobol_sequence(p, 64)
    assert seq[0] == 0 and seq[32] == 0 and np.array_equal(seq[:32], seq[32:])


@pytest.mark.parametrize("kw", [dict(width=0), dict(width=33), dict(dim=0), dict(dim=1025),
                                dict(width=8, index_width=7), dict(width=8, index_width=33)])
def test_bad_parameters(kw):
    with pytest.raises(ParameterError, match="width|dim|index_width"):
        SobolParams(**kw)


@pytest.mark.parametrize("params", [SobolParams(1, 1), SobolParams(8, 2), SobolParams(16, 32),
                                    SobolParams(4, 9, index_width=7)])
def test_amaranth_simulation(params):
    amaranth_check(params, bench, cycles=300)


# Two configurations through this block's own bench; the seeded campaign of
# tests/test_cosim_campaign.py proves 175 random primitives every cycle.
@pytest.mark.parametrize("case", range(2))
def test_cosim_random_parameters(case):
    rng = np.random.default_rng(2000 + case)
    width = int(rng.integers(1, 17))
    index_width = int(rng.integers(width, min(width + 4, 32) + 1))
    params = SobolParams(width, int(rng.integers(1, 33)), index_width)
    cosim_check("sobol", params, 1500, case)
