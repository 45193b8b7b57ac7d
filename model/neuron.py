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
from dataclasses import fields
from functools import singledispatch

import numpy as np

from .kernels import lif_kernel, lif_kernel_cycles, lif_vector
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

    The time loop is the one sequential part. Types with a compiled fast path
    (:func:`fast_run`: LIF here, leaky and IF in :mod:`.neuron_fast`) run one compiled pass per
    neuron; any other type steps with :func:`step`, each step vectorised over every neuron and
    sample at once. Both give the same bits (tested).
    """
    currents = np.asarray(currents, dtype=np.int64)
    fast = fast_run(params, currents)
    if fast is not None:
        return fast
    spikes = np.zeros(currents.shape, np.uint8)
    state = init_state(params, currents.shape[:-1])
    for k in range(currents.shape[-1] - 1):
        state, fire = step(params, state, currents[..., k])
        spikes[..., k + 1] = fire
    return spikes, state


_NO_V = np.zeros((0, 0), np.int64)


@singledispatch
def fast_run(params, currents):
    """``(spikes, state)`` of :func:`run` from a compiled kernel, or None (no fast path)."""
    return None


@fast_run.register
def _(params: LIFParams, currents):
    if currents.ndim == 3 and currents.transpose(0, 2, 1).flags.c_contiguous:
        # Cycle-major currents (a network layer's): neurons of a cycle side by side.
        cyc = currents.transpose(0, 2, 1)
        spikes = np.zeros(cyc.shape, np.uint8)
        last = np.zeros((2, len(cyc), cyc.shape[2]), np.int64)
        lif_kernel_cycles(cyc, lif_vector(params), spikes, last[0], last[1])
        state = {"v": last[0]}
        if params.refractory:
            state["r"] = last[1]
        return spikes.transpose(0, 2, 1), state
    cur = np.ascontiguousarray(currents).reshape(-1, currents.shape[-1])
    spikes = np.zeros(cur.shape, np.uint8)
    last = np.zeros((2, len(cur)), np.int64)
    if cur.size:
        lif_kernel(cur, lif_vector(params), spikes, _NO_V, False, last[0], last[1])
    shape = currents.shape[:-1]
    state = {"v": last[0].reshape(shape)}
    if params.refractory:
        state["r"] = last[1].reshape(shape)
    return spikes.reshape(currents.shape), state


# ---------------------------------------------------------------------------- names
# Spec name -> (parameter class, constructor from keyword values). Network specs say
# ``neuron = {type = NAME, ...}``; register a type with :func:`register_neuron`.
NEURON_TYPES = {}


def register_neuron(name, params_type, make=None):
    """Let specs name ``params_type`` as ``name``; ``make(**values)`` builds it (default: the
    class itself)."""
    NEURON_TYPES[name] = (params_type, make or params_type)


def make_neuron(spec):
    """Neuron parameters from a spec table ``{type = NAME, field = value, ...}``."""
    spec = dict(spec)
    name = spec.pop("type", "lif")
    if name not in NEURON_TYPES:
        raise ParameterError(f"neuron type must be one of {', '.join(NEURON_TYPES)}, got {name!r}")
    params_type, make = NEURON_TYPES[name]
    allowed = [f.name for f in fields(params_type) if f.name not in _HIDDEN.get(params_type, ())]
    unknown = sorted(set(spec) - set(allowed))
    if unknown:
        raise ParameterError(f"neuron: unknown key {unknown[0]!r} for type {name!r} "
                             f"(allowed: type, {', '.join(allowed)})")
    try:
        return make(**spec)
    except ParameterError as e:
        raise ParameterError(f"neuron: {e}") from None
    except TypeError as e:
        raise ParameterError(f"neuron: {e}") from None


def neuron_spec(params):
    """The spec table of a neuron (:func:`make_neuron` reads it back)."""
    for name, (params_type, _) in NEURON_TYPES.items():
        if type(params) is params_type:
            hidden = _HIDDEN.get(params_type, ())
            return {"type": name, **{f.name: getattr(params, f.name) for f in fields(params)
                                     if f.name not in hidden}}
    raise ParameterError(f"{type(params).__name__} is not a registered neuron type")


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


def lif_neuron(width=16, threshold=1, leak_shift=0, reset="subtract", refractory=0):
    """A :class:`.lif.LIFParams` as a layer's neuron (its own input weights unused); the
    defaults are a non-leaky integrate-and-fire neuron with threshold 1."""
    return LIFParams(width=width, n_inputs=1, weights=(1,), threshold=threshold,
                     leak_shift=leak_shift, reset=reset, refractory=refractory)


_HIDDEN = {LIFParams: ("n_inputs", "weights")}    # fields a layer's neuron does not use
register_neuron("lif", LIFParams, lif_neuron)

