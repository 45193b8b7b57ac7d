"""From a parameter object to a component and to Verilog text."""
from amaranth.back import verilog

from ..model.counter import CounterParams
from ..model.lfsr import LFSRParams
from ..model.lif import LIFParams
from ..model.mux import MuxParams
from ..model.params import ParameterError
from ..model.sng import SNGParams
from ..model.sobol import SobolParams
from ..model.synapse import SynapseParams
from .counter import Counter
from .lfsr import LFSR
from .lif import LIF
from .mux import Mux
from .sng import SNG
from .sobol import Sobol
from .synapse import Synapse

_COMPONENTS = {
    LFSRParams: LFSR, SobolParams: Sobol, SNGParams: SNG, SynapseParams: Synapse,
    MuxParams: Mux, CounterParams: Counter, LIFParams: LIF,
}


def register(params_type, component_type):
    """Let :func:`build` construct ``component_type`` from ``params_type`` (used by layers)."""
    _COMPONENTS[params_type] = component_type


def build(params):
    """The component generated from a parameter object."""
    try:
        return _COMPONENTS[type(params)](params)
    except KeyError:
        raise ParameterError(f"no generator for {type(params).__name__}") from None


def to_verilog(params_or_component, name):
    """Verilog text whose top module is ``name``; ports keep the signature's member names."""
    component = params_or_component
    if not hasattr(component, "signature"):
        component = build(params_or_component)
    return verilog.convert(component, name=name, emit_src=False)
