"""Fidelity of every fixed-point neuron type to its float equations, against the state width.

Workload (seeded): 256 neurons x 1000 SC cycles; each neuron's current per cycle is the sum of
64 bipolar product bits, ``I = 2*Binomial(64, p) - 64`` with ``p ~ U(0.5, 0.62)`` per neuron
(mean current 0..15, sd ~8), the input a dense layer of 64 synapses feeds a neuron. Each type
runs with fixed float parameters (listed in the output) through

* the float64 textbook equations (:func:`scfpga.model.neuron_types.reference_run`), and
* the fixed-point model at state width W (``coef_bits = min(W, 18)``), with the format's range
  ``v_range`` set once per type to the power of two above 1.1 x the largest state magnitude of
  the float run (so no saturation happens where the float model does not go).

Metrics: spike agreement ``2 |S_fix & S_ref| / (|S_fix| + |S_ref|)`` with spikes compared at
the exact cycle; membrane RMS error divided by the threshold (Izhikevich: by v_peak - c; LI: by
the RMS of its float membrane).

    python scripts/neuron_fidelity.py [--neurons 256] [--cycles 1000] [--seed 0]

Writes ``results/neuron_fidelity.{json,md,png}``.
"""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scfpga.model import neuron_types as nt  # noqa: E402
from scfpga.model.neuron import state_fields  # noqa: E402

WIDTHS = tuple(range(6, 25))
TARGET = 0.99

WORKLOAD = {
    "leaky": dict(beta=0.9, threshold=32.0),
    "if": dict(threshold=64.0),
    "synaptic": dict(alpha=0.8, beta=0.9, threshold=32.0, r=0.2),
    "alpha": dict(alpha=0.9, beta=0.8, threshold=32.0),
    "alif": dict(beta=0.9, threshold=32.0, rho=0.95, adapt=8.0),
    "izhikevich": dict(a=0.02, b=0.2, c=-65.0, d=8.0, dt=0.5, r=1.0),
    "li": dict(beta=0.9),
}


def workload(neurons, cycles, seed):
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.5, 0.62, (neurons, 1))
    return 2 * rng.binomial(64, p, (neurons, cycles)).astype(np.int64) - 64


def float_range(params, currents):
    """Largest state magnitude of the float reference on ``currents``."""
    state = {name: np.zeros(currents.shape[:-1]) for name, _, _ in state_fields(params)}
    ref, top = nt.REFERENCES[type(params)], 0.0
    for k in range(currents.shape[-1] - 1):
        state, _ = ref(params, state, currents[..., k].astype(np.float64))
        top = max(top, max(float(np.abs(v).max()) for v in state.values()))
    return top


def agreement(s_fix, s_ref):
    total = int(s_fix.sum()) + int(s_ref.sum())
    return 1.0 if total == 0 else 2 * int((s_fix & s_ref).sum()) / total


def agreement_within(s_fix, s_ref, tol=1):
    """Like :func:`agreement`, a spike counting as matched if the other has one within ``tol``."""
    total = int(s_fix.sum()) + int(s_ref.sum())
    if total == 0:
        return 1.0

    def dilate(s):
        d = s.copy()
        for k in range(1, tol + 1):
            d[..., k:] |= s[..., :-k]
            d[..., :-k] |= s[..., k:]
        return d
    return (int((s_fix & dilate(s_ref)).sum()) + int((s_ref & dilate(s_fix)).sum())) / total


def measure(name, currents, log=print):
    kw = WORKLOAD[name]
    base = nt.create_neuron(name, width=24, v_range=1e6 if name != "izhikevich" else 256.0,
                            **kw).params
    v_range = float(2 ** np.ceil(np.log2(1.1 * float_range(base, currents))))
    s_ref, m_ref = nt.reference_run(base, currents)
    scale = base.threshold if name != "li" else float(np.sqrt(np.mean(m_ref ** 2)))
    rows = []
    for width in WIDTHS:
        try:
            p = nt.create_neuron(name, width=width, v_range=v_range, **kw).params
        except nt.ParameterError as e:
            rows.append({"width": width, "error": str(e)})
            continue
        s_fix, m_fix = nt.fixed_run(p, currents)
        rms = float(np.sqrt(np.mean((m_fix - m_ref) ** 2)))
        rows.append({"width": width, "frac": p.frac, "coef_bits": p.coef_bits,
                     "agreement": agreement(s_fix, s_ref) if name != "li" else None,
                     "agreement_1": agreement_within(s_fix, s_ref) if name != "li" else None,
                     "spikes_fixed": int(s_fix.sum()), "rms_error": rms,
                     "rms_error_rel": rms / scale})
    ok = [r["width"] for r in rows if "error" not in r and
          ((r["agreement"] or 0) >= TARGET if name != "li" else r["rms_error_rel"] <= 1 - TARGET)]
    first = next((w for w in ok if all(w2 in ok for w2 in WIDTHS if w2 >= w)), None)
    log(f"{name:10s} v_range {v_range:g}  ref spikes {int(s_ref.sum())}  "
        f"99 % at width {first}  " +
        " ".join(f"{r['width']}:{(r.get('agreement') or 0):.3f}/"
                 f"{r.get('rms_error_rel', float('nan')):.3g}" for r in rows))
    return {"params": kw, "v_range": v_range, "scale": scale, "spikes_ref": int(s_ref.sum()),
            "width_99": first, "rows": rows}


def markdown(meta, results):
    show = (8, 10, 12, 14, 16)
    lines = [
        "## Neuron zoo: fixed point against the float equations",
        "",
        f"Every neuron type (`create_neuron(name, **float_params)`) runs in fixed point, "
        f"bit-exact between the golden model and the RTL core, and is measured against the "
        f"float64 textbook equations it quantises (snnTorch `Leaky`/`Synaptic`/`Alpha` with the "
        f"reset in the same step, NIR IF/LI, Bellec's ALIF, Izhikevich 2003 by forward Euler). "
        f"Workload: {meta['neurons']} neurons x {meta['cycles']} SC cycles, current = sum of 64 "
        f"bipolar product bits per cycle (`2*Binomial(64, p) - 64`, `p ~ U(0.5, 0.62)` per "
        f"neuron), seed {meta['seed']}. State width W bits with `coef_bits = min(W, 18)` "
        f"multiplier fraction bits; the format's range is fixed per type from the float run. "
        f"Spike agreement = 2|S_fix & S_ref| / (|S_fix| + |S_ref|), spikes at the exact cycle; "
        f"spikes within one cycle are in the JSON (`agreement_1`). RMS = membrane RMS error / "
        f"threshold (Izhikevich: / (v_peak - c); LI: / RMS of its "
        f"membrane, and its 99 % criterion is RMS <= 1 %).",
        "",
        "| type | float parameters | range | ref. spikes | "
        + " | ".join(f"W={w} agree / RMS" for w in show) + " | 99 % from W |",
        "|---|---|---:|---:|" + "---:|" * len(show) + "---:|",
    ]
    for name, r in results.items():
        by_w = {row["width"]: row for row in r["rows"]}
        cells = []
        for w in show:
            row = by_w.get(w, {})
            if "error" in row or not row:
                cells.append("n/a")
            elif row["agreement"] is None:
                cells.append(f"- / {100 * row['rms_error_rel']:.2f} %")
            else:
                cells.append(f"{100 * row['agreement']:.1f} % / {100 * row['rms_error_rel']:.2f} %")
        params = ", ".join(f"{k}={v:g}" for k, v in r["params"].items())
        lines.append(f"| {name} | {params} | ±{r['v_range']:g} | {r['spikes_ref']} | "
                     + " | ".join(cells) + f" | {r['width_99'] or '> 24'} |")
    lines += ["", "Widest point of the sweep (W = %d): " % WIDTHS[-1] + "; ".join(
        f"{name} {100 * r['rows'][-1]['agreement']:.1f} % exact, "
        f"{100 * r['rows'][-1]['agreement_1']:.1f} % within one cycle"
        for name, r in results.items() if name != "li") + "."]
    lines += [
        "",
        "![spike agreement and membrane error against state width](results/neuron_fidelity.png)",
        "",
        "Types and API: `create_neuron(name, **float_params)` with `leaky`, `if`, `synaptic`, "
        "`alpha`, `alif`, `izhikevich` and `li` (non-spiking readout) returns a neuron that "
        "steps a batch, `spk, state = neuron(current, neuron.init_state(shape))`; NIR time "
        "constants (`tau_mem`, `tau_syn`, `tau_adapt`, `dt`) are folded into the decays by "
        "forward Euler (`beta = 1 - dt/tau`). Unknown types or parameters are a ParameterError "
        "that lists the accepted names. Quantisation (`model/neuron_types.py`): state fields "
        "are signed W-bit fixed point with `frac = W - 1 - ceil(log2(v_range))` fraction bits; "
        "decays and gains are Q.B multipliers (`B = min(W, 18)`, round half up) applied by real "
        "multiplies (the UP5K's SB_MAC16 DSPs with `synth_ice40 -dsp`); one integer current "
        "unit is 1.0 in the float equations and enters the accumulator as "
        "`round(r * 2**(frac + B))`; each update is one exact sum, one round-half-up shift by "
        "B and a saturating clamp (never wrap-around). The update rule is written once and "
        "evaluated by the NumPy model and, on Amaranth values, by the RTL core "
        "(`hdl/neuron_types.py`), and every type is co-simulated cycle by cycle under cocotb "
        "(`sim/neuron.py`). iCE40 cost per core: `results/neuron_cost.md` "
        "(`scripts/neuron_cost.py`).",
        "",
        "Regenerate: `python scripts/neuron_fidelity.py` (writes "
        "`results/neuron_fidelity.{json,md,png}`).", ""]
    return "\n".join(lines)


def plot(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    for name, r in results.items():
        rows = [row for row in r["rows"] if "error" not in row]
        w = [row["width"] for row in rows]
        if name != "li":
            ax1.plot(w, [100 * row["agreement"] for row in rows], marker="o", ms=3, label=name)
        ax2.semilogy(w, [max(row["rms_error_rel"], 1e-7) for row in rows], marker="o", ms=3,
                     label=name)
    ax1.axhline(100 * TARGET, color="k", lw=0.8, ls="--")
    ax1.set(xlabel="state width W (bits)", ylabel="spike agreement with float (%)",
            ylim=(0, 101), title="spike-time agreement")
    ax2.axhline(1 - TARGET, color="k", lw=0.8, ls="--")
    ax2.set(xlabel="state width W (bits)", ylabel="membrane RMS error / threshold",
            title="membrane error")
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--neurons", type=int, default=256)
    ap.add_argument("--cycles", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    currents = workload(args.neurons, args.cycles, args.seed)
    t = time.monotonic()
    results = {name: measure(name, currents) for name in WORKLOAD}
    meta = {"neurons": args.neurons, "cycles": args.cycles, "seed": args.seed,
            "widths": list(WIDTHS), "target": TARGET, "seconds": round(time.monotonic() - t, 1)}
    out = ROOT / "results"
    out.mkdir(exist_ok=True)
    text = json.dumps({**meta, "types": results}, indent=2) + "\n"
    (out / "neuron_fidelity.json").write_text(text)
    (out / "neuron_fidelity.md").write_text(markdown(meta, results))
    plot(results, out / "neuron_fidelity.png")
    print(f"wrote {out}/neuron_fidelity.{{json,md,png}} ({meta['seconds']} s)")


if __name__ == "__main__":
    main()
