"""Single-gate synapses: AND multiplies unipolar streams, XNOR multiplies bipolar ones.

For independent streams ``a``, ``b``: ``P(a AND b) = pa * pb`` and, with bipolar values
``x = 2p - 1``, ``x(a XNOR b) = xa * xb``. The gate is combinational: ``bit`` during cycle k is a
function of ``a`` and ``b`` during cycle k.
"""
from dataclasses import dataclass

import numpy as np

from .params import check_choice

SYNAPSE_KINDS = ("and", "xnor")


@dataclass(frozen=True)
class SynapseParams:
    """``kind`` is ``"and"`` (unipolar multiply) or ``"xnor"`` (bipolar multiply)."""
    kind: str = "and"

    def __post_init__(self):
        check_choice("kind", self.kind, SYNAPSE_KINDS)


def synapse_bits(params: SynapseParams, a, b):
    """Gate output for bit arrays (or packed uint64 words) ``a`` and ``b``."""
    a, b = np.asarray(a), np.asarray(b)
    if params.kind == "and":
        return a & b
    one = np.uint64(~np.uint64(0)) if a.dtype == np.uint64 else 1
    return (a ^ b) ^ np.asarray(one, dtype=a.dtype)
