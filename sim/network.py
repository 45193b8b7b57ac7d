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

from ..hdl.network import load_map, schedule
from ..hdl.network_readout import network_top
from ..model.readout import pack_mask, readout_winners
from ..hdl.network_loads import input_writes, weight_writes
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
    return verilog.convert(network_top(params), name=TOP, emit_src=False)


def _runs(params, inputs):
    """The model's :class:`~scfpga.model.network.NetworkRun` of one design's inputs."""
    model = Network(params)
    if params.encoding == "raster":
        return model.evaluate_bits(inputs)
    return model.evaluate_thresholds(inputs)


def check_inputs(params, inputs):
    """Thresholds (samples, inputs) for a rate design, rasters (samples, inputs, T) of 0/1 for
    a raster design; int64."""
    x = np.asarray(inputs)
    raster = params.encoding == "raster"
    if x.ndim == (2 if raster else 1):
        x = x[None]
    want = (params.n_inputs, params.length) if raster else (params.n_inputs,)
    if x.ndim != len(want) + 1 or x.shape[1:] != want or not np.issubdtype(x.dtype, np.integer):
        what = "rasters (samples, inputs, cycles)" if raster else "thresholds (samples, inputs)"
        raise ParameterError(f"inputs must be integer {what} with (inputs, ...) = {want}, "
                             f"got shape {x.shape}")
    return x.astype(np.int64)


def bench_arrays(params, inputs, reloads=None):
    """The bench's ``.npz`` contents.

    ``inputs``: integer thresholds (samples, inputs) or, for a raster design, rasters
    (samples, inputs, T). ``reloads`` ({sample: NetworkParams of the same shape}): networks
    whose weights are written before that sample (run-time weights); a design with weights in
    SPRAM (no power-up contents) loads ``params``'s before sample 0 unless told otherwise.
    Per sample the bench writes ``writes_addr/data[writes_start[s]:writes_start[s + 1]]``.
    """
    inputs = check_inputs(params, inputs)
    reloads = dict(reloads or {})
    if params.weight_memory == "spram":
        reloads.setdefault(0, params)
    if reloads and params.weight_memory == "rom":
        raise ParameterError("reloads need run-time weights (weight_memory 'ram' or 'spram')")
    lmap = load_map(params)
    current, runs, addrs, datas, starts = params, [], [], [], [0]
    for s, sample in enumerate(inputs):
        if s in reloads:
            current = reloads[s]
            a, d = weight_writes(lmap, current)
            addrs.append(a)
            datas.append(d)
        words = input_writes(lmap, sample)
        addrs.append(np.arange(len(words), dtype=np.int64))
        datas.append(words)
        starts.append(sum(map(len, addrs)))
        runs.append(_runs(current, sample[None]))
    arrays = {"writes_addr": np.concatenate(addrs), "writes_data": np.concatenate(datas),
              "writes_start": np.array(starts, np.int64),
              "counts": np.concatenate([r.counts[-1] for r in runs]),
              "scores": np.concatenate([r.scores[-1] for r in runs]),
              "run_clocks": np.int64(schedule(params).run_clocks + 16)}
    for l in range(len(params.layers)):
        spikes = np.concatenate([r.spikes[l] for r in runs])
        # a layer at a TAC layer's chunk rate shows each chunk's spikes for K SC cycles
        arrays[f"spikes{l}"] = np.repeat(spikes, params.length // spikes.shape[2], axis=2)
    if params.readout is not None:             # the WTA readout's winner masks, packed
        arrays["winners"] = np.concatenate([pack_mask(readout_winners(params, r)) for r in runs])
        arrays["run_clocks"] += params.layers[-1].n_neurons + 4
    return arrays


def cosim_network(params, inputs, build_root=None, simulator=None, vcd=True,
                  verilog_text=None, extra_sources=(), defines=None, top=TOP, reloads=None):
    """Prove ``params`` on the given inputs: a :class:`NetworkResult`.

    ``inputs`` are integer thresholds (samples, inputs), or rasters (samples, inputs, T) for a
    raster design; ``reloads`` loads other weights at run time (:func:`bench_arrays`).
    ``verilog_text`` replaces the generated Verilog, e.g. by the post-synthesis netlist of the
    same design (with its cell models in ``extra_sources`` and their ``defines``).
    """
    text = verilog_text if verilog_text is not None else network_verilog(params)
    arrays = bench_arrays(params, inputs, reloads)
    result_file, log = run_cocotb(text, top, "scfpga.sim.network_bench", arrays, build_root,
                                  simulator, extra_sources, defines)
    if not result_file.exists():
        return NetworkResult(False, len(arrays["counts"]), log=str(log))
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
    # A run depends only on the loads: every write up to the sample's, then one run.
    end = arrays["writes_start"][result.sample + 1]
    loads = "".join(f"    load = 1; addr = {int(a)}; data = {int(v)}; @(negedge clk);\n"
                    for a, v in zip(arrays["writes_addr"][:end], arrays["writes_data"][:end]))
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
    raster = params.encoding == "raster"
    if x is None:
        x = rng.random((DEFAULT_SAMPLES,) + ((params.length,) if raster else ()) +
                       (params.n_inputs,))
        if raster:
            x = (x < 0.3).astype(np.int64)
    if raster:
        x = raster_from_x(params, x)
    elif np.ndim(x) == 3:
        raise ParameterError("--x: a spike raster (samples, T, inputs) needs a network with "
                             "encoding = \"raster\"; this one takes rates (samples, inputs) "
                             "in [0, 1]")
    else:
        x = Network(params).thresholds(np.atleast_2d(x))
    result = cosim_network(params, x, build_root=simulate.build_root,
                           simulator=simulate.simulator, verilog_text=simulate.verilog,
                           extra_sources=simulate.extra_sources, defines=simulate.defines,
                           top=simulate.top, vcd=not simulate.extra_sources)
    return result, result.describe()


def raster_from_x(params, x):
    """``--x`` of a raster design: 0/1 of shape (samples, T, inputs) (time first, as a
    recording is stored) or one sample (T, inputs); returns (samples, inputs, T)."""
    x = np.asarray(x)
    if x.ndim == 2:
        x = x[None]
    want = (params.length, params.n_inputs)
    if x.ndim != 3 or x.shape[1:] != want or not np.isin(x, (0, 1)).all():
        raise ParameterError(f"--x: a raster design takes 0/1 spikes of shape (samples, T, "
                             f"inputs) with (T, inputs) = {want}, got shape {x.shape}")
    return x.transpose(0, 2, 1).astype(np.int64)


def make_case(params, cycles, rng, p_on=1.0, **kw):
    """Networks are proven run by run (:func:`run_case`), not from per-cycle arrays."""
    raise NotImplementedError("a network bench has no per-cycle case; use run_case")
