"""Ops lowered to co-simulation: :func:`bench` maps a parameter object to its bench.

A bench is the module ``sim/<op>.py``: ``make_case(params, cycles, rng, p_on=0.85, **kw)``
returns per-cycle stimulus and expected outputs; optional ``SIGNED_PORTS``, ``dut(params,
**kw)`` (the component to co-simulate; default :func:`scfpga.hdl.ops.component`),
``run_case(params, cycles, rng, simulate, **kw) -> (result, text)`` (a bench that explains
its own mismatches or drives its own test; ``simulate`` is a :class:`Simulation`) and
``default_cycles(params)``. One line per op registers it:
``register(FooParams, foo)``. ``kw`` are the op's lowering options (e.g. dense ``lanes``).
"""
from dataclasses import dataclass
from functools import singledispatch

import numpy as np

from ..hdl.ops import component
from ..hdl.verilog import to_verilog
from ..model.attention import AttentionParams
from ..model.counter import CounterParams
from ..model.dendrite import DendriteParams
from ..model.dense import DenseParams
from ..model.event import EventParams
from ..model.fusion import FusionParams
from ..model.inhibition import InhibitionParams
from ..model.lfsr import LFSRParams
from ..model.lif import LIFParams
from ..model.mux import MuxParams
from ..model.params import ParameterError
from ..model.sng import SNGParams
from ..model.sobol import SobolParams
from ..model.synapse import SynapseParams
from ..model.wta import WTAParams
from ..model.predictive import PredictiveParams
from ..model.recurrent import RecurrentParams
from ..model.network import NetworkParams
from ..model.neuron_types import NeuronParams
from . import counter, dense, fusion, lfsr, lif, mux, network, neuron, sng, sobol, synapse
from . import attention, dendrite, inhibition, wta
from . import predictive, recurrent
from . import event
from . import stdp
from ..model.stdp import STDPParams
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
register(NetworkParams, network)
register(WTAParams, wta)
register(InhibitionParams, inhibition)
register(AttentionParams, attention)
register(DendriteParams, dendrite)
register(PredictiveParams, predictive)
register(RecurrentParams, recurrent)
register(NeuronParams, neuron)                      # every type of the zoo (a subclass)
register(EventParams, event)
register(STDPParams, stdp)


def model_output(op, params, cycles, stim_seed=1):
    """The golden model's ``op.primary`` output for ``cycles`` cycles with ``en`` always on."""
    if op.model_check:
        op.model_check(params)
    _, expected = bench(params).make_case(params, cycles, np.random.default_rng(stim_seed), p_on=1.0)
    return expected[op.primary]


@dataclass(frozen=True)
class Simulation:
    """What to simulate: the Verilog (generated RTL, or a netlist with its cell models in
    ``extra_sources`` and their ``defines``), its top module, where and with which simulator.

    Calling it co-simulates per-cycle arrays (:func:`scfpga.sim.cosim`); a bench with its own
    cocotb test (``run_case``) reads the fields instead.
    """
    verilog: str
    top: str
    extra_sources: tuple = ()
    defines: dict | None = None
    build_root: object = None
    simulator: str | None = None

    def __call__(self, stimulus, expected, signed_ports):
        return cosim(self.verilog, self.top, stimulus, expected, signed_ports, self.build_root,
                     simulator=self.simulator, extra_sources=self.extra_sources,
                     defines=self.defines)


def cosimulate(op, params, cycles, stim_seed=1, name=None, build_root=None, netlist=None,
               simulator=None, **kw):
    """Co-simulate the generated Verilog of ``params`` against the model (random ``en``).

    Returns ``(result, text)``: the :class:`~scfpga.sim.CosimResult` (or the bench's own result)
    and its one-line report. ``netlist(verilog, top) -> (netlist, extra_sources, defines)``
    replaces the RTL by what synthesis made of it (e.g.
    :func:`scfpga.gatelevel.gate_level_netlist`); ``kw`` are lowering options and, for benches
    with a ``run_case``, their own keywords (a network's ``x``).
    """
    b = bench(params)
    top = name or op.name
    lowering = {k: v for k, v in kw.items() if k in {o.field for o in op.options}}
    verilog = to_verilog(b.dut(params, **lowering), top)
    text, extra_sources, defines = netlist(verilog, top) if netlist else (verilog, (), None)
    run = Simulation(text, top, tuple(extra_sources), defines, build_root, simulator)
    rng = np.random.default_rng(stim_seed)
    if b.run_case:
        return b.run_case(params, cycles, rng, run, **kw)
    stim, expected = b.make_case(params, cycles, rng, **lowering)
    result = run(stim, expected, b.signed_ports)
    return result, result.describe(op.name)
