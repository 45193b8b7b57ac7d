"""Windowed counter: counts equal a direct sum, ``done`` pulses, model == RTL."""
import numpy as np
import pytest

from scfpga.model import CounterParams, ParameterError, counter_counts
from scfpga.sim import counter as bench

from conftest import amaranth_check, cosim_check


@pytest.mark.parametrize("window", [1, 2, 7, 64])
def test_counts_equal_direct_sums(window, rng):
    bits = rng.integers(0, 2, 500)
    count, done = counter_counts(CounterParams(window), bits)
    for k in range(500):
        m = k // window
        want = bits[(m - 1) * window:m * window].sum() if m else 0
        assert count[k] == want
        assert done[k] == (k > 0 and k % window == 0)


def test_full_window_of_ones_fits_the_width():
    p = CounterParams(256)
    assert p.count_width == 9
    count, _ = counter_counts(p, np.ones(600, np.uint8))
    assert count[256] == 256 and count[512] == 256


def test_bad_window():
    for bad in (0, -3, 1 << 25):
        with pytest.raises(ParameterError, match="window"):
            CounterParams(bad)


@pytest.mark.parametrize("window", [1, 5, 16])
def test_amaranth_simulation(window):
    amaranth_check(CounterParams(window), bench, cycles=300)


# Two configurations through this block's own bench; the seeded campaign of
# tests/test_cosim_campaign.py proves 175 random primitives every cycle.
@pytest.mark.parametrize("case", range(2))
def test_cosim_random_parameters(case):
    rng = np.random.default_rng(5000 + case)
    window = int(rng.choice([1, 2, 3, int(rng.integers(4, 300))]))
    cosim_check("counter", CounterParams(window), 1500, case)
