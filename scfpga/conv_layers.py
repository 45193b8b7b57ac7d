"""The reference conv, pool, flatten and dropout layers under their own names and call shapes.

``SCConv2DLayer`` (sc_neurocore) works on one (C, H, W) image; ``SpikingConv2d``,
``SpikingMaxPool2d``, ``SpikingAvgPool2d``, ``SpikingFlatten`` and ``SpikeDropout`` (mlxsnn) work
on batches of maps, one time step per call, **NHWC** by default (``layout="NCHW"`` accepted).
Internally a map is a flat HWC vector (:mod:`scfpga.model.conv`): an NHWC batch reshaped, so the
layers compute on exactly the vectors the network hardware holds.

Every conv is the SC convolution of :class:`scfpga.model.conv.ConvLayer`: in step k the current
of output ``(y, x, o)`` is ``sum over taps of sign(q) * (x_tap AND [S(k) < |q|])`` (+ the bias
synapse), with ``q`` the sign-magnitude ``width``-bit weights and ``S`` the layer's weight source
(:mod:`scfpga.model.streams`, restarted every ``length`` steps). For weights in [-1, 1] the
current is an unbiased estimate of the float convolution, so float neuron thresholds keep their
meaning. With ``accumulation="exact"`` (a keyword of both conv classes) the current is instead
``sum over taps of q * x_tap`` (+ ``q_b``): the integer weight per input spike, no weight stream,
``2**width`` per 1.0, so thresholds are in those units. Inputs of the spiking layers must be
spikes (0/1); ``SCConv2DLayer`` encodes its probabilities itself. Bad input raises :class:`scfpga.model.ParameterError`.
"""
import numpy as np

from .model.conv import ACCUMULATIONS, ConvLayer, PoolLayer, default_neuron
from .model.dense import quantize_weights
from .model.network import Network, NetworkParams
from .model.neuron import lif_neuron
from .model.neuron_types import Neuron, create_neuron
from .model.params import ParameterError, check_choice, check_int

LAYOUTS = ("NHWC", "NCHW")

__all__ = ["SCConv2DLayer", "SpikingConv2d", "SpikingMaxPool2d", "SpikingAvgPool2d",
           "SpikingFlatten", "SpikeDropout", "TemporalAggregatedConv", "TACTemporalPreserve",
           "LearnableTAC", "FourierTemporalConv", "InfoMaxSpikeConv", "TemporalCollapseConv"]


def _to_nhwc(x, layout, what="x"):
    x = np.asarray(x)
    if x.ndim != 4:
        raise ParameterError(f"{what} must have shape (B, H, W, C) ({layout} "
                             f"{'(B, C, H, W)' if layout == 'NCHW' else ''}), got {x.shape}")
    return x.transpose(0, 2, 3, 1) if layout == "NCHW" else x


def _from_nhwc(y, layout):
    return y.transpose(0, 3, 1, 2) if layout == "NCHW" else y


def _spikes(x, what="x"):
    if not np.isin(x, (0, 1)).all():
        raise ParameterError(f"{what} must hold spikes (0 or 1); encode rates first")
    return x.astype(np.uint8)


def _pair(k):
    return (k, k) if np.ndim(k) == 0 else tuple(k)


def _window_counts(layer, x):
    """(B, P, O) window currents of ``layer`` (conv or pool) for NHWC bits ``x`` and kernel
    terms ``kt`` (O, taps): the gather of the shared index table, no dense matrix."""
    geo = layer.geometry
    flat = x.reshape(len(x), -1)
    idx = geo.input_index()                                   # (P, taps), -1: padding
    padded = np.concatenate([flat, np.zeros((len(x), 1), flat.dtype)], axis=1)
    if geo.depthwise:                                         # (B, P, taps, C)
        c = layer.in_shape[0]
        cols = np.where(idx[..., None] >= 0, idx[..., None] + np.arange(c), -1)
        return padded[:, cols].sum(2, dtype=np.int64)         # (B, P, C)
    return padded[:, idx]                                     # (B, P, taps)


class SpikingConv2d:
    """Conv2d of SC synapses plus a spiking neuron, one time step per call (mlxsnn call shape).

    ``layer(x, state) -> (spk, state)`` with ``x`` (B, H, W, C_in) spikes; ``spk`` (B, H', W',
    C_out) is the spike each output's update decides (the network hardware shows it one SC
    cycle later). ``init_state(batch_size, spatial_shape)`` takes the output (H', W').

    Parameters beyond the reference's: ``weights`` (out, in, kh, kw) floats in [-1, 1] (default:
    seeded uniform in +-1/sqrt(fan_in)), ``bias_values``, ``width`` (W), ``length`` (weight-source
    period), ``source``, ``seed``, ``layout``, ``accumulation`` (``"sc"`` or ``"exact"``, module
    docstring). ``bn=True`` is refused (no batch norm in SC).
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=False,
                 bn=False, neuron="leaky", neuron_params=None, *, weights=None, bias_values=None,
                 width=8, length=256, source="sobol", seed=0, layout="NHWC",
                 accumulation="sc"):
        self.accumulation = check_choice("accumulation", accumulation, ACCUMULATIONS)
        if bn:
            raise ParameterError("bn must be False: batch normalisation has no SC hardware here")
        check_int("in_channels", in_channels, 1, 256)
        check_int("out_channels", out_channels, 1, 256)
        self.layout = check_choice("layout", layout, LAYOUTS)
        kh, kw = _pair(kernel_size)
        rng = np.random.default_rng(seed)
        bound = 1 / np.sqrt(in_channels * kh * kw)
        w = rng.uniform(-bound, bound, (out_channels, in_channels, kh, kw)) if weights is None \
            else np.asarray(weights, np.float64)
        if w.shape != (out_channels, in_channels, kh, kw):
            raise ParameterError(f"weights must have shape {(out_channels, in_channels, kh, kw)}, "
                                 f"got {w.shape}")
        b = None
        if bias or bias_values is not None:
            b = np.zeros(out_channels) if bias_values is None else np.ravel(bias_values)
        self.q = quantize_weights(w, width)
        self.qb = None if b is None else quantize_weights(b, width)
        self.stride, self.padding, self.width = stride, padding, width
        self.length, self.source, self.seed = length, source, seed
        self.neuron = neuron if isinstance(neuron, Neuron) else \
            create_neuron(neuron, **(neuron_params or {}))
        self._layers = {}

    def network_layer(self, in_shape):
        """The :class:`~scfpga.model.conv.ConvLayer` and its one-layer network for an input map
        ``(C, H, W)`` (what the hardware is generated from), cached."""
        if in_shape not in self._layers:
            layer = ConvLayer(self.q, in_shape, self.qb, self.stride, self.padding,
                              self.neuron.params, accumulation=self.accumulation)
            params = NetworkParams(int(np.prod(in_shape)), (layer,), self.width, self.length,
                                   self.source, self.seed, input_shape=in_shape)
            self._layers[in_shape] = (layer, params,
                                      Network(params).streams(self.length)[1][0])
        return self._layers[in_shape][:2]

    def init_state(self, batch_size, spatial_shape):
        h, w = spatial_shape
        shape = (batch_size, h, w, len(self.q))
        return {"k": 0, "neuron": self.neuron.init_state(shape)}

    def currents(self, x, k):
        """(B, H', W', C_out) integer currents of NHWC spikes ``x`` in step ``k``."""
        x = _spikes(x)
        in_shape = (x.shape[3], x.shape[1], x.shape[2])
        layer, _ = self.network_layer(in_shape)
        s = self._layers[in_shape][2][k % self.length]
        kt = layer.kernel_terms
        on = kt if self.accumulation == "exact" else \
            np.sign(kt) * (s < np.abs(kt))                     # (O, taps [+ bias])
        taps = layer.geometry.n_taps
        cur = np.einsum("bpt,ot->bpo", _window_counts(layer, x).astype(np.int64), on[:, :taps])
        if layer.bias is not None:
            cur += on[:, taps]
        _, oh, ow = layer.out_shape
        return cur.reshape(len(x), oh, ow, -1)

    def __call__(self, x, state):
        x = _to_nhwc(x, self.layout)
        if x.shape[3] != self.q.shape[1]:
            raise ParameterError(f"x must have {self.q.shape[1]} channels, got {x.shape[3]}")
        cur = self.currents(x, state["k"])
        want = state["neuron"]
        shape = np.shape(next(iter(want.values()))) if isinstance(want, dict) else None
        if shape is not None and shape != cur.shape:
            raise ParameterError(f"state must be for outputs {cur.shape[:3]} (init_state("
                                 f"batch_size, spatial_shape={cur.shape[1:3]})), got {shape}")
        spk, nstate = self.neuron(cur, want)
        return _from_nhwc(spk, self.layout), {"k": state["k"] + 1, "neuron": nstate}


class SCConv2DLayer:
    """sc_neurocore's SC convolution on one image: ``forward(img)`` with ``img`` (C, H, W) of
    probabilities in [0, 1] returns (out_channels, H', W') firing rates.

    The image is encoded by the network's SNG encoder for ``length`` cycles and fed to one
    :class:`~scfpga.model.conv.ConvLayer` of integrate-and-fire neurons (threshold 1): exactly
    the network ``self.params`` the hardware is generated from. Weights: ``weights`` (out, in,
    kh, kw) in [0, 1] (unipolar, the reference's), default seeded uniform. With
    ``accumulation="exact"`` the layer adds the integer weights per input spike and its IF
    neurons have threshold ``2**width`` (the same 1.0), so the rates keep their meaning.
    """

    def __init__(self, in_channels, out_channels, kernel_size, padding=0, stride=1, *,
                 weights=None, length=256, width=8, source="sobol", seed=0, accumulation="sc"):
        self.accumulation = check_choice("accumulation", accumulation, ACCUMULATIONS)
        check_int("in_channels", in_channels, 1, 256)
        check_int("out_channels", out_channels, 1, 256)
        kh, kw = _pair(kernel_size)
        w = np.random.default_rng(seed).random((out_channels, in_channels, kh, kw)) \
            if weights is None else np.asarray(weights, np.float64)
        if w.shape != (out_channels, in_channels, kh, kw):
            raise ParameterError(f"weights must have shape {(out_channels, in_channels, kh, kw)}, "
                                 f"got {w.shape}")
        if not ((w >= 0) & (w <= 1)).all():
            raise ParameterError("weights must be unipolar probabilities in [0, 1]")
        self.in_channels, self.padding, self.stride = in_channels, padding, stride
        self.q = quantize_weights(w, width)
        self.width, self.length, self.source, self.seed = width, length, source, seed
        self.params = None

    def forward(self, input_image):
        img = np.asarray(input_image, np.float64)
        if img.ndim != 3 or img.shape[0] != self.in_channels:
            raise ParameterError(f"input_image must have shape ({self.in_channels}, H, W), got "
                                 f"{img.shape}")
        if not ((img >= 0) & (img <= 1)).all():
            raise ParameterError("input_image must hold probabilities in [0, 1]")
        shape = tuple(int(v) for v in img.shape)
        exact = self.accumulation == "exact"
        neuron = lif_neuron(width=24, threshold=1 << self.width) if exact else default_neuron()
        layer = ConvLayer(self.q, shape, None, self.stride, self.padding, neuron,
                          accumulation=self.accumulation)
        self.params = NetworkParams(img.size, (layer,), self.width, self.length, self.source,
                                    self.seed, input_shape=shape)
        counts = Network(self.params).counts(img.transpose(1, 2, 0).reshape(1, -1))
        _, oh, ow = layer.out_shape
        return (counts[0] / self.length).reshape(oh, ow, -1).transpose(2, 0, 1)


class _Pool:
    kind = None

    def __init__(self, kernel_size, stride=None, padding=0, *, layout="NHWC"):
        self.kernel_size, self.stride, self.padding = _pair(kernel_size), stride, padding
        self.layout = check_choice("layout", layout, LAYOUTS)

    def pool_layer(self, in_shape):
        """The :class:`~scfpga.model.conv.PoolLayer` for an input map ``(C, H, W)``."""
        return PoolLayer(self.kind, in_shape, self.kernel_size, self.stride, self.padding)

    def counts(self, x):
        """(B, H', W', C) window spike counts of NHWC spikes ``x``."""
        x = _spikes(_to_nhwc(x, self.layout))
        layer = self.pool_layer((x.shape[3], x.shape[1], x.shape[2]))
        _, oh, ow = layer.out_shape
        return layer, _window_counts(layer, x).reshape(len(x), oh, ow, -1)


class SpikingMaxPool2d(_Pool):
    """A spike passes if any input of its window fired (an OR), same step; NHWC in and out.

    The network's ``maxpool2d`` layer is this OR one SC cycle later (its IF neuron)."""
    kind = "max"

    def __call__(self, x):
        _, c = self.counts(x)
        return _from_nhwc((c > 0).astype(np.uint8), self.layout)


class SpikingAvgPool2d(_Pool):
    """The window's firing density (spike count / window size, zero padding counted), same step.

    The network's ``avgpool2d`` layer turns this density into spikes with an IF neuron of
    threshold ``kh * kw``."""
    kind = "avg"

    def __call__(self, x):
        layer, c = self.counts(x)
        kh, kw = layer.kernel_size
        return _from_nhwc(c / (kh * kw), self.layout)


class SpikingFlatten:
    """Merge every dimension from ``start_dim`` on. An NHWC map flattens to the HWC vector the
    network's next layer reads (no hardware: the spec's ``flatten``)."""

    def __init__(self, start_dim=1):
        self.start_dim = start_dim

    def __call__(self, x):
        x = np.asarray(x)
        check_int("start_dim", self.start_dim, 0, max(0, x.ndim - 1))
        return x.reshape(x.shape[:self.start_dim] + (-1,))


class SpikeDropout:
    """Drops each spike with probability ``p`` in training mode (seeded, no rescaling: spikes
    stay binary); identity after :meth:`eval`. Training mode is the default, as for any mlx
    module. Golden model only: the network hardware runs inference, where it is the identity."""

    def __init__(self, p=0.5, seed=0):
        p = float(p)
        if not 0 <= p < 1:
            raise ParameterError(f"p must be in [0, 1), got {p}")
        self.p, self.training = p, True
        self._rng = np.random.default_rng(seed)

    def train(self, mode=True):
        self.training = bool(mode)
        return self

    def eval(self):
        return self.train(False)

    def __call__(self, x):
        x = np.asarray(x)
        if not self.training or self.p == 0:
            return x
        return x * (self._rng.random(x.shape) >= self.p).astype(x.dtype)


# ---------------------------------------------------------------------------- temporal aggregation

def float_conv(x, kernel, geometry, bias=None):
    """Float convolution of NHWC ``x`` with ``kernel`` (out, in, kh, kw) on the shared index
    table of ``geometry`` (:class:`scfpga.model.conv.Geometry`): (B, H', W', out)."""
    flat = np.asarray(x, np.float64).reshape(len(x), -1)
    padded = np.concatenate([flat, np.zeros((len(x), 1))], axis=1)
    taps = padded[:, geometry.input_index()]                        # (B, P, taps)
    k = np.asarray(kernel, np.float64).transpose(0, 2, 3, 1).reshape(len(kernel), -1)
    out = taps @ k.T + (0 if bias is None else bias)
    oh, ow = geometry.out_hw
    return out.reshape(len(x), oh, ow, -1)


class TemporalAggregatedConv:
    """TAC (float golden model): every ``chunk_size`` = K input steps are summed with weights
    ``beta**(K-1-j)`` and convolved once; the membrane ``mem = beta**K mem + conv(aggregate)``
    then spikes and resets once per chunk, so ``(T, B, H, W, C)`` gives ``(ceil(T / K), ...)``.

    K = 1 is Conv + LIF step by step; with ``reset_mechanism="none"`` the membrane after a chunk
    equals the step-by-step one exactly (linearity), for any K. Float, not SC: the aggregate is
    no longer a bit map, so the SC network hardware has no TAC mode yet.
    """
    RESETS = ("subtract", "zero", "none")

    def __init__(self, in_channels, out_channels, kernel_size, beta=0.9, chunk_size=None,
                 stride=1, padding=0, bias=False, bn=False, threshold=1.0,
                 reset_mechanism="subtract", *, weights=None, seed=0):
        if bn:
            raise ParameterError("bn must be False: batch normalisation is not modelled")
        if not 0 < float(beta) < 1:
            raise ParameterError(f"beta must be in (0, 1), got {beta}")
        self.beta, self.threshold = float(beta), float(threshold)
        self.chunk_size = check_int("chunk_size", 1 if chunk_size is None else chunk_size, 1,
                                    1 << 20)
        self.reset = check_choice("reset_mechanism", reset_mechanism, self.RESETS)
        kh, kw = _pair(kernel_size)
        rng = np.random.default_rng(seed)
        bound = 1 / np.sqrt(in_channels * kh * kw)
        self.weights = rng.uniform(-bound, bound, (out_channels, in_channels, kh, kw)) \
            if weights is None else np.asarray(weights, np.float64)
        self.bias = np.zeros(out_channels) if bias else None
        self.stride, self.padding = stride, padding

    def geometry(self, in_shape):
        return ConvLayer(np.zeros(self.weights.shape, int), in_shape, None, self.stride,
                         self.padding).geometry

    def init_state(self, batch_size, spatial_shape):
        return {"mem": np.zeros((batch_size,) + tuple(spatial_shape) + (len(self.weights),))}

    def _chunks(self, T):
        return [(lo, min(T, lo + self.chunk_size)) for lo in range(0, T, self.chunk_size)]

    def _aggregate(self, x_seq, lo, hi):
        w = self.beta ** np.arange(hi - lo - 1, -1, -1)
        return np.tensordot(w, x_seq[lo:hi], axes=1), w.sum()

    def _fire(self, mem):
        spk = (mem >= self.threshold).astype(np.float64)
        if self.reset == "subtract":
            mem = mem - spk * self.threshold
        elif self.reset == "zero":
            mem = mem * (1 - spk)
        return spk, mem

    def _check(self, x_seq):
        x = np.asarray(x_seq, np.float64)
        if x.ndim != 5 or x.shape[-1] != self.weights.shape[1]:
            raise ParameterError(f"x_seq must have shape (T, B, H, W, {self.weights.shape[1]}), "
                                 f"got {x.shape}")
        return x

    def __call__(self, x_seq, state):
        x = self._check(x_seq)
        geo = self.geometry((x.shape[4], x.shape[2], x.shape[3]))
        mem, out = state["mem"], []
        for lo, hi in self._chunks(len(x)):
            agg, wsum = self._aggregate(x, lo, hi)
            cur = float_conv(agg, self.weights, geo,
                             None if self.bias is None else self.bias * wsum)
            mem = self.beta ** (hi - lo) * mem + cur
            spk, mem = self._fire(mem)
            out.append(spk)
        return np.stack(out), {"mem": mem}

    def theoretical_error_bound(self, firing_rate):
        """Upper bound on the mean ``|U_exact - U_TAC|`` per neuron at a chunk's end: the exact
        run resets after each of its spikes inside the chunk (about ``rho (K - 1)`` of them,
        each worth at most ``threshold``), TAC only at the chunk's end; 0 without reset."""
        rho = float(firing_rate)
        if not 0 <= rho <= 1:
            raise ParameterError(f"firing_rate must be in [0, 1], got {firing_rate}")
        if self.reset == "none":
            return 0.0
        if self.reset == "zero":
            raise ParameterError("theoretical_error_bound holds for reset_mechanism 'subtract' "
                                 "or 'none' (a zero reset loses the whole membrane)")
        return self.threshold * rho * (self.chunk_size - 1)


class TACTemporalPreserve(TemporalAggregatedConv):
    """TAC-TP: one conv per chunk of K steps on the chunk's ``beta``-weighted mean, then the LIF
    steps K times on that shared current, so the output keeps all T steps. K = 1 is Conv + LIF
    exactly."""

    def __call__(self, x_seq, state):
        x = self._check(x_seq)
        geo = self.geometry((x.shape[4], x.shape[2], x.shape[3]))
        mem, out = state["mem"], []
        for lo, hi in self._chunks(len(x)):
            agg, wsum = self._aggregate(x, lo, hi)
            cur = float_conv(agg / wsum, self.weights, geo, self.bias)
            for _ in range(hi - lo):
                mem = self.beta * mem + cur
                spk, mem = self._fire(mem)
                out.append(spk)
        return np.stack(out), {"mem": mem}


class LearnableTAC(TemporalAggregatedConv):
    """TAC with its own aggregation weights ``agg_weights`` (K values, initialised to
    ``beta**(K-1-j)``; set them to train): ``preserve_temporal=True`` runs the TAC-TP dynamics
    (T output steps, the chunk's weighted mean as the shared input), False the TAC dynamics
    (one output per chunk). With the initial weights it is exactly that operator."""

    def __init__(self, in_channels, out_channels, kernel_size, beta=0.9, chunk_size=4,
                 preserve_temporal=False, **kw):
        super().__init__(in_channels, out_channels, kernel_size, beta, chunk_size, **kw)
        self.preserve_temporal = bool(preserve_temporal)
        self.agg_weights = self.beta ** np.arange(self.chunk_size - 1, -1, -1)

    def _aggregate(self, x_seq, lo, hi):
        w = np.asarray(self.agg_weights, np.float64)[self.chunk_size - (hi - lo):]
        return np.tensordot(w, x_seq[lo:hi], axes=1), w.sum()

    def __call__(self, x_seq, state):
        run = TACTemporalPreserve.__call__ if self.preserve_temporal else \
            TemporalAggregatedConv.__call__
        return run(self, x_seq, state)


class FourierTemporalConv(TemporalAggregatedConv):
    """Spatial conv, then a per-channel second-order IIR filter as the membrane, then spikes
    (float golden model). With pole radius ``r``, angle ``theta`` and zeros ``b0``, ``b1``::

        mem(t) = 2 r cos(theta) mem(t-1) - r**2 mem(t-2) + b0 I(t) + b1 I(t-1)

    (``mem`` after the previous step's reset). ``filter_order=1`` is ``mem(t) = r mem(t-1) +
    I(t)``: Conv + LIF with ``beta = r`` (``r`` initialised to ``beta``, ``theta`` to 0, ``b0``
    to 1, ``b1`` to 0). Per channel arrays ``r``, ``theta``, ``b0``, ``b1`` are the parameters to
    train. :meth:`get_frequency_response` is ``|H(e^{jw})|`` of each channel's filter.
    """

    def __init__(self, in_channels, out_channels, kernel_size, filter_order=2, beta=0.9, **kw):
        super().__init__(in_channels, out_channels, kernel_size, beta, 1, **kw)
        self.filter_order = check_int("filter_order", filter_order, 1, 2)
        c = out_channels
        self.r, self.theta = np.full(c, self.beta), np.zeros(c)
        self.b0, self.b1 = np.ones(c), np.zeros(c)

    def init_state(self, batch_size, spatial_shape):
        shape = (batch_size,) + tuple(spatial_shape) + (len(self.weights),)
        return {"mem": np.zeros(shape), "mem_prev": np.zeros(shape),
                "input_prev": np.zeros(shape)}

    def coefficients(self):
        """(a1, a2, b0, b1) per channel: ``mem(t) = a1 mem(t-1) + a2 mem(t-2) + b0 I + b1 I'``."""
        if self.filter_order == 1:
            z = np.zeros_like(self.r)
            return self.r, z, np.ones_like(self.r), z
        return 2 * self.r * np.cos(self.theta), -self.r ** 2, self.b0, self.b1

    def __call__(self, x_seq, state):
        x = self._check(x_seq)
        geo = self.geometry((x.shape[4], x.shape[2], x.shape[3]))
        a1, a2, b0, b1 = self.coefficients()
        mem, prev, iprev = state["mem"], state["mem_prev"], state["input_prev"]
        out = []
        for xt in x:
            cur = float_conv(xt, self.weights, geo, self.bias)
            new = a1 * mem + a2 * prev + b0 * cur + b1 * iprev
            spk, new = self._fire(new)
            prev, mem, iprev = mem, new, cur
            out.append(spk)
        return np.stack(out), {"mem": mem, "mem_prev": prev, "input_prev": iprev}

    def get_frequency_response(self, num_points=256):
        """``(freqs, magnitudes)``: ``num_points`` frequencies in [0, pi] and ``|H|`` per
        channel, ``H(z) = (b0 + b1 z^-1) / (1 - a1 z^-1 - a2 z^-2)``."""
        w = np.linspace(0, np.pi, check_int("num_points", num_points, 2, 1 << 20))
        z = np.exp(-1j * w)
        a1, a2, b0, b1 = (np.asarray(v)[:, None] for v in self.coefficients())
        return w, np.abs((b0 + b1 * z) / (1 - a1 * z - a2 * z ** 2))


def _entropy(p):
    """Binary entropy in bits (0 at 0 and 1)."""
    p = np.clip(np.asarray(p, np.float64), 1e-12, 1 - 1e-12)
    return -(p * np.log2(p) + (1 - p) * np.log2(1 - p))


class InfoMaxSpikeConv(TemporalAggregatedConv):
    """Conv + LIF, one step per call, with a gate ``alpha[c]`` (initial 1) scaling each output
    channel's spikes (float golden model). Running firing rates (EMA with ``ema_decay``) of the
    input and of each output channel give the information measures, in bits per output
    position: input ``C_in h(rho_in) * spatial_reduction``, output capacity ``sum_c alpha_c
    h(rho_c)`` (``h``: binary entropy). :meth:`info_loss` = ``info_reg_weight * relu(input -
    capacity) + gate_reg_weight * sum |alpha|``; :meth:`effective_channels` counts gates above a
    threshold; :meth:`minimum_channels` is the capacity bound solved for C_out."""

    def __init__(self, in_channels, out_channels, kernel_size, beta=0.9, info_reg_weight=0.01,
                 gate_reg_weight=0.001, ema_decay=0.99, **kw):
        super().__init__(in_channels, out_channels, kernel_size, beta, 1, **kw)
        self.info_reg_weight, self.gate_reg_weight = float(info_reg_weight), float(gate_reg_weight)
        if not 0 <= float(ema_decay) < 1:
            raise ParameterError(f"ema_decay must be in [0, 1), got {ema_decay}")
        self.ema_decay = float(ema_decay)
        self.alpha = np.ones(out_channels)
        self.rate_in, self.rate_out = None, None
        self.spatial_reduction = 1.0

    def __call__(self, x, state):
        x = np.asarray(x, np.float64)
        spk_seq, state = TemporalAggregatedConv.__call__(self, x[None], state)
        spk = spk_seq[0]
        r_in, r_out = x.mean(), spk.mean((0, 1, 2))
        d = self.ema_decay
        self.rate_in = r_in if self.rate_in is None else d * self.rate_in + (1 - d) * r_in
        self.rate_out = r_out if self.rate_out is None else d * self.rate_out + (1 - d) * r_out
        self.spatial_reduction = x.shape[1] * x.shape[2] / (spk.shape[1] * spk.shape[2])
        return spk * self.alpha, state

    def _information(self):
        if self.rate_in is None:
            raise ParameterError("info measures need at least one forward step")
        c_in = self.weights.shape[1]
        need = c_in * _entropy(self.rate_in) * self.spatial_reduction
        return need, float(np.sum(self.alpha * _entropy(self.rate_out)))

    def info_loss(self):
        need, capacity = self._information()
        return (self.info_reg_weight * max(0.0, need - capacity)
                + self.gate_reg_weight * float(np.abs(self.alpha).sum()))

    def effective_channels(self, threshold=0.5):
        return int(np.sum(self.alpha > threshold))

    def channel_utilization(self):
        need, capacity = self._information()
        return {"gates": self.alpha.copy(), "firing_rates": np.asarray(self.rate_out),
                "entropy_bits": _entropy(self.rate_out), "input_bits": need,
                "capacity_bits": capacity}

    @staticmethod
    def minimum_channels(c_in, rho_in, rho_out, spatial_reduction=1.0):
        """Fewest output channels whose capacity ``C h(rho_out)`` holds the input's
        ``c_in h(rho_in) spatial_reduction`` bits per output position."""
        return int(np.ceil(c_in * _entropy(rho_in) * spatial_reduction / _entropy(rho_out)
                           - 1e-9))


class TemporalCollapseConv(TemporalAggregatedConv):
    """Conv + LIF over a sequence that merges each run of consecutive quiet steps (input spike
    density <= ``collapse_threshold``) into one conv call on their ``beta``-weighted sum (the
    TAC aggregate) and one neuron update, whose spike is repeated over the merged steps
    (float golden model). The plan comes from the densities of this call's input (the
    reference plans from the previous call's); :meth:`collapse_stats` reports it. With no
    quiet step it is Conv + LIF exactly."""

    def __init__(self, in_channels, out_channels, kernel_size, beta=0.9,
                 collapse_threshold=0.02, **kw):
        super().__init__(in_channels, out_channels, kernel_size, beta, 1, **kw)
        self.collapse_threshold = float(collapse_threshold)
        self._stats = None

    def plan(self, x_seq):
        """``[(lo, hi), ...]``: the groups of steps one conv call serves."""
        quiet = np.asarray(x_seq).reshape(len(x_seq), -1).mean(1) <= self.collapse_threshold
        groups, lo = [], 0
        for t in range(1, len(quiet) + 1):
            if t == len(quiet) or not (quiet[t] and quiet[t - 1]):
                groups.append((lo, t))
                lo = t
        return groups

    def __call__(self, x_seq, state):
        x = self._check(x_seq)
        geo = self.geometry((x.shape[4], x.shape[2], x.shape[3]))
        mem, out = state["mem"], []
        groups = self.plan(x)
        for lo, hi in groups:
            agg, wsum = self._aggregate(x, lo, hi)
            cur = float_conv(agg, self.weights, geo,
                             None if self.bias is None else self.bias * wsum)
            mem = self.beta ** (hi - lo) * mem + cur
            spk, mem = self._fire(mem)
            out += [spk] * (hi - lo)
        self._stats = {"timesteps": len(x), "conv_calls": len(groups),
                       "collapsed_steps": len(x) - len(groups),
                       "speedup": len(x) / max(1, len(groups))}
        return np.stack(out), {"mem": mem}

    def collapse_stats(self):
        """Steps, conv calls, steps saved and their ratio for the last call."""
        if self._stats is None:
            raise ParameterError("collapse_stats needs a forward call first")
        return dict(self._stats)
