"""Run-level co-simulation: runnable designs give the golden model's results, run after run."""
import numpy as np
import pytest

from scfpga.boards.designs import block_design
from scfpga.hdl import to_verilog
from scfpga.sim.runs import cosim_runs


def _case(name, options, samples, seed, **kw):
    design = block_design(name, options, **kw)
    component = design.component()
    loads = design.loads_from_x(np.random.default_rng(seed).random((samples, design.n_loads)))
    return design, component, loads, design.expected_results(loads)


@pytest.mark.parametrize("name,options,kw", [
    ("sng", {"width": 8, "source": "lfsr", "seed": 9}, dict(length=300)),
    ("lif", {"inputs": 3, "weights": [3000, -800, 1200]}, dict(length=256)),
    ("mux", {"inputs": 3}, dict(length=200, input_source="lfsr")),
    ("lfsr", {"width": 16, "seed": 4321}, dict(length=300)),
    ("sobol", {"width": 10, "dim": 5}, dict(length=1100)),        # past the period 1024
    ("counter", {"window": 40}, dict(length=230, input_source="lfsr")),
])
def test_runs_equal_model(name, options, kw):
    design, component, loads, expected = _case(name, options, 30, 1, **kw)
    result = cosim_runs(to_verilog(component, "runner"), "runner", loads, expected,
                        latency=component.result_latency, signed=design.result_signed)
    assert result.ok, result.describe(name, design.result_names)


def test_a_wrong_expectation_is_reported():
    design, component, loads, expected = _case("lif", {"inputs": 2, "weights": [4000, -900]}, 20, 2,
                                               length=128)
    expected = expected.copy()
    expected[13, 0] += 1
    result = cosim_runs(to_verilog(component, "runner"), "runner", loads, expected,
                        latency=component.result_latency, signed=design.result_signed)
    assert not result.ok and (result.sample, result.result) == (13, 0)
    assert result.actual == expected[13, 0] - 1
