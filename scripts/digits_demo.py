"""Handwritten digits on one SC dense layer: float -> quantised -> SC golden model -> RTL.

    .venv/bin/python scripts/digits_demo.py [--rtl-images N] [--full] [--out results/digits]

Stages (the library is :mod:`scfpga.digits`, where every choice is documented):

1. data: scikit-learn's digits, 70/30 stratified split, seed 0; inputs ``pixel / 16``;
2. float: multinomial logistic regression 64 -> 10 (``C = 3``; ``--select-c`` re-runs the
   5-fold cross-validation on the training split that chose it);
3. mapping: weights and bias divided by their largest magnitude, quantised to W = 8 bits;
4. SC golden model: test accuracy (argmax of the integer class scores) for L = 64 .. 1024,
   Sobol and LFSR sources, counter accumulation (``--mux`` adds MUX accumulation), and the
   spread over 10 stream seeds at L = 256;
5. RTL: the generated Verilog of the L = 256 Sobol layer co-simulated under cocotb on the
   first ``--rtl-images`` test images (default 10, about 3 s each; ``--full``: all 540 in
   one simulation), every clock compared with the golden model. ``--rtl-images 0`` skips it.

Writes ``accuracy_vs_length.png``, ``confusion.png`` and ``summary.json`` to ``--out`` and the
Verilog to ``build/digits/dense_digits.v``. Exits 1 if the RTL differs from the model.
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

RTL_LENGTH, RTL_SOURCE = 256, "sobol"          # the configuration that goes to hardware


def stage(n, text):
    print(f"[{n}/5] {text}", flush=True)


def table_text(table, float_acc, quant_acc):
    """Markdown table: one row per L, one column per (source, accumulation)."""
    cols = sorted({(r["source"], r["accumulation"]) for r in table},
                  key=lambda c: (c[1] != "counter", c[0] != "sobol"))
    lengths = sorted({r["length"] for r in table})
    acc = {(r["source"], r["accumulation"], r["length"]): r["accuracy"] for r in table}
    names = [s if a == "counter" else f"{s} {a}" for s, a in cols]
    lines = [f"float {100 * float_acc:.1f} %, quantised W={D.WIDTH} {100 * quant_acc:.1f} %", "",
             "| L | " + " | ".join(f"SC {n}" for n in names) + " |",
             "|---:|" + "---:|" * len(cols)]
    for length in lengths:
        cells = [f"{100 * acc[(s, a, length)]:.1f}" for s, a in cols]
        lines.append(f"| {length} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=str(ROOT / "results" / "digits"))
    ap.add_argument("--rtl-images", type=int, default=10)
    ap.add_argument("--full", action="store_true", help="RTL on every test image")
    ap.add_argument("--mux", action="store_true", help="also MUX accumulation")
    ap.add_argument("--simulator", default=None,
                    help="icarus (default) or verilator (scfpga.sim.cosim)")
    ap.add_argument("--select-c", action="store_true", help="re-run the cross-validation of C")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t_start = time.time()

    stage(1, "data: sklearn digits, 70/30 stratified split (seed 0)")
    split = D.load_split()
    print(f"      {len(split.y_train)} train / {len(split.y_test)} test images, 64 inputs")

    stage(2, "float network: multinomial logistic regression 64 -> 10")
    c = D.C_DEFAULT
    cv = None
    if args.select_c:
        c, cv = D.select_c(split.x_train, split.y_train)
        print("      5-fold CV accuracy by C: " +
              ", ".join(f"{k:g}: {100 * v:.1f}" for k, v in cv.items()) + f" -> C = {c:g}")
    model = D.train_float(split.x_train, split.y_train, c)
    float_acc = float(np.mean(model.predict(split.x_test) == split.y_test))
    print(f"      float test accuracy {100 * float_acc:.1f} %")

    stage(3, f"mapping: scale to [-1, 1], quantise to W = {D.WIDTH}")
    _, _, scale = D.scaled_weights(model)
    ref = D.to_dense_params(model, RTL_LENGTH, RTL_SOURCE)
    quant_acc = D.quantised_accuracy(ref, split.x_test, split.y_test)
    print(f"      scale 1/{scale:.3f}; quantised (exact dot products) {100 * quant_acc:.1f} %")

    stage(4, "SC golden model: accuracy against bitstream length")
    t0 = time.time()
    accs = ("counter", "mux") if args.mux else ("counter",)
    table = D.accuracy_vs_length(model, split.x_test, split.y_test, accumulations=accs)
    seeds = {s: D.seed_spread(model, split.x_test, split.y_test, RTL_LENGTH, s)
             for s in D.SOURCES}
    ev = D.evaluate_model(ref, split.x_test, split.y_test)
    t_model = time.time() - t0
    print(table_text(table, float_acc, quant_acc))
    for s, a in seeds.items():
        print(f"      L={RTL_LENGTH} {s} over seeds 0..9: min {100 * min(a):.1f}, "
              f"mean {100 * np.mean(a):.1f}, max {100 * max(a):.1f} %")
    print(f"      model sweep {t_model:.1f} s")
    D.plot_accuracy_vs_length(table, out / "accuracy_vs_length.png", float_acc, quant_acc)
    D.plot_confusion(split.y_test, ev.predictions, out / "confusion.png",
                     title=f"SC {RTL_SOURCE} L={RTL_LENGTH}")

    n_rtl = len(split.y_test) if args.full else max(0, min(args.rtl_images, len(split.y_test)))
    rtl, ok = None, True
    if n_rtl:
        stage(5, f"RTL: cocotb co-simulation of the generated layer on {n_rtl} test images")
        verilog = ROOT / "build" / "digits" / "dense_digits.v"
        verilog.parent.mkdir(parents=True, exist_ok=True)
        try:
            r = D.rtl_check(ref, split.x_test, n_rtl, simulator=args.simulator,
                            verilog_path=verilog)
            rtl = {"ok": True, "images": r.images, "clocks": r.clocks, "lanes": r.lanes,
                   "seconds": round(r.seconds, 1),
                   "accuracy": float(np.mean(r.predictions == split.y_test[:n_rtl]))}
            print(f"      {r.describe()}; RTL accuracy on them {100 * rtl['accuracy']:.1f} %")
        except AssertionError as e:
            ok, rtl = False, {"ok": False, "images": n_rtl, "error": str(e)}
            print(f"      FAILED: {e}")
    else:
        stage(5, "RTL: skipped (--rtl-images 0)")

    summary = {
        "split": {"test_fraction": D.TEST_FRACTION, "seed": D.SPLIT_SEED, "stratified": True,
                  "n_train": int(len(split.y_train)), "n_test": int(len(split.y_test))},
        "float": {"model": "multinomial logistic regression", "C": c, "cv": cv,
                  "accuracy": float_acc},
        "mapping": {"width": D.WIDTH, "scale": scale, "bias": True},
        "quantised_accuracy": quant_acc,
        "sc": table,
        "seed_spread": {"length": RTL_LENGTH, "seeds": list(range(10)), "accuracy": seeds},
        "confusion": {"source": RTL_SOURCE, "length": RTL_LENGTH,
                      "matrix": D.confusion_matrix(split.y_test, ev.predictions).tolist()},
        "rtl": rtl,
        "seconds": {"model_sweep": round(t_model, 2), "total": round(time.time() - t_start, 1)},
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(f"\nwrote {out}/accuracy_vs_length.png, confusion.png, summary.json "
          f"({time.time() - t_start:.1f} s)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
