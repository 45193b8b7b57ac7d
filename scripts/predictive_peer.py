"""PredictiveCodingSCLayer side by side with sc_neurocore's (optional ``bench`` dependency).

Both start from the same weights (sc_neurocore's ``RandomState(seed).uniform(0.1, 0.9)`` draw;
scfpga quantises it to 16 bits) and see the same input sequence: 200 steps of a slowly drifting
probability vector. Compared per step: ``prediction_error`` (sc_neurocore: fresh Bernoulli
streams; scfpga: the bit-exact model of the ``predictive`` op, Sobol streams, independent
sources, the same expected value), the learned weights, and the time per ``forward``.

    python scripts/predictive_peer.py

Writes results/predictive_peer.{json,md}.
"""
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scfpga.layers import PredictiveCodingSCLayer  # noqa: E402

STEPS, SEED = 200, 3
SIZES = [(4, 4, 256), (16, 16, 1024)]


def main():
    try:
        from sc_neurocore.layers.predictive_coding import PredictiveCodingSCLayer as Peer
    except ImportError:
        sys.exit("sc_neurocore is not installed: pip install -e '.[bench]'")
    rows = []
    for n_in, n_neu, length in SIZES:
        rng = np.random.default_rng(0)
        drift = np.cumsum(rng.normal(0, 0.03, (STEPS, n_in)), 0) + rng.random(n_in)
        xs = np.clip(np.abs((drift + 1) % 2 - 1), 0, 1)        # reflected into [0, 1]
        ours = PredictiveCodingSCLayer(n_in, n_neu, length, 0.05, SEED)
        peer = Peer(n_in, n_neu, length, 0.05, SEED)
        assert np.abs(ours.weights - peer.weights).max() < 2 ** -16   # the same draw
        e_ours, e_peer, t_ours, t_peer = [], [], 0.0, 0.0
        for x in xs:
            t = time.perf_counter()
            e_ours.append(ours.forward(x)["prediction_error"])
            t_ours += time.perf_counter() - t
            t = time.perf_counter()
            e_peer.append(peer.forward(x)["prediction_error"])
            t_peer += time.perf_counter() - t
        e_ours, e_peer = np.array(e_ours), np.array(e_peer)
        row = {"n_inputs": n_in, "n_neurons": n_neu, "length": length, "steps": STEPS,
               "mean_error_scfpga": float(e_ours.mean()), "mean_error_peer": float(e_peer.mean()),
               "mean_abs_step_difference": float(np.abs(e_ours - e_peer).mean()),
               "final_weight_difference": float(np.abs(ours.weights - peer.weights).max()),
               "ms_per_forward_scfpga": 1e3 * t_ours / STEPS,
               "ms_per_forward_peer": 1e3 * t_peer / STEPS}
        rows.append(row)
        print(json.dumps(row), flush=True)
    out = ROOT / "results"
    (out / "predictive_peer.json").write_text(json.dumps({"seed": SEED, "lr": 0.05, "rows": rows},
                                                         indent=2) + "\n")
    md = ["`PredictiveCodingSCLayer` against sc_neurocore's (`scripts/predictive_peer.py`): same "
          f"seed ({SEED}), lr 0.05, {STEPS} steps of a drifting input; scfpga is the bit-exact "
          "model of the `predictive` op.", "",
          "| inputs x neurons, L | mean error scfpga | mean error sc_neurocore | mean per-step "
          "difference | final max weight difference | ms/forward scfpga | ms/forward "
          "sc_neurocore |", "|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        md.append(f"| {r['n_inputs']} x {r['n_neurons']}, {r['length']} | "
                  f"{r['mean_error_scfpga']:.4f} | {r['mean_error_peer']:.4f} | "
                  f"{r['mean_abs_step_difference']:.4f} | {r['final_weight_difference']:.4f} | "
                  f"{r['ms_per_forward_scfpga']:.2f} | {r['ms_per_forward_peer']:.2f} |")
    md += ["", "Regenerate: `python scripts/predictive_peer.py`.", ""]
    (out / "predictive_peer.md").write_text("\n".join(md))
    print(f"wrote {out}/predictive_peer.json and .md")


if __name__ == "__main__":
    main()
