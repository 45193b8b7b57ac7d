"""sc_neurocore's learning and defect layers under their own names and call shapes.

* :class:`SCLearningLayer` — dense layer with online STDP, run epoch by epoch; a front end of
  :class:`scfpga.model.stdp.STDPLayer`, whose RTL (:mod:`scfpga.hdl.stdp`) holds the same
  weights after every epoch.
* :class:`HardwareAwareSCLayer` — dense SC layer with stuck-at faults and weight variability;
  ``update_weights`` leaves stuck synapses alone, so training learns around them.
* :class:`MemristiveDenseLayer` — dense SC layer whose weights pass through a memristor
  crossbar model (:class:`scfpga.model.faults.MemristiveDevice`).

The last two realise their defective weights as a :class:`~scfpga.model.dense.DenseParams`
(``.params``): the defects are folded into the integer weights of the layer's ROM, so the
golden model and the generated hardware compute with the same corrupted weights.
"""
import numpy as np

from .model.dense import MAX_INPUTS, MAX_NEURONS, DenseParams, SCDenseLayer as DenseModel
from .model.faults import MemristiveDevice, defect_map
from .model.params import ParameterError, check_int, check_seed
from .model.stdp import STDPLayer, STDPParams, quantize_rates


def _dense(weights, length, seed, width, source):
    params = DenseParams.from_float(weights, None, width, length=length, source=source, seed=seed)
    return params, DenseModel(params)


class SCLearningLayer:
    """Dense layer with integrated pair-based STDP (sc_neurocore's ``SCLearningLayer``).

    Parameters
    ----------
    n_inputs, n_neurons : int
        1..64 inputs, 1..16 neurons.
    w_min, w_max : float
        Real weight range; weights are ``weight_bits``-bit codes ``0..2**B - 1`` spread over it.
    learning_rate : float
        Weight change of one fully causal pairing, as a fraction of the range: the
        potentiation amplitude ``a_plus = round(learning_rate * (2**B - 1))``, 1..15 codes.
    ltd_ratio : float
        Depression amplitude relative to potentiation: ``a_minus = round(a_plus * ltd_ratio)``.
    length : int
        Time steps of one epoch, 1..4096.
    base_seed : int or None
        Seeds the initial weights and the input encoder (``None``: 0).
    **kw
        Any other :class:`~scfpga.model.stdp.STDPParams` field (``weight_bits``, ``threshold``,
        ``stochastic``, ``faults``, ...).

    Notes
    -----
    Differences from sc_neurocore, forced by bit-exactness: the reference draws a new random
    bit per weight and per update from a global generator; here every random number comes from
    the seeded LFSR/Sobol sources the hardware has, so an epoch is a pure function of the
    weights and inputs. Weights are integers; learning follows the trace rule of
    :mod:`scfpga.model.stdp` (potentiation by the pre trace on a post spike, depression by the
    post trace on a pre spike) rather than the reference's coincidence rule.
    """

    def __init__(self, n_inputs, n_neurons, w_min=0.0, w_max=1.0, learning_rate=0.01,
                 ltd_ratio=0.5, length=1024, base_seed=None, **kw):
        self.w_min, self.w_max = float(w_min), float(w_max)
        if not (np.isfinite(self.w_min) and np.isfinite(self.w_max) and self.w_min < self.w_max):
            raise ParameterError(f"w_min must be finite and < w_max, got [{w_min}, {w_max}]")
        seed = 0 if base_seed is None else check_seed("base_seed", base_seed)
        bits = kw.pop("weight_bits", 8)
        top = (1 << check_int("weight_bits", bits, 2, 12)) - 1
        if not (0 < float(learning_rate) <= 1):
            raise ParameterError(f"learning_rate must be in (0, 1], got {learning_rate}")
        if not (0 <= float(ltd_ratio) <= 15):
            raise ParameterError(f"ltd_ratio must be in [0, 15], got {ltd_ratio}")
        a_plus = int(min(15, max(1, round(learning_rate * top))))
        a_minus = int(min(15, round(a_plus * ltd_ratio)))
        kw.setdefault("seed", 1 + seed % 65535)
        kw.setdefault("weight_seed", seed)
        self.params = STDPParams(n_inputs=n_inputs, n_neurons=n_neurons, length=length,
                                 weight_bits=bits, a_plus=a_plus, a_minus=a_minus, **kw)
        self.model = STDPLayer(self.params)
        self.n_inputs, self.n_neurons, self.length = n_inputs, n_neurons, length

    def run_epoch(self, input_values):
        """One epoch of ``length`` steps on inputs in [0, 1]; returns the spikes
        (n_neurons, length) uint8. The weights keep what the epoch learned."""
        x = np.asarray(input_values, np.float64)
        if x.shape != (self.n_inputs,):
            raise ParameterError(f"input_values must have shape ({self.n_inputs},), got {x.shape}")
        epoch = self.model.run_epoch(quantize_rates(self.params, x))
        return epoch.spikes.T.copy()

    @property
    def weight_codes(self):
        """The weight memory (integers), what the hardware reads back."""
        return self.model.weights.copy()

    def get_weights(self):
        """The weights as reals in [w_min, w_max] (n_neurons, n_inputs)."""
        top = (1 << self.params.weight_bits) - 1
        return self.w_min + self.model.weights / top * (self.w_max - self.w_min)


class HardwareAwareSCLayer:
    """SC layer with stuck-at faults and weight variability (sc_neurocore's
    ``HardwareAwareSCLayer``).

    Parameters
    ----------
    n_inputs, n_neurons : int
        Layer size.
    length : int
        Bitstream length of the SC layer.
    stuck_rate : float
        Fraction of synapses stuck at 0 or at 1 (half each), [0, 1].
    variability : float
        Standard deviation of each working synapse's additive weight offset.
    seed : int
        Seeds the defect map (:func:`scfpga.model.faults.defect_map`) and the initial weights.
    weights : array or None
        Initial programmed weights in [0, 1] (default: uniform from ``seed``).
    width, source
        The SC layer's comparator width and stream source (:class:`DenseParams`).

    Notes
    -----
    Differences from sc_neurocore: the variability is a fixed offset of each device, added to
    the programmed weight whenever the layer is realised, rather than new noise added to the
    stored weights at every update (which would accumulate); the programmed weights
    (:attr:`programmed`) are kept apart from the effective ones (:attr:`weights`).
    :attr:`params` is the dense layer with the effective weights quantised to ``width`` bits,
    what the golden model and the RTL compute with.
    """

    def __init__(self, n_inputs, n_neurons, length=1024, stuck_rate=0.05, variability=0.02,
                 seed=42, *, weights=None, width=8, source="sobol"):
        shape = (check_int("n_neurons", n_neurons, 1, MAX_NEURONS),
                 check_int("n_inputs", n_inputs, 1, MAX_INPUTS))
        self.n_inputs, self.n_neurons = shape[1], shape[0]
        self.length, self.width, self.source = length, width, source
        self.stuck_rate, self.variability, self.seed = stuck_rate, variability, seed
        self.defects = defect_map(shape, stuck_rate, variability, seed)
        if weights is None:
            weights = np.random.default_rng(check_seed("seed", seed) + 1).uniform(0, 1, shape)
        w = np.asarray(weights, np.float64)
        if w.shape != shape or not np.all((w >= 0) & (w <= 1)):
            raise ParameterError(f"weights must be in [0, 1] with shape {shape}")
        self.programmed = w.copy()
        self._realise()

    def _realise(self):
        self._params, self._model = None, None

    @property
    def stuck_mask(self):
        return self.defects.stuck

    @property
    def stuck_values(self):
        return self.defects.stuck_high.astype(np.float64)

    @property
    def weights(self):
        """The defect-affected weights (n_neurons, n_inputs)."""
        return self.defects.apply(self.programmed)

    @property
    def params(self):
        if self._params is None:
            self._params, self._model = _dense(self.weights, self.length, 0, self.width,
                                               self.source)
        return self._params

    @property
    def model(self):
        """The golden model of :attr:`params` (built on first use after an update)."""
        _ = self.params
        return self._model

    def forward(self, input_values):
        """Firing rates of the SC layer in [0, 1] (:meth:`VectorizedSCLayer.forward`)."""
        return self.model.forward(input_values)

    def estimate(self, input_values):
        """Decoded SC dot products ``W_eff x``."""
        return self.model.estimate(input_values)

    def update_weights(self, gradient, lr=0.01):
        """``w -= lr * gradient`` on every working synapse, clipped to [0, 1]; stuck synapses
        get no update (the network learns around them)."""
        g = np.asarray(gradient, np.float64)
        if g.shape != self.programmed.shape:
            raise ParameterError(f"gradient must have shape {self.programmed.shape}, got {g.shape}")
        g = np.where(self.stuck_mask, 0.0, g)
        self.programmed = np.clip(self.programmed - lr * g, 0.0, 1.0)
        self._realise()

    @property
    def n_stuck(self):
        return int(self.stuck_mask.sum())

    @property
    def stuck_fraction(self):
        return float(self.stuck_mask.mean())


class MemristiveDenseLayer:
    """Dense SC layer on a memristor crossbar with non-idealities (sc_neurocore's
    ``MemristiveDenseLayer``; the defaults follow the Prezioso et al. 2015 numbers the
    reference uses: 1 % stuck devices, 0.05 noise).

    Parameters
    ----------
    n_inputs, n_neurons, length, weights, seed, width, source
        As :class:`scfpga.layers.VectorizedSCLayer` (weights in [0, 1]).
    stuck_rate, variability : float
        Stuck devices and programming noise.
    levels, d2d
        Conductance levels and device-to-device gain variation (:class:`MemristiveDevice`).
    defect_seed : int or None
        Seed of the defects (default: ``seed``).

    The defects are applied once on construction (:meth:`apply_hardware_defects`, which can
    be called again to program the ideal weights anew with fresh defects of ``defect_seed +
    calls``); :attr:`params` holds the corrupted weights quantised for the RTL.
    """

    def __init__(self, n_inputs, n_neurons, length=1024, *, weights=None, seed=0,
                 stuck_rate=0.01, variability=0.05, levels=64, d2d=0.05, defect_seed=None,
                 width=8, source="sobol"):
        shape = (check_int("n_neurons", n_neurons, 1, MAX_NEURONS),
                 check_int("n_inputs", n_inputs, 1, MAX_INPUTS))
        if weights is None:
            weights = np.random.default_rng(check_seed("seed", seed)).uniform(0, 1, shape)
        self.ideal = np.asarray(weights, np.float64)
        if self.ideal.shape != shape or not np.all((self.ideal >= 0) & (self.ideal <= 1)):
            raise ParameterError(f"weights must be in [0, 1] with shape {shape}")
        self.device = MemristiveDevice(levels, d2d, variability, stuck_rate)
        self.n_inputs, self.n_neurons, self.length = shape[1], shape[0], length
        self.stuck_rate, self.variability = stuck_rate, variability
        self._seed, self._width, self._source = seed, width, source
        self._defect_seed = check_seed("defect_seed", seed if defect_seed is None else defect_seed)
        self._calls = 0
        self.apply_hardware_defects()

    def apply_hardware_defects(self):
        """Program the ideal weights into the crossbar model: levels, gain error, noise,
        stuck devices; rebuilds :attr:`params`."""
        self.weights, self.stuck = self.device.program(self.ideal, self._defect_seed + self._calls)
        self._calls += 1
        self.params, self.model = _dense(self.weights, self.length, self._seed % 1023,
                                         self._width, self._source)

    def forward(self, input_values):
        return self.model.forward(input_values)

    def estimate(self, input_values):
        return self.model.estimate(input_values)
