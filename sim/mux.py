"""MUX bench: random ``en`` and random input streams of random densities."""
import numpy as np

from ..model.mux import mux_select
from .timeline import enabled_index, random_enable


def make_case(params, cycles, rng, p_on=0.85):
    en = random_enable(rng, cycles, p_on)
    idx = enabled_index(en)
    density = rng.random(params.n_inputs)
    bits = (rng.random((params.n_inputs, cycles)) < density[:, None]).astype(np.int64)
    sel = mux_select(params, int(idx[-1]) + 1)[idx]
    packed = (bits << np.arange(params.n_inputs)[:, None]).sum(0)
    return {"en": en, "inputs": packed}, {"bit": bits[sel, np.arange(cycles)]}
