"""iCE40 cost of every neuron-zoo update core: logic cells, DSPs, flip-flops, Fmax.

Each type is built as the smallest folded bank (:class:`scfpga.sim.neuron.FoldedNeurons` with
one neuron: the combinational ``step_core`` between its state register and itself, plus the
registered ``fire``; pins: ``current``, ``fire`` and the first state field), out of context
(free IO, no pcf), through the build flow of
:mod:`scfpga.boards.build` (Yosys -> nextpnr -> icepack, fixed seed), as
``scripts/ice40_cost.py`` does. Two syntheses per type:

* ``lut``: the build flow with ``dsp=False`` (``synth_ice40``: multipliers in logic cells);
* ``dsp``: the same flow with ``dsp=True`` (``synth_ice40 -dsp``: multipliers in the UP5K's
  SB_MAC16 DSPs; the UP5K default).

Fmax is nextpnr's register-to-register estimate: the state -> core -> state loop, i.e. the rate
at which a folded layer can update one neuron per clock. nextpnr does not time paths through an
SB_MAC16 used without its registers; the build report bounds them (into + multiply + out,
``fmax_mhz["clk through SB_MAC16"]``, :mod:`scfpga.boards.build`) and its ``fmax_min_mhz``
includes that bound. Where nextpnr reports no path to or from the DSPs (the report's
``dsp_timing_note``) the ``dsp`` row has no clock figure. This core is the combinational one;
network layers register every product (the pipelined core), which these rows do not measure.

    python scripts/neuron_cost.py [--width 16] [--current-bits 8] [--freq MHZ] [--seed N]

Writes ``results/neuron_cost.{json,md}``; build trees go to ``build/neuron_cost/``.
"""
import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scfpga.boards import build as flow  # noqa: E402
from scfpga.boards.toolchain import tool_versions  # noqa: E402
from scfpga.model import neuron_types as nt  # noqa: E402
from amaranth.back import verilog as amaranth_verilog  # noqa: E402
from amaranth.hdl import Module, signed  # noqa: E402
from amaranth.lib import wiring  # noqa: E402
from amaranth.lib.wiring import In, Out  # noqa: E402

from scfpga.sim.neuron import FoldedNeurons  # noqa: E402

TOP = "neuron_cost"


class CostBank(wiring.Component):
    """A folded bank of one neuron with few pins: ``current`` in; ``fire`` and the first state
    field out (so the logic of every field stays alive and the design fits the SG48's IO)."""

    def __init__(self, params, current_bits):
        self.params, self.current_bits = params, current_bits
        first, bits, _ = nt.state_fields(params)[0]
        self.first = first
        super().__init__({"current": In(signed(current_bits)), "fire": Out(1),
                          "state": Out(signed(bits))})

    def elaborate(self, platform):
        m = Module()
        m.submodules.bank = bank = FoldedNeurons(self.params, self.current_bits, 1)
        m.d.comb += [bank.current.eq(self.current), self.fire.eq(bank.fire),
                     self.state.eq(getattr(bank, self.first))]
        return m


def cost_verilog(params, current_bits):
    return amaranth_verilog.convert(CostBank(params, current_bits), name=TOP, emit_src=False)

# One representative parameter set per type (the fidelity workload's, scripts/neuron_fidelity.py).
TYPES = {
    "leaky": dict(beta=0.9, threshold=32.0, v_range=128.0),
    "if": dict(threshold=64.0, v_range=512.0),
    "synaptic": dict(alpha=0.8, beta=0.9, threshold=32.0, r=0.2, v_range=256.0),
    "alpha": dict(alpha=0.9, beta=0.8, threshold=32.0, v_range=512.0),
    "alif": dict(beta=0.9, threshold=32.0, rho=0.95, adapt=8.0, v_range=128.0),
    "izhikevich": dict(a=0.02, b=0.2, c=-65.0, d=8.0, dt=0.5, r=1.0, v_range=128.0),
    "li": dict(beta=0.9, v_range=256.0),
}


def measure(width, current_bits, freq_mhz, seed, build_root, log=print):
    rows = {}
    for name, kw in TYPES.items():
        p = nt.create_neuron(name, width=width, **kw).params
        verilog = cost_verilog(p, current_bits)
        for variant in ("lut", "dsp"):
            t = time.monotonic()
            r = flow.build_verilog(verilog, TOP, build_root / f"{name}_{variant}",
                                   freq_mhz=freq_mhz, seed=seed, force=True,
                                   dsp=variant == "dsp")
            rows[f"{name}/{variant}"] = {
                "type": name, "variant": variant, "params": repr(p),
                "fixed": p.fixed_params(), "state_bits": width * len(nt.state_fields(p)),
                "logic_cells": r["logic_cells"]["used"], "luts": r["luts"],
                "flip_flops": r["flip_flops"], "carry_cells": r["carry_cells"],
                "dsp": r["dsp"]["used"], "fmax_min_mhz": r["fmax_min_mhz"],
                "fmax_mhz": r["fmax_mhz"], "dsp_timing_note": r.get("dsp_timing_note"),
                "timing_met": r["timing_met"], "cells": r["cells"]}
            log(f"{name:10s} {variant}  {r['logic_cells']['used']:5d} LC  {r['dsp']['used']} DSP  "
                f"{r['flip_flops']:3d} FF  Fmax {r['fmax_min_mhz']} MHz "
                f"({time.monotonic() - t:.1f} s)")
    return rows


def markdown(meta, rows):
    lines = [
        f"iCE40 UP5K-SG48 ({meta['lc_total']} logic cells, 8 DSPs): one neuron-zoo update core "
        f"with one neuron's state register (a folded bank of 1), state width "
        f"{meta['width']} bits, multipliers Q.{meta['width']}, current {meta['current_bits']} "
        f"bits signed; nextpnr seed {meta['seed']}, target {meta['freq_mhz']} MHz; "
        f"{meta['tools']['yosys']}, {meta['tools']['nextpnr-ice40']}. `lut`: the project's "
        "`synth_ice40`; `dsp`: `synth_ice40 -dsp` (multipliers in SB_MAC16). Fmax is the "
        "register-to-register estimate of the state -> core -> state loop (one neuron update "
        "per clock in a folded layer). nextpnr does not time paths through an SB_MAC16 without "
        "its registers: the `dsp` Fmax is the slower of nextpnr's figure and the build's bound "
        "through the DSPs (into + 9.05 ns multiply + out); '-' where nextpnr reported no path "
        "to or from the DSPs (no clock figure). Network layers register every product (the "
        "pipelined core); this combinational core is not that.",
        "",
        "| type | state bits | LC (lut) | Fmax lut (MHz) | LC (dsp) | DSP "
        "| Fmax dsp (MHz) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name in TYPES:
        a, b = rows[f"{name}/lut"], rows[f"{name}/dsp"]
        f = lambda x: f"{x:.1f}" if x is not None else "-"  # noqa: E731
        lines.append(f"| {name} | {a['state_bits']} | {a['logic_cells']} | "
                     f"{f(a['fmax_min_mhz'])} | "
                     f"{b['logic_cells']} | {b['dsp']} | "
                     f"{'-' if b['dsp_timing_note'] else f(b['fmax_min_mhz'])} |")
    lines += ["", "Regenerate: `python scripts/neuron_cost.py`.", ""]
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--width", type=int, default=16, help="state width in bits (default 16)")
    ap.add_argument("--current-bits", type=int, default=8, help="signed current width (default 8)")
    ap.add_argument("--freq", type=float, default=24.0, help="target clock, MHz (default 24)")
    ap.add_argument("--seed", type=int, default=1, help="nextpnr seed (default 1)")
    args = ap.parse_args(argv)
    rows = measure(args.width, args.current_bits, args.freq, args.seed,
                   ROOT / "build" / "neuron_cost")
    meta = {"device": "up5k", "package": "sg48", "width": args.width,
            "current_bits": args.current_bits, "freq_mhz": args.freq, "seed": args.seed,
            "lc_total": 5280, "tools": tool_versions()}
    out = ROOT / "results"
    out.mkdir(exist_ok=True)
    (out / "neuron_cost.json").write_text(json.dumps({**meta, "cores": rows}, indent=2) + "\n")
    (out / "neuron_cost.md").write_text(markdown(meta, rows))
    print(f"wrote {out}/neuron_cost.json and .md")


if __name__ == "__main__":
    main()
