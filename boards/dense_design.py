"""The dense SC layer as a runnable design: board top, UART protocol, host and run-level proof.

Loads are the input thresholds ``P_i = quantize_unipolar(x_i, width)`` (``n_inputs`` words).
Results ``0..n-1`` are the neurons' spike counts, ``n..2n-1`` their signed scores (the exact
signed count of product bits over the run, the class score; ``argmax`` of them is the
prediction). A run lasts ``params.length`` SC cycles of ``ceil(n_terms / lanes)`` clocks each.

Design files (TOML or JSON)::

    design = "dense"
    weights = "weights.npy"     # (n_neurons, n_inputs) reals in [-1, 1], path relative to the file
    bias = "bias.npy"           # optional, (n_neurons,) in [-1, 1]
    width = 8
    length = 256
    source = "sobol"            # or "lfsr"
    seed = 0
    accumulation = "counter"    # or "mux"
    lanes = 1                   # synapse columns per clock (power of two)
"""
import dataclasses
from pathlib import Path

import numpy as np
from amaranth.hdl import Module, Mux, Signal

from ..hdl.dense import Dense, run_schedule
from ..model.dense import DenseParams, SCDenseLayer
from ..model.params import ParameterError, load_array
from .designs import MAX_LOAD_WIDTH, ThresholdLoads, decode_words
from .protocol import LOAD_WIDTH
from .runnable import Runnable, design_id

DENSE_KEYS = {"design", "weights", "bias", "width", "length", "source", "seed", "accumulation",
              "lanes"}


class ClassifierResults(ThresholdLoads):
    """A design loaded with input thresholds whose results are every output neuron's spike
    count, then its signed score (the class is the argmax of the scores). Needs ``params``
    (with ``n_inputs``, ``width``, ``length``), ``n_outputs`` and ``describe()``."""

    @property
    def n_loads(self):
        return self.params.n_inputs

    @property
    def n_results(self):
        return 2 * self.n_outputs

    @property
    def result_names(self):
        n = self.n_outputs
        return tuple(f"count{j}" for j in range(n)) + tuple(f"score{j}" for j in range(n))

    @property
    def result_signed(self):
        return (False,) * self.n_outputs + (True,) * self.n_outputs

    @property
    def design_id(self):
        return design_id(self.describe())

    def decode_results(self, raw):
        return decode_words(raw, self.result_signed)

    def predict(self, results):
        """Class = argmax of the scores (first index on ties, as the models' ``predict``)."""
        return np.argmax(np.atleast_2d(results)[:, self.n_outputs:], axis=1)


@dataclasses.dataclass(frozen=True)
class DenseDesign(ClassifierResults):
    """A :class:`~scfpga.model.dense.DenseParams` layer behind the runnable contract."""
    params: DenseParams
    lanes: int = 1
    spec: dict | None = dataclasses.field(default=None, compare=False, repr=False)

    RUN_OPTIONS = ()                                  # the layer's own options say how it runs

    @classmethod
    def from_values(cls, op, values):
        """``scfpga build dense``: the design from the op's option values (``lanes`` included)."""
        params, kw = op.build(values)
        return cls(params, **kw)

    @classmethod
    def from_spec(cls, op, spec, base=None):
        """A design file ``design = "dense"`` (module docstring)."""
        return dense_from_dict(spec, base)

    def __post_init__(self):
        run_schedule(self.params, self.lanes)         # validates lanes
        if self.params.width > MAX_LOAD_WIDTH:
            raise ParameterError(f"width must be in 1..{MAX_LOAD_WIDTH} for a board design "
                                 f"(a threshold of 2**width must fit a {LOAD_WIDTH}-bit load word)")
        if self.spec is None:
            object.__setattr__(self, "spec", self.inline_spec())

    name = "dense"

    def inline_spec(self):
        """A design-file dictionary with the weights inline, so it stands on its own anywhere.

        Real weights ``q / 2**width`` quantise back to exactly ``q``.
        """
        p, top = self.params, float(1 << self.params.width)
        return {"design": "dense", "weights": (np.array(p.weights) / top).tolist(),
                "bias": None if p.bias is None else (np.array(p.bias) / top).tolist(),
                "width": p.width, "length": p.length, "source": p.source, "seed": p.seed,
                "accumulation": p.accumulation, "lanes": self.lanes}

    @property
    def run_cycles(self):
        """Cycles ``busy`` stays high after ``start``: the SC cycles plus the update pipeline."""
        return run_schedule(self.params, self.lanes).busy_clocks

    @property
    def n_outputs(self):
        return self.params.n_neurons

    def describe(self):
        p = self.params
        return {"design": "dense", "weights": [list(r) for r in p.weights],
                "bias": list(p.bias) if p.bias is not None else None, "width": p.width,
                "length": p.length, "source": p.source, "seed": p.seed,
                "accumulation": p.accumulation, "lanes": self.lanes}

    def component(self):
        return DenseRunner(self)

    def expected_results(self, loads):
        run = SCDenseLayer(self.params).evaluate_thresholds(np.atleast_2d(np.asarray(loads)))
        return np.concatenate([run.counts, run.scores], axis=1).astype(np.int64)


class DenseRunner(Runnable):
    """:class:`~scfpga.hdl.dense.Dense` with the runnable ports; ``result_data`` is registered
    (``result_latency = 1``) so the result multiplexer is off the layer's critical path."""

    def __init__(self, design: DenseDesign):
        self.design = design
        super().__init__(n_loads=design.n_loads, n_results=design.n_results, length=design.length,
                         design_id=design.design_id, result_latency=1)

    def elaborate(self, platform):
        m = Module()
        n = self.design.params.n_neurons
        m.submodules.dense = dense = Dense(self.design.params, self.design.lanes)
        is_score = Signal()
        m.d.comb += [
            dense.load.eq(self.load_we), dense.addr.eq(self.load_addr), dense.data.eq(self.load_data),
            dense.start.eq(self.start), dense.en.eq(1), self.busy.eq(dense.busy),
            is_score.eq(self.result_addr >= n),
            dense.sel.eq(Mux(is_score, self.result_addr - n, self.result_addr)),
        ]
        m.d.sync += self.result_data.eq(Mux(is_score, dense.score, dense.count))
        return m


def _array(spec, key, base):
    value = spec.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        return load_array(Path(base) / value if base else Path(value), key)
    return np.asarray(value, dtype=np.float64)


def dense_from_dict(spec, base=None):
    """A :class:`DenseDesign` from a design-file dictionary (arrays inline or as .npy paths)."""
    unknown = sorted(set(spec) - DENSE_KEYS)
    if unknown:
        raise ParameterError(f"unknown design file key {unknown[0]!r} (allowed: {', '.join(sorted(DENSE_KEYS))})")
    weights = _array(spec, "weights", base)
    if weights is None:
        raise ParameterError("a dense design needs weights (a .npy path or a nested list)")
    kw = {k: spec[k] for k in ("length", "source", "seed", "accumulation") if k in spec}
    params = DenseParams.from_float(weights, _array(spec, "bias", base), spec.get("width", 8), **kw)
    return DenseDesign(params, spec.get("lanes", 1))         # spec: inline, path-independent
