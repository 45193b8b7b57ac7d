"""The cocotb test that proves the learning layer (:class:`scfpga.hdl.stdp.STDPLayer`) epoch
by epoch, with optional transient faults injected into its weight RAM and membranes.

Per epoch: write the rates, pulse ``start``; for every injected fault wait (one trigger) until
its clock and flip the bit in the simulator (the weight RAM word ``weights[addr]`` or the
membrane register ``v<j>``); wait for ``busy`` to fall; read every result (all weights, then
the spike counts) through the result port and compare with the golden model. The first
difference is written as JSON to ``SCFPGA_RESULT``.

Inputs (``.npz`` at ``SCFPGA_BENCH``): ``rates`` (epochs, inputs), ``expected`` (epochs,
results), ``run_clocks``, ``flips`` (rows ``epoch, clock, kind (0 weight, 1 v), index, bit``)
and ``stuck`` (rows ``word, and_mask, or_mask``: weight RAM words whose stuck bits the bench
holds from reset on, re-asserted between every two clock edges, so the fault-free RTL behaves
as a memory with stuck cells).
"""
import os

import cocotb
import numpy as np
from cocotb.triggers import ClockCycles, FallingEdge, ReadOnly, RisingEdge, with_timeout

from .bench_clock import start_clock_and_reset
from .verdict import write_verdict


def _hold(dut, stuck):
    """Stuck cells: every held word shows ``(word & and_mask) | or_mask``, whatever was written."""
    for index, and_mask, or_mask in stuck:
        handle = dut.weights[index]
        old = int(handle.value.to_unsigned())
        if (old & and_mask) | or_mask != old:
            handle.value = (old & and_mask) | or_mask


def _flip(dut, kind, index, bit):
    handle = dut.weights[index] if kind == 0 else getattr(dut, f"v{index}")
    handle.value = int(handle.value.to_unsigned()) ^ (1 << bit)


@cocotb.test()
async def stdp_matches_model(dut):
    data = np.load(os.environ["SCFPGA_BENCH"])
    rates, expected = data["rates"].tolist(), data["expected"].tolist()
    run_clocks = int(data["run_clocks"])
    flips = [tuple(int(x) for x in row) for row in data["flips"].reshape(-1, 5)]
    await start_clock_and_reset(dut, ("load_addr", "load_data", "load_we", "start", "result_addr"))
    stuck = [tuple(int(x) for x in row) for row in data["stuck"].reshape(-1, 3)] \
        if "stuck" in data else []
    await FallingEdge(dut.clk)
    _hold(dut, stuck)                              # the cells are stuck from power-up

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
        mine = sorted(f for f in flips if f[0] == e)
        if stuck:
            # Between every two edges: this clock's flips, then the stuck bits held again
            # (a write at the last edge cannot have changed them).
            while True:
                for _, at, kind, index, bit in (f for f in mine if f[1] == clock):
                    _flip(dut, kind, index, bit)
                _hold(dut, stuck)
                if not int(dut.busy.value) or clock > run_clocks + 1:
                    break
                await FallingEdge(dut.clk)
                clock += 1
        for _, at, kind, index, bit in ([] if stuck else mine):
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
