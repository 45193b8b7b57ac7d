"""Design-space sweeps: grid expansion, failures as data, resume, Pareto front, Dask."""
import json

import numpy as np
import pytest

from scfpga.cli import main
from scfpga.model import ParameterError
from scfpga.sweep import load_results, pareto_front, points, run_sweep, spec_from_dict

GRID = {"length": [64, 256], "width": [6, 8], "source": ["sobol", "lfsr"]}


def _spec(grid=GRID, build=False):
    return spec_from_dict({"evaluator": "sng", "grid": grid, "options": {"build": build}})


def test_grid_expansion_and_validation():
    assert len(points(_spec())) == 8
    with pytest.raises(ParameterError, match="evaluator"):
        spec_from_dict({"evaluator": "nope", "grid": GRID})
    with pytest.raises(ParameterError, match="grid"):
        spec_from_dict({"evaluator": "sng", "grid": {"width": []}})


def test_local_sweep_records_failures_and_resumes(tmp_path):
    spec = _spec({"length": [256], "width": [8, 40], "source": ["sobol", "lfsr"]})
    results = run_sweep(spec, tmp_path, workers=2, progress=lambda m: None)
    failed = [r for r in results if "error" in r]
    assert len(results) == 4 and len(failed) == 2
    assert all("width must be in" in r["error"] for r in failed)
    sobol = next(r for r in results if r["point"] == {"length": 256, "width": 8, "source": "sobol"})
    assert sobol["metrics"]["max_abs_error"] <= 0.5 / 256 + 1e-12        # exact Sobol encoding

    # Interrupt: keep one finished line and a half-written one; the rerun redoes the rest only.
    lines = (tmp_path / "results.jsonl").read_text().splitlines()
    (tmp_path / "results.jsonl").write_text(lines[0] + "\n" + lines[1][:20] + "\n")
    said = []
    run_sweep(spec, tmp_path, workers=1, progress=said.append)
    assert said[0] == "sweep: 1 points already done, 3 to evaluate"
    assert len([r for r in load_results(tmp_path)]) == 4
    assert json.loads((tmp_path / "summary.json").read_text())["failed"] == 2


def test_pareto_front():
    rs = [{"point": {"i": i}, "metrics": {"accuracy": a, "logic_cells": c}}
          for i, (a, c) in enumerate([(0.9, 10), (0.95, 20), (0.94, 30), (0.99, 40), (0.8, 10)])]
    assert sorted(r["point"]["i"] for r in pareto_front(rs)) == [0, 1, 3]


def test_dask_local_cluster(tmp_path):
    from distributed import Client, LocalCluster
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        results = run_sweep(_spec(), tmp_path, scheduler=client, progress=lambda m: None)
    assert len(results) == 8 and not any("error" in r for r in results)


def test_cli_sweep_with_real_builds(tmp_path, capsys):
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"evaluator": "sng", "grid": {"length": [256], "width": [4, 8],
                                "source": ["sobol"]}, "options": {"build": True}}))
    out = tmp_path / "out"
    assert main(["sweep", str(spec), "-o", str(out), "--workers", "2"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["points"] == 2 and summary["failed"] == 0 and (out / "pareto.png").exists()
    cells = {r["point"]["width"]: r["metrics"]["logic_cells"] for r in load_results(out)}
    assert 0 < cells[4] < cells[8]            # a wider SNG costs more logic cells
    assert main(["sweep", str(tmp_path / "missing.toml")]) == 2


# ---------------------------------------------------------------------------- dense evaluator

def test_dense_evaluator_accuracy_is_a_real_measurement():
    from scfpga.evaluators import evaluate_dense, teacher_problem
    from scfpga.model.dense import DenseParams, SCDenseLayer

    def acc(length, size="16x4", source="sobol"):
        point = {"size": size, "length": length, "width": 8, "source": source, "lanes": 1}
        return evaluate_dense(point, {"data": "teacher", "build": False})

    long, short = acc(1024), acc(4)
    assert long["accuracy"] >= 0.95 and short["accuracy"] < long["accuracy"] - 0.05
    assert (long["n_inputs"], long["n_neurons"]) == (16, 4)
    # The same number straight from the golden model; a sign-flipped mapping of the same
    # teacher must score far worse, so the metric can tell a broken layer from a good one.
    w, x, labels = teacher_problem(16, 4)
    for sign, lo, hi in ((1, 0.95, 1.0), (-1, 0.0, 0.2)):
        params = DenseParams.from_float(sign * w, None, 8, length=1024)
        agree = np.mean(SCDenseLayer(params).predict(x) == labels)
        assert lo <= agree <= hi
        if sign == 1:
            assert agree == long["accuracy"]
    # n_inputs / n_neurons keys are the same as size; lanes shorten an inference.
    same = evaluate_dense({"n_inputs": 16, "n_neurons": 4, "length": 1024},
                          {"data": "teacher", "build": False})
    assert same["accuracy"] == long["accuracy"]
    two = evaluate_dense({"size": "16x4", "length": 1024, "lanes": 2},
                         {"data": "teacher", "build": False})
    assert two["clocks_per_inference"] < long["clocks_per_inference"]
    digits = evaluate_dense({"length": 256, "width": 8, "source": "sobol"}, {"build": False})
    assert (digits["n_inputs"], digits["n_neurons"]) == (64, 10) and digits["accuracy"] > 0.9
    with pytest.raises(ParameterError, match="data"):
        evaluate_dense({"length": 64}, {"data": "mnist", "build": False})
    with pytest.raises(ParameterError, match="lanes"):
        evaluate_dense({"size": "8x2", "length": 64, "lanes": 3}, {"data": "teacher"})


def test_dense_sweep_with_a_real_build(tmp_path):
    spec = spec_from_dict({"evaluator": "dense", "options": {"data": "teacher"},
                           "grid": {"size": ["8x2"], "length": [32], "lanes": [1, 3]}})
    results = {r["point"]["lanes"]: r for r in run_sweep(spec, tmp_path, workers=1,
                                                        progress=lambda m: None)}
    assert "lanes must be a power of two" in results[3]["error"]     # recorded, not raised
    m = results[1]["metrics"]
    assert m["logic_cells"] > 0 and m["ebr"] >= 1 and m["fmax_mhz"] > 0
    assert m["clocks_per_inference"] == 8 + 32 * 8 + 3              # loads + L * steps + 3
    assert m["inferences_per_s"] == pytest.approx(m["fmax_mhz"] * 1e6 / m["clocks_per_inference"],
                                                 abs=0.1)
    assert 0.5 < m["accuracy"] <= 1.0
