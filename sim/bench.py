"""The cocotb test that compares any DUT with golden-model arrays, cycle by cycle.

The runner hands over an ``.npz`` file (``SCFPGA_BENCH``) holding, per cycle, the value of every
input port (``in_<port>``) and the expected value of every checked output (``out_<port>``).
After a two-cycle reset the test drives cycle k's inputs just after the rising edge that opens
it, samples the outputs at the falling edge in its middle, and stops at the first mismatch,
which it writes as JSON to ``SCFPGA_RESULT`` (cycle, port, expected, actual).
"""
import os

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, RisingEdge, Timer

from .verdict import write_verdict


def _handle(dut, port):
    return getattr(dut, port)


@cocotb.test()
async def compare_with_model(dut):
    data = np.load(os.environ["SCFPGA_BENCH"])
    ins = {k[3:]: data[k] for k in data.files if k.startswith("in_")}
    outs = {k[4:]: data[k] for k in data.files if k.startswith("out_")}
    signed = set(str(x) for x in data["signed"]) if "signed" in data.files else set()
    cycles = len(next(iter(outs.values())))
    in_handles = {p: _handle(dut, p) for p in ins}
    out_handles = {p: _handle(dut, p) for p in outs}
    in_lists = {p: [int(x) for x in a] for p, a in ins.items()}
    out_lists = {p: [int(x) for x in a] for p, a in outs.items()}
    clocked = hasattr(dut, "clk")

    def read(port):
        value = out_handles[port].value
        try:
            return value.to_signed() if port in signed else int(value)
        except ValueError:            # X or Z: report the raw logic string as the actual value
            return str(value)

    if clocked:
        cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
        dut.rst.value = 1
        for p, h in in_handles.items():
            h.value = 0
        await RisingEdge(dut.clk)
        await RisingEdge(dut.clk)
        dut.rst.value = 0
    for k in range(cycles):
        for p, h in in_handles.items():
            h.value = in_lists[p][k]
        if clocked:
            await FallingEdge(dut.clk)
        else:
            await Timer(5, unit="ns")
        for p in out_handles:
            actual = read(p)
            if actual != out_lists[p][k]:
                result = {"ok": False, "cycle": k, "port": p,
                          "expected": out_lists[p][k], "actual": actual, "cycles": cycles}
                write_verdict(result)
                assert False, f"cycle {k}: {p} expected {out_lists[p][k]}, got {actual}"
        if clocked:
            await RisingEdge(dut.clk)
        else:
            await Timer(5, unit="ns")
    write_verdict({"ok": True, "cycles": cycles})
