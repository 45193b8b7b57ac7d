"""Network co-simulation: every spike of every layer in every SC cycle against the model.

:func:`cosim_network` generates the Verilog of a :class:`~scfpga.model.network.NetworkParams`,
runs :mod:`.network_bench` under cocotb and returns a :class:`NetworkResult`. On a mismatch it
simulates the failing sample again with a VCD dump of the window around the failing cycle
(``window.vcd`` under the build root's ``network-failures/``, for GTKWave) and names it in the message.
"""
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from amaranth.back import verilog

from ..hdl.network import Network as NetworkDesign, schedule
from ..model.network import Network
from ..model.params import ParameterError
from . import processes
from .runner import default_build_root, run_cocotb

TOP = "network"


@dataclass
class NetworkResult:
    ok: bool
    samples: int
    sample: int | None = None
    layer: int | None = None
    neuron: int | None = None
    cycle: int | None = None
    what: str | None = None
    expected: int | None = None
    actual: int | None = None
    log: str = ""
    vcd: str | None = None

    def describe(self):
        if self.ok:
            return f"bit-exact: every spike of every layer in every cycle, {self.samples} samples"
        if self.sample is None:
            return f"network: simulation failed, see {self.log}"
        where = f"layer {self.layer + 1}, " if self.layer is not None else ""
        return (f"mismatch in sample {self.sample}: {where}neuron {self.neuron}, SC cycle "
                f"{self.cycle}: {self.what} expected {self.expected}, got {self.actual}"
                + (f" (waveform: {self.vcd})" if self.vcd else ""))


def network_verilog(params):
    return verilog.convert(NetworkDesign(params), name=TOP, emit_src=False)


def bench_arrays(params, thresholds):
    """The bench's ``.npz`` contents for integer input thresholds (samples, inputs)."""
    run = Network(params).evaluate_thresholds(np.atleast_2d(thresholds))
    arrays = {"loads": np.atleast_2d(thresholds).astype(np.int64),
              "counts": run.counts[-1], "scores": run.scores[-1],
              "run_clocks": np.int64(schedule(params).run_clocks + 16)}
    for l, spikes in enumerate(run.spikes):
        arrays[f"spikes{l}"] = spikes
    return arrays


def cosim_network(params, thresholds, build_root=None, simulator=None, vcd=True,
                  verilog_text=None, extra_sources=(), defines=None, top=TOP):
    """Prove ``params`` on the given input thresholds (samples, inputs): a :class:`NetworkResult`.

    ``verilog_text`` replaces the generated Verilog, e.g. by the post-synthesis netlist of the
    same design (with its cell models in ``extra_sources`` and their ``defines``).
    """
    text = verilog_text if verilog_text is not None else network_verilog(params)
    arrays = bench_arrays(params, thresholds)
    result_file, log = run_cocotb(text, top, "scfpga.sim.network_bench", arrays, build_root,
                                  simulator, extra_sources, defines)
    if not result_file.exists():
        return NetworkResult(False, len(arrays["loads"]), log=str(log))
    r = json.loads(result_file.read_text())
    result = NetworkResult(log=str(log), **{k: r.get(k) for k in (
        "ok", "samples", "sample", "layer", "neuron", "cycle", "what", "expected", "actual")})
    if not result.ok and result.sample is not None and vcd:
        result.vcd = _failing_window(params, text, top, arrays, result, build_root)
    return result


def _failing_window(params, text, top, arrays, result, build_root):
    """Simulate the failing sample alone in a plain Verilog testbench (no cocotb) and dump the
    SC cycles around the mismatch to ``window.vcd``; returns its path, or None."""
    cc = schedule(params).cycle_clocks
    work = Path(build_root or default_build_root()).resolve() / "network-failures" / \
        f"sample{result.sample}-cycle{result.cycle}"
    work.mkdir(parents=True, exist_ok=True)
    loads = "".join(f"    load = 1; addr = {i}; data = {int(v)}; @(negedge clk);\n"
                    for i, v in enumerate(arrays["loads"][result.sample]))
    before = 10 * cc * max(0, result.cycle - 2)
    (work / f"{top}.v").write_text(text)
    (work / "tb.v").write_text(f"""`timescale 1ns/1ps
module tb;
  reg clk = 0, rst = 1, load = 0, start = 0;
  reg [31:0] addr = 0, data = 0, sel = 0;
  {top} dut(.clk(clk), .rst(rst), .load(load), .addr(addr), .data(data), .start(start),
            .sel(sel));
  always #5 clk = ~clk;
  initial begin
    $dumpfile("window.vcd");
    $dumpvars(0, tb);
    $dumpoff;
    #20 rst = 0;
    @(negedge clk);
{loads}    load = 0; start = 1; @(negedge clk); start = 0;
    #{before} $dumpon;
    #{10 * cc * 4} $dumpoff;
    $finish;
  end
endmodule
""")
    try:
        processes.run(["iverilog", "-g2012", "-o", "tb.vvp", "-s", "tb", "tb.v", f"{top}.v"],
                      cwd=work, check=True, capture_output=True, timeout=300)
        processes.run(["vvp", "-n", "tb.vvp"], cwd=work, check=True, capture_output=True,
                      timeout=600)
    except (OSError, subprocess.SubprocessError):
        return None
    vcd = work / "window.vcd"
    return str(vcd) if vcd.exists() else None


# ---------------------------------------------------------------------------- the op's bench

DEFAULT_SAMPLES = 2


def run_case(params, cycles, rng, simulate, x=None):
    """``scfpga sim NET.toml``: prove the network on ``x`` (samples, inputs) in [0, 1], or on
    seeded random inputs; ``simulate`` (a :class:`scfpga.sim.ops.Simulation`) says which
    Verilog (RTL or netlist) and where. ``cycles`` is unused: a run is ``length`` SC cycles.

    Returns ``(result, text)``.
    """
    if x is None:
        x = rng.random((DEFAULT_SAMPLES, params.n_inputs))
    if np.ndim(x) == 3:
        raise ParameterError("--x: a spike raster (samples, T, inputs) needs a raster encoder, "
                             "which the network hardware does not have yet; scfpga sim takes "
                             "rates (samples, inputs) in [0, 1] (scfpga model takes both)")
    thresholds = Network(params).thresholds(np.atleast_2d(x))
    result = cosim_network(params, thresholds, build_root=simulate.build_root,
                           simulator=simulate.simulator, verilog_text=simulate.verilog,
                           extra_sources=simulate.extra_sources, defines=simulate.defines,
                           top=simulate.top, vcd=not simulate.extra_sources)
    return result, result.describe()


def make_case(params, cycles, rng, p_on=1.0, **kw):
    """Networks are proven run by run (:func:`run_case`), not from per-cycle arrays."""
    raise NotImplementedError("a network bench has no per-cycle case; use run_case")
