"""iCEBreaker build of the digits conv network (:mod:`scfpga.digits_conv`) with the board top.

Trains the float conv network (seeded, as ``scripts/digits_conv.py``), converts it
(:func:`scfpga.digits_conv.to_network`, optionally with ``--accumulation exact`` for the conv
layer) and builds it with :func:`scfpga.boards.flow.build_board` (UART, protocol engine, PLL;
nextpnr seed 1) at ``--freq`` MHz. Records logic cells, flip-flops, EBR, Fmax and the schedule.

    python scripts/conv_board.py [--freq MHZ] [--label NAME] [--accumulation exact] [--tac K]
                                 [--out STEM] [--render]

``--tac K``: the conv layer in the network's TAC mode (:class:`scfpga.model.conv_tac.
TACConvLayer`, beta = 1, IF neuron of threshold ``THETA * 2**W * K``, as ``scripts/conv_tac.py``);
its SC cycles inside a chunk are short, so clocks per inference come from its schedule.

A build that nextpnr cannot place is recorded with the utilisation it reported (``placed``
false). ``--render`` rewrites ``STEM.md`` from ``STEM.json`` without building.

Writes ``STEM.json`` (one entry per ``--label``, merged with earlier runs) and ``STEM.md``
(default ``results/conv_board``).
"""
import argparse
import dataclasses
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scfpga.boards.flow import build_board  # noqa: E402
from scfpga.boards.network_design import NetworkDesign  # noqa: E402
from scfpga.digits import load_split  # noqa: E402
from scfpga.digits_conv import THETA, to_network, train_conv  # noqa: E402
from scfpga.model.conv_tac import TACConvLayer, TACParams  # noqa: E402
from scfpga.model.neuron import lif_neuron  # noqa: E402
from scfpga.hdl.network import schedule  # noqa: E402


def with_tac(params, k):
    """The digits conv network with its conv layer in the network's TAC mode, chunk ``k``."""
    tac = TACParams(k)
    neuron = lif_neuron(width=28, threshold=THETA * tac.scale(params.width), leak_shift=0,
                        reset="subtract")
    return dataclasses.replace(params, layers=(TACConvLayer.from_conv(
        params.layers[0], tac, neuron),) + params.layers[1:])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--freq", type=float, default=18.0)
    ap.add_argument("--label", default="line buffers in block RAM")
    ap.add_argument("--out", default=str(ROOT / "results" / "conv_board"))
    ap.add_argument("--build", default=str(ROOT / "build" / "conv_board"))
    ap.add_argument("--render", action="store_true")
    ap.add_argument("--accumulation", choices=("sc", "exact"), default="sc",
                    help="the conv layer's accumulation (scfpga.model.conv)")
    ap.add_argument("--tac", type=int, default=0, help="the conv layer in TAC mode, chunk K")
    a = ap.parse_args(argv)
    out = Path(a.out)
    if a.render:
        render(out, json.loads(out.with_suffix(".json").read_text()), a.freq)
        return
    s = load_split()
    params = to_network(train_conv(s.x_train, s.y_train), x_calib=s.x_train,
                        accumulation=a.accumulation)
    if a.tac:
        params = with_tac(params, a.tac)
    build = Path(a.build) / a.label.replace(" ", "_")
    report = build_board(NetworkDesign(params), "icebreaker", build, freq_mhz=a.freq, force=True,
                         progress=lambda m: print(m, flush=True))
    sch = schedule(params)
    fmax = report["fmax_min_mhz"]
    row = {"network": params.describe(), "logic_cells": report["logic_cells"],
           "flip_flops": report["flip_flops"], "ebr": report["ebr"], "fmax_mhz": fmax,
           "target_mhz": a.freq, "timing_met": report["timing_met"],
           "clocks_per_cycle": sch.cycle_clocks,
           "clocks_per_inference": params.n_inputs + sch.run_clocks}
    out.parent.mkdir(parents=True, exist_ok=True)
    old = json.loads(out.with_suffix(".json").read_text()) if out.with_suffix(".json").exists() \
        else {}
    old[a.label] = row
    out.with_suffix(".json").write_text(json.dumps(old, indent=1))
    render(out, old, a.freq)


def render(out, rows, freq):
    net = next((r["network"] for r in rows.values() if r.get("placed", True)), "")
    net = net.replace(" exact", "")
    lines = [f"iCEBreaker (UP5K sg48) builds of the digits conv network with the board top "
             f"(`python scripts/conv_board.py --label NAME`, nextpnr seed 1, target "
             f"{freq:g} MHz): {net}.", "",
             "| variant | logic cells | flip-flops | EBR | Fmax (MHz) | timing | clocks / SC cycle "
             "| inferences/s at Fmax |", "|---|---|---|---|---|---|---|---|"]
    for label, r in rows.items():
        if not r.get("placed", True):
            lines.append(f"| {label} | {r['logic_cells']['used']} / {r['logic_cells']['total']} "
                         f"| | {r['ebr']['used']} / {r['ebr']['total']} | does not place | "
                         f"| | |")
            continue
        lines.append(f"| {label} | {r['logic_cells']['used']} / {r['logic_cells']['total']} | "
                     f"{r['flip_flops']} | {r['ebr']['used']} / {r['ebr']['total']} | "
                     f"{r['fmax_mhz']:.1f} | {'met' if r['timing_met'] else 'FAILED'} | "
                     f"{r['clocks_per_cycle']} | "
                     f"{r['fmax_mhz'] * 1e6 / r['clocks_per_inference']:.0f} |")
    if any("TAC" in label for label in rows):
        lines += ["", "A TAC row's clocks / SC cycle are those of a chunk's last cycle; the others "
                  "only aggregate the input (66 clocks), and inferences/s use the schedule's "
                  "clocks per inference."]
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
