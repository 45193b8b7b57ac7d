"""What BATCH costs: the smallest design (``and``) in the board top with and without it.

Builds the iCEstick (HX1K, built without BATCH by default) and the iCEBreaker (UP5K, with
BATCH by default) tops both ways and writes results/batch_cost.json and .md: logic cells,
flip-flops, EBR and Fmax, or the resource over capacity when a build does not fit. About
half a minute per build.

    .venv/bin/python scripts/batch_cost.py
"""
import json
from pathlib import Path

from scfpga.boards.build import DesignTooLarge
from scfpga.boards.designs import block_design
from scfpga.boards.flow import build_board

BOARDS = ("icestick", "icebreaker")
WORK = Path("build/batch_cost")


def main():
    design = block_design("and", {}, length=1024)
    rows = []
    for board in BOARDS:
        for batch in (False, True):
            print(f"== {board}, batch={batch}", flush=True)
            row = {"board": board, "batch": batch}
            try:
                r = build_board(design, board, WORK / f"{board}-{int(batch)}", force=True,
                                batch=batch)
            except DesignTooLarge as e:
                row.update(fits=False, over={k: list(v) for k, v in e.over.items()})
            else:
                row.update(fits=True, device=r["device"], logic_cells=r["logic_cells"],
                           flip_flops=r["flip_flops"], ebr=r["ebr"],
                           fmax_mhz=r["fmax_min_mhz"], clock_mhz=r["board"]["clock_mhz"])
            rows.append(row)
    out = Path("results")
    (out / "batch_cost.json").write_text(json.dumps(rows, indent=1) + "\n")
    lines = ["# The cost of BATCH in the board top", "",
             "The `and` block (2 loads, the smallest design) in the whole board top (PLL, UART, "
             "protocol engine, LEDs) at the board's default clock, built without and with the "
             "engine's BATCH command (`scfpga build --no-batch` / `--batch`). Regenerate: "
             "`.venv/bin/python scripts/batch_cost.py`.", "",
             "| board | BATCH | logic cells | FF | EBR | Fmax (MHz) |", "|---|---|---:|---:|---:|---:|"]
    for r in rows:
        mark = "yes" if r["batch"] else "no"
        if not r["fits"]:
            what = ", ".join(f"{k} {used} > {total}" for k, (used, total) in r["over"].items())
            lines.append(f"| {r['board']} | {mark} | does not fit: {what} | | | |")
            continue
        lines.append(f"| {r['board']} | {mark} | {r['logic_cells']['used']} / "
                     f"{r['logic_cells']['total']} | {r['flip_flops']} | {r['ebr']['used']} / "
                     f"{r['ebr']['total']} | {r['fmax_mhz']:.1f} |")
    (out / "batch_cost.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
