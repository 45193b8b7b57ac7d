"""Measure the iCE40 cost of the dense SC layer: logic cells, block RAM, Fmax, throughput.

Each variant is the :class:`scfpga.hdl.dense.Dense` layer built out of context for the UP5K
(sg48) through Yosys -> nextpnr -> icepack (:func:`scfpga.boards.build.build_verilog`, fixed seed). The
layer's ports (threshold write port, read port, spike bits) would need more IO than the package
has, so a thin wrapper (:class:`scfpga.ooc.SerialWrapper`, shared with the ``dense`` sweep
evaluator) shifts the threshold writes in serially (1 data pin) and XOR-reduces the wide outputs
to single pins; the reductions depend on every bit, so no logic is optimised away.

Throughput is inferences per second at the achieved Fmax: one inference = loading the
``n_inputs`` thresholds (one write per clock through the parallel port; the serial wrapper is a
measurement aid) plus ``Dense.clocks_per_run`` clocks.

    python scripts/dense_cost.py [--quick] [--freq MHZ] [--seed N]

Writes ``results/dense_cost.json``; build trees go to ``build/dense_cost/<variant>/``.
"""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scfpga.boards.build import build_verilog  # noqa: E402
from scfpga.model.dense import DenseParams  # noqa: E402
from scfpga.ooc import DENSE_TOP, clocks_per_inference, dense_ooc_verilog  # noqa: E402
from scfpga.boards.toolchain import tool_versions  # noqa: E402


def layer(n_inputs, n_neurons, width=8, length=256, bias=False, seed=0, **kwargs):
    """A layer with seeded random weights in [-1, 1] (dense: no zero weights to prune)."""
    rng = np.random.default_rng(seed)
    w = rng.uniform(-1, 1, (n_neurons, n_inputs))
    b = rng.uniform(-1, 1, n_neurons) if bias else None
    return DenseParams.from_float(w, b, width, length=length, **kwargs)


VARIANTS = [
    # name, description, params, lanes
    ("d64x16_sobol_l1", "64x16, W=8, L=256, Sobol, counter, 1 lane (default)",
     lambda: layer(64, 16), 1),
    ("d64x16_sobol_l2", "64x16, W=8, L=256, Sobol, counter, 2 lanes",
     lambda: layer(64, 16), 2),
    ("d64x16_lfsr_l1", "64x16, W=8, L=256, 16-bit LFSR, counter, 1 lane",
     lambda: layer(64, 16, source="lfsr"), 1),
    ("d64x16_sobol_mux", "64x16, W=8, L=256, Sobol, MUX accumulation, 1 lane",
     lambda: layer(64, 16, accumulation="mux"), 1),
    ("d64x10_bias_l1", "64x10 + bias (the digits classifier shape), W=8, L=256, Sobol",
     lambda: layer(64, 10, bias=True), 1),
]
QUICK = ("d64x16_sobol_l1",)


def measure(name, what, params, lanes, freq, seed, build_root, log=print):
    verilog, dense = dense_ooc_verilog(params, lanes, DENSE_TOP)
    top = DENSE_TOP
    t = time.monotonic()
    report = build_verilog(verilog, top, build_root / name,
                           device="up5k", freq_mhz=freq, seed=seed, force=True)
    fmax = report["fmax_min_mhz"]
    clocks = clocks_per_inference(dense)
    row = {
        "what": what, "params": params.describe(), "lanes": lanes,
        "architecture": dense.describe(),
        "logic_cells": report["logic_cells"], "ebr": report["ebr"], "spram": report["spram"],
        "io": report["io"], "flip_flops": report["flip_flops"], "luts": report["luts"],
        "carry_cells": report["carry_cells"], "fmax_mhz": fmax, "target_mhz": freq,
        "timing_met": report["timing_met"],
        "clocks_per_inference": clocks, "clocks_per_run": dense.clocks_per_run,
        "inferences_per_s": round(fmax * 1e6 / clocks, 1) if fmax else None,
        "inferences_per_s_at_target": round(freq * 1e6 / clocks, 1),
        "synaptic_bit_ops_per_s": (round(fmax * 1e6 / clocks * params.n_inputs * params.n_neurons
                                         * params.length) if fmax else None),
        "bin_sha256": report["bin_sha256"], "build_s": round(time.monotonic() - t, 1),
    }
    lc = report["logic_cells"]
    log(f"{name:18s} {lc['used']:5d}/{lc['total']} LC  {report['ebr']['used']:2d}/"
        f"{report['ebr']['total']} EBR  Fmax {fmax} MHz  {row['inferences_per_s']} inf/s "
        f"({row['build_s']} s)")
    return row


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="only the default 64x16 variant")
    ap.add_argument("--freq", type=float, default=24.0, help="target clock in MHz (24)")
    ap.add_argument("--seed", type=int, default=1, help="nextpnr placer seed")
    ap.add_argument("--out", default=str(ROOT / "results" / "dense_cost.json"))
    args = ap.parse_args(argv)
    build_root = ROOT / "build" / "dense_cost"
    rows = {}
    for name, what, make, lanes in VARIANTS:
        if args.quick and name not in QUICK:
            continue
        rows[name] = measure(name, what, make(), lanes, args.freq, args.seed, build_root)
    default = rows["d64x16_sobol_l1"]
    out = {
        "device": "up5k-sg48", "target_mhz": args.freq, "seed": args.seed,
        "fits_up5k": all(r["logic_cells"]["used"] <= r["logic_cells"]["total"]
                         and r["ebr"]["used"] <= r["ebr"]["total"] for r in rows.values()),
        "summary": {k: default[k] for k in ("logic_cells", "ebr", "fmax_mhz", "timing_met",
                                            "inferences_per_s", "clocks_per_inference")},
        "variants": rows, "tools": tool_versions(),
        "wrapper": "serial threshold loading + XOR-reduced outputs (see script docstring)",
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
