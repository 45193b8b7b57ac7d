"""Fidelity of NIR imports: scfpga's golden model against a float reference of the NIR spec,
and against its RTL.

For every example ``.nir`` (default: ``examples/*.nir``), on the sklearn digits test split
(540 images, pixel / 16 as rates):

1. the inputs are encoded once by scfpga's SNG encoder (``length`` cycles); the NumPy float
   reference of the NIR specification (:func:`scfpga.nir.reference_run`, run on the graph itself)
   and scfpga's golden model see exactly these spikes;
2. per layer: spike agreement, mean absolute spike-rate error, both rates (aligned for scfpga's
   one cycle of latency per layer); classification accuracy of the reference and of the golden
   model (argmax of output spike counts);
3. the RTL (cocotb + Icarus) on the first ``--rtl`` test images: every spike of every layer
   equal to the golden model (the accuracy of the RTL on those images is the model's).

Writes ``results/nir/fidelity.json`` and ``results/nir/fidelity.md``.
Usage: ``python scripts/nir_fidelity.py [--dt 1e-4] [--length 256] [--rtl 10]``.
"""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from scfpga.model.network import Network
from scfpga.nir import fidelity, from_nir, predictions, report_json
from scfpga.sim import require_icarus
from scfpga.sim.network import cosim_network

ROOT = Path(__file__).resolve().parents[1]


def digits_test():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    d = load_digits()
    _, xte, _, yte = train_test_split(d.data / 16.0, d.target, test_size=0.3, random_state=0,
                                      stratify=d.target)
    return xte, yte


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", help=".nir files (default: examples/*.nir)")
    ap.add_argument("--dt", type=float, default=1e-4)
    ap.add_argument("--length", type=int, default=256)
    ap.add_argument("--width", type=int, default=8)
    ap.add_argument("--rtl", type=int, default=10, help="test images proven in RTL (0: none)")
    ap.add_argument("--out", default=str(ROOT / "results" / "nir"))
    args = ap.parse_args(argv)
    files = [Path(f) for f in args.files] or sorted((ROOT / "examples").glob("*.nir"))
    if not files:
        print("nir_fidelity: error: no .nir files (run scripts/nir_train.py)", file=sys.stderr)
        return 2
    if args.rtl:
        require_icarus()
    train = {}
    tj = ROOT / "results" / "nir" / "train.json"
    if tj.exists():
        train = json.loads(tj.read_text())
    x, y = digits_test()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results, md = [], []
    for f in files:
        t0 = time.time()
        net, report = from_nir(f, dt=args.dt, length=args.length, width=args.width, report=True)
        model = Network(net)
        bits = model.input_bits(model.thresholds(x), args.length)
        rows, run, ref = fidelity(net, report, f, bits, dt=args.dt)
        sc, rf = predictions(net, report, run, ref)
        entry = {"file": f.name, "network": net.describe(), "dt": args.dt,
                 "float_accuracy": train.get(f.stem, {}).get("float_test_accuracy"),
                 "float_steps": train.get(f.stem, {}).get("steps"),
                 "reference_accuracy": float(np.mean(rf == y)),
                 "model_accuracy": float(np.mean(sc == y)),
                 "prediction_agreement": float(np.mean(sc == rf)),
                 "layers": rows, "quantisation": report_json(report, args.dt)["layers"]}
        if args.rtl:
            n = min(args.rtl, len(x))
            res = cosim_network(net, model.thresholds(x[:n]), vcd=False)
            entry["rtl"] = {"images": n, "bit_exact": bool(res.ok), "summary": res.describe(),
                            "accuracy_on_those": float(np.mean(sc[:n] == y[:n])),
                            "reference_accuracy_on_those": float(np.mean(rf[:n] == y[:n]))}
        entry["seconds"] = round(time.time() - t0, 1)
        results.append(entry)
        print(f"{f.name}: reference {entry['reference_accuracy']:.3f}, golden model "
              f"{entry['model_accuracy']:.3f}" + (f", RTL {entry['rtl']['summary']}"
                                                  if args.rtl else ""), flush=True)
        fa = entry["float_accuracy"]
        md.append(f"### {f.name}: {net.describe()}, dt = {args.dt:g}\n")
        md.append("| accuracy (540 test digits) | value |\n|---|---|")
        if fa is not None:
            md.append(f"| float, snnTorch ({entry['float_steps']} steps, Bernoulli inputs) | "
                      f"{fa:.3f} |")
        md.append(f"| NIR float reference ({args.length} steps, scfpga's encoder spikes) | "
                  f"{entry['reference_accuracy']:.3f} |")
        md.append(f"| scfpga golden model (same spikes) | {entry['model_accuracy']:.3f} |")
        if args.rtl:
            r = entry["rtl"]
            md.append(f"| RTL (cocotb, first {r['images']} images: "
                      f"{'bit-exact' if r['bit_exact'] else 'MISMATCH'}) | "
                      f"{r['accuracy_on_those']:.3f} (model {r['accuracy_on_those']:.3f}, "
                      f"reference {r['reference_accuracy_on_those']:.3f} on those) |")
        md.append(f"| predictions equal to the reference's | {entry['prediction_agreement']:.3f} |")
        md.append("")
        md.append("| layer | NIR node | neuron | spike agreement | rate error | reference rate "
                  "| scfpga rate | scale | weight rms err | threshold Q |")
        md.append("|---|---|---|---|---|---|---|---|---|---|")
        for row, q in zip(rows, report):
            if row["kind"] == "spikes":
                md.append(f"| {row['layer']} | {row['node']} | {row['neuron']} | "
                          f"{row['agreement']:.3f} | {row['rate_error']:.4f} | "
                          f"{row['rate_ref']:.4f} | {row['rate_scfpga']:.4f} | {q.scale:.4g} | "
                          f"{q.weight_rms_error:.1e} | {q.threshold_int} |")
            else:
                md.append(f"| {row['layer']} | {row['node']} | {row['neuron']} | membrane "
                          f"rms {row['rel_rms_error']:.3f} | mean {row['mean_error']:.3f} | | | "
                          f"{q.scale:.4g} | {q.weight_rms_error:.1e} | - |")
        md.append("")
    cmd = "python scripts/nir_fidelity.py" + (f" --dt {args.dt:g}" if args.dt != 1e-4 else "") \
        + (f" --length {args.length}" if args.length != 256 else "") \
        + (f" --rtl {args.rtl}" if args.rtl != 10 else "")
    head = [f"## NIR import fidelity\n\n`{cmd}`\n",
            "Spike agreement: fraction of (image, neuron, step) with the same spike in the NIR "
            "float reference and in scfpga's golden model, aligned for scfpga's one cycle of "
            "latency per layer; rate error: mean |rate difference| per neuron (spikes per "
            "step). Both see the same input spikes, so every difference is scfpga arithmetic: "
            "SC weights, the noisy per-cycle SC current, fixed-point neurons.\n"]
    (out / "fidelity.md").write_text("\n".join(head + md) + "\n")
    (out / "fidelity.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out / 'fidelity.md'}, {out / 'fidelity.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
