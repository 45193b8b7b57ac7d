"""Inferences/s over the host link against the board's compute rate, for the digits networks.

    .venv/bin/python scripts/link_speed.py [--samples 6] [--skip-rtl]

For the dense digits layer (64 -> 10, 2 lanes, L = 256) and the spiking MLP (64 -> 32 -> 10)
at the demo's 24 MHz clock:

1. model: samples/s from the protocol's byte counts, the baud rate and the design's run
   cycles (:mod:`scfpga.boards.link`): per-sample WRITE/RUN/READ at 115200 baud (the old
   link), and BATCH at 115200, 1 M, 3 M (the demo's default) and 6 Mbaud;
2. measured: the board core (UART, engine, design) at 24 MHz and 3 Mbaud under cocotb +
   Icarus, a BATCH of ``--samples`` test images paced as the host driver paces them; the
   steady-state period is the time between the first and the last reply frame over the
   samples between them, and every reply must equal the golden model's results;
3. the software board (``--port sim``): ``run_batch`` on all 540 test images, wall-clock (the
   golden model runs in the loop; this is the host-side ceiling, not the board's).

Writes results/link_speed.json and .md. The target: link within 2x of compute.
"""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from amaranth.back import verilog

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))                 # run from a checkout without installing

from scfpga import digits as D  # noqa: E402
from scfpga import digits_mlp as M  # noqa: E402
from scfpga.boards import protocol as P  # noqa: E402
from scfpga.boards.dense_design import DenseDesign  # noqa: E402
from scfpga.boards.host import BoardClient  # noqa: E402
from scfpga.boards.link import batch_link, compute_cycles, serial_link  # noqa: E402
from scfpga.boards.network_design import NetworkDesign  # noqa: E402
from scfpga.boards.simboard import SimulatedBoard  # noqa: E402
from scfpga.boards.top import BoardCore  # noqa: E402
from scfpga.boards.uart_bench import run_uart_session  # noqa: E402

CLK_HZ = 24_000_000
BAUDS = (115_200, 1_000_000, P.FAST_BAUD, 6_000_000)
OUT = ROOT / "results"


def designs(split):
    """The two digits designs of ``make demo`` (same training and conversion)."""
    dense = DenseDesign(D.to_dense_params(D.train_float(split.x_train, split.y_train), 256,
                                          "sobol"), 2)
    mlp = M.train_mlp(split.x_train, split.y_train)
    params, _ = M.to_network(mlp, x_calib=split.x_train, fold=M.FOLD, lanes=M.LANES)
    return {"dense 64-10": dense, "MLP 64-32-10": NetworkDesign(params)}


def modelled(design, latency):
    n, r = design.n_loads, design.n_results
    compute = CLK_HZ / compute_cycles(design.run_cycles, n, r, latency)
    rows = {"serial_115200": serial_link(design.run_cycles, n, r, CLK_HZ, 115_200)["per_s"]}
    for baud in BAUDS:
        rows[f"batch_{baud}"] = batch_link(design.run_cycles, n, r, CLK_HZ, baud, latency)
    return compute, rows, latency


def measured(design, component, loads, name):
    """The board core under cocotb at 24 MHz / 3 Mbaud: steady-state samples/s of a BATCH."""
    core = BoardCore(component, CLK_HZ, P.FAST_BAUD)
    text = verilog.convert(core, name="board_core", emit_src=False)
    n, r = design.n_loads, design.n_results
    expected = design.expected_results(loads) & 0xFFFFFFFF
    want = "".join(P.encode_reply(P.Command.BATCH, P.Status.OK,
                                  row.astype("<u4").tobytes()).hex() for row in expected)
    steps = [{"send": P.encode_request(P.Command.BATCH,
                                       P.batch_payload(0, n, 0, r, len(loads))).hex(),
              "wait_bits": 400},
             {"chunks": [P.sample_block(row).hex() for row in loads],
              "window": P.batch_window(n), "frames": len(loads),
              "wait_bits": len(loads) * (design.run_cycles // core.divisor + 4000)}]
    t0 = time.time()
    result = run_uart_session(text, "board_core", steps, 1e9 / P.FAST_BAUD,
                              clock_ns=1e9 / CLK_HZ)
    seconds = time.time() - t0
    ok = result["replies"][0] == P.encode_reply(P.Command.BATCH, P.Status.OK).hex() and \
        result["replies"][1] == want
    times = result["frame_ns"][1]
    period_ns = (times[-1] - times[0]) / (len(times) - 1)
    print(f"  {name}: RTL {'bit-exact' if ok else 'MISMATCH'}, {len(times)} replies, "
          f"{period_ns / 1e3:.1f} us per sample ({seconds:.0f} s simulated)", flush=True)
    return {"samples": len(loads), "bit_exact": ok, "period_us": period_ns / 1e3,
            "per_s": 1e9 / period_ns, "first_reply_us": times[0] / 1e3,
            "simulation_s": round(seconds, 1)}


def software(design, loads):
    board = BoardClient(SimulatedBoard(design), timeout=5.0)
    t0 = time.perf_counter()
    got = board.run_batch(loads)
    seconds = time.perf_counter() - t0
    return {"samples": len(loads), "per_s": len(loads) / seconds,
            "bit_exact": bool(np.array_equal(got, design.expected_results(loads) & 0xFFFFFFFF))}


def markdown(rows):
    lines = [f"Host link vs compute at {CLK_HZ / 1e6:g} MHz (`scripts/link_speed.py`). Model: "
             "from the protocol's byte counts, the baud rate and the run cycles "
             "(`scfpga.boards.link`); measured: the board core under cocotb + Icarus at "
             f"{P.FAST_BAUD / 1e6:g} Mbaud, a BATCH of test images, steady state.", "",
             "| design | compute /s | serial 115200 | " +
             " | ".join(f"BATCH {b / 1e6:g}M" if b >= 1e6 else f"BATCH {b}" for b in BAUDS) +
             f" | measured BATCH {P.FAST_BAUD / 1e6:g}M (RTL) | link / compute | software board /s |",
             "|---|---:|---:|" + "---:|" * len(BAUDS) + "---:|---:|---:|"]
    for name, r in rows.items():
        batch = [r["model"][f"batch_{b}"] for b in BAUDS]
        meas = r.get("measured")
        link = meas["per_s"] if meas else r["model"][f"batch_{P.FAST_BAUD}"]["per_s"]
        rtl = (f"{meas['per_s']:.0f} {'bit-exact' if meas['bit_exact'] else 'MISMATCH'}"
               if meas else "-")
        lines.append(
            f"| {name} | {r['compute_per_s']:.0f} | {r['model']['serial_115200']:.0f} | " +
            " | ".join(f"{x['per_s']:.0f} ({x['bound']})" for x in batch) +
            f" | {rtl} | {r['compute_per_s'] / link:.2f}x slower | {r['software']['per_s']:.0f} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=6, help="test images in the RTL batch")
    ap.add_argument("--skip-rtl", action="store_true", help="model and software board only")
    args = ap.parse_args(argv)
    split = D.load_split()
    print("training the digits networks (as make demo)", flush=True)
    rows = {}
    for name, design in designs(split).items():
        component = design.component()
        compute, model, latency = modelled(design, component.result_latency)
        loads = design.loads_from_x(split.x_test)
        row = {"n_loads": design.n_loads, "n_results": design.n_results,
               "run_cycles": design.run_cycles, "result_latency": latency,
               "compute_per_s": compute, "model": model, "software": software(design, loads)}
        fast = model[f"batch_{P.FAST_BAUD}"]
        print(f"  {name}: compute {compute:.0f}/s; link model: serial 115200 "
              f"{model['serial_115200']:.0f}/s, BATCH 3M {fast['per_s']:.0f}/s ({fast['bound']})",
              flush=True)
        if not args.skip_rtl:
            row["measured"] = measured(design, component, loads[:args.samples], name)
        rows[name] = row
    OUT.mkdir(exist_ok=True)
    (OUT / "link_speed.json").write_text(json.dumps(
        {"clock_hz": CLK_HZ, "fast_baud": P.FAST_BAUD, "fifo_bytes": P.BATCH_FIFO_BYTES,
         "designs": rows}, indent=1) + "\n")
    (OUT / "link_speed.md").write_text(markdown(rows))
    print(markdown(rows))
    worst = max(r["compute_per_s"] / (r.get("measured") or r["model"][f"batch_{P.FAST_BAUD}"])["per_s"]
                for r in rows.values())
    print(f"wrote {OUT / 'link_speed.json'} and .md; link within {worst:.2f}x of compute "
          f"({'meets' if worst <= 2 else 'MISSES'} the 2x target)")
    return 0 if worst <= 2 and all(r.get("measured", {"bit_exact": True})["bit_exact"]
                                   for r in rows.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
