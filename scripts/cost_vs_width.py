"""iCE40 cost of each primitive against its width, on UP5K and HX8K, from real yowasp builds.

Runs as a resumable sweep (scfpga.sweep, evaluator "cost") into results/cost_vs_width/, then
writes results/cost_vs_width.json, results/cost_vs_width.md and results/cost_vs_width.png.

    .venv/bin/python scripts/cost_vs_width.py [--workers N]
"""
import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from scfpga.sweep import run_sweep, spec_from_dict  # noqa: E402

BLOCKS = ["lfsr", "sobol", "sng_lfsr", "sng_sobol", "mux4", "counter", "lif"]
WIDTHS = [4, 6, 8, 10, 12, 14, 16]
DEVICES = ["up5k", "hx8k"]
OUT = Path("results")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    spec = spec_from_dict({"evaluator": "cost", "objectives": ["fmax_mhz", "logic_cells"],
                           "grid": {"block": BLOCKS, "width": WIDTHS, "device": DEVICES}})
    results = run_sweep(spec, OUT / "cost_vs_width", workers=args.workers, retry_failed=True)
    table = [r["point"] | r["metrics"] for r in results if "metrics" in r]
    (OUT / "cost_vs_width.json").write_text(json.dumps(table, indent=1))

    lines = ["# iCE40 cost vs width (real yowasp builds, out of context, nextpnr seed 1, 24 MHz target)", "",
             "Logic cells / Fmax (MHz) per block and width. Regenerate: "
             "`.venv/bin/python scripts/cost_vs_width.py`.", ""]
    for device in DEVICES:
        lines += [f"## {device.upper()}", "", "| block | " + " | ".join(f"W={w}" for w in WIDTHS) + " |",
                  "|---|" + "---:|" * len(WIDTHS)]
        for block in BLOCKS:
            cells = []
            for w in WIDTHS:
                r = next((t for t in table if (t["block"], t["width"], t["device"]) == (block, w, device)), None)
                cells.append(f"{r['logic_cells']} / {r['fmax_mhz']:.0f}" if r else "—")
            lines.append(f"| {block} | " + " | ".join(cells) + " |")
        lines.append("")
    (OUT / "cost_vs_width.md").write_text("\n".join(lines))

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for block in BLOCKS:
        rows = sorted((t for t in table if t["block"] == block and t["device"] == "up5k"),
                      key=lambda t: t["width"])
        axes[0].plot([t["width"] for t in rows], [t["logic_cells"] for t in rows], "o-", label=block)
        axes[1].plot([t["width"] for t in rows], [t["fmax_mhz"] for t in rows], "o-", label=block)
    axes[0].set_ylabel("logic cells (UP5K)")
    axes[1].set_ylabel("Fmax on UP5K (MHz)")
    for ax in axes:
        ax.set_xlabel("width (bits)")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(OUT / "cost_vs_width.png", dpi=120)
    print((OUT / "cost_vs_width.md").read_text())


if __name__ == "__main__":
    main()
