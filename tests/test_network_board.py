"""A network on the board: runnable contract, run-level proof, UART co-simulation, design files."""
import numpy as np
import pytest
from amaranth.hdl import Fragment

from scfpga.boards.network_design import NetworkDesign
from scfpga.boards.runnable import check_runnable
from scfpga.model.netspec import network_from_spec
from scfpga.model.network import Network
from scfpga.model.params import ParameterError
from scfpga.sim.runs import cosim_runs
from board_helpers import BIT, core_verilog
from test_board_top import assert_replies, play_on_software_board, run_script
from scfpga.boards.uart_bench import run_uart_session

SPEC = {"inputs": 6, "length": 24, "width": 6, "source": "lfsr", "seed": 3,
        "layers": [{"neurons": 5, "fold": 2, "bias": [0.5, -0.25, 0.125, 0.0, 1.0]},
                   {"neurons": 3, "neuron": {"type": "lif", "threshold": 2, "leak_shift": 3}}]}


@pytest.fixture(scope="module")
def design():
    return NetworkDesign(network_from_spec(SPEC))


def test_results_are_the_output_layer_counts_and_scores(design):
    x = np.random.default_rng(0).random((4, 6))
    run = Network(design.params).evaluate(x)
    got = design.expected_results(design.loads_from_x(x))
    np.testing.assert_array_equal(got[:, :3], run.counts[-1])
    np.testing.assert_array_equal(got[:, 3:], run.scores[-1])
    np.testing.assert_array_equal(design.predict(got), Network(design.params).predict(x))
    component = design.component()
    check_runnable(component)
    Fragment.get(component, None)          # it elaborates (and is not left unused)


def test_design_file_roundtrip_and_errors(design, tmp_path):
    again = NetworkDesign.from_spec(None, design.spec)
    assert again.params == design.params and again.design_id == design.design_id
    with pytest.raises(ParameterError, match="x must be in"):
        design.loads_from_x(np.full((1, 6), 2.0))
    with pytest.raises(ParameterError, match="loads must be integers"):
        design.expected_results(np.zeros((1, 5), int))


def test_runnable_network_equals_model_run_by_run(design, tmp_path):
    from amaranth.back import verilog
    rng = np.random.default_rng(1)
    loads = design.loads_from_x(rng.random((6, 6)))
    text = verilog.convert(design.component(), name="net_runner", emit_src=False)
    result = cosim_runs(text, "net_runner", loads, design.expected_results(loads), latency=2,
                        signed=design.result_signed, build_root=tmp_path)
    assert result.ok, result.describe("network", design.result_names)


def test_network_board_core_over_uart_equals_golden_model(design, rng):
    top = 1 << design.load_width
    loads_a = rng.integers(0, top + 1, size=design.n_loads)
    loads_b = rng.integers(0, top + 1, size=design.n_loads)
    steps, want = run_script(design, loads_a, loads_b)
    result = run_uart_session(core_verilog(design), "board_core", steps, BIT * 10)
    assert_replies(result, steps, want)
    assert play_on_software_board(design, steps) == want
