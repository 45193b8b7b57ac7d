"""Leaky integrate-and-fire neuron in signed fixed point, fed by bitstreams.

State: membrane ``v`` (signed, ``width`` bits), refractory counter ``r``. On each enabled edge,
with input current ``I = sum_i weights[i] * in[i]`` from the input bits of that cycle:

* if ``r > 0``: ``r -= 1`` and nothing else changes (inputs are ignored while refractory);
* else ``u = v - (v >> leak_shift) + I`` (arithmetic shift, so the leak rounds towards -inf;
  ``leak_shift = 0`` means no leak; a positive ``v`` below ``2**leak_shift`` no longer leaks,
  a negative one leaks up to 0), clamped to ``[-2**(width-1), 2**(width-1) - 1]`` (the
  neuron saturates, it never wraps around); if ``u >= threshold`` the neuron fires: ``v``
  becomes ``u - threshold`` (reset "subtract") or 0 (reset "zero") and ``r = refractory``;
  otherwise ``v = u``.

``spike`` is a register: it is 1 during cycle k+1 when the edge closing cycle k fired. After
reset ``v = 0``, ``r = 0``, ``spike = 0``.
"""
from dataclasses import dataclass

import numpy as np

from .kernels import lif_kernel, lif_vector
from .params import ParameterError, check_choice, check_int, signed_range

RESET_MODES = ("subtract", "zero")
MAX_INPUTS = 64


@dataclass(frozen=True)
class LIFParams:
    """A fixed-point LIF neuron.

    Parameters
    ----------
    width : int
        Membrane width in bits (signed), 4..32.
    n_inputs : int
        Number of input bitstreams, 1..64.
    weights : tuple of int or None
        Current added per input spike, each in ``-2**(width-1)..2**(width-1)-1``;
        ``None`` gives every input ``2**(width-4)``.
    threshold : int or None
        Firing threshold, 1..2**(width-1)-1; ``None`` gives ``2**(width-2)``.
    leak_shift : int or None
        Leak ``v >> leak_shift`` per cycle, 0..width-1 (0: no leak); ``None`` gives
        ``min(4, width - 1)``.
    reset : str
        ``"subtract"`` (keep the overshoot) or ``"zero"``.
    refractory : int
        Cycles the neuron ignores its inputs after a spike, 0..255.
    """
    width: int = 16
    n_inputs: int = 1
    weights: tuple | None = None
    threshold: int | None = None
    leak_shift: int | None = None
    reset: str = "subtract"
    refractory: int = 0

    def __post_init__(self):
        check_int("width", self.width, 4, 32)
        check_int("n_inputs", self.n_inputs, 1, MAX_INPUTS)
        if self.weights is None:
            object.__setattr__(self, "weights", (1 << (self.width - 4),) * self.n_inputs)
        w = tuple(self.weights)
        if len(w) != self.n_inputs:
            raise ParameterError(f"weights must have n_inputs = {self.n_inputs} entries, got {len(w)}")
        lo, hi = self.v_min, self.v_max
        object.__setattr__(self, "weights", tuple(check_int("weights", x, lo, hi) for x in w))
        if self.threshold is None:
            object.__setattr__(self, "threshold", 1 << (self.width - 2))
        check_int("threshold", self.threshold, 1, hi)
        if self.leak_shift is None:
            object.__setattr__(self, "leak_shift", min(4, self.width - 1))
        check_int("leak_shift", self.leak_shift, 0, self.width - 1)
        check_choice("reset", self.reset, RESET_MODES)
        check_int("refractory", self.refractory, 0, 255)

    @property
    def v_min(self):
        return signed_range(self.width)[0]

    @property
    def v_max(self):
        return signed_range(self.width)[1]


def lif_run(params: LIFParams, currents):
    """Run neurons on integer input currents.

    Parameters
    ----------
    currents : array (..., T) of int
        The current of each cycle; the leading axes are independent neurons (any shape).

    Returns
    -------
    spikes : uint8 array (..., T)
        ``spike`` during cycles ``0..T-1``.
    v : int64 array (..., T)
        Membrane potential during cycles ``0..T-1``.

    The time loop is the one sequential part of the model: it runs compiled
    (:func:`.kernels.lif_kernel`), one pass per neuron, each step exactly :func:`lif_step`.
    """
    currents = np.ascontiguousarray(currents, dtype=np.int64)
    flat = currents.reshape(-1, currents.shape[-1])
    spikes = np.zeros(flat.shape, np.uint8)
    vs = np.zeros(flat.shape, np.int64)
    if flat.size:
        last = np.empty((2, len(flat)), np.int64)
        lif_kernel(flat, lif_vector(params), spikes, vs, True, last[0], last[1])
    return spikes.reshape(currents.shape), vs.reshape(currents.shape)


def lif_step(params: LIFParams, v, r, current):
    """One enabled edge for arrays of neurons: ``(v, r, fire)`` after integrating ``current``.

    The one statement of the update rule (module docstring); :func:`lif_run` and the network
    model (:mod:`.neuron`) step with it.
    """
    thr, s = params.threshold, params.leak_shift
    leak = (v >> s) if s else 0
    u = np.clip(v - leak + current, params.v_min, params.v_max)
    active = r == 0
    fire = active & (u >= thr)
    after = (u - thr) if params.reset == "subtract" else 0
    v = np.where(active, np.where(fire, after, u), v)
    r = np.where(fire, params.refractory, np.where(active, r, r - 1))
    return v, r, fire


def lif_currents(params: LIFParams, bits):
    """Input current per cycle from input bits of shape (..., n_inputs, T)."""
    bits = np.asarray(bits, dtype=np.int64)
    if bits.shape[-2] != params.n_inputs:
        raise ParameterError(f"bits must have {params.n_inputs} input streams, got {bits.shape[-2]}")
    return np.einsum("i,...it->...t", np.asarray(params.weights, np.int64), bits)


def lif_spikes(params: LIFParams, bits):
    """``spike`` during cycles ``0..T-1`` for input bits of shape (..., n_inputs, T)."""
    return lif_run(params, lif_currents(params, bits))[0]
