"""iCE40 cost of the conv engine's TAC mode (:class:`scfpga.hdl.conv_tac.TACConvEngine`).

The digits conv layer (8x8 one-channel map, conv 3x3 padding 1 into 8 channels + bias, fold 1,
W = 8, seeded random weights) as a TAC engine for several chunk sizes K (beta = 1), each built
out of context for the UP5K (sg48, nextpnr seed 1, 24 MHz target) behind a wrapper that
XOR-reduces the current outputs. Beside the cost: clocks of the kernel sweeps per inference of
T = 256 SC cycles (``T / K`` sweeps of :meth:`TACConvEngine.sweep_clocks`).

    python scripts/conv_tac_cost.py [--chunks 1 4 16] [--out STEM]

Writes ``STEM.json`` and ``STEM.md`` (default ``results/conv_tac_cost``).
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np
from amaranth.back import verilog
from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scfpga.boards.build import build_verilog  # noqa: E402
from scfpga.hdl.conv_tac import TACConvEngine  # noqa: E402
from scfpga.model.conv import ConvLayer  # noqa: E402
from scfpga.model.conv_tac import TACParams  # noqa: E402

T, WIDTH = 256, 8


class Wrapped(wiring.Component):
    """The engine with its current outputs XOR-reduced (few pins, nothing optimised away)."""

    def __init__(self, engine):
        self.engine = engine
        super().__init__({"start": In(1), "we": In(1), "waddr": In(len(engine.waddr)),
                          "wbit": In(1), "step": In(1), "busy": Out(1), "cur_valid": Out(1),
                          "n_x": Out(1), "cur_x": Out(1)})

    def elaborate(self, platform):
        m = Module()
        m.submodules.engine = e = self.engine
        m.d.comb += [e.start.eq(self.start), e.we.eq(self.we), e.waddr.eq(self.waddr),
                     e.wbit.eq(self.wbit), e.step.eq(self.step), self.busy.eq(e.busy),
                     self.cur_valid.eq(e.cur_valid), self.n_x.eq(e.cur_n.xor()),
                     self.cur_x.eq(e.cur.as_unsigned().xor())]
        return m


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chunks", type=int, nargs="+", default=[1, 4, 16])
    ap.add_argument("--out", default=str(ROOT / "results" / "conv_tac_cost"))
    a = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    top = 1 << WIDTH
    layer = ConvLayer(rng.integers(-top, top + 1, (8, 1, 3, 3)), (1, 8, 8),
                      rng.integers(-top, top + 1, 8), 1, 1, accumulation="exact")
    rows = {}
    for k in a.chunks:
        tac = TACParams(k)
        engine = TACConvEngine(layer, tac, WIDTH)
        text = verilog.convert(Wrapped(engine), name="tac_top", emit_src=False)
        rep = build_verilog(text, "tac_top", ROOT / "build" / "conv_tac_cost" / f"k{k}",
                            freq_mhz=24.0, seed=1, force=True)
        sweep = engine.sweep_clocks()
        rows[k] = {"K": k, "word_bits": tac.word_bits, "logic_cells": rep["logic_cells"]["used"],
                   "ebr": rep["ebr"]["used"], "dsp": rep["dsp"]["used"],
                   "flip_flops": rep["flip_flops"], "fmax_mhz": rep["fmax_min_mhz"],
                   "sweep_clocks": sweep,
                   "sweeps_per_inference": T // k, "sweep_clocks_per_inference": T // k * sweep}
        print(rows[k], flush=True)
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps({"layer": layer.describe(), "T": T,
                                                    "rows": list(rows.values())}, indent=1))
    lines = ["Out-of-context UP5K builds (sg48, 24 MHz target, nextpnr seed 1) of the conv "
             f"engine in TAC mode (`python scripts/conv_tac_cost.py`): {layer.describe()}, "
             f"bias, W = {WIDTH}, beta = 1; kernel sweeps per inference of T = {T} SC cycles. "
             "K = 1 is the exact-accumulation conv engine without aggregation. The UP5K flow maps "
             "the K > 1 weight x chunk products into SB_MAC16 DSPs (`synth_ice40 -dsp`); their "
             "Fmax is the build's bound through the DSPs (into + 9.05 ns multiply + out) "
             "where that is the slower path.", "",
             "| K | word bits | LC | EBR | DSP | FF | Fmax (MHz) | clocks / sweep "
             "| sweeps / inference | sweep clocks / inference |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows.values():
        lines.append(f"| {r['K']} | {r['word_bits']} | {r['logic_cells']} | {r['ebr']} | "
                     f"{r['dsp']} | {r['flip_flops']} | {r['fmax_mhz']:.1f} | "
                     f"{r['sweep_clocks']} | "
                     f"{r['sweeps_per_inference']} | {r['sweep_clocks_per_inference']:,} |")
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
