"""The cocotb test that drives a runnable design (:mod:`scfpga.boards.runnable`) run by run.

Per sample it writes every load word, pulses ``start``, waits for ``busy`` to fall (one trigger,
no Python per cycle: the simulator runs the L cycles on its own) and reads every result. The
first result that differs from the golden model's is written as JSON to ``SCFPGA_RESULT``.
Inputs come from an ``.npz`` (``SCFPGA_BENCH``): ``loads`` (samples, n_loads), ``expected``
(samples, n_results), ``latency`` and ``max_cycles`` (a run longer than that is a hang).
"""
import os

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge, RisingEdge, Timer, with_timeout

from .verdict import write_verdict


@cocotb.test()
async def runs_match_model(dut):
    data = np.load(os.environ["SCFPGA_BENCH"])
    loads, expected = data["loads"].tolist(), data["expected"].tolist()
    latency, max_cycles = int(data["latency"]), int(data["max_cycles"])
    signed = [bool(x) for x in data["signed"]]
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.rst.value = 1
    for port in ("load_addr", "load_data", "load_we", "start", "result_addr"):
        getattr(dut, port).value = 0
    await ClockCycles(dut.clk, 2)
    dut.rst.value = 0
    for s, (sample_loads, sample_expected) in enumerate(zip(loads, expected)):
        for addr, word in enumerate(sample_loads):
            dut.load_addr.value, dut.load_data.value, dut.load_we.value = addr, word, 1
            await RisingEdge(dut.clk)
        dut.load_we.value, dut.start.value = 0, 1
        await RisingEdge(dut.clk)
        dut.start.value = 0
        await RisingEdge(dut.clk)                 # busy rises the cycle after start
        if int(dut.busy.value):
            await with_timeout(FallingEdge(dut.busy), max_cycles * 10, "ns")
        await FallingEdge(dut.clk)
        for r, want in enumerate(sample_expected):
            dut.result_addr.value = r
            if latency:
                await ClockCycles(dut.clk, latency)
                await FallingEdge(dut.clk)
            else:
                await Timer(1, unit="ns")
            value = dut.result_data.value
            got = value.to_signed() if signed[r] else value.to_unsigned()
            if got != want:
                write_verdict({"ok": False, "sample": s, "result": r, "expected": want, "actual": got,
                        "samples": len(loads)})
                assert False, f"sample {s} result {r}: expected {want}, got {got}"
        await RisingEdge(dut.clk)
    write_verdict({"ok": True, "samples": len(loads)})
