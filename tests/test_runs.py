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


@pytest.mark.parametrize("workers", [1, 3])
def test_a_wrong_expectation_is_reported(workers, tmp_path):
    design, component, loads, expected = _case("lif", {"inputs": 2, "weights": [4000, -900]}, 20, 2,
                                               length=128)
    expected = expected.copy()
    expected[13, 0] += 1
    result = cosim_runs(to_verilog(component, "runner"), "runner", loads, expected,
                        latency=component.result_latency, signed=design.result_signed,
                        build_root=tmp_path, workers=workers)
    assert not result.ok and (result.sample, result.result) == (13, 0)
    assert result.actual == expected[13, 0] - 1 and result.samples == 20
    # read after the run (128 cycles) and the result latency, counted from the start edge
    assert result.cycle > 128 and "run 13" in result.describe()


def test_the_cocotb_bench_gives_the_same_verdict(tmp_path, monkeypatch):
    design, component, loads, expected = _case("sng", {"width": 8, "source": "sobol", "dim": 2},
                                               6, 4, length=64)
    expected = expected.copy()
    expected[4, 0] -= 2
    verilog = to_verilog(component, "runner")
    hdl = cosim_runs(verilog, "runner", loads, expected, latency=component.result_latency,
                     build_root=tmp_path)
    monkeypatch.setenv("SCFPGA_COCOTB", "1")
    bench = cosim_runs(verilog, "runner", loads, expected, latency=component.result_latency,
                       build_root=tmp_path)
    assert (hdl.ok, hdl.sample, hdl.result, hdl.expected, hdl.actual) == \
        (bench.ok, bench.sample, bench.result, bench.expected, bench.actual) == \
        (False, 4, 0, expected[4, 0], expected[4, 0] + 2)


HANGS = """module hang(input clk, input rst, input [15:0] load_addr, input [15:0] load_data,
  input load_we, input start, output busy, input [15:0] result_addr, output [31:0] result_data);
  assign busy = 1'b1;
  assign result_data = 32'd0;
endmodule
"""


def test_a_run_that_never_ends_is_a_hang_not_a_stuck_test(tmp_path):
    result = cosim_runs(HANGS, "hang", np.zeros((3, 2)), np.zeros((3, 1)), latency=0,
                        max_cycles=500, build_root=tmp_path)
    assert not result.ok and result.hung and result.sample == 0 and result.cycle == 500
    assert "a hang" in result.describe()


def test_more_runs_than_a_chunk_compile_once_and_keep_their_numbers(tmp_path):
    design, component, loads, expected = _case("lfsr", {"width": 10, "seed": 77}, 300, 6,
                                               length=16)
    verilog = to_verilog(component, "runner")
    # one netlist for both (netlist="auto" would pick the generated one for 5 samples)
    assert cosim_runs(verilog, "runner", loads[:5], expected[:5], build_root=tmp_path,
                      latency=component.result_latency, netlist="fast").ok
    expected = expected.copy()
    expected[200, 0] ^= 1
    result = cosim_runs(verilog, "runner", loads, expected, build_root=tmp_path,
                        latency=component.result_latency, netlist="fast")
    assert (result.ok, result.sample, result.samples) == (False, 200, 300)
    assert len(list(tmp_path.glob("runner-runs-*"))) == 1         # one compiled testbench
