"""Unsupervised STDP on a repeated input pattern, in the golden model and in the RTL.

Workload: 64 inputs (8x8), 4 neurons, 64 time steps per epoch, 8-bit weights from seeded
uniform random values. Every epoch shows the same pattern: the pixels of the mean image of
the digit 0 in scikit-learn's digits that exceed half intensity spike at rate 0.9, every other
input at 0.02. STDP (deterministic update: a_plus 4, a_minus 2, pre window shift 1, post
window shift 2; threshold 8000, leak shift 2) pulls the weights of the inputs that drive the
neurons up and leaves or pushes the others down, so the weight map of every neuron comes to
show the pattern. The correlation of each neuron's weight map with the pattern is reported
per epoch.

The same epochs are co-simulated on the generated RTL (Icarus, cocotb): after every epoch all
256 weights are read back from the weight RAM through the result port and compared with the
model, with the spike counts (``--no-rtl`` skips it).

    python scripts/stdp_demo.py [--epochs 30] [--no-rtl]

Writes results/stdp_demo.{json,md,png}.
"""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scfpga.hdl.stdp import run_cycles  # noqa: E402
from scfpga.model.stdp import STDPLayer, STDPParams, quantize_rates  # noqa: E402
from scfpga.sim.stdp import cosim_stdp  # noqa: E402

PARAMS = STDPParams(n_inputs=64, n_neurons=4, length=64, threshold=8000, leak_shift=2,
                    a_plus=4, a_minus=2, tau_pre_shift=1, tau_post_shift=2, rate_shift=8,
                    weight_seed=1)
SHOW = (0, 5, 10, 30)


def pattern():
    from sklearn.datasets import load_digits
    d = load_digits()
    return (d.images[d.target == 0].mean(0).ravel() / 16 > 0.5).astype(np.float64)


def correlation(weights, pat):
    return [float(np.corrcoef(row, pat)[0, 1]) for row in weights]


def plot(maps, corr, pat, png):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    shown = [e for e in SHOW if e in maps]
    fig, axes = plt.subplots(PARAMS.n_neurons, len(shown) + 2,
                             figsize=(2 * (len(shown) + 2), 2 * PARAMS.n_neurons))
    for j in range(PARAMS.n_neurons):
        for c, e in enumerate(shown):
            ax = axes[j, c]
            ax.imshow(maps[e][j].reshape(8, 8), cmap="viridis", vmin=0, vmax=255)
            ax.set_xticks([]), ax.set_yticks([])
            if j == 0:
                ax.set_title(f"epoch {e}")
            if c == 0:
                ax.set_ylabel(f"neuron {j}")
        axes[j, -2].imshow(pat.reshape(8, 8), cmap="gray")
        axes[j, -2].set_xticks([]), axes[j, -2].set_yticks([])
        axes[j, -1].axis("off")
    axes[0, -2].set_title("pattern")
    ax = fig.add_subplot(1, len(shown) + 2, len(shown) + 2)
    for j, series in enumerate(np.array(corr).T):
        ax.plot(series, label=f"neuron {j}")
    ax.set_xlabel("epoch")
    ax.set_ylabel("corr(weights, pattern)")
    ax.legend(fontsize=7)
    fig.suptitle("On-chip STDP: weight maps (8-bit weights, read back equal in RTL)")
    fig.tight_layout()
    fig.savefig(png, dpi=90)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--no-rtl", action="store_true")
    args = ap.parse_args()
    pat = pattern()
    rates = np.tile(quantize_rates(PARAMS, 0.02 + 0.88 * pat), (args.epochs, 1))
    layer = STDPLayer(PARAMS)
    maps, corr, counts = {0: layer.weights.copy()}, [correlation(layer.weights, pat)], []
    t0 = time.time()
    for e in range(1, args.epochs + 1):
        epoch = layer.run_epoch(rates[e - 1])
        maps[e] = epoch.weights
        corr.append(correlation(epoch.weights, pat))
        counts.append(epoch.counts.tolist())
    model_s = time.time() - t0
    rtl = None
    if not args.no_rtl:
        t0 = time.time()
        result = cosim_stdp(PARAMS, rates, build_root=ROOT / "build" / "sim")
        rtl = {"ok": result.ok, "text": result.describe(), "seconds": round(time.time() - t0, 1),
               "clocks_per_epoch": run_cycles(PARAMS)}
        if not result.ok:
            print(result.describe())
    w = maps[args.epochs]
    on, off = w[:, pat == 1], w[:, pat == 0]
    summary = {
        "params": {k: getattr(PARAMS, k) for k in ("n_inputs", "n_neurons", "length", "threshold",
                                                     "leak_shift", "a_plus", "a_minus",
                                                     "tau_pre_shift", "tau_post_shift",
                                                     "rate_shift", "weight_bits")},
        "epochs": args.epochs, "model_seconds": round(model_s, 3),
        "corr_initial": [round(c, 3) for c in corr[0]],
        "corr_final": [round(c, 3) for c in corr[-1]],
        "mean_weight_pattern": round(float(on.mean()), 1),
        "mean_weight_background": round(float(off.mean()), 1),
        "mean_weight_initial": round(float(maps[0].mean()), 1),
        "spike_counts_last_epoch": counts[-1], "rtl": rtl,
    }
    out = ROOT / "results"
    (out / "stdp_demo.json").write_text(json.dumps(summary, indent=1) + "\n")
    plot(maps, corr, pat, out / "stdp_demo.png")
    md = ["# On-chip STDP demo", "",
          f"64 inputs (8x8, digit-0 mask at rate 0.9, background 0.02), 4 neurons, "
          f"{PARAMS.length} steps per epoch, {args.epochs} epochs "
          f"(`python scripts/stdp_demo.py`).", "",
          "| | initial | after training |", "|---|---|---|",
          f"| corr(weights, pattern), per neuron | {', '.join(f'{c:.2f}' for c in corr[0])} | "
          f"{', '.join(f'{c:.2f}' for c in corr[-1])} |",
          f"| mean weight, pattern inputs | {maps[0][:, pat == 1].mean():.1f} | {on.mean():.1f} |",
          f"| mean weight, background inputs | {maps[0][:, pat == 0].mean():.1f} | {off.mean():.1f} |",
          "", f"Golden model: {model_s:.2f} s for all epochs."]
    if rtl:
        md.append(f"RTL (Icarus + cocotb, {rtl['clocks_per_epoch']} clocks per epoch): "
                  f"{rtl['text']} ({rtl['seconds']} s).")
    (out / "stdp_demo.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))
    return 0 if rtl is None or rtl["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
