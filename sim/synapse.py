"""Synapse bench: operands are two SNG streams from different Sobol dimensions plus random bits,
so all four input combinations occur."""
import numpy as np

from ..model.sng import SNGParams, sng_bits
from ..model.sobol import SobolParams
from ..model.synapse import synapse_bits


def make_case(params, cycles, rng, p_on=0.85):
    pa, pb = rng.integers(0, 257, size=2)
    a = sng_bits(SNGParams(SobolParams(8, 2), int(pa)), cycles).astype(np.int64)
    b = sng_bits(SNGParams(SobolParams(8, 3), int(pb)), cycles).astype(np.int64)
    flip = rng.random(cycles) < 0.2
    a[flip] = rng.integers(0, 2, size=int(flip.sum()))
    return {"a": a, "b": b}, {"bit": synapse_bits(params, a, b).astype(np.int64)}
