"""Amaranth generators for every scfpga block, built from the model's parameter objects.

Every component uses the ``sync`` domain (Verilog ports ``clk`` and active-high synchronous
``rst``); a block that advances in time has an ``en`` input. See :func:`build` to go from a
parameter object to a component, and :func:`to_verilog` for Verilog text.
"""
from .lfsr import LFSR
from .sobol import Sobol
from .sources import make_source
from .sng import SNG
from .synapse import Synapse
from .mux import Mux
from .counter import Counter
from .lif import LIF, LIFCore
from .verilog import build, to_verilog
from .fusion import Fusion                       # registers FusionParams with build()

__all__ = ["LFSR", "Sobol", "make_source", "SNG", "Synapse", "Mux", "Counter", "LIF", "LIFCore",
           "Fusion", "build", "to_verilog"]
