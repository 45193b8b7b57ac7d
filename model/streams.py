"""Stream allocation: the one decorrelation rule for layers and whole networks.

A network has one input encoder (a comparator SNG per input, :mod:`.sng`) and ``n_layers``
synaptic layers. Every synaptic layer has one *weight source* ``S_l`` shared by all its
synapses (``b_ji(k) = S_l(k) < Q_ji``) and one *select source* (reserved for MUX accumulation, so
the input streams never depend on the accumulation). Operands that meet in an AND must be
independent, so no two of these streams share a source anywhere in the network:

* ``source = "sobol"``: ``S_1`` is dimension ``1 + seed``. Every other dimension ``d`` is ranked
  by the t-value of the pair (``S_1``, ``d``) over ``width`` bits (:func:`sobol_pair_t`; t = 0
  means every elementary box of the pair holds exactly one point per ``2**width`` cycles), ties
  by ``d``. In that order: layer 1's select, the ``n_inputs`` input streams, then the weight and
  select of layers 2, 3, ... Pairs with a large t multiply badly: (1, 161) errs as much as random
  streams at W = 8, (1, 2) about 0.6 counts. Layers 2.. multiply spike trains, not Sobol points,
  with their weights, so only distinctness matters there.
* ``source = "lfsr"``: every stream is a phase of the one ``lfsr_width``-bit m-sequence
  (:mod:`.lfsr`, seed 1) and shows its top ``width`` bits. Stream ``s`` (0 = weights of layer 1,
  1 = its select, ``2 + i`` = input i, then weight and select of layers 2, 3, ...) starts at phase
  ``seed + s * (period // n_streams)``, so the streams are as far apart in the sequence as
  possible, and leaps ``width`` steps per cycle, so that consecutive values share no bits (one
  step would give ``R(k+1) ~ 2 R(k)`` and about 1.4x the error of independent Bernoulli streams).

A one-layer network gets exactly the plan of a dense layer (:func:`stream_plan`). A run restarts
every source at element 0; index ``k`` of :func:`stream_values` is the value during SC cycle k.
"""
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .lfsr import LFSRParams, lfsr_sequence
from .params import ParameterError
from .sobol import MAX_DIM, SobolParams, direction_numbers, sobol_sequence


def _rows(dim, m):
    """Rows (most significant output digit first) of the m x m generator matrix of ``dim``."""
    v = direction_numbers(dim, m, m)
    return [sum(((v[j] >> (m - 1 - r)) & 1) << j for j in range(m)) for r in range(m)]


def _insert(basis, vec):
    """Add ``vec`` to a GF(2) basis (pivot -> vector); False if it was dependent."""
    while vec:
        pivot = vec.bit_length() - 1
        if pivot not in basis:
            basis[pivot] = vec
            return True
        vec ^= basis[pivot]
    return False


def sobol_pair_t(dim_a, dim_b, m):
    """t-value of the two-dimensional projection (``dim_a``, ``dim_b``) over ``m`` bits.

    The first ``2**m`` points are a (t, m, 2)-net: every box ``2**-a x 2**-b`` with
    ``a + b = m - t`` holds exactly ``2**t`` points. That holds iff the top ``a`` rows of one
    generator matrix and the top ``b`` of the other are linearly independent over GF(2).
    """
    rows_a, rows_b = _rows(dim_a, m), _rows(dim_b, m)
    reach = []                                # reach[a]: a + longest independent b prefix
    for a in range(m + 1):
        basis = {}
        for row in rows_a[:a]:
            _insert(basis, row)
        b = 0
        while a + b < m and _insert(basis, rows_b[b]):
            b += 1
        reach.append(a + b)
    strength = 0
    while strength < m and all(reach[a] >= strength + 1 for a in range(strength + 2)):
        strength += 1
    return m - strength


@lru_cache(maxsize=16)
def sobol_order(weight_dim, width):
    """Every dimension except ``weight_dim``, best partner first: sorted by (t-value, dim)."""
    dims = [d for d in range(1, MAX_DIM + 1) if d != weight_dim]
    return tuple(sorted(dims, key=lambda d: (sobol_pair_t(weight_dim, d, width), d)))


def n_streams(n_inputs, n_layers):
    """Sources a network needs: a weight and a select per layer, one per input."""
    return n_inputs + 2 * n_layers


@dataclass(frozen=True)
class NetworkPlan:
    """The sources of a network (see the module docstring for the rule).

    ``weights[l]``, ``selects[l]`` and each of ``inputs`` is a source parameter object; a stream's
    value during cycle k is element ``leap * k`` of that source, shifted right by ``shift`` (a
    ``width``-bit comparator value).
    """
    kind: str
    width: int
    inputs: tuple
    weights: tuple
    selects: tuple
    shift: int
    leap: int

    def layer(self, index):
        """The :class:`StreamPlan` of one layer (its inputs are the encoder's, for layer 0)."""
        return StreamPlan(self.kind, self.width, self.weights[index], self.selects[index],
                          self.inputs, self.shift, self.leap)


@dataclass(frozen=True)
class StreamPlan:
    """The sources one dense layer uses: its weight and select, and the encoder's inputs."""
    kind: str
    width: int
    weight: object
    select: object
    inputs: tuple
    shift: int
    leap: int


@lru_cache(maxsize=64)
def network_plan(source, width, n_inputs, n_layers, seed, lfsr_width, length):
    """The decorrelation rule for a network of ``n_layers`` layers on ``n_inputs`` inputs."""
    extra = 2 * (n_layers - 1)
    if source == "sobol":
        iw = max(width, (length - 1).bit_length())
        order = sobol_order(1 + seed, width)
        if 1 + n_inputs + extra > len(order):
            raise ParameterError(f"a Sobol network has at most {MAX_DIM - 2} inputs plus "
                                 f"two streams per extra layer")
        make = lambda d: SobolParams(width, d, iw)   # noqa: E731
        rest = order[1 + n_inputs:1 + n_inputs + extra]
        return NetworkPlan("sobol", width, tuple(make(d) for d in order[1:1 + n_inputs]),
                           (make(1 + seed),) + tuple(make(d) for d in rest[0::2]),
                           (make(order[0]),) + tuple(make(d) for d in rest[1::2]), 0, 1)
    period = (1 << lfsr_width) - 1
    count = n_streams(n_inputs, n_layers)
    spacing = period // count
    if spacing < lfsr_width:
        raise ParameterError(f"lfsr_width must be larger for {count} streams "
                             f"(period // streams >= lfsr_width)")
    base = lfsr_base(lfsr_width)[0]
    make = lambda s: LFSRParams(lfsr_width, int(base[(seed + s * spacing) % period]))  # noqa
    layer_streams = [(0, 1)] + [(n_inputs + 2 * l, n_inputs + 2 * l + 1)
                                for l in range(1, n_layers)]
    return NetworkPlan("lfsr", width, tuple(make(2 + i) for i in range(n_inputs)),
                       tuple(make(w) for w, _ in layer_streams),
                       tuple(make(s) for _, s in layer_streams), lfsr_width - width, width)


def stream_plan(source, width, n_inputs, seed, lfsr_width, length):
    """The plan of a single dense layer: a one-layer :func:`network_plan`."""
    return network_plan(source, width, n_inputs, 1, seed, lfsr_width, length).layer(0)


def stream_values(plan, sources, n):
    """Comparator values of ``sources`` (a sequence of the plan's sources) for cycles 0..n-1."""
    out = np.empty((len(sources), n), dtype=np.int64)
    for row, src in enumerate(sources):
        if plan.kind == "sobol":
            out[row] = sobol_sequence(src, n)
        else:
            seq, phase = lfsr_base(src.width)
            out[row] = seq[(phase[src.seed] + plan.leap * np.arange(n)) % src.period]
    return out >> plan.shift


@lru_cache(maxsize=4)
def lfsr_base(width):
    """One period of the seed-1 m-sequence and the inverse map state -> phase."""
    seq = lfsr_sequence(LFSRParams(width, 1), (1 << width) - 1)
    phase = np.zeros(1 << width, dtype=np.int64)
    phase[seq] = np.arange(len(seq))
    return seq, phase
