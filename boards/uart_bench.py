"""cocotb bench of a board: a UART host model plays a script of byte frames.

The DUT has ports ``uart_rx``, ``uart_tx``, ``led_heartbeat``, ``led_busy``, a clock and
optionally a reset: :class:`scfpga.boards.top.BoardCore` (``clk``, ``rst``), its
post-synthesis netlist, or the whole :class:`scfpga.boards.top.BoardTop` (``clk_in`` from the
oscillator, no reset port) with :data:`PLL_SIM_MODEL` standing in for the iCE40 PLL. The
script (``SCFPGA_UART_SCRIPT``, JSON) lists steps; for each the bench sends bytes on
``uart_rx``, ``bit_ns`` per bit (optionally with a 0 stop bit on chosen bytes, to make a
framing error), then collects the reply frame from ``uart_tx``. It asserts nothing about the
contents: it writes what it saw to ``SCFPGA_UART_RESULT`` and the caller compares that with
the protocol module and the golden model. :func:`run_uart_session` builds and runs it.

Step keys: ``send`` (hex string), ``bad_stop`` (indices of bytes sent with a 0 stop bit),
``reply`` (wait for a reply frame; default true), ``frames`` (reply frames to wait for;
default 1), ``wait_bits`` (give up after this many bit times without them), ``idle_bits``
(line idle before the step), and for a BATCH stream ``chunks`` (hex strings sent after
``send``) with ``window``: chunk k goes out once ``k - window + 1`` frames have come back,
as the host driver paces samples.
Result: ``replies`` (hex string per step, "" if none came, partial bytes otherwise),
``reply_bits`` (bit times from the end of the request to the end of the reply),
``step_ns`` (simulated time from a step's first byte to its last reply byte), ``frame_ns``
(per step, the time each reply frame was complete, from the step's first byte),
``tx_bad_stop`` (reply bytes whose stop bit was 0), ``heartbeat_toggles``, ``busy_pulses``.
"""
import hashlib
import json
import os
from pathlib import Path

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, RisingEdge, Timer
from cocotb.utils import get_sim_time

from ..sim.runner import default_build_root, require_icarus
from ..sim.processes import isolate_runner
from .protocol import REPLY_HEADER, reply_size

# Behavioural stand-ins for the iCE40 PLL primitives (Yosys's cells_sim.v has empty ones):
# f_out = f_in * (DIVF + 1) / ((DIVR + 1) * 2**DIVQ), measured from the first input cycles;
# LOCK rises after 16 input cycles.
PLL_SIM_MODEL = """
`timescale 1ns/1ps
module scfpga_pll_model #(parameter [3:0] DIVR = 0, parameter [6:0] DIVF = 0,
                          parameter [2:0] DIVQ = 1) (input ref_clk, output reg clk_out, output reg lock);
  real t_last, t_in, half;
  integer seen;
  initial begin clk_out = 0; lock = 0; seen = 0; t_in = 0; end
  always @(posedge ref_clk) begin
    if (seen > 0) t_in = $realtime - t_last;
    t_last = $realtime;
    seen = seen + 1;
    if (seen == 16) lock = 1;
  end
  always begin
    if (t_in == 0) #1;
    else begin
      half = t_in * (DIVR + 1) * (1 << DIVQ) / (DIVF + 1) / 2.0;
      #(half) clk_out = ~clk_out;
    end
  end
endmodule
module SB_PLL40_PAD (input PACKAGEPIN, output PLLOUTCORE, output PLLOUTGLOBAL, output LOCK,
                     input RESETB, input BYPASS);
  parameter FEEDBACK_PATH = "SIMPLE";
  parameter [3:0] DIVR = 0; parameter [6:0] DIVF = 0; parameter [2:0] DIVQ = 1;
  parameter [2:0] FILTER_RANGE = 0;
  wire c;
  scfpga_pll_model #(DIVR, DIVF, DIVQ) m(PACKAGEPIN, c, LOCK);
  assign PLLOUTCORE = c, PLLOUTGLOBAL = c;
endmodule
module SB_PLL40_CORE (input REFERENCECLK, output PLLOUTCORE, output PLLOUTGLOBAL, output LOCK,
                      input RESETB, input BYPASS);
  parameter FEEDBACK_PATH = "SIMPLE";
  parameter [3:0] DIVR = 0; parameter [6:0] DIVF = 0; parameter [2:0] DIVQ = 1;
  parameter [2:0] FILTER_RANGE = 0;
  wire c;
  scfpga_pll_model #(DIVR, DIVF, DIVQ) m(REFERENCECLK, c, LOCK);
  assign PLLOUTCORE = c, PLLOUTGLOBAL = c;
endmodule
"""


async def _send_byte(dut, byte, bit_ns, stop=1):
    for level in [0] + [(byte >> i) & 1 for i in range(8)] + [stop]:
        dut.uart_rx.value = level
        await Timer(bit_ns, unit="ns")
    dut.uart_rx.value = 1


async def _receive(dut, bit_ns, received):
    """Decode every byte on uart_tx into ``received`` as (byte, stop bit)."""
    while True:
        await FallingEdge(dut.uart_tx)
        await Timer(round(bit_ns * 1.5, 3), unit="ns")     # centre of data bit 0
        byte = 0
        for i in range(8):
            byte |= int(dut.uart_tx.value) << i
            await Timer(bit_ns, unit="ns")
        received.append((byte, int(dut.uart_tx.value)))


async def _count_edges(signal, counter, key, rising_only=False):
    while True:
        await (RisingEdge(signal) if rising_only else signal.value_change)
        counter[key] += 1


def _frames(data):
    """Complete reply frames at the start of ``data``."""
    n = 0
    while len(data) >= REPLY_HEADER and len(data) >= reply_size(data):
        data, n = data[reply_size(data):], n + 1
    return n


async def _send_chunks(dut, chunks, window, bit_ns, received, start):
    for k, chunk in enumerate(chunks):
        while _frames(bytes(b for b, _ in received[start:])) < k - window + 1:
            await Timer(bit_ns, unit="ns")
        for byte in bytes.fromhex(chunk):
            await _send_byte(dut, byte, bit_ns)


@cocotb.test()
async def play_script(dut):
    script = json.loads(Path(os.environ["SCFPGA_UART_SCRIPT"]).read_text())
    bit_ns = round(script["bit_ns"], 3)
    clock = getattr(dut, script["clock_port"])
    period_ps = 2 * round(script["clock_ns"] * 500)        # whole, even picoseconds
    cocotb.start_soon(Clock(clock, period_ps, unit="ps").start())
    dut.uart_rx.value = 1
    if script["reset_port"]:
        reset = getattr(dut, script["reset_port"])
        reset.value = 1
        for _ in range(4):
            await RisingEdge(clock)
        reset.value = 0
    await Timer(round(script["settle_ns"] + 1), unit="ns")
    received = []
    counts = {"heartbeat_toggles": 0, "busy_pulses": 0}
    cocotb.start_soon(_receive(dut, bit_ns, received))
    cocotb.start_soon(_count_edges(dut.led_heartbeat, counts, "heartbeat_toggles"))
    cocotb.start_soon(_count_edges(dut.led_busy, counts, "busy_pulses", rising_only=True))
    replies, reply_bits, step_ns, frame_ns, bad_stops = [], [], [], [], 0
    for step in script["steps"]:
        if step.get("idle_bits"):
            await Timer(round(step["idle_bits"] * bit_ns, 3), unit="ns")
        start = len(received)
        t0 = get_sim_time("ns")
        data = bytes.fromhex(step.get("send", ""))
        bad = set(step.get("bad_stop", ()))
        for i, byte in enumerate(data):
            await _send_byte(dut, byte, bit_ns, stop=0 if i in bad else 1)
        if step.get("chunks"):
            # The pacing waits on replies, so it runs beside the wait below.
            cocotb.start_soon(_send_chunks(dut, step["chunks"], step.get("window", 1), bit_ns,
                                           received, start))
        waited, frames, times = 0, step.get("frames", 1), []
        if step.get("reply", True):
            while (seen := _frames(bytes(b for b, _ in received[start:]))) < frames and \
                    waited < step["wait_bits"]:
                times += [get_sim_time("ns") - t0] * (seen - len(times))
                await Timer(bit_ns, unit="ns")
                waited += 1
            times += [get_sim_time("ns") - t0] * (seen - len(times))
            # The stop bit of the last byte is sampled half a bit after its data bits.
            await Timer(bit_ns, unit="ns")
        step_ns.append(get_sim_time("ns") - t0)
        frame_ns.append(times)
        frame = received[start:]
        replies.append(bytes(b for b, _ in frame).hex())
        reply_bits.append(waited)
        bad_stops += sum(1 for _, stop in frame if stop != 1)
    result = {"replies": replies, "reply_bits": reply_bits, "step_ns": step_ns,
              "frame_ns": frame_ns,
              "tx_bad_stop": bad_stops, **counts}
    Path(os.environ["SCFPGA_UART_RESULT"]).write_text(json.dumps(result))


def run_uart_session(verilog_text, top, steps, bit_ns, clock_port="clk", clock_ns=10,
                     reset_port="rst", settle_ns=0, build_root=None, extra_sources=(),
                     defines=None):
    """Simulate ``verilog_text`` (top module ``top``) playing ``steps`` over its UART.

    Parameters
    ----------
    bit_ns : float
        UART bit time of the host model.
    clock_port, clock_ns : the clock the bench drives, and its period.
    reset_port : str or None
        Held high for the first four clock cycles (None: the DUT resets itself).
    settle_ns : float
        Idle time before the first step (e.g. for a PLL to lock and a reset to end).
    extra_sources, defines :
        Further Verilog (cell models, :data:`PLL_SIM_MODEL` written to a file) and defines.

    Returns the bench's result dict (see the module docstring). Each distinct design and
    script gets its own build directory (a content hash).
    """
    require_icarus()
    from cocotb_tools.runner import get_runner

    script = {"bit_ns": bit_ns, "clock_port": clock_port, "clock_ns": clock_ns,
              "reset_port": reset_port, "settle_ns": settle_ns, "steps": steps}
    extra_sources = [Path(p).resolve() for p in extra_sources]
    defines = dict(defines or {})
    digest = hashlib.sha1(verilog_text.encode())
    digest.update(json.dumps([script, list(map(str, extra_sources)), sorted(defines.items())],
                             sort_keys=True).encode())
    work = Path(build_root or default_build_root()) / f"uart-{top}-{digest.hexdigest()[:12]}"
    work.mkdir(parents=True, exist_ok=True)
    source = work / f"{top}.v"
    source.write_text(verilog_text)
    script_file, result_file = work / "script.json", work / "result.json"
    script_file.write_text(json.dumps(script))
    if result_file.exists():
        result_file.unlink()
    runner = isolate_runner(get_runner("icarus"))      # iverilog and vvp end with scfpga
    runner.build(sources=[source, *extra_sources], defines=defines, hdl_toplevel=top,
                 build_dir=work, always=True, timescale=("1ns", "1ps"),
                 log_file=work / "build.log")
    try:
        runner.test(hdl_toplevel=top, test_module="scfpga.boards.uart_bench", build_dir=work,
                    test_dir=work, results_xml=str(work / "results.xml"), log_file=work / "sim.log",
                    extra_env={"SCFPGA_UART_SCRIPT": str(script_file),
                               "SCFPGA_UART_RESULT": str(result_file)})
    except SystemExit:
        pass                      # the runner exits on failure under pytest; no result says why
    if not result_file.exists():
        raise RuntimeError(f"the UART bench did not finish; see {work / 'sim.log'}")
    return json.loads(result_file.read_text())
