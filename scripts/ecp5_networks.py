"""Digits MLPs on ECP5 boards: how large a network fits, and a >= 100 k synapse one on an 85F.

    .venv/bin/python scripts/ecp5_networks.py [--out results/ecp5] [--only NAME ...]

Each configuration is a 64 -> H -> 10 spiking MLP (:mod:`scfpga.digits_mlp`: trained in
float, quantised to W = 8, Sobol streams, L = 256), laid out with ``fold`` and ``lanes`` per
layer, wrapped in the board top (UART protocol engine, EHXPLLL at ``--clock``, 50 MHz by default) and built with the
pip-only ECP5 flow (synth_ecp5, nextpnr-ecp5, ecppack). For each it records

* accuracy of the golden model on the 540 test images (the hardware is bit-exact with it:
  ``tests/test_network_board.py`` proves the network RTL against the model);
* LUT4s, flip-flops, DP16KD block RAMs, multipliers, Fmax, timing, build time;
* clocks per inference (:func:`scfpga.hdl.network.schedule`) and inferences per second at
  the board clock, and the critical path nextpnr reports;
* or, for a design that does not fit, the resources nextpnr names.

The sizes per device run from small to large and stop at the first that does not fit, so
the largest that fits is the last success before it (``--sizes`` overrides). Results are
written after every build: ``networks.json`` and ``networks.md`` in ``--out``.
"""
import argparse
import json
import re
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))                 # run from a checkout without installing

from scfpga import digits as D  # noqa: E402
from scfpga import digits_mlp as M  # noqa: E402
from scfpga.boards.build import BuildError, DesignTooLarge  # noqa: E402
from scfpga.boards.flow import build_board  # noqa: E402
from scfpga.boards.network_design import NetworkDesign  # noqa: E402
from scfpga.hdl.network import schedule  # noqa: E402

CLOCK_MHZ = 50.0
PARALLEL = 16          # hidden-layer accumulators (fold = ceil(H / PARALLEL))
HIDDEN_LANES = 4
OUTPUT_LANES = 16
# board -> hidden sizes to try, small to large (stop at the first that does not fit).
SIZES = {"ulx3s-85f": (1400, 2800, 4096), "ulx3s-25f": (256, 512, 1024)}


STEP = re.compile(r"^Info:\s+(clk-to-q|routing|logic|setup|source)\s+([\d.]+)\s+([\d.]+)\s+"
                  r"(Source|Net) (\S+)(?: \((\d+,\d+)\) -> \((\d+,\d+)\))?")


def critical_path(log_path):
    """The first clock's critical path in a nextpnr log: total, logic and routing delay (ns),
    its source and end cells, and each step ``[type, ns, cell or net, from, to]``."""
    text = Path(log_path).read_text()
    start = text.rfind("Critical path report for clock")      # after routing
    if start < 0:
        return None
    steps = []
    for line in text[start:].splitlines()[2:]:
        if not line.startswith("Info:") or "Critical path report" in line or \
                line.startswith("Info: Max frequency"):
            break
        m = STEP.match(line)
        if m:
            steps.append([m[1], float(m[2]), m[5], m[6], m[7]])
    if not steps:
        return None
    total = sum(s[1] for s in steps)
    return {"total_ns": round(total, 2),
            "logic_ns": round(sum(s[1] for s in steps if s[0] != "routing"), 2),
            "routing_ns": round(sum(s[1] for s in steps if s[0] == "routing"), 2),
            "levels": sum(s[0] == "logic" for s in steps),
            "from": steps[0][2], "to": steps[-1][2], "steps": steps}


def layout(hidden):
    return dict(fold=(max(1, -(-hidden // PARALLEL)), 1), lanes=(HIDDEN_LANES, OUTPUT_LANES))


def measure(board, hidden, split, out_root, seed, clock=CLOCK_MHZ):
    t0 = time.time()
    model = M.train_mlp(split.x_train, split.y_train, hidden=hidden, seed=seed)
    params, _ = M.to_network(model, x_calib=split.x_train, **layout(hidden))
    train_s = time.time() - t0
    t0 = time.time()
    accuracy = M.evaluate(params, split.x_test, split.y_test)
    eval_s = time.time() - t0
    sch = schedule(params)
    synapses = sum(layer.n_inputs * layer.n_neurons for layer in params.layers)
    row = {"board": board, "sizes": list(params.sizes), "synapses": synapses,
           "fold": [layer.fold for layer in params.layers],
           "lanes": [layer.lanes for layer in params.layers],
           "length": params.length, "accuracy": round(accuracy, 4),
           "float_accuracy": round(float(np.mean(model.predict(split.x_test) == split.y_test)), 4),
           "run_clocks": sch.run_clocks, "train_s": round(train_s, 1), "eval_s": round(eval_s, 1)}
    out = out_root / f"{board}-h{hidden}"
    print(f"{board} 64-{hidden}-10: {synapses} synapses, golden model {100 * accuracy:.1f} %, "
          f"{sch.run_clocks} clocks per inference; building in {out}", flush=True)
    try:
        report = build_board(NetworkDesign(params), board, out, freq_mhz=clock, force=True,
                             progress=lambda msg: print("  " + msg, flush=True))
    except DesignTooLarge as e:
        row.update(fits=False, error=str(e), over={k: list(v) for k, v in e.over.items()})
        return row
    except BuildError as e:
        row.update(fits=None, error=str(e))
        return row
    fmax = report["fmax_min_mhz"]
    row.update(
        fits=True, device=report["device"], package=report["package"],
        luts=report["logic_cells"], flip_flops=report["flip_flops"], dp16kd=report["ebr"],
        mult18=report["dsp"], fmax_mhz=fmax, timing_met=report["timing_met"],
        clock_mhz=report["board"]["clock_mhz"],
        inferences_per_s=round(report["board"]["clock_mhz"] * 1e6 / sch.run_clocks, 1),
        inferences_per_s_at_fmax=round(fmax * 1e6 / sch.run_clocks, 1) if fmax else None,
        build_s=report["wall_time_s"], bitstream_sha256=report["bin_sha256"],
        critical_path=critical_path(out / "nextpnr.log"))
    return row


def table(rows):
    lines = ["| board | network | synapses | accuracy | LUT4 | FF | DP16KD | MULT18 | Fmax MHz "
             "| clocks/inference | clock MHz (met) | inferences/s at the clock | build s |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        net = "-".join(map(str, r["sizes"]))
        if r.get("fits"):
            lines.append(
                f"| {r['board']} | {net} | {r['synapses']} | {100 * r['accuracy']:.1f} % | "
                f"{r['luts']['used']}/{r['luts']['total']} | {r['flip_flops']} | "
                f"{r['dp16kd']['used']}/{r['dp16kd']['total']} | "
                f"{r['mult18']['used']}/{r['mult18']['total']} | {r['fmax_mhz']:.1f} | "
                f"{r['run_clocks']} | {r['clock_mhz']:g} ({'yes' if r['timing_met'] else 'no'}) | "
                f"{r['inferences_per_s']:.0f} | {r['build_s']['total']:.0f} |")
        else:
            what = "does not fit: " + ", ".join(f"{k} {u}/{a}" for k, (u, a) in
                                                r.get("over", {}).items()) \
                if r.get("fits") is False else f"build failed: {r.get('error', '')[:80]}"
            lines.append(f"| {r['board']} | {net} | {r['synapses']} | "
                         f"{100 * r['accuracy']:.1f} % | {what} |||||||||")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=str(ROOT / "results" / "ecp5"))
    ap.add_argument("--work", default=str(ROOT / "build" / "ecp5_networks"))
    ap.add_argument("--only", nargs="*", help="boards to run (default: all)")
    ap.add_argument("--sizes", nargs="*", type=int, help="hidden sizes (default: per board)")
    ap.add_argument("--seed", type=int, default=0, help="training seed")
    ap.add_argument("--clock", type=float, default=CLOCK_MHZ, help="board clock in MHz")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "networks.json"
    rows = json.loads(path.read_text()) if path.exists() else []
    split = D.load_split()
    for board, sizes in SIZES.items():
        if args.only and board not in args.only:
            continue
        for hidden in args.sizes or sizes:
            row = measure(board, hidden, split, Path(args.work), args.seed, args.clock)
            # One row per board, network and clock: a 50 MHz build and the one that meets stay.
            key = lambda r: (r["board"], r["sizes"], r.get("clock_mhz", args.clock))  # noqa: E731
            rows = [r for r in rows if key(r) != key(row)] + [row]
            path.write_text(json.dumps(rows, indent=2) + "\n")
            (out / "networks.md").write_text(table(rows) + "\n")
            print(table([row]).splitlines()[-1], flush=True)
            if not row.get("fits"):
                break
    return 0


if __name__ == "__main__":
    sys.exit(main())
