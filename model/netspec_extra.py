"""Spec tables of the event-driven and recurrent network layers and of the WTA readout
(read and written by :mod:`.netspec`, which holds the file format)::

    [[layers]]
    type = "event"         # address events into exact integer CSR synapses (.event_layer)
    neurons = 8
    conn = "prob"          # "prob": each pair with probability conn_num; "num": conn_num
    conn_num = 0.3         # inputs per neuron; "dense": weights (neurons, inputs) integers
    conn_weight = 2        # the integer weight of every synapse (prob and num)
    seed = 0               # connectivity seed (SplitMix64, the same in model and hardware)
    weight_width = 8       # optional, signed bits of a stored weight
    # neuron as for dense

    [[layers]]
    type = "recurrent"     # a dense layer whose inputs include its own spikes (.recurrent_layer)
    neurons = 8
    weights = "w.npy"      # optional, (neurons, inputs) in [-1, 1]; omitted: seeded uniform
    recurrent_weights = "r.npy"   # optional, (neurons, neurons) in [-1, 1]; omitted: seeded
    spectral_radius = 0.9  #   uniform scaled to this spectral radius
    # bias, neuron, lanes, fold, accumulation as for dense

    [readout]              # optional: k-WTA over the output layer (.readout)
    type = "wta"
    k = 1
    over = "counts"        # or "scores"
"""
import numpy as np

from .event_layer import EventLayer, event_layer
from .params import ParameterError
from .readout import WTAReadout
from .recurrent_layer import RecurrentLayer, recurrent_layer, scaled_recurrent

EVENT_KEYS = ("type", "neurons", "conn", "conn_num", "conn_weight", "weights", "seed",
              "weight_width", "neuron")
RECURRENT_KEYS = ("type", "neurons", "weights", "recurrent_weights", "spectral_radius", "bias",
                  "neuron", "lanes", "fold", "accumulation")
READOUT_KEYS = ("type", "k", "over")


def _int(table, key, default):
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParameterError(f"{key} must be an integer, got {value!r}")
    return value


def event_from_spec(layer, fan_in, array, neuron):
    """An :class:`EventLayer` from its table; ``array(key)`` loads a float array."""
    conn = layer.get("conn", "prob")
    if conn == "dense":
        if "weights" not in layer:
            raise ParameterError("weights must be given with conn = \"dense\"")
        w = array("weights")
        n = _int(layer, "neurons", w.shape[0] if w.ndim == 2 else 0)
    else:
        if "weights" in layer:
            raise ParameterError("weights are for conn = \"dense\"; prob and num take "
                                 "conn_weight")
        if "neurons" not in layer:
            raise ParameterError("neurons must be given")
        n, w = _int(layer, "neurons", None), None
    if n < 1:
        raise ParameterError(f"neurons must be >= 1, got {n}")
    conn_num = layer.get("conn_num", 0.5 if conn == "prob" else 1)
    return event_layer(fan_in, n, conn, conn_num, layer.get("conn_weight", 1),
                       _int(layer, "seed", 0), w, _int(layer, "weight_width", 8), neuron)


def weights_from_spec(layer, fan_in, array, rng):
    """``(neurons, weights)`` of a dense or recurrent layer's table: its ``weights``
    (neurons, inputs) as given, or without them reals uniform in [-1, 1] from ``rng`` for
    its ``neurons``."""
    if "weights" in layer:
        w = array("weights")
        n = layer.get("neurons", w.shape[0] if w.ndim == 2 else None)
        if w.ndim != 2 or w.shape != (n, fan_in):
            raise ParameterError(f"weights must have shape (neurons, inputs) = ({n}, {fan_in}), "
                                 f"got {w.shape}")
        return n, w
    if "neurons" not in layer:
        raise ParameterError("neurons must be given when weights are not")
    n = _int(layer, "neurons", None)
    if n < 1:
        raise ParameterError(f"neurons must be >= 1, got {n}")
    return n, rng.uniform(-1, 1, (n, fan_in))


def recurrent_from_spec(layer, index, fan_in, width, array, neuron, rng_seed):
    """A :class:`RecurrentLayer` from its table (random weights seeded like a dense layer's)."""
    rng = np.random.default_rng([rng_seed, index])
    n, w = weights_from_spec(layer, fan_in, array, rng)
    if "recurrent_weights" in layer:
        r = array("recurrent_weights")
    else:
        rho = layer.get("spectral_radius", 0.9)
        if isinstance(rho, bool) or not isinstance(rho, (int, float)):
            raise ParameterError(f"spectral_radius must be a number, got {rho!r}")
        r = scaled_recurrent(rng, n, float(rho))
    bias = None if layer.get("bias") is None else array("bias").ravel()
    if bias is not None and bias.shape != (n,):
        raise ParameterError(f"bias must have one value per neuron ({n}), got shape {bias.shape}")
    for name, a in (("weights", w), ("recurrent_weights", r), ("bias", bias)):
        if a is not None and not (np.all(np.isfinite(a)) and np.abs(a).max() <= 1):
            raise ParameterError(f"{name} must be reals in [-1, 1]")
    return recurrent_layer(w, r, width, bias, neuron, _int(layer, "lanes", 1),
                           _int(layer, "fold", 1), layer.get("accumulation", "sc"))


def readout_from_spec(table):
    if not isinstance(table, dict):
        raise ParameterError("readout must be a table such as {type = \"wta\", k = 1}")
    unknown = sorted(set(table) - set(READOUT_KEYS))
    if unknown:
        raise ParameterError(f"readout: unknown key {unknown[0]!r} (allowed: "
                             f"{', '.join(READOUT_KEYS)})")
    if table.get("type", "wta") != "wta":
        raise ParameterError(f"readout type must be wta, got {table.get('type')!r}")
    return WTAReadout(_int(table, "k", 1), table.get("over", "counts"))


def layer_to_spec(layer, width, neuron_spec):
    """The spec table of an event or recurrent layer, or None for any other layer."""
    top = float(1 << width)
    if isinstance(layer, EventLayer):
        return {"type": "event", "neurons": layer.n_neurons, "conn": "dense",
                "weights": layer.weight.T.tolist(),
                "weight_width": layer.synapses.weight_width,
                "neuron": neuron_spec(layer.neuron)}
    if isinstance(layer, RecurrentLayer):
        entry = {"type": "recurrent", "neurons": layer.n_neurons,
                 "weights": (layer.input_weights / top).tolist(),
                 "recurrent_weights": (layer.recurrent_weights / top).tolist(),
                 "neuron": neuron_spec(layer.neuron), "lanes": layer.lanes, "fold": layer.fold}
        if layer.bias is not None:
            entry["bias"] = (np.array(layer.bias) / top).tolist()
        if layer.accumulation != "sc":
            entry["accumulation"] = layer.accumulation
        return entry
    return None


def readout_to_spec(readout):
    return {"type": "wta", "k": readout.k, "over": readout.over}


__all__ = ["EVENT_KEYS", "RECURRENT_KEYS", "event_from_spec", "recurrent_from_spec",
           "readout_from_spec", "layer_to_spec", "readout_to_spec"]
