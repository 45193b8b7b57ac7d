"""Runnable designs made from one primitive block, their golden results, and design files.

A :class:`BlockDesign` wraps a bitstream block so a board can run it (hardware:
:class:`.runners.BlockRunner`). A run lasts ``length`` cycles; during run cycle k every source
shows its element k (all restart at each run), so a run is a function of the loads alone:

* ``sng``: load 0 is the threshold P (0..2**width); result 0 = ones of ``bit`` over the run.
* ``and``, ``xnor``, ``mux``, ``lif``, ``counter``: each data input i is fed by its own
  comparator SNG with threshold load i (0..2**input_width). Input SNG sources
  (:meth:`BlockDesign.input_sources`): Sobol dimensions 1, 2, ... skipping the block's own Sobol
  dimension (the MUX select), or LFSR phases of the one ``input_width`` m-sequence spread evenly
  over its period. The block sees input bits 0..length-1 in the run's cycles 0..length-1.
  Result 0 = ones of the output (``bit``, or ``spike`` for ``lif``) over the run;
  ``lif`` adds result 1 = membrane ``v`` during the run's last cycle (signed).
* ``counter`` instead (window = its ``window`` option): result 0 = ``count`` after the run,
  i.e. the ones of the last window that closed within the run's ``length`` bits (windows
  ``[j*window, (j+1)*window)``; 0 if ``length < window``); result 1 = the number of ``done``
  pulses, ``length // window``. The golden results are :func:`~scfpga.model.counter_counts`
  in the cycle after the run's last bit.
* ``lfsr``, ``sobol``: the source itself runs, element k in run cycle k. Load 0 is a sample
  index k in 0..2**15 (wider loads would not fit a 16-bit load word as ``0..2**load_width``);
  result 0 = ``value`` in run cycle k (0 when k >= length), result 1 = ``value`` in the run's
  last cycle (element length-1), result 2 = the sum of the run's ``length`` values mod 2**32.
  All follow from ``lfsr_sequence`` / ``sobol_sequence``; ``loads_from_x`` maps x in [0, 1]
  to k = round(x * (min(length, 2**15 + 1) - 1)), so x = 1 samples the last cycle.

Design files (TOML or JSON) name the design and its options::

    design = "lif"            # any runnable op (scfpga.boards.ops.runnable_names())
    length = 1024             # cycles per run
    input_source = "sobol"    # SNGs feeding the block's inputs: sobol or lfsr
    input_width = 8
    [params]                  # the block's options, as in `scfpga gen lif --help`
    inputs = 3                # flag name (--inputs) or field name (n_inputs)
    weights = [3000, -800, 1200]
"""
import dataclasses

import numpy as np

from ..model.counter import CounterParams, counter_counts
from ..model.lfsr import LFSRParams, lfsr_sequence
from ..model.lif import LIFParams, lif_currents, lif_run
from ..model.mux import MuxParams, mux_bits
from ..model.ops import Option, get, ops_of
from ..model.params import ParameterError, check_choice, check_int
from ..model.sng import SNGParams, compare, quantize_unipolar
from ..model.sobol import SobolParams
from ..model.sources import SOURCE_KINDS, source_sequence
from ..model.synapse import SynapseParams, synapse_bits
from .protocol import LOAD_WIDTH, RESULT_WIDTH
from .runnable import design_id
from .runners import BlockRunner

# The primitive blocks a BlockDesign gives board semantics to (module docstring); boards/ops.py
# registers it for these parameter classes.
PARAM_TYPES = (LFSRParams, SobolParams, SNGParams, SynapseParams, MuxParams, CounterParams,
               LIFParams)
SOURCE_BLOCKS = ("lfsr", "sobol")        # the sequence itself is the design's output
_TOP_KEYS = {"design", "params", "length", "input_source", "input_width"}
MAX_LENGTH = 1 << 24
MAX_LOAD_WIDTH = LOAD_WIDTH - 1          # P = 2**W must fit a 16-bit load word
DEFAULT_LENGTH = 1024


def _check_block(name):
    names = [op.name for t in PARAM_TYPES for op in ops_of(t)]
    if name not in names:
        raise ParameterError(f"design must be one of {', '.join(names)}, got {name!r}")
    return name


def _jsonable(obj):
    if dataclasses.is_dataclass(obj):
        return {"type": type(obj).__name__,
                **{f.name: _jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}}
    if isinstance(obj, (tuple, list)):
        return [_jsonable(v) for v in obj]
    return obj


@dataclasses.dataclass(frozen=True)
class BlockDesign:
    """A primitive block made runnable.

    Parameters
    ----------
    block : str
        The op's name (:mod:`scfpga.model.ops`), one whose parameter class is in
        :data:`PARAM_TYPES`.
    params : parameter object
        The block's (``LFSRParams``, ``SobolParams``, ``SNGParams``, ``SynapseParams``,
        ``MuxParams``, ``CounterParams`` or ``LIFParams``).
    length : int
        Cycles per run, 1..2**24.
    input_source : str
        ``"sobol"`` or ``"lfsr"``: the sources of the SNGs feeding the block's inputs
        (validated but unused by ``lfsr``, ``sobol`` and ``sng``, which have no inputs).
    input_width : int
        Width of those SNGs, 1..15 (3..15 for lfsr).
    spec : dict or None
        The design-file form of this design (:func:`block_design` sets it), written next to a
        build as ``design.json`` so that ``scfpga run`` can use it.
    """
    block: str
    params: object
    length: int = DEFAULT_LENGTH
    input_source: str = "sobol"
    input_width: int = 8
    spec: dict | None = dataclasses.field(default=None, compare=False, repr=False)

    RUN_OPTIONS = (
        Option("--length", "length", int, DEFAULT_LENGTH, f"cycles per run, 1..{MAX_LENGTH}"),
        Option("--input-source", "input_source", str, "sobol",
               "source of the SNGs feeding the block's inputs", ("sobol", "lfsr")),
        Option("--input-width", "input_width", int, 8,
               f"width of those SNGs, 1..{LOAD_WIDTH - 1}"),
    )

    @classmethod
    def from_values(cls, op, values, **run):
        """``scfpga build BLOCK``: the design from the op's option values and
        :attr:`RUN_OPTIONS` (``length``, ``input_source``, ``input_width``)."""
        return block_design(op.name, values, **run)

    @classmethod
    def from_spec(cls, op, spec, base=None):
        """A design file ``design = "<block>"``: keys ``design, params, length, input_source,
        input_width`` only."""
        unknown = sorted(set(spec) - _TOP_KEYS)
        if unknown:
            raise ParameterError(f"unknown design file key {unknown[0]!r} "
                                 f"(allowed: {', '.join(sorted(_TOP_KEYS))})")
        return block_design(op.name, spec.get("params"), spec.get("length", DEFAULT_LENGTH),
                            spec.get("input_source", "sobol"), spec.get("input_width", 8))

    def __post_init__(self):
        _check_block(self.block)
        params_type = get(self.block).params_type
        if not isinstance(self.params, params_type):
            raise ParameterError(f"params of a {self.block} design must be {params_type.__name__}")
        if self.block in ("and", "xnor") and self.params.kind != self.block:
            raise ParameterError(f"params.kind must be {self.block!r}")
        check_int("length", self.length, 1, MAX_LENGTH)
        check_choice("input_source", self.input_source, SOURCE_KINDS)
        check_int("input_width", self.input_width, 3 if self.input_source == "lfsr" else 1,
                  MAX_LOAD_WIDTH)
        if self.block == "sng":
            check_int("width", self.params.width, 1, MAX_LOAD_WIDTH)

    # ------------------------------------------------------------------ shape of the design
    @property
    def name(self):
        return self.block

    @property
    def is_source(self):
        """``lfsr`` or ``sobol``: the sequence itself is the design's output."""
        return self.block in SOURCE_BLOCKS

    @property
    def n_inputs(self):
        """Bitstream inputs fed by SNGs (0 for ``sng``, which is itself the SNG, and for the
        sources ``lfsr`` and ``sobol``)."""
        fixed = {"lfsr": 0, "sobol": 0, "sng": 0, "and": 2, "xnor": 2, "counter": 1}
        return fixed[self.block] if self.block in fixed else self.params.n_inputs

    @property
    def n_loads(self):
        return max(self.n_inputs, 1)

    @property
    def run_cycles(self):
        """Cycles a run keeps ``busy`` high: ``length``, plus one for the registered input
        bits of a block with inputs, plus one more for ``counter``, whose ``done`` for a window
        closed by the run's last bit is registered (:class:`.runners.BlockRunner`)."""
        return self.length + (self.n_inputs > 0) + (self.block == "counter")

    @property
    def load_width(self):
        """Loads are in 0..2**W for this W: the SNG width (thresholds), or 15 for the sample
        index of ``lfsr`` and ``sobol``."""
        if self.block in SOURCE_BLOCKS:
            return MAX_LOAD_WIDTH
        return self.params.width if self.block == "sng" else self.input_width

    @property
    def result_names(self):
        if self.block in SOURCE_BLOCKS:
            return ("sample", "last", "sum")
        return {"lif": ("spikes", "v_last"), "counter": ("count", "windows")}.get(
            self.block, ("ones",))

    @property
    def result_signed(self):
        return tuple(name == "v_last" for name in self.result_names)

    @property
    def n_results(self):
        return len(self.result_names)

    def describe(self):
        """JSON-able description; its CRC-32 is :attr:`design_id`."""
        return {"design": self.block, "params": _jsonable(self.params), "length": self.length,
                "input_source": self.input_source, "input_width": self.input_width}

    @property
    def design_id(self):
        return design_id(self.describe())

    def input_sources(self):
        """Source parameters of the SNG feeding each input (see the module docstring)."""
        n, w = self.n_inputs, self.input_width
        if self.input_source == "sobol":
            own = getattr(getattr(self.params, "source", None), "dim", None)
            dims = [d for d in range(1, n + 2) if d != own][:n]
            return [SobolParams(w, d) for d in dims]
        period = (1 << w) - 1
        if n > period:
            raise ParameterError(f"input_width {w} has only {period} LFSR phases for {n} inputs")
        states = lfsr_sequence(LFSRParams(w, 1), period)
        return [LFSRParams(w, int(states[i * period // n])) for i in range(n)]

    def component(self):
        """The Amaranth runnable (:class:`.runners.BlockRunner`)."""
        return BlockRunner(self)

    # ------------------------------------------------------------------------ golden model
    def check_loads(self, loads):
        """``loads`` as an int64 array of shape (batch, n_loads), each in 0..2**load_width."""
        loads = np.asarray(loads)
        if loads.ndim == 1:
            loads = loads[None, :]
        if loads.ndim != 2 or loads.shape[1] != self.n_loads:
            raise ParameterError(f"loads must have shape (batch, {self.n_loads}), got {loads.shape}")
        if not np.issubdtype(loads.dtype, np.integer):
            raise ParameterError("loads must be integers")
        top = 1 << self.load_width
        if np.any(loads < 0) or np.any(loads > top):
            raise ParameterError(f"loads must be in 0..{top}")
        return loads.astype(np.int64)

    def loads_from_x(self, x):
        """Quantise input probabilities ``x`` in [0, 1] to loads, shape (batch, n_loads).

        A 1-D ``x`` is one sample of ``n_loads`` values, or a batch when ``n_loads`` is 1.
        """
        x = np.asarray(x, dtype=np.float64)
        if x.ndim == 1 and self.n_loads == 1:
            x = x[:, None]
        elif x.ndim == 1:
            x = x[None, :]
        if x.ndim != 2 or x.shape[1] != self.n_loads:
            raise ParameterError(f"x must have shape (batch, {self.n_loads}) or "
                                 f"({self.n_loads},), got {x.shape}")
        if self.block in SOURCE_BLOCKS:
            # A sample index: x = 1 is the run's last cycle (or the largest index a load holds).
            last = min(self.length - 1, 1 << self.load_width)
            return np.floor(batch_x(x, self.n_loads) * last + 0.5).astype(np.int64)
        return quantize_unipolar(x, self.load_width)

    def expected_results(self, loads):
        """Golden results, int64 array (batch, n_results), for loads (batch, n_loads)."""
        loads = self.check_loads(loads)
        L, p = self.length, self.params
        if self.block in SOURCE_BLOCKS:
            return source_results(p, loads[:, 0], L)
        if self.block == "sng":
            return sng_count(p.source, loads[:, 0], L)[:, None]
        bits = np.stack([compare(source_sequence(src, L), loads[:, i])
                         for i, src in enumerate(self.input_sources())], axis=1)   # (B, n, L)
        if self.block in ("and", "xnor"):
            out = synapse_bits(p, bits[:, 0], bits[:, 1])
        elif self.block == "mux":
            out = mux_bits(p, bits)
        elif self.block == "counter":
            # The result is what the counter shows in the cycle after the run's last bit: model
            # cycle `length` of a stream with one more (don't-care) bit.
            padded = np.concatenate([bits[:, 0], np.zeros((len(loads), 1), np.uint8)], axis=-1)
            count, done = counter_counts(p, padded)
            return np.stack([count[:, L], done.sum(-1, dtype=np.int64)], axis=1)
        else:
            spikes, v = lif_run(p, lif_currents(p, bits))
            return np.stack([spikes.sum(-1, dtype=np.int64), v[:, -1]], axis=1)
        return out.sum(-1, dtype=np.int64)[:, None]

    def decode_results(self, raw):
        return decode_words(raw, self.result_signed)


def batch_x(x, n, lo=0):
    """``x`` as float (batch, n) in [lo, 1], else ParameterError."""
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    if x.ndim != 2 or x.shape[1] != n:
        raise ParameterError(f"x must have shape (batch, {n}), got {x.shape}")
    if not ((x >= lo) & (x <= 1)).all():              # NaN fails both comparisons
        raise ParameterError(f"x must be in [{lo}, 1]")
    return x


class ThresholdLoads:
    """Mixin of designs whose loads are SNG thresholds of ``params.width`` bits and whose run
    is ``params.length`` SC cycles."""

    @property
    def length(self):
        return self.params.length

    @property
    def load_width(self):
        return self.params.width

    def loads_from_x(self, x):
        """Input thresholds ``quantize_unipolar(x, width)`` for ``x`` (batch, n_loads) in [0, 1]."""
        return quantize_unipolar(batch_x(x, self.n_loads), self.params.width)


def source_results(source, index, length):
    """Results (batch, 3) of a source run: value in cycle ``index`` (0 past the run), value
    in the last cycle, and the sum of all ``length`` values mod 2**32."""
    seq = source_sequence(source, length)
    index = np.asarray(index, dtype=np.int64)
    sample = np.where(index < length, seq[np.minimum(index, length - 1)], 0)
    total = int(seq.sum(dtype=np.int64)) % (1 << RESULT_WIDTH)    # < 2**56: no int64 overflow
    return np.stack([sample, np.full_like(sample, seq[-1]), np.full_like(sample, total)], axis=1)


def decode_words(raw, result_signed):
    """32-bit result words from the board -> int64, two's complement where ``result_signed``."""
    raw = np.asarray(raw, dtype=np.int64) & ((1 << RESULT_WIDTH) - 1)
    signed = np.asarray(result_signed) & (raw >= 1 << (RESULT_WIDTH - 1))
    return np.where(signed, raw - (1 << RESULT_WIDTH), raw)


def sng_count(source, probs, length):
    """Ones of a comparator SNG over ``length`` cycles for each threshold in ``probs``."""
    return compare(source_sequence(source, length), np.asarray(probs)).sum(-1, dtype=np.int64)


# --------------------------------------------------------------------------- design files

def _option_value(block, option, value):
    if option.type is str and isinstance(value, (list, tuple)):
        value = ",".join(str(v) for v in value)
    # A design file's values are typed: 8.7 or "8" or true is not an integer, and no value
    # is converted from another kind behind the user's back.
    wanted = {int: (int,), float: (int, float), str: (str,)}.get(option.type)
    if wanted and (isinstance(value, bool) or not isinstance(value, wanted)):
        raise ParameterError(f"params.{option.field} must be {option.type.__name__}, "
                             f"got {value!r}")
    try:
        value = option.type(value)
    except (TypeError, ValueError):
        raise ParameterError(f"params.{option.field} must be {option.type.__name__}, "
                             f"got {value!r}") from None
    if option.choices and value not in option.choices:
        raise ParameterError(f"params.{option.field} must be one of {', '.join(option.choices)}, "
                             f"got {value!r}")
    return value


def block_design(block_name, values=None, length=DEFAULT_LENGTH, input_source="sobol",
                 input_width=8):
    """A :class:`BlockDesign` from a block's option values (keys: field or flag names).

    Missing options take the defaults of the op table (:mod:`scfpga.model.ops`).
    """
    block = get(_check_block(block_name))
    if values is not None and not isinstance(values, dict):
        raise ParameterError(f"params must be a table of {block_name} options, got {values!r}")
    keys = {}
    for o in block.options:
        keys[o.field] = o
        keys[o.flag.lstrip("-").replace("-", "_")] = o
    full = block.defaults()
    for key, value in (values or {}).items():
        if key not in keys:
            names = ", ".join(o.flag.lstrip("-") for o in block.options) or "none"
            raise ParameterError(f"params.{key} is not an option of {block_name} (options: {names})")
        if value is not None:
            full[keys[key].field] = _option_value(block, keys[key], value)
    spec = {"design": block_name, "params": {k: v for k, v in full.items() if v is not None},
            "length": length, "input_source": input_source, "input_width": input_width}
    return BlockDesign(block_name, block.make(full), length, input_source, input_width, spec)
