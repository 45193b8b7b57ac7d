"""Compiled fast paths of :func:`.neuron.run` for the leaky and IF types of :mod:`.neuron_types`.

Each runs :func:`.kernels.fixed_kernel`, the type's update rule (``_update_leaky``,
``_update_if``) written as a scalar loop; tests hold it to the NumPy rule bit for bit.
"""
import numpy as np

from .kernels import fixed_kernel, lif_vector
from .lif import LIFParams
from .neuron import fast_run
from .neuron_types import IFParams, LeakyParams

_RESETS = {"subtract": 0, "zero": 1, "none": 2}


def _coef(p, kind):
    q_beta = p.q_beta if kind == 0 else 0
    q_bias = p.q_bias if kind == 0 else 0
    return np.array([kind, q_beta, p.q_in, q_bias, p.half, p.coef_bits, p.v_min, p.v_max,
                     p.q_threshold, _RESETS[p.reset_mechanism], p.q_v_reset], np.int64)


def _run(p, currents, kind):
    cur = np.ascontiguousarray(currents, np.int64).reshape(-1, currents.shape[-1])
    spikes = np.zeros(cur.shape, np.uint8)
    v = np.zeros(len(cur), np.int64)
    if cur.size:
        fixed_kernel(cur, _coef(p, kind), spikes, v)
    return spikes.reshape(currents.shape), {"v": v.reshape(currents.shape[:-1])}


@fast_run.register
def _(p: LeakyParams, currents):
    return _run(p, currents, 0)


@fast_run.register
def _(p: IFParams, currents):
    return _run(p, currents, 1)


def kernel_neuron(p, max_current=None):
    """``(kind, par)`` of neuron parameters ``p`` for :func:`.kernels.layer_run`, or None when
    the type has no compiled update there; ``max_current`` bounds one cycle's current (an LIF
    then may run on int32 state, :func:`.kernels.lif_vector`)."""
    if isinstance(p, LIFParams):
        return 0, lif_vector(p, max_current)
    if isinstance(p, LeakyParams):
        return 1, _coef(p, 0)
    if isinstance(p, IFParams):
        return 2, _coef(p, 1)
    return None
