"""Spiking graph convolution in fixed point: neighbour aggregation by event-driven synapses.

Semantics (shared by the RTL, :mod:`scfpga.hdl.graph`). A layer maps ``in_features`` spike
trains per node to ``out_features`` LIF neurons per node over a graph of ``n_nodes`` nodes.
Input ``(u, f)`` is index ``u * in_features + f``, output ``(v, o)`` is ``v * out_features + o``.
``adjacency[v, u] = 1`` means node ``v`` aggregates node ``u`` (mean over its
``deg_v = max(1, sum_u adjacency[v, u])`` neighbours, as the reference's ``A @ X / degree``).
The degree normalisation and the weight transform are folded into one integer per synapse,

    w[(u, f), (v, o)] = floor(W[o, f] / deg_v * 2**frac + 1/2)    (quantize_weights' frac),

so a step's input current of neuron ``(v, o)`` is the event-driven sum of
:mod:`scfpga.model.event` over the neighbours' spikes: the cost follows the spikes of the
neighbours, and the result equals ``(A @ S @ W.T / deg)`` up to that rounding. Each neuron then
updates (``s = leak_shift``; ``>>`` is an arithmetic shift; state saturates at
``state_width`` signed bits)::

    u = sat(v - (v >> s) + I)        (s = 0: no leak, an integrate-and-fire neuron)
    spike = u >= threshold;   v = u - threshold * spike

which is the reference's ``v = a v + (1 - a) I`` with ``a = 1 - 2**-s`` on a state scaled by
``2**s``; hence ``threshold = floor(theta * 2**(frac + s) + 1/2)`` for a real threshold theta.

Node features in [0, 1] become spikes by a seeded comparator (:func:`encode`): feature ``x``
of node ``n`` spikes at step ``t`` iff the top ``width`` bits of ``seeded_hash(seed, t, n, f)``
are below ``floor(x * 2**width + 1/2)``: reproducible, bit-exact, 1.0 always spikes.
"""
import math
from dataclasses import dataclass

import numpy as np

from .event import EventParams, event_apply, from_connections, quantize_weights, seeded_hash
from .params import ParameterError, check_int, signed_range
from .sng import quantize_unipolar

MAX_LEAK_SHIFT = 16


@dataclass(frozen=True)
class GraphConvParams:
    """One spiking graph convolution: its synapses and its neurons.

    Parameters
    ----------
    n_nodes, in_features, out_features : int
        Graph size and feature widths; ``events`` has ``n_nodes * in_features`` inputs and
        ``n_nodes * out_features`` outputs.
    events : EventParams
        The folded synapses (aggregation, normalisation and weights).
    threshold : int
        Firing threshold in current units, >= 1.
    leak_shift : int
        Leak ``v >> leak_shift`` per step, 0..16 (0: none).
    """
    n_nodes: int
    in_features: int
    out_features: int
    events: EventParams
    threshold: int
    leak_shift: int = 0

    def __post_init__(self):
        check_int("n_nodes", self.n_nodes, 1)
        check_int("in_features", self.in_features, 1)
        check_int("out_features", self.out_features, 1)
        if (self.events.n_pre, self.events.n_post) != (self.n_nodes * self.in_features,
                                                       self.n_nodes * self.out_features):
            raise ParameterError("events must have n_nodes * in_features inputs and "
                                 "n_nodes * out_features outputs")
        check_int("leak_shift", self.leak_shift, 0, MAX_LEAK_SHIFT)
        check_int("threshold", self.threshold, 1, signed_range(self.state_width)[1])

    @property
    def state_width(self):
        """Signed membrane bits: room for a threshold's worth of state plus a step's current."""
        return max(self.events.acc_width, int(self.threshold).bit_length() + 1) + 2


def leak_shift_of(tau_mem):
    """``round(log2(tau_mem))`` clipped to 1..16 (``2**-s`` ~ ``1 - exp(-1/tau)``); ``None`` or
    infinity: 0 (no leak)."""
    if tau_mem is None or tau_mem == math.inf:
        return 0
    if not (isinstance(tau_mem, (int, float)) and tau_mem > 0 and math.isfinite(tau_mem)):
        raise ParameterError(f"tau_mem must be a number > 0 (or None/inf: no leak), got {tau_mem!r}")
    return int(min(MAX_LEAK_SHIFT, max(1, round(math.log2(tau_mem)))))


def check_adjacency(adjacency):
    a = np.asarray(adjacency)
    if a.ndim != 2 or a.shape[0] != a.shape[1] or not a.size:
        raise ParameterError(f"adjacency must be a square (n_nodes, n_nodes) array, got {a.shape}")
    if not np.isin(a, (0, 1)).all():
        raise ParameterError("adjacency must be binary (1 = edge, 0 = no edge)")
    return a.astype(np.int64)


def graph_conv_params(weight, adjacency, threshold=1.0, tau_mem=None, weight_bits=8):
    """:class:`GraphConvParams` and ``frac`` from real weights ``(out_features, in_features)``,
    a binary adjacency and a real threshold (quantisation rule: module docstring)."""
    w = np.asarray(weight, np.float64)
    a = check_adjacency(adjacency)
    if w.ndim != 2:
        raise ParameterError(f"weight must have shape (out_features, in_features), got {w.shape}")
    n, (f_out, f_in) = len(a), w.shape
    deg = np.maximum(1, a.sum(1))
    v, u = np.nonzero(a)
    real = w.T[None, :, :] / deg[v][:, None, None]               # (edges, f_in, f_out)
    q, frac = quantize_weights(real, weight_bits)
    e, f, o = np.nonzero(q)
    events = from_connections(n * f_in, n * f_out, u[e] * f_in + f, v[e] * f_out + o,
                              q[e, f, o], weight_bits)
    s = leak_shift_of(tau_mem)
    if not (isinstance(threshold, (int, float)) and threshold > 0 and math.isfinite(threshold)):
        raise ParameterError(f"threshold must be a number > 0, got {threshold!r}")
    theta = max(1, int(math.floor(threshold * 2.0 ** (frac + s) + 0.5)))
    return GraphConvParams(n, f_in, f_out, events, theta, s), frac


def lif_step(params: GraphConvParams, v, current):
    """One neuron update: ``(new state, spikes)`` for states ``v`` and currents (int64)."""
    lo, hi = signed_range(params.state_width)
    leaked = v - (v >> params.leak_shift) if params.leak_shift else v
    u = np.clip(leaked + current, lo, hi)
    spike = u >= params.threshold
    return u - params.threshold * spike, spike.astype(np.uint8)


def graph_conv_run(params: GraphConvParams, spikes):
    """Output spikes ``(T, n_nodes * out_features)`` uint8 for input spikes
    ``(T, n_nodes * in_features)``; states start at 0."""
    current = event_apply(params.events, spikes)
    v = np.zeros(params.events.n_post, np.int64)
    out = np.zeros(current.shape, np.uint8)
    for t in range(len(current)):                   # a time loop, vectorised over neurons
        v, out[t] = lif_step(params, v, current[t])
    return out


def encode(features, T, seed, width=8):
    """Seeded spike trains ``(T, n_nodes * n_features)`` uint8 of features in [0, 1]."""
    x = np.asarray(features, np.float64)
    if x.ndim != 2:
        raise ParameterError(f"node_features must have shape (n_nodes, features), got {x.shape}")
    check_int("T", T, 1)
    q = quantize_unipolar(x, width)
    n, f = x.shape
    r = seeded_hash(seed, np.arange(T)[:, None, None], np.arange(n)[None, :, None],
                    np.arange(f)[None, None, :]) >> np.uint64(64 - width)
    return (r.astype(np.int64) < q[None]).reshape(T, n * f).astype(np.uint8)


def gnn_run(layers, spikes):
    """Spikes of every layer (a list) for the input spikes; each layer feeds the next."""
    out = []
    for p in layers:
        spikes = graph_conv_run(p, spikes)
        out.append(spikes)
    return out
