"""A recurrent layer of a network: its input includes its own spikes, one SC cycle later.

A :class:`RecurrentLayer` is a dense SC layer (:class:`.network.DenseLayer`) whose synapse
columns are the previous layer's neurons followed by its own neurons (and the bias). Semantics,
shared by the hardware (:mod:`scfpga.hdl.network`, which feeds the layer's committed spike
vector back into its own sweep), in the network's time convention (:mod:`.network`):

* the input bits of SC cycle ``k`` are ``a(k) = [x(k), z(k)]``: ``x(k)`` the previous layer's
  spikes of cycle ``k``, ``z(k)`` the layer's *own* spikes of cycle ``k`` (the ones its update
  with the current of cycle ``k - 1`` decided; 0 in cycle 0);
* ``I_j(k) = sum_t sign_jt (a_t(k) AND [S(k) < Q_jt])`` over all columns, with ``S`` the
  layer's weight source, exactly as a dense layer's (``accumulation = "exact"``:
  ``sum_t q_jt a_t(k)``, the integer weights);
* the update with ``I(k)`` decides the spike of cycle ``k + 1``: so a spike reaches its own
  layer's current one SC cycle after it is shown, the recurrent edge's one-cycle delay.

The model therefore steps cycle by cycle (a time loop vectorised over batch and neurons); a
dense layer needs no such loop because its input does not depend on its output.
"""
from dataclasses import dataclass

import numpy as np

from . import neuron as neurons
from .conv import is_exact
from .dense import quantize_weights
from .network import DenseLayer
from .params import ParameterError


@dataclass(frozen=True)
class RecurrentLayer(DenseLayer):
    """A dense layer with a recurrent edge (module docstring).

    ``weights`` is ``(neurons, inputs + neurons)``: the input columns first, then the
    recurrent columns (column ``inputs + i`` is neuron ``i``'s own previous spike). Other
    fields as :class:`.network.DenseLayer`; build with :func:`recurrent_layer`.
    """

    def __post_init__(self):
        super().__post_init__()
        if len(self.weights[0]) <= self.n_neurons:
            raise ParameterError(f"weights must have inputs + neurons columns (at least "
                                 f"{self.n_neurons + 1}), got {len(self.weights[0])}")

    @property
    def n_inputs(self):
        """Inputs from the previous layer (the recurrent columns are not counted)."""
        return len(self.weights[0]) - len(self.weights)

    @property
    def n_terms(self):
        """Swept columns per neuron: inputs, own neurons and the bias."""
        return len(self.weights[0]) + (self.bias is not None)

    @property
    def input_weights(self):
        return np.array(self.weights, np.int64)[:, :self.n_inputs]

    @property
    def recurrent_weights(self):
        return np.array(self.weights, np.int64)[:, self.n_inputs:]

    def describe(self):
        return f"recurrent {self.n_inputs}->{self.n_neurons}"

    def run_in_network(self, bits, source_values):
        """``(currents, spikes)`` for input bits ``(batch, n_inputs, T)`` and the layer's
        weight source values ``(T,)``: one cycle at a time (the input includes the spikes)."""
        bits = np.asarray(bits, np.uint8)
        B, _, T = bits.shape
        q = self.signed_terms
        mag, sign = np.abs(q), np.sign(q).astype(np.float64)
        exact = q.astype(np.float64) if is_exact(self) else None   # integer weight per spike
        n, N = self.n_inputs, self.n_neurons
        a = np.zeros((B, q.shape[1]), np.float64)
        if self.bias is not None:
            a[:, -1] = 1.0                                # the bias input is always 1
        cur = np.empty((B, N, T), np.int64)
        spikes = np.zeros((B, N, T), np.uint8)
        state = neurons.init_state(self.neuron, (B, N))
        for k in range(T):
            a[:, :n] = bits[:, :, k]
            a[:, n:n + N] = spikes[:, :, k]
            on = exact if exact is not None else \
                np.where(np.asarray(source_values)[k] < mag, sign, 0.0)
            cur[:, :, k] = (a @ on.T).astype(np.int64)        # integers below 2**53: exact
            if k + 1 < T:
                state, fire = neurons.step(self.neuron, state, cur[:, :, k])
                spikes[:, :, k + 1] = fire
        return cur, spikes


def recurrent_layer(input_weights, recurrent_weights, width, bias=None, neuron=None, lanes=1,
                    fold=1, accumulation="sc"):
    """A :class:`RecurrentLayer` from real weights in [-1, 1]: ``input_weights`` (neurons,
    inputs), ``recurrent_weights`` (neurons, neurons), ``bias`` (neurons,) or None, quantised
    sign-magnitude at ``width`` (:func:`.dense.quantize_weights`)."""
    w_in = np.asarray(input_weights, np.float64)
    w_rec = np.asarray(recurrent_weights, np.float64)
    if w_in.ndim != 2 or w_rec.shape != (len(w_in), len(w_in)):
        raise ParameterError(f"recurrent_weights must have shape (neurons, neurons) = "
                             f"({len(w_in)}, {len(w_in)}), got {w_rec.shape}")
    q = quantize_weights(np.concatenate([w_in, w_rec], axis=1), width)
    qb = None if bias is None else quantize_weights(np.ravel(bias), width)
    kw = {} if neuron is None else {"neuron": neuron}
    return RecurrentLayer(q, qb, lanes=lanes, fold=fold, accumulation=accumulation, **kw)


def scaled_recurrent(rng, n, spectral_radius):
    """Uniform ``(n, n)`` weights in [-1, 1] scaled to ``spectral_radius`` (clipped to
    [-1, 1]): the reservoir rule of :mod:`.recurrent` for random spec layers."""
    w = rng.uniform(-1, 1, (n, n))
    rho = float(np.abs(np.linalg.eigvals(w)).max())
    if not (np.isfinite(spectral_radius) and spectral_radius >= 0):
        raise ParameterError(f"spectral_radius must be a finite number >= 0, got "
                             f"{spectral_radius!r}")
    return np.clip(w * (spectral_radius / rho if rho > 0 else 1.0), -1, 1)
