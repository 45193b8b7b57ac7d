"""From a runnable design and a board to a bitstream and a build report.

The board top is converted to Verilog, the pins come from the board catalogue as a PCF, and
:func:`scfpga.boards.build.build_verilog` runs Yosys, nextpnr and icepack. Its ``report.json`` gains a
``board`` section (board, clock, PLL, UART, whether the engine serves BATCH) and a ``design`` section (description and id).
"""
import json
import tempfile
from pathlib import Path

from amaranth.back import verilog

from .build import OutputExists, build_verilog
from .catalog import board as lookup_board
from .protocol import DEFAULT_BAUD
from .top import BoardTop, core_clock

TOP = "board_top"
DESIGN_FILE = "design.json"


def board_verilog(design, board, freq_mhz=None, baud=DEFAULT_BAUD, batch=None):
    """``(verilog_text, BoardTop)`` for a runnable design on a board (``batch``: as
    :class:`.top.BoardTop`)."""
    top = BoardTop(board, design.component(), freq_mhz, baud, batch)
    return verilog.convert(top, name=TOP, emit_src=False), top


def build_board(design, board_name, out_dir, freq_mhz=None, baud=DEFAULT_BAUD, seed=1,
                force=False, progress=None, batch=None, dsp=None):
    """Build a bitstream of ``design`` for a board; the report dict (also ``report.json``).

    Besides :func:`scfpga.boards.build.build_verilog`'s outputs (top ``board_top``), a design with a
    ``spec`` gets ``design.json``, the design file ``scfpga run`` takes.

    Parameters
    ----------
    design : runnable design
        E.g. a :class:`.designs.BlockDesign`.
    board_name : str
        A key of :data:`.catalog.BOARDS`.
    freq_mhz : float or None
        Core clock; ``None`` is the board's default. The timing target is the frequency the
        PLL actually achieves.
    batch : bool or None
        Whether the protocol engine serves BATCH; ``None`` is the board's default
        (:func:`.top.batch_default`: not on the iCEstick). Recorded as ``board.batch``.
    dsp : bool or None
        Multipliers in DSPs, as :func:`scfpga.boards.build.build_verilog` (default: on the UP5K).

    Raises
    ------
    ParameterError, OutputExists, DesignTooLarge, BuildError
        As :func:`scfpga.boards.build.build_verilog` (a bad board or frequency is a ParameterError).
    """
    board = lookup_board(board_name)
    say = progress or (lambda _msg: None)
    spec = getattr(design, "spec", None)
    design_file = Path(out_dir) / DESIGN_FILE
    if spec is not None and design_file.exists() and not force:
        raise OutputExists(f"{design_file} exists; pass force=True (--force) to overwrite it")
    if design_file.exists() and force:
        design_file.unlink()             # no stale design may outlive a failed rebuild
    core_clock(board, freq_mhz)           # a bad clock fails before anything is generated
    top = BoardTop(board, design.component(), freq_mhz, baud, batch)
    say(f"generating the {board.name} top for {design.name} "
        f"({design.n_loads} loads, {design.n_results} results, {design.length} cycles per run)")
    text = verilog.convert(top, name=TOP, emit_src=False)
    suffix, constraints = board.constraints()        # a PCF (iCE40) or an LPF (ECP5)
    with tempfile.TemporaryDirectory() as tmp:
        pcf = Path(tmp) / f"{TOP}{suffix}"
        pcf.write_text(constraints)
        report = build_verilog(text, TOP, out_dir, device=board.device, package=board.package,
                               freq_mhz=round(top.clk_mhz, 6), seed=seed, pcf=pcf, force=force,
                               progress=progress, speed=board.speed, dsp=dsp)
    report["pcf"] = str(Path(out_dir) / f"{TOP}{suffix}")
    report["board"] = {
        "name": board.name, "title": board.title, "platform": board.platform.__name__,
        "oscillator_mhz": board.osc_mhz,
        "requested_mhz": board.default_mhz if freq_mhz is None else freq_mhz,
        "clock_mhz": round(top.clk_mhz, 6), "clock_hz": top.clk_hz,
        "pll": dict(top.pll.as_dict(), primitive=board.pll) if top.pll else None,
        "uart": {"baud": baud, "divisor": top.core.divisor,
                 "baud_error": round(abs(top.clk_hz / top.core.divisor - baud) / baud, 5),
                 "timeout_cycles": top.core.timeout_cycles},
        "batch": top.core.batch,
        "pins": {port: pin for port, (pin, _) in board.pins().items()},
        "notes": board.notes,
    }
    report["design"] = dict(design.describe(), design_id=design.design_id,
                            n_loads=design.n_loads, n_results=design.n_results)
    (Path(out_dir) / "report.json").write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    if spec is not None:                 # for `scfpga run --port PORT OUT/design.json`
        design_file.write_text(json.dumps(spec, indent=2, sort_keys=True) + "\n")
    return report


def summary(report):
    """A few human lines about a board build."""
    b, lc = report["board"], report["logic_cells"]
    clocks = ", ".join(f"{name} {f['achieved']:.1f} MHz (target {f['target']:.1f}, "
                       f"{'met' if f['met'] else 'NOT met'})" for name, f in report["fmax_mhz"].items())
    pll = b["pll"]
    if pll and pll["primitive"] == "EHXPLLL":
        clock = (f"{b['clock_mhz']:g} MHz via EHXPLLL (CLKI_DIV={pll['clki_div']} "
                 f"CLKFB_DIV={pll['clkfb_div']} CLKOP_DIV={pll['clkop_div']})")
    elif pll:
        clock = (f"{b['clock_mhz']:g} MHz via {pll['primitive']} (DIVR={pll['divr']} "
                 f"DIVF={pll['divf']} DIVQ={pll['divq']})")
    else:
        clock = f"{b['clock_mhz']:g} MHz (oscillator, no PLL)"
    cells = "LUT4s" if report.get("family") == "ecp5" else "LCs"
    return "\n".join([
        f"{report['design']['design']} on {b['name']} ({report['device']}-{report['package']}), "
        f"design id 0x{report['design']['design_id']:08x}",
        f"  clock    {clock}; UART {b['uart']['baud']} baud"
        + ("" if b.get("batch", True) else "; no BATCH (WRITE, RUN, READ per sample)"),
        f"  logic    {lc['used']}/{lc['total']} {cells}, {report['flip_flops']} FFs, "
        f"EBR {report['ebr']['used']}/{report['ebr']['total']}, "
        f"DSP {report['dsp']['used']}/{report['dsp']['total']}"
        + (f" ({report['dsp_note']})" if report.get("dsp_note") else "")
        + (f", SPRAM {report['spram']['used']}/{report['spram']['total']}"
           if report.get("family") != "ecp5" else ""),
        f"  timing   {clocks}",
    ] + ([f"  note     {report['dsp_timing_note']}"] if report.get("dsp_timing_note") else []))
