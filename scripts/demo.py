"""`make demo`: generate every block, co-simulate it against the golden model, summarise.

Writes the Verilog of each block to build/demo/ and prints one table row per block. Exits 1 if
any co-simulation is not bit-exact.
"""
import sys
import time
from pathlib import Path

import numpy as np

from scfpga.blocks import BLOCKS
from scfpga.hdl import to_verilog
from scfpga.model import (CounterParams, LFSRParams, LIFParams, MuxParams, SNGParams,
                          SobolParams, SynapseParams)
from scfpga.sim import cosim

OUT = Path("build/demo")

DEMO_BLOCKS = [
    ("lfsr", LFSRParams(16, 0xACE1), "width 16, seed 0xACE1"),
    ("sobol", SobolParams(16, 5), "width 16, dim 5"),
    ("sng", SNGParams(SobolParams(8, 3)), "sobol 8-bit, run-time P"),
    ("sng", SNGParams(LFSRParams(16, 7), 20000), "lfsr 16-bit, P=20000", "sng_lfsr"),
    ("and", SynapseParams("and"), "unipolar multiply"),
    ("xnor", SynapseParams("xnor"), "bipolar multiply"),
    ("mux", MuxParams(5, SobolParams(8, 2)), "5 inputs, sobol 8-bit"),
    ("counter", CounterParams(256), "window 256"),
    ("lif", LIFParams(width=16, n_inputs=4, weights=(3000, 2000, -1500, 800), threshold=8000,
                      leak_shift=4, refractory=2), "16-bit, 4 inputs, refr 2"),
]


def primitives(cycles=4000):
    OUT.mkdir(parents=True, exist_ok=True)
    rows, ok = [], True
    print(f"Co-simulating {len(DEMO_BLOCKS)} blocks for {cycles} cycles each (cocotb + Icarus)...",
          flush=True)
    for name, params, what, *stem in DEMO_BLOCKS:
        block = BLOCKS[name]
        t0 = time.time()
        verilog = to_verilog(params, name)
        (OUT / f"{stem[0] if stem else name}.v").write_text(verilog)
        stim, expected = block.bench_module().make_case(params, cycles, np.random.default_rng(1))
        result = cosim(verilog, name, stim, expected, block.signed_ports())
        ok &= result.ok
        rows.append((name, what, len(verilog.splitlines()), result.describe(name), time.time() - t0))
        print(f"  {name:8s} {result.describe(name)}", flush=True)
    print()
    print(f"| {'block':8s} | {'parameters':26s} | {'Verilog lines':>13s} | {'result':34s} | {'time':>6s} |")
    print(f"|{'-' * 10}|{'-' * 28}|{'-' * 15}|{'-' * 36}|{'-' * 8}|")
    for name, what, lines, res, dt in rows:
        print(f"| {name:8s} | {what:26s} | {lines:13d} | {res:34s} | {dt:5.1f}s |")
    print(f"\nVerilog written to {OUT}/")
    return ok


if __name__ == "__main__":
    sys.exit(0 if primitives() else 1)
