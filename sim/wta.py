"""k-WTA bench: random ``en`` and per-cycle random values; checks ``winners`` and every ``y<i>``.

Values come in three kinds of cycle, so the tie rule is exercised as much as the ordering:
full-range random values, values from a tiny alphabet (many ties), and all-equal rows (the ``k``
lowest indices must win).
"""
import numpy as np

from ..model.wta import WTAParams, pack_mask, wta_apply, wta_mask
from .timeline import random_enable, registered


def random_values(n, width, cycles, rng):
    """(cycles, n) values: full range, a 2..4-letter alphabet, or all equal, at random."""
    top = 1 << width
    full = rng.integers(0, top, size=(cycles, n))
    small = rng.integers(0, min(top, rng.integers(2, 5)), size=(cycles, n))
    equal = np.repeat(rng.integers(0, top, size=(cycles, 1)), n, axis=1)
    kind = rng.choice(3, size=(cycles, 1), p=(0.5, 0.4, 0.1))
    return np.where(kind == 0, full, np.where(kind == 1, small, equal)).astype(np.int64)


def make_case(params: WTAParams, cycles, rng, p_on=0.85):
    en = random_enable(rng, cycles, p_on)
    x = random_values(params.n, params.width, cycles, rng)
    stim = {"en": en, **{f"x{i}": x[:, i] for i in range(params.n)}}
    winners = registered(pack_mask(wta_mask(params, x)), en)
    y = registered(wta_apply(params, x), en)
    return stim, {"winners": winners, **{f"y{i}": y[:, i] for i in range(params.n)}}


def default_cycles(params):
    return 400
