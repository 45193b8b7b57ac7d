"""The cocotb test that proves the learning layer (:class:`scfpga.hdl.stdp.STDPLayer`) epoch
by epoch, with optional transient faults injected into its weight RAM and membranes.

Per epoch: write the rates, pulse ``start``; for every injected fault wait (one trigger) until
its clock and flip the bit in the simulator (the weight RAM word ``weights[addr]`` or the
membrane register ``v<j>``); wait for ``busy`` to fall; read every result (all weights, then
the spike counts) through the result port and compare with the golden model. The first
difference is written as JSON to ``SCFPGA_RESULT``.

Inputs (``.npz`` at ``SCFPGA_BENCH``): ``rates`` (epochs, inputs), ``expected`` (epochs,
results), ``run_clocks``, ``flips`` (rows ``epoch, clock, kind (0 weight, 1 v), index, bit``).
"""
import os

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge, ReadOnly, RisingEdge, with_timeout

from .verdict import write_verdict


def _flip(dut, kind, index, bit):
    handle = dut.weights[index] if kind == 0 else getattr(dut, f"v{index}")
    handle.value = int(handle.value.to_unsigned()) ^ (1 << bit)


@cocotb.test()
async def stdp_matches_model(dut):
    data = np.load(os.environ["SCFPGA_BENCH"])
    rates, expected = data["rates"].tolist(), data["expected"].tolist()
    run_clocks = int(data["run_clocks"])
    flips = [tuple(int(x) for x in row) for row in data["flips"].reshape(-1, 5)]
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns", impl="gpi").start(start_high=False))
    dut.rst.value = 1
    for port in ("load_addr", "load_data", "load_we", "start", "result_addr"):
        getattr(dut, port).value = 0
    await ClockCycles(dut.clk, 2)
    dut.rst.value = 0

    def fail(**what):
        write_verdict({"ok": False, "epochs": len(rates), **what})
        assert False, str(what)

    for e, (sample, want) in enumerate(zip(rates, expected)):
        await FallingEdge(dut.clk)
        for i, r in enumerate(sample):
            dut.load_addr.value, dut.load_data.value, dut.load_we.value = i, r, 1
            await FallingEdge(dut.clk)
        dut.load_we.value, dut.start.value = 0, 1
        await FallingEdge(dut.clk)                 # the start edge has passed: busy clock 0
        dut.start.value = 0
        clock = 0
        for _, at, kind, index, bit in sorted(f for f in flips if f[0] == e):
            if at > clock:
                await ClockCycles(dut.clk, at - clock, rising=False)
                clock = at
            _flip(dut, kind, index, bit)
        if int(dut.busy.value):
            await with_timeout(FallingEdge(dut.busy), run_clocks * 10 + 100, "ns")
        for r, w in enumerate(want):
            await FallingEdge(dut.clk)
            dut.result_addr.value = r
            await RisingEdge(dut.clk)
            await ReadOnly()
            try:
                got = int(dut.result_data.value)
            except ValueError:            # X or Z: report the raw logic string
                got = str(dut.result_data.value)
            if got != w:
                fail(epoch=e, result=r, expected=w, actual=got)
    write_verdict({"ok": True, "epochs": len(rates)})
