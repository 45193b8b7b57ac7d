"""Seeded hardware fault maps for weight memories, and memristive device non-idealities.

Two domains, one generator each, both deterministic functions of their seed:

* **Integer weight memories** (:class:`FaultMap`, used by the STDP layer :mod:`.stdp`). Every
  synapse's memory word has an AND mask, an OR mask and an additive offset. A stuck cell is a
  bit the memory cannot change: the word *stored* is always ``(w & and_mask) | or_mask``, at
  initialisation and on every write, so the hardware holds the mask in the weight memory's
  write path and the model applies the same expression at the same points. A synapse
  stuck-at-0 has ``and_mask = 0, or_mask = 0`` (every bit reads 0, the off device), stuck-at-1
  ``and_mask = 0, or_mask = 2**bits - 1`` (the fully-on device); single stuck bits are the
  general case. Variability is an integer offset per synapse added where the weight is *used*
  (the current of a neuron), ``clip(w + offset, 0, 2**bits - 1)``; learning updates the stored
  word, so a device's offset stays with it, as device-to-device variation does.
* **Real weights of fixed layers** (:class:`DefectMap`, used by the hardware-aware and
  memristive dense layers of :mod:`scfpga.learning_layers`). The defects are applied to the
  real weights before they are quantised into the layer's weight ROM, so the golden model and
  the generated RTL see the same corrupted integer weights by construction.

Memristive crossbar model (:class:`MemristiveDevice`): a weight in ``[0, 1]`` is the
conductance of one device between ``g_min`` and ``g_max``; programming reaches one of
``levels`` evenly spaced conductance levels; each device has a fixed gain error drawn once
(device-to-device variation, relative standard deviation ``d2d``), the programmed value gets
additive write noise (standard deviation ``variability`` of the weight range), and a fraction
``stuck_rate`` of devices is stuck fully off or fully on (half each). The defaults are the stuck
rate (1 %) and noise (0.05) that sc_neurocore's reference layer attributes to Prezioso et al.,
Nature 521:61-64 (2015); the 12x12 crossbar of that paper was tuned to a discrete set of
conductance states, which ``levels`` models (64 by default).
"""
from dataclasses import dataclass

import numpy as np

from .dense import DenseParams
from .params import ParameterError, check_int, check_seed


def _rate(name, value):
    value = float(value)
    if not (0.0 <= value <= 1.0):
        raise ParameterError(f"{name} must be in [0, 1], got {value}")
    return value


def _sigma(name, value):
    value = float(value)
    if not (np.isfinite(value) and value >= 0.0):
        raise ParameterError(f"{name} must be a finite number >= 0, got {value}")
    return value


def _table(a):
    """A 2-D integer array as a hashable tuple of tuples (frozen parameter objects)."""
    return tuple(tuple(int(x) for x in row) for row in np.asarray(a, np.int64))


# ------------------------------------------------------------------- integer weight memories

@dataclass(frozen=True)
class FaultMap:
    """Faults of a ``(n_neurons, n_inputs)`` memory of unsigned ``bits``-bit weights.

    Parameters
    ----------
    bits : int
        Weight width, 1..16.
    and_mask, or_mask : tuple of tuples of int
        Per synapse, what every stored word becomes: ``(w & and_mask) | or_mask``; each in
        ``0..2**bits - 1``. A bit clear in ``and_mask`` and set in ``or_mask`` is stuck at 1;
        clear in both, stuck at 0.
    offset : tuple of tuples of int
        Per synapse, added to the stored weight where it is used, ``-2**bits..2**bits``.
    """
    bits: int
    and_mask: tuple
    or_mask: tuple
    offset: tuple

    def __post_init__(self):
        check_int("bits", self.bits, 1, 16)
        top = (1 << self.bits) - 1
        shape = np.shape(self.and_mask)
        if len(shape) != 2 or np.shape(self.or_mask) != shape or np.shape(self.offset) != shape:
            raise ParameterError(f"and_mask, or_mask and offset must have one shape (neurons, "
                                 f"inputs), got {shape}, {np.shape(self.or_mask)}, "
                                 f"{np.shape(self.offset)}")
        for name in ("and_mask", "or_mask"):
            a = np.asarray(getattr(self, name))
            if a.size and (a.min() < 0 or a.max() > top):
                raise ParameterError(f"{name} must hold integers in 0..{top}")
        o = np.asarray(self.offset)
        if o.size and np.abs(o).max() > top + 1:
            raise ParameterError(f"offset must hold integers in {-top - 1}..{top + 1}")
        for name in ("and_mask", "or_mask", "offset"):
            object.__setattr__(self, name, _table(getattr(self, name)))

    @classmethod
    def none(cls, shape, bits):
        """No fault: every bit writable, no offset."""
        top = (1 << bits) - 1
        return cls(bits, np.full(shape, top), np.zeros(shape), np.zeros(shape))

    @property
    def shape(self):
        return np.shape(self.and_mask)

    @property
    def arrays(self):
        """``(and_mask, or_mask, offset)`` as int64 arrays."""
        return tuple(np.asarray(getattr(self, k), np.int64) for k in ("and_mask", "or_mask", "offset"))

    @property
    def stuck(self):
        """Synapses whose every bit is stuck (bool (neurons, inputs))."""
        return np.asarray(self.and_mask) == 0

    @property
    def has_offset(self):
        return bool(np.any(np.asarray(self.offset)))

    @property
    def is_clean(self):
        and_m, or_m, off = self.arrays
        return bool((and_m == (1 << self.bits) - 1).all() and not or_m.any() and not off.any())

    def stored(self, w):
        """What the memory holds after writing ``w``: ``(w & and_mask) | or_mask``."""
        and_m, or_m, _ = self.arrays
        return (np.asarray(w, np.int64) & and_m) | or_m

    def effective(self, w):
        """The weight a neuron integrates: ``clip(w + offset, 0, 2**bits - 1)``."""
        return np.clip(np.asarray(w, np.int64) + self.arrays[2], 0, (1 << self.bits) - 1)


def stuck_at_map(shape, bits, rate, seed=0, p_one=0.5, bit_rate=0.0, sigma=0.0):
    """A seeded :class:`FaultMap`.

    Parameters
    ----------
    shape : (int, int)
        ``(n_neurons, n_inputs)``.
    bits : int
        Weight width.
    rate : float
        Fraction of synapses stuck as a whole, [0, 1]; each is stuck-at-1 with probability
        ``p_one``, else stuck-at-0.
    seed : int
        Seed of :func:`numpy.random.default_rng`; draws in a fixed order (synapse faults, their
        polarity, bit faults, bit polarity, offsets), so a map depends on nothing else.
    bit_rate : float
        Probability of each bit of a not-stuck synapse being a stuck cell (polarity 50/50).
    sigma : float
        Standard deviation of the additive offset in units of the weight's LSB (rounded).
    """
    check_seed("seed", seed)
    rate, p_one, bit_rate = _rate("rate", rate), _rate("p_one", p_one), _rate("bit_rate", bit_rate)
    sigma = _sigma("sigma", sigma)
    rng = np.random.default_rng(seed)
    top = (1 << bits) - 1
    whole = rng.random(shape) < rate
    one = rng.random(shape) < p_one
    bit_stuck = (rng.random(shape + (bits,)) < bit_rate) & ~whole[..., None]
    bit_one = rng.random(shape + (bits,)) < 0.5
    weights = 1 << np.arange(bits, dtype=np.int64)
    and_mask = top - (bit_stuck * weights).sum(-1)
    or_mask = ((bit_stuck & bit_one) * weights).sum(-1)
    and_mask = np.where(whole, 0, and_mask)
    or_mask = np.where(whole, np.where(one, top, 0), or_mask)
    offset = np.clip(np.rint(rng.normal(0.0, sigma, shape)) if sigma else np.zeros(shape),
                     -top - 1, top + 1)
    return FaultMap(bits, and_mask, or_mask, offset.astype(np.int64))


# ------------------------------------------------------------------------ real-valued layers

@dataclass(frozen=True)
class DefectMap:
    """Defects of a ``(n_neurons, n_inputs)`` array of real weights in ``[w_min, w_max]``.

    ``stuck`` (bool) marks synapses stuck at ``w_min`` (``stuck_high`` False: the off device)
    or ``w_max`` (True: fully on); ``noise`` is the additive variability each working synapse
    carries. :meth:`apply` is the whole rule.
    """
    stuck: np.ndarray
    stuck_high: np.ndarray
    noise: np.ndarray
    w_min: float = 0.0
    w_max: float = 1.0

    def apply(self, weights):
        """Effective weights: ``clip(w + noise)`` where working, the stuck level where stuck."""
        w = np.clip(np.asarray(weights, np.float64) + self.noise, self.w_min, self.w_max)
        return np.where(self.stuck, np.where(self.stuck_high, self.w_max, self.w_min), w)

    @property
    def rate(self):
        return float(np.mean(self.stuck))


def defect_map(shape, stuck_rate, variability, seed=0, w_min=0.0, w_max=1.0):
    """Seeded :class:`DefectMap`: each synapse stuck with probability ``stuck_rate`` (half at
    each end of the range), Gaussian noise of standard deviation ``variability`` (in weight
    units) on the others. Draw order: stuck, polarity, noise."""
    check_seed("seed", seed)
    stuck_rate, variability = _rate("stuck_rate", stuck_rate), _sigma("variability", variability)
    rng = np.random.default_rng(seed)
    stuck = rng.random(shape) < stuck_rate
    high = rng.random(shape) < 0.5
    noise = rng.normal(0.0, variability, shape) if variability else np.zeros(shape)
    return DefectMap(stuck, high, np.where(stuck, 0.0, noise), float(w_min), float(w_max))


@dataclass(frozen=True)
class MemristiveDevice:
    """A memristor crossbar's non-idealities (module docstring).

    Parameters
    ----------
    levels : int
        Programmable conductance levels, 2..4096.
    d2d : float
        Device-to-device relative gain variation (standard deviation), >= 0.
    variability : float
        Additive programming noise, standard deviation in weight units, >= 0.
    stuck_rate : float
        Fraction of devices stuck off or on, [0, 1].
    """
    levels: int = 64
    d2d: float = 0.05
    variability: float = 0.05
    stuck_rate: float = 0.01

    def __post_init__(self):
        check_int("levels", self.levels, 2, 4096)
        _sigma("d2d", self.d2d)
        _sigma("variability", self.variability)
        _rate("stuck_rate", self.stuck_rate)

    def program(self, weights, seed=0):
        """Weights in [0, 1] as the crossbar holds them: level quantisation, gain error, write
        noise, stuck devices (draws: gain, noise, stuck, polarity, from ``seed``)."""
        check_seed("seed", seed)
        w = np.clip(np.asarray(weights, np.float64), 0.0, 1.0)
        rng = np.random.default_rng(seed)
        step = self.levels - 1
        g = np.floor(w * step + 0.5) / step
        g = g * (1.0 + rng.normal(0.0, self.d2d, w.shape)) if self.d2d else g
        g = g + rng.normal(0.0, self.variability, w.shape) if self.variability else g
        g = np.clip(g, 0.0, 1.0)
        stuck = rng.random(w.shape) < self.stuck_rate
        high = rng.random(w.shape) < 0.5
        return np.where(stuck, high.astype(np.float64), g), stuck


# ------------------------------------------------- dense layers with defects (CLI ops)

_DENSE_OPTIONS = (
    ("--inputs", "n_inputs", int, 16, "inputs, 1..1022"),
    ("--neurons", "n_neurons", int, 4, "neurons, 1..4096"),
    ("--length", "length", int, 256, "bitstream length L per run"),
    ("--width", "width", int, 8, "comparator width W, 1..16"),
    ("--weight-seed", "weight_seed", int, 1, "seed of the random weights in [0, 1]"),
    ("--seed", "seed", int, 42, "seed of the defects"),
    ("--stuck-rate", "stuck_rate", float, 0.05, "fraction of stuck synapses, [0, 1]"),
    ("--variability", "variability", float, 0.02, "additive weight noise (standard deviation)"),
)
HARDWARE_AWARE_OPTIONS = _DENSE_OPTIONS
MEMRISTIVE_OPTIONS = tuple(o if o[1] not in ("stuck_rate", "variability") else
                           (o[0], o[1], o[2], {"stuck_rate": 0.01, "variability": 0.05}[o[1]], o[4])
                           for o in _DENSE_OPTIONS) + (
    ("--levels", "levels", int, 64, "programmable conductance levels, 2..4096"),
    ("--d2d", "d2d", float, 0.05, "device-to-device relative gain variation"),
)


def _dense(v, weights):
    return DenseParams.from_float(weights, None, v["width"], length=v["length"])


def _random_weights(v):
    for name in ("n_inputs", "n_neurons"):
        check_int(name, v[name], 1)
    check_seed("weight_seed", v["weight_seed"])
    return np.random.default_rng(v["weight_seed"]).random((v["n_neurons"], v["n_inputs"]))


def hardware_aware_from_options(v):
    """A dense layer whose random weights carry a :func:`defect_map` (folded into its ROM)."""
    w = _random_weights(v)
    return _dense(v, defect_map(w.shape, v["stuck_rate"], v["variability"], v["seed"]).apply(w))


def memristive_from_options(v):
    """A dense layer whose random weights went through a :class:`MemristiveDevice`."""
    w = _random_weights(v)
    device = MemristiveDevice(v["levels"], v["d2d"], v["variability"], v["stuck_rate"])
    return _dense(v, device.program(w, v["seed"])[0])
