"""Formal proofs with their depths and times, and where each stops scaling.

    .venv/bin/python scripts/formal_proofs.py [--out results/formal] [--timeout 300]

Runs :mod:`scfpga.prove`: every proof of ``make test`` (the fast set), the period proofs at
growing widths (the BMC bound is 2**W cycles) until one exceeds ``--timeout``, the protocol
engine at growing depths, and RTL == netlist equivalence for every target on iCE40 and ECP5.
Writes ``proofs.json`` and ``proofs.md`` to ``--out``. Times are wall-clock on this machine
(2 cores, shared).
"""
import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))                 # run from a checkout without installing

from scfpga.prove import (EQUIV_TARGETS, engine_proofs, equiv_proofs, lfsr_proofs,  # noqa: E402
                          proofs, run_proof, sng_proofs, sobol_proofs)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=str(ROOT / "results" / "formal"))
    ap.add_argument("--timeout", type=float, default=300, help="seconds per proof")
    ap.add_argument("--skip-fast", action="store_true")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []

    def run(task, group):
        r = run_proof(task, timeout=args.timeout)
        row = dict(r.as_dict(), group=group)
        rows.append(row)
        print(f"{r.status:7s} {r.name:40s} {r.method:26s} {r.seconds:7.1f} s", flush=True)
        (out / "proofs.json").write_text(json.dumps(rows, indent=2) + "\n")
        (out / "proofs.md").write_text(table(rows) + "\n")
        return r

    if not args.skip_fast:
        for task in proofs("fast"):
            run(task, "fast (make test)")
    for make, widths in ((lfsr_proofs, range(6, 11)), (sobol_proofs, range(4, 10)),
                         (sng_proofs, range(4, 10))):
        for w in widths:
            tasks = [t for t in make(w) if t.mode == "bmc"]
            results = [run(t, "period scaling") for t in tasks]
            if any(r.status != "PASS" for r in results):
                break
    for depth in (24, 32, 40, 48):
        if run(engine_proofs(depth)[0], "engine depth").status != "PASS":
            break
    for family in ("ice40", "ecp5"):
        for task in equiv_proofs(list(EQUIV_TARGETS), family):
            run(task, f"equivalence ({family})")
    return 0


def table(rows):
    lines = ["| group | proof | claim | method | result | time s |", "|---|---|---|---|---|---:|"]
    for r in rows:
        lines.append(f"| {r['group']} | {r['name']} | {r['claim']} | {r['method']} | "
                     f"{r['status']} | {r['seconds']:.1f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
