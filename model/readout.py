"""A k-winner-take-all readout of a network: the winners among the output layer's results.

:class:`WTAReadout` picks the ``k`` best output neurons after a run, by their spike ``counts``
or by their signed ``scores`` (sum of currents, :mod:`.network`). The rule is the one of
:mod:`.wta` (rank = elements that beat it, **ties to the lower index**, exactly ``k`` win),
applied to unsigned values: a count as it is, a score plus ``2**(score_bits - 1)`` (an
order-preserving offset, so negative scores compete too). The hardware
(:mod:`scfpga.hdl.network_readout`) reads the same values from the output layer's state RAM
after the last SC cycle and applies :func:`scfpga.hdl.wta.winner_mask` to them.
"""
from dataclasses import dataclass

import numpy as np

from .conv import current_bound
from .params import ParameterError, check_choice, check_int
from .wta import MAX_N, MAX_WIDTH, WTAParams, pack_mask, wta_mask

READOUT_VALUES = ("counts", "scores")


def count_bits(length):
    """Bits of a spike count of a run of ``length`` SC cycles (as the state word holds it)."""
    return max(1, (length - 1).bit_length())


def score_bits(bound, length):
    """Signed bits of a score whose current is bounded by ``|I| <= bound``."""
    return (bound * length).bit_length() + 1


@dataclass(frozen=True)
class WTAReadout:
    """k-WTA over the output layer (module docstring).

    Parameters
    ----------
    k : int
        Winners, 1..outputs.
    over : {"counts", "scores"}
        Which result competes.
    """
    k: int = 1
    over: str = "counts"

    def __post_init__(self):
        check_int("readout k", self.k, 1, MAX_N)
        check_choice("readout over", self.over, READOUT_VALUES)

    def value_bits(self, layer, length):
        """Unsigned bits of a competing value of output layer ``layer``."""
        if self.over == "counts":
            return count_bits(length)
        return score_bits(current_bound(layer), length)

    def wta(self, layer, length):
        """The :class:`.wta.WTAParams` of this readout on ``layer`` (raises when it cannot)."""
        n = layer.n_neurons
        if not 2 <= n <= MAX_N:
            raise ParameterError(f"readout: a WTA readout needs 2..{MAX_N} output neurons, "
                                 f"got {n}")
        if self.k > n:
            raise ParameterError(f"readout k must be in 1..{n} (the output neurons), got {self.k}")
        bits = self.value_bits(layer, length)
        if bits > MAX_WIDTH:
            raise ParameterError(f"readout: {self.over} of {bits} bits exceed the WTA's "
                                 f"{MAX_WIDTH}; use counts or a shorter run")
        return WTAParams(n, self.k, bits)

    def values(self, layer, length, counts, scores):
        """The unsigned competing values ``(batch, n)`` of a run's output counts/scores."""
        if self.over == "counts":
            return np.asarray(counts, np.int64)
        return np.asarray(scores, np.int64) + (1 << (score_bits(current_bound(layer), length) - 1))

    def winners(self, layer, length, counts, scores):
        """Winner masks ``(batch, n)`` uint8: exactly ``k`` ones per sample."""
        return wta_mask(self.wta(layer, length), self.values(layer, length, counts, scores))

    def describe(self):
        return f"{self.k}-WTA over {self.over}"


def readout_winners(params, run):
    """Winner masks ``(batch, n)`` of a :class:`.network.NetworkRun` of ``params``."""
    r = params.readout
    if r is None:
        raise ParameterError("the network has no readout")
    return r.winners(params.layers[-1], params.length, run.counts[-1], run.scores[-1])


__all__ = ["WTAReadout", "readout_winners", "pack_mask", "READOUT_VALUES"]
