"""Cost of event-driven synapses: clocks per step against active inputs, memory against synapses.

Clocks: two layers, a dense ``EventLinear`` 64 -> 32 (8-bit seeded random weights, every
entry non-zero) and a sparse ``EventFixedProb`` 256 -> 64 (p = 0.1, seed 1). For each, one step
per activity level (0, 1/16, ..., 16/16 of the inputs firing, a seeded random subset) is
co-simulated in RTL (Icarus, :class:`scfpga.hdl.event.EventSynapses`) with every output checked
against the model, including the engine's own ``step_cycles`` counter; the table and plot show
those clocks and the least-squares line through them.

Memory: ``EventFixedProb`` 256 -> 256 for p in 0.005 .. 0.5 (seed 1, 8-bit weights): the bits
of the row and synapse memories the generator initialises
(:func:`scfpga.model.event.memory_bits`) next to a dense 8-bit weight matrix.

    python scripts/event_cost.py [--out STEM]

Writes ``STEM.json``, ``STEM.md`` and ``STEM.png`` (default ``results/event_cost``).
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scfpga.hdl.event import EventSynapses  # noqa: E402
from scfpga.hdl.verilog import to_verilog  # noqa: E402
from scfpga.model.event import (connectivity, event_cycles, from_connections,  # noqa: E402
                                from_dense, memory_bits)
from scfpga.sim import cosim  # noqa: E402
from scfpga.sim import event as bench  # noqa: E402


def layers():
    rng = np.random.default_rng(1)
    w = rng.integers(1, 128, (64, 32)) * rng.choice((-1, 1), (64, 32))
    dense = from_dense(w, 8)
    pre, post = connectivity(256, 64, 0.1, 1, "prob")
    sparse = from_connections(256, 64, pre, post, rng.integers(-128, 128, len(pre)), 8)
    return {"EventLinear 64->32 (dense)": dense, "EventFixedProb 256->64 (p=0.1)": sparse}


def measure_cycles(name, p, build_root):
    rng = np.random.default_rng(2)
    active = [int(round(k * p.n_pre / 16)) for k in range(17)]
    spikes = np.zeros((len(active), p.n_pre), np.uint8)
    for row, a in zip(spikes, active):
        row[rng.permutation(p.n_pre)[:a]] = 1
    # Enough cycles for every step (cost plus FIFO latency and the publish cycle each).
    cycles = int(event_cycles(p, spikes).sum() + len(active) * 8 + 8)
    stim, expected = bench.make_case(p, cycles, rng, p_on=1.0, spikes=spikes)
    result = cosim(to_verilog(EventSynapses(p), "event"), "event", stim, expected,
                   bench.SIGNED_PORTS, build_root=build_root)
    if not result.ok:
        sys.exit(f"{name}: RTL differs from the model: {result.describe('event')}")
    measured = expected["step_cycles"][expected["out_valid"] == 1]
    if len(measured) != len(active):
        sys.exit(f"{name}: {len(measured)} of {len(active)} steps published")
    slope, icpt = np.polyfit(active, measured, 1)
    fit = slope * np.asarray(active) + icpt
    r2 = 1 - ((measured - fit) ** 2).sum() / max(1e-12, ((measured - measured.mean()) ** 2).sum())
    return {"layer": name, "n_pre": p.n_pre, "n_post": p.n_post, "synapses": p.n_synapses,
            "active": active, "cycles": measured.tolist(), "rtl_cycles_checked": result.cycles,
            "slope": float(slope), "intercept": float(icpt), "r2": float(r2)}


def measure_memory():
    rows = []
    for prob in (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5):
        pre, post = connectivity(256, 256, prob, 1, "prob")
        p = from_connections(256, 256, pre, post, 1, 8)
        rows.append({"p": prob, "synapses": p.n_synapses, "memory_bits": memory_bits(p),
                     "dense_bits": 256 * 256 * 8})
    return rows


def write(out, data):
    out.with_suffix(".json").write_text(json.dumps(data, indent=1) + "\n")
    md = ["# Event-driven synapses: cost follows activity", "",
          "Clocks per time step of the RTL engine against the number of inputs that fired "
          "(each step co-simulated, every output and the engine's own cycle counter equal to "
          "the model; `scripts/event_cost.py`):", "",
          "| layer | synapses | clocks at 0 % / 50 % / 100 % active | fitted line (clocks) | R² |",
          "|---|---:|---:|---|---:|"]
    for c in data["cycles"]:
        mid = c["cycles"][len(c["cycles"]) // 2]
        md.append(f"| {c['layer']} | {c['synapses']} | {c['cycles'][0]} / {mid} / "
                  f"{c['cycles'][-1]} | {c['intercept']:.1f} + {c['slope']:.2f} × active | "
                  f"{c['r2']:.4f} |")
    md += ["", "Memory of a 256 -> 256 `EventFixedProb` (8-bit weights) against its synapse "
           "count; a dense 8-bit matrix needs 524288 bits at any density:", "",
           "| p | synapses | memory bits | bits per synapse | dense bits |",
           "|---:|---:|---:|---:|---:|"]
    for m in data["memory"]:
        md.append(f"| {m['p']} | {m['synapses']} | {m['memory_bits']} | "
                  f"{m['memory_bits'] / max(1, m['synapses']):.1f} | {m['dense_bits']} |")
    out.with_suffix(".md").write_text("\n".join(md) + "\n")

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    for c in data["cycles"]:
        a.plot(c["active"], c["cycles"], "o", label=c["layer"])
        x = np.asarray(c["active"])
        a.plot(x, c["slope"] * x + c["intercept"], "-", lw=0.8, color=a.lines[-1].get_color())
    a.set(xlabel="active inputs in the step", ylabel="clocks per step (RTL)",
          title="cycles per step vs activity")
    a.legend(fontsize=8)
    m = data["memory"]
    b.plot([r["synapses"] for r in m], [r["memory_bits"] for r in m], "o-", label="CSR memory")
    b.axhline(m[0]["dense_bits"], color="gray", ls="--", label="dense 8-bit matrix")
    b.set(xlabel="synapses", ylabel="memory bits", title="memory vs synapses (256 -> 256)")
    b.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out.with_suffix(".png"), dpi=110)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "results" / "event_cost"))
    args = ap.parse_args()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    build_root = ROOT / "build" / "event_cost"
    data = {"cycles": [measure_cycles(name, p, build_root) for name, p in layers().items()],
            "memory": measure_memory()}
    write(out, data)
    for c in data["cycles"]:
        print(f"{c['layer']}: {c['intercept']:.1f} + {c['slope']:.2f} x active (R2 {c['r2']:.4f})")
    print(f"wrote {out}.json/.md/.png")


if __name__ == "__main__":
    main()
