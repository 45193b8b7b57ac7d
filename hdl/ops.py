"""Ops lowered to Amaranth: :func:`component` maps a parameter object to its generator.

One line per op (the op table is :mod:`scfpga.model.ops`): ``component.register(FooParams, Foo)``.
Keywords are the op's lowering options (e.g. dense ``lanes``).
"""
from functools import singledispatch

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
from ..model.network import NetworkParams
from ..model.neuron_types import NeuronParams
from ..model.params import ParameterError
from ..model.sng import SNGParams
from ..model.sobol import SobolParams
from ..model.synapse import SynapseParams
from ..model.wta import WTAParams
from ..model.predictive import PredictiveParams
from ..model.recurrent import RecurrentParams
from .attention import Attention
from .counter import Counter
from .dendrite import Dendrite
from .dense import Dense
from .event import EventSynapses
from .fusion import Fusion
from .inhibition import Inhibition
from .lfsr import LFSR
from .lif import LIF
from .mux import Mux
from .network_readout import network_top
from .neuron_types import FoldedNeurons
from .sng import SNG
from .sobol import Sobol
from .synapse import Synapse
from .wta import WTA
from .predictive import Predictive
from .recurrent import Recurrent
from ..model.stdp import STDPParams
from .stdp import STDPLayer


@singledispatch
def component(params, **kw):
    """The Amaranth component generated from a parameter object."""
    raise ParameterError(f"no generator for {type(params).__name__}")


component.register(LFSRParams, LFSR)
component.register(SobolParams, Sobol)
component.register(SNGParams, SNG)
component.register(SynapseParams, Synapse)
component.register(MuxParams, Mux)
component.register(CounterParams, Counter)
component.register(LIFParams, LIF)
component.register(FusionParams, Fusion)
component.register(DenseParams, Dense)
component.register(NetworkParams, network_top)   # a Network, with a WTA readout if it has one
component.register(WTAParams, WTA)
component.register(InhibitionParams, Inhibition)
component.register(AttentionParams, Attention)
component.register(DendriteParams, Dendrite)
component.register(PredictiveParams, Predictive)
component.register(RecurrentParams, Recurrent)
component.register(NeuronParams, FoldedNeurons)     # every type of the zoo (a subclass)
component.register(EventParams, EventSynapses)
component.register(STDPParams, STDPLayer)
