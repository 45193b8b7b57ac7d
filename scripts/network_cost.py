"""Measure the iCE40 UP5K cost of network layers with and without neuron folding.

Each variant is a :class:`scfpga.hdl.network.Network` built out of context for the UP5K (sg48)
through Yosys -> nextpnr -> icepack (:func:`scfpga.boards.build.build_verilog`, fixed seed),
behind :class:`scfpga.network_ooc.NetworkSerialWrapper` (serial threshold loading, XOR-reduced
spike/count/score outputs, so the design fits the package pins and nothing is optimised away).

Variants: one layer 64 -> N for N in (16, 32, 64) and fold (neurons per accumulator) in
(1, 2, 4, 8) wherever N / fold >= 2, one synapse column per clock, no bias; and the digits MLP
layout 64 -> 32 -> 10 with bias, fold (4, 2), lanes (2, 1) (:data:`scfpga.digits_mlp.FOLD`).
All: seeded random weights in [-1, 1], neuron ``lif_neuron(width=16, threshold=2)``, W = 8,
L = 256, Sobol. A variant over the device's capacity is reported as "does not fit" with the
resource nextpnr named (:class:`scfpga.boards.build.DesignTooLarge`).

Throughput is inferences per second at the achieved Fmax: one inference = ``n_inputs`` threshold
writes (one per clock through the network's parallel port) plus ``schedule(params).run_clocks``.

    python scripts/network_cost.py [--quick] [--freq MHZ] [--seed N] [--out STEM] [--render]

Writes ``STEM.json``, ``STEM.md`` and ``STEM.png`` (default ``results/network_cost``; with
``--quick``, three variants and ``build/network_cost/quick``); build trees go to
``build/network_cost/<variant>/``. ``--render`` rewrites the table and plot from ``STEM.json``
without building.
"""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scfpga.boards.build import DesignTooLarge, build_verilog  # noqa: E402
from scfpga.boards.toolchain import tool_versions  # noqa: E402
from scfpga.digits_mlp import FOLD as MLP_FOLD, LANES as MLP_LANES  # noqa: E402
from scfpga.model.neuron import lif_neuron  # noqa: E402
from scfpga.model.network import quantize_network  # noqa: E402
from scfpga.network_ooc import NETWORK_TOP, clocks_per_inference, network_ooc_verilog  # noqa: E402

SIZES = (16, 32, 64)
FOLDS = (1, 2, 4, 8)
THETA = 2
RESOURCES = {"ICESTORM_RAM": "EBR", "ICESTORM_LC": "logic cells", "SB_IO": "IO"}


def network(sizes, fold, lanes, bias, seed=0, width=8, length=256, source="sobol"):
    """A network with seeded random weights (and biases) in [-1, 1]."""
    rng = np.random.default_rng(seed)
    weights = [rng.uniform(-1, 1, (n, m)) for m, n in zip(sizes[:-1], sizes[1:])]
    biases = [rng.uniform(-1, 1, n) for n in sizes[1:]] if bias else None
    params, _ = quantize_network(weights, biases, thresholds=THETA, width=width,
                                 neuron=lambda thr: lif_neuron(width=16, threshold=thr),
                                 lanes=lanes, fold=fold, length=length, source=source)
    return params


VARIANTS = [(f"n{n}_f{f}", f"64 -> {n}, fold {f}", n, (64, n), f, 1, False)
            for n in SIZES for f in FOLDS if n // f >= 2]
VARIANTS.append(("mlp_64_32_10", "digits MLP 64 -> 32 -> 10 + bias, fold (4, 2), lanes (2, 1)",
                 "mlp", (64, 32, 10), MLP_FOLD, MLP_LANES, True))
QUICK = ("n16_f1", "n16_f4", "mlp_64_32_10")


def measure(name, what, params, freq, seed, build_root, log=print):
    verilog, net = network_ooc_verilog(params)
    sch = net.schedule
    neurons = sum(layer.n_neurons for layer in params.layers)
    clocks = clocks_per_inference(net)
    row = {
        "what": what, "params": params.describe(), "architecture": net.describe(),
        "sizes": list(params.sizes), "neurons": neurons,
        "fold": [layer.fold for layer in params.layers],
        "lanes": [layer.lanes for layer in params.layers],
        "accumulators": [ls.parallel for ls in sch.layers],
        "clocks_per_cycle": sch.cycle_clocks, "run_clocks": sch.run_clocks,
        "clocks_per_inference": clocks, "inferences_per_s_at_target": round(freq * 1e6 / clocks, 1),
        "target_mhz": freq,
    }
    t = time.monotonic()
    try:
        report = build_verilog(verilog, NETWORK_TOP, build_root / name, device="up5k",
                               freq_mhz=freq, seed=seed, force=True)
    except DesignTooLarge as e:
        over = {k: {"needed": u, "available": a} for k, (u, a) in e.over.items()}
        row.update(fits=False, does_not_fit=str(e), over=over,
                   build_s=round(time.monotonic() - t, 1))
        log(f"{name:14s} does not fit: {e} ({row['build_s']} s)")
        return row
    fmax = report["fmax_min_mhz"]
    lc = report["logic_cells"]
    row.update({
        "fits": True,
        "logic_cells": lc, "lc_per_neuron": round(lc["used"] / neurons, 1),
        "ebr": report["ebr"], "spram": report["spram"], "io": report["io"],
        "flip_flops": report["flip_flops"], "luts": report["luts"],
        "carry_cells": report["carry_cells"], "fmax_mhz": fmax, "timing_met": report["timing_met"],
        "inferences_per_s": round(fmax * 1e6 / clocks, 1) if fmax else None,
        "bin_sha256": report["bin_sha256"], "build_s": round(time.monotonic() - t, 1),
    })
    log(f"{name:14s} {lc['used']:5d}/{lc['total']} LC ({row['lc_per_neuron']}/neuron)  "
        f"{report['ebr']['used']:2d}/{report['ebr']['total']} EBR  Fmax {fmax} MHz  "
        f"{sch.cycle_clocks} clk/cycle  {row['inferences_per_s']} inf/s ({row['build_s']} s)")
    return row


def _fmt(v, spec):
    return "–" if v is None else format(v, spec)


def table(rows):
    lines = ["| variant | fold | lanes | accumulators | LC | LC / neuron | EBR | Fmax (MHz) "
             "| clocks / SC cycle | clocks / inference | inferences/s at Fmax |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, r in rows.items():
        fold = ", ".join(map(str, r["fold"]))
        lanes = ", ".join(map(str, r["lanes"]))
        acc = ", ".join(map(str, r["accumulators"]))
        shape = " -> ".join(map(str, r["sizes"]))
        head = f"| {shape} | {fold} | {lanes} | {acc} |"
        tail = f" {r['clocks_per_cycle']} | {r['clocks_per_inference']} |"
        if r["fits"]:
            lc, ebr = r["logic_cells"], r["ebr"]
            lines.append(f"{head} {lc['used']} | {r['lc_per_neuron']:.1f} | {ebr['used']} | "
                         f"{_fmt(r['fmax_mhz'], '.1f')} |{tail} "
                         f"{_fmt(r['inferences_per_s'], ',.0f')} |")
        else:
            what = ", ".join(f"{RESOURCES.get(k, k)} {o['needed']} > {o['available']}"
                             for k, o in r["over"].items())
            lines.append(f"{head} does not fit ({what}) | | | |{tail} |")
    return lines


def summary(rows):
    """Two sentences on what folding buys, with the measured numbers."""
    def ebr(r):
        return r["ebr"]["used"] if r["fits"] else r["over"].get("ICESTORM_RAM", {}).get("needed")

    series = []
    for n in SIZES:
        rs = [(f, rows[f"n{n}_f{f}"]) for f in FOLDS if f"n{n}_f{f}" in rows]
        fit = [(f, r) for f, r in rs if r["fits"]]
        if len(fit) >= 2:
            series.append((n, rs, fit))
    if not series:
        return []

    def trend(values):
        values = [v for v in values if v is not None]
        if all(a >= b for a, b in zip(values, values[1:])):
            return "falls"
        return "rises" if all(a <= b for a, b in zip(values, values[1:])) else "changes"

    lc = "; ".join(f"64 -> {n}: {fit[0][1]['lc_per_neuron']:.0f} at fold {fit[0][0]} to "
                   f"{fit[-1][1]['lc_per_neuron']:.0f} at fold {fit[-1][0]}"
                   for n, rs, fit in series)
    ebr_s = "; ".join(f"64 -> {n}: " + " -> ".join(
        f"{ebr(r)}" + ("" if r["fits"] else " (does not fit)") for f, r in rs)
        for n, rs, fit in series)
    trends = {trend([ebr(r) for _, r in rs]) for _, rs, _ in series}
    ebr_trend = trends.pop() if len(trends) == 1 else "changes"
    clk = "; ".join(f"64 -> {n}: {fit[0][1]['clocks_per_cycle']} -> "
                    f"{fit[-1][1]['clocks_per_cycle']}"
                    f" clocks, {_fmt(fit[0][1]['inferences_per_s'], ',.0f')} -> "
                    f"{_fmt(fit[-1][1]['inferences_per_s'], ',.0f')} inferences/s"
                    for n, rs, fit in series)
    fmax = [r["fmax_mhz"] for r in rows.values() if r["fits"] and r["fmax_mhz"]]
    nofit = [(r, f"{' -> '.join(map(str, r['sizes']))} at fold {', '.join(map(str, r['fold']))}")
             for r in rows.values() if not r["fits"]]
    nofit_s = "".join(
        f", which is what lets {what.split(' at ')[0]} fit at all (at fold "
        f"{', '.join(map(str, r['fold']))} it needs "
        + ", ".join(f"{o['needed']} of {o['available']} {RESOURCES.get(k, k)}"
                    for k, o in r["over"].items()) + ")"
        for r, what in nofit[:1])
    return [
        f"Folding shares each accumulator and weight comparator among `fold` neurons, so logic "
        f"cells per neuron fall as the fold grows ({lc}), though by less than the fold: the "
        f"input encoder, the control and the one neuron update core per layer (neuron state is "
        f"in block RAM at every fold) are a fixed cost that folding does not touch.",
        f"Block RAM {ebr_trend} with the fold (EBR per fold 1, 2, 4, 8: {ebr_s}) because the "
        f"weight ROM keeps its bits but becomes narrower (`accumulators x 10` bits) and deeper "
        f"(`fold x 64` words) and so fills the 4-kbit EBRs better (an EBR is at most 16 bits wide, "
        f"so a wide, shallow ROM leaves most of each one's 256 words empty){nofit_s}; "
        f"the price is time: "
        f"each SC cycle sweeps the 64 synapse columns once per pass, so clocks per SC cycle grow "
        f"about linearly with the fold and inferences/s at Fmax fall by the same factor ({clk}), "
        f"with Fmax flat at {min(fmax):.1f}..{max(fmax):.1f} MHz.",
    ]


def plot(rows, path):
    from matplotlib.figure import Figure
    fig = Figure(figsize=(10, 4), layout="constrained")
    ax_lc, ax_inf = fig.subplots(1, 2)
    for n in SIZES:
        pts = [(f, rows[f"n{n}_f{f}"]) for f in FOLDS
               if f"n{n}_f{f}" in rows and rows[f"n{n}_f{f}"]["fits"]]
        if not pts:
            continue
        fs = [f for f, _ in pts]
        ax_lc.plot(fs, [r["lc_per_neuron"] for _, r in pts], "o-", label=f"64 -> {n}")
        ax_inf.plot(fs, [r["inferences_per_s"] for _, r in pts], "o-", label=f"64 -> {n}")
    mlp = rows.get("mlp_64_32_10")
    if mlp and mlp["fits"]:
        lbl = "MLP 64-32-10, fold (4, 2), lanes (2, 1)"
        ax_lc.plot([MLP_FOLD[0]], [mlp["lc_per_neuron"]], "k*", ms=12, label=lbl)
        ax_inf.plot([MLP_FOLD[0]], [mlp["inferences_per_s"]], "k*", ms=12, label=lbl)
    nofit = [f"64 -> {r['sizes'][-1]}, fold {r['fold'][0]}: does not fit ("
             + ", ".join(f"{RESOURCES.get(k, k)} {o['needed']} > {o['available']}"
                         for k, o in r["over"].items()) + ")"
             for name, r in rows.items() if not r["fits"] and name != "mlp_64_32_10"]
    if nofit:
        ax_lc.text(0.02, 0.02, "\n".join(nofit), transform=ax_lc.transAxes, fontsize=8)
    for ax in (ax_lc, ax_inf):
        ax.set_xscale("log", base=2)
        ax.set_xticks(FOLDS, [str(f) for f in FOLDS])
        ax.set_xlabel("fold (neurons per accumulator)")
        ax.grid(True, alpha=0.3)
    ax_lc.set_ylabel("logic cells per neuron")
    ax_lc.set_title("iCE40 UP5K logic cells per neuron")
    ax_inf.set_yscale("log")
    ax_inf.set_ylabel("inferences/s at Fmax")
    ax_inf.set_title("Throughput (W=8, L=256, Sobol)")
    ax_lc.legend(fontsize=8)
    fig.savefig(path, dpi=120)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help=f"only {', '.join(QUICK)}")
    ap.add_argument("--freq", type=float, default=24.0, help="target clock in MHz (24)")
    ap.add_argument("--seed", type=int, default=1, help="nextpnr placer seed")
    ap.add_argument("--out", default=None,
                    help="output stem (results/network_cost; build/network_cost/quick with "
                         "--quick)")
    ap.add_argument("--render", action="store_true",
                    help="no builds: rewrite STEM.md and STEM.png from STEM.json")
    args = ap.parse_args(argv)
    default = ("build", "network_cost", "quick") if args.quick else ("results", "network_cost")
    stem = Path(args.out) if args.out else ROOT.joinpath(*default)
    if args.render:
        render(json.loads(stem.with_suffix(".json").read_text()), stem)
        return
    build_root = ROOT / "build" / "network_cost"
    rows = {}
    for name, what, _n, sizes, fold, lanes, bias in VARIANTS:
        if args.quick and name not in QUICK:
            continue
        rows[name] = measure(name, what, network(sizes, fold, lanes, bias), args.freq, args.seed,
                             build_root)
    out = {
        "device": "up5k-sg48", "target_mhz": args.freq, "seed": args.seed,
        "command": "python scripts/network_cost.py" + (" --quick" if args.quick else ""),
        "network": f"W=8, L=256, Sobol, lif_neuron(width=16, threshold={THETA}), seeded random "
                   f"weights in [-1, 1]",
        "clocks_per_inference": "n_inputs threshold writes + schedule(params).run_clocks",
        "wrapper": "serial threshold loading + XOR-reduced spike/count/score outputs "
                   "(scfpga.network_ooc)",
        "variants": rows, "tools": tool_versions(),
    }
    stem.parent.mkdir(parents=True, exist_ok=True)
    stem.with_suffix(".json").write_text(json.dumps(out, indent=2) + "\n")
    render(out, stem)


def render(out, stem):
    """``STEM.md`` and ``STEM.png`` from the results ``out`` (what ``STEM.json`` holds)."""
    rows = out["variants"]
    md = ["# Network cost on the iCE40 UP5K: neuron folding", "",
          f"Out-of-context builds (UP5K sg48, target {out['target_mhz']:g} MHz, nextpnr seed "
          f"{out['seed']}); {out['network']}. One-layer variants: no bias, 1 lane. "
          f"Inferences/s at Fmax with `n_inputs + schedule(params).run_clocks` clocks per "
          f"inference. Made by `{out['command']}`.", ""]
    md += table(rows) + [""] + summary(rows) + [""]
    stem.with_suffix(".md").write_text("\n".join(md))
    plot(rows, stem.with_suffix(".png"))
    print(f"wrote {stem}.json, .md, .png")

if __name__ == "__main__":
    main()
