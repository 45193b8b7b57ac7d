"""Design-point evaluators for :mod:`scfpga.sweep`: one point in, a dict of metrics out.

An evaluator is a plain top-level function ``f(point, options) -> dict`` so that it pickles to
worker processes and Dask workers. Builds are cached by the hash of their Verilog under
``options["build_cache"]``, because many sweep points share one piece of hardware (the
bitstream length, say, rarely changes the logic).
"""
import hashlib
import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .boards.build import build_verilog
from .digits import load_split, to_dense_params, train_float
from .hdl.verilog import to_verilog
from .model import LFSRParams, SNGParams, SobolParams, quantize_unipolar, sng_bits
from .model.dense import MAX_LENGTH as MAX_DENSE_LENGTH, DenseParams, SCDenseLayer
from .model.ops import OPS
from .model.params import ParameterError, check_choice, check_int, check_seed
from .ooc import DENSE_TOP, clocks_per_inference, dense_ooc_verilog


def cached_build(verilog, top, options):
    """Real yowasp build of ``verilog`` (or its cached report): logic cells, FFs, Fmax."""
    device = options.get("device", "up5k")
    digest = hashlib.sha1(f"{device}\n{top}\n{verilog}".encode()).hexdigest()[:16]
    out = Path(options["build_cache"]) / f"{top}-{digest}"
    report_file = out / "report.json"
    if report_file.exists():
        report = json.loads(report_file.read_text())
    else:
        report = build_verilog(verilog, top, out, device=device,
                               freq_mhz=options.get("freq_mhz", 24.0), force=True)
    return {"logic_cells": report["logic_cells"]["used"], "flip_flops": report["flip_flops"],
            "ebr": report["ebr"]["used"], "fmax_mhz": report["fmax_min_mhz"],
            "timing_met": report["timing_met"],
            "build_seconds": report["wall_time_s"].get("total")}


def _source(kind, width, seed=1, dim=1):
    return LFSRParams(width, seed) if kind == "lfsr" else SobolParams(width, dim)


def evaluate_sng(point, options):
    """SNG accuracy on a grid of values and, optionally, its real iCE40 cost.

    Point keys: ``length`` (L), ``width``, ``source`` (lfsr/sobol). Accuracy is
    ``1 - mean |decoded - x|`` over 257 values in [0, 1].
    """
    width, length = int(point["width"]), int(point["length"])
    params = SNGParams(_source(point["source"], width))
    x = np.linspace(0, 1, 257)
    ones = sng_bits(params, length, prob=quantize_unipolar(x, width)).sum(-1)
    err = np.abs(ones / length - x)
    metrics = {"accuracy": float(1 - err.mean()), "mean_abs_error": float(err.mean()),
               "max_abs_error": float(err.max())}
    if options.get("build", True):
        metrics.update(cached_build(to_verilog(params, "sng"), "sng", options))
    return metrics


# The cost study's block names: (op, option values at width w); any other op name takes its
# defaults with ``width = w``.
COST_BLOCKS = {
    "lfsr": ("lfsr", lambda w: {"width": max(w, 3)}),
    "sng_sobol": ("sng", lambda w: {"source": "sobol", "width": max(w, 3)}),
    "sng_lfsr": ("sng", lambda w: {"source": "lfsr", "width": max(w, 3)}),
    "mux4": ("mux", lambda w: {"n_inputs": 4, "width": w}),
    "counter": ("counter", lambda w: {"window": (1 << w) - 1}),
}


def primitive_params(block, width):
    """The parameter object of a block at a given width (the cost study's design points):
    a :data:`COST_BLOCKS` name or any op of :mod:`scfpga.model.ops` with a ``width`` option."""
    name, values = COST_BLOCKS.get(block, (block, lambda w: {"width": w}))
    op = OPS.get(name)
    if op is None or op.layer or not set(values(width)) <= {o.field for o in op.options}:
        raise ValueError(f"unknown block {block!r}")
    params, _ = op.build({**op.defaults(), **values(width)})
    return params


def evaluate_cost(point, options):
    """Real iCE40 cost of one primitive: point keys ``block``, ``width``, ``device``."""
    top = point["block"]
    opts = dict(options, device=point.get("device", options.get("device", "up5k")))
    return cached_build(to_verilog(primitive_params(point["block"], int(point["width"])), top), top, opts)


# ---------------------------------------------------------------------------- dense layers

DENSE_DATA = ("digits", "teacher")
TEACHER_SAMPLES = 1000
TEACHER_SEED = 0


@lru_cache(maxsize=1)
def _digits():
    """The fixed digits split and its float classifier, once per worker process (the fit is
    the slow part and every digits point needs the same one)."""
    split = load_split()
    return split, train_float(split.x_train, split.y_train)


def teacher_problem(n_inputs, n_neurons, n_samples=TEACHER_SAMPLES, seed=TEACHER_SEED):
    """The seeded random teacher of the ``dense`` evaluator's ``teacher`` data.

    Returns
    -------
    weights : ndarray (n_neurons, n_inputs)
        Float teacher weights, uniform in [-1, 1] (no bias).
    x : ndarray (n_samples, n_inputs)
        Inputs, uniform in [0, 1].
    labels : ndarray (n_samples,)
        The teacher's ``argmax(x @ weights.T)``, the labels the SC layer is scored against.
    """
    rng = np.random.default_rng(seed)
    w = rng.uniform(-1, 1, (n_neurons, n_inputs))
    x = rng.uniform(0, 1, (n_samples, n_inputs))
    return w, x, np.argmax(x @ w.T, axis=-1)


def _size(point):
    if "size" in point:                          # "64x16": a sweep over chosen shapes, not a product
        try:
            n_in, n_out = (int(v) for v in str(point["size"]).lower().split("x"))
        except ValueError:
            raise ParameterError(f"size must look like 64x16 (n_inputs x n_neurons), "
                                 f"got {point['size']!r}") from None
        return n_in, n_out
    if "n_inputs" not in point or "n_neurons" not in point:
        raise ParameterError("teacher data needs point keys n_inputs and n_neurons (or size)")
    return int(point["n_inputs"]), int(point["n_neurons"])


def dense_problem(point, options):
    """The layer and its test data for one ``dense`` point: ``(params, x, labels)``."""
    data = options.get("data", "digits")
    check_choice("data", data, DENSE_DATA)
    kw = dict(length=int(point["length"]), source=point.get("source", "sobol"),
              seed=int(point.get("seed", 0)),
              accumulation=point.get("accumulation", "counter"))
    width = int(point.get("width", 8))
    if data == "digits":
        split, model = _digits()
        return to_dense_params(model, width=width, **kw), split.x_test, split.y_test
    n_inputs, n_neurons = _size(point)
    w, x, labels = teacher_problem(n_inputs, n_neurons,
                                   int(options.get("n_samples", TEACHER_SAMPLES)),
                                   int(options.get("teacher_seed", TEACHER_SEED)))
    return DenseParams.from_float(w, None, width, **kw), x, labels


def evaluate_dense(point, options):
    """Accuracy of a dense SC layer (golden model) and its real iCE40 cost and throughput.

    Point keys
        ``length`` (L), ``width`` (W, default 8), ``source`` (``sobol``/``lfsr``, default
        sobol), ``lanes`` (synapse columns per clock, a power of two, default 1),
        ``accumulation`` (``counter``/``mux``, default counter), ``seed`` (DenseParams seed,
        default 0); with teacher data also ``n_inputs`` and ``n_neurons``, or ``size`` as
        ``"64x16"`` (so one sweep can list chosen shapes instead of a product).

    Options
        ``data``: ``"digits"`` (default) maps the 64x10 digits classifier
        (:mod:`scfpga.digits`, fixed split, bias as a synapse); ``accuracy`` is the SC golden
        model's test accuracy. ``"teacher"``: the layer is a seeded random float teacher
        (:func:`teacher_problem`, weights uniform in [-1, 1], no bias) quantised to W bits;
        ``accuracy`` is the share of ``n_samples`` (default 1000) seeded uniform inputs on
        which the SC layer's argmax equals the float teacher's, i.e. what SC noise and weight
        quantisation cost (a 1-neuron layer agrees trivially). ``teacher_seed`` (default 0).
        ``build`` (default true), ``device`` (default up5k), ``freq_mhz`` (default 24).

    Returns
    -------
    dict
        ``accuracy``, ``n_inputs``, ``n_neurons``, ``clocks_per_inference`` (threshold
        loading plus a run, :func:`scfpga.ooc.clocks_per_inference`); with a build also
        the :func:`cached_build` metrics and ``inferences_per_s`` = Fmax / clocks per
        inference. A layer that does not fit raises
        :class:`~scfpga.boards.build.DesignTooLarge` (the sweep records it, naming the resource).
    """
    params, x, labels = dense_problem(point, options)
    lanes = int(point.get("lanes", 1))
    verilog, dense = dense_ooc_verilog(params, lanes)    # validates lanes before any model work
    pred = SCDenseLayer(params).predict(x)
    clocks = clocks_per_inference(dense)
    metrics = {"accuracy": float(np.mean(pred == labels)), "n_inputs": params.n_inputs,
               "n_neurons": params.n_neurons, "clocks_per_inference": clocks}
    if options.get("build", True):
        metrics.update(cached_build(verilog, DENSE_TOP, options))
        fmax = metrics["fmax_mhz"]
        metrics["inferences_per_s"] = round(fmax * 1e6 / clocks, 1) if fmax else None
    return metrics


EVALUATORS = {"sng": evaluate_sng, "cost": evaluate_cost, "dense": evaluate_dense}


# ------------------------------------------------------------------------ spec schemas
# Each check is check(name, value) -> None, raising ParameterError naming ``name`` (e.g.
# ``grid.length``) and what is allowed. Ranges an evaluator's parameter objects check anyway
# (width per source, say) are left to them: such a point fails and is recorded as failed.

def _int_in(lo, hi=None):
    return lambda name, v: check_int(name, v, lo, hi)


def _choice(*choices):
    def check(name, v):
        if not isinstance(v, str):
            raise ParameterError(f"{name} must be one of {', '.join(choices)}, got {v!r}")
        check_choice(name, v, choices)
    return check


def _string(name, v):
    if not isinstance(v, str) or not v:
        raise ParameterError(f"{name} must be a non-empty string, got {v!r}")


def _bool(name, v):
    if not isinstance(v, bool):
        raise ParameterError(f"{name} must be true or false, got {v!r}")


def _positive(name, v):
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
        raise ParameterError(f"{name} must be a number > 0, got {v!r}")


def _size_text(name, v):
    if not isinstance(v, str):
        raise ParameterError(f"{name} must look like \"64x16\" (n_inputs x n_neurons), got {v!r}")
    _size({"size": v})


BUILD_METRICS = ("logic_cells", "flip_flops", "ebr", "fmax_mhz", "timing_met", "build_seconds")
BUILD_OPTIONS = {"build": _bool, "device": _string, "freq_mhz": _positive, "build_cache": _string}


@dataclass(frozen=True)
class Schema:
    """What a sweep spec may hold for one evaluator: grid keys and option keys with their
    checks, and the metric names (objectives) it returns."""
    grid: dict
    options: dict
    metrics: tuple
    objectives: tuple = ("accuracy", "logic_cells")       # the default objectives


SCHEMAS = {
    "sng": Schema({"length": _int_in(1, 1 << 24), "width": _int_in(1),
                   "source": _choice("lfsr", "sobol")},
                  dict(BUILD_OPTIONS),
                  ("accuracy", "mean_abs_error", "max_abs_error", *BUILD_METRICS)),
    "cost": Schema({"block": _string, "width": _int_in(1), "device": _string},
                   {k: v for k, v in BUILD_OPTIONS.items() if k != "build"},
                   BUILD_METRICS, ("fmax_mhz", "logic_cells")),
    "dense": Schema({"length": _int_in(1, MAX_DENSE_LENGTH), "width": _int_in(1),
                     "source": _choice("sobol", "lfsr"), "lanes": _int_in(1, 1024),
                     "accumulation": _choice("counter", "mux"), "seed": check_seed,
                     "n_inputs": _int_in(1, 4096), "n_neurons": _int_in(1, 4096), "size": _size_text},
                    {**BUILD_OPTIONS, "data": _choice(*DENSE_DATA), "n_samples": _int_in(1, 10**6),
                     "teacher_seed": check_seed},
                    ("accuracy", "n_inputs", "n_neurons", "clocks_per_inference", *BUILD_METRICS,
                     "inferences_per_s")),
}


def check_point(evaluator, point):
    """Check one point's keys and values against :data:`SCHEMAS` (also for the API, where a
    point may come from anywhere); ParameterError names the key."""
    schema = SCHEMAS[evaluator]
    for key, value in point.items():
        if key not in schema.grid:
            raise ParameterError(f"unknown point key {key!r} (allowed: {', '.join(schema.grid)})")
        schema.grid[key](key, value)
