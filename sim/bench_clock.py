"""Clock and reset of the cocotb benches that drive whole runs (network, STDP)."""
import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles


async def start_clock_and_reset(dut, ports):
    """Start ``dut.clk`` (10 ns) and hold ``dut.rst`` for two cycles with ``ports`` at 0.

    The clock is cocotb's C clock (no Python per edge) and starts low, so the first rising edge
    is half a period in: benches change inputs on falling edges only, away from the rising
    edges the design samples, and the scheduling of the clock cannot race them.
    """
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns", impl="gpi").start(start_high=False))
    dut.rst.value = 1
    for port in ports:
        getattr(dut, port).value = 0
    await ClockCycles(dut.clk, 2)
    dut.rst.value = 0
