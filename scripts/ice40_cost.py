"""Measure the real iCE40 cost of every primitive: logic cells, flip-flops, carries, Fmax.

Each block is built out of context (its ports on free IO pins, no pcf) through the full
Yosys -> nextpnr -> icepack flow of :mod:`scfpga.boards.build`, with a fixed seed, so the numbers are
reproducible. Fmax is nextpnr's estimate for register-to-register paths of ``clk``; IO paths
are not part of it.

    python scripts/ice40_cost.py [--device up5k|hx8k|...] [--freq MHZ] [--seed N]

Writes ``results/ice40_cost.{json,md}`` for the UP5K and ``results/ice40_cost_<device>.{json,md}``
for any other device; build trees go to ``build/ice40_cost/<device>/``.
"""
import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scfpga.boards.build import DEVICES, build_block  # noqa: E402
from scfpga.model import (CounterParams, LFSRParams, LIFParams, MuxParams,  # noqa: E402
                          SNGParams, SobolParams, SynapseParams)
from scfpga.boards.toolchain import tool_versions  # noqa: E402

BLOCKS = [
    ("lfsr16", "16-bit maximal LFSR", LFSRParams(16, 1)),
    ("sobol16", "16-bit Sobol (dim 1, 16-bit index)", SobolParams(16, 1)),
    ("sng8_sobol", "8-bit SNG, Sobol source, prob port", SNGParams(SobolParams(8, 1))),
    ("sng16_sobol", "16-bit SNG, Sobol source, prob port", SNGParams(SobolParams(16, 1))),
    ("sng8_lfsr", "8-bit SNG, LFSR source, prob port", SNGParams(LFSRParams(8, 1))),
    ("sng16_lfsr", "16-bit SNG, LFSR source, prob port", SNGParams(LFSRParams(16, 1))),
    ("synapse_and", "AND synapse (combinational)", SynapseParams("and")),
    ("synapse_xnor", "XNOR synapse (combinational)", SynapseParams("xnor")),
    ("mux4", "4-input MUX adder, 8-bit Sobol select", MuxParams(4)),
    ("counter256", "ones counter, window 256", CounterParams(256)),
    ("lif16", "LIF, 16-bit membrane, 1 input", LIFParams(width=16)),
    ("lif16x4", "LIF, 16-bit membrane, 4 inputs", LIFParams(width=16, n_inputs=4)),
]

COLUMNS = ("logic_cells", "luts", "flip_flops", "carry_cells", "io", "fmax_min_mhz")


def measure(device, freq_mhz, seed, build_root, log=print):
    """Build every block: (block name -> cost summary, the device's logic-cell count)."""
    rows, lc_total = {}, None
    for name, what, params in BLOCKS:
        t = time.monotonic()
        r = build_block(params, name, build_root / name, device=device, freq_mhz=freq_mhz,
                        seed=seed, force=True)
        rows[name] = {"what": what, "params": repr(params),
                      "logic_cells": r["logic_cells"]["used"], "luts": r["luts"],
                      "flip_flops": r["flip_flops"], "carry_cells": r["carry_cells"],
                      "io": r["io"]["used"], "fmax_min_mhz": r["fmax_min_mhz"],
                      "timing_met": r["timing_met"], "cells": r["cells"],
                      "bin_sha256": r["bin_sha256"]}
        lc_total = r["logic_cells"]["total"]
        log(f"{name:13s} {r['logic_cells']['used']:5d} LC {r['flip_flops']:4d} FF "
            f"{r['carry_cells']:4d} carry  Fmax {r['fmax_min_mhz'] or '-'} MHz "
            f"({time.monotonic() - t:.1f} s)")
    return rows, lc_total


def markdown(meta, rows):
    lines = [f"iCE40 {meta['device'].upper()}-{meta['package']}: {meta['lc_total']} logic cells; "
             f"nextpnr seed {meta['seed']}, target {meta['freq_mhz']} MHz; "
             f"{meta['tools']['yosys']}, {meta['tools']['nextpnr-ice40']}. "
             "Out of context (free IO). LC is nextpnr's packed ICESTORM_LC count, which "
             "includes up to 2 cells that drive constants; FF and carry are SB_DFF*/SB_CARRY "
             "cells of the netlist; Fmax is nextpnr's register-to-register estimate for `clk`.",
             "",
             "| block | what | LC | LUT4 | FF | carry | IO | Fmax (MHz) |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for name, r in rows.items():
        fmax = f"{r['fmax_min_mhz']:.1f}" if r["fmax_min_mhz"] is not None else "comb."
        lines.append(f"| {name} | {r['what']} | {r['logic_cells']} | {r['luts']} | "
                     f"{r['flip_flops']} | {r['carry_cells']} | {r['io']} | {fmax} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="up5k", choices=sorted(DEVICES))
    ap.add_argument("--freq", type=float, default=24.0, help="target clock, MHz (default 24)")
    ap.add_argument("--seed", type=int, default=1, help="nextpnr seed (default 1)")
    args = ap.parse_args(argv)
    package = DEVICES[args.device][0]
    rows, lc_total = measure(args.device, args.freq, args.seed,
                             ROOT / "build" / "ice40_cost" / args.device)
    meta = {"device": args.device, "package": package, "freq_mhz": args.freq, "seed": args.seed,
            "lc_total": lc_total, "tools": tool_versions()}
    stem = "ice40_cost" if args.device == "up5k" else f"ice40_cost_{args.device}"
    out = ROOT / "results"
    out.mkdir(exist_ok=True)
    (out / f"{stem}.json").write_text(json.dumps({**meta, "blocks": rows}, indent=2) + "\n")
    (out / f"{stem}.md").write_text(markdown(meta, rows))
    print(f"wrote {out / stem}.json and .md")


if __name__ == "__main__":
    main()
