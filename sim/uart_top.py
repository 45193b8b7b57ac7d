"""cocotb bench of the board core: a UART host model plays a script of byte frames.

The DUT is :class:`scfpga.boards.top.BoardCore` (ports ``clk``, ``rst``, ``uart_rx``,
``uart_tx``, ``led_heartbeat``, ``led_busy``) or its post-synthesis netlist. The script
(``SCFPGA_UART_SCRIPT``, JSON) lists steps; for each the bench sends bytes on ``uart_rx`` at
``bit_cycles`` clock cycles per bit (optionally with a 0 stop bit on chosen bytes, to make a
framing error), then collects the reply frame from ``uart_tx``. It asserts nothing about the
contents: it writes what it saw to ``SCFPGA_UART_RESULT`` and the caller compares that with
the protocol module and the golden model. :func:`run_uart_session` builds and runs it.

Step keys: ``send`` (hex string), ``bad_stop`` (indices of bytes sent with a 0 stop bit),
``reply`` (wait for a reply frame; default true), ``wait_bits`` (give up after this many bit
times without a complete reply), ``idle_bits`` (line idle before the step).
Result: ``replies`` (hex string per step, "" if none came, partial bytes otherwise),
``reply_bits`` (bit times from the end of the request to the end of the reply),
``tx_bad_stop`` (reply bytes whose stop bit was 0), ``heartbeat_toggles``, ``busy_pulses``.
"""
import hashlib
import json
import os
from pathlib import Path

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import Edge, FallingEdge, RisingEdge, Timer

from ..boards.protocol import REPLY_HEADER, reply_size
from .runner import default_build_root, require_icarus

CLOCK_NS = 10


async def _send_byte(dut, byte, bit_ns, stop=1):
    for level in [0] + [(byte >> i) & 1 for i in range(8)] + [stop]:
        dut.uart_rx.value = level
        await Timer(bit_ns, unit="ns")
    dut.uart_rx.value = 1


async def _receive(dut, bit_ns, received):
    """Decode every byte on uart_tx into ``received`` as (byte, stop bit)."""
    while True:
        await FallingEdge(dut.uart_tx)
        await Timer(bit_ns * 3 // 2, unit="ns")          # centre of data bit 0
        byte = 0
        for i in range(8):
            byte |= int(dut.uart_tx.value) << i
            await Timer(bit_ns, unit="ns")
        received.append((byte, int(dut.uart_tx.value)))


async def _count_edges(signal, counter, key, rising_only=False):
    while True:
        await (RisingEdge(signal) if rising_only else Edge(signal))
        counter[key] += 1


def _complete(frame):
    return len(frame) >= REPLY_HEADER and len(frame) >= reply_size(frame)


@cocotb.test()
async def play_script(dut):
    script = json.loads(Path(os.environ["SCFPGA_UART_SCRIPT"]).read_text())
    bit_ns = script["bit_cycles"] * CLOCK_NS
    cocotb.start_soon(Clock(dut.clk, CLOCK_NS, unit="ns").start())
    dut.uart_rx.value = 1
    dut.rst.value = 1
    for _ in range(4):
        await RisingEdge(dut.clk)
    dut.rst.value = 0
    received = []
    counts = {"heartbeat_toggles": 0, "busy_pulses": 0}
    cocotb.start_soon(_receive(dut, bit_ns, received))
    cocotb.start_soon(_count_edges(dut.led_heartbeat, counts, "heartbeat_toggles"))
    cocotb.start_soon(_count_edges(dut.led_busy, counts, "busy_pulses", rising_only=True))
    replies, reply_bits, bad_stops = [], [], 0
    for step in script["steps"]:
        if step.get("idle_bits"):
            await Timer(step["idle_bits"] * bit_ns, unit="ns")
        start = len(received)
        data = bytes.fromhex(step.get("send", ""))
        bad = set(step.get("bad_stop", ()))
        for i, byte in enumerate(data):
            await _send_byte(dut, byte, bit_ns, stop=0 if i in bad else 1)
        waited = 0
        if step.get("reply", True):
            while not _complete(bytes(b for b, _ in received[start:])) and waited < step["wait_bits"]:
                await Timer(bit_ns, unit="ns")
                waited += 1
            # The stop bit of the last byte is sampled half a bit after its data bits.
            await Timer(bit_ns, unit="ns")
        frame = received[start:]
        replies.append(bytes(b for b, _ in frame).hex())
        reply_bits.append(waited)
        bad_stops += sum(1 for _, stop in frame if stop != 1)
    result = {"replies": replies, "reply_bits": reply_bits, "tx_bad_stop": bad_stops, **counts}
    Path(os.environ["SCFPGA_UART_RESULT"]).write_text(json.dumps(result))


def run_uart_session(verilog_text, top, steps, bit_cycles, build_root=None, extra_sources=(),
                     defines=None):
    """Simulate ``verilog_text`` (a board core, top module ``top``) playing ``steps``.

    Returns the bench's result dict (see the module docstring). Each distinct design and
    script gets its own build directory (a content hash).
    """
    require_icarus()
    from cocotb_tools.runner import get_runner

    script = {"bit_cycles": bit_cycles, "steps": steps}
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
    runner = get_runner("icarus")
    runner.build(sources=[source, *extra_sources], defines=defines, hdl_toplevel=top,
                 build_dir=work, always=True, timescale=("1ns", "1ps"),
                 log_file=work / "build.log")
    try:
        runner.test(hdl_toplevel=top, test_module="scfpga.sim.uart_top", build_dir=work,
                    test_dir=work, results_xml=str(work / "results.xml"), log_file=work / "sim.log",
                    extra_env={"SCFPGA_UART_SCRIPT": str(script_file),
                               "SCFPGA_UART_RESULT": str(result_file)})
    except SystemExit:
        pass                      # the runner exits on failure under pytest; no result says why
    if not result_file.exists():
        raise RuntimeError(f"the UART bench did not finish; see {work / 'sim.log'}")
    return json.loads(result_file.read_text())
