"""iCEBreaker builds of the NIR examples: cost, clock and inferences per second.

Runs, one build after another, the README's command for each example::

    scfpga build examples/FILE.nir --board icebreaker --fit up5k --freq F [options] \
        -o build/nir-NAME

(rate input, weights in block RAM; the LIF example also with raster input and weights in
SPRAM, and without DSPs, ``--no-dsp``, for comparison), then reads each build's
``report.json`` (nextpnr's utilisation and Fmax, the bound through the SB_MAC16s that nextpnr
does not time, :mod:`scfpga.boards.build`) and ``design.json`` (the fitted network, whose
schedule gives the clocks per inference). Inferences per second are the compute rate at the
build's clock (the UART link is not counted).

    python scripts/nir_builds.py [--freq 21] [--only lif cuba ...] [--reuse]

``--reuse`` reads a build directory whose report has the same clock instead of building again.
Writes ``results/nir/builds.json`` and ``results/nir/builds.md``.
"""
import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from scfpga.hdl.network import schedule
from scfpga.model.netspec import load_network

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "results" / "nir"
# name -> (example file, extra build options, what the row says about the input/memory)
BUILDS = {
    "lif": ("digits_lif.nir", [], "rate, weights in block RAM"),
    "cuba": ("digits_cuba.nir", [], "rate, weights in block RAM"),
    "conv": ("digits_conv.nir", [], "rate, weights in block RAM"),
    "lif-raster": ("digits_lif.nir", ["--encoding", "raster", "--weight-memory", "spram"],
                   "raster, weights in SPRAM"),
    "lif-nodsp": ("digits_lif.nir", ["--no-dsp"], "rate, block RAM, `--no-dsp`"),
}


def command(name, freq):
    nir_file, extra, _ = BUILDS[name]
    return [str(ROOT / ".venv" / "bin" / "scfpga"), "build", f"examples/{nir_file}", *extra,
            "--board", "icebreaker", "--fit", "up5k", "--freq", f"{freq:g}",
            "--allow-timing-fail", "-o", f"build/nir-{name}", "--force"]


def build(name, freq, reuse):
    out = ROOT / "build" / f"nir-{name}"
    report = out / "report.json"
    cmd = command(name, freq)
    if not (reuse and report.exists()
            and json.loads(report.read_text())["board"]["requested_mhz"] == freq):
        print(" ".join(cmd[1:]), file=sys.stderr, flush=True)
        t = time.monotonic()
        subprocess.run(cmd, cwd=ROOT, check=True)
        print(f"  {time.monotonic() - t:.0f} s", file=sys.stderr)
    r = json.loads(report.read_text())
    sch = schedule(load_network(out / "design.json"))
    clock = r["board"]["clock_mhz"]
    fmax = r["fmax_mhz"]
    dsp_bound = fmax.get("clk through SB_MAC16")
    return {
        "name": name, "file": BUILDS[name][0], "input": BUILDS[name][2],
        "command": "scfpga " + " ".join(cmd[1:]),
        "logic_cells": r["logic_cells"], "flip_flops": r["flip_flops"], "ebr": r["ebr"],
        "spram": r["spram"], "dsp": r["dsp"], "synth_dsp": r.get("synth_dsp"),
        "clock_mhz": clock, "fmax_clk_mhz": fmax["clk"]["achieved"],
        "through_dsp_mhz": dsp_bound["achieved"] if dsp_bound else None,
        "through_dsp_ns": ({k: dsp_bound[k] for k in ("into_dsp_ns", "multiply_ns",
                                                     "out_of_dsp_ns")} if dsp_bound else None),
        "timing_met": r["timing_met"], "cycle_clocks": sch.cycle_clocks,
        "clocks_per_inference": sch.run_clocks,
        "inferences_per_s": round(clock * 1e6 / sch.run_clocks, 1),
        "tools": r["tools"], "build_s": r["wall_time_s"],
    }


def markdown(rows, freq):
    lines = [
        "# iCEBreaker builds of the NIR examples",
        "",
        f"`python scripts/nir_builds.py --freq {freq:g}`: each row is `scfpga build "
        f"examples/FILE.nir --board icebreaker --fit up5k --freq {freq:g} [options]` (UP5K, "
        f"nextpnr seed 1; {rows[0]['tools']['yosys'].split(' (')[0]}, "
        f"{rows[0]['tools']['nextpnr-ice40']}). Fmax `clk` is nextpnr's; `through DSP` bounds "
        "the paths nextpnr does not time, through the unclocked SB_MAC16 multipliers (slowest "
        "path into a DSP + 9.05 ns multiply + slowest path out); both count for `met`. "
        "Inferences/s: the clock over the clocks of one run (compute only, no UART).",
        "",
        "| example | input | LC | FF | EBR | SPRAM | DSP | clock MHz | Fmax clk | through DSP "
        "| met | clocks/inference | inferences/s |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for r in rows:
        u = lambda k: f"{r[k]['used']}/{r[k]['total']}"          # noqa: E731
        dsp = f"{r['through_dsp_mhz']:.1f}" if r["through_dsp_mhz"] else "-"
        lines.append(f"| `{r['file']}` | {r['input']} | {u('logic_cells')} | {r['flip_flops']} "
                     f"| {u('ebr')} | {u('spram')} | {u('dsp')} | {r['clock_mhz']:g} "
                     f"| {r['fmax_clk_mhz']:.1f} | {dsp} | {'yes' if r['timing_met'] else 'no'} "
                     f"| {r['clocks_per_inference']} | {r['inferences_per_s']:.0f} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--freq", type=float, default=21.0, help="clock in MHz (default 21)")
    ap.add_argument("--only", nargs="+", choices=tuple(BUILDS), default=tuple(BUILDS))
    ap.add_argument("--reuse", action="store_true",
                    help="read existing builds at the same clock instead of building again")
    args = ap.parse_args(argv)
    rows = [build(name, args.freq, args.reuse) for name in args.only]
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "builds.json").write_text(json.dumps(rows, indent=2) + "\n")
    (OUT / "builds.md").write_text(markdown(rows, args.freq))
    print((OUT / "builds.md").read_text())


if __name__ == "__main__":
    main()
