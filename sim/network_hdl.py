"""Network proofs in a generated Verilog testbench: every spike compared in HDL, no Python while
the simulation runs.

:func:`cosim_network_hdl` checks what :func:`scfpga.sim.network.cosim_network` checks (every
layer's spike vector on the first clock of every SC cycle, then every output neuron's count and
score, and the WTA winners) with the schedule of :mod:`.network_bench`, but the load words and
the expected vectors are memories of a generated testbench (:func:`network_testbench`) that
compares them itself, so the cost is that of the bare simulator: Icarus by default, or
Verilator's ``--binary`` build. Samples go in chunks (one simulation each, compiled once per
design and chunk size), ``workers`` simulations at a time.
"""

import numpy as np

from .network import NetworkResult, bench_arrays, network_verilog, TOP
from .runner import (hex_lines, logic_value, memory_depth, run_chunks, run_hdl_tb,
                     top_ports)

CLOCK_NS = 10
CHUNK = 25                   # samples per simulation: sizes the memories of the testbench


def network_testbench(top, ports, n_layers, length, n_out, write_depth, sample_depth,
                      readout):
    """The Verilog testbench (module ``scfpga_tb``) of one network design.

    Per sample ``s``: the load words ``m_waddr/m_wdata[m_wstart[s] .. m_wstart[s + 1] - 1]``
    one per falling edge, a ``start`` pulse, then on each SC cycle's first clock (``k`` = 0
    right after ``start``, then each rising edge of ``cycle_start``, read 1 ns later when the
    registers of that edge have settled) ``k`` and every ``spikes<l>`` against ``m_spk<l>``;
    when ``busy`` falls the winners (``readout``) and each output neuron's ``count`` and
    ``score`` one clock after its ``sel``. Prints ``SCFPGA OK``, or the first
    ``SCFPGA MISMATCH sample layer neuron-or-(-1) cycle what bits`` or ``SCFPGA HANG sample``.
    """
    w = {p: ports[p][1] for p in ports}
    spk = "".join(f"  wire [{w[f'spikes{l}'] - 1}:0] spikes{l};\n"
                  f"  reg [{w[f'spikes{l}'] - 1}:0] m_spk{l} [0:{sample_depth * length - 1}];\n"
                  for l in range(n_layers))
    conn = ", ".join(f".spikes{l}(spikes{l})" for l in range(n_layers))
    checks = "".join(
        f"        if (spikes{l} !== m_spk{l}[s * {length} + k]) begin\n"
        f"          $display(\"SCFPGA MISMATCH %0d {l} %0d %0d spike %b\", s, first_bit(spikes{l}"
        f" ^ m_spk{l}[s * {length} + k]), k, spikes{l});\n"
        f"          $finish;\n        end\n" for l in range(n_layers))
    widest = max(w[f"spikes{l}"] for l in range(n_layers))
    win = ""
    if readout:
        win = (f"  wire [{w['winners'] - 1}:0] winners;\n"
               f"  reg [{w['winners'] - 1}:0] m_win [0:{sample_depth - 1}];\n")
        conn += ", .winners(winners)"
    win_check = (f"      if (winners !== m_win[s]) begin\n"
                 f"        $display(\"SCFPGA MISMATCH %0d {n_layers - 1} -1 {length} winners %b\","
                 f" s, winners);\n        $finish;\n      end\n") if readout else ""
    return f"""`timescale 1ns/1ps
module scfpga_tb;
  integer s, i, k, j, n, maxc, hung;
  reg clk, rst, load, start;
  reg [{w['addr'] - 1}:0] addr;
  reg [{w['data'] - 1}:0] data;
  reg [{w['sel'] - 1}:0] sel;
  wire busy, done, cycle_start;
  wire [{w['k'] - 1}:0] kk;
  wire [{w['count'] - 1}:0] count;
  wire [{w['score'] - 1}:0] score;
{spk}{win}  reg [{w['addr'] - 1}:0] m_waddr [0:{write_depth - 1}];
  reg [{w['data'] - 1}:0] m_wdata [0:{write_depth - 1}];
  reg [31:0] m_wstart [0:{sample_depth}];
  reg [{w['count'] - 1}:0] m_count [0:{sample_depth * n_out - 1}];
  reg [{w['score'] - 1}:0] m_score [0:{sample_depth * n_out - 1}];
  \\{top} dut(.clk(clk), .rst(rst), .load(load), .addr(addr), .data(data), .start(start),
    .sel(sel), .busy(busy), .done(done), .k(kk), .cycle_start(cycle_start), .count(count),
    .score(score), {conn});
  always #{CLOCK_NS // 2} clk = ~clk;

  function integer first_bit(input [{widest - 1}:0] d);
    integer b;
    begin
      first_bit = -1;
      for (b = {widest - 1}; b >= 0; b = b - 1)
        if (d[b]) first_bit = b;
    end
  endfunction

  task wait_or_hang(input integer what);     // 0: a rising cycle_start, 1: busy low
    begin
      fork : w
        begin
          if (what == 0) @(posedge cycle_start);
          else if (busy) wait (!busy);
          disable w;
        end
        begin #(maxc * {CLOCK_NS}); hung = 1; disable w; end
      join
      if (hung) begin
        $display("SCFPGA HANG %0d", s);
        $finish;
      end
      #1;
    end
  endtask

  initial begin
    clk = 0; rst = 1; load = 0; start = 0; addr = 0; data = 0; sel = 0; hung = 0;
    if (!$value$plusargs("samples=%d", n)) n = 0;
    if (!$value$plusargs("max_cycles=%d", maxc)) maxc = 1048576;
    $readmemh("wstart.hex", m_wstart, 0, n);
    $readmemh("waddr.hex", m_waddr, 0, m_wstart[n] - 1);
    $readmemh("wdata.hex", m_wdata, 0, m_wstart[n] - 1);
{''.join(f'    $readmemh("spk{l}.hex", m_spk{l}, 0, n * {length} - 1);' + chr(10) for l in range(n_layers))}\
    $readmemh("count.hex", m_count, 0, n * {n_out} - 1);
    $readmemh("score.hex", m_score, 0, n * {n_out} - 1);
{'    $readmemh("win.hex", m_win, 0, n - 1);' + chr(10) if readout else ''}\
    @(posedge clk); @(posedge clk);
    rst <= 0;
    for (s = 0; s < n; s = s + 1) begin
      @(negedge clk);
      for (i = m_wstart[s]; i < m_wstart[s + 1]; i = i + 1) begin
        load = 1; addr = m_waddr[i]; data = m_wdata[i];
        @(negedge clk);
      end
      load = 0; start = 1;
      @(negedge clk);
      start = 0;
      for (k = 0; k < {length}; k = k + 1) begin
        if (k) wait_or_hang(0);
        if (kk !== k) begin
          $display("SCFPGA MISMATCH %0d -1 -1 %0d k %b", s, k, kk);
          $finish;
        end
{checks}      end
      wait_or_hang(1);
{win_check}      for (j = 0; j < {n_out}; j = j + 1) begin
        @(negedge clk);
        sel = j;
        @(posedge clk);
        #1;
        if (count !== m_count[s * {n_out} + j]) begin
          $display("SCFPGA MISMATCH %0d {n_layers - 1} %0d {length} count %b", s, j, count);
          $finish;
        end
        if (score !== m_score[s * {n_out} + j]) begin
          $display("SCFPGA MISMATCH %0d {n_layers - 1} %0d {length} score %b", s, j, score);
          $finish;
        end
      end
    end
    $display("SCFPGA OK %0d %0d", n, $time / {CLOCK_NS});
    $finish;
  end
endmodule
"""


_HEX = np.frombuffer(b"0123456789abcdef", np.uint8)


def vector_lines(bits):
    """Memory file lines of wide vectors: ``bits`` (rows, n) of 0/1, bit ``i`` of each line's
    value = column ``i``, hexadecimal (any ``n``; :func:`~.runner.hex_lines` stops at 64)."""
    bits = np.asarray(bits, np.uint8)
    rows, n = bits.shape
    digits = -(-n // 4)
    padded = np.zeros((rows, 4 * digits), np.uint8)
    padded[:, :n] = bits
    nibbles = padded.reshape(rows, digits, 4) @ np.array([1, 2, 4, 8], np.uint8)
    text = np.empty((rows, digits + 1), np.uint8)
    text[:, :digits] = _HEX[nibbles[:, ::-1]]
    text[:, digits] = ord("\n")
    return text.tobytes()


def _memories(arrays, lo, hi, n_layers, ports):
    """The memory files of samples ``lo .. hi - 1`` of :func:`~.network.bench_arrays`."""
    start = arrays["writes_start"]
    a, b = start[lo], start[hi]
    mem = {"wstart.hex": hex_lines(start[lo:hi + 1] - a, 32),
           "waddr.hex": hex_lines(arrays["writes_addr"][a:b], ports["addr"][1]),
           "wdata.hex": hex_lines(arrays["writes_data"][a:b], ports["data"][1]),
           "count.hex": hex_lines(arrays["counts"][lo:hi].ravel(), ports["count"][1]),
           "score.hex": hex_lines(arrays["scores"][lo:hi].ravel(), ports["score"][1])}
    for l in range(n_layers):
        spikes = arrays[f"spikes{l}"][lo:hi]                      # (samples, neurons, T)
        mem[f"spk{l}.hex"] = vector_lines(spikes.transpose(0, 2, 1).reshape(-1, spikes.shape[1]))
    if "winners" in arrays:
        mem["win.hex"] = hex_lines(arrays["winners"][lo:hi], ports["winners"][1])
    return mem


def _verdict(stdout, log, arrays, lo, hi, n_layers):
    """A :class:`~.network.NetworkResult` from the testbench's line (samples ``lo .. hi - 1``)."""
    for line in (stdout or "").splitlines():
        if line.startswith("SCFPGA OK"):
            return NetworkResult(True, hi - lo, log=str(log))
        if line.startswith("SCFPGA HANG"):
            return NetworkResult(False, hi - lo, sample=lo + int(line.split()[2]), what="hang",
                                 log=str(log))
        if line.startswith("SCFPGA MISMATCH"):
            _, _, s, layer, neuron, k, what, bits = line.split()
            s, layer, neuron, k = lo + int(s), int(layer), int(neuron), int(k)
            r = NetworkResult(False, hi - lo, sample=s, layer=None if layer < 0 else layer,
                              neuron=None if neuron < 0 else neuron, cycle=k, what=what,
                              log=str(log))
            if what == "spike":
                r.expected = int(arrays[f"spikes{layer}"][s, neuron, k])
                r.actual = 1 - r.expected
            elif what == "k":
                r.expected, r.actual = k, logic_value(bits, False)
            elif what == "winners":
                r.expected, r.actual = int(arrays["winners"][s]), logic_value(bits, False)
            else:
                r.expected = int(arrays[what + "s"][s, neuron])
                r.actual = logic_value(bits, what == "score")
            return r
    return NetworkResult(False, hi - lo, log=str(log))


def cosim_network_hdl(params, inputs, build_root=None, simulator="icarus", workers=1,
                      chunk=CHUNK, reloads=None, verilog_text=None, top=TOP, progress=None):
    """Prove ``params`` on ``inputs`` as :func:`~.network.cosim_network` does, in the generated
    testbench: a :class:`~.network.NetworkResult` (``samples``: all of them; on a mismatch the
    first failing chunk's first difference, with its sample index in ``inputs``).

    Parameters
    ----------
    inputs : array_like
        Integer thresholds (samples, inputs), or rasters (samples, inputs, T) for a raster
        design (:func:`~.network.check_inputs`).
    simulator : str
        ``icarus`` or ``verilator`` (``--binary``; compiles once per design, then much faster).
    workers : int
        Chunks simulated at a time (one simulator process each).
    chunk : int
        Samples per simulation; the testbench's memories are sized for it, so a design compiles
        once for any number of samples.
    progress : callable, optional
        Called with ``(lo, hi, result)`` after each chunk.
    """
    text = verilog_text if verilog_text is not None else network_verilog(params)
    arrays = bench_arrays(params, inputs, reloads)
    n = len(arrays["counts"])
    n_layers = len(params.layers)
    readout = "winners" in arrays
    ports = top_ports(text, top)
    writes = np.diff(arrays["writes_start"])
    bounds = list(range(0, n, chunk)) + [n]
    write_depth = memory_depth(max(int(writes[a:b].sum()) for a, b in zip(bounds, bounds[1:])))
    tb = network_testbench(top, ports, n_layers, params.length, params.layers[-1].n_neurons,
                           write_depth, chunk, readout)
    max_cycles = int(arrays["run_clocks"]) + 64

    def one(lo, hi):
        stdout, log = run_hdl_tb(text, top, tb, _memories(arrays, lo, hi, n_layers, ports),
                                 {"samples": hi - lo, "max_cycles": max_cycles}, build_root,
                                 kind="nettb", simulator=simulator)
        r = _verdict(stdout, log, arrays, lo, hi, n_layers)
        if progress is not None:
            progress(lo, hi, r)
        return r

    results = run_chunks(one, list(zip(bounds, bounds[1:])), workers)
    for r in results:
        if not r.ok:
            r.samples = n
            return r
    return NetworkResult(True, n, log=results[0].log)
