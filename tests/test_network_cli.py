"""The command line on network specs and on the neuron zoo: model, sim, gen, build and run."""
import json

import numpy as np
import pytest

import scfpga.cli as cli
from scfpga.model.netspec import load_network
from scfpga.model.network import Network

SPEC = """
inputs = 16
length = 64
source = "sobol"

[[layers]]
type = "dense"
neurons = 8
weights = "w1.npy"
fold = 2

[[layers]]
type = "dense"
neurons = 4
weights = "w2.npy"
neuron = {type = "lif", threshold = 2}
"""


@pytest.fixture
def net(tmp_path):
    rng = np.random.default_rng(0)
    np.save(tmp_path / "w1.npy", rng.uniform(-0.5, 1, (8, 16)))
    np.save(tmp_path / "w2.npy", rng.uniform(-0.5, 1, (4, 8)))
    np.save(tmp_path / "x.npy", rng.random((3, 16)))
    (tmp_path / "net.toml").write_text(SPEC)
    return tmp_path


def test_model_prints_output_counts_per_sample(net, capsys):
    assert cli.main(["model", str(net / "net.toml"), "--x", str(net / "x.npy")]) == 0
    lines = capsys.readouterr().out.split("\n")[:-1]
    want = Network(load_network(net / "net.toml")).counts(np.load(net / "x.npy"))
    assert [list(map(int, line.split())) for line in lines] == want.tolist()
    assert cli.main(["model", "network", str(net / "net.toml")]) == 0     # the op named too
    assert len(capsys.readouterr().out.split("\n")) == 3                 # 2 seeded samples


def test_sim_proves_the_spec_and_gen_writes_verilog(net, capsys, monkeypatch):
    monkeypatch.setenv("SCFPGA_SIM_DIR", str(net / "sim"))
    assert cli.main(["sim", str(net / "net.toml"), "--x", str(net / "x.npy")]) == 0
    assert "bit-exact: every spike of every layer in every cycle, 3 samples" in \
        capsys.readouterr().out
    out = net / "net.v"
    assert cli.main(["gen", str(net / "net.toml"), "-o", str(out)]) == 0
    assert "module network" in out.read_text()
    assert cli.main(["gen", str(net / "net.toml"), "-o", str(out)]) == 2
    assert "--force" in capsys.readouterr().err


@pytest.mark.parametrize("edit, message", [
    (lambda s: s.replace("neurons = 4", "neurons = 5"), "layer 2: weights must have shape"),
    (lambda s: s.replace("fold = 2", "fold = 2\ncolour = 1"), "layer 1: unknown key 'colour'"),
    (lambda s: s.replace('"sobol"', '"xor"'), "source must be one of"),
    (lambda s: s.replace("w1.npy", "missing.npy"), "layer 1: weights must be a readable"),
    (lambda s: s + "\n[oops", "is not valid toml"),
])
def test_bad_specs_are_one_line_errors(net, capsys, edit, message):
    (net / "bad.toml").write_text(edit(SPEC))
    for command in (["model"], ["sim"], ["gen", "-o", str(net / "o.v")]):
        argv = [command[0], str(net / "bad.toml"), *command[1:]]
        assert cli.main(argv) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1 and "bad.toml" in err


def test_bad_x_is_a_one_line_error(net, capsys):
    np.save(net / "wide.npy", np.zeros((2, 15)))
    assert cli.main(["model", str(net / "net.toml"), "--x", str(net / "wide.npy")]) == 2
    assert "--x must have shape (samples, 16)" in capsys.readouterr().err
    np.save(net / "big.npy", np.full((2, 16), 3.0))
    assert cli.main(["model", str(net / "net.toml"), "--x", str(net / "big.npy")]) == 2
    assert "[0, 1]" in capsys.readouterr().err


def test_neuron_zoo_on_the_command_line(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("SCFPGA_SIM_DIR", str(tmp_path))
    assert cli.main(["sim", "neuron", "--type", "izhikevich", "--cycles", "600"]) == 0
    assert "bit-exact over 600 cycles" in capsys.readouterr().out
    assert cli.main(["model", "neuron", "--type", "alif", "--beta", "0.8", "--cycles", "50"]) == 0
    assert len(capsys.readouterr().out.split()) == 50
    assert cli.main(["model", "neuron", "--type", "leaky", "--alpha", "0.5", "--cycles", "5"]) == 2
    assert "--alpha is not a parameter of a 'leaky' neuron" in capsys.readouterr().err
    assert cli.main(["model", "neuron", "--type", "leaky", "--beta", "1.5", "--cycles", "5"]) == 2
    assert "--beta" in capsys.readouterr().err


def test_build_and_run_a_network_spec(net, capsys):
    """Built with --fit: the layout is chosen for the device and design.json keeps it."""
    out = net / "board"
    assert cli.main(["build", str(net / "net.toml"), "--board", "icebreaker", "--freq", "24",
                     "--fit", "up5k", "-o", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["timing_met"] and report["logic_cells"]["used"] < 5280
    built = load_network(out / "design.json")
    spec = load_network(net / "net.toml")
    assert [l.weights for l in built.layers] == [l.weights for l in spec.layers]
    assert [(l.fold, l.lanes) for l in built.layers] != [(l.fold, l.lanes) for l in spec.layers]
    capsys.readouterr()
    assert cli.main(["run", "--port", "sim", str(out / "design.json"),
                     "--x", str(net / "x.npy")]) == 0
    assert "3 samples bit-exact with the golden model" in capsys.readouterr().out


def test_digits_command_runs_the_spiking_mlp(tmp_path, capsys):
    import scfpga.digits as D
    from scfpga.boards.network_design import NetworkDesign
    from scfpga.digits_mlp import FOLD, LANES, to_network, train_mlp
    split = D.load_split()
    params, _ = to_network(train_mlp(split.x_train, split.y_train, epochs=30), fold=FOLD,
                           lanes=LANES)
    (tmp_path / "design.json").write_text(json.dumps(NetworkDesign(params).spec))
    assert cli.main(["digits", "--port", "sim", str(tmp_path / "design.json"),
                     "--images", "12"]) == 0
    out = capsys.readouterr().out
    assert "board results bit-exact with the golden model" in out and out.count("image ") == 12
