"""A larger co-simulation campaign than `make test` runs: seeded random configurations of every
primitive and of dense layers, every cycle compared with the golden model, many designs per
simulation (scfpga.sim.campaign).

Writes results/cosim_campaign.json and .md: per kind, configurations proven and cycles compared;
the CPU and wall time of generation and simulation. Exits 1 on any mismatch, naming it.

    .venv/bin/python scripts/cosim_campaign.py [--per-kind 50] [--seed 100] [--cycles 600]
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

from scfpga.sim.campaign import KINDS, cosim_many, random_campaign

OUT = Path("results")


def _cpu():
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-kind", type=int, default=50)
    ap.add_argument("--seed", type=int, default=100)
    ap.add_argument("--cycles", type=int, default=600)
    ap.add_argument("--batch", type=int, default=100, help="designs per simulation")
    args = ap.parse_args()
    t0, c0 = time.perf_counter(), _cpu()
    rows, bad = {}, []
    for k, kind in enumerate(KINDS):
        cases = random_campaign(args.seed + k, args.per_kind, args.cycles, kinds=(kind,))
        results = []
        for lo in range(0, len(cases), args.batch):
            results += cosim_many(cases[lo:lo + args.batch], build_root="build/campaign")
        bad += [f"{c.name}: {r.describe()}" for c, r in zip(cases, results) if not r.ok]
        rows[kind] = {"configurations": len(cases), "proven": sum(r.ok for r in results),
                      "cycles": sum(r.cycles for r in results)}
        print(f"{kind:8s} {rows[kind]['proven']}/{len(cases)} bit-exact, "
              f"{rows[kind]['cycles']:,} cycles", flush=True)
    out = {"seed": args.seed, "per_kind": args.per_kind, "cycles": args.cycles, "kinds": rows,
           "wall_s": round(time.perf_counter() - t0, 1), "cpu_s": round(_cpu() - c0, 1),
           "mismatches": bad}
    (OUT / "cosim_campaign.json").write_text(json.dumps(out, indent=1) + "\n")
    total = sum(r["configurations"] for r in rows.values())
    lines = ["# Co-simulation campaign", "",
             f"{total} seeded random configurations (seed {args.seed}, >= {args.cycles} cycles "
             f"each, {args.batch} designs per simulation), every cycle compared with the golden "
             f"model: {total - len(bad)} bit-exact, {out['cpu_s']} CPU s ({out['wall_s']} s wall).",
             "", "| kind | configurations | bit-exact | cycles compared |", "|---|---:|---:|---:|"]
    lines += [f"| {k} | {r['configurations']} | {r['proven']} | {r['cycles']:,} |"
              for k, r in rows.items()]
    lines += ["", "Regenerate: `.venv/bin/python scripts/cosim_campaign.py` "
              f"(`--per-kind {args.per_kind} --seed {args.seed} --cycles {args.cycles}`)."]
    (OUT / "cosim_campaign.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    if bad:
        print(f"{len(bad)} mismatches, first: {bad[0]}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
