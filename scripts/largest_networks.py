"""The largest 64 -> H -> 10 digits MLP that fits each device, found by builds.

    .venv/bin/python scripts/largest_networks.py [--only up5k hx8k ecp5-25f ecp5-85f]
        [--max-builds 4] [--out results] [--work build/largest_networks]

For each device the hidden width H is searched in two stages:

1. by estimate (no build): the largest H for which :func:`scfpga.hdl.network_fit.fit_layout`
   finds a layout (fold, lanes per layer) within the device's block RAM and logic. The fit
   estimates count iCE40 4 kbit EBRs; for the 25F the DP16KD count is scaled by
   :data:`ECP5_EBR_PER_DP16KD` (measured on 25F builds: layouts estimated at 161, 111, 111 and
   104 EBRs took 79, 57, 57 and 57 DP16KD, i.e. 1.8-2.0 EBRs per DP16KD; a cap of 1.95 left
   the fit one DP16KD over the 56, whatever H), so the estimate only proposes a start. On this
   shared machine ``fit_layout`` over thousands of neurons takes minutes per call, so the ECP5
   searches start from a given H; the 85F keeps the layout ``scripts/ecp5_networks.py``
   measured on it (16 hidden accumulators x 4 lanes, output 16 lanes) instead;
2. by builds (:func:`scfpga.boards.flow.build_board`, the board top with the UART protocol
   engine at the device's clock): a binary search between the largest H that built, fit and
   met timing and the smallest that did not, at most ``--max-builds`` builds per device. A
   build that does not fit, or misses the clock, counts as a failure.

Each tried H is a trained network (:func:`scfpga.digits_mlp.train_mlp`, seed 0) quantised to
W = 8 with Sobol streams and L = 256, laid out by ``fit_layout``; the record of the largest
success has its golden-model accuracy on the 540 test images, LUT/LC, block RAM, Fmax and
inferences/s at the clock. Every build is appended to ``largest_networks.json`` (with the
failures), and ``largest_networks.md`` is rewritten after each, so a long run can be stopped.
"""
import argparse
import json
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
from scfpga.hdl.network_fit import fit_layout  # noqa: E402
from scfpga.model.params import ParameterError  # noqa: E402

ECP5_EBR_PER_DP16KD = 1.75
ECP5_MHZ = 30.0
# name -> board, fit_layout capacity, clock (MHz, None = the board's default), H search range.
DEVICES = {
    "up5k": dict(board="icebreaker", fit=dict(device="up5k"), clock=None, h_range=(16, 256)),
    "hx8k": dict(board="hx8k-evn", fit=dict(device="hx8k"), clock=None, h_range=(16, 256)),
    # ECP5: fit_layout over a hidden layer of thousands takes minutes per call on this shared
    # machine, so the search starts from ``start`` (scaled from the 122 DP16KD of H = 1400)
    # instead of a binary search on the estimate; the clock is one the 85F's 64-1400-10 meets.
    "ecp5-25f": dict(board="ulx3s-25f", clock=ECP5_MHZ, h_range=(64, 2048), start=384,
                     fit=dict(lc=24288, ebr=int(56 * ECP5_EBR_PER_DP16KD))),
    "ecp5-85f": dict(board="ulx3s-85f", clock=ECP5_MHZ, h_range=(256, 4096), start=2048,
                     fit=dict(lc=83640, ebr=int(208 * ECP5_EBR_PER_DP16KD)), parallel=16,
                     lanes=(4, 16)),
}


def untrained(hidden, seed=0):
    """A FloatMLP of the right shape: the layout depends on the shape only."""
    rng = np.random.default_rng(seed)
    return M.FloatMLP(weights=(rng.uniform(-1, 1, (hidden, 64)), rng.uniform(-1, 1, (10, hidden))),
                      biases=(np.zeros(hidden), np.zeros(10)), theta=M.THETA)


def layout(hidden, fit):
    """``(folds, lanes, estimate)`` fit_layout picks for 64-hidden-10, or the reason nothing
    fits (a str)."""
    params, _ = M.to_network(untrained(hidden))
    try:
        best, est = fit_layout(params, **fit)
    except ParameterError as e:
        return str(e)
    return [l.fold for l in best.layers], [l.lanes for l in best.layers], est


def largest_by_estimate(fit, lo, hi):
    """The largest H in [lo, hi] that fit_layout places (binary search; layouts are monotone
    enough in H for a start value)."""
    if isinstance(layout(lo, fit), str):
        return None
    while hi - lo > max(1, lo // 32):
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if isinstance(layout(mid, fit), str) else (mid, hi)
    return lo


def measure(name, dev, hidden, split, work, say):
    """Train, lay out, evaluate and build 64-hidden-10; the row (``ok`` = fits and meets)."""
    row = {"device": name, "board": dev["board"], "hidden": hidden,
           "synapses": 64 * hidden + hidden * 10}
    lay = layout(hidden, dev["fit"]) if "parallel" not in dev else \
        ([-(-hidden // dev["parallel"]), 1], list(dev["lanes"]), None)
    if isinstance(lay, str):
        row.update(ok=False, fits=False, error=f"fit estimate: {lay.split(': ', 1)[-1]}")
        return row
    folds, lanes, est = lay
    t0 = time.time()
    model = M.train_mlp(split.x_train, split.y_train, hidden=hidden, seed=0)
    params, _ = M.to_network(model, x_calib=split.x_train, fold=tuple(folds), lanes=tuple(lanes))
    accuracy = M.evaluate(params, split.x_test, split.y_test)
    sch = schedule(params)
    row.update(fold=folds, lanes=lanes, estimate=est, accuracy=round(accuracy, 4),
               run_clocks=sch.run_clocks, train_eval_s=round(time.time() - t0, 1))
    say(f"{name} 64-{hidden}-10: {row['synapses']} synapses, layout fold {folds} lanes {lanes}, "
        f"golden model {100 * accuracy:.1f} %, {sch.run_clocks} clocks per inference")
    try:
        report = build_board(NetworkDesign(params), dev["board"], Path(work) / f"{name}-h{hidden}",
                             freq_mhz=dev["clock"], force=True,
                             progress=lambda msg: say("  " + msg))
    except DesignTooLarge as e:
        row.update(ok=False, fits=False, error=str(e)[:300],
                   over={k: list(v) for k, v in e.over.items()})
        return row
    except BuildError as e:
        row.update(ok=False, fits=None, error=str(e)[:300])
        return row
    clock = report["board"]["clock_mhz"]
    row.update(ok=bool(report["timing_met"]), fits=True, device_name=report["device"],
               clock_mhz=clock, lc=report["logic_cells"], ebr=report["ebr"],
               spram=report.get("spram"), dsp=report.get("dsp"), flip_flops=report["flip_flops"],
               fmax_mhz=report["fmax_min_mhz"], timing_met=report["timing_met"],
               inferences_per_s=round(clock * 1e6 / sch.run_clocks, 1),
               build_s=report["wall_time_s"]["total"], bitstream_sha256=report["bin_sha256"])
    return row


def search(name, dev, split, work, max_builds, rows, save, say):
    """Binary search by builds from the estimate's H; returns the rows of this device."""
    lo_h, hi_h = dev["h_range"]
    start = dev.get("start") or largest_by_estimate(dev["fit"], lo_h, hi_h)
    say(f"{name}: first H {start}" + ("" if dev.get("start") else " (largest by the fit estimate)"))
    if start is None:
        return
    good, bad = None, None
    hidden = start
    for _ in range(max_builds):
        row = measure(name, dev, hidden, split, work, say)
        rows.append(row)
        save(rows)
        say(f"{name} H={hidden}: " + ("fits, meets" if row["ok"] else
                                      "misses timing" if row.get("fits") else "does not fit"))
        if row["ok"]:
            good = hidden
        else:
            bad = hidden
        if good is None:          # step down until something builds
            nxt = max(lo_h, int(hidden * 0.75))
        elif bad is None:         # step up until something fails
            nxt = int(hidden * 1.25)
        else:
            nxt = (good + bad) // 2
        if nxt in (good, bad) or (good is not None and bad is not None and bad - good <= 8) \
                or nxt > hi_h or nxt < lo_h:
            break
        hidden = nxt


def table(rows):
    lines = ["| device (board) | largest H built | synapses | accuracy (golden model) | logic "
             "| block RAM | Fmax MHz | clock MHz | inferences/s | smallest H that failed |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for name in DEVICES:
        mine = [r for r in rows if r["device"] == name]
        if not mine:
            continue
        ok = [r for r in mine if r["ok"]]
        failed = sorted((r for r in mine if not r["ok"] and (not ok or r["hidden"] >
                                                             max(o["hidden"] for o in ok))),
                        key=lambda r: r["hidden"])
        why = (f"{failed[0]['hidden']} ("
               + ("misses timing: Fmax {:.1f}".format(failed[0]["fmax_mhz"])
                  if failed[0].get("fits") else
                  "over: " + ", ".join(f"{k} {u}/{a}" for k, (u, a) in
                                       failed[0].get("over", {}).items())
                  if failed[0].get("over") else failed[0].get("error", "")[:60]) + ")") \
            if failed else "none tried"
        if not ok:
            lines.append(f"| {name} ({mine[0]['board']}) | none of {sorted(r['hidden'] for r in mine)} "
                         f"|||||||| {why} |")
            continue
        r = max(ok, key=lambda r: r["hidden"])
        lines.append(
            f"| {name} ({r['board']}) | {r['hidden']} (fold {r['fold']}, lanes {r['lanes']}) | "
            f"{r['synapses']} | {100 * r['accuracy']:.1f} % | "
            f"{r['lc']['used']}/{r['lc']['total']} | {r['ebr']['used']}/{r['ebr']['total']} | "
            f"{r['fmax_mhz']:.1f} | {r['clock_mhz']:g} | {r['inferences_per_s']:.0f} | {why} |")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", nargs="*", choices=list(DEVICES), help="devices (default: all)")
    ap.add_argument("--max-builds", type=int, default=4, help="builds per device")
    ap.add_argument("--max-h", type=int, help="largest H to consider (default: per device)")
    ap.add_argument("--start", type=int, help="first H to build (default: per device)")
    ap.add_argument("--clock", type=float, help="clock in MHz (default: the board's)")
    ap.add_argument("--out", default=str(ROOT / "results"))
    ap.add_argument("--work", default=str(ROOT / "build" / "largest_networks"))
    args = ap.parse_args(argv)
    out = Path(args.out)
    path = out / "largest_networks.json"
    names = args.only or list(DEVICES)

    def save(mine):
        # Other devices' rows are re-read, so runs for different devices can go in parallel.
        rows = [r for r in (json.loads(path.read_text()) if path.exists() else [])
                if r["device"] not in names] + mine
        rows.sort(key=lambda r: list(DEVICES).index(r["device"]))
        path.write_text(json.dumps(rows, indent=2) + "\n")
        (out / "largest_networks.md").write_text(
            "# The largest digits MLP per device, by builds\n\n" + table(rows) + "\n\n"
            "64 -> H -> 10, W = 8, Sobol, L = 256, weights in block RAM; layout from "
            "`fit_layout`; builds of the board top (UART protocol engine) at the clock shown; "
            "a build that does not fit or misses that clock is a failure.\n\n"
            "Regenerate: `.venv/bin/python scripts/largest_networks.py`.\n")

    def say(msg):
        print(msg, flush=True)

    split = D.load_split()
    mine = []                   # a new search of a device replaces its old rows
    for name in names:
        dev = dict(DEVICES[name])
        if args.clock:
            dev["clock"] = args.clock
        if args.max_h:
            dev["h_range"] = (dev["h_range"][0], args.max_h)
        if args.start:
            dev["start"] = args.start
        search(name, dev, split, args.work, args.max_builds, mine, save, say)
    return 0


if __name__ == "__main__":
    sys.exit(main())
