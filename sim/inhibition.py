"""Lateral-inhibition bench: random ``en`` and per-cycle random rates; checks every ``y<i>``.

Rates are full-range random, sparse (most neurons silent, so some outputs survive uninhibited)
or a single bump (the Mexican-hat case), chosen per cycle.
"""
import numpy as np

from ..model.inhibition import InhibitionParams, inhibition_apply
from .timeline import random_enable, registered


def random_rates(n, width, cycles, rng):
    top = 1 << width
    full = rng.integers(0, top, size=(cycles, n))
    sparse = full * (rng.random((cycles, n)) < 0.25)
    centre = rng.integers(0, n, size=(cycles, 1))
    bump = (np.abs(np.arange(n)[None, :] - centre) <= 1) * rng.integers(0, top, size=(cycles, 1))
    kind = rng.choice(3, size=(cycles, 1))
    return np.where(kind == 0, full, np.where(kind == 1, sparse, bump)).astype(np.int64)


def make_case(params: InhibitionParams, cycles, rng, p_on=0.85):
    en = random_enable(rng, cycles, p_on)
    r = random_rates(params.n, params.width, cycles, rng)
    y = registered(inhibition_apply(params, r), en)
    stim = {"en": en, **{f"r{i}": r[:, i] for i in range(params.n)}}
    return stim, {f"y{i}": y[:, i] for i in range(params.n)}


def default_cycles(params):
    return 400
