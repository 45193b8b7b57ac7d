"""The neuron interface every layer of a network uses, whatever the neuron type.

A neuron type is a frozen parameter class registered on two functions here (and on
:func:`scfpga.hdl.neuron.step_core` for the hardware):

* :func:`state_fields` -> ``((name, bits, signed), ...)``: the state one neuron keeps between
  SC cycles. A folded layer stores exactly these bits per neuron in block RAM.
* :func:`step` ``(params, state, current) -> (state, fire)``: one SC cycle for arrays of neurons
  (any shape), ``state`` a dict of int64 arrays, ``current`` the cycle's integer input current.

Time convention (the same for every type and in hardware): the neuron shows ``spike = 0`` during
cycle 0; the update with the current of cycle ``k`` decides ``spike`` during cycle ``k + 1``. The
last cycle's update reaches no spike of a run and is not made (its current still counts in the
layer's score).
"""
from functools import singledispatch

import numpy as np

from .lif import LIFParams, lif_step
from .params import ParameterError


@singledispatch
def state_fields(params):
    """``((name, bits, signed), ...)`` of one neuron of type ``params``."""
    raise ParameterError(f"{type(params).__name__} is not a neuron type")


@singledispatch
def step(params, state, current):
    """``(state, fire)`` after one SC cycle with integer ``current`` (vectorised)."""
    raise ParameterError(f"{type(params).__name__} is not a neuron type")


def init_state(params, shape):
    """The reset state: every field 0."""
    return {name: np.zeros(shape, np.int64) for name, _, _ in state_fields(params)}


def run(params, currents):
    """Run neurons on currents ``(..., T)``: spikes ``(..., T)`` uint8 and the final state.

    The time loop is the one sequential part; each step is vectorised over every neuron and
    sample at once.
    """
    currents = np.asarray(currents, dtype=np.int64)
    spikes = np.zeros(currents.shape, np.uint8)
    state = init_state(params, currents.shape[:-1])
    for k in range(currents.shape[-1] - 1):
        state, fire = step(params, state, currents[..., k])
        spikes[..., k + 1] = fire
    return spikes, state


def threshold_of(params):
    """The firing threshold in current units (for reports and quantisation)."""
    return params.threshold


# ---------------------------------------------------------------------------- LIF

@state_fields.register
def _(params: LIFParams):
    fields = [("v", params.width, True)]
    if params.refractory:
        fields.append(("r", params.refractory.bit_length(), False))
    return tuple(fields)


@step.register
def _(params: LIFParams, state, current):
    r = state.get("r", 0)
    v, r, fire = lif_step(params, state["v"], r, current)
    new = {"v": v}
    if params.refractory:
        new["r"] = r
    return new, fire


def lif_neuron(width=16, threshold=None, leak_shift=0, reset="subtract", refractory=0):
    """A :class:`.lif.LIFParams` as a layer's neuron (its own input weights unused)."""
    return LIFParams(width=width, n_inputs=1, weights=(1,), threshold=threshold,
                     leak_shift=leak_shift, reset=reset, refractory=refractory)


def create_neuron(neuron_type, **float_params):
    """A neuron of the zoo from its float parameters: :func:`.neuron_types.create_neuron`."""
    from .neuron_types import create_neuron as make
    return make(neuron_type, **float_params)
