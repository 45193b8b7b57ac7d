"""Run-time weights on the iCEBreaker: capacity with weights in SPRAM, and load times.

Builds two board designs (the full iCEBreaker top: PLL, UART engine, network) through yowasp:

* **capacity**: 64 -> 256 -> 10 with bias (18 954 weights and biases, 266 neurons), W = 8,
  L = 256, weights in the UP5K's SPRAM (``weight_memory = "spram"``), fold (64, 10): four
  accumulators in layer 1 (a 4 x 12-bit SPRAM word), one in layer 2;
* **digits**: the digits MLP 64 -> 32 -> 10 (:mod:`scfpga.digits_mlp`) with its weights in
  block RAM written at run time (``weight_memory = "ram"``).

For each: logic cells, EBR, SPRAM, Fmax against the target clock, clocks and inferences per
second, and what loading a network costs: load words, WRITE frames, request bytes and their
time on the line at 115 200 and 3 000 000 baud (:class:`scfpga.boards.network_host.LoadReport`,
measured by loading into the software board). Unless ``--no-proof``, the capacity network is
co-simulated in RTL: load, run, load other weights, run, every spike of both layers compared.

    python scripts/runtime_capacity.py [--freq MHZ] [--no-proof] [--out STEM]

Writes ``STEM.json`` and ``STEM.md`` (default ``results/runtime_capacity``); builds go to
``build/runtime_capacity/<name>/``.
"""
import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scfpga.boards.flow import build_board  # noqa: E402
from scfpga.boards.network_design import NetworkDesign  # noqa: E402
from scfpga.boards.network_host import NetworkBoard  # noqa: E402
from scfpga.model.neuron import lif_neuron  # noqa: E402
from scfpga.model.network import quantize_network  # noqa: E402

BAUDS = (115_200, 3_000_000)


def capacity_network(seed=0):
    rng = np.random.default_rng(seed)
    sizes = (64, 256, 10)
    weights = [rng.uniform(-1, 1, (n, m)) for m, n in zip(sizes[:-1], sizes[1:])]
    biases = [rng.uniform(-1, 1, n) for n in sizes[1:]]
    params, _ = quantize_network(weights, biases, thresholds=2, width=8,
                                 neuron=lambda thr: lif_neuron(width=16, threshold=thr),
                                 fold=(64, 10), lanes=1, length=256, weight_memory="spram")
    return params


def digits_network():
    import scfpga.digits as D
    from scfpga.digits_mlp import FOLD, LANES, to_network, train_mlp
    split = D.load_split()
    params, _ = to_network(train_mlp(split.x_train, split.y_train, epochs=30), fold=FOLD,
                           lanes=LANES)
    return dataclasses.replace(params, weight_memory="ram")


def reweighted(params, seed):
    """The same shape with other random weights (what a retrained network looks like)."""
    rng = np.random.default_rng(seed)
    top = 1 << params.width
    layers = [dataclasses.replace(layer, weights=rng.integers(-top, top + 1, np.shape(layer.weights)),
                                  bias=None if layer.bias is None else
                                  rng.integers(-top, top + 1, len(layer.bias)))
              for layer in params.layers]
    return dataclasses.replace(params, layers=tuple(layers))


def load_costs(design):
    with NetworkBoard.open("sim", design) as board:
        board.load(design.params)
        report = board.load(reweighted(design.params, 1))
    return {"synapses": report.synapses, "load_words": report.words, "frames": report.frames,
            "request_bytes": report.bytes,
            "line_s": {str(b): round(report.line_seconds(b), 4) for b in BAUDS}}


def measure(name, params, freq, out_root):
    design = NetworkDesign(params)
    t0 = time.monotonic()
    report = build_board(design, "icebreaker", out_root / name, freq_mhz=freq, force=True,
                         progress=lambda s: print(f"  {name}: {s}", flush=True))
    fmax = min(f["achieved"] for f in report["fmax_mhz"].values())
    clocks = design.run_cycles + design.sample_loads
    row = {"name": name, "network": params.describe(),
           "synapses": int(sum(np.size(l.kernel_terms) for l in params.layers)),
           "neurons": int(sum(l.n_neurons for l in params.layers)),
           "weight_memory": params.weight_memory,
           "logic_cells": report["logic_cells"], "ebr": report["ebr"], "spram": report["spram"],
           "target_mhz": freq, "fmax_mhz": round(fmax, 1), "timing_met": report["timing_met"],
           "clocks_per_inference": clocks,
           "inferences_per_s_at_target": round(freq * 1e6 / clocks, 1),
           "build_s": round(time.monotonic() - t0, 1), **load_costs(design)}
    print(json.dumps(row), flush=True)
    return row


def prove(params):
    from scfpga.sim.network import cosim_network
    from scfpga.model.network import Network
    rng = np.random.default_rng(3)
    x = Network(params).thresholds(rng.random((2, params.n_inputs)))
    t0 = time.monotonic()
    result = cosim_network(params, x, reloads={0: params, 1: reweighted(params, 2)}, vcd=False)
    return {"ok": result.ok, "describe": result.describe(), "seconds": round(time.monotonic() - t0, 1)}


def table(rows, proof):
    lines = ["| network | weights in | weights + biases | neurons | logic cells | EBR | SPRAM | "
             "Fmax (target) | inferences/s | load: words, frames | load at 115200 / 3M baud |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(
            f"| {r['network']} | {r['weight_memory']} | {r['synapses']} | {r['neurons']} | "
            f"{r['logic_cells']['used']} / {r['logic_cells']['total']} | "
            f"{r['ebr']['used']} / {r['ebr']['total']} | {r['spram']['used']} / "
            f"{r['spram']['total']} | {r['fmax_mhz']} MHz ({r['target_mhz']}"
            f"{', met' if r['timing_met'] else ', missed'}) | {r['inferences_per_s_at_target']} | "
            f"{r['load_words']}, {r['frames']} | {r['line_s']['115200']} s / "
            f"{r['line_s']['3000000']} s |")
    if proof:
        lines += ["", f"RTL proof of the capacity network (load, run, reload other weights, run): "
                      f"{proof['describe']} ({proof['seconds']} s)."]
    lines += ["", "Regenerate: `.venv/bin/python scripts/runtime_capacity.py`."]
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--freq", type=float, default=24.0)
    ap.add_argument("--no-proof", action="store_true")
    ap.add_argument("--out", default=str(ROOT / "results" / "runtime_capacity"))
    args = ap.parse_args(argv)
    out_root = ROOT / "build" / "runtime_capacity"
    rows = [measure("capacity", capacity_network(), args.freq, out_root),
            measure("digits", digits_network(), args.freq, out_root)]
    proof = None if args.no_proof else prove(capacity_network())
    stem = Path(args.out)
    stem.parent.mkdir(parents=True, exist_ok=True)
    stem.with_suffix(".json").write_text(json.dumps({"rows": rows, "proof": proof}, indent=1))
    stem.with_suffix(".md").write_text("# Run-time weights on the iCEBreaker\n\n" +
                                       table(rows, proof))
    print(table(rows, proof))


if __name__ == "__main__":
    main()
