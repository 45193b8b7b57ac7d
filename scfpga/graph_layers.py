"""sc_neurocore's spike-native graph layers under their own names, on scfpga's golden model.

``SpikeGraphConv`` and ``SpikeGNNLayer`` keep the reference's arguments and ``forward(
node_features, adjacency)`` / ``graph_classify``; what runs is :mod:`scfpga.model.graph`, the
model the RTL (:class:`scfpga.hdl.graph.GraphConvCore`) matches bit for bit. Differences from
the reference, all for reproducibility and hardware:

* **Seeded spike encoding.** Node features in [0, 1] become spikes by a comparator against a
  seeded hash (:func:`scfpga.model.graph.encode`), not fresh random draws: the same call gives
  the same spikes in every process and in the RTL.
* **Spikes all the way.** Layers pass spike trains to each other (the address events of one
  layer feed the next), not re-encoded normalised counts; ``SpikeGNNLayer.forward`` still
  returns the last layer's counts scaled to [0, 1], as the reference does.
* **Fixed point.** ``W / degree`` is one integer per synapse (``weight_bits`` signed bits,
  default 8; :func:`scfpga.model.graph.graph_conv_params`); the LIF leak is a shift
  (``tau_mem`` -> ``round(log2 tau_mem)``, ``None`` or ``inf``: no leak) and the threshold an
  integer in the same units.
* **Weights.** ``W`` (``(out_features, in_features)``) starts as
  ``default_rng(seed).standard_normal(...) * sqrt(2 / in_features)`` and may be assigned.
"""
import numpy as np

from .model.graph import encode, graph_conv_params, graph_conv_run
from .model.params import ParameterError, check_int

__all__ = ["SpikeGraphConv", "SpikeGNNLayer"]


class SpikeGraphConv:
    """Spiking graph convolution: mean aggregation over neighbours' spikes, a weight transform
    and LIF neurons.

    Parameters
    ----------
    in_features, out_features : int
    threshold : float
        Firing threshold in units of the aggregated, projected input (> 0).
    tau_mem : float or None
        Membrane time constant in steps; ``None`` or ``inf``: integrate-and-fire.
    seed : int
        Seed of the initial weights and of the input spike encoding.
    weight_bits : int
        Signed bits of a synapse's integer weight.
    width : int
        Comparator bits of the feature encoding.
    """

    def __init__(self, in_features, out_features, threshold=1.0, tau_mem=10.0, seed=42,
                 weight_bits=8, width=8):
        self.in_features = check_int("in_features", in_features, 1)
        self.out_features = check_int("out_features", out_features, 1)
        self.threshold, self.tau_mem, self.seed = threshold, tau_mem, seed
        self.weight_bits, self.width = weight_bits, width
        rng = np.random.default_rng(seed)
        self.W = rng.standard_normal((out_features, in_features)) * np.sqrt(2.0 / in_features)

    def params(self, adjacency):
        """The :class:`~scfpga.model.graph.GraphConvParams` (what the RTL is generated from)
        and the weights' fraction bits, for this graph."""
        if np.shape(self.W) != (self.out_features, self.in_features):
            raise ParameterError(f"W must have shape ({self.out_features}, {self.in_features}), "
                                 f"got {np.shape(self.W)}")
        return graph_conv_params(self.W, adjacency, self.threshold, self.tau_mem,
                                 self.weight_bits)

    def encode(self, node_features, T):
        """The seeded input spikes ``(T, n_nodes * in_features)`` of features in [0, 1]."""
        x = np.asarray(node_features, np.float64)
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ParameterError(f"node_features must have shape (n_nodes, {self.in_features}), "
                                 f"got {x.shape}")
        return encode(x, T, self.seed, self.width)

    def run(self, spikes, adjacency):
        """Output spikes ``(T, n_nodes * out_features)`` for input spikes."""
        return graph_conv_run(self.params(adjacency)[0], spikes)

    def forward(self, node_features, adjacency, T=8):
        """Output spike counts ``(n_nodes, out_features)`` over ``T`` steps."""
        n = len(np.asarray(node_features))
        spikes = self.run(self.encode(node_features, T), adjacency)
        return spikes.sum(0).reshape(n, self.out_features).astype(np.float64)


class SpikeGNNLayer:
    """Stack of :class:`SpikeGraphConv` layers (``layer_dims = [in, hidden..., out]``), layer
    ``i`` seeded ``42 + i``; ``T`` steps per inference."""

    def __init__(self, layer_dims, threshold=1.0, T=8, tau_mem=10.0, weight_bits=8):
        dims = list(layer_dims)
        if len(dims) < 2:
            raise ParameterError(f"layer_dims must list at least 2 sizes, got {dims}")
        self.layer_dims, self.threshold = dims, threshold
        self.T = check_int("T", T, 1)
        self.convs = [SpikeGraphConv(a, b, threshold=threshold, tau_mem=tau_mem, seed=42 + i,
                                     weight_bits=weight_bits)
                      for i, (a, b) in enumerate(zip(dims, dims[1:]))]

    @property
    def n_layers(self):
        return len(self.convs)

    def run(self, node_features, adjacency):
        """Input spikes and every layer's output spikes (a list; each ``(T, n_nodes * f)``)."""
        spikes = [self.convs[0].encode(node_features, self.T)]
        for conv in self.convs:
            spikes.append(conv.run(spikes[-1], adjacency))
        return spikes

    def counts(self, node_features, adjacency):
        """Integer spike counts of the last layer, ``(n_nodes, out_features)``."""
        n = len(np.asarray(node_features))
        last = self.run(node_features, adjacency)[-1]
        return last.sum(0, dtype=np.int64).reshape(n, self.layer_dims[-1])

    def forward(self, node_features, adjacency):
        """The last layer's spike counts scaled to [0, 1] (by their maximum, when > 0)."""
        h = self.counts(node_features, adjacency).astype(np.float64)
        return h / h.max() if h.max() > 0 else h

    def graph_classify(self, node_features, adjacency):
        """Class of the whole graph: argmax of the summed node outputs (ties: lower class)."""
        return int(np.argmax(self.forward(node_features, adjacency).sum(0)))
