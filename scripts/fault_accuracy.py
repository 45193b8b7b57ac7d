"""Digits accuracy against the stuck-at fault rate, with and without fault-aware training.

Workload: scikit-learn's digits, the fixed split of :func:`scfpga.digits.load_split` (1257
train / 540 test, inputs ``pixel / 16``), one dense SC layer 64 -> 10 with unipolar weights in
[0, 1] (the convention of :class:`scfpga.layers.HardwareAwareSCLayer`; a per-input constant
added to every class leaves the argmax unchanged, so non-negative weights lose nothing), no
bias. The class is the argmax of the layer's SC scores (golden model, Sobol, W = 8, L = 256),
which the RTL computes bit for bit from the same ROM contents.

* Training (float, full batch): softmax cross-entropy on logits ``GAIN * W x``, gradient
  descent projected to [0, 1] (``EPOCHS`` steps, rate ``LR``) -- the clean network.
* Faults: a :func:`scfpga.model.faults.defect_map` per fault seed: each synapse stuck at 0 or 1
  (half each) with probability ``rate``, every working synapse with a fixed offset of standard
  deviation 0.02 (the reference layer's default variability).
* Without fault-aware training: the clean weights programmed into the faulty layer.
* With fault-aware training: starting from the clean weights, ``RETRAIN`` more steps through
  :meth:`HardwareAwareSCLayer.update_weights` with the gradient of the *faulty* layer's
  logits; stuck synapses get no update, the others compensate.

Rates 0..20 %, 3 fault seeds each (mean, min and max reported).

    python scripts/fault_accuracy.py

Writes results/fault_accuracy.{json,md,png}.
"""
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scfpga.digits import load_split  # noqa: E402
from scfpga.layers import HardwareAwareSCLayer  # noqa: E402

RATES = (0.0, 0.025, 0.05, 0.1, 0.15, 0.2)
SEEDS = (1, 2, 3)
VARIABILITY = 0.02
GAIN = 4.0
LR = 0.05
EPOCHS = 400
RETRAIN = 200
LENGTH = 256


def gradient(w_eff, x, y):
    """d(mean cross-entropy)/d(W) of logits GAIN * x W^T."""
    z = GAIN * x @ w_eff.T
    z -= z.max(1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(1, keepdims=True)
    p[np.arange(len(y)), y] -= 1
    return GAIN * p.T @ x / len(y)


def train_clean(x, y):
    w = np.full((10, 64), 0.5)
    for _ in range(EPOCHS):
        w = np.clip(w - LR * gradient(w, x, y), 0, 1)
    return w


def sc_accuracy(layer, x, y):
    return float(np.mean(np.argmax(layer.model.scores(x), axis=1) == y))


def float_accuracy(w, x, y):
    return float(np.mean(np.argmax(x @ w.T, axis=1) == y))


def main():
    split = load_split()
    t0 = time.time()
    clean = train_clean(split.x_train, split.y_train)
    rows = []
    for rate in RATES:
        for seed in SEEDS:
            layer = HardwareAwareSCLayer(64, 10, length=LENGTH, stuck_rate=rate,
                                         variability=VARIABILITY, seed=seed, weights=clean)
            naive = sc_accuracy(layer, split.x_test, split.y_test)
            for _ in range(RETRAIN):
                layer.update_weights(gradient(layer.weights, split.x_train, split.y_train), LR)
            aware = sc_accuracy(layer, split.x_test, split.y_test)
            rows.append({"rate": rate, "seed": seed, "stuck": layer.n_stuck,
                         "naive": naive, "aware": aware,
                         "aware_float": float_accuracy(layer.weights, split.x_test, split.y_test)})
            print(rows[-1])
    out = ROOT / "results"
    summary = {"rates": RATES, "seeds": SEEDS, "variability": VARIABILITY, "length": LENGTH,
               "clean_float_accuracy": float_accuracy(clean, split.x_test, split.y_test),
               "rows": rows, "seconds": round(time.time() - t0, 1)}
    (out / "fault_accuracy.json").write_text(json.dumps(summary, indent=1) + "\n")
    table = ["# Digits accuracy against stuck-at faults", "",
             f"Dense SC layer 64 -> 10, unipolar weights, Sobol, W = 8, L = {LENGTH}; test split "
             f"(540 images); stuck-at-0/1 synapses at the rate plus additive variability "
             f"{VARIABILITY}; mean [min, max] over fault seeds {', '.join(map(str, SEEDS))} "
             f"(`python scripts/fault_accuracy.py`). Clean float network: "
             f"{100 * summary['clean_float_accuracy']:.1f} %.", "",
             "| stuck rate | clean-trained weights | fault-aware retraining |", "|---|---|---|"]
    stats = {}
    for rate in RATES:
        sel = [r for r in rows if r["rate"] == rate]
        cell = {}
        for k in ("naive", "aware"):
            v = 100 * np.array([r[k] for r in sel])
            cell[k] = (v.mean(), v.min(), v.max())
        stats[rate] = cell
        table.append(f"| {100 * rate:g} % | " + " | ".join(
            f"{m:.1f} [{lo:.1f}, {hi:.1f}] %" for m, lo, hi in (cell["naive"], cell["aware"])) + " |")
    (out / "fault_accuracy.md").write_text("\n".join(table) + "\n")
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4))
    for k, label in (("naive", "clean-trained weights"), ("aware", "fault-aware retraining")):
        m = np.array([stats[r][k] for r in RATES])
        ax.errorbar(100 * np.array(RATES), m[:, 0], yerr=[m[:, 0] - m[:, 1], m[:, 2] - m[:, 0]],
                    marker="o", capsize=3, label=label)
    ax.set_xlabel("stuck-at synapses (%)")
    ax.set_ylabel("test accuracy (%), SC golden model")
    ax.set_title("Digits 64-10 SC layer with stuck-at faults")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "fault_accuracy.png", dpi=100)
    print("\n".join(table))


if __name__ == "__main__":
    main()
