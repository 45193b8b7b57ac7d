"""Property-based fuzzing of the command line and the files it reads (hypothesis).

Properties, for every generated input: ``scfpga`` returns 0 or 2 (never 1 here: no co-simulation
runs), never prints a traceback or an "internal error", a 2 comes with exactly one line
``scfpga: error: ...`` on stderr, and nothing hangs (a per-case alarm).

Generated cases per run (fixed by the settings below): 40 command lines of block options,
6 ``gen`` names and paths, 40 ``--x`` arrays through ``model`` and 40 through ``run --port sim``,
60 sweep specs, 40 network spec files (``scfpga model NET.json``), 40 design files and
40 files of random bytes.
"""
import json
import math
import signal
from contextlib import contextmanager

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from scfpga.boards.ops import load_design
from scfpga.cli import main
from scfpga.model import ParameterError
from scfpga.model.ops import OPS
from scfpga.sweep import spec_from_dict

BLOCKS = [op for op in OPS.values() if not op.spec_file and not op.layer]
HANG_S = 30


def fuzz(n):
    return settings(max_examples=n, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])


@contextmanager
def no_hang(seconds=HANG_S):
    def alarm(signum, frame):
        raise AssertionError(f"no answer within {seconds} s: a hang")
    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def cli(capsys, *argv, allowed=(0, 2)):
    capsys.readouterr()
    with no_hang():
        code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert code in allowed, (argv, code, err)
    assert "Traceback" not in err and "internal error" not in err, (argv, err)
    if code == 2:
        assert err.count("\n") == 1 and err.startswith("scfpga: error: "), (argv, err)
    return code, out, err


# Values a user might type for any option: in range, out of range, the wrong kind.
VALUES = st.one_of(st.integers(-3, 40), st.integers(41, 300),
                   st.sampled_from([2**31, 2**64, -2**63, 0.5, "nan", "inf", "-1e9", "", "x;y",
                                    "sobol", "lfsr", "1,2,3", "300,-200", "a,b", " ", "\u00e9"]))


@fuzz(40)
@given(st.sampled_from(BLOCKS), st.data())
def test_block_options_are_checked(capsys, op, data):
    argv = ["model", op.name, "--cycles", data.draw(st.sampled_from([1, 5, 64, 0, -1, 2**25, "x"]))]
    for o in data.draw(st.lists(st.sampled_from(op.options), max_size=4, unique_by=lambda o: o.flag)
                       if op.options else st.just([])):
        argv += [o.flag, data.draw(VALUES)]
    cli(capsys, *argv)


@fuzz(6)
@given(st.one_of(st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True),
                 st.text(max_size=12), st.sampled_from(["1bad", "x;y", "module", "a b", "../x", "wire"])),
       st.sampled_from(["ok", "dir", "missing_parent", "exists"]))
def test_gen_names_and_output_paths(capsys, tmp_path_factory, name, where):
    tmp = tmp_path_factory.mktemp("gen")
    out = {"ok": tmp / "x.v", "dir": tmp, "missing_parent": tmp / "no" / "x.v",
           "exists": tmp / "e.v"}[where]
    if where == "exists":
        out.write_text("keep")
    code, _, err = cli(capsys, "gen", "sng", "-o", out, "--name", name)
    if where == "exists":
        assert out.read_text() == "keep"                        # never overwritten silently
    if code == 0:
        assert where == "ok" and f"module {name}" in out.read_text()
    assert list(tmp.rglob(".*partial*")) == []                  # no half-written file left


ARRAYS = st.one_of(
    hnp.arrays(st.sampled_from([np.float64, np.float32, np.int64, np.int8]),
               hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5),
               elements=st.one_of(st.integers(-2, 2), st.sampled_from([0, 1]))),
    hnp.arrays(np.uint8, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5),
               elements=st.integers(0, 2)),                     # unsigned: no negatives
    hnp.arrays(st.sampled_from([np.float64, np.float32]), hnp.array_shapes(min_dims=1, max_dims=2, max_side=4),
               elements=st.floats(-2, 2, width=32)),
    hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=2, max_side=4),
               elements=st.floats(allow_nan=True, allow_infinity=True)),
    hnp.arrays(st.sampled_from([np.complex128, np.bool_, "<U2"]), st.just((2, 3))),
)


def _save(tmp, array):
    path = tmp / "x.npy"
    np.save(path, array)
    return path


@fuzz(40)
@given(ARRAYS)
def test_model_x_arrays(capsys, tmp_path_factory, array):
    cli(capsys, "model", "dense", "--inputs", 4, "--neurons", 2, "--length", 16,
        "--x", _save(tmp_path_factory.mktemp("x"), array))


@fuzz(40)
@given(ARRAYS)
def test_run_x_arrays_on_the_software_board(capsys, tmp_path_factory, array):
    code, out, _ = cli(capsys, "run", "--port", "sim", "examples/board_lif.toml",
                       "--x", _save(tmp_path_factory.mktemp("x"), array), "--timeout", 1)
    if code == 0:
        assert "bit-exact" in out


# ---------------------------------------------------------------------- spec files
SCALAR = st.one_of(st.integers(-2, 2**20), st.floats(allow_nan=True), st.booleans(),
                   st.text(max_size=6), st.none())


@fuzz(60)
@given(st.fixed_dictionaries(
    {}, optional={
        "evaluator": st.one_of(st.sampled_from(["sng", "dense", "cost"]), SCALAR),
        "grid": st.one_of(st.dictionaries(
            st.sampled_from(["length", "width", "source", "lanes", "size", "block", "bogus"]),
            st.one_of(st.lists(SCALAR, max_size=3), SCALAR), max_size=3), SCALAR),
        "options": st.one_of(st.dictionaries(
            st.sampled_from(["build", "device", "data", "n_samples", "freq_mhz", "nope"]),
            SCALAR, max_size=3), SCALAR),
        "objectives": st.one_of(st.lists(st.sampled_from(["accuracy", "logic_cells", "x"]), max_size=3),
                                SCALAR),
        "option": st.just({"build": True}),
    }))
def test_sweep_specs_are_checked_before_any_point_runs(spec):
    try:
        parsed = spec_from_dict(spec)
    except ParameterError as e:
        assert "\n" not in str(e)
        return
    # Accepted: every key is known and typed.
    assert set(spec) <= {"evaluator", "grid", "options", "objectives"}
    assert all(isinstance(v, list) and v for v in parsed.grid.values())
    assert isinstance(parsed.objectives, tuple) and all(isinstance(o, str) for o in parsed.objectives)
    assert all(isinstance(parsed.options.get("build", True), bool) for _ in [0])
    assert all(isinstance(v, int) and not isinstance(v, bool) and v >= 1
               for v in parsed.grid.get("length", []))


WEIGHTS = st.one_of(st.lists(st.lists(st.floats(-1.5, 1.5), min_size=2, max_size=2), min_size=1,
                             max_size=3), st.lists(st.floats(allow_nan=True), max_size=3), SCALAR)


@fuzz(40)
@given(st.fixed_dictionaries(
    {"inputs": st.one_of(st.just(2), st.integers(-1, 3), SCALAR),
     "layers": st.one_of(st.lists(st.fixed_dictionaries(
         {"neurons": st.one_of(st.integers(0, 3), SCALAR), "weights": WEIGHTS},
         optional={"type": st.sampled_from(["dense", "conv"]), "lanes": st.one_of(st.just(1), SCALAR),
                   "neuron": st.one_of(st.just({"type": "lif"}), st.dictionaries(st.text(max_size=4), SCALAR))}),
         max_size=2), SCALAR)},
    optional={"length": st.one_of(st.integers(-1, 64), SCALAR), "width": st.one_of(st.integers(0, 20), SCALAR),
              "source": SCALAR, "bogus": SCALAR}))
def test_network_spec_files(capsys, tmp_path_factory, spec):
    path = tmp_path_factory.mktemp("net") / "net.json"
    text = json.dumps(spec, allow_nan=True)
    path.write_text(text)
    cli(capsys, "model", path)


@fuzz(40)
@given(st.fixed_dictionaries(
    {"design": st.one_of(st.sampled_from(["sng", "lif", "counter", "dense", "network", "mux"]), SCALAR)},
    optional={"params": st.one_of(st.dictionaries(
        st.sampled_from(["width", "source", "seed", "inputs", "weights", "threshold", "bogus"]),
        SCALAR, max_size=3), SCALAR),
        "length": st.one_of(st.integers(-1, 100), SCALAR), "input_width": SCALAR,
        "weights": WEIGHTS, "width": SCALAR, "lanes": SCALAR, "extra": SCALAR}))
def test_design_files(tmp_path_factory, spec):
    path = tmp_path_factory.mktemp("design") / "d.json"
    path.write_text(json.dumps(spec, allow_nan=True))
    with no_hang():
        try:
            design = load_design(path)
        except ParameterError as e:
            assert "\n" not in str(e)
            return
    assert design.n_loads >= 1 and design.n_results >= 1
    for key in ("length",):                  # typed values only: no silent conversion
        if key in spec and spec.get("design") in ("sng", "lif", "counter", "mux"):
            assert isinstance(spec[key], int) and not isinstance(spec[key], bool)


@fuzz(40)
@given(st.binary(max_size=200), st.sampled_from([".toml", ".json"]),
       st.sampled_from(["sweep", "model", "run"]))
def test_random_bytes_as_spec_files(capsys, tmp_path_factory, data, suffix, command):
    tmp = tmp_path_factory.mktemp("bytes")
    path = tmp / f"spec{suffix}"
    path.write_bytes(data)
    argv = {"sweep": ["sweep", path, "-o", tmp / "out"], "model": ["model", path],
            "run": ["run", "--port", "sim", path, "--x", "examples/x16.npy"]}[command]
    cli(capsys, *argv)
