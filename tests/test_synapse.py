"""AND/XNOR synapses: products of independent streams, min() of correlated ones, model == RTL."""
import numpy as np
import pytest

from scfpga.model import SNGParams, SobolParams, SynapseParams, ParameterError, sng_bits, synapse_bits
from scfpga.model.bits import pack_bits, popcount, unpack_bits
from scfpga.sim import synapse as bench

from conftest import amaranth_check, cosim_check

W = 8
L = 1 << W
GRID = np.arange(0, L + 1, 16)


def _streams(dim, probs):
    return sng_bits(SNGParams(SobolParams(W, dim)), L, prob=probs)


def test_truth_tables():
    a, b = np.array([0, 0, 1, 1], np.uint8), np.array([0, 1, 0, 1], np.uint8)
    assert synapse_bits(SynapseParams("and"), a, b).tolist() == [0, 0, 0, 1]
    assert synapse_bits(SynapseParams("xnor"), a, b).tolist() == [1, 0, 0, 1]


def test_packed_words_give_the_same_bits():
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 2, (2, 3, 200), dtype=np.uint8)
    for kind in ("and", "xnor"):
        p = SynapseParams(kind)
        packed = synapse_bits(p, pack_bits(a), pack_bits(b))
        assert np.array_equal(unpack_bits(packed, 200), synapse_bits(p, a, b))


def test_and_of_independent_sobol_streams_multiplies():
    # Dimensions 2 and 3 form a (0, m, 2)-net: the product error is a few counts out of 256,
    # far below the ~sqrt(p(1-p)/L) ~ 3 % of independent random streams.
    a, b = _streams(2, GRID), _streams(3, GRID)
    prod = popcount(pack_bits(a[:, None, :] & b[None, :, :])) / L
    exact = np.outer(GRID, GRID) / L ** 2
    assert np.max(np.abs(prod - exact)) <= 4 / L
    assert np.mean(np.abs(prod - exact)) <= 1.5 / L


def test_and_of_one_source_twice_is_min_not_product():
    a = _streams(2, GRID)
    prod = (a[:, None, :] & a[None, :, :]).sum(-1)
    assert np.array_equal(prod, np.minimum.outer(GRID, GRID))


def test_xnor_multiplies_bipolar_values():
    a, b = _streams(2, GRID), _streams(3, GRID)
    x = 2 * GRID / L - 1
    prod = 2 * (1 - (a[:, None, :] ^ b[None, :, :])).sum(-1) / L - 1
    assert np.max(np.abs(prod - np.outer(x, x))) <= 16 / L


def test_bad_kind():
    with pytest.raises(ParameterError, match="kind"):
        SynapseParams("or")


@pytest.mark.parametrize("kind", ["and", "xnor"])
def test_amaranth_simulation(kind):
    amaranth_check(SynapseParams(kind), bench, cycles=200)


@pytest.mark.parametrize("kind", ["and", "xnor"])
@pytest.mark.parametrize("case", range(3))
def test_cosim_random_stimulus(kind, case):
    cosim_check(kind, SynapseParams(kind), 800, case)
