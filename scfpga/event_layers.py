"""brainstate's event-driven operators under their own names and call shapes, on scfpga's model.

``EventLinear``, ``EventFixedProb``, ``FixedNumConn`` and ``EventFixedNumConn`` each translate
their arguments once into an :class:`~scfpga.model.event.EventParams` (``.params``: the CSR
synapses the hardware, :class:`scfpga.hdl.event.EventSynapses`, is generated from) and return
what the golden model computes for it.

* **Spikes.** The event ops take boolean spikes or numbers that are all 0 or 1, shape
  ``(..., n_pre)``; anything else is a :class:`~scfpga.model.ParameterError`.
  ``FixedNumConn`` (not event-driven) also takes real-valued inputs.
* **Weights are integers in hardware.** Real weights are quantised once with a shared
  power-of-two scale (:func:`scfpga.model.event.quantize_weights`): ``frac`` is the largest
  value in 0..30 for which ``floor(w * 2**frac + 1/2)`` fits ``weight_bits`` signed bits
  (default 24); the output is the integer sum times ``2**-frac``, exactly ``spikes @ Wq`` for
  the quantised matrix ``Wq = .weight`` (and within ``2**-(frac+1)`` per active synapse of the
  real product).
* **Seeded connectivity.** ``EventFixedProb`` and ``FixedNumConn`` draw their synapses from
  :func:`scfpga.model.event.connectivity` with ``seed`` (default 0): the same seed gives the
  same synapses in every process and in the hardware. Only real synapses are stored.
"""
import numpy as np

from .model.event import (connectivity, dense_weight, event_apply, event_cycles,
                          from_connections, from_dense, memory_bits, quantize_weights)
from .model.params import ParameterError, check_int

DEFAULT_WEIGHT_BITS = 24

__all__ = ["EventLinear", "EventFixedProb", "FixedNumConn", "EventFixedNumConn"]


class _EventOp:
    """Shared front end: ``params`` (integer CSR synapses) and ``frac`` (weight fraction bits)."""
    params = None
    frac = 0

    def __call__(self, spikes):
        """Float outputs ``(..., n_post)`` of a spike vector or raster (rows of active inputs
        only)."""
        return event_apply(self.params, spikes) * 2.0 ** -self.frac

    def integer(self, spikes):
        """The integer sums the hardware's accumulators show (units ``2**-frac``)."""
        return event_apply(self.params, spikes)

    def cycles(self, spikes):
        """Hardware clocks per step for these spikes (a line in the active inputs)."""
        return event_cycles(self.params, spikes)

    @property
    def weight(self):
        """The quantised weights as a dense ``(n_pre, n_post)`` float matrix (for checking)."""
        return dense_weight(self.params) * 2.0 ** -self.frac

    @property
    def n_synapses(self):
        return self.params.n_synapses

    @property
    def memory_bits(self):
        return memory_bits(self.params)


class EventLinear(_EventOp):
    """Event-driven dense connectivity: ``spikes @ weight`` from the rows of active inputs.

    Parameters
    ----------
    n_pre, n_post : int
        Inputs and outputs 1..4096.
    weight : array (n_pre, n_post)
        Real weights (quantised, see the module docstring); zeros are not stored.
    weight_bits : int
        Signed bits of a stored weight, 2..32.
    """

    def __init__(self, n_pre, n_post, weight, weight_bits=DEFAULT_WEIGHT_BITS):
        w = np.asarray(weight, np.float64)
        if w.shape != (n_pre, n_post):
            raise ParameterError(f"weight must have shape (n_pre, n_post) = ({n_pre}, {n_post}), "
                                 f"got {w.shape}")
        q, self.frac = quantize_weights(w, weight_bits)
        self.params = from_dense(q, weight_bits)
        self.n_pre, self.n_post = n_pre, n_post


def _synapse_weights(conn_weight, n, weight_bits):
    """Quantised weights of ``n`` synapses from a scalar, an array of ``n`` (CSR order) or a
    callable ``f(n) -> array``."""
    w = conn_weight(n) if callable(conn_weight) else conn_weight
    w = np.asarray(w, np.float64)
    if w.ndim and w.shape != (n,):
        raise ParameterError(f"conn_weight must be a scalar or one value per synapse ({n}), "
                             f"got shape {w.shape}")
    return quantize_weights(w, weight_bits)


class _Random(_EventOp):
    rule = None

    def __init__(self, n_pre, n_post, conn_num, conn_weight, seed=None,
                 weight_bits=DEFAULT_WEIGHT_BITS):
        self.n_pre, self.n_post = n_pre, n_post
        self.seed = 0 if seed is None else seed
        self.conn_num = self._count(conn_num, n_pre)
        pre, post = connectivity(n_pre, n_post, self.conn_num, self.seed, self.rule)
        q, self.frac = _synapse_weights(conn_weight, len(pre), weight_bits)
        self.params = from_connections(n_pre, n_post, pre, post, q, weight_bits)

    @staticmethod
    def _count(conn_num, n_pre):
        return conn_num


class EventFixedProb(_Random):
    """Sparse random connectivity: each pair ``(pre, post)`` is a synapse with probability
    ``conn_num``, drawn from ``seed``; ``conn_weight`` a scalar, one value per synapse or a
    callable ``f(n_synapses)``."""
    rule = "prob"


class FixedNumConn(_Random):
    """A fixed fan-in: every output receives exactly ``conn_num`` distinct inputs (an int, or a
    float in [0, 1) meaning ``floor(conn_num * n_pre + 1/2)`` inputs), drawn from ``seed``.

    Called on real-valued inputs it returns ``x @ Wq`` (a sparse product over the stored
    synapses); on spikes this equals :class:`EventFixedNumConn` bit for bit.
    """
    rule = "num"

    @staticmethod
    def _count(conn_num, n_pre):
        if isinstance(conn_num, (float, np.floating)) and 0 <= conn_num < 1:
            return int(np.floor(conn_num * n_pre + 0.5))
        return check_int("conn_num", conn_num, 0, n_pre)

    def __call__(self, x):
        x = np.asarray(x)
        if x.dtype == bool or (np.issubdtype(x.dtype, np.number) and np.isin(x, (0, 1)).all()):
            return super().__call__(x)
        x = np.asarray(x, np.float64)
        if x.ndim < 1 or x.shape[-1] != self.n_pre or not np.isfinite(x).all():
            raise ParameterError(f"x must be finite numbers of shape (..., {self.n_pre}), "
                                 f"got {x.shape}")
        p = self.params
        pre = np.repeat(np.arange(p.n_pre), p.row_lengths)
        flat = x.reshape(-1, p.n_pre)
        target = (np.arange(len(flat))[:, None] * p.n_post + np.asarray(p.post)).ravel()
        out = np.bincount(target, (flat[:, pre] * np.asarray(p.weight, np.float64)).ravel(),
                          len(flat) * p.n_post)
        return out.reshape(x.shape[:-1] + (p.n_post,)) * 2.0 ** -self.frac


class EventFixedNumConn(FixedNumConn):
    """:class:`FixedNumConn` for spike inputs only (the event-driven form)."""

    def __call__(self, spikes):
        return _EventOp.__call__(self, spikes)
