"""Spiking graph convolution generator (semantics: :mod:`scfpga.model.graph`).

The event-synapse engine (:class:`~scfpga.hdl.event.EventSynapses`) aggregates the address
events of the neighbours' spikes into per-neuron currents; when it publishes a step
(``out_valid``) every LIF neuron updates in that cycle and its spike is registered.

* ``aer_valid``, ``aer_index``, ``aer_end``, ``aer_ready``: the engine's event input.
* ``spike_valid``: the cycle after the neurons updated (one cycle per step).
* ``spikes<k>``: output spikes ``32 k .. 32 k + 31`` of the last step (registered).
"""
from amaranth.hdl import Cat, Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..model.graph import GraphConvParams
from ..model.params import signed_range
from .event import EventSynapses

WORD = 32


def spike_words(n):
    """Number of ``spikes<k>`` ports for ``n`` output neurons."""
    return -(-n // WORD)


class GraphConvCore(wiring.Component):
    """Event-driven aggregation and LIF neurons of one spiking graph convolution.

    Parameters
    ----------
    params : GraphConvParams
    """

    def __init__(self, params: GraphConvParams):
        self.params = params
        e = params.events
        members = {"aer_valid": In(1), "aer_index": In(e.index_bits), "aer_end": In(1),
                   "aer_ready": Out(1), "spike_valid": Out(1)}
        n = e.n_post
        members.update({f"spikes{k}": Out(min(WORD, n - WORD * k))
                        for k in range(spike_words(n))})
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        p = self.params
        n = p.events.n_post
        m.submodules.engine = engine = EventSynapses(p.events)
        m.d.comb += [engine.aer_valid.eq(self.aer_valid), engine.aer_index.eq(self.aer_index),
                     engine.aer_end.eq(self.aer_end), self.aer_ready.eq(engine.aer_ready)]
        lo, hi = signed_range(p.state_width)
        spikes = []
        for j in range(n):
            v = Signal(signed(p.state_width), name=f"v{j}")
            # One bit of headroom past the state, so the saturation sees the true sum.
            u = Signal(signed(p.state_width + 1), name=f"u{j}")
            sat = Signal(signed(p.state_width), name=f"sat{j}")
            leaked = v - (v >> p.leak_shift) if p.leak_shift else v
            m.d.comb += [u.eq(leaked + getattr(engine, f"y{j}")),
                         sat.eq(Mux(u > hi, hi, Mux(u < lo, lo, u)))]
            fire = Signal(name=f"fire{j}")
            m.d.comb += fire.eq(sat >= p.threshold)
            s = Signal(name=f"s{j}")
            with m.If(engine.out_valid):
                m.d.sync += [v.eq(Mux(fire, sat - p.threshold, sat)), s.eq(fire)]
            spikes.append(s)
        m.d.sync += self.spike_valid.eq(engine.out_valid)
        for k in range(spike_words(n)):
            m.d.comb += getattr(self, f"spikes{k}").eq(Cat(*spikes[WORD * k:WORD * (k + 1)]))
        return m
