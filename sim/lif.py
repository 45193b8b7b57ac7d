"""LIF bench: random ``en`` and random input bitstreams; checks ``spike`` and ``v`` each cycle."""
import numpy as np

from ..model.lif import lif_currents, lif_run
from .timeline import enabled_index, random_enable

SIGNED_PORTS = ("v",)


def make_case(params, cycles, rng, p_on=0.85):
    en = random_enable(rng, cycles, p_on)
    idx = enabled_index(en)
    density = rng.random(params.n_inputs)
    bits = (rng.random((params.n_inputs, cycles)) < density[:, None]).astype(np.int64)
    currents = lif_currents(params, bits[:, en == 1])
    spikes, v = lif_run(params, np.append(currents, 0))
    packed = (bits << np.arange(params.n_inputs)[:, None]).sum(0)
    return {"en": en, "inputs": packed}, {"spike": spikes[idx], "v": v[idx]}
