"""Map a cycle-by-cycle stimulus with ``en`` onto the model's enabled-step timeline."""
import numpy as np


def enabled_index(en):
    """``idx[k]`` = enabled edges before cycle k: the model element the DUT shows in cycle k."""
    en = np.asarray(en, dtype=np.int64)
    return np.concatenate([[0], np.cumsum(en)[:-1]])


def random_enable(rng, cycles, p_on=0.85):
    """p_on = 1 gives an always-on enable (used for plain model runs)."""
    """An ``en`` pattern that is mostly on, with random pauses (never all-off)."""
    en = (rng.random(cycles) < p_on).astype(np.int64)
    en[0] = 1
    return en


def registered(values, en, init=0):
    """What a register loaded on enabled edges shows: ``out[k] = values[j]`` for the last
    ``j < k`` with ``en[j] = 1`` (``init`` before the first). ``values``: (cycles, ...)."""
    values = np.asarray(values)
    en = np.asarray(en, dtype=np.int64)
    last = np.where(en == 1, np.arange(en.size), -1)
    last = np.concatenate([[-1], np.maximum.accumulate(last)[:-1]])
    out = values[np.maximum(last, 0)].copy()
    out[last < 0] = init
    return out
