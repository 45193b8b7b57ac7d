"""The catalogue of primitive blocks: CLI options, parameter construction, model and bench.

The CLI is generated from this table, so every option, its range and its default are stated
once. Parameter validation stays in the parameter objects themselves (``scfpga.model``).
"""
import importlib
from dataclasses import dataclass, field

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
    flags: dict = field(default_factory=dict)

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
        Option("--leak-shift", "leak_shift", int, 4, "leak v >> leak_shift per cycle, 0..width-1 (0: none)"),
        Option("--reset", "reset", str, "subtract", "reset after a spike", ("subtract", "zero")),
        Option("--refractory", "refractory", int, 0, "refractory cycles, 0..255"),
    ), lambda v: LIFParams(v["width"], v["n_inputs"], _int_list("weights")(v["weights"]),
                           v["threshold"], v["leak_shift"], v["reset"], v["refractory"]),
        "spike", "lif", needs_stimulus=True),
)}


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


def cosimulate(block, params, cycles, stim_seed=1, name=None, build_root=None):
    """Co-simulate the generated Verilog of ``params`` against the model (random ``en``)."""
    from .hdl import to_verilog
    from .sim import cosim
    top = name or block.name
    stim, expected = block.bench_module().make_case(params, cycles, np.random.default_rng(stim_seed))
    return cosim(to_verilog(params, top), top, stim, expected, block.signed_ports(), build_root)
