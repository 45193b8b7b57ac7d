"""``scfpga build`` and ``scfpga run``: runnable designs on iCE40 boards.

Registered through :data:`scfpga.cli.EXTENSIONS`. User errors (bad option, unknown board,
existing output without ``--force``) print one line and exit 2; a design that does not fit,
missed timing (without ``--allow-timing-fail``), a tool failure, a board that does not answer
or results that differ from the golden model exit 1.
"""
import argparse
import json
import io
import sys
import time
from pathlib import Path

import numpy as np

from .boards.build import BuildError, OutputExists
from .boards.catalog import ALL_BOARDS as BOARDS
from .boards import flow
from .boards.flow import summary
from .boards.host import BoardClient
from .boards.network_host import write_weights
from .boards.ops import load_design, runnable, runnable_names, runnable_type
from .boards.protocol import DEFAULT_BAUD, ProtocolError
from .boards.toolchain import ToolchainMissing
from .cli import (UsageError, _Parser, add_op_arguments, add_options, check_args, load_x, nir_report,
                  op_values, output_file, with_flag)
from .model.ops import OPS
from .model.params import ParameterError, check_output_dir, write_file

# Build outputs that make a build look finished: removed when a build is interrupted.
FINISHED_OUTPUTS = ("board_top.bin", "board_top.bit", "board_top.asc", "board_top.config",
                    "report.json", "design.json")


BAUD_HELP = ("UART baud rate (default: the one in report.json next to DESIGN, as built; "
             "else 115200)")


def _built_board(design_path):
    """The ``board`` section of the ``report.json`` next to ``design_path`` ({} if none)."""
    try:
        board = json.loads((Path(design_path).parent / "report.json").read_text())["board"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return board if isinstance(board, dict) else {}


def link_baud(design_path, baud):
    """``baud``, or the rate the build of ``design_path`` chose (its ``report.json``), or the
    protocol's default."""
    if baud is not None:
        return baud
    try:
        return int(_built_board(design_path)["uart"]["baud"])
    except (KeyError, TypeError, ValueError):
        return DEFAULT_BAUD


def link_batch(design_path):
    """Whether the build of ``design_path`` (its ``report.json``) serves BATCH; True when no
    report says otherwise. The software board (``--port sim``) is built alike."""
    return bool(_built_board(design_path).get("batch", True))


def _add_build_options(p, defaults=None):
    d = defaults or {}
    p.add_argument("--board", default=d.get("board"),
                   help=f"target board: {', '.join(BOARDS)}")
    p.add_argument("--freq", type=float, default=d.get("freq"),
                   help="core clock in MHz: the oscillator's (no PLL) or 16..275 through the "
                        "iCE40 PLL, 10..400 through the ECP5 PLL (default: 18 on UP5K boards, "
                        "24 on HX boards, 50 on ECP5 boards)")
    p.add_argument("-o", "--output", default=d.get("output"), help="output directory")
    p.add_argument("--force", action="store_true", default=d.get("force", False),
                   help="overwrite the outputs of an earlier build")
    p.add_argument("--allow-timing-fail", action="store_true",
                   default=d.get("allow_timing_fail", False),
                   help="exit 0 even when the achieved Fmax is below the clock")
    # Not --seed: that is the LFSR seed of the block options.
    p.add_argument("--pnr-seed", type=int, default=d.get("pnr_seed", 1),
                   help="nextpnr placer seed, 0..2147483647 (default: 1)")
    p.add_argument("--baud", type=int, default=d.get("baud", 115200), help="UART baud rate (default: 115200)")
    p.add_argument("--batch", action=argparse.BooleanOptionalAction, default=d.get("batch"),
                   help="serve the BATCH command (many samples per request; about 500 iCE40 "
                        "logic cells). Default: yes, except on the iCEstick (HX1K); --no-batch "
                        "saves the cells, the host then sends WRITE, RUN and READ per sample")
    p.add_argument("--dsp", action=argparse.BooleanOptionalAction, default=d.get("dsp"),
                   help="multipliers (leaky neuron updates) in the UP5K's SB_MAC16 DSPs. "
                        "Default: yes on UP5K boards, falling back to logic cells when there "
                        "are more than 8; --no-dsp builds them from logic cells")


def register(sub):
    """Add ``build`` and ``run`` to the ``scfpga`` subcommands."""
    blocks = ", ".join(runnable_names())
    b = sub.add_parser(
        "build", help="build an iCE40 or ECP5 bitstream of a block or design file for a board",
        description="Wrap a runnable design in the board top (PLL, UART protocol engine, LEDs), "
                    "synthesise, place and route it and write OUT/board_top.bin (iCE40) or .bit (ECP5) and "
                    "OUT/report.json. BLOCK_OR_DESIGN is a block name followed by its options "
                    f"({blocks}; see 'scfpga build BLOCK --help') or a .toml/.json design file.",
        epilog="example: scfpga build sng --width 10 --board icebreaker -o build/sng")
    b.add_argument("target", metavar="BLOCK_OR_DESIGN", help=f"{blocks}, or a design file")
    b.add_argument("rest", nargs=argparse.REMAINDER, metavar="...",
                   help="the block's options and the build options below")
    _add_build_options(b)
    b.set_defaults(func=cmd_build)

    r = sub.add_parser(
        "run", help="run a design on a board over its serial port and check it against the model",
        description="Quantise X to the design's loads, run every sample on the board "
                    "(WRITE, RUN, READ) and compare with the golden model. PORT 'sim' is a "
                    "software board (no hardware).")
    r.add_argument("--port", required=True, help="serial port (e.g. /dev/ttyUSB1) or 'sim'")
    r.add_argument("design", metavar="DESIGN", help="design file (.toml/.json), e.g. OUT/design.json of a build")
    r.add_argument("--x", required=True, help=".npy of values in [0, 1], shape (n_loads,) or (batch, n_loads)")
    r.add_argument("--baud", type=int, default=None, help=BAUD_HELP)
    r.add_argument("--timeout", type=float, default=2.0,
                   help="seconds to wait for each reply, > 0 and <= 3600 (default: 2)")
    r.add_argument("-o", "--output", help="write the results (batch, n_results) to this .npy")
    r.add_argument("--force", action="store_true", help="overwrite --output")
    r.set_defaults(func=cmd_run)


# ------------------------------------------------------------------------------------ build

def _target_parser(target, first):
    """Second-stage parser for ``build TARGET ...``: the op's options, its design's run options
    and the build options."""
    p = _Parser(prog=f"scfpga build {target}", description=f"build {target} for a board")
    if target in OPS:
        add_op_arguments(p, OPS[target])
        add_options(p, getattr(runnable_type(OPS[target]), "RUN_OPTIONS", ()))
    _add_build_options(p, vars(first))
    return p


def _design(target, args):
    if target in OPS:
        op = OPS[target]
        run = {o.field: getattr(args, o.field)
               for o in getattr(runnable_type(op), "RUN_OPTIONS", ())}
        return runnable(op, op_values(op, args), **run)
    if Path(target).suffix in (".toml", ".json"):
        return load_design(target)
    raise ParameterError(f"BLOCK_OR_DESIGN must be one of {', '.join(runnable_names())} or a "
                         f".toml/.json design file, got {target!r}")


def _block_message(target, message):
    """Name the CLI flag in a parameter error, as ``scfpga gen`` does."""
    return with_flag(OPS[target], message) if target in OPS else message


def _remove_unfinished(out, started):
    """After an interrupted build: remove the outputs that would make it look finished."""
    for name in FINISHED_OUTPUTS:
        p = Path(out) / name
        try:
            if p.exists() and p.stat().st_mtime >= started:
                p.unlink()
        except OSError:
            pass


def cmd_build(first):
    args = check_args(_target_parser(first.target, first).parse_args(first.rest))
    if args.board is None:
        raise UsageError(f"--board is required (one of {', '.join(BOARDS)})")
    if args.output is None:
        raise UsageError("-o/--output (the output directory) is required")
    if args.freq is not None and not (args.freq == args.freq and 0 < args.freq < float("inf")):
        raise UsageError(f"--freq must be a positive number of MHz, got {args.freq}")
    try:
        check_output_dir("-o/--output", args.output)
        design = _design(first.target, args)
        if first.target in OPS:
            nir_report(OPS[first.target], args)
    except ParameterError as e:
        raise UsageError(_block_message(first.target, str(e))) from None
    progress = lambda msg: print(msg, file=sys.stderr, flush=True)   # noqa: E731
    started = time.time() - 1.0                  # file times may be coarser than time.time()
    try:
        report = flow.build_board(design, args.board, args.output, freq_mhz=args.freq,
                                  baud=args.baud, seed=args.pnr_seed, force=args.force,
                                  progress=progress, batch=args.batch, dsp=args.dsp)
    except (OutputExists, ToolchainMissing) as e:
        raise UsageError(str(e)) from None
    except ParameterError as e:
        raise UsageError(str(e).replace("seed must", "--pnr-seed must", 1)
                         if str(e).startswith("seed ") else str(e)) from None
    except BuildError as e:                          # DesignTooLarge too: one line, exit 1
        print(f"scfpga: error: {e}", file=sys.stderr)
        return 1
    # Last: an earlier clause that catches everything would shadow the ones after it (this
    # made DesignTooLarge an "internal error" with a traceback hint).
    except BaseException:
        _remove_unfinished(args.output, started)     # Ctrl-C, SIGTERM, a crash: nothing finished
        raise
    print(summary(report))
    out = Path(args.output)
    failing = {name: f for name, f in report["fmax_mhz"].items() if not f["met"]}
    if failing:
        what = "; ".join(f"clock {name} reaches {f['achieved']:.2f} MHz, below the target "
                         f"{f['target']:.2f} MHz" for name, f in failing.items())
        if not args.allow_timing_fail:
            print(f"scfpga: error: timing not met: {what}. Lower --freq, or pass "
                  f"--allow-timing-fail to accept the bitstream in {out}", file=sys.stderr)
            return 1
        print(f"warning: timing not met ({what}); accepted (--allow-timing-fail)", file=sys.stderr)
    print(f"wrote {out / report.get('bitstream', 'board_top.bin')}, {out / 'report.json'}"
          + (f", {out / 'design.json'}" if getattr(design, 'spec', None) is not None else ""))
    return 0


# -------------------------------------------------------------------------------------- run

def cmd_run(args):
    # The output path is checked before any sample runs, so a bad path loses nothing.
    out = output_file("-o/--output", args.output, args.force, ".npy") if args.output else None
    try:
        design = load_design(args.design)
        loads = design.loads_from_x(load_x(args.x))
    except ParameterError as e:
        raise UsageError(str(e)) from None
    if len(loads) == 0:
        raise UsageError(f"--x {args.x} holds no samples")
    expected = design.expected_results(loads)
    try:
        baud = link_baud(args.design, args.baud)
        with BoardClient.open(args.port, baud, design=design, timeout=args.timeout,
                              batch=link_batch(args.design)) as board:
            info = board.check_design(design)
            print(f"board: {design.name} (design id 0x{info.design_id:08x}), "
                  f"{info.clk_hz / 1e6:g} MHz, {info.length} cycles per run, {baud} baud",
                  file=sys.stderr)
            # Run-time weights: the design file's own, written first (SPRAM starts undefined).
            write_weights(board, design)
            results = board.evaluate(design, loads)        # batched, decoded
        for i, row in enumerate(loads):
            print(f"sample {i}: loads {row.tolist()} -> {results[i].tolist()} "
                  f"(model {expected[i].tolist()})")
    except ProtocolError as e:
        print(f"scfpga: error: {e}", file=sys.stderr)
        return 1
    if out is not None:
        buffer = io.BytesIO()
        np.save(buffer, results)
        try:
            write_file("-o/--output", out, buffer.getvalue())
        except ParameterError as e:          # e.g. the disk filled up during the run
            print(f"scfpga: error: {e}", file=sys.stderr)
            return 2
    bad = np.flatnonzero((results != expected).any(axis=1))
    if len(bad):
        print(f"{len(bad)} of {len(loads)} samples differ from the golden model "
              f"(first: sample {bad[0]})")
        return 1
    print(f"{len(loads)} samples bit-exact with the golden model")
    return 0
