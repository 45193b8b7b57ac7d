"""Convolution and pooling as network layers: parameters and the one statement of their geometry.

Internal layout, defined here once: a feature map of ``C`` channels and ``H x W`` pixels is a
flat vector in **HWC** order, element ``(y * W + x) * C + c`` (NHWC for a batch). A conv or pool
layer's neurons are its output map in the same order, so a layer's spike vector is already the
flattened map the next layer (conv, pool or dense) reads: flatten is a change of shape, no op.

A conv layer is a dense-like layer whose neuron ``(y, x, o)`` sees the taps ``(ky, kx, c)`` of its
window (tap index ``(ky * kw + kx) * C + c``) through the kernel ``weights[o, c, ky, kx]``, shared
by every position; a tap outside the input (zero padding) carries no input bit. Its current in SC
cycle k is the dense current (:mod:`.network`) of the equivalent dense matrix
(:attr:`ConvLayer.signed_terms`, zero off the window), so the time semantics, the weight source
and the golden model are the dense layer's. The hardware (:mod:`scfpga.hdl.network_layer`) sweeps
the taps of one position per pass and reads the kernel from a ROM indexed by tap only; the tables
it needs (:func:`tap_table`, :func:`position_table`) are these.

Accumulation, a per-layer choice (``accumulation``, conv and dense layers): ``"sc"`` (default)
is the SC synapse above, one stream bit ``sign * [S(k) < |q|]`` ANDed with the input, so a
weight's value is a firing density reached over many cycles; ``"exact"`` adds the integer weight
``q`` whenever the input bit is 1, ``I(k) = sum_i q_i a_i(k)`` (+ the bias ``q_b``): no weight
stream and no stream error, at the price of a (W + 2)-bit adder per lane instead of a comparator
and currents ``2**W`` times larger (thresholds scale with them). :func:`exact_currents` is the
model, :func:`current_bound` the largest current either way.

Pooling (:class:`PoolLayer`) has no weights: every window synapse is always on, so its current is
the exact count of window spikes of one channel. Max pooling feeds that count to an IF neuron of
threshold 1 that resets to zero: it spikes in cycle k + 1 iff any input of its window spiked in
cycle k (an OR, registered like every layer). Average pooling feeds it to an IF neuron of threshold
``kh * kw`` that resets by subtraction: it fires at the window's mean firing density. Both keep one
SC cycle of latency per layer.
"""
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from . import neuron as neurons
from .dense import MAX_WIDTH
from .params import ParameterError, check_choice, check_int

MAX_KERNEL = 7
MAX_STRIDE = 4
MAX_CHANNELS = 256
MAX_SIDE = 256
MAX_LANES = 64
POOL_KINDS = ("max", "avg")
ACCUMULATIONS = ("sc", "exact")
# A pool synapse is always on: its magnitude exceeds every weight-source value (< 2**MAX_WIDTH).
ALWAYS_ON = 1 << MAX_WIDTH


def default_neuron():
    """Non-leaky integrate-and-fire, reset by subtraction, threshold 1: about
    ``min(1, relu(W x + b))`` spikes per cycle."""
    return neurons.lif_neuron(width=16, threshold=1, leak_shift=0)


def int_array(name, value, ndim, lo, hi, what):
    try:
        a = np.asarray(value)
    except ValueError:
        a = np.empty(0)
    if a.ndim != ndim or a.size == 0 or not np.issubdtype(a.dtype, np.integer):
        raise ParameterError(f"{name} must be a non-empty {ndim}-D array of integers ({what}) "
                             f"in {lo}..{hi}")
    if a.min() < lo or a.max() > hi:
        raise ParameterError(f"{name} must be in {lo}..{hi}")
    return a


def _nested(a):
    return a.tolist() if a.ndim == 0 else tuple(_nested(r) for r in a)


def check_shape(name, shape):
    """A (channels, height, width) tuple of ints."""
    try:
        shape = tuple(shape)
    except TypeError:
        shape = ()
    if len(shape) != 3 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                                  for v in shape):
        raise ParameterError(f"{name} must be (channels, height, width), got {shape!r}")
    check_int(f"{name} channels", shape[0], 1, MAX_CHANNELS)
    check_int(f"{name} height", shape[1], 1, MAX_SIDE)
    check_int(f"{name} width", shape[2], 1, MAX_SIDE)
    return tuple(int(v) for v in shape)


def out_side(side, kernel, stride, padding):
    return (side + 2 * padding - kernel) // stride + 1


@dataclass(frozen=True)
class Geometry:
    """A sliding window over an HWC map: what conv and pool layers (model and hardware) share."""
    in_shape: tuple           # (C, H, W) of the input map
    kernel: tuple             # (kh, kw)
    stride: int
    padding: int
    depthwise: bool           # a window reads one channel (pooling) or all of them (conv)

    @property
    def out_hw(self):
        kh, kw = self.kernel
        _, h, w = self.in_shape
        return (out_side(h, kh, self.stride, self.padding),
                out_side(w, kw, self.stride, self.padding))

    @property
    def positions(self):
        return self.out_hw[0] * self.out_hw[1]

    @property
    def n_taps(self):
        kh, kw = self.kernel
        return kh * kw * (1 if self.depthwise else self.in_shape[0])

    def tap_table(self):
        """Per tap: (ky, kx, offset) with offset ``(ky * W + kx) * C + c`` from the window's
        top-left input (depthwise: ``c = 0``; the pass adds its channel)."""
        c_n, _, w = self.in_shape
        kh, kw = self.kernel
        ch = 1 if self.depthwise else c_n
        t = np.arange(self.n_taps)
        ky, kx, c = t // (kw * ch), (t // ch) % kw, t % ch
        return np.stack([ky, kx, (ky * w + kx) * c_n + c], axis=1)

    def position_table(self):
        """Per output position ``y * OW + x``: (iy0, ix0) of its window's top-left input (may be
        negative: padding)."""
        oh, ow = self.out_hw
        pos = np.arange(oh * ow)
        return np.stack([(pos // ow) * self.stride - self.padding,
                         (pos % ow) * self.stride - self.padding], axis=1)

    def input_index(self):
        """(positions, taps) input index of every tap of every position, -1 where padding."""
        c_n, h, w = self.in_shape
        taps, pos = self.tap_table(), self.position_table()
        iy = pos[:, None, 0] + taps[None, :, 0]
        ix = pos[:, None, 1] + taps[None, :, 1]
        inside = (iy >= 0) & (iy < h) & (ix >= 0) & (ix < w)
        base = (pos[:, 0] * w + pos[:, 1]) * c_n
        return np.where(inside, base[:, None] + taps[None, :, 2], -1)

    def check(self, where=""):
        kh, kw = self.kernel
        _, h, w = self.in_shape
        check_int(f"{where}kernel_size", kh, 1, MAX_KERNEL)
        check_int(f"{where}kernel_size", kw, 1, MAX_KERNEL)
        check_int(f"{where}stride", self.stride, 1, MAX_STRIDE)
        check_int(f"{where}padding", self.padding, 0, max(kh, kw) - 1)
        if min(self.out_hw) < 1:
            raise ParameterError(f"{where}kernel_size {kh}x{kw} with padding {self.padding} "
                                 f"does not fit the {h}x{w} input")


def _kernel_pair(name, value):
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return (int(value), int(value))
    try:
        pair = tuple(int(v) for v in value)
    except (TypeError, ValueError):
        pair = ()
    if len(pair) != 2:
        raise ParameterError(f"{name} must be an integer or a (height, width) pair, got {value!r}")
    return pair


def _check_hw(layer, fold_limit):
    neurons.state_fields(layer.neuron)          # raises unless a registered neuron type
    check_int("lanes", layer.lanes, 1, MAX_LANES)
    if layer.lanes & (layer.lanes - 1):
        raise ParameterError(f"lanes must be a power of two, got {layer.lanes}")
    check_int("fold", layer.fold, 1, fold_limit)


class FeatureMapLayer:
    """A layer from a feature map ``in_shape`` to a feature map ``out_shape`` (both (C, H, W)):
    its input and neuron counts are the maps' sizes."""

    @property
    def n_inputs(self):
        return int(np.prod(self.in_shape))

    @property
    def n_neurons(self):
        return int(np.prod(self.out_shape))


@dataclass(frozen=True)
class ConvLayer(FeatureMapLayer):
    """A 2-D convolution of SC synapses into a neuron per output ``(y, x, out_channel)``.

    Parameters
    ----------
    weights : 4-D int array (out_channels, in_channels, kh, kw)
        Sign-magnitude kernel, ``|q| <= 2**width`` of the network (checked by it).
    in_shape : (channels, height, width)
        The input map (the previous layer's output, or the network input's ``input_shape``).
    bias : sequence of int or None
        Per output channel, a synapse whose input is always 1.
    stride, padding : int
        Window step 1..4 and zero padding 0..kernel-1 on every side.
    neuron, lanes
        As :class:`~.network.DenseLayer` (``lanes``: kernel taps per clock).
    fold : int
        Hardware: out channels per accumulator; must divide ``out_channels``. A pass serves
        ``out_channels / fold`` neurons of one position.
    accumulation : {"sc", "exact"}
        SC synapses (weight streams) or the integer weight added per input spike (module
        docstring).
    """
    weights: tuple
    in_shape: tuple
    bias: tuple | None = None
    stride: int = 1
    padding: int = 0
    neuron: object = field(default_factory=default_neuron)
    lanes: int = 1
    fold: int = 1
    accumulation: str = "sc"

    def __post_init__(self):
        check_choice("accumulation", self.accumulation, ACCUMULATIONS)
        top = 1 << MAX_WIDTH
        w = int_array("weights", self.weights, 4, -top, top, "out, in, kh, kw")
        object.__setattr__(self, "weights", _nested(w))
        object.__setattr__(self, "in_shape", check_shape("in_shape", self.in_shape))
        check_int("out_channels", w.shape[0], 1, MAX_CHANNELS)
        if w.shape[1] != self.in_shape[0]:
            raise ParameterError(f"weights must have {self.in_shape[0]} input channels (the "
                                 f"input map's), got {w.shape[1]}")
        if self.bias is not None:
            b = int_array("bias", [list(np.ravel(self.bias))], 2, -top, top, "per out channel")[0]
            if len(b) != w.shape[0]:
                raise ParameterError(f"bias must have one entry per out channel ({w.shape[0]})")
            object.__setattr__(self, "bias", tuple(int(v) for v in b))
        self.geometry.check()
        _check_hw(self, self.out_channels)
        if self.out_channels % self.fold:
            raise ParameterError(f"fold must divide out_channels ({self.out_channels}), "
                                 f"got {self.fold}")

    @property
    def geometry(self):
        return Geometry(self.in_shape, tuple(np.shape(self.weights)[2:]), self.stride,
                        self.padding, False)

    @property
    def out_channels(self):
        return len(self.weights)

    @property
    def out_shape(self):
        return (self.out_channels,) + self.geometry.out_hw


    @property
    def n_terms(self):
        """Columns of the equivalent dense layer (every input, plus the bias)."""
        return self.n_inputs + (self.bias is not None)

    @property
    def sweep_terms(self):
        """Columns the hardware sweeps per pass: the kernel taps, plus the bias."""
        return self.geometry.n_taps + (self.bias is not None)

    @cached_property
    def kernel_terms(self):
        """(out_channels, sweep_terms) int64: the kernel in tap order, the bias last."""
        q = np.array(self.weights, dtype=np.int64).transpose(0, 2, 3, 1)     # (o, ky, kx, c)
        q = q.reshape(self.out_channels, -1)
        if self.bias is not None:
            q = np.concatenate([q, np.array(self.bias, dtype=np.int64)[:, None]], axis=1)
        q.flags.writeable = False
        return q

    @cached_property
    def signed_terms(self):
        """(neurons, n_terms) int64: the equivalent dense matrix (zero off the windows)."""
        return _expand(self.geometry, self.kernel_terms, self.out_channels, self.n_inputs,
                       self.bias is not None)

    def describe(self):
        kh, kw = self.geometry.kernel
        return (f"conv {kh}x{kw} {self.in_shape[0]}->{self.out_channels} s{self.stride} "
                f"p{self.padding} {'x'.join(map(str, self.in_shape))}->"
                f"{'x'.join(map(str, self.out_shape))}"
                f"{' exact' if self.accumulation == 'exact' else ''}")


def is_exact(layer):
    """True for a layer with ``accumulation = "exact"`` (integer weights, no weight stream)."""
    return getattr(layer, "accumulation", "sc") == "exact"


def current_bound(layer):
    """The largest ``|current|`` of a layer in one SC cycle: one per swept term (SC synapses,
    pool windows), or the sum of its largest weight over them (exact accumulation)."""
    if is_exact(layer):            # a TAC layer's words reach ``current_scale`` (conv_tac)
        return layer.sweep_terms * max(1, int(np.abs(layer.kernel_terms).max())) * \
            getattr(layer, "current_scale", 1)
    return layer.sweep_terms


def exact_currents(layer, bits, chunk=1 << 22):
    """(batch, neurons, T) int64 currents of an exact-accumulation layer for its input bits
    ``(batch, n_inputs, T)``: ``q @ a(k)`` plus the bias, per cycle (float64 products of
    integers below 2**53 are exact)."""
    q = np.asarray(layer.signed_terms, np.float64)
    n = layer.n_inputs
    b, _, T = bits.shape
    out = np.empty((b, layer.n_neurons, T), np.int64)
    step = max(1, chunk // max(1, n * T))
    for lo in range(0, b, step):
        a = np.asarray(bits[lo:lo + step], np.float64)
        cur = np.matmul(q[:, :n], a)
        if layer.n_terms > n:
            cur += q[:, n:n + 1]
        out[lo:lo + step] = cur
    return out


def _expand(geo, kernel, out_channels, n_inputs, bias):
    """The dense matrix of a window layer: row ``pos * O + o`` holds ``kernel[o, tap]`` at input
    ``index[pos, tap]`` (depthwise: ``kernel`` has one row, channel ``o`` of the input)."""
    idx = geo.input_index()                              # (positions, taps)
    P, O = len(idx), out_channels
    q = np.zeros((P * O, n_inputs + bias), np.int64)
    rows = (np.arange(P)[:, None] * O + np.arange(O)[None, :])          # (P, O)
    taps = geo.n_taps
    if geo.depthwise:
        cols = np.where(idx[:, None, :] >= 0, idx[:, None, :] + np.arange(O)[None, :, None], -1)
        vals = np.broadcast_to(kernel[0, :taps], cols.shape)
    else:
        cols = np.broadcast_to(idx[:, None, :], (P, O, taps))
        vals = np.broadcast_to(kernel[None, :, :taps], cols.shape)
    r = np.broadcast_to(rows[:, :, None], cols.shape)
    keep = cols >= 0
    q[r[keep], cols[keep]] = vals[keep]
    if bias:
        q[rows.ravel(), n_inputs] = np.tile(kernel[:, taps], P)
    q.flags.writeable = False
    return q


def pool_neuron(kind, kernel):
    """The neuron of a pool: max = IF threshold 1, reset to zero (an OR of the window, one
    cycle later); avg = IF threshold ``kh * kw``, reset by subtraction (the window's density)."""
    kh, kw = kernel
    if kind == "max":
        return neurons.lif_neuron(width=16, threshold=1, leak_shift=0, reset="zero")
    return neurons.lif_neuron(width=16, threshold=kh * kw, leak_shift=0, reset="subtract")


@dataclass(frozen=True)
class PoolLayer(FeatureMapLayer):
    """Max or average pooling of spikes over ``kernel_size`` windows of each channel.

    No weights: every window synapse is always on, the current is the window's spike count, and
    the neuron is :func:`pool_neuron` (module docstring). ``stride`` defaults to the kernel size.
    ``lanes`` is window taps per clock (hardware); a pass serves one channel of one position.
    """
    kind: str
    in_shape: tuple
    kernel_size: object = 2
    stride: int | None = None
    padding: int = 0
    lanes: int = 1

    def __post_init__(self):
        check_choice("pool", self.kind, POOL_KINDS)
        object.__setattr__(self, "in_shape", check_shape("in_shape", self.in_shape))
        k = _kernel_pair("kernel_size", self.kernel_size)
        object.__setattr__(self, "kernel_size", k)
        if self.stride is None:
            object.__setattr__(self, "stride", k[0])
        self.geometry.check()
        _check_hw(self, self.in_shape[0])

    @property
    def geometry(self):
        return Geometry(self.in_shape, self.kernel_size, self.stride, self.padding, True)

    @property
    def neuron(self):
        return pool_neuron(self.kind, self.kernel_size)

    @property
    def fold(self):
        """Every channel of a position is its own pass (one accumulator)."""
        return self.in_shape[0]

    @property
    def bias(self):
        return None

    @property
    def out_channels(self):
        return self.in_shape[0]

    @property
    def out_shape(self):
        return (self.in_shape[0],) + self.geometry.out_hw


    @property
    def n_terms(self):
        return self.n_inputs

    @property
    def sweep_terms(self):
        return self.geometry.n_taps

    @cached_property
    def kernel_terms(self):
        """(1, taps): every window synapse always on."""
        q = np.full((1, self.geometry.n_taps), ALWAYS_ON, np.int64)
        q.flags.writeable = False
        return q

    @cached_property
    def signed_terms(self):
        return _expand(self.geometry, self.kernel_terms, self.out_channels, self.n_inputs, False)

    def describe(self):
        kh, kw = self.kernel_size
        return (f"{self.kind}pool {kh}x{kw} s{self.stride} "
                f"{'x'.join(map(str, self.in_shape))}->{'x'.join(map(str, self.out_shape))}")
