"""Gate-level proof: the post-synthesis iCE40 netlist must still match the golden model.

RTL co-simulation proves the generated Verilog; this proves what Yosys made of it. The netlist
(``SB_LUT4``, ``SB_DFF*``, ``SB_CARRY`` instances) runs under Icarus with Yosys's own models of
those cells, driven by the unchanged cocotb bench.
"""
import hashlib
from pathlib import Path

from .boards.build import DEVICES, synthesise
from .sim.runner import cosim, default_build_root
from .boards.toolchain import ICE40_SIM_DEFINES, ice40_cells_sim


def synthesise_netlist(verilog_text, top, work_dir=None, device="up5k"):
    """Synthesise with ``synth_ice40`` and return the netlist for simulation.

    Parameters
    ----------
    work_dir : path or None
        Where Yosys runs; default ``<sim build root>/gatelevel/<top>-<hash>``.

    Returns
    -------
    netlist : str
        Post-synthesis Verilog (``write_verilog -noattr``), top module ``top``.
    cells_sim : Path
        Yosys's iCE40 cell models, to compile with the netlist (with
        :data:`scfpga.boards.toolchain.ICE40_SIM_DEFINES`).
    """
    if work_dir is None:
        digest = hashlib.sha1(f"{device}\n{verilog_text}".encode()).hexdigest()[:12]
        work_dir = default_build_root() / "gatelevel" / f"{top}-{digest}"
    synthesise(verilog_text, top, work_dir, DEVICES[device][1])
    return (Path(work_dir) / f"{top}_syn.v").read_text(), ice40_cells_sim()


def gate_level_netlist(verilog_text, top, device="up5k"):
    """``(netlist, extra_sources, defines)``: the hook :func:`scfpga.sim.ops.cosimulate` takes
    to prove the synthesised netlist instead of the RTL."""
    netlist, cells_sim = synthesise_netlist(verilog_text, top, device=device)
    return netlist, (cells_sim,), ICE40_SIM_DEFINES


def gate_level_cosim(verilog_text, top, stimulus, expected, signed_ports=(), build_root=None,
                     device="up5k"):
    """:func:`scfpga.sim.cosim` of the iCE40 netlist synthesised from ``verilog_text``.

    Same arguments and result (:class:`scfpga.sim.CosimResult`) as ``cosim``; the design is
    first run through ``synth_ice40`` for ``device``.
    """
    netlist, cells_sim = synthesise_netlist(verilog_text, top, device=device)
    return cosim(netlist, top, stimulus, expected, signed_ports, build_root=build_root,
                 extra_sources=[cells_sim], defines=ICE40_SIM_DEFINES)
