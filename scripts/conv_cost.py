"""Measure the iCE40 UP5K cost of small spiking conv networks (conv -> pool -> dense).

Each variant is a :class:`scfpga.hdl.network.Network` built out of context for the UP5K (sg48)
exactly as ``scripts/network_cost.py`` builds its dense variants (its :func:`measure`: serial
wrapper, Yosys -> nextpnr -> icepack, fixed seed), beside the resource estimate of
:func:`scfpga.hdl.network_fit.estimate`. Networks: an 8x8 one-channel image (the sklearn digits
shape), conv 3x3 padding 1 into C channels, 2x2 max or average pooling, dense 10; seeded random
weights in [-1, 1], IF neurons ``lif_neuron(width=16, threshold=2)``, W = 8, L = 256, Sobol.

    python scripts/conv_cost.py [--quick] [--freq MHZ] [--seed N] [--out STEM]

Writes ``STEM.json`` and ``STEM.md`` (default ``results/conv_cost``).
"""
import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from network_cost import measure  # noqa: E402
from scfpga.boards.toolchain import tool_versions  # noqa: E402
from scfpga.hdl.network_fit import estimate  # noqa: E402
from scfpga.model.netspec import network_from_spec  # noqa: E402


def conv_network(channels, pool, fold=1, lanes=1, seed=0):
    return network_from_spec({
        "input_shape": [1, 8, 8], "length": 256, "width": 8, "source": "sobol",
        "weight_seed": seed, "layers": [
            {"type": "conv2d", "out_channels": channels, "kernel_size": 3, "padding": 1,
             "fold": fold, "lanes": lanes, "neuron": {"type": "lif", "threshold": 2}},
            {"type": pool, "kernel_size": 2},
            {"type": "flatten"},
            {"type": "dense", "neurons": 10, "fold": 2,
             "neuron": {"type": "lif", "threshold": 2}}]})


VARIANTS = [
    ("c4_max", "conv 3x3 1->4, maxpool 2, dense 10", 4, "maxpool2d", 1, 1),
    ("c8_max", "conv 3x3 1->8, maxpool 2, dense 10", 8, "maxpool2d", 1, 1),
    ("c8_max_f2", "conv 3x3 1->8 fold 2, maxpool 2, dense 10", 8, "maxpool2d", 2, 1),
    ("c8_avg", "conv 3x3 1->8, avgpool 2, dense 10", 8, "avgpool2d", 1, 1),
]
QUICK = ("c4_max",)


def table(rows):
    lines = ["| variant | LC (estimate) | EBR (estimate) | Fmax (MHz) | clocks / SC cycle | "
             "clocks / inference | inferences/s at Fmax |", "|---|---|---|---|---|---|---|"]
    for r in rows.values():
        est = r["estimate"]
        if r["fits"]:
            lines.append(f"| {r['what']} | {r['logic_cells']['used']} ({est['lc']}) | "
                         f"{r['ebr']['used']} ({est['ebr']}) | {r['fmax_mhz']} | "
                         f"{r['clocks_per_cycle']} | {r['clocks_per_inference']} | "
                         f"{r['inferences_per_s']:,.0f} |")
        else:
            lines.append(f"| {r['what']} | does not fit: {r['does_not_fit']} ({est['lc']}) | "
                         f"({est['ebr']}) | | {r['clocks_per_cycle']} | "
                         f"{r['clocks_per_inference']} | |")
    return lines


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--freq", type=float, default=24.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=str(ROOT / "results" / "conv_cost"))
    a = ap.parse_args(argv)
    out = Path(a.out)
    build_root = ROOT / "build" / "conv_cost"
    rows = {}
    for name, what, channels, pool, fold, lanes in VARIANTS:
        if a.quick and name not in QUICK:
            continue
        params = conv_network(channels, pool, fold, lanes)
        row = measure(name, what, params, a.freq, a.seed, build_root)
        row["estimate"] = estimate(params)
        rows[name] = row
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(
        {"tools": tool_versions(), "freq_mhz": a.freq, "seed": a.seed, "variants": rows},
        indent=1))
    head = ("Out-of-context builds (UP5K sg48, target 24 MHz, nextpnr seed 1) of conv networks "
            "on an 8x8 one-channel image: conv 3x3 padding 1 (IF neurons, threshold 2), 2x2 "
            "pooling, dense 10 (fold 2); W=8, L=256, Sobol, seeded random weights. Estimates "
            "from `scfpga.hdl.network_fit.estimate` in parentheses. Inferences/s at Fmax with "
            "`n_inputs + schedule(params).run_clocks` clocks per inference. Made by "
            "`python scripts/conv_cost.py`.")
    out.with_suffix(".md").write_text("\n".join([head, ""] + table(rows)) + "\n")
    print("\n".join(table(rows)))


if __name__ == "__main__":
    main()
