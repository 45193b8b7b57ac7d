"""Spiking SC networks: parameters, quantisation pass and the batched golden model.

A network is a graph of ops joined by bit/spike-stream edges. Today's graph is a chain: an
input *encoder* (one comparator SNG per input, thresholds ``P_i`` from ``x_i`` in [0, 1]) feeds
layer 1; the spikes of layer ``l`` feed layer ``l + 1``; the readouts of every layer are its
spike counts and its signed scores (sum of currents). Each layer (:class:`DenseLayer`) is dense
SC synapses plus a population of neurons of any registered type (:mod:`.neuron`). Other edges:
conv and pool windows (:mod:`.conv`), address events into exact integer synapses
(:mod:`.event_layer`), a layer's own spikes fed back (:mod:`.recurrent_layer`); after the
output layer an optional k-WTA readout (:mod:`.readout`).

Time semantics, defined here once (the hardware, :mod:`scfpga.hdl.network`, follows them):

* the input bit of input i during SC cycle k is ``a_i(k) = R_i(k) < P_i``;
* layer ``l``'s current ``I_j(k) = sum_i sign_ji (a_i(k) AND [S_l(k) < Q_ji])`` (+ the bias
  synapse, whose input is always 1), with ``S_l`` the layer's one weight source;
* a neuron shows ``spike = 0`` in cycle 0; the update with ``I(k)`` decides its spike in cycle
  ``k + 1`` (:mod:`.neuron`);
* layer ``l + 1``'s input bits in cycle k are layer ``l``'s spikes in cycle k. So a spike of layer
  ``l`` caused by the current of cycle ``k`` reaches layer ``l + 1``'s current in cycle ``k + 1``:
  one SC cycle of latency per layer, and the first ``l`` cycles of layer ``l + 1`` see no input.

Sources: one decorrelation rule for the whole network (:func:`.streams.network_plan`): every
input, every layer's weight source and select source is a distinct Sobol dimension or a distinct
phase of one m-sequence. A one-layer network with the default neuron equals
:class:`.dense.SCDenseLayer` bit for bit.

Differences from a float network: weights are sign-magnitude ``width``-bit integers (1.0 is
``2**width``); inputs are ``width``-bit probabilities; neurons are fixed point; spike rates are
estimates with the SC error of ``length`` cycles. :func:`quantize_network` says what each layer
costs.
"""
import sys
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from . import neuron as neurons
from .neuron_fast import kernel_neuron  # (and compiled runs of the leaky and IF types)
from . import neuron_types  # noqa: F401  (registers every neuron type by name)
from .conv import (ACCUMULATIONS, ConvLayer, PoolLayer, check_shape, default_neuron,
                   exact_currents, is_exact)
from .event_layer import EventLayer
from .dense import (MAX_LFSR_WIDTH, MAX_LENGTH, MAX_WIDTH, SynapseMatrix, int_matrix,
                    quantize_weights)
from .kernels import (cycle_counts, layer_run, pack_inputs, packed_currents, quantize_check,
                      source_groups, weight_masks)
from .lif import LIFParams
from .params import ParameterError, check_choice, check_int
from .readout import WTAReadout, readout_winners
from .sng import quantize_unipolar
from .sobol import MAX_DIM
from .sources import SOURCE_KINDS
from .streams import network_plan, stream_values

MAX_LAYERS = 16
_NO_RT = np.zeros((0, 0), np.int16)        # layer_run without the encoder
_NO_P = np.zeros((0, 0), np.int16)
MAX_NEURONS = 4096
MAX_LANES = 64
ENCODINGS = ("rate", "raster")
WEIGHT_MEMORIES = ("rom", "ram", "spram")


@dataclass(frozen=True)
class DenseLayer(SynapseMatrix):
    """One layer of a network: dense SC synapses into a neuron population.

    Parameters
    ----------
    weights : 2-D int array (neurons, inputs)
        Sign-magnitude weights, ``|q| <= 2**width`` of the network (checked by it).
    bias : sequence of int or None
        Per-neuron bias synapse (input always 1), same format.
    neuron : neuron parameter object
        Any type registered in :mod:`.neuron`; default :func:`default_neuron`.
    lanes : int
        Hardware: synapse columns per clock, a power of two 1..64.
    fold : int
        Hardware: neurons that share one accumulator datapath, 1..neurons (1: every neuron has
        its own). Neuron state always lives in block RAM behind one shared update unit.
    accumulation : {"sc", "exact"}
        SC synapses (weight streams) or the integer weight added per input spike
        (:mod:`.conv`).
    """
    weights: tuple
    bias: tuple | None = None
    neuron: object = field(default_factory=default_neuron)
    lanes: int = 1
    fold: int = 1
    accumulation: str = "sc"

    def __post_init__(self):
        check_choice("accumulation", self.accumulation, ACCUMULATIONS)
        top = 1 << MAX_WIDTH
        object.__setattr__(self, "weights", int_matrix("weights", self.weights, -top, top))
        check_int("neurons", self.n_neurons, 1, MAX_NEURONS)
        if self.bias is not None:
            bias = int_matrix("bias", [list(np.ravel(self.bias))], -top, top)[0]
            if len(bias) != self.n_neurons:
                raise ParameterError(f"bias must have one entry per neuron ({self.n_neurons})")
            object.__setattr__(self, "bias", bias)
        neurons.state_fields(self.neuron)          # raises unless a registered neuron type
        check_int("lanes", self.lanes, 1, MAX_LANES)
        if self.lanes & (self.lanes - 1):
            raise ParameterError(f"lanes must be a power of two, got {self.lanes}")
        check_int("fold", self.fold, 1, self.n_neurons)

    @property
    def kernel_terms(self):
        """What the hardware's weight ROM holds: :attr:`signed_terms`."""
        return self.signed_terms

    @property
    def sweep_terms(self):
        """Columns the hardware sweeps per pass (every input and the bias)."""
        return self.n_terms

    @property
    def out_shape(self):
        return (self.n_neurons,)

    def describe(self):
        return f"dense {self.n_inputs}->{self.n_neurons}{' exact' if is_exact(self) else ''}"


# RecurrentLayer (.recurrent_layer) is a DenseLayer; EventLayer (.event_layer) runs its own
# currents (``run_in_network``), as does any layer whose input is not a plain spike train.
LAYER_TYPES = (DenseLayer, ConvLayer, PoolLayer, EventLayer)


@dataclass(frozen=True)
class NetworkParams:
    """A chain of layers fed by an SNG encoder; consumed by model and hardware.

    Parameters
    ----------
    n_inputs : int
        Encoder inputs (values in [0, 1]).
    layers : tuple of DenseLayer, ConvLayer or PoolLayer (:mod:`.conv`), EventLayer
        (:mod:`.event_layer`) or RecurrentLayer (:mod:`.recurrent_layer`)
        1..16 layers; layer l's inputs are layer l-1's neurons. A conv or pool layer's
        ``in_shape`` must be the previous layer's output map (a dense layer's, or the encoder's
        without ``input_shape``, is flat: any (C, H, W) of that size; HWC order, :mod:`.conv`).
    width : int
        Comparator width W of every stream, 1..16 (weights and inputs have W-bit magnitudes).
    length : int
        SC cycles per run, 1..2**20.
    source, seed, lfsr_width
        The stream sources (:mod:`.streams`).
    input_shape : (channels, height, width) or None
        The inputs as an image (HWC order); ``n_inputs`` must be its size.
    encoding : {"rate", "raster"}
        Hardware: what a run is loaded with. ``"rate"``: one threshold per input, encoded by
        the network's SNGs (:meth:`Network.evaluate_thresholds`); ``"raster"``: the input bit of
        every input in every SC cycle, a spike raster (:meth:`Network.evaluate_bits`).
    weight_memory : {"rom", "ram", "spram"}
        Hardware: where weights and biases live. ``"rom"``: block RAM initialised by the
        bitstream (a new network needs a new build); ``"ram"``: block RAM written at run time
        through the load port; ``"spram"``: the iCE40 UltraPlus single-port RAMs (256 kbit
        each, no power-up contents), written at run time. The golden model ignores both.
    readout : WTAReadout or None
        A k-WTA over the output layer's counts or scores after a run (:mod:`.readout`):
        :meth:`Network.winners`, and the hardware's ``winners`` port.
    """
    n_inputs: int
    layers: tuple
    width: int = 8
    length: int = 256
    source: str = "sobol"
    seed: int = 0
    lfsr_width: int = 16
    input_shape: tuple | None = None
    encoding: str = "rate"
    weight_memory: str = "rom"
    readout: WTAReadout | None = None

    def __post_init__(self):
        w = check_int("width", self.width, 1, MAX_WIDTH)
        check_int("inputs", self.n_inputs, 1, MAX_DIM - 2)
        layers = tuple(self.layers)
        object.__setattr__(self, "layers", layers)
        check_int("number of layers", len(layers), 1, MAX_LAYERS)
        shape = (self.n_inputs,)
        if self.input_shape is not None:
            shape = check_shape("input_shape", self.input_shape)
            object.__setattr__(self, "input_shape", shape)
            if int(np.prod(shape)) != self.n_inputs:
                raise ParameterError(f"input_shape {shape} must have inputs ({self.n_inputs}) "
                                     f"elements")
        fan_in = self.n_inputs
        for l, layer in enumerate(layers):
            where = f"layer {l + 1}: "
            if not isinstance(layer, LAYER_TYPES):
                raise ParameterError(f"{where}must be a DenseLayer, ConvLayer, PoolLayer, "
                                     f"EventLayer or RecurrentLayer, got {type(layer).__name__}")
            what = 'network inputs' if l == 0 else 'neurons of layer ' + str(l)
            if layer.n_inputs != fan_in:
                raise ParameterError(f"{where}must have {fan_in} inputs (the {what}), got "
                                     f"{layer.n_inputs}")
            if len(shape) == 3 and isinstance(layer, (ConvLayer, PoolLayer)) and \
                    layer.in_shape != shape:
                raise ParameterError(f"{where}in_shape must be {shape} (the {what}), got "
                                     f"{layer.in_shape}")
            if isinstance(layer, (DenseLayer, ConvLayer)) and \
                    np.abs(layer.signed_terms).max() > (1 << w):
                raise ParameterError(f"{where}weights must be in -{1 << w}..{1 << w} at width {w}")
            fan_in, shape = layer.n_neurons, layer.out_shape
        check_int("length", self.length, 1, MAX_LENGTH)
        check_choice("source", self.source, SOURCE_KINDS)
        check_choice("encoding", self.encoding, ENCODINGS)
        check_choice("weight_memory", self.weight_memory, WEIGHT_MEMORIES)
        if self.weight_memory != "rom" and any(is_exact(layer) for layer in layers):
            raise ParameterError("weight_memory must be rom with exact accumulation (its "
                                 "adders are sized by the built weights)")
        if self.source == "sobol":
            check_int("seed", self.seed, 0, MAX_DIM - 1)
        else:
            check_int("lfsr_width", self.lfsr_width, max(3, w), MAX_LFSR_WIDTH)
            check_int("seed", self.seed, 0, (1 << self.lfsr_width) - 2)
        self.plan                                     # raises if the sources do not suffice
        if self.readout is not None:
            if not isinstance(self.readout, WTAReadout):
                raise ParameterError(f"readout must be a WTAReadout, got "
                                     f"{type(self.readout).__name__}")
            self.readout.wta(layers[-1], self.length)     # raises if it cannot compete them

    @property
    def plan(self):
        return network_plan(self.source, self.width, self.n_inputs, len(self.layers), self.seed,
                            self.lfsr_width, self.length)

    @property
    def n_outputs(self):
        return self.layers[-1].n_neurons

    @property
    def sizes(self):
        return (self.n_inputs,) + tuple(layer.n_neurons for layer in self.layers)

    def describe(self):
        shape = " -> ".join(map(str, self.sizes))
        if any(not isinstance(layer, DenseLayer) for layer in self.layers):
            shape += " (" + ", ".join(layer.describe() for layer in self.layers) + ")"
        return (f"network {shape}, W={self.width}, L={self.length}, {self.source} "
                f"(seed {self.seed})")


class NetworkRun(NamedTuple):
    """One run of a batch; per-layer lists, per-cycle arrays with the cycle axis last."""
    inputs: np.ndarray      # (batch, n_inputs, T) uint8 encoder bits
    spikes: list            # per layer (batch, neurons, T) uint8
    currents: list          # per layer (batch, neurons, T) int64
    counts: list            # per layer (batch, neurons) int64: spikes in cycles 0..T-1
    scores: list            # per layer (batch, neurons) int64: sum of currents


class Network:
    """Golden model of a :class:`NetworkParams`; methods take a batch ``(batch, n_inputs)``.

    Layer by layer, not cycle by cycle: a layer's currents over the whole run depend only on the
    previous layer's spike trains, so each layer is one batched product per weight-source value
    followed by the neuron time loop (vectorised over batch and neurons).
    """

    CHUNK_BYTES = 64 << 20

    def __init__(self, params: NetworkParams):
        if not isinstance(params, NetworkParams):
            raise ParameterError("params must be a NetworkParams")
        self.params = params
        self._streams = {}

    def streams(self, T):
        """(input source values (n_inputs, T), weight source values (layers, T)), cached."""
        if T not in self._streams:
            plan = self.params.plan
            self._streams[T] = (stream_values(plan, plan.inputs, T),
                                stream_values(plan, plan.weights, T))
        return self._streams[T]

    def thresholds(self, x):
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.params.n_inputs:
            raise ParameterError(f"x must have shape (batch, {self.params.n_inputs}), "
                                 f"got {x.shape}")
        return quantize_unipolar(x, self.params.width)

    def input_bits(self, p, T):
        """(batch, n_inputs, T) uint8 encoder bits for integer thresholds ``p``."""
        rt = self._streams_t(T)
        bits = np.less(rt[None], np.asarray(p, rt.dtype)[:, None, :]).view(np.uint8)
        return bits.transpose(0, 2, 1)          # a view of cycle-major bits (batch, T, n)

    def _streams_t(self, T):
        """The input source values cycle-major (T, n_inputs), narrow, cached."""
        key = ("rt", T)
        if key not in self._streams:
            small = np.int16 if self.params.width < 15 else np.int32
            self._streams[key] = np.ascontiguousarray(self.streams(T)[0].T, small)
        return self._streams[key]

    def layer_currents(self, index, bits):
        """(batch, neurons, T) int64 currents of layer ``index`` for its input bits."""
        return self._layer_currents(index, bits)[0]

    def _layer_currents(self, index, bits):
        """(currents, scores or None) of layer ``index``.

        Compiled: the input bits of each cycle packed into 64-bit words, and per weight-source
        value the packed positive and negative weight bits (cached), so a current is a few
        popcounts (:func:`.kernels.packed_currents`)."""
        layer, T = self.params.layers[index], bits.shape[-1]
        masks = self._masks(index, T)
        if masks is None:
            if is_exact(layer):
                return exact_currents(layer, bits), None
            return self._layer_currents_gemm(index, bits), None
        bits = np.asarray(bits, np.uint8).transpose(0, 2, 1)       # cycle-major (B, T, n)
        cur = np.empty((len(bits), T, layer.n_neurons), np.int64)
        scores = np.empty((len(bits), layer.n_neurons), np.int64)
        for lo, hi in self._chunks(len(bits), T, bits.shape[2]):
            self._currents_chunk(index, np.ascontiguousarray(bits[lo:hi]), cur[lo:hi],
                                 scores[lo:hi])
        return cur.transpose(0, 2, 1), scores     # a view: LIF layers run cycle-major on it

    @staticmethod
    def _chunks(batch, T, n):
        """Sample ranges whose input bits stay in cache (~1 MB) between written and packed."""
        step = max(1, (1 << 20) // max(1, T * n))
        return [(lo, min(batch, lo + step)) for lo in range(0, batch, step)]

    def _currents_chunk(self, index, bits, cur, scores):
        """Compiled currents of layer ``index`` for cycle-major bits ``(b, T, n)``."""
        gidx, pos, neg = self._masks(index, bits.shape[1])
        a = np.empty((len(bits), bits.shape[1], pos.shape[1]), np.uint64)
        pack_inputs(bits, self.params.layers[index].n_terms, a)
        packed_currents(a, gidx, pos, neg, cur, scores)

    def _masks(self, index, T):
        """(cycle -> value index, positive, negative packed weight masks) of layer ``index``,
        cached; None when they would exceed ``CHUNK_BYTES`` (then the GEMM path runs)."""
        key = ("masks", index, T)
        if key not in self._streams:
            layer = self.params.layers[index]
            values, gidx = source_groups(self.streams(T)[1][index])
            words = -(-layer.n_terms // 64)
            if 16 * len(values) * layer.n_neurons * words > self.CHUNK_BYTES or \
                    is_exact(layer):           # no weight stream: integer products instead
                self._streams[key] = None
            else:
                q = layer.signed_terms
                self._streams[key] = (gidx, *weight_masks(np.abs(q), np.sign(q), values))
        return self._streams[key]

    def _layer_currents_gemm(self, index, bits):
        """:meth:`layer_currents` as one float32 GEMM per block of cycles (huge layers)."""
        layer, T = self.params.layers[index], bits.shape[-1]
        s = self.streams(T)[1][index]
        q = layer.signed_terms
        mag, sign = np.abs(q), np.sign(q).astype(np.float32)
        nb, nt = len(bits), layer.n_terms
        out = np.empty((T, layer.n_neurons, nb), np.float32)
        chunk = max(1, self.CHUNK_BYTES // (4 * q.size + 4 * nb * nt))
        for lo in range(0, T, chunk):
            hi = min(T, lo + chunk)
            m = np.where(mag[None] > s[lo:hi, None, None], sign[None], np.float32(0))
            a = np.ones((hi - lo, nt, nb), np.float32)          # the bias input is 1
            a[:, :layer.n_inputs] = bits[:, :, lo:hi].transpose(2, 1, 0)
            np.matmul(m, a, out=out[lo:hi])
        return out.transpose(2, 1, 0).astype(np.int64)       # exact: |I| <= n_terms < 2**24

    def evaluate_thresholds(self, p, T=None):
        """A :class:`NetworkRun` for integer input thresholds (what the hardware is loaded with)."""
        p = np.asarray(p)
        top = 1 << self.params.width
        if p.ndim != 2 or p.shape[1] != self.params.n_inputs or \
                not np.issubdtype(p.dtype, np.integer) or p.min() < 0 or p.max() > top:
            raise ParameterError(f"thresholds must be integers in 0..{top} of shape "
                                 f"(batch, {self.params.n_inputs})")
        T = self.params.length if T is None else check_int("T", T, 1, MAX_LENGTH)
        return self._evaluate_p(p, T)

    def _evaluate_p(self, p, T):
        """:meth:`evaluate_thresholds` for validated thresholds."""
        if hasattr(self.params.layers[0], "run_in_network"):     # event/recurrent first layer
            return self.evaluate_bits(self.input_bits(p, T))
        if self._fused(0, T) is not None:
            # Encoder, first layer and its neurons in one compiled pass per sample.
            rt = self._streams_t(T)
            bits = self._buffer((len(p), T, self.params.n_inputs), np.uint8)
            return self._evaluate(bits.transpose(0, 2, 1), self._run_fused(0, bits, rt, p))
        if self._masks(0, T) is None:
            return self.evaluate_bits(self.input_bits(p, T))
        # Encoder and first layer chunk by chunk: each chunk's bits are packed while in cache.
        layer, n = self.params.layers[0], self.params.n_inputs
        bits = np.empty((len(p), T, n), np.uint8)
        cur = np.empty((len(p), T, layer.n_neurons), np.int64)
        scores = np.empty((len(p), layer.n_neurons), np.int64)
        rt = self._streams_t(T)
        p = p.astype(rt.dtype)
        for lo, hi in self._chunks(len(p), T, n):
            np.less(rt[None], p[lo:hi, None, :], out=bits[lo:hi].view(bool))
            self._currents_chunk(0, bits[lo:hi], cur[lo:hi], scores[lo:hi])
        return self._evaluate(bits.transpose(0, 2, 1), (cur.transpose(0, 2, 1), scores))

    def evaluate_bits(self, bits):
        """A :class:`NetworkRun` for given input bits or spikes ``(batch, n_inputs, T)``."""
        return self._evaluate(np.asarray(bits, dtype=np.uint8))

    def _fused(self, index, T):
        """(cycle -> value index, packed weight masks, neuron kind and vector) of layer
        ``index`` for :func:`.kernels.layer_run`, cached; None when its masks are too large or
        its neuron type has no compiled update there."""
        key = ("fused", index, T)
        if key not in self._streams:
            masks = self._masks(index, T)
            layer = self.params.layers[index]
            neuron = kernel_neuron(layer.neuron, layer.n_terms)   # |current| <= n_terms
            self._streams[key] = None if masks is None or neuron is None else \
                (*masks, *neuron, layer.n_terms, layer.n_neurons)
        return self._streams[key]

    def _buffer(self, shape, dtype):
        """An output array for :meth:`_run_fused`, which writes every element: a new one, or
        one handed out before that nobody references any more (results the caller dropped).
        Recycling spares the page faults of fresh memory, a third of a large batch's time."""
        pool = self._streams.setdefault(("pool", shape, dtype), [])
        for a in pool:
            if sys.getrefcount(a) == 3:            # the pool, this loop and the call: free
                return a
        a = np.empty(shape, dtype)
        if len(pool) < 2:
            pool.append(a)
        return a

    def _run_fused(self, index, bits, rt=None, p=None):
        """Layer ``index`` on cycle-major input bits ``(B, T, n)`` (written first from the
        encoder's thresholds ``p`` when ``rt`` is given) by :func:`.kernels.layer_run`:
        ``(currents, scores, spikes, counts)`` with the cycle axis last."""
        B, T, _ = bits.shape
        gidx, pos, neg, kind, par, n_terms, N = self._fused(index, T)
        cur = self._buffer((B, T, N), np.int64)
        spk = self._buffer((B, T, N), np.uint8)
        out = self._buffer((2, B, N), np.int64)
        if rt is None:
            rt, p = _NO_RT, _NO_P
        layer_run(rt, p, 0.0, bits, n_terms, gidx, pos, neg, kind, par, cur, spk, out)
        return cur.transpose(0, 2, 1), out[1], spk.transpose(0, 2, 1), out[0]

    def _evaluate(self, bits, first=None):
        spikes, currents, counts, scores = [], [], [], []
        x = bits
        for index, layer in enumerate(self.params.layers):
            own = getattr(layer, "run_in_network", None)
            if own is not None:
                # Event and recurrent layers (their own currents and neuron loop).
                cur, spk = own(x, self.streams(x.shape[-1])[1][index])
                spikes.append(spk)
                currents.append(cur)
                counts.append(spk.sum(-1, dtype=np.int64))
                scores.append(cur.sum(-1))
                x = spk
                continue
            if index == 0 and first and len(first) == 4 or \
                    index and self._fused(index, x.shape[-1]) is not None:
                cur, score, spk, count = first if index == 0 else \
                    self._run_fused(index, np.ascontiguousarray(x.transpose(0, 2, 1)))
                spikes.append(spk)
                currents.append(cur)
                counts.append(count)
                scores.append(score)
                x = spk
                continue
            cur, score = first if index == 0 and first else self._layer_currents(index, x)
            spk, _ = neurons.run(layer.neuron, cur)
            spikes.append(spk)
            currents.append(cur)
            cyc = spk.transpose(0, 2, 1)
            if cyc.flags.c_contiguous:
                count = np.empty(cyc.shape[::2], np.int64)
                cycle_counts(cyc, count)
            else:
                count = spk.sum(-1, dtype=np.int64)
            counts.append(count)
            scores.append(cur.sum(-1) if score is None else score)
            x = spk
        return NetworkRun(bits, spikes, currents, counts, scores)

    def evaluate(self, x, T=None):
        x = np.asarray(x)
        if x.dtype == np.float64 and x.ndim == 2 and x.shape[1] == self.params.n_inputs:
            plan = self._streams.get(("plan", T)) if T is None or type(T) is int else None
            if plan is None:
                plan = self._all_fused(self.params.length if T is None else T)
                if plan is not None:                     # T is valid: the hot path's key
                    self._streams[("plan", T)] = plan
            if plan is not None:
                run = self._evaluate_fused(x, plan)
                if run is not None:
                    return run
            # Thresholds compiled; on a value out of range the validated path raises.
            p = np.empty(x.shape, np.int64)
            if quantize_check(x, float(1 << self.params.width), p):
                T = self.params.length if T is None else check_int("T", T, 1, MAX_LENGTH)
                return self._evaluate_p(p, T)
        return self.evaluate_thresholds(self.thresholds(x), T)

    def _all_fused(self, T):
        """``(T, encoder values, threshold scale, per-layer layer_run constants)`` when every
        layer runs in :func:`.kernels.layer_run`, else None; cached per (valid) ``T``."""
        if isinstance(T, bool) or not isinstance(T, (int, np.integer)) or \
                not 1 <= T <= MAX_LENGTH:
            return None                                       # the validated path says why
        key = ("all fused", int(T))
        if key not in self._streams:
            layers = self.params.layers
            ok = all(not hasattr(layer, "run_in_network") and self._fused(i, T) is not None
                     for i, layer in enumerate(layers))
            self._streams[key] = (int(T), self._streams_t(T), float(1 << self.params.width),
                                  [self._fused(i, T) for i in range(len(layers))]) if ok else None
        return self._streams[key]

    def _fused_set(self, B, plan):
        """Arrays for :meth:`_evaluate_fused` (input bits, per layer currents,
        spikes, counts/scores), recycled as a set once none is referenced (:meth:`_buffer`)."""
        T, n = plan[0], self.params.n_inputs
        sets = self._streams.setdefault(("set", B, T), [])
        for arrays in sets:
            if max(map(sys.getrefcount, arrays)) == 2:       # held by the set alone: free
                return arrays
        arrays = [np.empty((B, T, n), np.uint8)]
        for *_, N in plan[3]:
            arrays += [np.empty((B, T, N), np.int64), np.empty((B, T, N), np.uint8),
                       np.empty((2, B, N), np.int64)]
        arrays = tuple(arrays)
        if len(sets) < 2:
            sets.append(arrays)
        return arrays

    def _evaluate_fused(self, x, plan):
        """:meth:`evaluate` of ``x`` (its shape checked) when every layer is fused: the same
        kernels as :meth:`_evaluate_p` in the fewest Python steps (one-sample calls); None if an
        ``x`` is outside [0, 1]."""
        arrays = self._fused_set(len(x), plan)
        bits = arrays[0]
        inp, rt, q, scale = bits, plan[1], x, plan[2]       # layer 0 quantises and checks x
        spikes, currents, counts, scores = [], [], [], []   # (appends: faster than 4 list
        for l, (gidx, pos, neg, kind, par, n_terms, _) in enumerate(plan[3]):  # comprehensions)
            cur, spk, out = arrays[1 + 3 * l: 4 + 3 * l]
            if not layer_run(rt, q, scale, inp, n_terms, gidx, pos, neg, kind, par, cur, spk,
                             out):
                return None
            inp, rt, q, scale = spk, _NO_RT, _NO_P, 0.0
            currents.append(cur.transpose(0, 2, 1))
            spikes.append(spk.transpose(0, 2, 1))
            counts.append(out[0])
            scores.append(out[1])
        return NetworkRun(bits.transpose(0, 2, 1), spikes, currents, counts, scores)

    def counts(self, x):
        """Output-layer spike counts (batch, n_outputs)."""
        return self.evaluate(x).counts[-1]

    def scores(self, x):
        """Output-layer scores (batch, n_outputs): the signed sum of its currents."""
        return self.evaluate(x).scores[-1]

    def winners(self, x):
        """Winner masks (batch, n_outputs) of the network's WTA readout (:mod:`.readout`)."""
        return readout_winners(self.params, self.evaluate(x))

    def predict(self, x):
        """Class = argmax of the output scores (first on ties)."""
        return np.argmax(self.scores(x), axis=-1)

    __call__ = counts


# ---------------------------------------------------------------------------- quantisation pass

@dataclass(frozen=True)
class LayerQuantisation:
    """What quantising one float layer chose and cost."""
    scale: float              # float weights were multiplied by this to fit [-1, 1]
    weight_rms_error: float   # RMS of (quantised - scaled float) weights, in units of 1.0
    weight_max_error: float
    threshold: float          # requested threshold (float units)
    threshold_int: int        # integer threshold in current units
    threshold_error: float    # relative error of the integer threshold


def quantize_network(weights, biases=None, thresholds=None, n_inputs=None, width=8,
                     neuron=None, lanes=1, fold=1, **network):
    """A :class:`NetworkParams` from float layers, and a per-layer :class:`LayerQuantisation`.

    Layer l's weights and bias are scaled by ``s_l = 1 / max(1, max |W_l|, max |b_l|)`` so that
    they fit [-1, 1], then quantised sign-magnitude (:func:`.dense.quantize_weights`). A
    rate-coded hidden neuron fires at about ``(W x + b) / threshold``, so the threshold scales
    with the weights: ``round(threshold * s_l)`` in current units, at least 1. ``neuron`` is a
    callable ``threshold -> neuron params`` (default: non-leaky IF of :func:`default_neuron`).

    ``lanes`` and ``fold`` may be one value or one per layer.
    """
    weights = [np.asarray(w, dtype=np.float64) for w in weights]
    n = len(weights)
    biases = [None] * n if biases is None else list(biases)
    thresholds = [1.0] * n if thresholds is None else list(np.broadcast_to(thresholds, (n,)))
    lanes, fold = np.broadcast_to(lanes, (n,)), np.broadcast_to(fold, (n,))
    make = neuron or (lambda thr: neurons.lif_neuron(width=16, threshold=thr, leak_shift=0))
    top = float(1 << width)
    layers, report = [], []
    for l, w in enumerate(weights):
        b = None if biases[l] is None else np.ravel(np.asarray(biases[l], np.float64))
        peak = max(1.0, np.abs(w).max(), 0.0 if b is None else np.abs(b).max())
        s = 1.0 / peak
        try:
            q = quantize_weights(w * s, width)
            qb = None if b is None else quantize_weights(b * s, width)
        except ParameterError as e:
            raise ParameterError(f"layer {l + 1}: {e}") from None
        err = q / top - w * s
        thr = float(thresholds[l])
        thr_int = max(1, int(round(thr * s)))
        layers.append(DenseLayer(q, qb, make(thr_int), int(lanes[l]), int(fold[l])))
        report.append(LayerQuantisation(s, float(np.sqrt(np.mean(err ** 2))),
                                        float(np.abs(err).max()), thr, thr_int,
                                        abs(thr_int - thr * s) / max(thr * s, 1e-12)))
    n_in = weights[0].shape[1] if n_inputs is None else n_inputs
    return NetworkParams(n_in, tuple(layers), width, **network), report


def is_neuron(params):
    """True for a registered neuron type."""
    try:
        neurons.state_fields(params)
        return True
    except ParameterError:
        return False


__all__ = ["DenseLayer", "ConvLayer", "PoolLayer", "NetworkParams", "Network", "NetworkRun",
           "quantize_network", "default_neuron", "LIFParams"]
