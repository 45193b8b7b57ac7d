"""Dense SC layer cost against layer size and lanes on the UP5K: a ``dense`` sweep (teacher data).

Each point is a seeded random float teacher of the given size quantised to a dense SC layer
(W = 8, Sobol, counter accumulation), built out of context for the UP5K (sg48) through the
sweep machinery (:func:`scfpga.sweep.run_sweep`, evaluator ``dense``, ``data = "teacher"``):
logic cells, EBR, Fmax from a real build, ``inferences/s`` = Fmax / (threshold loading + one
run), and ``accuracy`` = agreement of the SC layer's argmax with the teacher's on 1000 seeded
random inputs (:func:`scfpga.evaluators.teacher_problem`). A layer that does not fit is a
recorded sweep error naming the resource that ran out.

    python scripts/dense_sizes.py [--workers 2] [--length 256] [--sizes 16x4 32x8 ...]
                                  [--lanes 1 2 4]

Writes ``results/dense_sizes.{json,md,png}``; the sweep (resumable) and its build trees live in
``build/dense_sizes/``, which git ignores.
"""
import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scfpga.sweep import run_sweep, spec_from_dict  # noqa: E402
from scfpga.boards.toolchain import tool_versions  # noqa: E402

SIZES = ["16x4", "32x8", "64x16", "64x32", "128x16"]
LANES = [1, 2, 4]


def _size_key(size):
    n_in, n_out = (int(v) for v in size.split("x"))
    return n_in * n_out, n_in


def does_not_fit(error):
    """The resources named by a ``DesignTooLarge`` error ("EBR 52 > 30"), or None."""
    if "does not fit" not in error:
        return None
    found = re.findall(r"\((\w+)\) (\d+) > (\d+)", error)
    names = {"ICESTORM_RAM": "EBR", "ICESTORM_LC": "LC", "SB_IO": "IO"}
    return ", ".join(f"{names.get(k, k)} {u} > {a}" for k, u, a in found) or error


def rows_of(results):
    rows = []
    for r in results:
        p = r["point"]
        row = {"size": p["size"], "lanes": p["lanes"]}
        if "error" in r:
            over = does_not_fit(r["error"])
            row.update(fits=False if over else None, error=over or r["error"])
        else:
            m = r["metrics"]
            row.update(fits=True, **{k: m.get(k) for k in (
                "logic_cells", "ebr", "flip_flops", "fmax_mhz", "timing_met",
                "clocks_per_inference", "inferences_per_s", "accuracy")})
        rows.append(row)
    return sorted(rows, key=lambda r: (_size_key(r["size"]), r["lanes"]))


def markdown(rows, length, device):
    lines = [f"Dense SC layer on the {device.upper()} (out of context, W = 8, L = {length}, "
             "Sobol, counter accumulation): `python scripts/dense_sizes.py`. Accuracy = argmax "
             "agreement with the float teacher on 1000 random inputs.", "",
             "| size | lanes | LC | EBR | Fmax (MHz) | inferences/s | accuracy |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        if r["fits"]:
            lines.append(f"| {r['size']} | {r['lanes']} | {r['logic_cells']} | {r['ebr']} | "
                         f"{r['fmax_mhz']:.1f} | {r['inferences_per_s']:,.0f} | "
                         f"{r['accuracy']:.3f} |")
        else:
            what = f"does not fit ({r['error']})" if r["fits"] is False else f"error: {r['error']}"
            lines.append(f"| {r['size']} | {r['lanes']} | {what} | | | | |")
    return "\n".join(lines) + "\n"


def plot(rows, png):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    sizes = sorted({r["size"] for r in rows}, key=_size_key)
    for i, size in enumerate(sizes):
        ok = sorted((r for r in rows if r["size"] == size and r["fits"]), key=lambda r: r["lanes"])
        if not ok:
            continue
        ax.plot([r["logic_cells"] for r in ok], [r["inferences_per_s"] for r in ok], "o-",
                c=f"C{i}", label=size)
        for r in ok:
            ax.annotate(f"{r['lanes']}", (r["logic_cells"], r["inferences_per_s"]),
                        textcoords="offset points", xytext=(4, 4), fontsize=8)
    ax.axvline(5280, c="0.5", ls="--", lw=1)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("logic cells (UP5K has 5280)")
    ax.set_ylabel("inferences / s at Fmax")
    ax.set_title("dense SC layer: size and lanes (labels: lanes)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(title="inputs x neurons")
    fig.tight_layout()
    fig.savefig(png, dpi=120)
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--length", type=int, default=256)
    ap.add_argument("--sizes", nargs="+", default=SIZES, help="n_inputs x n_neurons, e.g. 64x16")
    ap.add_argument("--lanes", nargs="+", type=int, default=LANES)
    ap.add_argument("--device", default="up5k")
    ap.add_argument("--sweep-dir", default=str(ROOT / "build" / "dense_sizes"))
    ap.add_argument("--out", default=str(ROOT / "results" / "dense_sizes"),
                    help="output stem: writes .json, .md, .png")
    args = ap.parse_args(argv)
    spec = spec_from_dict({
        "evaluator": "dense",
        "grid": {"size": args.sizes, "lanes": args.lanes, "length": [args.length],
                 "width": [8], "source": ["sobol"], "accumulation": ["counter"]},
        "options": {"data": "teacher", "build": True, "device": args.device},
    })
    results = run_sweep(spec, args.sweep_dir, workers=args.workers)
    rows = rows_of(results)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps({
        "device": args.device, "length": args.length, "width": 8, "source": "sobol",
        "accuracy": "argmax agreement with a seeded float teacher, 1000 random inputs",
        "throughput": "inferences/s = Fmax / (n_inputs threshold writes + Dense.clocks_per_run)",
        "rows": rows, "tools": tool_versions()}, indent=2) + "\n")
    out.with_suffix(".md").write_text(markdown(rows, args.length, args.device))
    plot(rows, out.with_suffix(".png"))
    print(markdown(rows, args.length, args.device))
    print(f"wrote {out}.json, .md, .png")


if __name__ == "__main__":
    main()
