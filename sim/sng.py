"""SNG bench: random ``en`` and, for a port threshold, ``prob`` changing at random cycles
(including the extremes 0 and 2**width)."""
import numpy as np

from ..model.sources import source_sequence
from .timeline import enabled_index, random_enable


def make_case(params, cycles, rng, p_on=0.85):
    en = random_enable(rng, cycles, p_on)
    idx = enabled_index(en)
    values = source_sequence(params.source, int(idx[-1]) + 1)[idx]
    stim = {"en": en}
    if params.prob is None:
        top = 1 << params.width
        levels = np.concatenate([[0, top], rng.integers(0, top + 1, size=14)])
        segment = np.sort(rng.integers(0, len(levels), size=cycles))
        prob = levels[segment]
        stim["prob"] = prob
    else:
        prob = params.prob
    return stim, {"bit": (values < prob).astype(np.int64)}
