"""Amaranth generators for every scfpga block, built from the model's parameter objects.

Every component uses the ``sync`` domain (Verilog ports ``clk`` and active-high synchronous
``rst``); a block that advances in time has an ``en`` input. See :func:`component` to go from a
parameter object to a component (:mod:`.ops`, one registration per op), and
:func:`to_verilog` for Verilog text.
"""
from .lfsr import LFSR
from .sobol import Sobol
from .sources import make_source
from .sng import SNG
from .synapse import Synapse
from .mux import Mux
from .counter import Counter
from .lif import LIF, LIFCore
from .fusion import Fusion
from .dense import Dense
from .network import Network
from . import neuron_types  # noqa: F401  (registers every neuron type's update core)
from .ops import component
from .verilog import to_verilog

__all__ = ["LFSR", "Sobol", "make_source", "SNG", "Synapse", "Mux", "Counter", "LIF", "LIFCore",
           "Fusion", "Dense", "Network", "component", "to_verilog"]
