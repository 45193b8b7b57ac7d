"""Golden-model throughput of the dense layer, side by side with sc_neurocore's VectorizedSCLayer.

Throughput is in synaptic bit-operations per second: ``n_inputs * n_neurons * L`` per sample
(one AND of an input bit with a weight bit and its accumulation). Measured in the same process,
interleaved round by round so that both see the same machine load; each figure is the median of
the rounds (a round repeats short calls for at least 20 ms). Everything runs single-threaded (``OPENBLAS_NUM_THREADS=1`` unless already set), as
sc_neurocore's NumPy path does.

What is compared:

* ``sc_neurocore``: ``VectorizedSCLayer.forward(x)`` (one sample per call; fresh random streams,
  AND + popcount, output ``sum_i w_i x_i``), the package's fastest CPU path.
* ``estimate``: our ``SCDenseLayer.estimate(X)``, the same quantity (the SC dot product per
  neuron), bit-exact with the hardware's scores: per-input count tables, one gather-and-sum.
* ``forward``: our ``SCDenseLayer.forward(X)``, the full spiking run: per-cycle currents (one GEMM
  per weight-source value) and the LIF neurons, bit-exact with the hardware's spike counts.
  sc_neurocore's vectorised layer has no counterpart (it has no neurons).

Batched runs use ``--batch`` samples per call; ``*_single`` one sample per call.

    python scripts/bench_dense_model.py [--quick] [--rounds N]

Writes ``results/bench_dense_model.json`` and ``results/bench_dense_model.png``.
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import importlib.metadata  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scfpga.model.dense import SCDenseLayer  # noqa: E402

SHAPES = [(64, 16, 256), (256, 64, 1024), (784, 128, 1024)]
BATCH = {64: 1024, 256: 256, 784: 64}           # estimate batch per shape (by n_inputs)
FORWARD_BATCH = {64: 512, 256: 64, 784: 16}


def _theirs(n, neurons, length):
    try:
        from sc_neurocore.layers.vectorized_layer import VectorizedSCLayer
    except ImportError:
        return None
    return VectorizedSCLayer(n_inputs=n, n_neurons=neurons, length=length, use_gpu=False, seed=0)


def _repeats(fn, at_least=0.02):
    """Calls per timing sample so that a sample lasts ``at_least`` seconds (short calls)."""
    t = time.perf_counter()
    fn()
    return max(1, int(at_least / max(time.perf_counter() - t, 1e-6)))


def _timed(fn, reps):
    """Seconds per call, averaged over ``reps`` back-to-back calls."""
    t = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - t) / reps


def bench_shape(n, neurons, length, rounds, rng, log=print):
    ours = SCDenseLayer.from_weights(rng.uniform(-1, 1, (neurons, n)), length=length)
    theirs = _theirs(n, neurons, length)
    xb = rng.random((BATCH[n], n))
    xf = xb[:FORWARD_BATCH[n]]
    ops = n * neurons * length
    t = time.perf_counter()
    ours.estimate(xb[:1])                     # builds the stream caches and count tables
    setup = time.perf_counter() - t
    cases = {
        "estimate": (lambda: ours.estimate(xb), len(xb)),
        "estimate_single": (lambda: ours.estimate(xb[0]), 1),
        "forward": (lambda: ours.forward(xf), len(xf)),
        "forward_single": (lambda: ours.forward(xf[0]), 1),
    }
    if theirs is not None:
        theirs.forward(xb[0])
        cases["sc_neurocore"] = (lambda: theirs.forward(xb[0]), 1)
    times = {k: [] for k in cases}
    reps = {k: _repeats(fn) for k, (fn, _) in cases.items()}
    for _ in range(rounds):                   # interleaved: every case sees the same load
        for k, (fn, _) in cases.items():
            times[k].append(_timed(fn, reps[k]))
    row = {"shape": f"{n}x{neurons}", "length": length, "bit_ops_per_sample": ops,
           "setup_s": round(setup, 3), "batch": {k: b for k, (_, b) in cases.items()}}
    for k, (_, b) in cases.items():
        med = float(np.median(times[k]))
        row[k] = {"s_per_call": med, "gbit_ops_per_s": ops * b / med / 1e9,
                  "best_gbit_ops_per_s": ops * b / min(times[k]) / 1e9}
    if theirs is not None:
        base = row["sc_neurocore"]["gbit_ops_per_s"]
        row["ratio_vs_sc_neurocore"] = {k: round(row[k]["gbit_ops_per_s"] / base, 2)
                                        for k in cases if k != "sc_neurocore"}
    log(f"{n:4d}x{neurons:<4d} L={length:5d}  " + "  ".join(
        f"{k} {row[k]['gbit_ops_per_s']:.2f}" for k in cases) + "  Gbit-op/s")
    if theirs is not None:
        ratios = row["ratio_vs_sc_neurocore"]
        log("             ratios: " + "  ".join(f"{k} {v}x" for k, v in ratios.items()))
    return row


def plot(rows, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    keys = [k for k in ("sc_neurocore", "estimate", "estimate_single", "forward", "forward_single")
            if k in rows[0]]
    fig, ax = plt.subplots(figsize=(8, 4))
    width = 0.8 / len(keys)
    for i, k in enumerate(keys):
        ax.bar(np.arange(len(rows)) + i * width, [r[k]["gbit_ops_per_s"] for r in rows], width,
               label=k)
    ax.set_xticks(np.arange(len(rows)) + 0.4 - width / 2)
    ax.set_xticklabels([f"{r['shape']}, L={r['length']}" for r in rows])
    ax.set_yscale("log")
    ax.set_ylabel("synaptic bit-ops / s (x1e9)")
    ax.set_title("dense SC layer golden model vs sc_neurocore VectorizedSCLayer")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return True


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7, help="interleaved timing rounds (7)")
    ap.add_argument("--quick", action="store_true", help="3 rounds")
    ap.add_argument("--out", default=str(ROOT / "results" / "bench_dense_model.json"))
    args = ap.parse_args(argv)
    rounds = 3 if args.quick else args.rounds
    rng = np.random.default_rng(0)
    try:
        scn_version = importlib.metadata.version("sc-neurocore")
    except importlib.metadata.PackageNotFoundError:
        scn_version = None
        print("sc-neurocore is not installed ('pip install sc-neurocore'): measuring ours alone")
    rows = [bench_shape(n, k, L, rounds, rng) for n, k, L in SHAPES]
    out = {
        "unit": "synaptic bit-operations per second (n_inputs * n_neurons * L per sample)",
        "rounds": rounds, "statistic": "median over interleaved rounds",
        "threads": os.environ.get("OPENBLAS_NUM_THREADS"),
        "sc_neurocore": scn_version, "numpy": np.__version__,
        "python": platform.python_version(), "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "shapes": rows,
    }
    if scn_version:
        out["min_ratio"] = {k: min(r["ratio_vs_sc_neurocore"][k] for r in rows)
                            for k in rows[0]["ratio_vs_sc_neurocore"]}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n")
    png = Path(args.out).with_suffix(".png")
    Path(args.out).with_suffix(".md").write_text(markdown(out))
    print(f"wrote {args.out}" + (f" and {png}" if plot(rows, png) else ""))


def markdown(out):
    """The README table: G bit-ops/s of each path and the ratio to sc_neurocore's forward."""
    paths = ("estimate", "estimate_single", "forward", "forward_single")
    names = {"estimate": "estimate, batched", "estimate_single": "estimate, one sample",
             "forward": "forward (with LIF), batched", "forward_single": "forward (with LIF), one sample"}
    lines = ["# Dense model throughput", "",
             f"G synaptic bit-ops/s (median of {out['rounds']} interleaved rounds, one thread, "
             f"load average {out['load_average'][0]:.1f} at the end); in brackets: ratio to "
             f"sc_neurocore {out['sc_neurocore']} `VectorizedSCLayer.forward` (one sample per call).", "",
             "| shape | sc_neurocore | " + " | ".join(names[p] for p in paths) + " |",
             "|---|---:|" + "---:|" * len(paths)]
    for r in out["shapes"]:
        scn = r.get("sc_neurocore", {}).get("gbit_ops_per_s")
        cells = []
        for p in paths:
            ratio = r.get("ratio_vs_sc_neurocore", {}).get(p)
            cells.append(f"{r[p]['gbit_ops_per_s']:.2f}" + (f" ({ratio:.1f}x)" if ratio else ""))
        lines.append(f"| {r['shape']} L={r['length']} | {scn:.2f} | " + " | ".join(cells) + " |"
                     if scn else f"| {r['shape']} L={r['length']} | — | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
