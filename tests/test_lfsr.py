"""LFSR: the taps are primitive, the period is exact, model == Amaranth == Verilog."""
import numpy as np
import pytest

from scfpga.model import LFSRParams, ParameterError, lfsr_sequence
from scfpga.model.lfsr_taps import MAXIMAL_TAPS
from scfpga.sim import lfsr as bench

from conftest import amaranth_check, cosim_check


def _polymulmod(a, b, p, n):
    r = 0
    while b:
        if b & 1:
            r ^= a
        b >>= 1
        a <<= 1
        if a >> n & 1:
            a ^= p
    return r


def _x_pow(e, p, n):
    result, base = 1, 2               # the polynomial x
    while e:
        if e & 1:
            result = _polymulmod(result, base, p, n)
        base = _polymulmod(base, base, p, n)
        e >>= 1
    return result


def _prime_factors(m):
    f, d = set(), 2
    while d * d <= m:
        while m % d == 0:
            f.add(d)
            m //= d
        d += 1
    if m > 1:
        f.add(m)
    return f


@pytest.mark.parametrize("width", sorted(MAXIMAL_TAPS))
def test_taps_are_primitive(width):
    # b[j] = XOR_t b[j-t]  <=>  characteristic polynomial x^n + sum_t x^(n-t); maximal length
    # iff x has multiplicative order exactly 2^n - 1 modulo it.
    p = 1 << width
    for t in MAXIMAL_TAPS[width]:
        p ^= 1 << (width - t)
    order = (1 << width) - 1
    assert _x_pow(order, p, width) == 1
    for q in _prime_factors(order):
        assert _x_pow(order // q, p, width) != 1, f"width {width}: order divides {order // q}"


def _naive(width, seed, n):
    taps, mask, s, out = MAXIMAL_TAPS[width], (1 << width) - 1, seed, []
    for _ in range(n):
        out.append(s)
        fb = 0
        for t in taps:
            fb ^= (s >> (t - 1)) & 1
        s = ((s << 1) | fb) & mask
    return out


@pytest.mark.parametrize("width", sorted(MAXIMAL_TAPS))
def test_fast_model_equals_stepwise_definition(width, rng):
    seed = int(rng.integers(1, 1 << width))
    assert lfsr_sequence(LFSRParams(width, seed), 3000).tolist() == _naive(width, seed, 3000)


@pytest.mark.parametrize("width", range(3, 17))
def test_period_and_permutation(width):
    seed = (0x5A5A & ((1 << width) - 1)) or 1
    p = LFSRParams(width, seed)
    seq = lfsr_sequence(p, p.period + 1)
    one_period = seq[:-1]
    assert seq[-1] == seed and seq[0] == seed
    assert np.array_equal(np.sort(one_period), np.arange(1, 1 << width))   # every non-zero state once


def test_long_runs_are_periodic():
    p = LFSRParams(5, 3)
    seq = lfsr_sequence(p, 200)
    assert np.array_equal(seq[:31], seq[31:62]) and seq[0] == 3


@pytest.mark.parametrize("width,seed", [(2, 1), (33, 1), (8, 0), (8, 256), (8, -1), (8.0, 1)])
def test_bad_parameters_name_the_parameter(width, seed):
    with pytest.raises(ParameterError, match="width|seed"):
        LFSRParams(width, seed)


@pytest.mark.parametrize("width", [3, 8, 16, 32])
def test_amaranth_simulation(width):
    amaranth_check(LFSRParams(width, (1 << width) - 2), bench, cycles=200)


# Two configurations through this block's own bench; the seeded campaign of
# tests/test_cosim_campaign.py proves 175 random primitives every cycle.
@pytest.mark.parametrize("case", range(2))
def test_cosim_random_parameters(case):
    rng = np.random.default_rng(1000 + case)
    width = int(rng.integers(3, 33))
    cosim_check("lfsr", LFSRParams(width, int(rng.integers(1, 1 << width))), 1500, case)


@pytest.mark.parametrize("width", [3, 8, 16, 24])
def test_jump_ahead_equals_stepping(width, rng):
    from scfpga.model.lfsr import lfsr_jump
    p = LFSRParams(width, int(rng.integers(1, 1 << width)))
    seq = lfsr_sequence(p, 5000)
    for k in rng.integers(0, 5000, 20):
        assert lfsr_jump(p, int(k)) == seq[k]
    assert lfsr_jump(p, p.period) == p.seed
