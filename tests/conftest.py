"""Shared helpers: run a block's bench case under Amaranth's simulator or under cocotb."""
import zlib

import numpy as np
import pytest
from amaranth.sim import Simulator

from scfpga.hdl import component, to_verilog
from scfpga.sim import cosim
from scfpga.sim.ops import bench


def amaranth_check(params, bench, cycles=300, seed=0):
    """Drive the component with the bench's stimulus in Amaranth's simulator; assert every cycle.

    The quick in-process check: no Verilog, no Icarus. Cycle k's inputs are set, the outputs
    compared, then one clock edge closes cycle k (same schedule as the cocotb bench).
    """
    dut = component(params)
    stim, expected = bench.make_case(params, cycles, np.random.default_rng(seed))
    signed = set(getattr(bench, "SIGNED_PORTS", ()))
    clocked = any(port in ("en",) for port in stim)
    sim = Simulator(dut)
    if clocked:
        sim.add_clock(1e-6)
    mismatches = []

    async def testbench(ctx):
        for k in range(cycles):
            for port, values in stim.items():
                ctx.set(getattr(dut, port), int(values[k]))
            for port, values in expected.items():
                got = ctx.get(getattr(dut, port))
                if got != int(values[k]):
                    mismatches.append((k, port, int(values[k]), got))
                    return
            if clocked:
                await ctx.tick()
            else:
                await ctx.delay(1e-6)

    sim.add_testbench(testbench)
    sim.run()
    assert not mismatches, "first mismatch (cycle, port, expected, actual): %r" % (mismatches[0],)


def cosim_check(block_name, params, cycles, seed):
    """Co-simulate the generated Verilog under cocotb+Icarus; fail with the first mismatch."""
    b = bench(params)
    stim, expected = b.make_case(params, cycles, np.random.default_rng(seed))
    result = cosim(to_verilog(params, block_name), block_name, stim, expected, b.signed_ports)
    assert result.ok, f"{block_name} {params}: {result.describe()}"
    return result


@pytest.fixture
def rng(request):
    return np.random.default_rng(zlib.crc32(request.node.name.encode()))
