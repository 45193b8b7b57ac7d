"""Design-point evaluators for :mod:`scfpga.sweep`: one point in, a dict of metrics out.

An evaluator is a plain top-level function ``f(point, options) -> dict`` so that it pickles to
worker processes and Dask workers. Builds are cached by the hash of their Verilog under
``options["build_cache"]``, because many sweep points share one piece of hardware (the
bitstream length, say, rarely changes the logic).
"""
import hashlib
import json
from pathlib import Path

import numpy as np

from .model import LFSRParams, SNGParams, SobolParams, quantize_unipolar, sng_bits


def cached_build(verilog, top, options):
    """Real yowasp build of ``verilog`` (or its cached report): logic cells, FFs, Fmax."""
    from .build import build_verilog
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
    from .hdl import to_verilog
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


def primitive_params(block, width):
    """The parameter object of a primitive at a given width (the cost study's design points)."""
    from .model import CounterParams, LIFParams, MuxParams
    if block == "lfsr":
        return LFSRParams(max(width, 3), 1)
    if block == "sobol":
        return SobolParams(width, 1)
    if block in ("sng_sobol", "sng_lfsr"):
        return SNGParams(_source(block[4:], max(width, 3)))
    if block == "mux4":
        return MuxParams(4, SobolParams(width, 1))
    if block == "counter":
        return CounterParams((1 << width) - 1)
    if block == "lif":
        return LIFParams(width=width)
    raise ValueError(f"unknown block {block!r}")


def evaluate_cost(point, options):
    """Real iCE40 cost of one primitive: point keys ``block``, ``width``, ``device``."""
    from .hdl import to_verilog
    top = point["block"]
    opts = dict(options, device=point.get("device", options.get("device", "up5k")))
    return cached_build(to_verilog(primitive_params(point["block"], int(point["width"])), top), top, opts)


EVALUATORS = {"sng": evaluate_sng, "cost": evaluate_cost}


def register(name, function):
    """Make ``function(point, options)`` available to sweeps as ``evaluator = name``."""
    EVALUATORS[name] = function
