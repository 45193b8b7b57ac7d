"""The STDP demo's learning run on the board design: weights read back over the host link.

The workload of ``scripts/stdp_demo.py`` (64 inputs, 4 neurons, the digit-0 pattern every
epoch) as ``scfpga build stdp`` makes it: the op's options give the same parameters, the
runnable design (``boards/stdp_design.py``) loads one epoch's rates per run and returns every
weight and spike count. Two proofs, 30 epochs each:

* the host driver (``BoardClient``) on the software board: the weights it reads back after every
  epoch equal :class:`scfpga.model.stdp.STDPLayer`'s, and they learn the pattern;
* the board design's RTL in the run-level co-simulation (``scfpga.sim.runs.cosim_runs``: loads,
  start, wait for ``busy``, every result word compared, all in Verilog), epochs back to back so
  each starts from the weights the block RAM kept.

    python scripts/stdp_board.py [--epochs 30]

Writes results/stdp_board.{json,md}.
"""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from amaranth.back import verilog  # noqa: E402

from stdp_demo import PARAMS, correlation, pattern  # noqa: E402
from scfpga.boards.host import BoardClient  # noqa: E402
from scfpga.boards.ops import runnable  # noqa: E402
from scfpga.model.ops import get  # noqa: E402
from scfpga.model.stdp import STDPLayer  # noqa: E402
from scfpga.sim.runs import cosim_runs  # noqa: E402

OPTIONS = {"n_inputs": 64, "n_neurons": 4, "length": 64, "threshold": 8000, "leak_shift": 2,
           "a_plus": 4, "a_minus": 2, "tau_pre_shift": 1, "tau_post_shift": 2,
           "rate_shift": 8, "weight_seed": 1}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=30)
    args = ap.parse_args(argv)
    op = get("stdp")
    design = runnable(op, {**op.defaults(), **OPTIONS})
    assert design.params == PARAMS, "the op's options must give the demo's parameters"
    pat = pattern()
    x = np.tile(np.where(pat > 0, 0.9, 0.02), (args.epochs, 1))
    loads = design.loads_from_x(x)

    t = time.monotonic()
    with BoardClient.open("sim", design=design) as board:
        board.check_design(design)
        results = board.evaluate(design, loads)
    host_s = time.monotonic() - t
    learned = design.learned_weights(results)
    model = [e.weights for e in STDPLayer(PARAMS).train(list(loads))]
    host_exact = bool(np.array_equal(learned, np.stack(model)))

    t = time.monotonic()
    component = design.component()
    text = verilog.convert(component, name="stdp_board", emit_src=False)
    rtl = cosim_runs(text, "stdp_board", loads, design.expected_results(loads),
                     latency=component.result_latency, signed=design.result_signed,
                     max_cycles=design.run_cycles + 16,
                     build_root=ROOT / "build" / "stdp_board")
    rtl_s = time.monotonic() - t

    first = correlation(PARAMS.initial_weights, pat)
    last = correlation(learned[-1], pat)
    report = {"epochs": args.epochs, "design_id": f"0x{design.design_id:08x}",
              "n_results": design.n_results, "clocks_per_epoch": design.run_cycles,
              "host_link_equal_model": host_exact, "host_seconds": round(host_s, 2),
              "rtl": rtl.describe("stdp", design.result_names), "rtl_ok": rtl.ok,
              "rtl_seconds": round(rtl_s, 1), "corr_initial": first, "corr_final": last,
              "mean_pattern_weight": [float(PARAMS.initial_weights[:, pat > 0].mean()),
                                      float(learned[-1][:, pat > 0].mean())],
              "mean_background_weight": [float(PARAMS.initial_weights[:, pat == 0].mean()),
                                         float(learned[-1][:, pat == 0].mean())]}
    fmt = lambda v: ", ".join(f"{c:.2f}" for c in v)     # noqa: E731
    md = [f"The STDP demo's workload as a board design (`scfpga build stdp`, 64 inputs x 4 "
          f"neurons, design id {report['design_id']}): {args.epochs} epochs, each one run of "
          f"{design.run_cycles} clocks whose {design.n_results} results are every weight and "
          f"spike count (`python scripts/stdp_board.py`).", "",
          "| | initial | after the last epoch |", "|---|---|---|",
          f"| corr(weights read back, pattern), per neuron | {fmt(first)} | {fmt(last)} |",
          f"| mean weight, pattern / background inputs | "
          f"{report['mean_pattern_weight'][0]:.1f} / {report['mean_background_weight'][0]:.1f} "
          f"| {report['mean_pattern_weight'][1]:.1f} / {report['mean_background_weight'][1]:.1f} "
          f"|", "",
          f"Host driver on the software board: weights read back after every epoch "
          f"{'equal' if host_exact else 'DIFFER from'} the golden model's ({host_s:.1f} s). "
          f"Board design RTL, run-level co-simulation of all {args.epochs} epochs back to back: "
          f"{report['rtl']} ({rtl_s:.1f} s)."]
    out = ROOT / "results"
    (out / "stdp_board.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "stdp_board.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))
    return 0 if host_exact and rtl.ok else 1


if __name__ == "__main__":
    sys.exit(main())
