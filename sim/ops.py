"""Ops lowered to co-simulation: :func:`bench` maps a parameter object to its bench.

A bench is the module ``sim/<op>.py``: ``make_case(params, cycles, rng, p_on=0.85, **kw)``
returns per-cycle stimulus and expected outputs; optional ``SIGNED_PORTS``, ``dut(params,
**kw)`` (the component to co-simulate; default :func:`scfpga.hdl.ops.component`),
``run_case(params, cycles, rng, simulate, **kw) -> (result, text)`` (a bench that explains
its own mismatches) and ``default_cycles(params)``. One line per op registers it:
``register(FooParams, foo)``. ``kw`` are the op's lowering options (e.g. dense ``lanes``).
"""
from dataclasses import dataclass
from functools import singledispatch

import numpy as np

from ..hdl.ops import component
from ..hdl.verilog import to_verilog
from ..model.counter import CounterParams
from ..model.dense import DenseParams
from ..model.fusion import FusionParams
from ..model.lfsr import LFSRParams
from ..model.lif import LIFParams
from ..model.mux import MuxParams
from ..model.params import ParameterError
from ..model.sng import SNGParams
from ..model.sobol import SobolParams
from ..model.synapse import SynapseParams
from . import counter, dense, fusion, lfsr, lif, mux, sng, sobol, synapse
from .runner import cosim


@dataclass(frozen=True)
class Bench:
    """What co-simulation needs of an op, read from its bench module (module docstring)."""
    module: object

    @property
    def make_case(self):
        return self.module.make_case

    @property
    def signed_ports(self):
        return tuple(getattr(self.module, "SIGNED_PORTS", ()))

    @property
    def dut(self):
        return getattr(self.module, "dut", component)

    @property
    def run_case(self):
        return getattr(self.module, "run_case", None)

    @property
    def default_cycles(self):
        return getattr(self.module, "default_cycles", None)


@singledispatch
def bench(params) -> Bench:
    """The :class:`Bench` of a parameter object."""
    raise ParameterError(f"no bench for {type(params).__name__}")


def register(params_type, module):
    """Co-simulate ``params_type`` with the bench module ``module``."""
    b = Bench(module)
    bench.register(params_type, lambda params: b)


register(LFSRParams, lfsr)
register(SobolParams, sobol)
register(SNGParams, sng)
register(SynapseParams, synapse)
register(MuxParams, mux)
register(CounterParams, counter)
register(LIFParams, lif)
register(FusionParams, fusion)
register(DenseParams, dense)


def model_output(op, params, cycles, stim_seed=1):
    """The golden model's ``op.primary`` output for ``cycles`` cycles with ``en`` always on."""
    if op.model_check:
        op.model_check(params)
    _, expected = bench(params).make_case(params, cycles, np.random.default_rng(stim_seed), p_on=1.0)
    return expected[op.primary]


def cosimulate(op, params, cycles, stim_seed=1, name=None, build_root=None, simulate=None,
               simulator=None, **kw):
    """Co-simulate the generated Verilog of ``params`` against the model (random ``en``).

    Returns ``(result, text)``: the :class:`~scfpga.sim.CosimResult` and its one-line report.
    ``simulate(verilog, top, stimulus, expected, signed_ports, build_root)`` replaces the RTL
    co-simulation (e.g. :func:`scfpga.gatelevel.gate_level_cosim`); ``kw`` are lowering options.
    """
    b = bench(params)
    top = name or op.name
    verilog = to_verilog(b.dut(params, **kw), top)

    def run(stim, expected, signed_ports):
        if simulate is not None:
            return simulate(verilog, top, stim, expected, signed_ports, build_root)
        return cosim(verilog, top, stim, expected, signed_ports, build_root, simulator=simulator)

    rng = np.random.default_rng(stim_seed)
    if b.run_case:
        return b.run_case(params, cycles, rng, run, **kw)
    stim, expected = b.make_case(params, cycles, rng, **kw)
    result = run(stim, expected, b.signed_ports)
    return result, result.describe(op.name)
