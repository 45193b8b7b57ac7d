"""The conv engine's temporal-aggregation mode (TAC on hardware): its integer semantics.

Seed 004's TAC convolves a ``beta``-weighted sum of K input steps once instead of convolving every
step. On the conv engine (:mod:`.conv`, exact accumulation) that is:

* per input of the layer's map, an **aggregate word** replaces the spike bit. During chunk ``c``
  (SC cycles ``cK .. cK + K - 1``) it starts at 0 and each cycle k does
  ``a <- a - (a >> s) + (x(k) << F)``: a leaky integer accumulator with
  ``beta = 1 - 2**-s`` (``s = 0``: no leak, ``beta = 1``) and ``F`` fractional bits. The
  rounding of ``a >> s`` is part of the definition (it is what the shift-subtract hardware
  does), so the weights are only approximately ``2**F beta**(K-1-j)``;
* at the chunk's end, **one pass over the kernel**: ``I(c) = sum_taps q * a_tap + q_b * a_1``,
  the integer weights times the multi-bit words (``a_1``: the aggregate of an input that is
  always 1, the bias's), and one update of the layer's neuron, whose spike is the chunk's.

So a run of T cycles costs ``T / K`` conv passes per position instead of T, and the layer's
output (and every layer after it) runs at the chunk rate: ``T / K`` steps. A neuron keeps the
per-step rate meaning with its threshold multiplied by ``2**W a_1`` (:meth:`TACParams.scale`).
The identities: K = 1, ``s = F = 0`` gives exactly the exact-accumulation conv layer's currents,
one per cycle; with ``s = 0`` a chunk's current is the sum of those of its cycles (linearity).

In a network (:class:`TACConvLayer`, a conv layer with ``temporal`` set; the TOML spec's
``temporal = {chunk = K, leak_shift = s, frac_bits = F}`` on a ``conv2d`` layer) the layer
reads T cycles of its input and shows ``T / K`` chunk steps; every later layer runs on those
steps (its weight streams advance once per chunk), so the network has two rates: its input's
and, from the TAC layer on, the chunks'. The layer's neuron gets the chunk currents as they
are: choose its threshold on their scale (``theta * 2**W * a_1`` keeps a per-step meaning).
"""
from dataclasses import dataclass, field

import numpy as np

from . import neuron as neurons
from .conv import ConvLayer
from .params import ParameterError, check_int

MAX_CHUNK = 64
MAX_SHIFT = 8
MAX_FRAC = 8


@dataclass(frozen=True)
class TACParams:
    """The TAC mode of a conv engine.

    Parameters
    ----------
    chunk : int
        K, SC cycles aggregated per conv pass, 1..64.
    leak_shift : int
        s, 0..8: ``beta = 1 - 2**-s`` per cycle inside a chunk (0: ``beta = 1``).
    frac_bits : int
        F, 0..8: fractional bits of the aggregate (keeps the leak's precision).
    """
    chunk: int = 4
    leak_shift: int = 0
    frac_bits: int = 0

    def __post_init__(self):
        check_int("chunk", self.chunk, 1, MAX_CHUNK)
        check_int("leak_shift", self.leak_shift, 0, MAX_SHIFT)
        check_int("frac_bits", self.frac_bits, 0, MAX_FRAC)

    def aggregate(self, bits):
        """Aggregate words ``(..., chunks)`` of bits ``(..., T)`` (``chunk`` must divide T):
        the recurrence of the module docstring, a time loop over the chunk vectorised over
        everything else."""
        bits = np.asarray(bits)
        T = bits.shape[-1]
        if T % self.chunk:
            raise ParameterError(f"chunk must divide the run's {T} cycles, got {self.chunk}")
        x = bits.reshape(bits.shape[:-1] + (T // self.chunk, self.chunk)).astype(np.int64)
        a = np.zeros(x.shape[:-1], np.int64)
        for j in range(self.chunk):
            if self.leak_shift:
                a -= a >> self.leak_shift
            a += x[..., j] << self.frac_bits
        return a

    @property
    def one(self):
        """``a_1``: the aggregate of an input that spikes every cycle (the bias's word)."""
        return int(self.aggregate(np.ones(self.chunk, np.int64))[0])

    @property
    def word_bits(self):
        """Bits of an aggregate word (the map's word width in block RAM)."""
        return self.one.bit_length()

    def scale(self, width):
        """Current units of 1.0 per step: a threshold ``theta`` of the per-step layer becomes
        ``theta * scale``."""
        return (1 << width) * self.one


def tac_currents(layer, tac, bits):
    """(batch, neurons, chunks) int64 currents of ``layer`` (a :class:`.conv.ConvLayer` read as
    integer weights) in TAC mode ``tac`` for its input bits ``(batch, n_inputs, T)``."""
    if not isinstance(layer, ConvLayer):
        raise ParameterError("layer must be a ConvLayer")
    if not isinstance(tac, TACParams):
        raise ParameterError("tac must be a TACParams")
    bits = np.asarray(bits)
    if bits.ndim != 3 or bits.shape[1] != layer.n_inputs:
        raise ParameterError(f"bits must have shape (batch, {layer.n_inputs}, T), got "
                             f"{bits.shape}")
    a = tac.aggregate(bits).astype(np.float64)            # exact: words * weights < 2**53
    q = np.asarray(layer.signed_terms, np.float64)
    n = layer.n_inputs
    cur = np.matmul(q[:, :n], a)
    if layer.n_terms > n:
        cur += q[:, n:n + 1] * tac.one
    return cur.astype(np.int64)


def tac_run(layer, tac, bits):
    """(spikes, currents), each ``(batch, neurons, chunks)``: the layer's neuron stepped once
    per chunk (spike ``c`` shows in chunk ``c + 1``, as a layer's in SC cycles)."""
    cur = tac_currents(layer, tac, bits)
    spk, _ = neurons.run(layer.neuron, cur)
    return spk, cur


@dataclass(frozen=True)
class TACConvLayer(ConvLayer):
    """A conv layer in the engine's TAC mode inside a network (module docstring).

    Parameters are :class:`~.conv.ConvLayer`'s plus ``temporal`` (a :class:`TACParams`);
    ``accumulation`` must be ``"exact"`` (a chunk's current is ``sum q * a``: integer weights
    times aggregate words, no weight stream).
    """
    temporal: TACParams = field(default_factory=TACParams)

    def __post_init__(self):
        super().__post_init__()
        if not isinstance(self.temporal, TACParams):
            raise ParameterError(f"temporal must be a TACParams, got "
                                 f"{type(self.temporal).__name__}")
        if self.accumulation != "exact":
            raise ParameterError("a TAC conv layer accumulates integer weights times aggregate "
                                 "words: accumulation must be 'exact'")

    @classmethod
    def from_conv(cls, layer, temporal, neuron):
        """``layer`` (a :class:`~.conv.ConvLayer`) in TAC mode ``temporal`` with ``neuron``
        (on the chunk currents' scale), exact accumulation, its fold kept."""
        return cls(layer.weights, layer.in_shape, layer.bias, layer.stride, layer.padding,
                   neuron, 1, layer.fold, "exact", temporal)

    @property
    def current_scale(self):
        """Factor on the exact layer's largest current: ``a_1``, the largest aggregate word."""
        return self.temporal.one

    @property
    def chunk(self):
        return self.temporal.chunk

    def run_in_network(self, bits, weight_values=None):
        """``(currents, spikes)`` ``(batch, neurons, T / K)`` for input bits ``(batch, n_inputs,
        T)``: the hook :class:`~.network.Network` runs a layer with its own time base through
        (no weight stream: ``weight_values`` is unused)."""
        spk, cur = tac_run(self, self.temporal, bits)
        return cur, spk

    def describe(self):
        t = self.temporal
        beta = "1" if t.leak_shift == 0 else f"1-2^-{t.leak_shift}"
        return f"{super().describe()} TAC K={t.chunk} beta={beta} F={t.frac_bits}"


def network_chunk(params):
    """``(index, K)`` of a network's TAC layer (the first layer running at the chunk rate), or
    ``(None, 1)``: layers from ``index`` on take ``T / K`` steps."""
    for l, layer in enumerate(params.layers):
        if isinstance(layer, TACConvLayer):
            return l, layer.chunk
    return None, 1
