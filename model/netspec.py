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
    accumulation = "sc"    # optional: "exact" adds the integer weight per input spike (no stream)

Image networks (:mod:`.conv`; maps are HWC vectors): ``input_shape = [C, H, W]`` instead of (or
beside) ``inputs``, and the layer types::

    [[layers]]
    type = "conv2d"
    out_channels = 8
    kernel_size = 3        # or [kh, kw]
    stride = 1             # optional
    padding = 1            # optional
    in_channels = 1        # optional: checked against the input map
    height = 8             # with width: only where the input is flat (no input_shape, or after
    width = 8              # a dense layer)
    weights = "k.npy"      # (out, in, kh, kw) in [-1, 1]; omitted: seeded uniform random
    bias = "kb.npy"        # optional, (out,)
    # neuron, lanes (kernel taps per clock), fold (out channels per accumulator, divides them),
    # accumulation ("sc" or "exact", as dense)
    # temporal = {chunk = 4, leak_shift = 0, frac_bits = 0}: TAC mode (scfpga.model.conv_tac;
    # exact accumulation; the layer and every later one run at T / chunk steps)

    [[layers]]
    type = "maxpool2d"     # or "avgpool2d"; kernel_size, stride (default kernel_size), padding,
    kernel_size = 2        # lanes

    [[layers]]
    type = "flatten"       # no keys: the map becomes a vector (HWC order; no hardware)

Event-driven and recurrent layers, and the WTA readout: :mod:`.netspec_extra`.

Every error names the layer and the key, and says what is allowed.
"""
import json
import tomllib
from pathlib import Path

import numpy as np

from .dense import quantize_weights
from .conv import ConvLayer, PoolLayer
from .conv_tac import TACConvLayer, TACParams
from .network import DenseLayer, NetworkParams
from .netspec_extra import (EVENT_KEYS, RECURRENT_KEYS, event_from_spec, layer_to_spec,
                            readout_from_spec, readout_to_spec, recurrent_from_spec,
                            weights_from_spec)
from .neuron import make_neuron, neuron_spec
from .params import ParameterError

TOP_KEYS = {"inputs": "number of inputs", "length": "SC cycles per run",
            "source": "sobol or lfsr", "width": "comparator width", "seed": "stream seed",
            "lfsr_width": "LFSR register width", "weight_seed": "seed of random weights",
            "layers": "the [[layers]] list", "design": "'network' (design files)",
            "input_shape": "[channels, height, width] of an image input",
            "encoding": "rate or raster (hardware input)",
            "weight_memory": "rom, ram or spram (hardware weight store)",
            "readout": "{type = \"wta\", k, over} after the output layer"}
LAYER_KEYS = ("type", "neurons", "weights", "bias", "neuron", "lanes", "fold", "accumulation")
CONV_KEYS = ("type", "in_channels", "out_channels", "kernel_size", "stride", "padding", "height",
             "width", "weights", "bias", "neuron", "lanes", "fold", "accumulation", "temporal")
POOL_KEYS = ("type", "kernel_size", "stride", "padding", "lanes", "in_channels", "height",
             "width")
KEYS = {"dense": LAYER_KEYS, "conv2d": CONV_KEYS, "maxpool2d": POOL_KEYS,
        "avgpool2d": POOL_KEYS, "flatten": ("type",), "event": EVENT_KEYS,
        "recurrent": RECURRENT_KEYS}
LAYER_TYPES = tuple(KEYS)


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
    shape = None
    if "input_shape" in spec:
        shape = spec["input_shape"]
        if not (isinstance(shape, list) and len(shape) == 3 and
                all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in shape)):
            raise ParameterError(f"input_shape must be [channels, height, width] of positive "
                                 f"integers, got {shape!r}")
        shape = tuple(shape)
        if spec.get("inputs", int(np.prod(shape))) != int(np.prod(shape)):
            raise ParameterError(f"inputs must be {int(np.prod(shape))} (the size of "
                                 f"input_shape), got {spec['inputs']!r}")
    elif "inputs" not in spec:
        raise ParameterError("inputs must be given (the number of network inputs)")
    layers = spec.get("layers")
    if not isinstance(layers, list) or not layers or not all(isinstance(x, dict) for x in layers):
        raise ParameterError("layers must be a non-empty list of [[layers]] tables")
    width = _int(spec, "width", "", 8)
    fan_in = int(np.prod(shape)) if shape else _int(spec, "inputs", "", None)
    rng_seed = _int(spec, "weight_seed", "", 1)
    built, map_shape = [], shape
    for l, layer in enumerate(layers):
        where = f"layer {l + 1}: "
        try:
            made = _layer(layer, l, fan_in, map_shape, width, base, rng_seed)
        except ParameterError as e:
            msg = str(e)
            raise ParameterError(msg if msg.startswith(where) else where + msg) from None
        if made is None:                      # flatten: the same vector, no longer a map
            map_shape = None
            continue
        built.append(made)
        fan_in = made.n_neurons
        map_shape = made.out_shape if len(made.out_shape) == 3 else None
    if not built:
        raise ParameterError("layers must hold at least one layer besides flatten")
    kwargs = {k: spec[k] for k in ("length", "source", "seed", "lfsr_width", "encoding",
                                   "weight_memory") if k in spec}
    if "readout" in spec:
        kwargs["readout"] = readout_from_spec(spec["readout"])
    n_in = int(np.prod(shape)) if shape else spec["inputs"]
    return NetworkParams(n_in, tuple(built), width, input_shape=shape, **kwargs)


def _window_shape(layer, fan_in, map_shape, kind):
    """The input map (C, H, W) of a conv or pool layer: the previous map, or the flat input
    viewed through the layer's ``in_channels``/``height``/``width``."""
    given = {k: _int(layer, k, "", None) for k in ("in_channels", "height", "width")
             if k in layer}
    if map_shape is not None:
        for k, v in zip(("in_channels", "height", "width"), map_shape):
            if k in given and given[k] != v:
                raise ParameterError(f"{k} must be {v} (the input map is "
                                     f"{'x'.join(map(str, map_shape))}), got {given[k]}")
        return map_shape
    if "height" not in given or "width" not in given:
        raise ParameterError(f"height and width must be given: the input of this {kind} layer is "
                             f"a flat vector of {fan_in} (or give input_shape)")
    h, w = given["height"], given["width"]
    c = given.get("in_channels", fan_in // max(1, h * w))
    if c * h * w != fan_in:
        raise ParameterError(f"in_channels x height x width must be the {fan_in} inputs, got "
                             f"{c}x{h}x{w}")
    return (c, h, w)


def _neuron(layer):
    neuron = layer.get("neuron", {})
    if not isinstance(neuron, dict):
        raise ParameterError("neuron must be a table such as {type = \"lif\", threshold = 1}")
    return make_neuron(neuron)


def _layer(layer, index, fan_in, map_shape, width, base, rng_seed):
    kind = layer.get("type", "dense")
    if kind not in LAYER_TYPES:
        raise ParameterError(f"type must be one of {', '.join(LAYER_TYPES)}, got {kind!r}")
    keys = KEYS[kind]
    unknown = sorted(set(layer) - set(keys))
    if unknown:
        raise ParameterError(f"unknown key {unknown[0]!r} (allowed for {kind}: "
                             f"{', '.join(keys)})")
    if kind == "flatten":
        return None
    if kind in ("maxpool2d", "avgpool2d"):
        in_shape = _window_shape(layer, fan_in, map_shape, kind)
        k = layer.get("kernel_size", 2)
        return PoolLayer(kind[:3], in_shape, k, layer["stride"] if "stride" in layer else None,
                         _int(layer, "padding", "", 0), _int(layer, "lanes", "", 1))
    if kind == "conv2d":
        return _conv(layer, index, fan_in, map_shape, width, base, rng_seed)
    if kind == "event":
        return event_from_spec(layer, fan_in, lambda k: _array(layer[k], base, k),
                               _neuron(layer))
    if kind == "recurrent":
        return recurrent_from_spec(layer, index, fan_in, width,
                                   lambda k: _array(layer[k], base, k), _neuron(layer), rng_seed)
    _, w = weights_from_spec(layer, fan_in, lambda k: _array(layer[k], base, k),
                             np.random.default_rng([rng_seed, index]))
    bias = _bias(layer, base, w.shape[0], "neuron")
    neuron = _neuron(layer)
    q, qb = _quantize(w, bias, width)
    return DenseLayer(q, qb, neuron, _int(layer, "lanes", "", 1), _int(layer, "fold", "", 1),
                      layer.get("accumulation", "sc"))


def _bias(layer, base, n, per):
    """The layer's optional ``bias`` (one value ``per`` neuron or out channel), or None."""
    if layer.get("bias") is None:
        return None
    bias = _array(layer["bias"], base, "bias").ravel()
    if bias.shape != (n,):
        raise ParameterError(f"bias must have one value per {per} ({n}), got shape {bias.shape}")
    return bias


def _quantize(w, bias, width):
    if not (np.all(np.isfinite(w)) and np.abs(w).max() <= 1):
        raise ParameterError("weights must be reals in [-1, 1]")
    if bias is not None and not (np.all(np.isfinite(bias)) and np.abs(bias).max() <= 1):
        raise ParameterError("bias must be reals in [-1, 1]")
    return quantize_weights(w, width), None if bias is None else quantize_weights(bias, width)


def _conv(layer, index, fan_in, map_shape, width, base, rng_seed):
    in_shape = _window_shape(layer, fan_in, map_shape, "conv2d")
    c = in_shape[0]
    if "weights" in layer:
        w = _array(layer["weights"], base, "weights")
        o = layer.get("out_channels", w.shape[0] if w.ndim == 4 else None)
        if w.ndim != 4 or w.shape[:2] != (o, c) or \
                ("kernel_size" in layer and w.shape[2:] != _pair(layer["kernel_size"])):
            raise ParameterError(f"weights must have shape (out_channels, in_channels, kh, kw) = "
                                 f"({o}, {c}, kernel_size), got {w.shape}")
    else:
        if "out_channels" not in layer or "kernel_size" not in layer:
            raise ParameterError("out_channels and kernel_size must be given when weights are "
                                 "not")
        o = _int(layer, "out_channels", "", None)
        if o < 1:
            raise ParameterError(f"out_channels must be >= 1, got {o}")
        kh, kw = _pair(layer["kernel_size"])
        w = np.random.default_rng([rng_seed, index]).uniform(-1, 1, (o, c, kh, kw))
    bias = _bias(layer, base, w.shape[0], "out channel")
    neuron = _neuron(layer)
    q, qb = _quantize(w, bias, width)
    args = (q, in_shape, qb, _int(layer, "stride", "", 1), _int(layer, "padding", "", 0),
            neuron, _int(layer, "lanes", "", 1), _int(layer, "fold", "", 1),
            layer.get("accumulation", "sc"))
    if "temporal" not in layer:
        return ConvLayer(*args)
    t = layer["temporal"]
    if not isinstance(t, dict) or set(t) - {"chunk", "leak_shift", "frac_bits"}:
        raise ParameterError(f"temporal must be a table with chunk, leak_shift, frac_bits, got "
                             f"{t!r}")
    return TACConvLayer(*args, temporal=TACParams(**t))


def _pair(value):
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return (value, value)
    if isinstance(value, list) and len(value) == 2 and all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value):
        return tuple(value)
    raise ParameterError(f"kernel_size must be a positive integer or [kh, kw], got {value!r}")


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
        extra = layer_to_spec(layer, params.width, neuron_spec)
        if extra is not None:
            layers.append(extra)
            continue
        if isinstance(layer, PoolLayer):
            c, h, w = layer.in_shape
            layers.append({"type": layer.kind + "pool2d", "kernel_size": list(layer.kernel_size),
                           "stride": layer.stride, "padding": layer.padding,
                           "lanes": layer.lanes, "in_channels": c, "height": h, "width": w})
            continue
        if isinstance(layer, ConvLayer):
            c, h, w = layer.in_shape
            entry = {"type": "conv2d", "in_channels": c, "height": h, "width": w,
                     "out_channels": layer.out_channels, "stride": layer.stride,
                     "padding": layer.padding, "weights": (np.array(layer.weights) / top).tolist(),
                     "neuron": neuron_spec(layer.neuron), "lanes": layer.lanes,
                     "fold": layer.fold}
            if layer.bias is not None:
                entry["bias"] = (np.array(layer.bias) / top).tolist()
            if layer.accumulation != "sc":
                entry["accumulation"] = layer.accumulation
            if isinstance(layer, TACConvLayer):
                t = layer.temporal
                entry["temporal"] = {"chunk": t.chunk, "leak_shift": t.leak_shift,
                                     "frac_bits": t.frac_bits}
            layers.append(entry)
            continue
        entry = {"type": "dense", "neurons": layer.n_neurons,
                 "weights": (np.array(layer.weights) / top).tolist(),
                 "neuron": neuron_spec(layer.neuron), "lanes": layer.lanes, "fold": layer.fold}
        if layer.bias is not None:
            entry["bias"] = (np.array(layer.bias) / top).tolist()
        if layer.accumulation != "sc":
            entry["accumulation"] = layer.accumulation
        layers.append(entry)
    spec = {"inputs": params.n_inputs, "length": params.length, "source": params.source,
            "width": params.width, "seed": params.seed, "lfsr_width": params.lfsr_width,
            "layers": layers}
    if params.input_shape is not None:
        spec["input_shape"] = list(params.input_shape)
    for key, default in (("encoding", "rate"), ("weight_memory", "rom")):
        if getattr(params, key) != default:          # defaults unwritten: old ids stay valid
            spec[key] = getattr(params, key)
    if params.readout is not None:
        spec["readout"] = readout_to_spec(params.readout)
    return spec
