"""``scfpga prove BLOCK``: formal proofs of a block's properties (:mod:`scfpga.prove`).

Registered through :data:`scfpga.cli.EXTENSIONS`. A bad option or a missing tool (SBY, the
yices solver) prints one line and exits 2; a property that fails or a tool error exits 1.
"""
import sys
from pathlib import Path

from .boards.toolchain import ToolchainMissing
from .cli import UsageError
from .model.params import ParameterError
from .prove import BLOCKS, EQUIV_TARGETS, proofs, require_sby, run_proof, write_results
from .sim.runner import default_build_root


def register(sub):
    p = sub.add_parser(
        "prove", help="prove a block's properties formally (SymbiYosys, Yosys equivalence)",
        description="Run the formal proofs of BLOCK: lfsr (never 0; period exactly 2**W-1), "
                    "sobol (each aligned period a permutation), sng (exactly P ones per Sobol "
                    "period), lif (LIFCore saturates, never wraps), neuron (LIFStep is the "
                    "model's rule), engine (the protocol engine answers or times out), equiv "
                    "(RTL == post-synthesis netlist); 'fast' runs the set `make test` runs, "
                    "'all' every block.",
        epilog="example: scfpga prove lfsr --width 8")
    p.add_argument("block", metavar="BLOCK", help=", ".join(BLOCKS + ("fast", "all")))
    p.add_argument("--width", type=int, help="width W of lfsr/sobol/sng (3..16, default 5; the "
                   "period proofs take 2**W cycles) or of the lif/neuron membrane (default 8)")
    p.add_argument("--depth", type=int, help="engine: BMC depth in cycles (default 40)")
    p.add_argument("--target", action="append", metavar="NAME",
                   help=f"equiv: a block to check ({', '.join(EQUIV_TARGETS)}; repeatable; "
                        "default all)")
    p.add_argument("--family", choices=("ice40", "ecp5"), default="ice40",
                   help="equiv: the synthesis to check against (default: ice40)")
    p.add_argument("--work", default=None, help="directory for the proof runs "
                   "(default: build/sim/prove)")
    p.add_argument("-o", "--output", help="write the results as JSON")
    p.add_argument("--force", action="store_true", help="overwrite --output")
    p.set_defaults(func=cmd_prove)


def cmd_prove(args):
    out = Path(args.output) if args.output else None
    if out is not None and out.exists() and not args.force:
        raise UsageError(f"{out} exists; use --force to overwrite it")
    try:
        tasks = proofs(args.block, args.width, args.depth, args.target, args.family)
        require_sby()
    except (ParameterError, ToolchainMissing) as e:
        raise UsageError(str(e)) from None
    results = []
    for task in tasks:
        print(f"proving {task.name}: {task.claim}", file=sys.stderr, flush=True)
        r = run_proof(task, args.work)
        results.append(r)
        print(f"{r.status:5s} {r.name:40s} {r.method:28s} {r.seconds:7.1f} s", flush=True)
    if out is not None:
        write_results(results, out)
    bad = [r for r in results if not r.ok]
    if bad:
        print(f"scfpga: error: {len(bad)} of {len(results)} proofs did not pass "
              f"({', '.join(r.name for r in bad)}); logs under "
              f"{args.work or default_build_root() / 'prove'}", file=sys.stderr)
        return 1
    print(f"{len(results)} proofs passed in {sum(r.seconds for r in results):.1f} s")
    return 0
