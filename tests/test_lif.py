"""LIF: matches an independent integer reference, saturates at the extremes, model == RTL."""
import numpy as np
import pytest

from scfpga.model import LIFParams, ParameterError, lif_run, lif_spikes
from scfpga.sim import lif as bench

from conftest import amaranth_check, cosim_check


def _reference(p, currents):
    """Plain-integer, one-neuron transcription of the documented semantics."""
    v = r = 0
    spikes, vs = [0], [0]
    for i in currents[:-1]:
        s = 0
        if r:
            r -= 1
        else:
            u = v - ((v >> p.leak_shift) if p.leak_shift else 0) + int(i)
            u = max(p.v_min, min(p.v_max, u))
            if u >= p.threshold:
                s, r = 1, p.refractory
                v = u - p.threshold if p.reset == "subtract" else 0
            else:
                v = u
        spikes.append(s)
        vs.append(v)
    return spikes, vs


@pytest.mark.parametrize("case", range(12))
def test_matches_integer_reference(case):
    rng = np.random.default_rng(case)
    width = int(rng.integers(4, 20))
    hi = (1 << (width - 1)) - 1
    p = LIFParams(width=width, threshold=int(rng.integers(1, hi + 1)),
                  leak_shift=int(rng.integers(0, width)), reset=("subtract", "zero")[case % 2],
                  refractory=int(rng.integers(0, 5)))
    currents = rng.integers(-hi, hi + 1, 400) // int(rng.choice([1, 3, 20]))
    spikes, v = lif_run(p, currents)
    ref_s, ref_v = _reference(p, currents)
    assert spikes.tolist() == ref_s and v.tolist() == ref_v


def test_vectorised_over_neurons():
    p = LIFParams(width=10, threshold=200, leak_shift=3)
    rng = np.random.default_rng(1)
    currents = rng.integers(-100, 200, (3, 4, 100))
    spikes, v = lif_run(p, currents)
    for idx in np.ndindex(3, 4):
        s1, v1 = lif_run(p, currents[idx])
        assert np.array_equal(spikes[idx], s1) and np.array_equal(v[idx], v1)


@pytest.mark.parametrize("width", [4, 8, 16, 32])
def test_saturates_instead_of_wrapping(width):
    p = LIFParams(width=width, threshold=(1 << (width - 1)) - 1, leak_shift=0, reset="subtract")
    big = np.full(50, 10 * (1 << width))
    spikes, v = lif_run(p, big)
    assert v.max() <= p.v_max and spikes[1:].all()          # pinned at the top, fires every cycle
    spikes, v = lif_run(p, -big)
    assert v.min() == p.v_min and not spikes.any()          # pinned at the bottom, never wraps up


def test_leak_decays_towards_zero():
    p = LIFParams(width=16, threshold=30000, leak_shift=2)
    currents = np.zeros(60, np.int64)
    currents[0] = 20000
    _, v = lif_run(p, currents)
    # The shift truncates: a positive potential stops leaking once below 2**leak_shift.
    assert v[1] == 20000 and np.all(np.diff(v[1:]) <= 0) and 0 <= v[-1] < 4


def test_refractory_ignores_inputs():
    p = LIFParams(width=8, threshold=10, leak_shift=0, reset="zero", refractory=3)
    spikes, v = lif_run(p, np.full(12, 10))
    assert spikes.tolist() == [0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0]


def test_bit_inputs_weighted():
    p = LIFParams(width=8, n_inputs=2, weights=(20, -5), threshold=100, leak_shift=0)
    bits = np.array([[1] * 10, [0, 1] * 5])
    assert lif_spikes(p, bits).tolist() == lif_run(p, 20 * bits[0] - 5 * bits[1])[0].tolist()


@pytest.mark.parametrize("kw", [dict(width=3), dict(width=33), dict(threshold=0),
                                dict(width=8, threshold=128), dict(leak_shift=16),
                                dict(reset="hold"), dict(refractory=256),
                                dict(n_inputs=2, weights=(1,)), dict(width=8, weights=(200,))])
def test_bad_parameters(kw):
    with pytest.raises(ParameterError, match="width|threshold|leak_shift|reset|refractory|weights"):
        LIFParams(**kw)


@pytest.mark.parametrize("params", [
    LIFParams(), LIFParams(width=6, n_inputs=3, weights=(9, -4, 31), threshold=20, refractory=2),
    LIFParams(width=8, leak_shift=0, reset="zero", weights=(127,), threshold=127),
])
def test_amaranth_simulation(params):
    amaranth_check(params, bench, cycles=300)


# Two configurations through this block's own bench; the seeded campaign of
# tests/test_cosim_campaign.py proves 175 random primitives every cycle.
@pytest.mark.parametrize("case", range(2))
def test_cosim_random_parameters(case):
    rng = np.random.default_rng(6000 + case)
    width = int(rng.integers(4, 25))
    hi = (1 << (width - 1)) - 1
    n = int(rng.integers(1, 6))
    # Extreme weights in half the cases drive the membrane into both saturation limits.
    scale = hi if case % 2 else max(hi // 8, 1)
    weights = tuple(int(w) for w in rng.integers(-scale, scale + 1, n))
    p = LIFParams(width=width, n_inputs=n, weights=weights, threshold=int(rng.integers(1, hi + 1)),
                  leak_shift=int(rng.integers(0, width)), reset=("subtract", "zero")[case % 2],
                  refractory=int(rng.integers(0, 6)))
    cosim_check("lif", p, 1500, case)
