"""iCE40 UP5K cost of the on-chip STDP layer, and of the board designs of the catalogue ops and
STDP (what ``scfpga build NAME --board icebreaker`` makes with the op's defaults).

1. The STDP layer (:class:`scfpga.hdl.stdp.STDPLayer`) out of context, behind the serial input
   chain and XOR-reduced output pin of ``scripts/catalogue_cost.py`` (its ``SerialPins``):
   Yosys ``synth_ice40`` -> nextpnr-ice40 (seed 1, target 24 MHz, free IO) -> icepack.
2. Each board design whole (PLL, UART protocol engine, BATCH FIFOs, load registers, the op),
   built by :func:`scfpga.boards.flow.build_board` for the iCEBreaker at its default clock.

    python scripts/stdp_cost.py [--reuse] [--only layer|boards]

``--reuse`` keeps builds whose Verilog (layer) or design id (boards) is unchanged. Writes
results/stdp_cost.{json,md} and results/op_boards.{json,md}; build trees in build/stdp_cost/.
"""
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from amaranth.back import verilog as amaranth_verilog  # noqa: E402

from catalogue_cost import SerialPins  # noqa: E402
from scfpga.boards import build as flow  # noqa: E402
from scfpga.boards.flow import build_board  # noqa: E402
from scfpga.boards.ops import runnable  # noqa: E402
from scfpga.boards.toolchain import tool_versions  # noqa: E402
from scfpga.hdl.stdp import STDPLayer, run_cycles, step_cycles  # noqa: E402
from scfpga.model.faults import stuck_at_map  # noqa: E402
from scfpga.model.ops import get  # noqa: E402
from scfpga.model.stdp import STDPParams  # noqa: E402

TOP = "stdp_cost"
BOARD = "icebreaker"
_FAULTY = STDPParams()
CASES = [
    ("16 x 4, W 8, B 8, deterministic (defaults)", STDPParams()),
    ("16 x 4, stochastic update, LFSR", STDPParams(stochastic=True)),
    ("16 x 4, stochastic update, Sobol", STDPParams(stochastic=True, update_source="sobol")),
    ("16 x 4, 10 % stuck synapses + offsets (fault ROM)",
     _FAULTY.with_faults(stuck_at_map(_FAULTY.shape, 8, 0.1, seed=1, sigma=2.0))),
    ("64 x 16, W 8, B 8, deterministic", STDPParams(n_inputs=64, n_neurons=16)),
    ("64 x 4, B 12, 12-bit traces", STDPParams(n_inputs=64, n_neurons=4, weight_bits=12,
                                                trace_bits=12, rate_shift=12)),
]
BOARD_OPS = ("wta", "inhibition", "attention", "dendrite", "predictive", "recurrent", "stdp",
             "hwaware", "memristive")


def layer_rows(build_root, reuse):
    rows = []
    for i, (what, params) in enumerate(CASES):
        wrapper = SerialPins(STDPLayer(params))
        verilog = amaranth_verilog.convert(wrapper, name=TOP, emit_src=False)
        work = build_root / f"layer{i}"
        t = time.monotonic()
        if reuse and (work / "report.json").exists() and (work / f"{TOP}.v").read_text() == verilog:
            r = json.loads((work / "report.json").read_text())
        else:
            r = flow.build_verilog(verilog, TOP, work, freq_mhz=24.0, seed=1, force=True)
        row = {"config": what, "params": repr(params), "logic_cells": r["logic_cells"]["used"],
               "luts": r["luts"], "flip_flops": r["flip_flops"], "chain_ff": wrapper.chain_bits,
               "ebr": r["ebr"]["used"], "dsp": r["dsp"]["used"],
               "fmax_min_mhz": r["fmax_min_mhz"], "dsp_timing_note": r.get("dsp_timing_note"),
               "timing_met": r["timing_met"], "step_clocks": step_cycles(params),
               "epoch_clocks": run_cycles(params)}
        rows.append(row)
        print(f"layer {what:50s} {row['logic_cells']:5d} LC {row['ebr']} EBR "
              f"Fmax {row['fmax_min_mhz']} MHz ({time.monotonic() - t:.0f} s)", flush=True)
    return rows


def board_rows(build_root, reuse):
    rows = []
    for name in BOARD_OPS:
        op = get(name)
        design = runnable(op, op.defaults())
        work = build_root / f"board_{name}"
        t = time.monotonic()
        report = work / "report.json"
        if reuse and report.exists() and \
                json.loads(report.read_text())["design"]["design_id"] == design.design_id:
            r = json.loads(report.read_text())
        else:
            r = build_board(design, BOARD, work, force=True)
        # The clock's Fmax, or the bound through unclocked SB_MAC16s when that is slower.
        through = r["fmax_mhz"].get("clk through SB_MAC16", {}).get("achieved")
        fmax = min(x for x in (r["fmax_mhz"]["clk"]["achieved"], through) if x is not None)
        row = {"op": name, "design": design.name, "n_loads": design.n_loads,
               "n_results": design.n_results, "run_cycles": design.run_cycles,
               "stateful": bool(getattr(design, "stateful", False)),
               "logic_cells": r["logic_cells"]["used"], "flip_flops": r["flip_flops"],
               "ebr": r["ebr"]["used"], "dsp": r["dsp"]["used"],
               "dsp_note": r.get("dsp_note"), "clock_mhz": r["board"]["clock_mhz"],
               "fmax_mhz": fmax, "timing_met": r["timing_met"],
               "design_id": f"0x{design.design_id:08x}"}
        rows.append(row)
        print(f"board {name:11s} {row['logic_cells']:5d} LC {row['ebr']} EBR Fmax "
              f"{row['fmax_mhz']} MHz at {row['clock_mhz']} MHz ({time.monotonic() - t:.0f} s)",
              flush=True)
    return rows


def write(name, payload, md):
    out = ROOT / "results"
    (out / f"{name}.json").write_text(json.dumps(payload, indent=2) + "\n")
    (out / f"{name}.md").write_text("\n".join(md) + "\n")
    print(f"wrote {out}/{name}.json and .md")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    reuse = "--reuse" in argv
    only = argv[argv.index("--only") + 1] if "--only" in argv else None
    build_root = ROOT / "build" / "stdp_cost"
    tools = tool_versions()
    if only in (None, "layer"):
        rows = layer_rows(build_root, reuse)
        md = ["STDP layer on an iCE40 UP5K-SG48 (5280 LC, 30 EBR) out of context behind a "
              "serial input chain (`scripts/stdp_cost.py`); nextpnr seed 1, target 24 MHz; "
              f"{tools.get('yosys', '')}. LC include the chain's flip-flops (`FF chain`). One "
              "synapse per clock: a time step takes `step` clocks, an epoch `epoch`. The UP5K flow "
              "(`synth_ice40 -dsp`) puts the deterministic update's depression product (trace "
              "x `a_minus`, 11 bits or wider) into one unregistered SB_MAC16 (the stochastic "
              "updates have none); Fmax is the slower of nextpnr's figure and the build's "
              "bound through the DSP (into + 9.05 ns multiply + out).", "",
              "| configuration | LC | LUT4 | FF | FF chain | EBR | DSP | Fmax (MHz) | step "
              "| epoch |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        md += [f"| {r['config']} | {r['logic_cells']} | {r['luts']} | {r['flip_flops']} | "
               f"{r['chain_ff']} | {r['ebr']} | {r['dsp']} | {r['fmax_min_mhz']:.1f} | "
               f"{r['step_clocks']} | {r['epoch_clocks']} |" for r in rows]
        md += ["", "Regenerate: `python scripts/stdp_cost.py --only layer`."]
        write("stdp_cost", {"device": "up5k", "package": "sg48", "freq_mhz": 24.0, "seed": 1,
                            "tools": tools, "rows": rows}, md)
    if only in (None, "boards"):
        rows = board_rows(build_root, reuse)
        md = [f"Board designs with each op's defaults, `scfpga build NAME --board {BOARD}` "
              "(UP5K, default clock, nextpnr seed 1): the whole top (PLL, UART engine, BATCH "
              "FIFOs, load registers, the op). `*`: stateful (state carried between runs). "
              "Multipliers go into the SB_MAC16 DSPs (`synth_ice40 -dsp`) unless there are more "
              "than the 8 DSPs (then all in logic cells); Fmax is the slower of the clock's "
              "and the bound through the DSPs.", "",
              "| op | loads | results | clocks/run | LC | FF | EBR | DSP | clock (MHz) "
              "| Fmax (MHz) |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        md += [f"| {r['op']}{' *' if r['stateful'] else ''} | {r['n_loads']} | "
               f"{r['n_results']} | {r['run_cycles']} | {r['logic_cells']} | "
               f"{r['flip_flops']} | {r['ebr']} | {r['dsp']} | {r['clock_mhz']:g} | "
               f"{r['fmax_mhz']:.1f} |"
               for r in rows]
        notes = [f"{r['op']}: {r['dsp_note']}" for r in rows if r["dsp_note"]]
        if notes:
            md += ["", "DSP fallback: " + "; ".join(notes) + "."]
        md += ["", "Regenerate: `python scripts/stdp_cost.py --only boards`."]
        write("op_boards", {"board": BOARD, "seed": 1, "tools": tools, "rows": rows}, md)


if __name__ == "__main__":
    main()
