"""Run-level co-simulation of a runnable design: many samples in one simulation.

Where :func:`scfpga.sim.cosim` compares every port on every cycle, :func:`cosim_runs` compares
what a user of the board sees: for each sample, every result word after a complete run.

A generated Verilog testbench (:func:`runs_testbench`) does all of it, under Icarus (the
default) or Verilator: the load words and the expected results are memories it reads, it
writes the loads, pulses ``start``, waits for ``busy`` to fall, reads every result and compares
it in HDL; Python writes the memories before and reads one line after. With
``SCFPGA_COCOTB=1`` the cocotb test :mod:`.runs_bench` drives the same schedule instead.
Long proofs simulate the design as flattened and regrouped by :mod:`.netlist` (the same
behaviour in a form the simulators run faster).
"""
import json
import os
from dataclasses import dataclass

import numpy as np

from .runner import (choose_simulator, hex_lines, logic_value, memory_depth, run_chunks,
                     run_cocotb, run_hdl_tb)

CLOCK_NS = 10
CHUNK = 128                     # samples per simulation (sizes the testbench's memories)
FAST_FROM = 64                  # netlist="auto": samples from which the Yosys pass pays off


@dataclass
class RunsResult:
    """``ok``, or the first sample/result index whose value differs (``cycle``: clocks from
    that run's ``start`` edge to the read; ``hung``: that run's ``busy`` never fell)."""
    ok: bool
    samples: int
    sample: int | None = None
    result: int | None = None
    expected: int | None = None
    actual: int | str | None = None
    log: str = ""
    cycle: int | None = None
    hung: bool = False
    clocks: int | None = None       # simulated clock cycles (HDL testbench, all chunks)
    chunks: list | None = None      # (log, samples) of each simulation (HDL testbench)

    def describe(self, what="design", result_names=None):
        if self.ok:
            return f"bit-exact over {self.samples} runs"
        if self.hung:
            return f"run {self.sample}: {what} still busy after {self.cycle} cycles (a hang)"
        if self.sample is None:
            return f"{what}: simulation failed, see {self.log}"
        name = result_names[self.result] if result_names else f"result {self.result}"
        at = (f" (port result_data, clock {self.cycle} after the run's start)"
              if self.cycle is not None else "")
        return (f"mismatch in run {self.sample}: {what} {name} expected {self.expected}, "
                f"got {self.actual}{at}")


def runs_testbench(top, n_loads, n_results, load_depth, result_depth):
    """Verilog testbench for the runnable contract (:mod:`scfpga.boards.runnable`).

    Per sample: one cycle per load word (``load_we``), a ``start`` pulse, a wait for ``busy``
    to fall (an event wait plus a timed watchdog, no testbench activity per run cycle), then
    every result read ``latency`` cycles after its address and compared with the expected
    word. It prints ``SCFPGA OK``, the first ``SCFPGA MISMATCH sample result cycle bits`` or
    ``SCFPGA HANG sample cycle``.
    """
    half = CLOCK_NS // 2
    return f"""`timescale 1ns/1ps
module scfpga_tb;
  integer s, a, r, n, lat, maxc, hung;
  time t0;
  reg clk, rst, load_we, start;
  reg [15:0] load_addr, load_data, result_addr;
  wire busy;
  wire [31:0] result_data;
  reg [15:0] m_loads [0:{load_depth - 1}];
  reg [31:0] m_expected [0:{result_depth - 1}];
  \\{top} dut(.clk(clk), .rst(rst), .load_addr(load_addr), .load_data(load_data),
    .load_we(load_we), .start(start), .busy(busy), .result_addr(result_addr),
    .result_data(result_data));
  always #{half} clk = ~clk;
  initial begin
    clk = 1; rst = 1; load_we = 0; start = 0; load_addr = 0; load_data = 0; result_addr = 0;
    hung = 0;
    if (!$value$plusargs("samples=%d", n)) n = 0;
    if (!$value$plusargs("latency=%d", lat)) lat = 0;
    if (!$value$plusargs("max_cycles=%d", maxc)) maxc = 1048576;
    // explicit ranges: the memories are deeper than the data (one build serves many runs)
    $readmemh("loads.hex", m_loads, 0, n * {n_loads} - 1);
    $readmemh("expected.hex", m_expected, 0, n * {n_results} - 1);
    // Inputs change 1 ns after a rising edge, never at it: Verilator runs an initial block's
    // non-blocking writes as blocking ones, so a write at the edge would race the design.
    @(posedge clk); @(posedge clk); #1;
    rst <= 0;
    for (s = 0; s < n; s = s + 1) begin
      for (a = 0; a < {n_loads}; a = a + 1) begin
        load_addr <= a; load_data <= m_loads[s * {n_loads} + a]; load_we <= 1;
        @(posedge clk); #1;
      end
      load_we <= 0; start <= 1;
      @(posedge clk);
      t0 = $time;                           // the start edge: the run's cycle 0 follows
      #1 start <= 0;
      @(negedge clk);                       // busy is up from the cycle after start
      if (busy) begin
        // an edge, not wait (!busy): Verilator re-evaluates a wait's condition every step
        fork : run
          begin @(negedge busy); disable run; end
          begin #(maxc * {CLOCK_NS}); hung = 1; disable run; end
        join
        if (hung) begin
          $display("SCFPGA HANG %0d %0d", s, maxc);
          $finish;
        end
        @(negedge clk);
      end
      for (r = 0; r < {n_results}; r = r + 1) begin
        result_addr <= r;
        if (lat) begin
          repeat (lat) @(posedge clk);
          @(negedge clk);
        end else
          #1;
        if (result_data !== m_expected[s * {n_results} + r]) begin
          $display("SCFPGA MISMATCH %0d %0d %0d %b", s, r, ($time - t0) / {CLOCK_NS}, result_data);
          $finish;
        end
      end
      @(posedge clk); #1;
    end
    $display("SCFPGA OK %0d %0d", n, $time / {CLOCK_NS});
    $finish;
  end
endmodule
"""


def _runs_chunk(verilog_text, top, loads, expected, first, latency, max_cycles, signed, tb,
                build_root, simulator, fast):
    """One ``vvp`` run of the samples ``first..first+len(loads)-1``."""
    n = len(loads)
    memories = {"loads.hex": hex_lines(loads.ravel(), 16),
                "expected.hex": hex_lines(expected.ravel(), 32)}
    stdout, log = run_hdl_tb(verilog_text, top, tb, memories,
                                {"samples": n, "latency": latency, "max_cycles": max_cycles},
                             build_root, kind="runs", simulator=simulator, fast=fast)
    for line in (stdout or "").splitlines():
        if line.startswith("SCFPGA OK"):
            return RunsResult(ok=True, samples=n, log=str(log), clocks=int(line.split()[3]))
        if line.startswith("SCFPGA MISMATCH"):
            _, _, s, r, cycle, bits = line.split()
            s, r = int(s), int(r)
            return RunsResult(ok=False, samples=n, sample=first + s, result=r,
                              expected=int(expected[s, r]), actual=logic_value(bits, signed[r]),
                              log=str(log), cycle=int(cycle))
        if line.startswith("SCFPGA HANG"):
            _, _, s, cycles = line.split()
            return RunsResult(ok=False, samples=n, sample=first + int(s), log=str(log),
                              cycle=int(cycles), hung=True)
    return RunsResult(ok=False, samples=n, log=str(log))


def runs_hdl(verilog_text, top, loads, expected, latency, max_cycles, signed, build_root=None,
             workers=1, simulator="icarus", fast=True):
    """:func:`cosim_runs` with the generated testbench: Python writes two memory files and
    reads one line of output per simulation.

    The samples go in contiguous chunks of at most ``CHUNK`` (a multiple of ``workers`` chunks),
    one simulator process each, ``workers`` at a time: the testbench's memories are sized for a
    chunk, so a design compiles once whatever the number of samples. The verdict is that of the
    first failing chunk; with one worker the chunks after it are not run."""
    n = len(loads)
    # a multiple of the workers, so that no worker idles in the last round (540 samples, two
    # workers: 6 chunks of 90, not 5 of 108 of which the fifth runs alone)
    per_worker = -(-n // (CHUNK * max(1, workers)))
    count = min(n, max(1, workers) * per_worker) if n else 1
    bounds = np.linspace(0, n, count + 1).astype(int)
    tb = runs_testbench(top, loads.shape[1], expected.shape[1],
                        memory_depth(CHUNK * loads.shape[1]),
                        memory_depth(CHUNK * expected.shape[1]))
    jobs = [(verilog_text, top, loads[a:b], expected[a:b], a, latency, max_cycles, signed, tb,
             build_root, simulator, fast) for a, b in zip(bounds[:-1], bounds[1:])]
    results = run_chunks(_runs_chunk, jobs, workers)
    for r in results:
        if not r.ok:
            r.samples = n
            return r
    return RunsResult(ok=True, samples=n, log=results[0].log,
                      clocks=sum(r.clocks for r in results),
                      chunks=[(r.log, r.samples) for r in results])


def cosim_runs(verilog_text, top, loads, expected, latency=1, max_cycles=1 << 20, signed=False,
               build_root=None, simulator=None, workers=1, netlist="auto"):
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
    simulator : str, optional
        ``icarus`` (default) or ``verilator`` (``--binary``, optional): both run the generated
        testbench; ``SCFPGA_COCOTB=1`` selects the cocotb bench :mod:`.runs_bench` instead.
    workers : int
        Simulate that many contiguous chunks of the samples in parallel processes.
    netlist : str
        ``fast``: simulate the design as rewritten by :func:`.netlist.fast_netlist`
        (flattened and regrouped by Yosys, same behaviour; on a dense layer ~2.7x the clocks
        per second under Icarus, 1.15x under Verilator, for ~0.6 CPU s once per design);
        ``generated``: the Verilog exactly as given; ``auto`` (default): ``fast`` from
        ``FAST_FROM`` samples on, where it pays off.
    """
    if netlist not in ("auto", "fast", "generated"):
        raise ValueError(f"netlist must be 'auto', 'fast' or 'generated', got {netlist!r}")
    loads = np.atleast_2d(np.asarray(loads, dtype=np.int64))
    expected = np.atleast_2d(np.asarray(expected, dtype=np.int64))
    if len(loads) != len(expected):
        raise ValueError("loads and expected must have one row per sample")
    signed = np.broadcast_to(np.asarray(signed, dtype=bool), expected.shape[1:])
    simulator = choose_simulator(simulator)
    if not os.environ.get("SCFPGA_COCOTB"):
        return runs_hdl(verilog_text, top, loads, expected, int(latency), int(max_cycles),
                        [bool(x) for x in signed], build_root, workers, simulator,
                        netlist == "fast" or (netlist == "auto" and len(loads) >= FAST_FROM))
    arrays = {"loads": loads, "expected": expected, "latency": np.int64(latency),
              "max_cycles": np.int64(max_cycles), "signed": signed}
    result_file, log = run_cocotb(verilog_text, top, "scfpga.sim.runs_bench", arrays,
                                  build_root, simulator)
    if not result_file.exists():
        return RunsResult(ok=False, samples=len(loads), log=str(log))
    r = json.loads(result_file.read_text())
    return RunsResult(ok=r["ok"], samples=r["samples"], sample=r.get("sample"),
                      result=r.get("result"), expected=r.get("expected"), actual=r.get("actual"),
                      log=str(log), cycle=r.get("cycle"), hung=r.get("hung", False))
