"""Every ECP5 board through the pip-only flow: one runnable design per board, built twice.

    .venv/bin/python scripts/ecp5_boards.py [--out results/ecp5] [--design sng]

For each board of :data:`scfpga.boards.catalog.ECP5_BOARDS` the design (default: the ``sng``
block design the iCE40 board tests build) goes into the board top at 50 MHz through the
EHXPLLL and is built twice with the same seed; the table records the PLL dividers, LUT4s,
flip-flops, block RAM, multipliers, Fmax, timing, build time and whether the two bitstreams
are identical. Writes ``boards.json`` and ``boards.md`` to ``--out``.
"""
import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))                 # run from a checkout without installing

from scfpga.boards.catalog import ECP5_BOARDS  # noqa: E402
from scfpga.boards.designs import block_design  # noqa: E402
from scfpga.boards.flow import build_board  # noqa: E402

DESIGNS = {
    "sng": lambda: block_design("sng", {"source": "lfsr", "width": 9, "seed": 77}, length=700),
    "lif": lambda: block_design("lif", {"inputs": 3, "width": 12, "weights": "300,-200,250",
                                        "threshold": 700, "leak_shift": 3, "refractory": 1},
                                length=300, input_source="lfsr", input_width=7),
}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=str(ROOT / "results" / "ecp5"))
    ap.add_argument("--work", default=str(ROOT / "build" / "ecp5_boards"))
    ap.add_argument("--design", default="sng", choices=sorted(DESIGNS))
    ap.add_argument("--freq", type=float, default=50.0)
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for name, board in ECP5_BOARDS.items():
        design = DESIGNS[args.design]()
        reports = [build_board(design, name, Path(args.work) / f"{name}-{i}", freq_mhz=args.freq,
                               force=True) for i in (0, 1)]
        r = reports[0]
        pll = r["board"]["pll"]
        rows.append({
            "board": name, "title": board.title, "design": args.design,
            "device": r["device"], "package": r["package"], "speed": r["speed"],
            "oscillator_mhz": r["board"]["oscillator_mhz"], "clock_mhz": r["board"]["clock_mhz"],
            "pll": {k: pll[k] for k in ("clki_div", "clkfb_div", "clkop_div", "clkop_cphase",
                                        "f_vco_mhz")},
            "luts": r["logic_cells"], "flip_flops": r["flip_flops"], "dp16kd": r["ebr"],
            "mult18": r["dsp"], "fmax_mhz": r["fmax_mhz"]["clk"]["achieved"],
            "timing_met": r["timing_met"], "build_s": r["wall_time_s"]["total"],
            "reproducible": reports[0]["bin_sha256"] == reports[1]["bin_sha256"],
            "bitstream_sha256": r["bin_sha256"],
        })
        print(json.dumps(rows[-1]), flush=True)
    (out / "boards.json").write_text(json.dumps(rows, indent=2) + "\n")
    lines = ["| board | device | osc → clock (EHXPLLL CLKI/CLKFB/CLKOP) | LUT4 | FF | DP16KD "
             "| MULT18 | Fmax MHz | build s | same bitstream twice |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        p = r["pll"]
        lines.append(
            f"| {r['board']} | {r['device']} {r['package']} -{r['speed']} | "
            f"{r['oscillator_mhz']:g} → {r['clock_mhz']:g} MHz ({p['clki_div']}/{p['clkfb_div']}/"
            f"{p['clkop_div']}, VCO {p['f_vco_mhz']:g}) | {r['luts']['used']}/{r['luts']['total']} "
            f"| {r['flip_flops']} | {r['dp16kd']['used']}/{r['dp16kd']['total']} | "
            f"{r['mult18']['used']}/{r['mult18']['total']} | {r['fmax_mhz']:.1f} | "
            f"{r['build_s']:.0f} | {'yes' if r['reproducible'] else 'NO'} |")
    (out / "boards.md").write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
