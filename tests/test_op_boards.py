"""The catalogue ops and the STDP layer on the board: runnable contract, run-level
co-simulation against the golden model (stateful designs over consecutive runs), the software
board and host link (STDP weights read back), design files and the CLI."""
import json

import numpy as np
import pytest
from amaranth.back import verilog

from scfpga.boards import protocol as P
from scfpga.boards.host import BoardClient
from scfpga.boards.ops import design_from_dict, runnable, runnable_names
from scfpga.boards.runnable import check_runnable
from scfpga.cli import main
from scfpga.model.dense import SCDenseLayer
from scfpga.model.ops import get
from scfpga.model.params import ParameterError
from scfpga.model.stdp import STDPLayer
from scfpga.boards.uart_bench import run_uart_session
from scfpga.sim.runs import cosim_runs
from board_helpers import BIT, core_verilog
from test_board_top import assert_replies, ok, play_on_software_board, req, results_payload

# Small, seeded configurations (each option set as `scfpga build NAME` takes them).
SMALL = {
    "wta": {"n": 6, "k": 2, "width": 5},
    "inhibition": {"n": 6, "radius": 1.5, "strength": 0.3, "width": 6},
    "attention": {"n_q": 2, "n_k": 2, "dim_k": 3, "dim_v": 2, "length": 24, "source": "lfsr"},
    "dendrite": {"n_branches": 2, "branch_length": 3, "width": 14, "input_width": 10},
    "predictive": {"n_inputs": 3, "n_neurons": 2, "length": 16, "lr": 0.2, "weight_seed": 3},
    "recurrent": {"n_inputs": 2, "n_neurons": 4, "length": 16, "feedback_delay": 2},
    "stdp": {"n_inputs": 5, "n_neurons": 3, "length": 10, "threshold": 300, "a_plus": 9,
             "weight_seed": 4},
}
STATEFUL = ("dendrite", "predictive", "recurrent", "stdp")


def small_design(name, **run):
    op = get(name)
    values = op.defaults()
    values.update(SMALL[name])
    return runnable(op, values, **run)


def sample_loads(design, rng, n=5):
    if design.name == "dendrite":
        return design.loads_from_x(rng.uniform(-1, 1, (n, design.n_loads)))
    return design.loads_from_x(rng.random((n, design.n_loads)))


@pytest.mark.parametrize("name", list(SMALL))
def test_op_design_equals_its_model_run_by_run(name, tmp_path):
    """Every result word of every run, the RTL against the golden model; the stateful
    designs' expected results follow their state from run to run (and it does change)."""
    assert name in runnable_names()
    design = small_design(name, **({"steps": 3} if name == "dendrite" else {}))
    component = design.component()
    check_runnable(component)
    again = design_from_dict(design.spec)
    assert again.design_id == design.design_id and again.describe() == design.describe()
    loads = sample_loads(design, np.random.default_rng(7))
    expected = design.expected_results(loads)
    if name in STATEFUL:
        assert design.stateful
        # the same loads in a later run give other results: state carried over (the
        # reservoir's feedback delay is 2 runs)
        again = design.expected_results(np.repeat(loads[:1], 3, axis=0))
        assert not np.array_equal(again[0], again[2])
    text = verilog.convert(component, name="op_runner", emit_src=False)
    result = cosim_runs(text, "op_runner", loads, expected, latency=component.result_latency,
                        signed=design.result_signed, build_root=tmp_path)
    assert result.ok, result.describe(name, design.result_names)
    if name != "stdp":
        return
    wrong = expected.copy()           # the learned weight of the last run, one off
    wrong[-1, 0] += 1
    assert not cosim_runs(text, "op_runner", loads, wrong, latency=component.result_latency,
                          signed=design.result_signed, build_root=tmp_path).ok


def test_stdp_weights_learned_on_the_software_board_read_back_over_the_link():
    design = small_design("stdp")
    x = np.tile(np.random.default_rng(3).random((1, design.n_loads)), (6, 1))
    loads = design.loads_from_x(x)
    with BoardClient.open("sim", design=design) as board:
        board.check_design(design)
        results = board.evaluate(design, loads)
    layer = STDPLayer(design.params)
    epochs = layer.train(list(loads))
    learned = design.learned_weights(results)
    for e, epoch in enumerate(epochs):
        np.testing.assert_array_equal(learned[e], epoch.weights)
        np.testing.assert_array_equal(results[e, -design.params.n_neurons:], epoch.counts)
    assert not np.array_equal(learned[-1], design.params.initial_weights)   # it learned
    np.testing.assert_array_equal(results, design.expected_results(loads))


def test_scfpga_run_on_the_software_board(tmp_path, capsys):
    """`scfpga run --port sim` of the design files of a stateful and a stateless design."""
    for name in ("predictive", "wta"):
        design = small_design(name)
        spec = tmp_path / f"{name}.json"
        spec.write_text(json.dumps(design.spec))
        x = tmp_path / f"{name}_x.npy"
        np.save(x, np.random.default_rng(1).random((3, design.n_loads)))
        assert main(["run", "--port", "sim", str(spec), "--x", str(x)]) == 0
        assert "3 samples bit-exact" in capsys.readouterr().out


def test_board_limits_are_one_line_errors():
    with pytest.raises(ParameterError, match="width must be at most 15"):
        runnable(get("attention"), {**get("attention").defaults(), "width": 16})
    with pytest.raises(ParameterError, match="steps"):
        small_design("dendrite", steps=0)
    with pytest.raises(ParameterError, match="params.k must be int"):
        design_from_dict({"design": "wta", "params": {"k": "2"}})
    with pytest.raises(ParameterError, match="unknown design file key"):
        design_from_dict({"design": "stdp", "lanes": 2})


@pytest.mark.parametrize("name", ["hwaware", "memristive"])
def test_defect_layers_run_on_the_board_as_their_faulty_dense_layer(name):
    """hwaware and memristive fold their defects into a dense layer's weight ROM: their board
    design is that layer's, with the corrupted weights."""
    op = get(name)
    values = {**op.defaults(), "n_inputs": 6, "n_neurons": 3, "length": 32, "stuck_rate": 0.3}
    design = runnable(op, values)
    params, _ = op.build(values)
    loads = design.loads_from_x(np.random.default_rng(2).random((3, 6)))
    run = SCDenseLayer(params).evaluate_thresholds(loads)
    np.testing.assert_array_equal(design.expected_results(loads)[:, :3], run.counts)
    assert design_from_dict(design.spec).design_id == design.design_id


def test_stdp_board_core_over_uart_returns_the_learned_weights(tmp_path):
    """The board core (UART, protocol engine, the STDP design) in simulation: two epochs, each
    WRITE, RUN, READ of every result; the replies carry the weights the model learned after
    the first epoch and after the second (state kept by the block RAM), and the software
    board replies the same bytes."""
    op = get("stdp")
    design = runnable(op, {**op.defaults(), "n_inputs": 3, "n_neurons": 2, "length": 6,
                           "threshold": 200, "a_plus": 9, "weight_seed": 4})
    rng = np.random.default_rng(11)
    loads = design.loads_from_x(rng.random((2, design.n_loads)))
    want_results = design.expected_results(loads)
    C = P.Command
    run_bits = design.run_cycles // BIT + 400
    steps, want = [], []
    for row, expected in zip(loads, want_results):
        steps += [req(C.WRITE, P.write_payload(0, row)), req(C.RUN, wait_bits=run_bits),
                  req(C.READ, P.read_payload(0, design.n_results),
                      wait_bits=(4 * design.n_results + 8) * 10 + 200)]
        want += [ok(C.WRITE), ok(C.RUN, P.run_reply_payload(design.run_cycles)),
                 ok(C.READ, results_payload(expected))]
    assert not np.array_equal(want_results[0], want_results[1])
    result = run_uart_session(core_verilog(design), "board_core", steps, BIT * 10)
    assert_replies(result, steps, want)
    assert play_on_software_board(design, steps) == want
