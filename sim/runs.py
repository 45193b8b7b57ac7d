"""Run-level co-simulation of a runnable design: many samples in one simulation.

Where :func:`scfpga.sim.cosim` compares every port on every cycle, :func:`cosim_runs` compares
what a user of the board sees: for each sample, every result word after a complete run. The
simulator runs the cycles of a run without Python in the loop, so hundreds of samples take
seconds (the per-cycle proof of the same RTL is the job of the block's own bench).
"""
import json
from dataclasses import dataclass

import numpy as np

from .runner import run_cocotb


@dataclass
class RunsResult:
    """``ok``, or the first sample/result index whose value differs."""
    ok: bool
    samples: int
    sample: int | None = None
    result: int | None = None
    expected: int | None = None
    actual: int | None = None
    log: str = ""

    def describe(self, what="design", result_names=None):
        if self.ok:
            return f"bit-exact over {self.samples} runs"
        if self.sample is None:
            return f"{what}: simulation failed, see {self.log}"
        name = result_names[self.result] if result_names else f"result {self.result}"
        return (f"mismatch in run {self.sample}: {what} {name} expected {self.expected}, "
                f"got {self.actual}")


def cosim_runs(verilog_text, top, loads, expected, latency=1, max_cycles=1 << 20, signed=False,
               build_root=None, simulator=None):
    """Drive a runnable design with ``loads`` (samples, n_loads) and compare its results
    (samples, n_results) with ``expected`` after each run.

    Parameters
    ----------
    latency : int
        The design's ``result_latency`` (cycles from ``result_addr`` to ``result_data``).
    max_cycles : int
        A run whose ``busy`` stays high longer than this fails the simulation (no hang).
    signed : bool or sequence of bool
        Compare ``result_data`` as two's-complement signed values (per result, or for all).
    """
    loads = np.atleast_2d(np.asarray(loads, dtype=np.int64))
    expected = np.atleast_2d(np.asarray(expected, dtype=np.int64))
    if len(loads) != len(expected):
        raise ValueError("loads and expected must have one row per sample")
    signed = np.broadcast_to(np.asarray(signed, dtype=bool), expected.shape[1:])
    arrays = {"loads": loads, "expected": expected, "latency": np.int64(latency),
              "max_cycles": np.int64(max_cycles), "signed": signed}
    result_file, log = run_cocotb(verilog_text, top, "scfpga.sim.runs_bench", arrays,
                                  build_root, simulator)
    if not result_file.exists():
        return RunsResult(ok=False, samples=len(loads), log=str(log))
    r = json.loads(result_file.read_text())
    return RunsResult(ok=r["ok"], samples=r["samples"], sample=r.get("sample"),
                      result=r.get("result"), expected=r.get("expected"), actual=r.get("actual"),
                      log=str(log))
