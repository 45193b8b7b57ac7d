"""Two independent sources of one kind: a data source and a weight (or prediction) source.

Used by layers whose every product or comparison pairs one stream of each side (predictive
coding, the recurrent reservoir), so only independence *between* the two sources matters:

* ``"sobol"``: dimensions ``sobol_dim`` and ``sobol_dim + 1`` of one Sobol sequence (jointly
  stratified over ``2**width`` cycles).
* ``"lfsr"``: one maximal LFSR of ``width`` bits at two phases half a period apart, ``seed``
  and :func:`.lfsr.lfsr_jump` ``(seed, period // 2)``.
"""
from .attention import DEFAULT_SEED
from .lfsr import LFSRParams, lfsr_jump
from .params import check_choice, check_int
from .sobol import MAX_DIM, SobolParams
from .sources import SOURCE_KINDS


def default_seed(width):
    """The LFSR start state used when none is given: the top ``width`` bits of a dense constant."""
    return DEFAULT_SEED >> (32 - width)


def check_pair(source, width, seed, sobol_dim):
    """Validate the source choice of a pair; returns the LFSR seed (default filled in)."""
    check_choice("source", source, SOURCE_KINDS)
    check_int("sobol_dim", sobol_dim, 1, MAX_DIM - 1)
    seed = default_seed(width) if seed is None else seed
    return check_int("seed", seed, 1, (1 << width) - 1)


def source_pair(source, width, seed, sobol_dim):
    """``(data source, weight source)`` parameter objects (module docstring)."""
    if source == "sobol":
        return SobolParams(width, sobol_dim), SobolParams(width, sobol_dim + 1)
    base = LFSRParams(width, seed)
    return base, LFSRParams(width, lfsr_jump(base, base.period // 2))
