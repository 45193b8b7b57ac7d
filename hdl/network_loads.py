"""The load space of a network design: what each load address means, stated once.

A network design has one write port (``load``, ``addr``, ``data``). Its address space is cut
into *regions*, packed back to back; the hardware decodes one with two comparisons against
constants and subtracts its base:

* ``inputs`` (always at address 0): the run's inputs.

  - ``encoding = "rate"``: the threshold ``P_i`` of input ``i`` at address ``i``.
  - ``encoding = "raster"``: the input bits of SC cycle ``k``, 16 inputs to a word, word ``j``
    (inputs ``16 j .. 16 j + 15``, input ``16 j + b`` in bit ``b``) at ``(k << s) | j`` with
    ``s`` the bits of the words per cycle.

* ``threshold<l>`` (with run-time weights, one word per layer of LIF neurons): the layer's
  firing threshold; a word outside ``1 .. 2**(width-1) - 1`` of the neuron's width is clamped
  into it as it is loaded (:func:`clamp_threshold`). Other neuron parameters, and the
  thresholds of other neuron types, stay in the bitstream.

* ``weights<l>`` (``weight_memory = "ram"`` or ``"spram"``, one per layer with weights): one
  sign-magnitude weight per address (:func:`~.sources.sign_magnitude`), at
  ``(row << (slot_bits + lane_bits)) | (slot << lane_bits) | lane`` within the region, where
  ``row``, ``slot`` and ``lane`` say where the layer's sweep finds it (:func:`weight_slots`).
  A bias is the weight of the last swept column. Every slot of every row is written, padding
  with zeros, so a weight memory without power-up contents (SPRAM) holds no stale bits; so is
  every unused slot address (the memory ignores it), which keeps a layer's writes one run of
  consecutive addresses.

The host (:mod:`scfpga.boards.network_design`) and the benches build their writes with
:func:`input_writes` and :func:`weight_writes`; the design decodes with :class:`Region`.
"""
import dataclasses
from dataclasses import dataclass

import numpy as np

from ..model.conv import ConvLayer
from ..model.lif import LIFParams
from ..model.network import DenseLayer
from ..model.params import ParameterError
from .sources import sign_magnitude

RASTER_BITS = 16          # inputs per raster word (the board's load word)


@dataclass(frozen=True)
class Region:
    """``size`` addresses from ``base``."""
    name: str
    base: int
    size: int

    @property
    def bits(self):
        """Address bits inside the region."""
        return max(1, (self.size - 1).bit_length())

    def hit(self, addr):
        """Amaranth expression: ``addr`` lies in the region."""
        return (addr >= self.base) & (addr < self.base + self.size)

    def local(self, addr):
        """Amaranth expression: the address inside the region (``bits`` wide)."""
        return (addr - self.base)[:self.bits] if self.base else addr[:self.bits]


def raster_shift(n_inputs):
    """``s``: bits of the raster words of one SC cycle."""
    return (-(-n_inputs // RASTER_BITS) - 1).bit_length()


@dataclass(frozen=True)
class WeightLayout:
    """Where layer ``index``'s weights sit: ``rows`` memory rows, ``parallel`` slots each,
    ``lanes`` memories (:attr:`slot_bits`, :attr:`lane_bits` in the address)."""
    index: int
    rows: int
    parallel: int
    lanes: int
    steps: int

    @property
    def slot_bits(self):
        return (self.parallel - 1).bit_length()

    @property
    def lane_bits(self):
        return (self.lanes - 1).bit_length()

    @property
    def size(self):
        return self.rows << (self.slot_bits + self.lane_bits)


class LoadMap:
    """The regions of a network's load space (module docstring).

    Parameters
    ----------
    params : NetworkParams
    sched : Schedule
        Its hardware schedule (:func:`scfpga.hdl.network.schedule`).
    """

    def __init__(self, params, sched):
        self.params = params
        n = params.n_inputs
        if params.encoding == "raster":
            input_size = params.length << raster_shift(n)
        else:
            input_size = n
        self.inputs = Region("inputs", 0, input_size)
        self.layouts, self.weights, self.thresholds = {}, {}, {}
        if params.weight_memory != "rom":
            for l, (layer, ls) in enumerate(zip(params.layers, sched.layers)):
                if has_weight_memory(layer):
                    self.layouts[l] = WeightLayout(l, ls.rom_passes * ls.steps, ls.parallel,
                                                   layer.lanes, ls.steps)
        end = input_size                  # the inputs at 0, then each layer's weights
        for l in sorted(self.layouts):
            self.weights[l] = Region(f"weights{l}", end, self.layouts[l].size)
            end += self.layouts[l].size
        for l in sorted(self.layouts):    # then the thresholds of LIF layers
            if runtime_threshold(params.layers[l]):
                self.thresholds[l] = Region(f"threshold{l}", end, 1)
                end += 1
        self.space = end

    @property
    def data_bits(self):
        """Width of a load word."""
        w = self.params.width
        bits = [w + 1]
        if self.params.encoding == "raster":
            bits.append(RASTER_BITS)
        if self.weights:
            bits.append(w + 2)
        if self.thresholds:
            bits.append(16)
        return max(bits)

    @property
    def input_words(self):
        """Load words of one run's inputs (written at ``0 ..``)."""
        p = self.params
        if p.encoding == "raster":
            return p.length << raster_shift(p.n_inputs)
        return p.n_inputs


def spike_record_words(params, word_bits=32):
    """Result words of one SC cycle's output spikes that a board design of a raster network
    records (a power of two; 0 for a rate network)."""
    if params.encoding != "raster":
        return 0
    return 1 << (-(-params.n_outputs // word_bits) - 1).bit_length()


def has_weight_memory(layer):
    """A layer whose sweep reads a weight memory (dense, recurrent, conv): its weights load at
    run time. Pool layers have none; event layers keep their synapse lists in ROM."""
    return isinstance(layer, (DenseLayer, ConvLayer))


def runtime_threshold(layer):
    """A layer whose threshold loads at run time (with its weights): LIF neurons."""
    return has_weight_memory(layer) and isinstance(layer.neuron, LIFParams)


def clamp_threshold(word, neuron):
    """What the threshold register holds after loading ``word``."""
    return min(max(int(word), 1), (1 << (neuron.width - 1)) - 1)


def input_writes(load_map, sample):
    """The load words of one run: thresholds ``(n_inputs,)`` (rate) or a raster
    ``(n_inputs, length)`` of 0/1 (raster), written at addresses ``0 ..``; int64 array."""
    p = load_map.params
    x = np.asarray(sample)
    if p.encoding == "rate":
        if x.shape != (p.n_inputs,):
            raise ParameterError(f"thresholds must have shape ({p.n_inputs},), got {x.shape}")
        return x.astype(np.int64)
    if x.shape != (p.n_inputs, p.length) or not np.isin(x, (0, 1)).all():
        raise ParameterError(f"a raster must be 0/1 of shape (inputs, cycles) = "
                             f"({p.n_inputs}, {p.length}), got {x.shape}")
    s = raster_shift(p.n_inputs)
    per = 1 << s
    padded = np.zeros((p.length, per * RASTER_BITS), np.int64)
    padded[:, :p.n_inputs] = x.T
    weights = 1 << np.arange(RASTER_BITS, dtype=np.int64)
    return (padded.reshape(p.length, per, RASTER_BITS) * weights).sum(-1).ravel()


def weight_slots(layer, layout):
    """(row, slot, lane) -> the weight there: an int64 array ``(rows, parallel, lanes)`` of
    signed weights, zero where the sweep has no synapse (how :class:`~.network_layer.
    DenseLayerCore` reads them: row ``pass * steps + step``, slot = neuron in the pass, lane =
    column ``step * lanes + lane``)."""
    q = np.asarray(layer.kernel_terms, np.int64)
    P, lanes, steps = layout.parallel, layout.lanes, layout.steps
    passes = layout.rows // steps
    padded = np.zeros((passes * P, steps * lanes), np.int64)
    padded[:min(len(q), passes * P), :q.shape[1]] = q[:passes * P]
    # (pass, slot, step, lane) -> (pass, step, slot, lane) -> rows
    return padded.reshape(passes, P, steps, lanes).transpose(0, 2, 1, 3).reshape(-1, P, lanes)


def weight_writes(load_map, params=None):
    """``(addresses, words)`` loading every weight and bias of ``params`` (default: the map's
    own network; another network must have the same shape, :func:`check_same_shape`)."""
    params = load_map.params if params is None else check_same_shape(load_map.params, params)
    if not load_map.weights:
        raise ParameterError("weight_memory must be 'ram' or 'spram' to load weights at run "
                             "time; this design's weights are in the bitstream (rom)")
    addrs, words = [], []
    for l, region in load_map.weights.items():
        lay = load_map.layouts[l]
        # Every address of the rows, the unused slots of a row too (zeros, which the memory
        # ignores): one run of consecutive addresses per layer, so few, full WRITE frames.
        slots = np.zeros((lay.rows, 1 << lay.slot_bits, lay.lanes), np.int64)
        slots[:, :lay.parallel] = weight_slots(params.layers[l], lay)
        addrs.append(region.base + np.arange(slots.size, dtype=np.int64))
        words.append(sign_magnitude(slots.ravel(), params.width))
    for l, region in load_map.thresholds.items():
        thr = params.layers[l].neuron.threshold
        if thr >= 1 << 16:
            raise ParameterError(f"layer {l + 1}: threshold {thr} does not fit a 16-bit load "
                                 f"word")
        addrs.append(np.array([region.base]))
        words.append(np.array([thr]))
    addrs, words = np.concatenate(addrs), np.concatenate(words)
    order = np.argsort(addrs, kind="stable")        # consecutive addresses: long WRITE frames
    return addrs[order], words[order]


def shape_of(params):
    """Everything of a network but its weights and biases (what a bitstream is built for)."""
    layers = []
    runtime = params.weight_memory != "rom"
    for layer in params.layers:
        fields = {f.name: getattr(layer, f.name) for f in dataclasses.fields(layer)
                  if f.name not in ("weights", "bias")}
        if runtime and runtime_threshold(layer):       # loaded with the weights
            fields["neuron"] = dataclasses.replace(layer.neuron, threshold=1)
        fields["bias"] = getattr(layer, "bias", None) is not None
        fields["type"] = type(layer).__name__
        fields["shape"] = np.shape(layer.weights) if hasattr(layer, "weights") else None
        layers.append(fields)
    top = {f.name: getattr(params, f.name) for f in dataclasses.fields(params)
           if f.name != "layers"}
    return top, layers


def check_same_shape(base, other):
    """``other`` if it differs from ``base`` only in weights and biases, else ParameterError."""
    if type(other) is not type(base):
        raise ParameterError("weights must be a network (NetworkParams)")
    a, b = shape_of(base), shape_of(other)
    if a[0] != b[0]:
        diff = sorted(k for k in a[0] if a[0][k] != b[0][k])
        raise ParameterError(f"the network differs from the design in {', '.join(diff)}: "
                             f"only weights, biases and LIF thresholds load at run time")
    if len(a[1]) != len(b[1]):
        raise ParameterError(f"the network has {len(b[1])} layers, the design {len(a[1])}")
    for l, (x, y) in enumerate(zip(*(a[1], b[1]))):
        if x != y:
            diff = sorted(k for k in x if x[k] != y.get(k))
            raise ParameterError(f"layer {l + 1} differs from the design in {', '.join(diff)}: "
                                 f"only weights, biases and LIF thresholds load at run time")
    return other


def _layer_from_terms(layer, q):
    """``layer`` with its weights and bias replaced by kernel terms ``q`` (rows: neurons, or
    out channels of a conv layer; the bias column last)."""
    bias = None
    if layer.bias is not None:
        q, bias = q[:, :-1], q[:, -1]
    w = np.shape(layer.weights)
    if len(w) == 4:                                   # conv: taps in (ky, kx, c) order
        q = q.reshape(w[0], w[2], w[3], w[1]).transpose(0, 3, 1, 2)
    return dataclasses.replace(layer, weights=q, bias=bias)


def network_from_image(load_map, image):
    """The network whose weights a load-memory image holds (``image[a]``: the last word written
    at address ``a``), decoded as the hardware reads it: a field's magnitude above ``2**width``
    compares like ``2**width`` (every source value is below it). The inverse of
    :func:`weight_writes`; the map's own network for a design without run-time weights."""
    params = load_map.params
    if not load_map.weights:
        return params
    image = np.asarray(image, dtype=np.int64)
    w = params.width
    layers = list(params.layers)
    for l, region in load_map.weights.items():
        lay = load_map.layouts[l]
        row, slot, lane = np.indices((lay.rows, lay.parallel, lay.lanes))
        addr = region.base + ((row << (lay.slot_bits + lay.lane_bits)) |
                              (slot << lay.lane_bits) | lane)
        field = image[addr] & ((1 << (w + 2)) - 1)
        value = np.minimum(field & ((1 << (w + 1)) - 1), 1 << w)
        value = np.where(field >> (w + 1), -value, value)
        passes = lay.rows // lay.steps
        padded = value.reshape(passes, lay.steps, lay.parallel, lay.lanes).transpose(0, 2, 1, 3)
        padded = padded.reshape(passes * lay.parallel, lay.steps * lay.lanes)
        q = layers[l].kernel_terms
        layers[l] = _layer_from_terms(layers[l], padded[:q.shape[0], :q.shape[1]])
    for l, region in load_map.thresholds.items():
        neuron = layers[l].neuron
        thr = clamp_threshold(image[region.base] & 0xFFFF, neuron)
        layers[l] = dataclasses.replace(layers[l], neuron=dataclasses.replace(neuron,
                                                                              threshold=thr))
    return dataclasses.replace(params, layers=tuple(layers))


def raster_from_words(load_map, words):
    """The raster ``(n_inputs, length)`` that :func:`input_writes` encodes as ``words``."""
    p = load_map.params
    words = np.asarray(words, dtype=np.int64).reshape(p.length, -1)
    bits = (words[:, :, None] >> np.arange(RASTER_BITS)) & 1
    return bits.reshape(p.length, -1)[:, :p.n_inputs].T
