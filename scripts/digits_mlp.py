"""Handwritten digits on a spiking SC MLP (64 -> 32 -> 10): float -> quantised -> golden model.

    .venv/bin/python scripts/digits_mlp.py [--out results/digits_mlp] [--hidden 32] [--theta 2]

The library and every choice: :mod:`scfpga.digits_mlp`. Measures, on the 540-image test split:

* the float MLP (hidden rate ``clip(relu(z) / theta, 0, 1)``) and the same network with the
  quantised W = 8 weights, inputs and integer thresholds but no SC error;
* the SC golden model ``Network(params).predict`` at L = 64 / 128 / 256 / 512 for Sobol and
  LFSR sources (stream seed 0);
* the spread at L = 256 over stream seeds 0..9 (same trained network) and over training seeds
  0..4 (retrained), and the hidden sizes 16 / 24 / 32 at L = 256.

Writes ``summary.json``, ``accuracy.md`` and ``raster.png`` (hidden-layer spikes of the first
test image, Sobol, L = 256) to ``--out``. About 40 s on an idle 2-core machine (the
retraining and seed sweeps dominate).
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
from scfpga.model.network import Network  # noqa: E402


def pct(a):
    return f"{100 * a:.1f}"


def table_md(table, float_acc, quant_acc, lengths, sources):
    acc = {(r["source"], r["length"]): r["accuracy"] for r in table}
    lines = ["| L | " + " | ".join(f"SC {s}" for s in sources) + " |",
             "|---:|" + "---:|" * len(sources)]
    for length in lengths:
        lines.append(f"| {length} | " + " | ".join(pct(acc[(s, length)]) for s in sources)
                     + " |")
    return "\n".join([f"float {pct(float_acc)} %, quantised W={D.WIDTH} (no SC error) "
                      f"{pct(quant_acc)} %", ""] + lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=str(ROOT / "results" / "digits_mlp"))
    ap.add_argument("--hidden", type=int, default=M.HIDDEN)
    ap.add_argument("--theta", type=int, default=M.THETA)
    ap.add_argument("--seed", type=int, default=0, help="training seed")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t_start = time.time()
    split = D.load_split()
    xs, ys = split.x_test, split.y_test

    model = M.train_mlp(split.x_train, split.y_train, args.hidden, args.theta, seed=args.seed)
    float_acc = float(np.mean(model.predict(xs) == ys))
    print(f"float MLP {model.sizes}, theta {model.theta}: trained in {model.seconds:.2f} s, "
          f"test {pct(float_acc)} %")
    params, report = M.to_network(model, M.WIDTH, M.LENGTH, M.SOURCE, 0, x_calib=split.x_train)
    quant_acc = M.quantised_accuracy(params, xs, ys)
    print(f"{params.describe()}: quantised {pct(quant_acc)} %")
    for l, r in enumerate(report):
        print(f"  layer {l + 1}: scale {r.scale:.4f}, weight error rms {r.weight_rms_error:.2e}"
              f" max {r.weight_max_error:.2e}, threshold {r.threshold:.3f} -> {r.threshold_int}")

    t0 = time.time()
    table = M.accuracy_table(model, xs, ys, M.LENGTHS, M.SOURCES, x_calib=split.x_train)
    text = table_md(table, float_acc, quant_acc, M.LENGTHS, M.SOURCES)
    print(text)

    stream_seeds = {s: [M.evaluate(M.to_network(model, M.WIDTH, M.LENGTH, s, k,
                                                x_calib=split.x_train)[0], xs, ys)
                        for k in range(10)] for s in M.SOURCES}
    train_seeds = []
    for k in range(5):
        m = M.train_mlp(split.x_train, split.y_train, args.hidden, args.theta, seed=k)
        row = {"seed": k, "float": float(np.mean(m.predict(xs) == ys)),
               "train_seconds": round(m.seconds, 2)}
        for s in M.SOURCES:
            row[s] = M.evaluate(M.to_network(m, M.WIDTH, M.LENGTH, s, 0,
                                             x_calib=split.x_train)[0], xs, ys)
        train_seeds.append(row)
    sizes = []
    for h in (16, 24, 32):
        m = M.train_mlp(split.x_train, split.y_train, h, args.theta, seed=args.seed)
        row = {"hidden": h, "float": float(np.mean(m.predict(xs) == ys))}
        for s in M.SOURCES:
            row[s] = M.evaluate(M.to_network(m, M.WIDTH, M.LENGTH, s, 0,
                                             x_calib=split.x_train)[0], xs, ys)
        sizes.append(row)
    t_sweep = time.time() - t0

    run = Network(params).evaluate(xs[:1])
    M.plot_raster(run, 0, 0, out / "raster.png",
                  title=f"hidden layer, test image 0 (digit {ys[0]}), {M.SOURCE} L={M.LENGTH}: "
                        f"{int(run.counts[0][0].sum())} spikes")

    lines = [f"# Spiking MLP on digits: {params.describe()}", "",
             "From `scripts/digits_mlp.py` (library `scfpga/digits_mlp.py`). Test split: 540 "
             "images (stratified 70/30, seed 0). Hidden neuron: non-leaky IF, subtract reset, "
             f"threshold {report[0].threshold_int}, 16-bit membrane; class = argmax of the output "
             "scores.", "", text, "",
             f"At L = {M.LENGTH}, stream seeds 0..9: " + "; ".join(
                 f"{s} {pct(min(a))}..{pct(max(a))} % (mean {pct(np.mean(a))})"
                 for s, a in stream_seeds.items()) + ".", "",
             f"Training seeds 0..4 (retrained, L = {M.LENGTH}, stream seed 0):", "",
             "| seed | float | SC sobol | SC lfsr | training (s) |", "|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['seed']} | {pct(r['float'])} | {pct(r['sobol'])} | {pct(r['lfsr'])} | "
              f"{r['train_seconds']} |" for r in train_seeds]
    lines += ["", f"Hidden size (training seed {args.seed}, L = {M.LENGTH}):", "",
              "| hidden | float | SC sobol | SC lfsr |", "|---:|---:|---:|---:|"]
    lines += [f"| {r['hidden']} | {pct(r['float'])} | {pct(r['sobol'])} | {pct(r['lfsr'])} |"
              for r in sizes]
    (out / "accuracy.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines[lines.index(text) + 1:]))

    summary = {
        "split": {"test_fraction": D.TEST_FRACTION, "seed": D.SPLIT_SEED,
                  "n_train": int(len(split.y_train)), "n_test": int(len(ys))},
        "config": {"sizes": list(params.sizes), "width": params.width, "length": params.length,
                   "source": params.source, "stream_seed": params.seed,
                   "training_seed": args.seed, "theta": model.theta,
                   "thresholds_int": [r.threshold_int for r in report],
                   "neuron": "lif_neuron(width=16, threshold=theta, leak_shift=0), subtract"},
        "training": {"epochs": model.epochs, "seconds": round(model.seconds, 3),
                     "final_loss": model.history[-1]},
        "report": [{k: (int if k == "threshold_int" else float)(getattr(r, k))
                    for k in r.__dataclass_fields__} for r in report],
        "float_accuracy": float_acc,
        "quantised_accuracy": quant_acc,
        "sc": table,
        "stream_seeds": {"length": M.LENGTH, "accuracy": stream_seeds},
        "training_seeds": train_seeds,
        "hidden_sizes": sizes,
        "seconds": {"sweeps": round(t_sweep, 1), "total": round(time.time() - t_start, 1)},
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(f"\nwrote {out}/summary.json, accuracy.md, raster.png "
          f"({time.time() - t_start:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
