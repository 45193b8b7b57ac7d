"""Ops lowered to boards: :func:`design_type` maps a parameter class to its runnable design.

A design class implements the runnable contract (:mod:`.runnable`) and has
``from_values(op, values, **run)`` (``scfpga build OP --options``; ``run``: its
``RUN_OPTIONS``, extra ``scfpga build`` options) and ``from_spec(op, spec, base)`` (a design file
that says ``design = "<op name>"``; ``base`` is the file's folder). One line per op registers it:
``register(FooParams, FooDesign)``.
"""
import json
import tomllib
from functools import singledispatch
from pathlib import Path

from ..model.attention import AttentionParams
from ..model.dendrite import DendriteParams
from ..model.dense import DenseParams
from ..model.inhibition import InhibitionParams
from ..model.predictive import PredictiveParams
from ..model.recurrent import RecurrentParams
from ..model.stdp import STDPParams
from ..model.wta import WTAParams
from ..model.ops import OPS, get
from ..model.params import ParameterError, read_text
from ..model.network import NetworkParams
from .dense_design import DenseDesign
from .network_design import NetworkDesign
from .catalogue_designs import (AttentionDesign, DendriteDesign, InhibitionDesign,
                                PredictiveDesign, RecurrentDesign, WTADesign)
from .stdp_design import STDPDesign
from .designs import PARAM_TYPES, BlockDesign


@singledispatch
def design_type(params):
    """The runnable design class of a parameter object."""
    raise ParameterError(f"{type(params).__name__} cannot run on a board")


def register(params_type, design_cls):
    """Let ops with parameter class ``params_type`` run on a board as ``design_cls``."""
    design_type.register(params_type, lambda params: design_cls)


for _t in PARAM_TYPES:                   # every primitive block: BlockDesign gives its semantics
    register(_t, BlockDesign)
register(DenseParams, DenseDesign)
register(NetworkParams, NetworkDesign)
register(WTAParams, WTADesign)
register(InhibitionParams, InhibitionDesign)
register(AttentionParams, AttentionDesign)
register(DendriteParams, DendriteDesign)
register(PredictiveParams, PredictiveDesign)
register(RecurrentParams, RecurrentDesign)
register(STDPParams, STDPDesign)


def runnable_type(op):
    """The design class of ``op`` (an :class:`~scfpga.model.ops.Op`), or None."""
    impl = design_type.dispatch(op.params_type)
    return None if impl is design_type.registry[object] else impl(None)


def runnable_names():
    """Names of the ops that run on a board, in table order."""
    return tuple(name for name, op in OPS.items() if runnable_type(op) is not None)


def runnable(op, values, **run):
    """The runnable design of ``op`` from its option values (fields as keys) and run options."""
    cls = runnable_type(op)
    if cls is None:
        raise ParameterError(f"{op.name} cannot run on a board; runnable blocks: "
                             f"{', '.join(runnable_names())}")
    return cls.from_values(op, values, **run)


def design_from_dict(spec, base=None):
    """A runnable design from a parsed design file (``base``: the file's directory)."""
    kinds = ", ".join(runnable_names())
    if not isinstance(spec, dict) or "design" not in spec:
        raise ParameterError(f"a design file must set design = \"<kind>\" (one of {kinds})")
    kind = spec["design"]
    cls = runnable_type(OPS[kind]) if isinstance(kind, str) and kind in OPS else None
    if cls is None:
        raise ParameterError(f"design must be one of {kinds}, got {kind!r}")
    try:
        return cls.from_spec(get(kind), spec, base)
    except ParameterError:
        raise
    except (TypeError, ValueError) as e:      # a value of the wrong kind met a conversion
        raise ParameterError(f"a {kind} design file has a value of the wrong type "
                             f"(numbers, lists of numbers or strings as documented): {e}") from None


def load_design(path):
    """A runnable design from a ``.toml`` or ``.json`` design file."""
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"design file {path} does not exist")
    if path.suffix not in (".toml", ".json"):
        raise ParameterError(f"design file must end in .toml or .json, got {path.name}")
    text = read_text("design file", path)
    try:
        spec = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (ValueError, RecursionError) as e:   # TOMLDecodeError and JSONDecodeError are ValueErrors
        raise ParameterError(f"design file {path} is not valid {path.suffix[1:]}: {e}") from None
    try:
        return design_from_dict(spec, path.parent)
    except ParameterError as e:
        raise ParameterError(f"{path.name}: {e}") from None
