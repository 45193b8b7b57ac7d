"""SCRecurrentLayer on a time-series task: one-step-ahead prediction with a linear readout.

Series: Mackey-Glass (tau = 17, Euler dt = 0.1, sampled every 1 time unit) and a sine with
two incommensurate components, each scaled to [0, 1]. Reservoir: the bit-exact SC model of the
``recurrent`` op (32 neurons, signed U(-1, 1) weights, spectral radius 0.9, input strength 0.5,
Sobol streams, feedback delay 1) driven by ``[u_t, 1]`` (the constant input is the bias). A
ridge readout on ``[states, u_t, 1]`` is trained on the model's states (steps 100..899, after
a washout) and tested on steps 900..1398 to predict ``u_{t+1}``. Compared: the float reservoir
with the same quantised weights (:func:`scfpga.model.recurrent.reservoir_float`), and the
linear baseline on ``[u_t, 1]`` alone. NRMSE = RMSE / std(target) on the test steps.

    python scripts/recurrent_timeseries.py

Writes results/recurrent_timeseries.{json,md}.
"""
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scfpga.model.recurrent import (RecurrentParams, recurrent_run,  # noqa: E402
                                    reservoir_float, reservoir_weights)
from scfpga.model.sng import quantize_unipolar  # noqa: E402

T, WASHOUT, TRAIN_END = 1400, 100, 900
N_NEURONS, RIDGE = 32, 1e-6


def mackey_glass(n, tau=17, dt=0.1, every=10):
    history = int(tau / dt)
    x = np.full(n * every + history, 1.2)
    for t in range(history, len(x) - 1):
        d = x[t - history]
        x[t + 1] = x[t] + dt * (0.2 * d / (1 + d ** 10) - 0.1 * x[t])
    return x[history::every][:n]


def scaled(u):
    return (u - u.min()) / (u.max() - u.min())


def nrmse_of(features, u):
    """Ridge readout on steps WASHOUT..TRAIN_END-1 predicting u[t+1]; NRMSE on the rest."""
    X = np.concatenate([features[:-1], u[:-1, None], np.ones((len(u) - 1, 1))], 1)
    y = u[1:]
    tr, te = slice(WASHOUT, TRAIN_END), slice(TRAIN_END, len(y))
    A = X[tr]
    w = np.linalg.solve(A.T @ A + RIDGE * np.eye(A.shape[1]), A.T @ y[tr])
    err = X[te] @ w - y[te]
    return float(np.sqrt(np.mean(err ** 2)) / np.std(y[te]))


def main():
    t = np.arange(T)
    series = {"mackey-glass": scaled(mackey_glass(T)),
              "sine": scaled(np.sin(0.21 * t) + 0.5 * np.sin(0.0731 * t))}
    w_in, w_rec = reservoir_weights(2, N_NEURONS, 7, 0.5, 0.9, signed=True)
    rows = []
    for name, u in series.items():
        xs = np.stack([u, np.ones(T)], 1)
        row = {"series": name, "baseline_nrmse": nrmse_of(np.zeros((T, 0)), u)}
        for length in (256, 1024):
            width = max(8, length.bit_length() - 1)
            p = RecurrentParams.from_float(w_in, w_rec, length, width)
            start = time.monotonic()
            states = recurrent_run(p, quantize_unipolar(xs, width))[1] / length
            seconds = time.monotonic() - start
            ref = reservoir_float(xs, np.array(p.w_in) / 2 ** width,
                                  np.array(p.w_rec) / 2 ** width)
            row[f"L{length}"] = {"sc_nrmse": nrmse_of(states, u),
                                 "float_nrmse": nrmse_of(ref, u),
                                 "state_error": float(np.abs(states - ref).mean()),
                                 "model_seconds": round(seconds, 2)}
        rows.append(row)
        print(json.dumps(row), flush=True)
    out = ROOT / "results"
    meta = {"neurons": N_NEURONS, "steps": T, "washout": WASHOUT, "train_end": TRAIN_END,
            "ridge": RIDGE, "weights": "signed U(-1, 1), seed 7, radius 0.9, input 0.5",
            "source": "sobol", "feedback_delay": 1}
    (out / "recurrent_timeseries.json").write_text(json.dumps({**meta, "rows": rows}, indent=2)
                                                   + "\n")
    md = ["One-step-ahead prediction with a ridge readout on the reservoir states "
          f"(`scripts/recurrent_timeseries.py`): {N_NEURONS} neurons, inputs `[u_t, 1]`, "
          f"train steps {WASHOUT}..{TRAIN_END - 1}, test {TRAIN_END}..{T - 2}; NRMSE on the "
          "test steps. SC: the bit-exact model of the `recurrent` op; float: the same "
          "quantised weights in float; baseline: the readout on `[u_t, 1]` alone.", "",
          "| series | baseline | SC L = 256 | float | SC L = 1024 | float | mean state error "
          "L = 256 / 1024 |", "|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        a, b = r["L256"], r["L1024"]
        md.append(f"| {r['series']} | {r['baseline_nrmse']:.3f} | {a['sc_nrmse']:.3f} | "
                  f"{a['float_nrmse']:.3f} | {b['sc_nrmse']:.3f} | {b['float_nrmse']:.3f} | "
                  f"{a['state_error']:.4f} / {b['state_error']:.4f} |")
    md += ["", "Regenerate: `python scripts/recurrent_timeseries.py`.", ""]
    (out / "recurrent_timeseries.md").write_text("\n".join(md))
    print(f"wrote {out}/recurrent_timeseries.json and .md")


if __name__ == "__main__":
    main()
