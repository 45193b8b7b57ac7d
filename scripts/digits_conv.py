"""Digits on the spiking conv network (:mod:`scfpga.digits_conv`): float and golden-model
accuracy on the 540 test images, and optionally the RTL proof on the first N of them.

    python scripts/digits_conv.py [--rtl N] [--accumulation exact] [--out STEM]

Writes ``STEM.json`` and ``STEM.md`` (default ``results/digits_conv``).
"""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scfpga.digits import load_split  # noqa: E402
from scfpga.digits_conv import evaluate, to_network, train_conv  # noqa: E402
from scfpga.hdl.network import schedule  # noqa: E402
from scfpga.model.network import Network  # noqa: E402
from scfpga.sim.network import cosim_network  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rtl", type=int, default=0, help="images proven in RTL (0: none)")
    ap.add_argument("--accumulation", choices=("sc", "exact"), default="sc",
                    help="the conv layer's accumulation (scfpga.model.conv)")
    ap.add_argument("--out", default=None, help="default results/digits_conv[_exact]")
    a = ap.parse_args(argv)
    s = load_split()
    t = time.monotonic()
    model = train_conv(s.x_train, s.y_train)
    train_s = time.monotonic() - t
    params = to_network(model, x_calib=s.x_train, accumulation=a.accumulation)
    a.out = a.out or str(ROOT / "results" / ("digits_conv" + ("_exact" if a.accumulation ==
                                                               "exact" else "")))
    row = {"network": params.describe(), "train_s": round(train_s, 1),
           "float_test_accuracy": float(np.mean(model.predict(s.x_test) == s.y_test)),
           "clocks_per_cycle": schedule(params).cycle_clocks}
    t = time.monotonic()
    row["model_test_accuracy"] = evaluate(params, s.x_test, s.y_test)
    row["model_s"] = round(time.monotonic() - t, 1)
    print(json.dumps(row, indent=1), flush=True)
    if a.rtl:
        thr = Network(params).thresholds(s.x_test[:a.rtl])
        t = time.monotonic()
        results = [cosim_network(params, thr[lo:lo + 10]) for lo in range(0, a.rtl, 10)]
        row["rtl_images"] = a.rtl
        row["rtl_ok"] = all(r.ok for r in results)
        row["rtl_messages"] = [r.describe() for r in results if not r.ok]
        row["rtl_s"] = round(time.monotonic() - t, 1)
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(row, indent=1))
    lines = [f"Spiking conv network on the sklearn digits (`python scripts/digits_conv.py"
             f"{' --rtl ' + str(a.rtl) if a.rtl else ''}"
             f"{' --accumulation exact' if a.accumulation == 'exact' else ''}`): "
             f"{row['network']}.", "",
             f"- float network: {100 * row['float_test_accuracy']:.1f} % on the 540 test images",
             f"- golden model ({'exact conv, ' if a.accumulation == 'exact' else ''}SC, L = 256, "
             f"Sobol): {100 * row['model_test_accuracy']:.1f} %",
             f"- hardware schedule: {row['clocks_per_cycle']} clocks per SC cycle"]
    if a.rtl:
        lines.append(f"- RTL: {'every spike of every layer equal' if row['rtl_ok'] else 'MISMATCH'}"
                     f" on the first {a.rtl} test images ({row['rtl_s']} s)")
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
