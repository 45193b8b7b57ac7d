"""An event-driven (AER) layer of a network: exact integer synapses stored CSR, spikes as events.

The edge into an :class:`EventLayer` carries the previous layer's spikes as address events
(the index of every neuron that fired in the SC cycle); its synapses are the exact signed
integers of an :class:`~.event.EventParams` (CSR, only real synapses stored). Semantics, shared
by the hardware (:mod:`scfpga.hdl.event_layer`), in the network's time convention
(:mod:`.network`):

* the input bits ``x_i(k)`` of SC cycle ``k`` are the previous layer's spikes of cycle ``k``;
* the current is the dense product of the same weights, exactly:
  ``I_j(k) = sum_i x_i(k) W_ij`` with ``W = dense_weight(synapses)`` (no stochastic stream:
  the SC error of this edge is zero, its cost is the number of events);
* the neurons (any registered type) step with ``I(k)`` and show the spike in cycle ``k + 1``,
  so the edge has the same one SC cycle of latency as a dense edge.

Cost: in hardware a cycle of this layer takes a number of clocks that grows with its active
inputs (:func:`scfpga.hdl.event_layer.layer_clocks`), so the network's lockstep waits for the
layer's ``done`` instead of a fixed clock count.

Connectivity comes from :func:`.event.connectivity` (one SplitMix64 rule for model and
hardware): ``conn = "prob"`` (each pair with probability ``conn_num``) or ``"num"`` (every
neuron receives exactly ``conn_num`` inputs), one weight ``conn_weight`` per synapse, or a
given integer matrix (``conn = "dense"``, zeros are no synapse).
"""
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from . import neuron as neurons
from .conv import default_neuron
from .event import EventParams, connectivity, dense_weight, from_connections, from_dense
from .params import ParameterError, check_choice

CONN_RULES = ("prob", "num", "dense")


@dataclass(frozen=True)
class EventLayer:
    """A layer fed by address events through exact integer CSR synapses.

    Parameters
    ----------
    synapses : EventParams
        ``n_pre`` = the previous layer's neurons, ``n_post`` = this layer's neurons.
    neuron : neuron parameter object
        Any type registered in :mod:`.neuron`; default :func:`.conv.default_neuron`.
    """
    synapses: EventParams
    neuron: object = field(default_factory=default_neuron)

    def __post_init__(self):
        if not isinstance(self.synapses, EventParams):
            raise ParameterError(f"synapses must be an EventParams, got "
                                 f"{type(self.synapses).__name__}")
        neurons.state_fields(self.neuron)          # raises unless a registered neuron type

    @property
    def n_inputs(self):
        return self.synapses.n_pre

    @property
    def n_neurons(self):
        return self.synapses.n_post

    @property
    def out_shape(self):
        return (self.n_neurons,)

    lanes = 1             # the hardware handles one synapse per clock
    fold = 1

    @cached_property
    def weight(self):
        """The dense ``(n_pre, n_post)`` integer matrix of the synapses (the model's product)."""
        return dense_weight(self.synapses)

    @cached_property
    def sweep_terms(self):
        """The largest ``|I_j(k)|`` any input can cause (the larger of a column's positive and
        negative weight sums): what the state word's score and the current are sized from."""
        w = self.weight
        return max(1, int(max(np.maximum(w, 0).sum(0).max(), -np.minimum(w, 0).sum(0).min())))

    def describe(self):
        s = self.synapses
        return f"event {s.n_pre}->{s.n_post} ({s.n_synapses} synapses)"

    def currents(self, bits):
        """``(batch, neurons, T)`` int64 currents for input bits ``(batch, n_inputs, T)``:
        the exact product (float64 GEMM; exact while sums stay below 2**53)."""
        x = np.asarray(bits, np.float64).transpose(0, 2, 1)        # (B, T, n_pre)
        return np.matmul(x, self.weight.astype(np.float64)).astype(np.int64).transpose(0, 2, 1)

    def run_in_network(self, bits, source_values):
        """``(currents, spikes)`` of the layer in a network (the weight source is unused)."""
        cur = self.currents(bits)
        spikes, _ = neurons.run(self.neuron, cur)
        return cur, spikes


def event_layer(n_inputs, n_neurons, conn="prob", conn_num=0.5, conn_weight=1, seed=0,
                weights=None, weight_width=8, neuron=None):
    """An :class:`EventLayer` from a connection rule (:data:`CONN_RULES`).

    ``conn = "prob"`` / ``"num"``: seeded synapses of :func:`.event.connectivity`, each with
    the integer ``conn_weight``; ``conn = "dense"``: ``weights`` an integer matrix
    ``(n_neurons, n_inputs)`` (as a dense layer's), one synapse per non-zero entry.
    """
    check_choice("conn", conn, CONN_RULES)
    if conn == "dense":
        w = np.asarray(weights)
        if w.ndim != 2 or w.shape != (n_neurons, n_inputs):
            raise ParameterError(f"weights must have shape (neurons, inputs) = ({n_neurons}, "
                                 f"{n_inputs}), got {w.shape}")
        if not np.issubdtype(w.dtype, np.integer):
            if not np.all(np.isfinite(w)) or np.any(w != np.round(w)):
                raise ParameterError("weights of an event layer must be integers")
            w = w.astype(np.int64)
        synapses = from_dense(w.T, weight_width)
    else:
        if isinstance(conn_weight, bool) or not isinstance(conn_weight, (int, np.integer)):
            raise ParameterError(f"conn_weight must be an integer, got {conn_weight!r}")
        pre, post = connectivity(n_inputs, n_neurons, conn_num, seed, conn)
        synapses = from_connections(n_inputs, n_neurons, pre, post, int(conn_weight),
                                    weight_width)
    return EventLayer(synapses, default_neuron() if neuron is None else neuron)
