"""TAC on the conv engine: conv passes saved against accuracy lost on the digits conv network.

The digits conv network of :mod:`scfpga.digits_conv` (conv 3x3 x 8 -> 2x2 average pool -> dense
10, W = 8, T = 256 SC cycles, Sobol) is run with its conv layer in the engine's TAC mode
(:mod:`scfpga.model.conv_tac`): the encoder's T input cycles are aggregated K at a time into
integer words, the kernel (integer weights, exact accumulation) is swept once per chunk and the
conv neurons (IF, threshold ``theta * 2**W * a_1``) step once per chunk; pool and dense then run
on the ``T / K`` chunk steps (their own SC weight streams of length ``T / K``). Controls: the SC
network as built (every cycle a conv pass), and the same network simply run for ``T / K``
cycles (as many conv passes as TAC, but only ``T / K`` input samples).

Conv passes per inference: ``chunks * passes per SC cycle`` (64 positions); the aggregate word
width is the map's word in block RAM and the multiplier width per lane in a pass.

Whole-network hardware rows: the conv layer as a :class:`scfpga.model.conv_tac.TACConvLayer`
of the network itself (``NetworkParams``: pool and dense on the chunk steps with the network's
own weight streams), its golden-model accuracy, the network hardware's clocks per inference
(:func:`scfpga.hdl.network.schedule`: the SC cycles inside a chunk only aggregate) and its RTL
proof on the first ``--rtl`` test images (every spike, :mod:`scfpga.sim.network_hdl`).

    python scripts/conv_tac.py [--rtl N] [--out STEM]

Writes ``STEM.json`` and ``STEM.md`` (default ``results/conv_tac``).
"""
import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scfpga.digits import load_split  # noqa: E402
from scfpga.digits_conv import THETA, to_network, train_conv  # noqa: E402
from scfpga.hdl.network import schedule  # noqa: E402
from scfpga.model.conv import ConvLayer  # noqa: E402
from scfpga.model.conv_tac import TACConvLayer, TACParams, tac_run  # noqa: E402
from scfpga.model.network import Network, NetworkParams  # noqa: E402
from scfpga.model.neuron import lif_neuron  # noqa: E402
from scfpga.sim.network_hdl import cosim_network_hdl  # noqa: E402

CHUNKS = (1, 2, 4, 8, 16, 32)
LEAKY = ((8, 3, 4), (16, 4, 4))          # (K, leak_shift, frac_bits): beta = 1 - 2**-s
NETWORK = (4, 8)                         # K of the whole-network hardware rows


def tac_neuron(params, tac):
    """The conv layer's IF neuron on the chunk currents' scale (``THETA * 2**W * a_1``)."""
    return lif_neuron(width=28, threshold=THETA * tac.scale(params.width), leak_shift=0,
                      reset="subtract")


def tac_network(params, tac):
    """The network with its conv layer in TAC mode (pool and dense on the chunk steps)."""
    layer = TACConvLayer.from_conv(params.layers[0], tac, tac_neuron(params, tac))
    return dataclasses.replace(params, layers=(layer,) + params.layers[1:])


def tac_accuracy(params, bits, y, tac):
    conv, pool, dense = params.layers
    conv_t = ConvLayer(conv.weights, conv.in_shape, conv.bias, conv.stride, conv.padding,
                       tac_neuron(params, tac), accumulation="exact")
    spk, _ = tac_run(conv_t, tac, bits)
    down = NetworkParams(conv.n_neurons, (pool, dense), params.width,
                         params.length // tac.chunk, params.source, params.seed,
                         input_shape=conv.out_shape)
    scores = Network(down).evaluate_bits(spk).scores[-1]
    return float(np.mean(np.argmax(scores, 1) == y))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "results" / "conv_tac"))
    ap.add_argument("--rtl", type=int, default=10,
                    help="test images proven in RTL per whole-network row (0: none)")
    a = ap.parse_args(argv)
    s = load_split()
    model = train_conv(s.x_train, s.y_train)
    params = to_network(model, x_calib=s.x_train)
    net = Network(params)
    T = params.length
    bits = net.input_bits(net.thresholds(s.x_test), T)
    passes = schedule(params).layers[0].passes
    rows = [{"mode": "SC network (conv pass every cycle)", "K": 1, "steps": T,
             "conv_passes": T * passes, "word_bits": 1,
             "accuracy": float(np.mean(net.predict(s.x_test) == s.y_test))}]
    t0 = time.monotonic()
    for k in CHUNKS:
        short = dataclasses.replace(params, length=T // k)
        rows.append({"mode": f"SC network run {T // k} cycles", "K": k, "steps": T // k,
                     "conv_passes": T // k * passes, "word_bits": 1,
                     "clocks": short.n_inputs + schedule(short).run_clocks,
                     "accuracy": float(np.mean(Network(short).predict(s.x_test) == s.y_test))})
        tac = TACParams(k)
        rows.append({"mode": f"TAC K={k}, beta=1", "K": k, "steps": T // k,
                     "conv_passes": T // k * passes, "word_bits": tac.word_bits,
                     "accuracy": tac_accuracy(params, bits, s.y_test, tac)})
    for k, sh, f in LEAKY:
        tac = TACParams(k, sh, f)
        rows.append({"mode": f"TAC K={k}, beta=1-2^-{sh}, F={f}", "K": k, "steps": T // k,
                     "conv_passes": T // k * passes, "word_bits": tac.word_bits,
                     "accuracy": tac_accuracy(params, bits, s.y_test, tac)})
    rows[0]["clocks"] = params.n_inputs + schedule(params).run_clocks
    for k in NETWORK:
        tac = TACParams(k)
        p = tac_network(params, tac)
        row = {"mode": f"network hardware, TAC K={k}, beta=1", "K": k, "steps": T // k,
               "conv_passes": T // k * passes, "word_bits": tac.word_bits,
               "accuracy": float(np.mean(Network(p).predict(s.x_test) == s.y_test)),
               "clocks": p.n_inputs + schedule(p).run_clocks}
        if a.rtl:
            t = time.monotonic()
            r = cosim_network_hdl(p, Network(p).thresholds(s.x_test[:a.rtl]), workers=2,
                                  chunk=-(-a.rtl // 2))
            row.update(rtl_images=a.rtl, rtl=r.describe(), rtl_ok=bool(r.ok),
                       rtl_s=round(time.monotonic() - t, 1))
            print(row, flush=True)
        rows.append(row)
    print(f"{time.monotonic() - t0:.1f} s", flush=True)
    # TemporalCollapseConv merges steps whose input density is <= its collapse_threshold (0.02
    # by default): how many steps of the conv layer's input (the encoder's bits) and of the
    # dense layer's (the pool's spikes) are that quiet?
    run = net.evaluate_bits(bits)
    quiet = {name: {str(thr): float(np.mean(x.mean(1) <= thr)) for thr in (0.02, 0.05, 0.1)}
             for name, x in (("conv input", bits), ("pool output", run.spikes[1][..., 2:]))}
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps({"network": params.describe(),
                                                    "test_images": len(s.y_test),
                                                    "rows": rows, "quiet_steps": quiet},
                                                   indent=1))
    lines = [f"TAC on the conv engine (`python scripts/conv_tac.py`): {params.describe()}, "
             f"{len(s.y_test)} test images. Conv passes per inference = conv steps x {passes} "
             "passes per step; 'word bits' = the aggregate word per map input (block RAM word, "
             "multiplier width in a pass). TAC rows: conv in the integer TAC mode "
             "(`scfpga.model.conv_tac`), pool and dense on the T / K chunk steps; controls: the "
             "SC network as built, and run for only T / K cycles. 'network hardware' rows: the "
             "conv layer a `TACConvLayer` of the network itself, built by the network hardware "
             "(`scfpga.hdl.conv_tac.TACLayerCore`; the SC cycles inside a chunk only aggregate), "
             "clocks per inference from its schedule, and RTL = every spike of every layer "
             f"equal on the first {a.rtl} test images (Icarus, `scfpga.sim.network_hdl`).", "",
             "| mode | K | conv steps | conv passes / inference | saved | word bits | accuracy "
             "| clocks / inference | RTL |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        rtl = "" if "rtl_ok" not in r else \
            f"{r['rtl_images']} images bit-exact" if r["rtl_ok"] else "MISMATCH"
        clocks = f"{r['clocks']:,}" if "clocks" in r else ""
        lines.append(f"| {r['mode']} | {r['K']} | {r['steps']} | {r['conv_passes']:,} | "
                     f"{100 * (1 - r['conv_passes'] / (T * passes)):.0f} % | {r['word_bits']} | "
                     f"{100 * r['accuracy']:.1f} % | {clocks} | {rtl} |")
    lines += ["", "Steps quiet enough for TemporalCollapseConv to merge (share of (image, step) "
              "pairs whose map density is at most the threshold; pool output from step 2, "
              "after the pipeline fills):", "",
              "| map | density <= 0.02 | <= 0.05 | <= 0.1 |", "|---|---|---|---|"]
    for name, q in quiet.items():
        lines.append(f"| {name} | " + " | ".join(f"{100 * v:.1f} %" for v in q.values()) + " |")
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
