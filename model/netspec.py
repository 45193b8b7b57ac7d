"""Network specs: a TOML (or JSON) file, or a dict, to a :class:`.network.NetworkParams`.

::

    inputs = 16            # encoder inputs (values in [0, 1])
    length = 256           # SC cycles per run
    source = "sobol"       # or "lfsr"
    width = 8              # comparator width W (default 8)
    seed = 0               # stream seed (default 0)
    weight_seed = 1        # seed of random weights (layers without weights)

    [[layers]]
    type = "dense"
    neurons = 8
    weights = "w1.npy"     # (neurons, inputs) in [-1, 1], relative to the spec; omitted: seeded
                           # uniform random; a nested list also works (design files)
    bias = "b1.npy"        # optional, (neurons,) in [-1, 1]
    neuron = {type = "lif", threshold = 1, leak_shift = 0}   # optional; default: IF, threshold 1
    lanes = 1              # optional, hardware synapse columns per clock
    fold = 1               # optional, neurons per accumulator

Every error names the layer and the key, and says what is allowed.
"""
import json
import tomllib
from pathlib import Path

import numpy as np

from .dense import quantize_weights
from .network import DenseLayer, NetworkParams
from .neuron import make_neuron, neuron_spec
from .params import ParameterError

TOP_KEYS = {"inputs": "number of inputs", "length": "SC cycles per run",
            "source": "sobol or lfsr", "width": "comparator width", "seed": "stream seed",
            "lfsr_width": "LFSR register width", "weight_seed": "seed of random weights",
            "layers": "the [[layers]] list", "design": "'network' (design files)"}
LAYER_KEYS = ("type", "neurons", "weights", "bias", "neuron", "lanes", "fold")
LAYER_TYPES = ("dense",)


def _array(value, base, what):
    """A float array from a .npy path (relative to ``base``) or a nested list."""
    if isinstance(value, str):
        path = Path(value) if base is None else Path(base) / value
        try:
            a = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as e:
            raise ParameterError(f"{what} must be a readable .npy file, got {str(path)!r} "
                                 f"({e})") from None
    else:
        try:
            a = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise ParameterError(f"{what} must be a .npy path or a list of numbers") from None
    if not np.issubdtype(a.dtype, np.number):
        raise ParameterError(f"{what} must hold numbers, got dtype {a.dtype}")
    return a.astype(np.float64)


def _int(spec, key, where, default):
    value = spec.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParameterError(f"{where}{key} must be an integer, got {value!r}")
    return value


def network_from_spec(spec, base=None):
    """A :class:`NetworkParams` from a parsed spec (``base``: directory of relative paths)."""
    if not isinstance(spec, dict):
        raise ParameterError("a network spec must be a table of keys")
    unknown = sorted(set(spec) - set(TOP_KEYS))
    if unknown:
        raise ParameterError(f"unknown key {unknown[0]!r} (allowed: {', '.join(TOP_KEYS)})")
    if "inputs" not in spec:
        raise ParameterError("inputs must be given (the number of network inputs)")
    layers = spec.get("layers")
    if not isinstance(layers, list) or not layers or not all(isinstance(x, dict) for x in layers):
        raise ParameterError("layers must be a non-empty list of [[layers]] tables")
    width = _int(spec, "width", "", 8)
    fan_in = _int(spec, "inputs", "", None)
    rng_seed = _int(spec, "weight_seed", "", 1)
    built = []
    for l, layer in enumerate(layers):
        where = f"layer {l + 1}: "
        try:
            built.append(_layer(layer, l, fan_in, width, base, rng_seed))
        except ParameterError as e:
            msg = str(e)
            raise ParameterError(msg if msg.startswith(where) else where + msg) from None
        fan_in = built[-1].n_neurons
    kwargs = {k: spec[k] for k in ("length", "source", "seed", "lfsr_width") if k in spec}
    return NetworkParams(spec["inputs"], tuple(built), width, **kwargs)


def _layer(layer, index, fan_in, width, base, rng_seed):
    unknown = sorted(set(layer) - set(LAYER_KEYS))
    if unknown:
        raise ParameterError(f"unknown key {unknown[0]!r} (allowed: {', '.join(LAYER_KEYS)})")
    kind = layer.get("type", "dense")
    if kind not in LAYER_TYPES:
        raise ParameterError(f"type must be one of {', '.join(LAYER_TYPES)}, got {kind!r}")
    if "weights" in layer:
        w = _array(layer["weights"], base, "weights")
        n = layer.get("neurons", w.shape[0] if w.ndim == 2 else None)
        if w.ndim != 2 or w.shape != (n, fan_in):
            raise ParameterError(f"weights must have shape (neurons, inputs) = ({n}, {fan_in}), "
                                 f"got {w.shape}")
    else:
        if "neurons" not in layer:
            raise ParameterError("neurons must be given when weights are not")
        n = _int(layer, "neurons", "", None)
        if n < 1:
            raise ParameterError(f"neurons must be >= 1, got {n}")
        w = np.random.default_rng([rng_seed, index]).uniform(-1, 1, (n, fan_in))
    bias = None
    if layer.get("bias") is not None:
        bias = _array(layer["bias"], base, "bias").ravel()
        if bias.shape != (w.shape[0],):
            raise ParameterError(f"bias must have one value per neuron ({w.shape[0]}), "
                                 f"got shape {bias.shape}")
    neuron = layer.get("neuron", {})
    if not isinstance(neuron, dict):
        raise ParameterError("neuron must be a table such as {type = \"lif\", threshold = 1}")
    if not (np.all(np.isfinite(w)) and np.abs(w).max() <= 1):
        raise ParameterError("weights must be reals in [-1, 1]")
    if bias is not None and not (np.all(np.isfinite(bias)) and np.abs(bias).max() <= 1):
        raise ParameterError("bias must be reals in [-1, 1]")
    q = quantize_weights(w, width)
    qb = None if bias is None else quantize_weights(bias, width)
    return DenseLayer(q, qb, make_neuron(neuron), _int(layer, "lanes", "", 1),
                      _int(layer, "fold", "", 1))


def load_network(path):
    """A :class:`NetworkParams` from a ``.toml`` or ``.json`` network spec file."""
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"network spec {path} does not exist")
    if path.suffix not in (".toml", ".json"):
        raise ParameterError(f"network spec must end in .toml or .json, got {path.name}")
    try:
        text = path.read_text()
        spec = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise ParameterError(f"network spec {path} is not valid {path.suffix[1:]}: {e}") from None
    try:
        return network_from_spec(spec, path.parent)
    except ParameterError as e:
        raise ParameterError(f"{path.name}: {e}") from None


def network_to_spec(params):
    """A self-contained spec dict (weights inline) that :func:`network_from_spec` reads back
    to exactly ``params`` (real weights ``q / 2**width`` quantise back to ``q``)."""
    top = float(1 << params.width)
    layers = []
    for layer in params.layers:
        entry = {"type": "dense", "neurons": layer.n_neurons,
                 "weights": (np.array(layer.weights) / top).tolist(),
                 "neuron": neuron_spec(layer.neuron), "lanes": layer.lanes, "fold": layer.fold}
        if layer.bias is not None:
            entry["bias"] = (np.array(layer.bias) / top).tolist()
        layers.append(entry)
    return {"inputs": params.n_inputs, "length": params.length, "source": params.source,
            "width": params.width, "seed": params.seed, "lfsr_width": params.lfsr_width,
            "layers": layers}
