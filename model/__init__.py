"""Bit-exact NumPy golden model of every scfpga block.

Each block module holds the block's validated parameter object (shared with :mod:`scfpga.hdl`)
and a vectorised function that returns the block's primary output for a whole run at once.
Array index ``k`` is always the value the hardware shows during clock cycle ``k`` (cycle 0
is the first cycle after reset).
"""
from .params import ParameterError
from .lfsr import LFSRParams, lfsr_sequence
from .sobol import SobolParams, sobol_sequence
from .sng import SNGParams, sng_bits, quantize_unipolar, quantize_bipolar
from .synapse import SynapseParams, synapse_bits
from .mux import MuxParams, mux_select, mux_bits
from .counter import CounterParams, counter_counts
from .lif import LIFParams, lif_run, lif_spikes
from .fusion import FusionParams, FusionLayer, fusion_bits, fusion_counts

__all__ = [
    "ParameterError",
    "LFSRParams", "lfsr_sequence",
    "SobolParams", "sobol_sequence",
    "SNGParams", "sng_bits", "quantize_unipolar", "quantize_bipolar",
    "SynapseParams", "synapse_bits",
    "MuxParams", "mux_select", "mux_bits",
    "CounterParams", "counter_counts",
    "LIFParams", "lif_run", "lif_spikes",
    "FusionParams", "FusionLayer", "fusion_bits", "fusion_counts",
]
