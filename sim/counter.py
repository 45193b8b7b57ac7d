"""Counter bench: random ``en`` and a random bitstream; checks ``count`` and ``done``."""
import numpy as np

from ..model.counter import counter_counts
from .timeline import enabled_index, random_enable


def make_case(params, cycles, rng, p_on=0.85):
    en = random_enable(rng, cycles, p_on)
    idx = enabled_index(en)
    bits = (rng.random(cycles) < rng.random()).astype(np.int64)
    taken = bits[en == 1]                     # the model sees only the sampled bits
    count, done = counter_counts(params, np.append(taken, 0))
    # done is a one-cycle pulse: only right after an enabled edge that closed a window.
    after_enabled = np.concatenate([[0], en[:-1]])
    return {"en": en, "bit": bits}, {"count": count[idx], "done": done[idx] * after_enabled}
