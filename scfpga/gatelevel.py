"""Gate-level proof: the post-synthesis netlist must still match the golden model.

RTL co-simulation proves the generated Verilog; this proves what Yosys made of it. An iCE40
netlist (``SB_LUT4``, ``SB_DFF*``, ``SB_CARRY`` instances) or an ECP5 netlist (``LUT4``,
``TRELLIS_FF``, ``CCU2C``, ``PFUMX``, ``L6MUX21``, ``TRELLIS_DPR16X4``) runs under Icarus with
Yosys's own models of those cells, driven by the unchanged cocotb bench.

Yosys ships no simulation model of the ECP5 block RAM (``DP16KD`` is a blackbox in
``share/ecp5/cells_sim.v``); :mod:`scfpga.ecp5_bram` supplies a behavioural one for the
configurations ``synth_ecp5`` emits, which replaces the blackbox here. A netlist using a
configuration outside it (a data width the model lacks) is refused instead of simulating an
empty box.
"""
import hashlib
import re
from pathlib import Path

from .boards.build import DEVICES, dsp_default, family, synthesise
from .boards.toolchain import (ECP5_SIM_DEFINES, ICE40_SIM_DEFINES, ecp5_cells_sim,
                               ice40_cells_sim)
from .ecp5_bram import SUPPORTED_WIDTHS, dp16kd_model
from .model.params import ParameterError
from .sim.runner import cosim, default_build_root

_INCLUDE_RE = re.compile(r'^[ \t]*`include[ \t]+"([^"]+)"[ \t]*$', re.M)
_BLACKBOX_DP16KD = re.compile(r"\(\* blackbox \*\)\s*module DP16KD\(.*?endmodule\n", re.S)
_DATA_WIDTH = re.compile(r"\.DATA_WIDTH_[AB]\(32'd(\d+)\)")


def ecp5_cells_flat(work_dir):
    """Yosys's ECP5 cell models as one file in ``work_dir`` (Icarus resolves `` `include``
    against its working directory, not the including file's): ``cells_sim.v`` with its
    ``common_sim.vh`` and ``ccu2c_sim.vh`` inlined; the Diamond FF/IO wrappers (techmap
    templates inside ``ifndef NO_INCLUDES``) are left out, and the ``DP16KD`` blackbox is
    replaced by :func:`scfpga.ecp5_bram.dp16kd_model`."""
    src = ecp5_cells_sim()
    text = _INCLUDE_RE.sub(lambda m: (src.parent / m[1]).read_text() + "\n", src.read_text())
    text = re.sub(r"`ifndef NO_INCLUDES.*?`endif", "", text, flags=re.S)
    text, n = _BLACKBOX_DP16KD.subn(lambda _m: dp16kd_model(), text)
    if n != 1:          # a Yosys release that moved or modelled the cell: say so, not simulate it
        raise RuntimeError(f"expected one DP16KD blackbox in {src}, found {n}")
    # Icarus 11 rejects an elaboration-time $error in a generate branch (an unused TRELLIS_SLICE
    # mode); an initial $display keeps the message.
    text = text.replace('$error("unsupported COMB mode', 'initial $display("unsupported COMB mode')
    path = Path(work_dir) / "ecp5_cells_sim.v"
    path.write_text(text)
    return path


def synthesise_netlist(verilog_text, top, work_dir=None, device="up5k"):
    """Synthesise with ``synth_ice40`` (iCE40 ``device``; ``-dsp`` on the UP5K, as the build
    flow) or ``synth_ecp5`` (ECP5 ``device``, e.g. ``85k``) and return the netlist for
    simulation.

    Parameters
    ----------
    work_dir : path or None
        Where Yosys runs; default ``<sim build root>/gatelevel/<top>-<hash>``.

    Returns
    -------
    netlist : str
        Post-synthesis Verilog (``write_verilog -noattr``), top module ``top``.
    cells_sim : Path
        Yosys's cell models for the family, to compile with the netlist (with
        :func:`sim_defines`).

    Raises
    ------
    ParameterError
        An ECP5 netlist with a ``DP16KD`` data width :mod:`scfpga.ecp5_bram` does not model.
    """
    if device not in DEVICES:
        raise ParameterError(f"device must be one of {', '.join(DEVICES)}, got {device!r}")
    if work_dir is None:
        digest = hashlib.sha1(f"{device}\n{verilog_text}".encode()).hexdigest()[:12]
        work_dir = default_build_root() / "gatelevel" / f"{top}-{digest}"
    # As the build synthesises it: on the UP5K with SB_MAC16 multipliers (cells_sim.v models
    # them), so the proof covers the DSP mapping too.
    cells = synthesise(verilog_text, top, work_dir, DEVICES[device][1],
                       dsp=dsp_default(device))
    netlist = (Path(work_dir) / f"{top}_syn.v").read_text()
    if family(device) == "ecp5":
        widths = {int(w) for w in _DATA_WIDTH.findall(netlist)} if cells.get("DP16KD") else set()
        if widths - set(SUPPORTED_WIDTHS):
            raise ParameterError(f"{top} uses ECP5 block RAM (DP16KD) with data widths "
                                 f"{sorted(widths - set(SUPPORTED_WIDTHS))}; the gate-level model "
                                 f"(scfpga.ecp5_bram) covers {SUPPORTED_WIDTHS}")
        return netlist, ecp5_cells_flat(work_dir)
    return netlist, ice40_cells_sim()


def sim_defines(device="up5k"):
    """Icarus defines for the cell models of ``device``'s family."""
    return ECP5_SIM_DEFINES if family(device) == "ecp5" else ICE40_SIM_DEFINES


def gate_level_netlist(verilog_text, top, device="up5k"):
    """``(netlist, extra_sources, defines)``: the hook :func:`scfpga.sim.ops.cosimulate` takes
    to prove the synthesised netlist instead of the RTL."""
    netlist, cells_sim = synthesise_netlist(verilog_text, top, device=device)
    return netlist, (cells_sim,), sim_defines(device)


def gate_level_cosim(verilog_text, top, stimulus, expected, signed_ports=(), build_root=None,
                     device="up5k"):
    """:func:`scfpga.sim.cosim` of the netlist synthesised from ``verilog_text``.

    Same arguments and result (:class:`scfpga.sim.CosimResult`) as ``cosim``; the design is
    first run through ``synth_ice40`` or ``synth_ecp5`` for ``device``.
    """
    netlist, cells_sim = synthesise_netlist(verilog_text, top, device=device)
    return cosim(netlist, top, stimulus, expected, signed_ports, build_root=build_root,
                 extra_sources=[cells_sim], defines=sim_defines(device))
