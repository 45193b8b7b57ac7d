"""Error of StochasticAttention.forward_bitstream against forward as the stream length grows.

Workload: 64 random (Q, K, V) triples, Q (4, 8), K (6, 8), V (6, 5), uniform in [0, 1]. For each
L: mean |forward_bitstream - forward| over all outputs, for Sobol streams (the RTL's rule, W =
max(8, log2 L)), LFSR streams (W = 16, averaged over 8 start states) and, as the textbook
reference, independent Bernoulli streams (fresh NumPy draws per element, 8 repetitions; not
what the hardware does). The slope of log(error) against log(L) tells O(1/L) (-1) from
O(1/sqrt(L)) (-1/2).

    python scripts/attention_error.py

Writes results/attention_error.{json,md}.
"""
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scfpga.layers import StochasticAttention  # noqa: E402

LENGTHS = [64, 128, 256, 512, 1024, 2048, 4096]


def bernoulli(Q, K, V, length, rng):
    """Independent Bernoulli streams, the same AND/popcount decode."""
    q = rng.random(Q.shape + (length,)) < Q[..., None]
    k = rng.random(K.shape + (length,)) < K[..., None]
    v = rng.random(V.shape + (length,)) < V[..., None]
    p = np.einsum("bidt,bjdt->bijt", q.astype(np.int32), k.astype(np.int32))
    num = np.einsum("bijt,bjvt->biv", p, v.astype(np.int32))
    return num / np.maximum(p.sum((-2, -1)), 1)[..., None]


def main():
    rng = np.random.default_rng(2024)
    Q, K, V = rng.random((64, 4, 8)), rng.random((64, 6, 8)), rng.random((64, 6, 5))
    ref = StochasticAttention(8).forward(Q, K, V)
    rows = []
    for L in LENGTHS:
        sobol = np.abs(StochasticAttention(8).forward_bitstream(Q, K, V, L, True) - ref).mean()
        lfsr = np.mean([np.abs(StochasticAttention(8, seed=s).forward_bitstream(Q, K, V, L)
                               - ref).mean() for s in (1, 99, 777, 4321, 12345, 30000, 45678, 65000)])
        bern = np.mean([np.abs(bernoulli(Q, K, V, L, np.random.default_rng(r)) - ref).mean()
                        for r in range(8)])
        rows.append({"length": L, "sobol": float(sobol), "lfsr": float(lfsr),
                     "bernoulli": float(bern)})
        print(f"L={L:5d}  sobol {sobol:.2e}  lfsr {lfsr:.2e}  bernoulli {bern:.2e}")
    logL = np.log(LENGTHS)
    slopes = {k: float(np.polyfit(logL, np.log([r[k] for r in rows]), 1)[0])
              for k in ("sobol", "lfsr", "bernoulli")}
    out = ROOT / "results"
    (out / "attention_error.json").write_text(json.dumps({"rows": rows, "slopes": slopes},
                                                         indent=2) + "\n")
    md = ["Mean |forward_bitstream - forward| of `StochasticAttention(8)` on 64 random (Q 4x8, "
          "K 6x8, V 6x5) triples; Sobol W = max(8, log2 L), LFSR W = 16 (mean of 8 start "
          "states), Bernoulli = independent NumPy draws (mean of 8).", "",
          "| L | Sobol | LFSR | Bernoulli | Sobol x L | LFSR x sqrt(L) |",
          "|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        md.append(f"| {r['length']} | {r['sobol']:.2e} | {r['lfsr']:.2e} | {r['bernoulli']:.2e} "
                  f"| {r['sobol'] * r['length']:.2f} | {r['lfsr'] * np.sqrt(r['length']):.2f} |")
    md += ["", "Slope of log error against log L: " + ", ".join(
        f"{k} {v:.2f}" for k, v in slopes.items()) + ".", "",
        "Regenerate: `python scripts/attention_error.py`.", ""]
    (out / "attention_error.md").write_text("\n".join(md))
    print("slopes", slopes)


if __name__ == "__main__":
    main()
