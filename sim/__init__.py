"""cocotb co-simulation of the generated Verilog against the golden model.

Each block has a module here named after it (``sim/sobol.py`` is the Sobol bench) that makes a
seeded random stimulus and the golden model's expected outputs for it. :mod:`.bench` is the one
cocotb test that drives any DUT cycle by cycle from those arrays and reports the first cycle
whose outputs differ; :mod:`.runner` builds and runs it under Icarus Verilog. :mod:`.ops` maps
each op's parameter class to its bench module and co-simulates it.
"""
from .runner import CosimResult, SimulatorMissing, cosim, require_icarus

__all__ = ["CosimResult", "SimulatorMissing", "cosim", "require_icarus"]
