"""sc_neurocore's layer classes under their own names and call shapes, on scfpga's golden model.

Code written for sc_neurocore changes only its import (``from scfpga.layers import ...``).
Every class is a thin front end: it translates the reference's arguments once into the frozen
parameter object the hardware is generated from (``.params``: :class:`~scfpga.model.dense.
DenseParams` or :class:`~scfpga.model.fusion.FusionParams`) and returns exactly what the
bit-exact golden model (``.model``) computes for it, so the generated RTL shows the same bits.

What bit-exactness forces, for all three classes:

* **Deterministic streams.** Inputs and weights are comparator streams of Sobol (default) or
  LFSR sources chosen by a documented rule from ``seed`` (default 0), not fresh random draws: the
  same arguments give the same bits on every call, in every process and in the hardware.
* **Quantised values.** Every input and weight becomes an integer threshold of ``width`` bits
  (default W = 8): ``floor(v * 2**W + 1/2)`` for unipolar values in [0, 1]; a weight keeps its
  sign and quantises its magnitude (sign-magnitude, :func:`scfpga.model.dense.quantize_weights`).
* **Bad input raises** :class:`scfpga.model.ParameterError` (a ``ValueError``) naming the
  parameter and its allowed range.
"""
import numpy as np

from .model.attention import (AttentionParams, attention_bitstream, attention_float,
                              quantize as quantize_qkv, softmax_attention)
from .model.dendrite import DendriteParams, dendrite_step, soma as dendrite_soma
from .model.dense import MAX_INPUTS, MAX_LENGTH, MAX_NEURONS, DenseParams
from .model.dense import SCDenseLayer as DenseModel
from .model.fusion import FusionLayer
from .model.inhibition import InhibitionParams, inhibition_apply
from .model.wta import WTAParams, wta_mask, wta_rank
from .model.network import DenseLayer, Network, NetworkParams, quantize_network
from .conv_layers import (SCConv2DLayer, SpikeDropout, SpikingAvgPool2d,  # noqa: F401
                          SpikingConv2d, SpikingFlatten, SpikingMaxPool2d, TACTemporalPreserve,
                          TemporalAggregatedConv, LearnableTAC,
                          FourierTemporalConv, InfoMaxSpikeConv, TemporalCollapseConv)
from .model.neuron_types import Neuron, create_neuron
from .learning_layers import HardwareAwareSCLayer, MemristiveDenseLayer, SCLearningLayer
from .step_layers import PredictiveCodingSCLayer, SCRecurrentLayer  # noqa: F401
from .event_layers import EventFixedNumConn, EventFixedProb, EventLinear, FixedNumConn
from .graph_layers import SpikeGNNLayer, SpikeGraphConv
from .model.sobol import MAX_DIM
from .model.params import ParameterError, check_int

# The reference layers above; the neuron zoo under mlxsnn's factory name; the network classes
# (layers that feed each other, model = RTL) under scfpga's own names.
__all__ = ["SCDenseLayer", "VectorizedSCLayer", "SCFusionLayer", "WinnerTakeAll",
           "LateralInhibition", "StochasticAttention",
           "RallDendrite", "PredictiveCodingSCLayer", "SCRecurrentLayer", "create_neuron", "Neuron",
           "DenseLayer", "Network", "NetworkParams", "quantize_network",
           "SCConv2DLayer", "SpikingConv2d", "SpikingMaxPool2d", "SpikingAvgPool2d",
           "SpikingFlatten", "SpikeDropout", "TemporalAggregatedConv", "TACTemporalPreserve",
           "LearnableTAC", "FourierTemporalConv", "InfoMaxSpikeConv",
           "TemporalCollapseConv",
           "SCLearningLayer", "HardwareAwareSCLayer", "MemristiveDenseLayer",
           "EventLinear", "EventFixedProb", "FixedNumConn", "EventFixedNumConn",
           "SpikeGraphConv", "SpikeGNNLayer"]


def _range(name_lo, lo, name_hi, hi):
    lo, hi = float(lo), float(hi)
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ParameterError(f"{name_lo} must be finite and < {name_hi}, got [{lo}, {hi}]")
    return lo, hi


class SCDenseLayer:
    """Dense SC layer of spiking neurons with sc_neurocore's ``SCDenseLayer`` call shape.

    Parameters
    ----------
    n_neurons : int
        Output neurons, 1..4096.
    x_inputs : sequence of float
        The layer's (static) inputs, n_inputs = 1..1022 values in [x_min, x_max].
    weight_values : sequence of float, or 2-D array (n_neurons, n_inputs)
        One vector shared by every neuron, or one row per neuron; values in [w_min, w_max].
    x_min, x_max, w_min, w_max : float
        Real ranges of the inputs and weights.
    length : int
        Cycles of one hardware run L (the SC bitstream length), 1..2**20.
    seed : int
        Stream choice (:class:`~scfpga.model.dense.DenseParams` ``seed``): Sobol weight
        dimension ``1 + seed`` (0..1022), or LFSR phase offset.
    width, source, lif
        Comparator width W, ``"sobol"``/``"lfsr"`` and neuron dynamics (``None``: integrate
        and fire, threshold n_inputs, no leak); see :class:`~scfpga.model.dense.DenseParams`.
    dt_ms : float
        Milliseconds per cycle, used only for the Hz figures of :meth:`summary`.

    Attributes
    ----------
    params : DenseParams
        The network op the hardware is generated from.
    model : scfpga.model.dense.SCDenseLayer
        The golden model of ``params``.
    x : ndarray
        The unipolar inputs in [0, 1] the layer computes with (before quantisation).
    w_scale : float
        ``max(|w_min|, |w_max|)``: a real weight ``w`` is realised as ``w / w_scale``.

    Notes
    -----
    Differences from sc_neurocore, all forced by bit-exactness:

    * **Value mapping.** Inputs are clipped to [x_min, x_max] and mapped affinely to
      ``x' = (x - x_min) / (x_max - x_min)`` (as in the reference). Weights keep their sign and
      zero: ``w' = w / max(|w_min|, |w_max|)`` in [-1, 1], realised sign-magnitude. For
      ``w_min = 0`` this equals the reference's affine map; for ``w_min < 0`` the reference
      would encode ``w_min`` as probability 0, here a negative weight lowers the current.
    * **Current.** Per cycle k, neuron j gets the integer ``I_j(k) = sum_i sign(w'_ji)
      (a_i(k) AND b_ji(k))`` of its product bits, whose mean is ``sum_i w'_ji x'_i`` (not the
      reference's ``y_min..y_max`` float current; ``y_min``, ``y_max``, ``neuron_params``,
      ``base_seed`` and ``sc_mode`` do not exist). Each of the ``length`` cycles is one time step.
    * **Neurons.** Integer LIF without noise (the hardware has none): neurons with equal weight
      rows spike identically. With the default neuron the spike rate over a run is about
      ``max(0, sum_i w'_ji x'_i) / n_inputs``, the mean product, within the bounds of
      :class:`VectorizedSCLayer`; :meth:`estimate` decodes the dot product itself.
    * **Time beyond one run.** :meth:`run` continues from the cycles already run, like the
      reference. The hardware runs ``length`` cycles; later cycles continue the same sources
      (a Sobol source repeats every ``2**max(W, ceil(log2 L))`` cycles), a model-only extension
      (the reference holds its last cycle's current instead).
    """

    def __init__(self, n_neurons, x_inputs, weight_values, x_min, x_max, w_min, w_max,
                 length=2048, *, seed=0, width=8, source="sobol", lif=None, dt_ms=1.0):
        n = check_int("n_neurons", n_neurons, 1, MAX_NEURONS)
        x_min, x_max = _range("x_min", x_min, "x_max", x_max)
        w_min, w_max = _range("w_min", w_min, "w_max", w_max)
        x = np.asarray(x_inputs, dtype=np.float64)
        if x.ndim != 1 or not 1 <= x.size <= MAX_INPUTS or not np.all(np.isfinite(x)):
            raise ParameterError(f"x_inputs must be 1..{MAX_INPUTS} finite values, "
                                 f"got shape {x.shape}")
        w = np.asarray(weight_values, dtype=np.float64)
        if w.ndim == 1 and w.shape == x.shape:
            w = np.broadcast_to(w, (n, x.size))     # one vector shared by every neuron
        if w.shape != (n, x.size):
            raise ParameterError(f"weight_values must have shape (n_inputs,) = ({x.size},) or "
                                 f"(n_neurons, n_inputs) = ({n}, {x.size}), got {w.shape}")
        if not np.all((w >= w_min) & (w <= w_max)):
            raise ParameterError(f"weight_values must be in [w_min, w_max] = [{w_min}, {w_max}]")
        self.w_scale = max(abs(w_min), abs(w_max))
        self.x = (np.clip(x, x_min, x_max) - x_min) / (x_max - x_min)
        self.params = DenseParams.from_float(w / self.w_scale, width=width, length=length,
                                             source=source, seed=seed, lif=lif)
        self.model = DenseModel(self.params)
        self.n_neurons, self.dt_ms = n, float(dt_ms)
        self._trains = np.zeros((n, 0), np.uint8)

    def run(self, T):
        """Advance the layer ``T`` cycles (continuing earlier runs); the trains are kept."""
        done = self._trains.shape[1]
        T = check_int("T", T, 1, MAX_LENGTH - done)
        # The model always starts from reset and is causal, so the cycles already run repeat
        # exactly: recompute the whole prefix on a fresh model (its caches grow with each T).
        self._trains = DenseModel(self.params).run(self.x, done + T)

    def reset(self):
        """Forget the cycles run so far: the next :meth:`run` starts from reset."""
        self._trains = np.zeros((self.n_neurons, 0), np.uint8)

    def get_spike_trains(self):
        """uint8 spike matrix (n_neurons, T) of every cycle run since construction or reset."""
        return self._trains

    def summary(self):
        """Firing statistics: ``n_neurons``, ``T``, per-neuron ``stats`` and the mean rate in Hz."""
        T = self._trains.shape[1]
        seconds = T * self.dt_ms / 1000.0
        totals = self._trains.sum(axis=1, dtype=np.int64)
        stats = [{"neuron": j, "total_spikes": int(c),
                  "spike_rate": float(c / T) if T else 0.0,
                  "firing_rate_hz": float(c / seconds) if seconds else 0.0}
                 for j, c in enumerate(totals)]
        return {"n_neurons": self.n_neurons, "T": T, "stats": stats,
                "avg_firing_rate_hz": float(np.mean([s["firing_rate_hz"] for s in stats]))}

    def estimate(self):
        """Decoded dot products ``sum_i w_ji x'_i`` (weights' units) over ``length`` cycles."""
        return self.model.estimate(self.x) * self.w_scale


class VectorizedSCLayer:
    """Dense SC layer with sc_neurocore's ``VectorizedSCLayer`` call shape: ``forward(x)`` rates.

    Parameters
    ----------
    n_inputs, n_neurons : int
        Layer size: 1..1022 inputs, 1..4096 neurons.
    length : int
        Bitstream length L (cycles per run), 1..2**20.
    weights : 2-D array (n_neurons, n_inputs) or None
        Real weights in [-1, 1]; ``None``: uniform in [0, 1] from ``np.random.default_rng(seed)``
        (the reference's unipolar initialisation).
    bias : sequence of float or None
        Per-neuron bias in [-1, 1], realised as one more synapse whose input is always 1.
    seed : int
        Seeds the initial weights and chooses the streams (:class:`~scfpga.model.dense.
        DenseParams` ``seed``: Sobol 0..1022).
    width, source, accumulation
        See :class:`~scfpga.model.dense.DenseParams`.

    Attributes
    ----------
    params : DenseParams
    model : scfpga.model.dense.SCDenseLayer

    Notes
    -----
    Differences from sc_neurocore, forced by bit-exactness:

    * The reference draws new random input streams on every ``forward`` call, so repeated calls
      differ; here the streams are fixed by ``seed`` and ``forward`` is a pure function, equal
      to what the hardware computes.
    * :attr:`weights` are the realised (quantised, sign-magnitude) values ``q / 2**W``; they are
      read-only because ``params`` is frozen: build a new layer to change them.
    * ``forward`` returns the firing rates of integrate-and-fire neurons (threshold
      ``n_terms`` = n_inputs + bias), in [0, 1]: about ``max(0, W x + b) / n_terms``, the mean
      product. :meth:`estimate` returns the decoded sum ``W x + b`` itself. Inputs outside
      [0, 1] raise; ``x`` may also be a batch (batch, n_inputs). No GPU, sparse or bipolar modes.
    * Accuracy (tested with Sobol streams, W = 8, 8..64 terms): ``|estimate - (W x + b)|
      <= 0.02 sqrt(n_terms)`` at L = 256 and ``0.01 sqrt(n_terms)`` at L = 1024 (independent
      Bernoulli streams have a standard deviation up to ``0.5 sqrt(n_terms / L)``, 0.031
      sqrt(n_terms) at L = 256); ``forward`` is within that bound ``/ n_terms + 2 / L`` of
      ``max(0, W x + b) / n_terms``.
    """

    def __init__(self, n_inputs, n_neurons, length=1024, *, weights=None, bias=None, seed=0,
                 width=8, source="sobol", accumulation="counter"):
        shape = (check_int("n_neurons", n_neurons, 1, MAX_NEURONS),
                 check_int("n_inputs", n_inputs, 1, MAX_INPUTS))
        if weights is None:
            weights = np.random.default_rng(check_int("seed", seed, 0)).uniform(0, 1, shape)
        elif np.shape(weights) != shape:
            raise ParameterError(f"weights must have shape (n_neurons, n_inputs) = {shape}, "
                                 f"got {np.shape(weights)}")
        self.params = DenseParams.from_float(weights, bias, width, length=length, source=source,
                                             seed=seed, accumulation=accumulation)
        self.model = DenseModel(self.params)
        self.n_inputs, self.n_neurons, self.length = shape[1], shape[0], self.params.length

    @property
    def weights(self):
        """The realised weights, ``params.weights / 2**width`` (n_neurons, n_inputs)."""
        return np.array(self.params.weights, np.float64) / (1 << self.params.width)

    def forward(self, input_values):
        """Firing rates ``spikes / length`` in [0, 1], shape (n_neurons,) or (batch, n_neurons)."""
        return self.model.forward(input_values)

    def estimate(self, input_values):
        """Decoded dot products ``W x + b`` (floats), same shapes as :meth:`forward`."""
        return self.model.estimate(input_values)


class SCFusionLayer(FusionLayer):
    """MUX fusion with sc_neurocore's ``SCFusionLayer`` call shape, on :class:`.FusionLayer`.

    Parameters
    ----------
    input_dims : dict of str -> int
        Modality names and element counts; all counts equal (element j fuses element j of every
        modality), 2..256 modalities.
    fusion_weights : dict of str -> float or None
        Non-negative weights naming exactly the modalities, normalised to sum 1; ``None``: equal.
    length : int
        Bitstream length L, 1..2**24.
    seed : int
        Stream choice. Sobol: data dimension ``1 + seed``, select ``2 + seed`` (0, the default,
        is the (0, 2)-sequence pair; other pairs are valid but not guaranteed as accurate).
        LFSR: the data source's start state, 1..2**W - 1, 0 meaning the default dense state.
    width, source
        See :class:`~scfpga.model.fusion.FusionParams`.

    Attributes
    ----------
    params : FusionParams

    Notes
    -----
    Differences from sc_neurocore, forced by bit-exactness:

    * ``forward`` returns the fused stream's ``ones / length`` (shape (dim,), or (batch, dim)),
      a measured SC estimate of ``sum_m w_m x_m``, not the float expectation; inputs must be in
      [0, 1]. The weights are realised as integers summing to ``2**W``
      (:attr:`quantized_weights`); with Sobol each modality is selected exactly that often in
      every aligned ``2**W`` cycles.
    * Every modality must be declared, weighted and supplied with the same shape; the reference
      ignores unweighted modalities and falls back to equal weights for a zero total.
    * Accuracy (tested with Sobol streams, W = 8, L = 256 and 1024): ``|forward - sum_m w_m x_m|
      <= n_modalities / 2**W + 0.01``, the weights' quantisation plus the SC error.
    """

    def __init__(self, input_dims, fusion_weights=None, length=1024, *, seed=0, width=8,
                 source="sobol"):
        if source == "sobol":
            check_int("seed", seed, 0, MAX_DIM - 2)
            kw = {"sobol_dim": 1 + seed}
        else:
            check_int("seed", seed, 0, (1 << check_int("width", width, 3, 24)) - 1)
            kw = {"seed": seed or None}     # None: FusionParams' default dense start state
        super().__init__(input_dims, fusion_weights, length=length, width=width, source=source,
                         **kw)


def _quantised_rates(rates, width, max_rate):
    """``(integers, is_int)``: integer rates as they are (0..2**width-1), real rates in
    [0, max_rate] as ``min(floor(r / max_rate * 2**width + 1/2), 2**width - 1)``."""
    r = np.asarray(rates)
    if np.issubdtype(r.dtype, np.integer):
        return r.astype(np.int64), True
    r = r.astype(np.float64)
    if not np.all((r >= 0) & (r <= max_rate)):
        raise ParameterError(f"rates must be in [0, max_rate = {max_rate}] (or integer counts)")
    q = np.floor(r / max_rate * float(1 << width) + 0.5).astype(np.int64)
    return np.minimum(q, (1 << width) - 1), False


class WinnerTakeAll:
    """k-WTA with sc_neurocore's ``WinnerTakeAll`` call shape: ``apply(rates)``, ``winners``.

    Parameters
    ----------
    k : int
        Winners, 1..n (n is the length of the rates, 2..32).
    width : int
        Bits of the compared values (hardware comparators), 1..24.
    max_rate : float
        Real rates in [0, max_rate] are quantised to ``width`` bits before comparing.

    Notes
    -----
    Differences from sc_neurocore, forced by bit-exactness:

    * The ranking is the hardware's (:mod:`scfpga.model.wta`): on quantised values, **ties to
      the lower index**, exactly ``k`` winners. Integer rates (spike counts) are compared as
      they are; real rates are quantised (``width`` bits of ``[0, max_rate]``), so rates closer
      than ``max_rate / 2**width`` tie.
    * ``apply`` returns the input rates where they won and 0 elsewhere (the hardware returns the
      integer value); ``winners`` lists the winning indices best first. Both take a batch
      ``(batch, n)`` too. ``.params(n)`` is the :class:`~scfpga.model.wta.WTAParams` the RTL is
      generated from.
    """

    def __init__(self, k=1, *, width=8, max_rate=1.0):
        self.k = check_int("k", k, 1)
        self.width = check_int("width", width, 1, 24)
        self.max_rate = float(max_rate)
        if not (np.isfinite(self.max_rate) and self.max_rate > 0):
            raise ParameterError(f"max_rate must be a finite number > 0, got {max_rate}")

    def params(self, n):
        return WTAParams(n, self.k, self.width)

    def _prepare(self, rates):
        q, _ = _quantised_rates(rates, self.width, self.max_rate)
        if q.ndim not in (1, 2):
            raise ParameterError(f"rates must have shape (n,) or (batch, n), got {q.shape}")
        return self.params(q.shape[-1]), q

    def apply(self, rates):
        """The rates of the ``k`` winners, 0 elsewhere; shape of ``rates``."""
        p, q = self._prepare(rates)
        return np.asarray(rates) * wta_mask(p, q)

    def winners(self, rates):
        """Indices of the ``k`` winners, best first: shape (k,) or (batch, k)."""
        p, q = self._prepare(rates)
        return np.argsort(wta_rank(p, q), axis=-1)[..., :self.k]


class LateralInhibition:
    """Gaussian surround suppression with sc_neurocore's ``LateralInhibition`` shape: ``apply``.

    Parameters
    ----------
    n_neurons : int
        Neurons on the line, 2..64.
    radius : float
        Gaussian width in neurons, (0, 64]; the kernel reaches ``ceil(3 radius)`` neighbours.
    strength : float
        Inhibition weight of a neighbour at distance 0 of the Gaussian, [0, 1].
    width, frac : int
        Rate bits (1..24) and kernel fraction bits (0..16) of the hardware.
    max_rate : float
        Real rates in [0, max_rate] are quantised to ``width`` bits.

    Attributes
    ----------
    params : InhibitionParams

    Notes
    -----
    ``apply(rates)`` is ``max(0, r_i - sum_{j != i} strength exp(-(i-j)^2 / 2 radius^2) r_j)``
    computed in fixed point (:mod:`scfpga.model.inhibition`): the kernel is quantised once to
    ``frac`` bits, the surround sum is floored, lines do not wrap. Integer rates (spike counts)
    give integers exactly as the RTL does; real rates are quantised to ``width`` bits and the
    result returned in the rates' units (``q * max_rate / 2**width``). Batches ``(batch, n)``
    are accepted. :func:`scfpga.model.inhibition.inhibition_float` is the float reference.
    """

    def __init__(self, n_neurons, radius=2.0, strength=0.5, *, width=8, frac=8, max_rate=1.0):
        self.params = InhibitionParams.from_float(n_neurons, radius, strength, width, frac)
        self.n_neurons, self.radius, self.strength = n_neurons, float(radius), float(strength)
        self.max_rate = float(max_rate)
        if not (np.isfinite(self.max_rate) and self.max_rate > 0):
            raise ParameterError(f"max_rate must be a finite number > 0, got {max_rate}")

    def apply(self, rates):
        """Inhibited rates, shape of ``rates`` ((n,) or (batch, n))."""
        q, is_int = _quantised_rates(rates, self.params.width, self.max_rate)
        out = inhibition_apply(self.params, q)
        return out if is_int else out * (self.max_rate / (1 << self.params.width))


class StochasticAttention:
    """SC attention with sc_neurocore's ``StochasticAttention(dim_k)`` call shape.

    Parameters
    ----------
    dim_k : int
        Key width, 1..16 (the hardware's limit; ``forward`` and ``forward_softmax`` take any).
    temperature : float or None
        Softmax temperature of :meth:`forward_softmax` (``None``: ``sqrt(dim_k)``).
    width : int or None
        Comparator width W of :meth:`forward_bitstream`; ``None``: Sobol ``max(8, log2 L)``
        (a full Sobol period covers the run), LFSR 16 (runs much shorter than the period).
    seed : int
        Stream choice: Sobol dimensions ``1 + seed .. 3 + seed``; LFSR start state (0: the
        default dense state).

    Notes
    -----
    ``forward`` (row-sum normalised ``(Q K^T / rowsum) V``, 0 for an all-zero row) and
    ``forward_softmax`` are float, as in sc_neurocore; :meth:`forward_bitstream` is the bit-exact
    model of the generated RTL (:mod:`scfpga.model.attention`, op ``attention``) and differs:

    * ``use_sobol=False`` uses LFSR streams (three phases of one LFSR), not fresh Bernoulli draws:
      the result is deterministic and equal to the hardware's. Values are quantised to W bits.
    * Streams of one operand share one source (only independence *between* Q, K and V matters
      for the three-way AND products), so the RTL has three sources, not one per element.
    * Shapes are limited to 16 rows and columns per operand (the RTL is fully parallel); inputs
      outside [0, 1] raise. Batches ``(batch, rows, cols)`` are accepted.
    * Measured error against ``forward`` (``scripts/attention_error.py``): Sobol falls as ~1/L,
      LFSR as ~1/sqrt(L) (results/attention_error.md).
    """

    def __init__(self, dim_k, temperature=None, *, width=None, seed=0):
        self.dim_k = check_int("dim_k", dim_k, 1)
        self.temperature = float(np.sqrt(dim_k) if temperature is None else temperature)
        if not (np.isfinite(self.temperature) and self.temperature > 0):
            raise ParameterError(f"temperature must be a finite number > 0, got {temperature}")
        self.width, self.seed = width, check_int("seed", seed, 0)

    def _shapes(self, Q, K, V):
        Q, K, V = (np.asarray(a, np.float64) for a in (Q, K, V))
        if Q.shape[-1] != self.dim_k or K.shape[-1] != self.dim_k or \
                K.shape[-2] != V.shape[-2] or min(Q.ndim, K.ndim, V.ndim) < 2:
            raise ParameterError(f"Q (N, dim_k = {self.dim_k}), K (M, dim_k) and V (M, dim_v) "
                                 f"needed, got {Q.shape}, {K.shape}, {V.shape}")
        return Q, K, V

    def forward(self, Q, K, V):
        """Row-sum normalised attention (float), shape (N, dim_v)."""
        return attention_float(*self._shapes(Q, K, V))

    def forward_softmax(self, Q, K, V):
        """``softmax(Q K^T / temperature) V`` (float), shape (N, dim_v)."""
        return softmax_attention(*self._shapes(Q, K, V), self.temperature)

    def params(self, Q, K, V, length=1024, use_sobol=False):
        """The :class:`~scfpga.model.attention.AttentionParams` the RTL is generated from."""
        Q, K, V = self._shapes(Q, K, V)
        length = check_int("length", length, 1)
        width = self.width
        if width is None:
            width = max(8, (length - 1).bit_length()) if use_sobol else 16
        kw = {"sobol_dim": 1 + self.seed} if use_sobol else {"seed": self.seed or None}
        return AttentionParams(Q.shape[-2], K.shape[-2], self.dim_k, V.shape[-1], length,
                               width, "sobol" if use_sobol else "lfsr", **kw)

    def forward_bitstream(self, Q, K, V, length=1024, use_sobol=False):
        """AND-gate attention decoded as ``num / den``, shape (N, dim_v) (bit-exact RTL model)."""
        p = self.params(Q, K, V, length, use_sobol)
        return attention_bitstream(p, *quantize_qkv(p, *self._shapes(Q, K, V)))


class RallDendrite:
    """Compartmental dendrite with sc_neurocore's ``RallDendrite`` call shape: ``step``,
    ``branch_voltages``.

    Parameters
    ----------
    n_branches, branch_length : int
        1..16 each.
    tau, coupling, dt : float
        Membrane time constant and time step (ms, ``0 < dt <= tau``); coupling in [0, 1].
    diameters : sequence of float or None
        Branch diameters for the 3/2 power rule (default: equal, each branch weighs 1/n).
    width, input_width, shift, frac : int
        Fixed point of the hardware (:class:`~scfpga.model.dendrite.DendriteParams`).

    Attributes
    ----------
    params : DendriteParams

    Notes
    -----
    Every step is the bit-exact fixed-point model of the RTL (op ``dendrite``): voltages are
    integers in units of ``2**-frac`` (default 1/256) saturating at ``width`` bits (default
    +-128), inputs are rounded to that unit and must fit ``input_width`` bits (default
    |I| < 8); ``dt / tau``, ``coupling`` and the 3/2-rule weights are quantised to ``shift``
    bits (default 8). The update is synchronous (every compartment from the previous step's
    voltages); :func:`scfpga.model.dendrite.dendrite_float` is the float reference.
    ``step`` returns the somatic voltage as a float; a batch of inputs ``(batch, n_branches)``
    keeps one state per row (the first call fixes the batch shape; :meth:`reset` clears it).
    """

    def __init__(self, n_branches=4, branch_length=3, tau=10.0, coupling=0.3, dt=1.0, *,
                 diameters=None, width=16, input_width=12, shift=8, frac=8):
        self.params = DendriteParams.from_float(n_branches, branch_length, tau, coupling, dt,
                                                diameters, width, input_width, shift, frac)
        self.n_branches, self.branch_length = n_branches, branch_length
        self.tau, self.coupling, self.dt = float(tau), float(coupling), float(dt)
        self.reset()

    def reset(self):
        self._v = np.zeros((self.n_branches, self.branch_length), np.int64)

    @property
    def scale(self):
        return float(1 << self.params.frac)

    def step(self, branch_inputs):
        """Advance one step with ``branch_inputs`` (n_branches,) at the distal tips; return
        the somatic voltage (float; an array for a batch)."""
        x = np.asarray(branch_inputs, np.float64)
        if x.shape[-1:] != (self.n_branches,) or not np.isfinite(x).all():
            raise ParameterError(f"branch_inputs must be finite with shape (..., "
                                 f"{self.n_branches}), got {x.shape}")
        q = np.floor(x * self.scale + 0.5).astype(np.int64)
        lim = 1 << (self.params.input_width - 1)
        if q.min() < -lim or q.max() >= lim:
            raise ParameterError(f"branch_inputs must be in [{-lim / self.scale}, "
                                 f"{(lim - 1) / self.scale}] (input_width)")
        if self._v.shape[:-2] != q.shape[:-1]:
            self._v = np.broadcast_to(self._v, q.shape + (self.branch_length,)).copy()
        self._v = dendrite_step(self.params, self._v, q)
        s = dendrite_soma(self.params, self._v) / self.scale
        return float(s) if np.ndim(s) == 0 else s

    @property
    def branch_voltages(self):
        """Compartment voltages, shape (n_branches, branch_length) (distal first)."""
        return self._v / self.scale
