"""The fit estimate of networks with window layers against real iCEBreaker builds.

:func:`scfpga.hdl.network_fit.estimate` sizes a design for :func:`~scfpga.hdl.network_fit.
fit_layout`, which subtracts the board top (``BOARD_CORE``) from the device. This builds conv
networks as the board runs them (:func:`scfpga.boards.flow.build_board`: UART, protocol engine,
PLL; nextpnr seed 1, 18 MHz) and records logic cells, EBR and flip-flops beside the estimate
plus ``BOARD_CORE``. Networks: 8x8 one-channel image, conv 3x3 padding 1 (IF neurons,
threshold 2), 2x2 pooling, optionally a second conv, dense 10; W = 8, L = 256, Sobol, seeded
random weights (``scripts/conv_cost.py``'s shapes, with other folds, lanes and depths).

    python scripts/conv_fit.py [--only NAME ...] [--render] [--out STEM]

Writes ``STEM.json`` (builds, merged with earlier runs, each with its network's spec) and
``STEM.md`` (default ``results/conv_fit``); ``--render`` recomputes the estimates and rewrites
``STEM.md`` without building. The digits conv network's board build
(``results/conv_board.json``, its current hardware row) joins the table. ``tests/test_conv_fit.py``
holds the estimate to these builds.
"""
import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from conv_board import with_tac  # noqa: E402
from scfpga.boards.flow import build_board  # noqa: E402
from scfpga.boards.network_design import NetworkDesign  # noqa: E402
from scfpga.digits import load_split  # noqa: E402
from scfpga.digits_conv import to_network, train_conv  # noqa: E402
from scfpga.hdl.network_fit import BOARD_CORE, estimate  # noqa: E402
from scfpga.model.netspec import network_from_spec, network_to_spec  # noqa: E402

LIF = {"type": "lif", "threshold": 2}
DIGITS = "line buffers + dense input in block RAM"      # results/conv_board.json's rows
BOARD_ROWS = {"digits": (DIGITS, 0, "digits conv (scripts/conv_board.py): conv 1->8 + bias, "
                                    "avgpool, dense 10"),
              "digits_tac4": (DIGITS + ", conv in TAC mode K = 4", 4,
                              "the same, conv in TAC mode K = 4 (conv_board.py --tac 4)")}


def conv_network(channels, pool, fold=1, lanes=1, dense_lanes=1, second=0, seed=0):
    """conv 3x3 1->channels (fold, lanes) -> 2x2 pool -> [conv 3x3 channels->second] -> dense 10."""
    layers = [{"type": "conv2d", "out_channels": channels, "kernel_size": 3, "padding": 1,
               "fold": fold, "lanes": lanes, "neuron": LIF},
              {"type": pool, "kernel_size": 2}]
    if second:
        layers.append({"type": "conv2d", "out_channels": second, "kernel_size": 3,
                       "padding": 1, "neuron": LIF})
    layers += [{"type": "flatten"},
               {"type": "dense", "neurons": 10, "fold": 2, "lanes": dense_lanes, "neuron": LIF}]
    return network_from_spec({"input_shape": [1, 8, 8], "length": 256, "width": 8,
                              "source": "sobol", "weight_seed": seed, "layers": layers})


VARIANTS = {
    "c4_max": ("conv 1->4, maxpool, dense 10", dict(channels=4, pool="maxpool2d")),
    "c8_max_f2": ("conv 1->8 fold 2, maxpool, dense 10",
                  dict(channels=8, pool="maxpool2d", fold=2)),
    "c4_avg_l2": ("conv 1->4 lanes 2, avgpool, dense 10",      # dense lanes 2: 31 EBR > 30
                  dict(channels=4, pool="avgpool2d", lanes=2)),
    "c4_max_c8": ("conv 1->4, maxpool, conv 4->8, dense 10",
                  dict(channels=4, pool="maxpool2d", second=8)),
}


def render(out, rows):
    lines = ["iCEBreaker builds (UP5K sg48, board top, nextpnr seed 1, 18 MHz) of conv networks "
             "beside the fit estimate `scfpga.hdl.network_fit.estimate` plus the board top "
             f"(`BOARD_CORE`: {BOARD_CORE['lc']} LC, {BOARD_CORE['ebr']} EBR): "
             "`python scripts/conv_fit.py` (estimates recomputed by `--render`). 8x8 image, "
             "conv 3x3 padding 1, 2x2 pooling, dense 10 (fold 2); IF neurons, W=8, L=256, "
             "Sobol.", "",
             "| variant | LC | LC estimate | EBR | EBR estimate | flip-flops | Fmax (MHz) |",
             "|---|---|---|---|---|---|---|"]
    for name, r in rows.items():
        est = estimate(network_from_spec(r["spec"]))
        lc, ebr = est["lc"] + BOARD_CORE["lc"], est["ebr"] + BOARD_CORE["ebr"]
        lines.append(f"| {r['what']} | {r['logic_cells']} | {lc} ({100 * (lc / r['logic_cells'] - 1):+.0f} %) "
                     f"| {r['ebr']} | {ebr} ({ebr - r['ebr']:+d}) | {r['flip_flops']} | "
                     f"{r['fmax_mhz']} |")
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", choices=list(VARIANTS))
    ap.add_argument("--render", action="store_true")
    ap.add_argument("--out", default=str(ROOT / "results" / "conv_fit"))
    ap.add_argument("--build", default=str(ROOT / "build" / "conv_fit"))
    a = ap.parse_args(argv)
    out = Path(a.out)
    rows = json.loads(out.with_suffix(".json").read_text()) if out.with_suffix(".json").exists() \
        else {}
    if not a.render:
        for name in a.only or VARIANTS:
            what, kw = VARIANTS[name]
            params = conv_network(**kw)
            report = build_board(NetworkDesign(params), "icebreaker", Path(a.build) / name,
                                 freq_mhz=18, force=True, progress=lambda m: print(m, flush=True))
            rows[name] = {"what": what, "network": params.describe(), "variant": kw,
                          "logic_cells": report["logic_cells"]["used"],
                          "ebr": report["ebr"]["used"], "flip_flops": report["flip_flops"],
                          "fmax_mhz": report["fmax_min_mhz"],
                          "timing_met": report["timing_met"]}
            out.parent.mkdir(parents=True, exist_ok=True)
            out.with_suffix(".json").write_text(json.dumps(rows, indent=1))
    boards = json.loads((ROOT / "results" / "conv_board.json").read_text())
    s = load_split()
    digits = to_network(train_conv(s.x_train, s.y_train), x_calib=s.x_train)
    for name, (label, k, what) in BOARD_ROWS.items():
        board, net = boards[label], with_tac(digits, k) if k else digits
        rows[name] = {"what": what, "network": net.describe(),
                      "logic_cells": board["logic_cells"]["used"], "ebr": board["ebr"]["used"],
                      "flip_flops": board["flip_flops"], "fmax_mhz": board["fmax_mhz"],
                      "timing_met": board["timing_met"], "spec": network_to_spec(net)}
    for name, r in rows.items():
        if name in VARIANTS:
            r["spec"] = network_to_spec(conv_network(**VARIANTS[name][1]))
    out.with_suffix(".json").write_text(json.dumps(rows, indent=1))
    render(out, {k: rows[k] for k in [*VARIANTS, *BOARD_ROWS] if k in rows})


if __name__ == "__main__":
    main()
