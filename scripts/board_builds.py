"""Build the 64-input x 16-neuron dense layer (W=8, L=256, Sobol) for every board.

Writes results/boards_dense64x16.json and .md: utilisation, Fmax and throughput per board, or
the resources over capacity for a board it does not fit. About 2 minutes per board.

    .venv/bin/python scripts/board_builds.py [--freq 24]
"""
import argparse
import json
from pathlib import Path

import numpy as np

from scfpga.boards.catalog import BOARDS
from scfpga.boards.dense_design import DenseDesign
from scfpga.boards.flow import build_board
from scfpga.boards.build import DesignTooLarge
from scfpga.model.dense import DenseParams


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--freq", type=float, default=24.0, help="core clock in MHz (default 24)")
    args = ap.parse_args()
    weights = np.random.default_rng(1).uniform(-1, 1, (16, 64))
    design = DenseDesign(DenseParams.from_float(weights, length=256, source="sobol"), lanes=1)
    clocks = design.run_cycles + design.n_loads
    rows = []
    for board in BOARDS:
        print(f"== {board}", flush=True)
        try:
            r = build_board(design, board, Path("build/boards") / f"dense64x16-{board}", args.freq,
                            force=True, progress=print)
        except DesignTooLarge as e:
            rows.append({"board": board, "fits": False, "error": str(e)})
            continue
        rows.append({"board": board, "fits": True, "device": r["device"],
                     "logic_cells": r["logic_cells"], "flip_flops": r["flip_flops"], "ebr": r["ebr"],
                     "spram": r["spram"], "clock_mhz": args.freq, "fmax_mhz": r["fmax_min_mhz"],
                     "timing_met": r["timing_met"], "inferences_per_s": args.freq * 1e6 / clocks,
                     "inferences_per_s_at_fmax": r["fmax_min_mhz"] * 1e6 / clocks})
    out = Path("results")
    (out / "boards_dense64x16.json").write_text(json.dumps(rows, indent=1))
    lines = ["# 64x16 dense layer on each board", "",
             f"W = 8, L = 256, Sobol, counter accumulation, 1 lane ({clocks} clocks per inference "
             f"including the 64 input loads), board top with PLL, UART protocol engine and LEDs; "
             f"core clock {args.freq:g} MHz. Regenerate: `.venv/bin/python scripts/board_builds.py`.", "",
             "| board | device | logic cells | FF | EBR | SPRAM | Fmax (MHz) | timing | inferences/s at clock / at Fmax |",
             "|---|---|---:|---:|---:|---:|---:|---|---:|"]
    for r in rows:
        if not r["fits"]:
            lines.append(f"| {r['board']} | — | does not fit: {r['error'].split(': ', 1)[-1]} | | | | | | |")
            continue
        lines.append(f"| {r['board']} | {r['device']} | {r['logic_cells']['used']} / {r['logic_cells']['total']} | "
                     f"{r['flip_flops']} | {r['ebr']['used']} / {r['ebr']['total']} | "
                     f"{r['spram']['used']} / {r['spram']['total']} | {r['fmax_mhz']:.1f} | "
                     f"{'met' if r['timing_met'] else 'NOT met'} | "
                     f"{r['inferences_per_s']:.0f} / {r['inferences_per_s_at_fmax']:.0f} |")
    (out / "boards_dense64x16.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
