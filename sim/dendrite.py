"""Rall dendrite bench: random ``en``, random signed branch inputs (bursts near full scale
to drive saturation, quiet stretches to watch the leak); checks every compartment and ``soma``."""
import numpy as np

from ..model.dendrite import DendriteParams, dendrite_run, soma
from .timeline import enabled_index, random_enable

# Every output that can exist (16 x 16 compartments) and the soma: compared as signed.
SIGNED_PORTS = ("soma",) + tuple(f"v{b}_{c}" for b in range(16) for c in range(16))


def make_case(params: DendriteParams, cycles, rng, p_on=0.85):
    p = params
    en = random_enable(rng, cycles, p_on)
    lim = 1 << (p.input_width - 1)
    x = rng.integers(-lim, lim, size=(cycles, p.n_branches))
    quiet = rng.random((cycles, 1)) < 0.3
    small = rng.random((cycles, 1)) < 0.4
    x = np.where(quiet, 0, np.where(small, x // 16, x))
    states = dendrite_run(p, x[en == 1])                  # (steps + 1, nb, L)
    idx = enabled_index(en)
    v = states[idx]
    stim = {"en": en, **{f"i{b}": x[:, b] for b in range(p.n_branches)}}
    expected = {f"v{b}_{c}": v[:, b, c] for b in range(p.n_branches)
                for c in range(p.branch_length)}
    expected["soma"] = soma(p, v)
    return stim, expected


def default_cycles(params):
    return 400
