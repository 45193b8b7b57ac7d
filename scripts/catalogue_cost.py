"""iCE40 UP5K cost of the SC layer catalogue ops (wta, inhibition, attention, dendrite,
predictive, recurrent).

Each op's generated component (:func:`scfpga.hdl.ops.component`, the RTL the benches prove) is
built out of context behind few pins by :class:`SerialPins`: every data input port is loaded
from one serial shift chain (one pin), and every output port is XOR-reduced into one pin, so no
logic can be optimised away and the design fits the SG48's IO. The chain adds one flip-flop per
input bit (reported, and subtracted in the ``FF (op)`` column). Flow: :mod:`scfpga.boards.build`
(Yosys ``synth_ice40`` -> nextpnr-ice40 -> icepack, seed 1, target 24 MHz, free IO).

    python scripts/catalogue_cost.py [--reuse]    (--reuse: keep builds of unchanged designs)

Writes results/catalogue_cost.{json,md}; build trees in build/catalogue_cost/.
"""
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from amaranth.back import verilog as amaranth_verilog  # noqa: E402
from amaranth.hdl import Cat, Module, Signal  # noqa: E402
from amaranth.lib import wiring  # noqa: E402
from amaranth.lib.wiring import In, Out  # noqa: E402

from scfpga.boards import build as flow  # noqa: E402
from scfpga.boards.toolchain import tool_versions  # noqa: E402
from scfpga.hdl.ops import component  # noqa: E402
from scfpga.model.attention import AttentionParams  # noqa: E402
from scfpga.model.dendrite import DendriteParams  # noqa: E402
from scfpga.model.inhibition import InhibitionParams  # noqa: E402
from scfpga.model.predictive import PredictiveParams  # noqa: E402
from scfpga.model.recurrent import RecurrentParams  # noqa: E402
from scfpga.model.wta import WTAParams  # noqa: E402

TOP = "catalogue_cost"
CONTROL = ("en", "start")                     # 1-bit control inputs keep their own pins

CASES = [
    ("wta", "n = 8, k = 1, W = 8", WTAParams(8, 1, 8)),
    ("wta", "n = 16, k = 3, W = 8", WTAParams(16, 3, 8)),
    ("inhibition", "n = 8, radius 2, strength 0.5, W = 8, frac 8", InhibitionParams.from_float()),
    ("attention", "Q 2x4, K 3x4, V 3x2, L = 256, W = 8, Sobol", AttentionParams()),
    ("dendrite", "4 branches x 3, 16-bit voltages, 12-bit inputs, shift 8",
     DendriteParams.from_float()),
    ("predictive", "4 inputs x 4 neurons, L = 256, W = 8, 8 weight fraction bits, lr 10/1024",
     PredictiveParams()),
    ("recurrent", "3 inputs, 10 neurons (reference draws, radius 0.9), L = 256, W = 8",
     RecurrentParams()),
    ("recurrent", "3 inputs, 10 neurons, feedback delay 3", RecurrentParams(feedback_delay=3)),
]


class SerialPins(wiring.Component):
    """``inner``'s data inputs from one serial chain, its outputs XOR-reduced to ``x``."""

    def __init__(self, inner):
        self.inner = inner
        members = inner.signature.members
        self.data_in = [n for n, m in members.items() if m.flow == wiring.In and n not in CONTROL]
        self.control = [n for n in CONTROL if n in members]
        self.outputs = [n for n, m in members.items() if m.flow == wiring.Out]
        self.chain_bits = sum(len(getattr(inner, n)) for n in self.data_in)
        sig = {"sin": In(1), "shift": In(1), "x": Out(1)}
        sig.update({n: In(1) for n in self.control})
        super().__init__(sig)

    def elaborate(self, platform):
        m = Module()
        m.submodules.inner = inner = self.inner
        chain = Signal(self.chain_bits)
        with m.If(self.shift):
            m.d.sync += chain.eq(Cat(self.sin, chain[:-1]))
        pos = 0
        for n in self.data_in:
            port = getattr(inner, n)
            m.d.comb += port.eq(chain[pos:pos + len(port)])
            pos += len(port)
        m.d.comb += [getattr(inner, n).eq(getattr(self, n)) for n in self.control]
        m.d.comb += self.x.eq(Cat(*(getattr(inner, n) for n in self.outputs)).xor())
        return m


def main(argv=None):
    reuse = "--reuse" in (sys.argv[1:] if argv is None else argv)
    build_root = ROOT / "build" / "catalogue_cost"
    rows = []
    for i, (op, what, params) in enumerate(CASES):
        wrapper = SerialPins(component(params))
        verilog = amaranth_verilog.convert(wrapper, name=TOP, emit_src=False)
        t = time.monotonic()
        work = build_root / f"{i}_{op}"
        if reuse and (work / "report.json").exists() and \
                (work / f"{TOP}.v").read_text() == verilog:       # same design, same flow
            r = json.loads((work / "report.json").read_text())
        else:
            r = flow.build_verilog(verilog, TOP, work, freq_mhz=24.0, seed=1, force=True)
        row = {"op": op, "config": what, "params": repr(params),
               "logic_cells": r["logic_cells"]["used"], "luts": r["luts"],
               "flip_flops": r["flip_flops"], "chain_ff": wrapper.chain_bits,
               "op_ff": r["flip_flops"] - wrapper.chain_bits, "carry_cells": r["carry_cells"],
               "ram": r.get("ram", {}).get("used") if isinstance(r.get("ram"), dict) else None,
               "dsp": r["dsp"]["used"], "dsp_note": r.get("dsp_note"),
               "fmax_min_mhz": r["fmax_min_mhz"], "timing_met": r["timing_met"]}
        rows.append(row)
        print(f"{op:10s} {what:45s} {row['logic_cells']:5d} LC {row['op_ff']:4d} FF(op) "
              f"Fmax {row['fmax_min_mhz']} MHz ({time.monotonic() - t:.0f} s)", flush=True)
    meta = {"device": "up5k", "package": "sg48", "freq_mhz": 24.0, "seed": 1, "lc_total": 5280,
            "tools": tool_versions()}
    out = ROOT / "results"
    (out / "catalogue_cost.json").write_text(json.dumps({**meta, "rows": rows}, indent=2) + "\n")
    md = [f"iCE40 UP5K-SG48 (5280 logic cells), out of context behind a serial input chain and "
          f"an XOR-reduced output pin (`scripts/catalogue_cost.py`); nextpnr seed 1, target 24 "
          f"MHz; {meta['tools'].get('yosys', '')}. LC include the chain's flip-flops "
          f"(`FF chain`); `FF (op)` is the op's own registers.", "",
          "| op | configuration | LC | LUT4 | FF (op) | FF chain | Fmax (MHz) |",
          "|---|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        f = f"{r['fmax_min_mhz']:.1f}" if r["fmax_min_mhz"] is not None else "-"
        md.append(f"| {r['op']} | {r['config']} | {r['logic_cells']} | {r['luts']} | "
                  f"{r['op_ff']} | {r['chain_ff']} | {f} |")
    # The UP5K flow's multipliers: SB_MAC16s, or all in logic cells when there are too many.
    notes = [f"{r['op']} ({r['config'].split(',')[0]}): {r['dsp_note']}" for r in rows
             if r["dsp_note"]]
    used = [f"{r['op']} {r['dsp']}" for r in rows if r["dsp"]]
    md += ["", "Multipliers (`synth_ice40 -dsp`, the UP5K default): DSPs used: "
           f"{', '.join(used) or 'none'}; " + ("; ".join(notes) if notes else "no fallback") + "."]
    md += ["", "Regenerate: `python scripts/catalogue_cost.py`.", ""]
    (out / "catalogue_cost.md").write_text("\n".join(md))
    print(f"wrote {out}/catalogue_cost.json and .md")


if __name__ == "__main__":
    main()
