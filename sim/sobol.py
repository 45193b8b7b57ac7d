"""Sobol bench: random ``en``; ``value`` must follow the model's sequence step for step."""
from ..model.sobol import sobol_sequence
from .timeline import enabled_index, random_enable


def make_case(params, cycles, rng, p_on=0.85):
    en = random_enable(rng, cycles, p_on)
    idx = enabled_index(en)
    return {"en": en}, {"value": sobol_sequence(params, int(idx[-1]) + 1)[idx]}
