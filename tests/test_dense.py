"""Dense layer RTL: bit for bit against the golden model, in Amaranth's simulator and in Icarus."""
import dataclasses

import numpy as np
import pytest
from amaranth.sim import Simulator

from scfpga.hdl import component, to_verilog
from scfpga.hdl.dense import Dense, lfsr_leap_columns
from scfpga.model import LFSRParams, ParameterError
from scfpga.model.dense import DenseParams
from scfpga.sim import cosim
from scfpga.sim import dense as bench


def amaranth_check(case, dut=None):
    """Play a bench case in Amaranth's simulator; the first mismatch as a CosimResult-like."""
    dut = dut or Dense(case.params, case.lanes)
    sim = Simulator(dut)
    sim.add_clock(1e-6)
    found = []
    clocks = len(case.stimulus["en"])

    async def testbench(ctx):
        for c in range(clocks):
            for port, values in case.stimulus.items():
                ctx.set(getattr(dut, port), int(values[c]))
            for port, values in case.expected.items():
                got = ctx.get(getattr(dut, port))
                if got != int(values[c]):
                    found.append((c, port, int(values[c]), got))
                    return
            await ctx.tick()

    sim.add_testbench(testbench)
    sim.run()
    ok = not found
    c, port, want, got = found[0] if found else (None,) * 4
    return type("Result", (), dict(ok=ok, cycles=clocks, cycle=c, port=port, expected=want,
                                   actual=got, log="(amaranth)"))()


WEIGHTS = np.array([[0.5, -0.25, 1.0, -1.0, 0.0], [-1.0, 0.75, 0.1, 0.3, -0.6],
                    [0.9, 0.9, -0.9, 0.2, 0.4]])


@pytest.mark.parametrize("kwargs, lanes", [
    ({}, 1), ({"source": "lfsr", "lfsr_width": 8}, 2), ({"accumulation": "mux"}, 4),
    ({"bias": [0.3, -0.6, 1.0], "source": "lfsr", "accumulation": "mux", "lfsr_width": 8}, 1),
    ({"bias": [0.3, -0.6, 1.0]}, 2),
])
def test_amaranth_sim_matches_model(kwargs, lanes):
    kwargs = dict(kwargs)
    params = DenseParams.from_float(WEIGHTS, kwargs.pop("bias", None), width=4, length=20,
                                    **kwargs)
    case = bench.make_runs(params, np.random.default_rng(lanes), lanes=lanes)
    r = amaranth_check(case)
    assert r.ok, case.explain(r)


def test_bench_catches_a_layer_built_with_other_streams():
    """Negative control: the same layer with another seed must mismatch."""
    params = DenseParams.from_float(WEIGHTS, width=4, length=16)
    case = bench.make_runs(params, np.random.default_rng(0))
    r = amaranth_check(case, Dense(dataclasses.replace(params, seed=1)))
    assert not r.ok and r.port in ("score", "spike", "count")
    assert "neuron" in case.explain(r) and "SC cycle" in case.explain(r)


def test_generator_interface():
    params = DenseParams.from_float(WEIGHTS, width=6, length=64)
    dut = component(params)
    assert isinstance(dut, Dense) and dut.lanes == 1 and dut.steps == 5
    assert set(dut.signature.members) == set(bench.INPUT_PORTS + bench.OUTPUT_PORTS)
    assert "input-serial, neuron-parallel" in dut.describe()
    assert dut.clocks_per_run == 64 * 5 + 3
    with pytest.raises(ParameterError, match="lanes must be a power of two"):
        Dense(params, 3)
    with pytest.raises(ParameterError, match="lanes must be in"):
        Dense(params, 128)
    verilog = to_verilog(dut, "dense")
    for port in bench.INPUT_PORTS + bench.OUTPUT_PORTS:
        assert f" {port};" in verilog or f"] {port};" in verilog


def test_lfsr_leap_network_equals_stepping():
    p = LFSRParams(16, 0xACE1)
    cols = lfsr_leap_columns(p, 8)
    state = p.seed
    for _ in range(8):
        fb = 0
        for t in p.taps:
            fb ^= (state >> (t - 1)) & 1
        state = ((state << 1) | fb) & 0xFFFF
    leap = 0
    for i, c in enumerate(cols):
        if (p.seed >> i) & 1:
            leap ^= c
    assert leap == state


# Seeded random configurations: source x accumulation x lanes x shape (small and medium).
COSIM = [
    # (seed, source, accumulation, lanes, n_inputs, n_neurons, max_length)
    (0, "sobol", "counter", 1, 6, 3, 40),
    (1, "lfsr", "counter", 1, 9, 4, 40),
    (2, "sobol", "mux", 1, 7, 4, 48),
    (3, "lfsr", "mux", 2, 8, 2, 48),
    (4, "sobol", "counter", 2, 21, 7, 40),
    (5, "lfsr", "counter", 4, 24, 8, 40),
    (6, "sobol", "mux", 4, 19, 8, 64),
    (7, "lfsr", "mux", 1, 16, 5, 48),
    (8, "sobol", "counter", 4, 48, 12, 32),
    (9, "lfsr", "counter", 2, 40, 10, 24),
    (10, "sobol", "mux", 2, 45, 12, 48),
    (11, "lfsr", "mux", 4, 33, 9, 64),
    (12, "sobol", "counter", 1, 64, 16, 12),
    (13, "lfsr", "counter", 1, 5, 1, 30),           # one neuron: sel never changes
    (14, "sobol", "mux", 2, 1, 2, 30),              # one step per cycle: RAM read-during-write
    (15, "sobol", "counter", 8, 32, 6, 40),
    (16, "lfsr", "counter", 8, 30, 3, 40),
    (17, "sobol", "mux", 1, 12, 6, 48),
    (18, "lfsr", "mux", 2, 27, 7, 40),
    (19, "sobol", "counter", 16, 64, 10, 24),       # the digits shape, many lanes
]


@pytest.mark.parametrize("config", COSIM, ids=[f"cfg{c[0]}-{c[1]}-{c[2]}-x{c[3]}" for c in COSIM])
def test_cosim_matches_model(config):
    seed, source, accumulation, lanes, n, neurons, max_length = config
    rng = np.random.default_rng(1000 + seed)
    params = bench.random_params(rng, n, neurons, max_length, source=source,
                                 accumulation=accumulation)
    case = bench.make_runs(params, rng, lanes=lanes, p_on=0.8)
    result = cosim(to_verilog(Dense(params, lanes), "dense"), "dense", case.stimulus,
                   case.expected, bench.SIGNED_PORTS)
    assert result.ok, case.explain(result)
