"""Golden-model throughput: the spiking dense layer and network side by side with sc_neurocore.

Throughput is in synaptic bit-operations per second: ``n_inputs * n_neurons * L`` per sample
(one AND of an input bit with a weight bit and its accumulation). Every figure is CPU time of
this process (``time.process_time``; everything runs on one thread, ``OPENBLAS_NUM_THREADS=1``,
as sc_neurocore's NumPy path does), so other jobs on the machine do not inflate it; cases are
interleaved round by round and each figure is the median of the rounds (a round repeats short
calls for at least 20 ms).

What is compared, per shape of ``SHAPES``:

* ``sc_neurocore``: ``VectorizedSCLayer.forward(x)`` (one sample per call; fresh random streams,
  AND + popcount, output ``sum_i w_i x_i``), the package's fastest CPU path: the peer.
* ``forward``: ``SCDenseLayer.forward`` with a leaky LIF (leak 1/16, threshold n/8): per-cycle
  currents and the neuron time loop, spike rates bit-exact with the hardware.
* ``run``: ``SCDenseLayer.run``, the same plus every spike train (batch, N, T).
* ``network``: ``Network.evaluate`` of a one-layer network of the same shape and neuron (every
  layer's spikes, currents, counts and scores).
* ``estimate``: ``SCDenseLayer.estimate``, the SC dot product from per-input count tables, and
  ``gather``: the compiled table gather alone on precomputed thresholds (what a C loop over the
  same table does); ``estimate / gather`` is the cost of the Python API around it.

Each at batch 1 (``*_single``, one sample per call) and at ``--batch`` samples (256) per call.
Also measured: the LIF kernel in neuron-updates/s, and time against batch, neurons and L
(fitted exponents: 1.0 is linear).

    python scripts/bench_dense_model.py [--quick] [--rounds N]

Writes ``results/bench_dense_model.json``, ``.md`` (the README table) and ``.png``.
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

from scfpga.model import neuron  # noqa: E402
from scfpga.model.dense import SCDenseLayer, quantize_weights  # noqa: E402
from scfpga.model.kernels import table_gather  # noqa: E402
from scfpga.model.lif import LIFParams, lif_run  # noqa: E402
from scfpga.model.network import DenseLayer, Network, NetworkParams  # noqa: E402

SHAPES = [(64, 16, 256), (256, 64, 1024), (784, 128, 1024)]
ESTIMATE_BATCH = 1024
TARGET = 10.0                      # issue #11: spiking model >= 10x sc_neurocore


def _theirs(n, neurons, length):
    try:
        from sc_neurocore.layers.vectorized_layer import VectorizedSCLayer
    except ImportError:
        return None
    return VectorizedSCLayer(n_inputs=n, n_neurons=neurons, length=length, use_gpu=False, seed=0)


def _repeats(fn, at_least=0.02):
    """Calls per timing sample so that a sample lasts ``at_least`` seconds (short calls)."""
    t = time.process_time()
    fn()
    return max(1, int(at_least / max(time.process_time() - t, 1e-6)))


def _timed(fn, reps):
    """CPU seconds per call, averaged over ``reps`` back-to-back calls."""
    t = time.process_time()
    for _ in range(reps):
        fn()
    return (time.process_time() - t) / reps


def leaky(n):
    return LIFParams(width=16, n_inputs=1, weights=(1,), threshold=max(1, n // 8), leak_shift=4)


def layers(n, neurons, length, rng):
    w = rng.uniform(-1, 1, (neurons, n))
    layer = SCDenseLayer.from_weights(w, length=length, lif=leaky(n))
    net = Network(NetworkParams(n, (DenseLayer(quantize_weights(w, 8), neuron=leaky(n)),),
                                length=length))
    return layer, net


def bench_shape(n, neurons, length, rounds, batch, rng, log=print):
    ours, net = layers(n, neurons, length, rng)
    plain = SCDenseLayer.from_weights(rng.uniform(-1, 1, (neurons, n)), length=length)
    theirs = _theirs(n, neurons, length)
    xb = rng.random((max(batch, ESTIMATE_BATCH), n))
    xe, xf = xb[:ESTIMATE_BATCH], xb[:batch]
    ops = n * neurons * length
    t = time.perf_counter()
    plain.estimate(xb[:1])                    # builds the stream caches and count tables
    ours.forward(xb[:1])
    net.evaluate(xb[:1])
    setup = time.perf_counter() - t
    table, bias = plain.count_table(length)
    pe = plain.thresholds(xe)
    gather_out = np.empty((len(pe), neurons), np.int64)
    pe1, gather1 = pe[:1].copy(), np.empty((1, neurons), np.int64)
    cases = {
        "forward": (lambda: ours.forward(xf), len(xf)),
        "forward_single": (lambda: ours.forward(xf[0]), 1),
        "run": (lambda: ours.run(xf), len(xf)),
        "run_single": (lambda: ours.run(xf[0]), 1),
        "network": (lambda: net.evaluate(xf), len(xf)),
        "network_single": (lambda: net.evaluate(xf[:1]), 1),
        "estimate": (lambda: plain.estimate(xe), len(xe)),
        "estimate_single": (lambda: plain.estimate(xe[0]), 1),
        "gather": (lambda: table_gather(table, pe, bias, gather_out), len(pe)),
        "gather_single": (lambda: table_gather(table, pe1, bias, gather1), 1),
    }
    if theirs is not None:
        theirs.forward(xb[0])
        cases["sc_neurocore"] = (lambda: theirs.forward(xb[0]), 1)
    times = {k: [] for k in cases}
    reps = {k: _repeats(fn) for k, (fn, _) in cases.items()}
    for k, (fn, _) in cases.items():          # one untimed warm-up round (caches, allocator)
        _timed(fn, reps[k])
    for _ in range(rounds):                   # interleaved: every case sees the same load
        for k, (fn, _) in cases.items():
            times[k].append(_timed(fn, reps[k]))
    row = {"shape": f"{n}x{neurons}", "length": length, "bit_ops_per_sample": ops,
           "setup_s": round(setup, 3), "batch": {k: b for k, (_, b) in cases.items()}}
    for k, (_, b) in cases.items():
        med = float(np.median(times[k]))
        row[k] = {"s_per_call": med, "us_per_sample": med / b * 1e6,
                  "gbit_ops_per_s": ops * b / med / 1e9,
                  "best_gbit_ops_per_s": ops * b / min(times[k]) / 1e9}
    row["estimate_vs_gather"] = {
        "batched": round(row["estimate"]["s_per_call"] and
                         row["gather"]["s_per_call"] / row["estimate"]["s_per_call"], 2),
        "single": round(row["gather_single"]["s_per_call"] / row["estimate_single"]["s_per_call"], 2),
        "single_overhead_us": round((row["estimate_single"]["s_per_call"]
                                     - row["gather_single"]["s_per_call"]) * 1e6, 2)}
    if theirs is not None:
        base = row["sc_neurocore"]["gbit_ops_per_s"]
        row["ratio_vs_sc_neurocore"] = {k: round(row[k]["gbit_ops_per_s"] / base, 2)
                                        for k in cases if k != "sc_neurocore"}
    log(f"{n:4d}x{neurons:<4d} L={length:5d}  " + "  ".join(
        f"{k} {row[k]['us_per_sample']:.1f}" for k in cases) + "  us/sample")
    if theirs is not None:
        ratios = row["ratio_vs_sc_neurocore"]
        log("             ratios: " + "  ".join(f"{k} {v}x" for k, v in ratios.items()))
    return row


def lif_rate(rounds):
    """Neuron updates per CPU second of the LIF kernels: ``lif_run`` on neuron-major currents
    (M, T) (one latency-bound chain per neuron, spikes and membrane of every cycle written) and
    ``neuron.run`` on a network layer's cycle-major currents (vectorised over neurons)."""
    rng = np.random.default_rng(1)
    p = leaky(64)
    cur = rng.integers(-4, 12, (2048, 1024))
    cycle_major = np.ascontiguousarray(cur.T)[None].transpose(0, 2, 1)    # (1, M, T) view
    out = {}
    for name, fn in (("lif_run", lambda: lif_run(p, cur)),
                     ("neuron_run_cycle_major", lambda: neuron.run(p, cycle_major))):
        fn()
        out[name] = cur.size / min(_timed(fn, 1) for _ in range(rounds)) / 1e6
    return {f"{k}_m_updates_per_s": round(v, 1) for k, v in out.items()}


def scaling(rounds):
    """Exponent of forward time (leaky LIF) against batch, neurons and L (1.0: linear)."""
    rng = np.random.default_rng(2)

    def t(n, neurons, length, batch):
        layer = layers(n, neurons, length, rng)[0]
        x = rng.random((batch, n))
        layer.forward(x[:1])
        return min(_timed(lambda: layer.forward(x), 1) for _ in range(rounds))

    fits = {}
    for name, (a, b) in {"batch": ((256, 64, 1024, 16), (256, 64, 1024, 128)),
                         "neurons": ((256, 32, 1024, 32), (256, 256, 1024, 32)),
                         "length": ((256, 64, 256, 32), (256, 64, 2048, 32))}.items():
        i = {"batch": 3, "neurons": 1, "length": 2}[name]
        fits[name] = round(float(np.log(t(*b) / t(*a)) / np.log(b[i] / a[i])), 2)
    return fits


PATHS = ("forward", "forward_single", "run", "run_single", "network", "network_single",
         "estimate", "estimate_single")
NAMES = {"forward": "forward, leaky LIF, batch", "forward_single": "forward, one sample",
         "run": "run (spike trains), batch", "run_single": "run, one sample",
         "network": "Network.evaluate, batch", "network_single": "Network.evaluate, one sample",
         "estimate": "estimate, batch 1024", "estimate_single": "estimate, one sample"}


def plot(rows, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    keys = [k for k in ("sc_neurocore",) + PATHS if k in rows[0]]
    fig, ax = plt.subplots(figsize=(10, 4.5))
    width = 0.8 / len(keys)
    for i, k in enumerate(keys):
        ax.bar(np.arange(len(rows)) + i * width, [r[k]["gbit_ops_per_s"] for r in rows], width,
               label=k)
    ax.set_xticks(np.arange(len(rows)) + 0.4 - width / 2)
    ax.set_xticklabels([f"{r['shape']}, L={r['length']}" for r in rows])
    ax.set_yscale("log")
    ax.set_ylabel("synaptic bit-ops / CPU s (x1e9)")
    ax.set_title("golden model vs sc_neurocore VectorizedSCLayer (one thread)")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return True


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7, help="interleaved timing rounds (7)")
    ap.add_argument("--batch", type=int, default=256, help="samples per batched call (256)")
    ap.add_argument("--quick", action="store_true", help="3 rounds")
    ap.add_argument("--out", default=str(ROOT / "results" / "bench_dense_model.json"))
    args = ap.parse_args(argv)
    rounds = 3 if args.quick else args.rounds
    rng = np.random.default_rng(0)
    try:
        scn_version = importlib.metadata.version("sc-neurocore")
    except importlib.metadata.PackageNotFoundError:
        scn_version = None
        print("sc-neurocore is not installed ('pip install -e .[bench]'): measuring ours alone")
    rows = [bench_shape(n, k, L, rounds, args.batch, rng) for n, k, L in SHAPES]
    lif = lif_rate(rounds)
    print("LIF kernel:", lif)
    fits = scaling(rounds)
    print("time exponents:", fits)
    out = {
        "unit": "synaptic bit-operations per CPU second (n_inputs * n_neurons * L per sample)",
        "clock": "time.process_time (CPU time of this process, one thread)",
        "rounds": rounds, "statistic": "median over interleaved rounds after one untimed warm-up round", "batch": args.batch,
        "threads": os.environ.get("OPENBLAS_NUM_THREADS"),
        "sc_neurocore": scn_version, "numpy": np.__version__,
        "numba": importlib.metadata.version("numba"),
        "python": platform.python_version(), "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "lif": lif, "time_exponents": fits, "shapes": rows,
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
    """The README table: microseconds per sample of each path, its ratio to sc_neurocore."""
    lines = ["# Dense model throughput", "",
             f"CPU microseconds per sample (median of {out['rounds']} interleaved rounds after a "
             f"warm-up round, one thread, batch {out['batch']}); in brackets: speed-up over "
             f"sc_neurocore "
             f"{out['sc_neurocore']} `VectorizedSCLayer.forward` (one sample per call). "
             f"Spiking paths use a leaky LIF and are bit-exact with the RTL. Target: "
             f"spiking paths >= {TARGET:g}x.", "",
             "| shape | sc_neurocore | " + " | ".join(NAMES[p] for p in PATHS) + " |",
             "|---|---:|" + "---:|" * len(PATHS)]
    for r in out["shapes"]:
        scn = r.get("sc_neurocore", {}).get("us_per_sample")
        cells = []
        for p in PATHS:
            ratio = r.get("ratio_vs_sc_neurocore", {}).get(p)
            cells.append(f"{r[p]['us_per_sample']:.1f}" + (f" ({ratio:.1f}x)" if ratio else ""))
        lines.append(f"| {r['shape']} L={r['length']} | "
                     + (f"{scn:.1f}" if scn else "—") + " | " + " | ".join(cells) + " |")
    lines += ["", "| shape | estimate / C table gather, batch | one sample | one-sample API "
              "overhead (us) |", "|---|---:|---:|---:|"]
    for r in out["shapes"]:
        g = r["estimate_vs_gather"]
        lines.append(f"| {r['shape']} L={r['length']} | {g['batched']:.2f} | {g['single']:.2f} | "
                     f"{g['single_overhead_us']:.1f} |")
    lif, fits = out["lif"], out["time_exponents"]
    lines += ["", f"LIF kernel, one core: {lif['neuron_run_cycle_major_m_updates_per_s']:.0f} M "
              f"neuron-updates/s on a layer's cycle-major currents (`neuron.run`, vectorised over "
              f"neurons; the path of `forward`, `run` and `Network`), "
              f"{lif['lif_run_m_updates_per_s']:.0f} M/s through `lif_run` on neuron-major "
              f"(M, T) currents (one dependency chain per neuron, every membrane written). "
              f"Time exponents (1 = linear): batch {fits['batch']}, neurons {fits['neurons']}, "
              f"L {fits['length']}.",
              "", "Regenerate: `.venv/bin/pip install -e '.[bench]' && "
              ".venv/bin/python scripts/bench_dense_model.py`."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
