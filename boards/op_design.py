"""Runnable designs made from an op's options: the common host side and a generic runner.

A :class:`OpDesign` subclass gives one op of :mod:`scfpga.model.ops` board semantics: which
words it loads (:attr:`OpDesign.load_names`), which results it shows
(:attr:`OpDesign.result_names`), the golden results and how the hardware is wired
(:meth:`OpDesign.wire`). Its parameters come from the op's option values, exactly as
``scfpga gen OP --options`` builds them, so a design file is the op name, its options and the
design's run options::

    design = "wta"            # the op
    [params]                  # its options: flag names (--k) or field names
    n = 8
    k = 2

Stateless designs compute results from one run's loads (:meth:`OpDesign.results`); stateful
ones (``stateful = True``, :mod:`.runnable`) from a state carried between runs
(:meth:`OpDesign.initial_state`, :meth:`OpDesign.advance`), and ``expected_results`` reads the
rows of ``loads`` as consecutive runs from configuration.
"""
import numpy as np
from amaranth.hdl import Module, Signal

from ..model.ops import Option
from ..model.params import ParameterError, check_int
from .designs import batch_x, decode_words
from .protocol import LOAD_WIDTH
from .runnable import Runnable, design_id

_TYPES = {int: (int,), float: (int, float), str: (str,)}


def option_value(where, option, value):
    """A design-file value checked against its option's type and choices (no conversion from
    another kind: 8.7 or "8" is not an integer)."""
    wanted = _TYPES.get(option.type)
    if value is not None and wanted and (isinstance(value, bool) or
                                         not isinstance(value, wanted)):
        raise ParameterError(f"{where}{option.field} must be {option.type.__name__}, "
                             f"got {value!r}")
    if value is not None:
        value = option.type(value)
    if option.choices and value is not None and value not in option.choices:
        raise ParameterError(f"{where}{option.field} must be one of "
                             f"{', '.join(map(str, option.choices))}, got {value!r}")
    return value


def option_values(op, table):
    """Full option values (fields as keys) of ``op``: its defaults updated by ``table``
    (keys: field or flag names)."""
    if table is not None and not isinstance(table, dict):
        raise ParameterError(f"params must be a table of {op.name} options, got {table!r}")
    keys = {}
    for o in op.options:
        keys[o.field] = keys[o.flag.lstrip("-").replace("-", "_")] = o
    values = op.defaults()
    for key, value in (table or {}).items():
        if key not in keys:
            names = ", ".join(o.flag.lstrip("-") for o in op.options)
            raise ParameterError(f"params.{key} is not an option of {op.name} (options: {names})")
        values[keys[key].field] = option_value("params.", keys[key], value)
    return values


class OpDesign:
    """An op behind the runnable contract (module docstring). Subclasses set
    :attr:`load_names`, :attr:`result_names`, :meth:`wire` and either :meth:`results` or
    (``stateful = True``) :meth:`initial_state` and :meth:`advance`."""

    RUN_OPTIONS = ()
    stateful = False
    result_latency = 1
    load_signed = False            # load words are two's complement (their low bits)

    def __init__(self, op, values, **run):
        self.op = op
        self.values = dict(values)
        self.params, kw = op.build(self.values)
        if kw:
            raise ParameterError(f"{op.name} has no board lowering options")
        self.run = {o.field: option_value("", o, run.get(o.field, o.default))
                    for o in self.RUN_OPTIONS}
        for key, value in self.run.items():
            setattr(self, key, value)
        self.check()
        self.spec = {"design": op.name,
                     "params": {k: v for k, v in self.values.items() if v is not None},
                     **self.run}

    @classmethod
    def from_values(cls, op, values, **run):
        """``scfpga build OP --options``."""
        return cls(op, values, **run)

    @classmethod
    def from_spec(cls, op, spec, base=None):
        """A design file ``design = "<op>"``: keys ``design``, ``params`` and the run options."""
        allowed = {"design", "params"} | {o.field for o in cls.RUN_OPTIONS}
        unknown = sorted(set(spec) - allowed)
        if unknown:
            raise ParameterError(f"unknown design file key {unknown[0]!r} "
                                 f"(allowed: {', '.join(sorted(allowed))})")
        run = {o.field: spec[o.field] for o in cls.RUN_OPTIONS if o.field in spec}
        return cls(op, option_values(op, spec.get("params")), **run)

    def check(self):
        """Raise ParameterError for parameters the board cannot carry."""

    # ------------------------------------------------------------------ shape of the design
    @property
    def name(self):
        return self.op.name

    @property
    def n_loads(self):
        return len(self.load_names)

    @property
    def n_results(self):
        return len(self.result_names)

    @property
    def result_signed(self):
        return (False,) * self.n_results

    @property
    def load_width(self):
        """Loads are thresholds in ``0..2**load_width`` (:mod:`.simboard` clamps them so), or
        whole 16-bit words (``LOAD_WIDTH``)."""
        return LOAD_WIDTH

    @property
    def run_cycles(self):
        return self.length

    def describe(self):
        return {"design": self.name, "params": self.spec["params"], **self.run}

    @property
    def design_id(self):
        return design_id(self.describe())

    def component(self):
        return OpRunner(self)

    # ------------------------------------------------------------------------ golden model
    def check_loads(self, loads):
        """Loads as int64 (batch, n_loads), each a load word the design accepts."""
        loads = np.asarray(loads)
        if loads.ndim == 1:
            loads = loads[None, :]
        top = (1 << LOAD_WIDTH) - 1 if self.load_width == LOAD_WIDTH else 1 << self.load_width
        if loads.ndim != 2 or loads.shape[1] != self.n_loads or \
                not np.issubdtype(loads.dtype, np.integer) or \
                (loads.size and (loads.min() < 0 or loads.max() > top)):
            raise ParameterError(f"loads must be integers in 0..{top} of shape "
                                 f"(batch, {self.n_loads})")
        return loads.astype(np.int64)

    def word_values(self, loads, bits):
        """What a ``bits``-bit load register holds for each word (signed if ``load_signed``)."""
        v = np.asarray(loads, np.int64) & ((1 << bits) - 1)
        return v - ((v >> (bits - 1)) << bits) if self.load_signed else v

    def saturated_thresholds(self, loads, width):
        """What a ``width + 1``-bit threshold register compares with: its bits (the low bits of
        the load word), saturated at ``2**width``."""
        return np.minimum(np.asarray(loads, np.int64) & ((2 << width) - 1), 1 << width)

    def expected_results(self, loads):
        loads = self.check_loads(loads)
        if not self.stateful:
            return np.asarray(self.results(loads), np.int64).reshape(len(loads), -1)
        state, rows = self.initial_state(), []
        for row in loads:
            out, state = self.advance(state, row)
            rows.append(out)
        return np.array(rows, np.int64).reshape(len(loads), self.n_results)

    def decode_results(self, raw):
        return decode_words(raw, self.result_signed)

    def unit_x(self, x):
        """``x`` as float (batch, n_loads) in [0, 1]."""
        return batch_x(x, self.n_loads)


class OpRunner(Runnable):
    """The generic runner: ``n_loads`` load registers of ``load_reg_shape`` (kept across runs;
    written only while idle), the op's hardware wired to them by ``design.wire`` (which drives
    ``busy``), and a registered result multiplexer (``result_latency = 1``)."""

    def __init__(self, design):
        self.design = design
        super().__init__(n_loads=design.n_loads, n_results=design.n_results,
                         length=design.run_cycles, design_id=design.design_id,
                         result_latency=design.result_latency)

    def elaborate(self, platform):
        m = Module()
        d = self.design
        regs = [Signal(d.load_reg_shape, name=f"load_{n}") for n in d.load_names]
        with m.If(self.load_we & ~self.busy):
            with m.Switch(self.load_addr):
                for i, reg in enumerate(regs):
                    with m.Case(i):
                        m.d.sync += reg.eq(self.load_data)     # its low bits
        results = d.wire(m, self, regs)
        self.add_result_mux(m, results)
        return m


STEPS = Option("--steps", "steps", int, 8, "time steps per run (en pulses), 1..65535")


def check_steps(steps):
    return check_int("steps", steps, 1, 65535)
