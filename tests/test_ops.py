"""The op table: every op is lowered in every folder, imports point one way, and an op whose
params come from a spec file (like the network) fits the registry with one line per folder."""
import ast
import json
import tomllib
import types
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from scfpga.boards import ops as board_ops
from scfpga.boards.ops import design_type, load_design, runnable_names
from scfpga.cli import main, spec_target
from scfpga.hdl.lfsr import LFSR
from scfpga.hdl.ops import component
from scfpga.model import LFSRParams, lfsr_sequence
from scfpga.model import ops as model_ops
from scfpga.model.mux import uniform_select, uniform_weights
from scfpga.model.ops import OPS, Op
from scfpga.model.params import ParameterError, check_int
from scfpga.sim import ops as sim_ops
from scfpga.sim.ops import bench

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("model", "hdl", "sim", "boards", "scfpga")


def test_every_op_has_a_generator_and_a_bench():
    for op in OPS.values():
        assert component.dispatch(op.params_type) is not component.registry[object], op.name
        assert bench.dispatch(op.params_type) is not bench.registry[object], op.name
    # Every primitive and the dense and network layers run on a board (others may, too).
    on_board = {"lfsr", "sobol", "sng", "and", "xnor", "mux", "counter", "lif", "dense", "network"}
    assert on_board <= set(runnable_names()) <= set(OPS)


def _imports(path):
    """(level, module, line) of every import in ``path``, and whether it is at module level."""
    tree = ast.parse(path.read_text())
    top = {id(n) for n in tree.body}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            yield node.level, node.module or "", node.lineno, id(node) in top


def test_imports_point_one_way_at_module_level():
    """model <- hdl <- sim <- boards <- scfpga; package-internal imports only at module level
    (a function-local import would hide a cycle)."""
    for rank, folder in enumerate(LAYERS):
        for path in sorted((ROOT / folder).glob("*.py")):
            for level, module, line, at_top in _imports(path):
                if level == 0:
                    assert not module.startswith("scfpga"), f"{path.name}:{line}: absolute import"
                    continue
                assert at_top, f"{folder}/{path.name}:{line}: function-local package import"
                target = module.split(".")[0] if level == 2 else folder
                if folder == "scfpga" and level == 1 and module.split(".")[0] in LAYERS:
                    target = module.split(".")[0]
                assert LAYERS.index(target) <= rank, \
                    f"{folder}/{path.name}:{line} imports {target} (imports point one way)"


def test_uniform_select_is_the_uniform_split():
    for width in range(1, 9):
        r = np.arange(1 << width)
        for n in range(1, (1 << width) + 1):
            thresholds = np.cumsum(uniform_weights(n, width))[:-1]
            assert (uniform_select(r, n, width) ==
                    np.searchsorted(thresholds, r, side="right")).all(), (n, width)


# ---------------------------------------- an op built from a spec file, as "network" will be

@dataclass(frozen=True)
class ToyParams:
    """A stand-in for a spec-file op: an LFSR whose width and seed come from a TOML file."""
    width: int
    seed: int

    def __post_init__(self):
        check_int("width", self.width, 3, 32)


def _toy_make(values):
    try:
        spec = tomllib.loads(Path(values["spec"]).read_text())
    except OSError as e:
        raise ParameterError(f"spec file {values['spec']} is not readable ({e})") from None
    return ToyParams(spec["width"], spec.get("seed", values["seed"]))


def _toy_case(params, cycles, rng, p_on=0.85):
    return {"en": np.ones(cycles, np.int64)}, {
        "value": lfsr_sequence(LFSRParams(params.width, params.seed), cycles)}


class ToyDesign:
    RUN_OPTIONS = ()

    def __init__(self, params):
        self.params = params

    @classmethod
    def from_values(cls, op, values):
        return cls(op.build(values)[0])

    @classmethod
    def from_spec(cls, op, spec, base=None):
        return cls(ToyParams(spec["width"], spec["seed"]))


def test_a_spec_file_op_needs_one_line_per_folder(tmp_path, capsys, monkeypatch):
    toy = Op("toy", "an LFSR from a spec file", ToyParams,
             (model_ops.Option("--seed", "seed", int, 1, "seed unless the spec sets it"),),
             _toy_make, "value", spec_file="toy spec (.toml)")
    monkeypatch.setitem(OPS, "toy", toy)                                   # model/ops.py
    monkeypatch.delitem(OPS, "network")     # so that FILE alone means the toy (the one file op)
    component.register(ToyParams, lambda p: LFSR(LFSRParams(p.width, p.seed)))   # hdl/ops.py
    sim_ops.register(ToyParams, types.SimpleNamespace(make_case=_toy_case))      # sim/ops.py
    board_ops.register(ToyParams, ToyDesign)                                      # boards/ops.py
    spec = tmp_path / "toy.toml"
    spec.write_text("width = 7\n")

    assert main(["model", "toy", str(spec), "--seed", "5", "--cycles", "9"]) == 0
    out = capsys.readouterr().out
    assert [int(v) for v in out.split()] == lfsr_sequence(LFSRParams(7, 5), 9).tolist()
    assert main(["gen", str(spec), "-o", str(tmp_path / "toy.v")]) == 0       # FILE alone
    assert "module toy" in (tmp_path / "toy.v").read_text()
    assert main(["model", "toy", str(tmp_path / "missing.toml"), "--cycles", "3"]) == 2
    assert "not readable" in capsys.readouterr().err

    assert "toy" in runnable_names() and design_type(ToyParams(7, 1)) is ToyDesign
    design_file = tmp_path / "design.json"
    design_file.write_text(json.dumps({"design": "toy", "width": 9, "seed": 3}))
    assert load_design(design_file).params == ToyParams(9, 3)
    # scfpga build FILE: a spec file names the op, a design file stays a design file.
    assert spec_target(["build", str(spec), "--board", "icebreaker"]) == \
        ["build", "toy", str(spec), "--board", "icebreaker"]
    assert spec_target(["build", str(design_file)]) == ["build", str(design_file)]
