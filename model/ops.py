"""The one table of ops (blocks and layers): name, parameter class, CLI options, golden model.

Every op is declared once, here, as an :class:`Op`; everything below it is keyed on the op's
parameter class (the frozen, validated dataclass of ``model/<op>.py``). Each lower folder maps
that class to its lowering in its own ``ops.py`` with :func:`functools.singledispatch`:
``hdl.ops.component(params, **kw)`` (Amaranth component), ``sim.ops.bench(params)`` (the
``sim/<op>.py`` bench module) and ``boards.ops.design_type(params)`` (runnable design class).
The CLI (``scfpga gen|model|sim|build``), sweeps and the demo read this table and those three.

Adding an op ``foo`` (``FooParams`` in model/foo.py, component ``Foo`` in hdl/foo.py, bench
module sim/foo.py with ``make_case(params, cycles, rng, p_on=0.85, **kw)``): one line per folder,
1. model/ops.py:  ``register(Op("foo", "summary", FooParams, (Option(...), ...), make, "port"))``
2. hdl/ops.py:    ``component.register(FooParams, Foo)``
3. sim/ops.py:    ``register(FooParams, foo)``  (the bench module)
4. boards/ops.py: ``register(FooParams, FooDesign)``, only if it runs on a board: a runnable with
   ``from_values(op, values, **run)``, ``from_spec(op, spec, base)`` (design files saying
   ``design = "foo"``) and ``RUN_OPTIONS`` (extra ``scfpga build`` options, may be empty).
Params from a spec file (``scfpga gen foo net.toml``): ``spec_file="help"``, ``make`` reads
``values["spec"]``. ``Option(..., lowering=True)`` values reach lowerings as keywords, not ``make``.
"""
from dataclasses import dataclass

import numpy as np

from .attention import AttentionParams, attention_counts, quantize as quantize_qkv
from .counter import CounterParams
from .dendrite import DendriteParams, dendrite_run, soma
from .dense import DenseParams, SCDenseLayer
from . import event
from .fusion import FusionParams, fusion_counts
from .inhibition import InhibitionParams, inhibition_apply
from .lfsr import LFSRParams
from .lif import LIFParams
from .mux import MuxParams, quantize_weights
from .netspec import load_network
from .nir import DEFAULT_DT, from_nir
from .network import Network, NetworkParams
from .neuron_types import NEURON_OPTIONS, NeuronParams, neuron_from_options
from .params import ParameterError, load_array
from .sng import SNGParams, quantize_unipolar
from .sobol import SobolParams
from . import step_ops
from . import faults, stdp
from .predictive import PredictiveParams
from .recurrent import RecurrentParams
from .synapse import SynapseParams
from .wta import WTAParams, wta_apply


@dataclass(frozen=True)
class Option:
    """One ``--flag`` of an op: ``field`` is the value it sets (a params field unless ``lowering``)."""
    flag: str
    field: str
    type: type
    default: object
    help: str
    choices: tuple | None = None
    lowering: bool = False            # passed to the hdl/sim/boards lowerings, not to ``make``


@dataclass(frozen=True)
class Op:
    """One op: everything the CLI, the sweeps and the lowerings need to know about it.

    ``make(values) -> params`` builds the parameter object from option values (fields as keys,
    every option present); the params' own validation names the field, the CLI maps it back to
    the flag. ``primary`` is the output port ``scfpga model`` prints for cycle-level ops;
    layers (``layer=True``) run on loaded inputs and print ``model_lines(params, x, stim_seed)``.
    ``model_check(params)`` may refuse ``scfpga model`` for params whose output the options do
    not determine.
    """
    name: str
    summary: str
    params_type: type
    options: tuple
    make: object
    primary: str | None = None
    needs_stimulus: bool = False      # data inputs driven by a seeded random stimulus
    layer: bool = False               # runs of L cycles on loaded inputs (model takes --x)
    model_lines: object = None
    model_check: object = None
    spec_file: str | None = None      # the CLI target is a spec file (help text); values["spec"]

    def build(self, values):
        """``(params, lowering keywords)`` from option values (fields as keys)."""
        kw = {o.field: values[o.field] for o in self.options if o.lowering}
        params = self.make({k: v for k, v in values.items() if k not in kw})
        if not isinstance(params, self.params_type):
            raise TypeError(f"op {self.name} made a {type(params).__name__}, "
                            f"not a {self.params_type.__name__}")
        return params, kw

    def defaults(self):
        return {o.field: o.default for o in self.options}

    def flag_for(self, field_name):
        """The CLI flag that sets ``field_name`` (so errors name what the user typed)."""
        for o in self.options:
            if o.field == field_name:
                return o.flag
        return None


OPS = {}


def register(op):
    """Add ``op`` to :data:`OPS` (names are unique)."""
    if op.name in OPS:
        raise ValueError(f"op {op.name!r} is already registered")
    OPS[op.name] = op
    return op


def get(name):
    """The op called ``name``; a ParameterError naming the known ops otherwise."""
    if name not in OPS:
        raise ParameterError(f"op must be one of {', '.join(OPS)}, got {name!r}")
    return OPS[name]


def ops_of(params_type):
    """The ops whose parameter class is ``params_type`` (``and``/``xnor`` share one)."""
    return [op for op in OPS.values() if op.params_type is params_type]


# ------------------------------------------------------------------------ primitive blocks

def _source(v):
    if v["source"] == "lfsr":
        return LFSRParams(v["width"], v["seed"])
    return SobolParams(v["width"], v["dim"])


def _int_list(name, text):
    if text is None:
        return None
    try:
        return tuple(int(x) for x in str(text).split(","))
    except ValueError:
        raise ParameterError(f"{name} must be a comma-separated list of integers, got {text!r}") from None


def _mux(v):
    source = _source(v)
    weights = None
    if v["weights"] is not None:
        try:
            reals = [float(x) for x in v["weights"].split(",")]
        except ValueError:
            raise ParameterError(f"weights must be comma-separated non-negative numbers, "
                                 f"got {v['weights']!r}") from None
        weights = quantize_weights(reals, source.width)
    return MuxParams(v["n_inputs"], source, weights)


def _lif(v):
    return LIFParams(v["width"], v["n_inputs"], _int_list("weights", v["weights"]), v["threshold"],
                     v["leak_shift"], v["reset"], v["refractory"])


def _needs_prob(params):
    if params.prob is None:
        raise ParameterError("prob must be given for 'model sng' (0..2**width)")


_SOURCE_OPTS = (
    Option("--source", "source", str, "sobol", "bitstream source", ("lfsr", "sobol")),
    Option("--width", "width", int, 8, "source width in bits (lfsr 3..32, sobol 1..32)"),
    Option("--seed", "seed", int, 1, "LFSR seed, 1..2**width-1 (lfsr source)"),
    Option("--dim", "dim", int, 1, "Sobol dimension, 1..1024 (sobol source)"),
)

register(Op("lfsr", "maximal-length Fibonacci LFSR", LFSRParams, (
    Option("--width", "width", int, 16, "register width, 3..32"),
    Option("--seed", "seed", int, 1, "initial state, 1..2**width-1"),
), lambda v: LFSRParams(v["width"], v["seed"]), "value"))

register(Op("sobol", "one Sobol coordinate in Gray-code order", SobolParams, (
    Option("--width", "width", int, 16, "output width, 1..32"),
    Option("--dim", "dim", int, 1, "Sobol dimension, 1..1024"),
    Option("--index-width", "index_width", int, None, "index counter width, width..32 (default: width)"),
), lambda v: SobolParams(v["width"], v["dim"], v["index_width"]), "value"))

register(Op("sng", "comparator SNG: bit = R < P", SNGParams, _SOURCE_OPTS + (
    Option("--prob", "prob", int, None,
           "threshold P, 0..2**width (2**width encodes 1.0); omitted: run-time port 'prob'"),
), lambda v: SNGParams(_source(v), v["prob"]), "bit", model_check=_needs_prob))

register(Op("and", "AND synapse (unipolar multiply)", SynapseParams, (),
            lambda v: SynapseParams("and"), "bit", needs_stimulus=True))

register(Op("xnor", "XNOR synapse (bipolar multiply)", SynapseParams, (),
            lambda v: SynapseParams("xnor"), "bit", needs_stimulus=True))

register(Op("mux", "MUX scaled adder with a uniform select source", MuxParams, (
    Option("--inputs", "n_inputs", int, 4, "number of input streams, 2..256"),
) + _SOURCE_OPTS + (
    Option("--weights", "weights", str, None,
           "comma-separated selection weights (quantised to sum 2**width); default uniform"),
), _mux, "bit", needs_stimulus=True))

register(Op("counter", "ones counter over a window", CounterParams, (
    Option("--window", "window", int, 256, "cycles per count, 1..16777216"),
), lambda v: CounterParams(v["window"]), "count", needs_stimulus=True))

register(Op("lif", "saturating fixed-point LIF neuron fed by bitstreams", LIFParams, (
    Option("--width", "width", int, 16, "membrane width (signed), 4..32"),
    Option("--inputs", "n_inputs", int, 1, "number of input bitstreams, 1..64"),
    Option("--weights", "weights", str, None,
           "comma-separated integer weight per input (default 2**(width-4) each)"),
    Option("--threshold", "threshold", int, None, "firing threshold, 1..2**(width-1)-1 (default 2**(width-2))"),
    Option("--leak-shift", "leak_shift", int, None,
           "leak v >> leak_shift per cycle, 0..width-1, 0: none (default: min(4, width-1))"),
    Option("--reset", "reset", str, "subtract", "reset after a spike", ("subtract", "zero")),
    Option("--refractory", "refractory", int, 0, "refractory cycles, 0..255"),
), _lif, "spike", needs_stimulus=True))


# ------------------------------------------------------------------------------------ layers

def _fusion(v):
    names = [m.strip() for m in v["modalities"].split(",") if m.strip()]
    weights = None
    if v["weights"] is not None:
        try:
            weights = dict(zip(names, (float(w) for w in v["weights"].split(","))))
        except ValueError:
            raise ParameterError(f"weights must be comma-separated numbers, got {v['weights']!r}") from None
        if len(weights) != len(names) or len(v["weights"].split(",")) != len(names):
            raise ParameterError(f"weights must have one value per modality ({len(names)})")
    return FusionParams.from_dims({n: v["dim"] for n in names}, weights, length=v["length"],
                                  width=v["width"], source=v["source"], seed=v["seed"],
                                  sobol_dim=v["sobol_dim"])


def _fusion_lines(params, x, stim_seed):
    """Fused ones-count of every element, one line per sample (space-separated)."""
    if x is None:
        x = np.random.default_rng(stim_seed).random((params.n_modalities, params.dim))
    x = np.asarray(x, dtype=np.float64)
    if x.shape[-2:] != (params.n_modalities, params.dim):
        raise ParameterError(f"x must have shape ({params.n_modalities}, {params.dim}) or "
                             f"(batch, {params.n_modalities}, {params.dim}), got {x.shape}")
    counts = fusion_counts(params, quantize_unipolar(x, params.width))
    return [" ".join(str(int(c)) for c in row) for row in counts.reshape(-1, params.dim)]


register(Op("fusion", "MUX fusion of several modalities (SCFusionLayer)", FusionParams, (
    Option("--modalities", "modalities", str, "audio,visual", "comma-separated modality names"),
    Option("--elements", "dim", int, 4, "elements per modality, 1..256"),
    Option("--weights", "weights", str, None, "comma-separated fusion weights, one per modality "
           "(quantised to sum 2**width); default equal"),
    Option("--length", "length", int, 256, "bitstream length L per run"),
    Option("--width", "width", int, 8, "source width in bits"),
    Option("--source", "source", str, "sobol", "bitstream source", ("lfsr", "sobol")),
    Option("--seed", "seed", int, None, "LFSR seed of the data source (default: a dense constant)"),
    Option("--dim", "sobol_dim", int, 1, "Sobol dimension of the data source (select: dim+1)"),
), _fusion, "counts", needs_stimulus=True, layer=True, model_lines=_fusion_lines))


def _dense(v):
    weights = load_array(v["weights"], "weights")
    if weights is None:
        shape = {"n_neurons": 4 if v["n_neurons"] is None else v["n_neurons"],
                 "n_inputs": 16 if v["n_inputs"] is None else v["n_inputs"]}
        for name, value in shape.items():
            if value < 1:
                raise ParameterError(f"{name} must be >= 1, got {value}")
        rng = np.random.default_rng(v["weight_seed"])
        weights = rng.uniform(-1, 1, (shape["n_neurons"], shape["n_inputs"]))
    elif np.ndim(weights) != 2 or \
            v["n_inputs"] not in (None, np.shape(weights)[1]) or \
            v["n_neurons"] not in (None, np.shape(weights)[0]):
        raise ParameterError(f"weights must have shape (neurons, inputs) matching --neurons/--inputs, "
                             f"got {np.shape(weights)}")
    return DenseParams.from_float(weights, load_array(v["bias"], "bias"), v["width"],
                                  length=v["length"], source=v["source"], seed=v["seed"],
                                  accumulation=v["accumulation"])


def _dense_lines(params, x, stim_seed):
    """Each neuron's spike count over one run; one line per neuron, or one row per sample."""
    if x is None:
        x = np.random.default_rng(stim_seed).random(params.n_inputs)
    x = np.asarray(x, dtype=np.float64)
    if x.shape[-1] != params.n_inputs or x.ndim > 2:
        raise ParameterError(f"x must have shape ({params.n_inputs},) or (batch, {params.n_inputs}), "
                             f"got {x.shape}")
    counts = SCDenseLayer(params).evaluate(x).counts
    if x.ndim == 1:
        return [str(int(c)) for c in counts]
    return [" ".join(str(int(c)) for c in row) for row in counts]


register(Op("dense", "dense SC layer of LIF neurons (SCDenseLayer)", DenseParams, (
    Option("--inputs", "n_inputs", int, None, "number of inputs (default: from --weights, else 16)"),
    Option("--neurons", "n_neurons", int, None, "number of neurons (default: from --weights, else 4)"),
    Option("--length", "length", int, 256, "bitstream length L per run, 1..1048576"),
    Option("--weights", "weights", str, None, "(neurons, inputs) weights in [-1, 1] as .npy; "
           "default: seeded uniform random"),
    Option("--bias", "bias", str, None, "(neurons,) bias in [-1, 1] as .npy (optional)"),
    Option("--weight-seed", "weight_seed", int, 1, "seed of the random weights"),
    Option("--width", "width", int, 8, "comparator width W, 1..16"),
    Option("--source", "source", str, "sobol", "bitstream source of every stream", ("lfsr", "sobol")),
    Option("--seed", "seed", int, 0, "Sobol: weight stream dimension 1+seed; LFSR: phase offset"),
    Option("--accumulation", "accumulation", str, "counter", "exact parallel count or MUX scaled add",
           ("counter", "mux")),
    Option("--lanes", "lanes", int, 1, "synapse columns per clock, a power of two 1..64",
           lowering=True),
), _dense, "counts", needs_stimulus=True, layer=True, model_lines=_dense_lines))


# ------------------------------------------------------------------------------- networks

def _network_lines(params, x, stim_seed):
    """Output-layer spike counts, one line per sample (space-separated). ``x``: rates in
    [0, 1] ``(samples, inputs)``, or a 0/1 spike raster ``(samples, T, inputs)`` that feeds
    layer 1 directly (T cycles instead of the SNG encoder's ``length``)."""
    if x is None:
        x = np.random.default_rng(stim_seed).random((2, params.n_inputs))
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        x = x[None]
    n = params.n_inputs
    if x.ndim == 3:
        if x.shape[2] != n or x.shape[1] < 1:
            raise ParameterError(f"--x spike raster must have shape (samples, T, {n}), "
                                 f"got {x.shape}")
        if not np.isin(x, (0, 1)).all():
            raise ParameterError("--x spike raster must hold only 0 and 1")
        counts = Network(params).evaluate_bits(x.transpose(0, 2, 1).astype(np.uint8)).counts[-1]
    else:
        if x.ndim != 2 or x.shape[1] != n:
            raise ParameterError(f"--x must have shape (samples, {n}) (rates) or (samples, T, "
                                 f"{n}) (spike raster), got {x.shape}")
        if not ((x >= 0) & (x <= 1)).all():
            raise ParameterError("--x must hold values in [0, 1]")
        counts = Network(params).evaluate(x).counts[-1]
    return [" ".join(str(int(c)) for c in row) for row in counts]


NIR_OPTIONS = ("dt", "width", "length", "state_width", "encoding", "clip", "weight_memory")


def network_from_file(v):
    """The network of ``values["spec"]``: a TOML/JSON spec, or a NIR graph (``.nir``) read with
    the NIR options (:func:`.nir.from_nir`)."""
    given = {k: v[k] for k in NIR_OPTIONS if v.get(k) is not None}
    if str(v["spec"]).endswith(".nir"):
        return from_nir(v["spec"], **given)[0]
    if given:
        raise ParameterError(f"{next(iter(given))} applies to .nir files only (a network spec "
                             "sets its own width and length)")
    return load_network(v["spec"])


_NIR_FLAGS = (
    Option("--dt", "dt", float, None, f".nir: Euler step of the continuous-time nodes (default "
           f"{DEFAULT_DT:g}, what snnTorch's exporter assumes; Norse: 1e-3)"),
    Option("--width", "width", int, None, ".nir: SC comparator width, weight magnitude bits "
           "(default 8)"),
    Option("--length", "length", int, None, ".nir: SC cycles per run = NIR time steps "
           "(default 256)"),
    Option("--state-width", "state_width", int, None, ".nir: bits of every neuron state "
           "field (default 16)"),
    Option("--encoding", "encoding", str, None, ".nir: hardware input, rates in [0, 1] encoded "
           "by SNGs, or a 0/1 spike raster of every time step (default rate)", ("rate", "raster")),
    Option("--weight-memory", "weight_memory", str, None, ".nir: where weights live in "
           "hardware (default rom: block RAM set by the bitstream; ram, spram: written at run "
           "time, spram in the UP5K's single-port RAMs)", ("rom", "ram", "spram")),
    Option("--clip", "clip", float, None, ".nir: per layer, the fraction of weights kept inside "
           "the SC range, the rest saturate (default 0.95; 1: none)"),
    Option("--report", "report", str, None, ".nir: write the per-layer quantisation report "
           "to this JSON file"),
)

register(Op("network", "a spiking network from a spec file (layers of SC synapses and neurons)",
            NetworkParams, _NIR_FLAGS, network_from_file, layer=True,
            model_lines=_network_lines,
            spec_file="network spec (.toml or .json: inputs, length, source and [[layers]]) "
                      "or a NIR graph (.nir)"))


# ------------------------------------------------------------------------------- neurons

def _neuron_options():
    """``--type`` and the union of every type's float parameters (each says which types)."""
    rows = {}
    for type_name, options in NEURON_OPTIONS.items():
        for name, kind, _default, text in options:
            rows.setdefault(name, (kind, text, []))[2].append(type_name)
    return (Option("--type", "type", str, "leaky", "neuron type", tuple(NEURON_OPTIONS)),) + tuple(
        Option("--" + name.replace("_", "-"), name, kind, None,
               f"{text} [{', '.join(types) if len(types) < len(NEURON_OPTIONS) else 'all'}]")
        for name, (kind, text, types) in rows.items())


def _neuron(v):
    kind = v["type"]
    accepted = [o[0] for o in NEURON_OPTIONS[kind]]
    given = {k: x for k, x in v.items() if k != "type" and x is not None}
    for name in given:
        if name not in accepted:
            flags = ", ".join("--" + a.replace("_", "-") for a in accepted)
            raise ParameterError(f"{name} is not a parameter of a {kind!r} neuron (its "
                                 f"parameters: {flags})")
    return neuron_from_options(kind, given)


register(Op("neuron", "fixed-point neuron of the zoo (create_neuron types), one update core",
            NeuronParams, _neuron_options(), _neuron, "fire", needs_stimulus=True))


# ------------------------------------------------------------------ the SC layer catalogue

def _values(params, x, stim_seed):
    """``--x`` as the integer inputs of a line of ``params.n`` values of ``params.width`` bits:
    integer arrays as they are, floats in [0, 1] quantised (1.0 -> the largest value);
    default: seeded random floats, (2, n)."""
    if x is None:
        x = np.random.default_rng(stim_seed).random((2, params.n))
    x = np.asarray(x)
    if x.ndim not in (1, 2) or x.shape[-1] != params.n:
        raise ParameterError(f"x must have shape ({params.n},) or (samples, {params.n}), "
                             f"got {x.shape}")
    if not np.issubdtype(x.dtype, np.integer):
        x = np.minimum(quantize_unipolar(x, params.width), (1 << params.width) - 1)
    return np.atleast_2d(x)


def _rows(values):
    return [" ".join(str(int(v)) for v in row) for row in values]


register(Op("wta", "k-winner-take-all over n values, ties to the lower index (WinnerTakeAll)",
            WTAParams, (
    Option("--n", "n", int, 8, "competing values, 2..32"),
    Option("--k", "k", int, 1, "winners, 1..n"),
    Option("--width", "width", int, 8, "bits per value, 1..24"),
), lambda v: WTAParams(v["n"], v["k"], v["width"]), "winners", needs_stimulus=True, layer=True,
   model_lines=lambda p, x, s: _rows(wta_apply(p, _values(p, x, s)))))

register(Op("inhibition", "Gaussian-surround lateral inhibition (LateralInhibition)",
            InhibitionParams, (
    Option("--n", "n", int, 8, "neurons on the line, 2..64"),
    Option("--radius", "radius", float, 2.0, "Gaussian radius in neurons, (0, 64]"),
    Option("--strength", "strength", float, 0.5, "inhibition per unit kernel, [0, 1]"),
    Option("--width", "width", int, 8, "bits per rate, 1..24"),
    Option("--frac", "frac", int, 8, "kernel fraction bits, 0..16"),
), lambda v: InhibitionParams.from_float(v["n"], v["radius"], v["strength"], v["width"],
                                         v["frac"]), "y0", needs_stimulus=True, layer=True,
   model_lines=lambda p, x, s: _rows(inhibition_apply(p, _values(p, x, s)))))


def _attention_lines(params, x, stim_seed):
    """Per query ``den num_0 .. num_{dim_v-1}``. ``x``: Q, K, V in [0, 1] flattened row-major
    and concatenated, or (samples, that); default: seeded random."""
    sizes = [a * b for a, b in params.shapes]
    if x is None:
        x = np.random.default_rng(stim_seed).random(sum(sizes))
    x = np.asarray(x, np.float64)
    if x.shape[-1:] != (sum(sizes),) or x.ndim > 2:
        raise ParameterError(f"x must hold Q, K, V flattened: shape ({sum(sizes)},) or "
                             f"(samples, {sum(sizes)}), got {x.shape}")
    parts = np.split(x, np.cumsum(sizes)[:-1], axis=-1)
    q, k, v = quantize_qkv(params, *(a.reshape(a.shape[:-1] + s)
                                     for a, s in zip(parts, params.shapes)))
    den, num = attention_counts(params, q, k, v)
    rows = np.concatenate([den[..., None], num], -1).reshape(-1, 1 + params.dim_v)
    return _rows(rows)


register(Op("attention", "stochastic attention, AND-gate inner products, num/den counts "
            "(StochasticAttention.forward_bitstream)", AttentionParams, (
    Option("--queries", "n_q", int, 2, "rows of Q, 1..16"),
    Option("--keys", "n_k", int, 3, "rows of K and V, 1..16"),
    Option("--dim-k", "dim_k", int, 4, "key width, 1..16"),
    Option("--dim-v", "dim_v", int, 2, "value width, 1..16"),
    Option("--length", "length", int, 256, "bitstream length L per run"),
    Option("--width", "width", int, 8, "source width in bits, 3..24"),
    Option("--source", "source", str, "sobol", "bitstream source", ("lfsr", "sobol")),
    Option("--seed", "seed", int, None, "LFSR start state of R_q (default: a dense constant)"),
    Option("--dim", "sobol_dim", int, 1, "Sobol dimension of R_q (R_k, R_v: the next two)"),
), lambda v: AttentionParams(**v), "den0", needs_stimulus=True, layer=True,
   model_lines=_attention_lines))


def _dendrite_lines(params, x, stim_seed):
    """Somatic voltage (integer, units 2**-frac) after each step. ``x``: branch inputs in those
    units, integers (T, n_branches); default: seeded random steps of 40 cycles."""
    if x is None:
        rng = np.random.default_rng(stim_seed)
        x = np.repeat(rng.integers(0, 1 << (params.input_width - 2), (4, params.n_branches)),
                      10, axis=0)
    x = np.asarray(x)
    if x.ndim != 2:
        raise ParameterError(f"x must have shape (T, {params.n_branches}), got {x.shape}")
    return [str(int(s)) for s in soma(params, dendrite_run(params, x))[1:]]


register(Op("dendrite", "Rall branching dendrite, fixed-point compartments (RallDendrite)",
            DendriteParams, (
    Option("--branches", "n_branches", int, 4, "dendritic branches, 1..16"),
    Option("--branch-length", "branch_length", int, 3, "compartments per branch, 1..16"),
    Option("--tau", "tau", float, 10.0, "membrane time constant (ms), >= dt"),
    Option("--coupling", "coupling", float, 0.3, "inter-compartment coupling, [0, 1]"),
    Option("--dt", "dt", float, 1.0, "time step (ms), > 0"),
    Option("--width", "width", int, 16, "voltage register width (signed), 8..32"),
    Option("--input-width", "input_width", int, 12, "input width (signed), 2..width"),
    Option("--shift", "shift", int, 8, "fraction bits of the constants, 1..16"),
), lambda v: DendriteParams.from_float(**v), "soma", needs_stimulus=True, layer=True,
   model_lines=_dendrite_lines))


# ------------------------------------------------------------ event-driven synapses (AER)

_EVENT_SIZE = (Option("--pre", "n_pre", int, 16, "inputs (address-event sources), 1..4096"),
               Option("--post", "n_post", int, 8, "outputs (accumulators), 1..4096"),
               Option("--weight-width", "weight_width", int, 8, "signed weight bits, 2..32"))
_EVENT_RANDOM = (Option("--conn-weight", "conn_weight", int, 1, "integer weight of every synapse"),
                 Option("--seed", "seed", int, 0, "connectivity seed, 0..2**63-1"))

register(Op("event-linear", "event-driven dense synapses: rows of active inputs only "
            "(EventLinear)", event.EventParams, _EVENT_SIZE + (
    Option("--weights", "weights", str, None, "(n_pre, n_post) real weights as .npy, quantised "
           "to --weight-width bits; default: seeded random integers"),
    Option("--density", "density", float, 1.0, "random weights: fraction non-zero, [0, 1]"),
    Option("--weight-seed", "weight_seed", int, 1, "seed of the random weights"),
), event.make_linear, "y0", layer=True, model_lines=event.model_lines))

register(Op("event-fixed-prob", "seeded sparse synapses, each pair with probability conn_num "
            "(EventFixedProb)", event.EventParams, _EVENT_SIZE + _EVENT_RANDOM + (
    Option("--conn-num", "conn_num", float, 0.2, "connection probability, [0, 1]"),
), event.make_random("prob"), "y0", layer=True, model_lines=event.model_lines))

register(Op("event-fixed-num-conn", "seeded sparse synapses, conn_num inputs per output "
            "(FixedNumConn, EventFixedNumConn)", event.EventParams, _EVENT_SIZE + _EVENT_RANDOM + (
    Option("--conn-num", "conn_num", int, 4, "inputs per output (fan-in), 0..n_pre"),
), event.make_random("num"), "y0", layer=True, model_lines=event.model_lines))


# ------------------------------------------ layers that step once per run (feedback, learning)

_PAIR_SOURCE = (
    Option("--source", "source", str, "sobol", "bitstream sources", ("lfsr", "sobol")),
    Option("--seed", "seed", int, None, "LFSR start state of the data source (default: a dense "
           "constant)"),
    Option("--dim", "sobol_dim", int, 1, "Sobol dimension of the data source (the other: dim+1)"),
)

register(Op("predictive", "predictive coding: XOR error streams, popcount surprise, fixed-point "
            "prediction update (PredictiveCodingSCLayer)", PredictiveParams, (
    Option("--inputs", "n_inputs", int, 4, "input channels, 1..16"),
    Option("--neurons", "n_neurons", int, 4, "predictive neurons, 1..16"),
    Option("--length", "length", int, 256, "bitstream length L per step, a power of two"),
    Option("--lr", "lr", float, 0.01, "learning rate, [0, 1] (quantised to --lr-shift bits)"),
    Option("--lr-shift", "lr_shift", int, 10, "fraction bits of the learning rate, 0..16"),
    Option("--width", "width", int, 8, "comparator width, 3..16"),
    Option("--frac", "frac", int, 8, "weight bits below the comparator, 0..16"),
    Option("--streams", "streams", str, "independent", "prediction source", ("independent",
                                                                              "shared")),
    Option("--weight-seed", "weight_seed", int, 0, "seed of the initial weights "
           "(sc_neurocore's U(0.1, 0.9) draw)"),
) + _PAIR_SOURCE, step_ops.make_predictive, "err0", needs_stimulus=True, layer=True,
   model_lines=step_ops.predictive_lines))

register(Op("recurrent", "echo-state reservoir, state fed back as streams (SCRecurrentLayer)",
            RecurrentParams, (
    Option("--inputs", "n_inputs", int, 3, "inputs, 1..16"),
    Option("--neurons", "n_neurons", int, 10, "reservoir neurons, 1..32"),
    Option("--length", "length", int, 256, "cycles per step L, a power of two 1..2**width"),
    Option("--width", "width", int, 8, "comparator width, 3..16"),
    Option("--delay", "feedback_delay", int, 1, "steps from a state to the run it feeds, 1..4"),
    Option("--weights", "weights", str, "reference", "random weights: sc_neurocore's "
           "non-negative draw or signed U(-1, 1)", ("reference", "signed")),
    Option("--weight-seed", "weight_seed", int, 0, "seed of the random weights"),
    Option("--input-strength", "input_strength", float, 0.5, "input weight scale"),
    Option("--spectral-radius", "spectral_radius", float, 0.9, "W_rec scaled to this radius"),
) + _PAIR_SOURCE, step_ops.make_recurrent, "acc0", needs_stimulus=True, layer=True,
   model_lines=step_ops.recurrent_lines))

register(Op("stdp", "dense layer learning on chip: pair-based STDP, weights in block RAM "
            "(SCLearningLayer)", stdp.STDPParams, tuple(Option(*o) for o in stdp.OPTIONS),
            stdp.from_options, layer=True, model_lines=stdp.model_lines))
register(Op("hwaware", "dense SC layer with stuck-at faults and weight variability folded into "
            "its ROM (HardwareAwareSCLayer)", DenseParams, tuple(
    Option(*o) for o in faults.HARDWARE_AWARE_OPTIONS), faults.hardware_aware_from_options,
    "counts", needs_stimulus=True, layer=True, model_lines=_dense_lines))
register(Op("memristive", "dense SC layer through a memristor crossbar model: levels, "
            "device variation, stuck devices (MemristiveDenseLayer)", DenseParams, tuple(
    Option(*o) for o in faults.MEMRISTIVE_OPTIONS), faults.memristive_from_options, "counts",
    needs_stimulus=True, layer=True, model_lines=_dense_lines))
