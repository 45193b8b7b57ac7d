"""Clocks of every SC cycle of one network run, read from the RTL in Amaranth's simulator.

With event-driven layers an SC cycle lasts as long as its slowest layer needs for the spikes it
receives, so the length varies with activity; this measures it from the design itself (the
clocks between ``cycle_start`` pulses) for scripts and tests to compare with the cost model.
"""
from amaranth.sim import Simulator

from ..hdl.network import Network as NetworkDesign, load_map
from ..hdl.network_loads import input_writes


def rtl_cycle_clocks(params, thresholds):
    """Clocks of every SC cycle of one run of ``params`` on ``thresholds``.

    Parameters
    ----------
    params : scfpga.model.network.NetworkParams
        The network; its RTL is :class:`scfpga.hdl.network.Network`.
    thresholds : array_like
        One sample's input thresholds (``Network(params).thresholds(x)[0]``).

    Returns
    -------
    list of int
        ``params.length`` entries: the clocks from each SC cycle's ``cycle_start`` to the next
        (the last one to the end of ``busy``).
    """
    dut = NetworkDesign(params)
    words = input_writes(load_map(params), thresholds)
    got = []

    async def bench(ctx):
        await ctx.tick().repeat(2)
        for a, w in enumerate(words):
            ctx.set(dut.load, 1)
            ctx.set(dut.addr, a)
            ctx.set(dut.data, int(w))
            await ctx.tick()
        ctx.set(dut.load, 0)
        ctx.set(dut.start, 1)
        await ctx.tick()
        ctx.set(dut.start, 0)
        t, last = 0, None
        while ctx.get(dut.busy):
            if ctx.get(dut.cycle_start):
                if last is not None:
                    got.append(t - last)
                last = t
            await ctx.tick()
            t += 1
        got.append(t - last)

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return got
