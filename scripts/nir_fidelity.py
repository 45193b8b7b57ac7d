"""Fidelity of NIR imports: scfpga's golden model against a float reference of the NIR spec,
and against its RTL.

For every example ``.nir`` (default: ``examples/*.nir``), on the sklearn digits test split
(540 images, pixel / 16 as rates):

1. two input encodings, each seen identically by the NumPy float reference of the NIR
   specification (:func:`scfpga.nir.reference_run`, run on the graph itself) and by scfpga:
   ``rate``, the design encodes pixel rates with its own SNGs (``length`` cycles), and
   ``raster``, the design is fed Bernoulli spike rasters (seed 0), the input coding the
   snnTorch examples were trained with (``encoding = "raster"``);
2. per layer: spike agreement, mean absolute spike-rate error, both rates (aligned for scfpga's
   one cycle of latency per layer); classification accuracy of the reference and of the golden
   model (argmax of output spike counts);
3. the RTL (cocotb + Icarus) on the first ``--rtl`` test images of each encoding: every spike
   of every layer equal to the golden model (the RTL's accuracy on those images is the model's);
4. ``--clip-sweep``: golden-model accuracy against the import's ``clip`` (the fraction of
   weights kept inside the SC range), rate encoding.

Writes ``results/nir/fidelity.json`` and ``.md`` (and ``clip.json``/``.md`` with the sweep);
``--write-spikes FILE`` writes the raster of the first 10 test digits, (10, length, 64) uint8,
an ``--x`` for ``scfpga sim|model FILE.nir --encoding raster``.
Usage: ``python scripts/nir_fidelity.py [--dt 1e-4] [--length 256] [--rtl 10] [--clip-sweep]``.
"""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from scfpga.model.network import Network
from scfpga.nir import DEFAULT_CLIP, fidelity, from_nir, predictions, report_json
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


def bernoulli(x, length, seed=0):
    """0/1 spikes (batch, inputs, length): input i spikes with probability x_i each step."""
    rng = np.random.default_rng(seed)
    return (rng.random((len(x), x.shape[1], length)) < x[:, :, None]).astype(np.uint8)


def evaluate(f, x, y, args, encoding, train, rtl):
    """One file, one encoding: the fidelity entry (accuracies, per-layer rows, RTL proof)."""
    t0 = time.time()
    net, report = from_nir(f, dt=args.dt, length=args.length, width=args.width,
                           clip=args.clip, encoding=encoding, report=True)
    model = Network(net)
    bits = model.input_bits(model.thresholds(x), args.length) if encoding == "rate" else \
        bernoulli(x, args.length)
    rows, run, ref = fidelity(net, report, f, bits, dt=args.dt)
    sc, rf = predictions(net, report, run, ref)
    entry = {"file": f.name, "encoding": encoding, "network": net.describe(), "dt": args.dt,
             "clip": args.clip if args.clip is not None else DEFAULT_CLIP,
             "float_accuracy": train.get(f.stem, {}).get("float_test_accuracy"),
             "float_steps": train.get(f.stem, {}).get("steps"),
             "reference_accuracy": float(np.mean(rf == y)),
             "model_accuracy": float(np.mean(sc == y)),
             "prediction_agreement": float(np.mean(sc == rf)),
             "layers": rows, "quantisation": report_json(report, args.dt)["layers"]}
    if rtl:
        n = min(rtl, len(x))
        stim = model.thresholds(x[:n]) if encoding == "rate" else bits[:n].astype(np.int64)
        res = cosim_network(net, stim, vcd=False)
        entry["rtl"] = {"images": n, "bit_exact": bool(res.ok), "summary": res.describe(),
                        "accuracy_on_those": float(np.mean(sc[:n] == y[:n])),
                        "reference_accuracy_on_those": float(np.mean(rf[:n] == y[:n]))}
    entry["seconds"] = round(time.time() - t0, 1)
    print(f"{f.name} ({encoding}): reference {entry['reference_accuracy']:.3f}, golden model "
          f"{entry['model_accuracy']:.3f}" + (f", RTL {entry['rtl']['summary']}" if rtl else ""),
          flush=True)
    return entry, report


def entry_md(entry, report, args):
    md = [f"### {entry['file']}, {entry['encoding']} input: {entry['network']}, "
          f"dt = {args.dt:g}, clip {entry['clip']:g}\n",
          "| accuracy (540 test digits) | value |", "|---|---|"]
    fa = entry["float_accuracy"]
    if fa is not None:
        md.append(f"| float, snnTorch ({entry['float_steps']} steps, Bernoulli inputs) | "
                  f"{fa:.3f} |")
    spikes = "scfpga's SNG encoder spikes" if entry["encoding"] == "rate" else \
        "Bernoulli spike rasters, seed 0"
    md.append(f"| NIR float reference ({args.length} steps, {spikes}) | "
              f"{entry['reference_accuracy']:.3f} |")
    md.append(f"| scfpga golden model (same spikes) | {entry['model_accuracy']:.3f} |")
    if "rtl" in entry:
        r = entry["rtl"]
        md.append(f"| RTL (cocotb, first {r['images']} images: "
                  f"{'bit-exact' if r['bit_exact'] else 'MISMATCH'}) | "
                  f"{r['accuracy_on_those']:.3f} (reference {r['reference_accuracy_on_those']:.3f}"
                  " on those) |")
    md.append(f"| predictions equal to the reference's | {entry['prediction_agreement']:.3f} |")
    md += ["", "| layer | NIR node | neuron | spike agreement | rate error | reference rate "
           "| scfpga rate | scale | weight rms err | clipped | threshold Q |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    for row, q in zip(entry["layers"], report):
        common = f"{q.scale:.4g} | {q.weight_rms_error:.1e} | {q.weights_clipped} |"
        if row["kind"] == "spikes":
            md.append(f"| {row['layer']} | {row['node']} | {row['neuron']} | "
                      f"{row['agreement']:.3f} | {row['rate_error']:.4f} | "
                      f"{row['rate_ref']:.4f} | {row['rate_scfpga']:.4f} | {common} "
                      f"{q.threshold_int} |")
        elif row["kind"] == "pool":
            md.append(f"| {row['layer']} | {row['node']} | {row['neuron']} | - | "
                      f"{row['rate_error']:.4f} | {row['rate_ref']:.4f} | "
                      f"{row['rate_scfpga']:.4f} | {common} - |")
        else:
            md.append(f"| {row['layer']} | {row['node']} | {row['neuron']} | membrane "
                      f"rms {row['rel_rms_error']:.3f} | mean {row['mean_error']:.3f} | | | "
                      f"{common} - |")
    return md + [""]


def clip_sweep(files, x, y, args, out):
    clips = [1.0, 0.99, 0.98, 0.97, 0.95, 0.93, 0.9, 0.85, 0.8]
    table = {}
    for f in files:
        for c in clips:
            net, report = from_nir(f, dt=args.dt, length=args.length, width=args.width,
                                   clip=c, report=True)
            model = Network(net)
            bits = model.input_bits(model.thresholds(x), args.length)
            rows, run, ref = fidelity(net, report, f, bits, dt=args.dt)
            sc, rf = predictions(net, report, run, ref)
            table.setdefault(f.name, []).append(
                {"clip": c, "model_accuracy": float(np.mean(sc == y)),
                 "reference_accuracy": float(np.mean(rf == y)),
                 "clipped": [q.weights_clipped for q in report],
                 "rates": [[r["rate_ref"], r["rate_scfpga"]] for r in rows
                           if r["kind"] == "spikes"]})
            print(f"{f.name} clip {c}: model {np.mean(sc == y):.3f}", flush=True)
    (out / "clip.json").write_text(json.dumps(table, indent=2) + "\n")
    md = ["# NIR import: weight clip vs accuracy\n",
          f"`python scripts/nir_fidelity.py --clip-sweep --rtl 0` (rate input, L = "
          f"{args.length}, W = {args.width}; the NIR float reference does not depend on clip)\n",
          "clip: the fraction of nonzero folded weights per layer kept inside the SC range; "
          "the rest saturate at +-1.0. A larger scale raises the threshold in SC current units "
          "against the bursts of a shared weight source (model/nir.py, `_clip_peak`).\n",
          "| clip | " + " | ".join(f"{name} model (clipped per layer; hidden rate ref/scfpga)"
                                   for name in table) + " |",
          "|---|" + "---|" * len(table)]
    for i, c in enumerate(clips):
        cells = []
        for name in table:
            e = table[name][i]
            r = e["rates"][0] if e["rates"] else [0, 0]
            cells.append(f"{e['model_accuracy']:.3f} ({'/'.join(map(str, e['clipped']))}; "
                         f"{r[0]:.3f}/{r[1]:.3f})")
        md.append(f"| {c:g} | " + " | ".join(cells) + " |")
    md.append("\nNIR float reference: " + ", ".join(
        f"{name} {table[name][0]['reference_accuracy']:.3f}" for name in table) + "\n")
    (out / "clip.md").write_text("\n".join(md))
    print(f"wrote {out / 'clip.md'}")


def write_summary(out):
    """``summary.md``, the README table, from ``fidelity.json``."""
    results = json.loads((out / "fidelity.json").read_text())
    md = ["# NIR examples: accuracy on the 540 test digits\n",
          "| network | input spikes (256 steps) | snnTorch float (32 steps) | NIR "
          "float reference | scfpga golden model | RTL, first images |",
          "|---|---|---|---|---|---|"]
    for e in results:
        rtl = e.get("rtl")
        proof = "-" if rtl is None else \
            f"{rtl['images']}: {'bit-exact' if rtl['bit_exact'] else 'MISMATCH'}"
        fa = "-" if e["float_accuracy"] is None else f"{e['float_accuracy']:.3f}"
        what = "SNG rates (`rate`)" if e["encoding"] == "rate" else "Bernoulli raster (`raster`)"
        md.append(f"| `{e['file']}` | {what} | {fa} | {e['reference_accuracy']:.3f} | "
                  f"{e['model_accuracy']:.3f} | {proof} |")
    md += ["", "| network | input | layer | spike agreement | rate error | reference rate | "
           "scfpga rate |", "|---|---|---|---|---|---|---|"]
    for e in results:
        for r in e["layers"]:
            if r["kind"] == "spikes":
                md.append(f"| `{e['file']}` | {e['encoding']} | {r['layer']} ({r['neuron']}) | "
                          f"{r['agreement']:.3f} | {r['rate_error']:.3f} | {r['rate_ref']:.3f} | "
                          f"{r['rate_scfpga']:.3f} |")
    (out / "summary.md").write_text("\n".join(md) + "\n")
    print(f"wrote {out / 'summary.md'}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", help=".nir files (default: examples/*.nir)")
    ap.add_argument("--dt", type=float, default=1e-4)
    ap.add_argument("--length", type=int, default=256)
    ap.add_argument("--width", type=int, default=8)
    ap.add_argument("--clip", type=float, default=None, help=f"default {DEFAULT_CLIP}")
    ap.add_argument("--rtl", type=int, default=10, help="test images proven in RTL (0: none)")
    ap.add_argument("--clip-sweep", action="store_true", help="also sweep clip (clip.md)")
    ap.add_argument("--write-spikes", help="write the first 10 test digits' raster here")
    ap.add_argument("--force", action="store_true", help="overwrite an existing --write-spikes")
    ap.add_argument("--out", default=str(ROOT / "results" / "nir"))
    ap.add_argument("--summary-only", action="store_true",
                    help="only rewrite summary.md from fidelity.json")
    args = ap.parse_args(argv)
    if args.summary_only:
        write_summary(Path(args.out))
        return 0
    files = [Path(f) for f in args.files] or sorted((ROOT / "examples").glob("*.nir"))
    if not files:
        print("nir_fidelity: error: no .nir files (run scripts/nir_train.py)", file=sys.stderr)
        return 2
    if args.rtl:
        require_icarus()
    x, y = digits_test()
    if args.write_spikes:
        if Path(args.write_spikes).exists() and not args.force:
            print(f"nir_fidelity: error: {args.write_spikes} exists; use --force to overwrite it",
                  file=sys.stderr)
            return 2
        raster = bernoulli(x[:10], args.length).transpose(0, 2, 1)    # (samples, T, inputs)
        np.save(args.write_spikes, np.ascontiguousarray(raster))
        print(f"wrote {args.write_spikes} {raster.shape} (labels {y[:10].tolist()})")
        return 0
    train = {}
    tj = ROOT / "results" / "nir" / "train.json"
    if tj.exists():
        train = json.loads(tj.read_text())
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results, md = [], []
    for f in files:
        for encoding in ("rate", "raster"):
            entry, report = evaluate(f, x, y, args, encoding, train, args.rtl)
            results.append(entry)
            md += entry_md(entry, report, args)
    cmd = "python scripts/nir_fidelity.py" + (f" --dt {args.dt:g}" if args.dt != 1e-4 else "") \
        + (f" --length {args.length}" if args.length != 256 else "") \
        + (f" --clip {args.clip:g}" if args.clip is not None else "") \
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
    write_summary(out)
    if args.clip_sweep:
        clip_sweep(files, x, y, args, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
