"""Node classification on Zachary's karate club: a spiking GNN in the golden model and in RTL.

The graph ships with networkx (34 members, 78 friendships; no download); a member's class is
the club it joined after the split (``Mr. Hi`` 0, ``Officer`` 1). Features are one-hot node
identities; adjacency has self loops, so a node averages itself and its friends.

* **Float baseline**: a 2-layer GCN with the same mean aggregation, ``h = relu(A_mean X W1.T)``,
  ``z = A_mean h W2.T``, trained with Adam on softmax cross-entropy over the labelled nodes.
* **Spiking GNN**: ``SpikeGNNLayer([34, HIDDEN, 2], threshold=1.0, tau_mem=None)`` with the
  float weights scaled layer by layer so each layer's largest float activation meets the
  threshold (the usual rate conversion), integrate-and-fire neurons, ``T`` steps; a node's class
  is the output with more spikes (ties go to class 0).
* **RTL**: both layers of split 0 co-simulated (:class:`scfpga.hdl.graph.GraphConvCore`,
  Icarus): layer 1 fed with the address events of the encoded features, layer 2 with those of
  layer 1's spikes; every output spike of every step compared with the model.

Splits: ``--splits`` seeded draws of ``--labels`` labelled members per class (always including
the two leaders, members 0 and 33); accuracy on the other members.

    python scripts/graph_karate.py [--splits 10] [--labels 4] [--hidden 8] [--T 32] [--no-rtl]

Writes ``results/graph_karate.json`` and ``.md``.
"""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scfpga.hdl.graph import GraphConvCore  # noqa: E402
from scfpga.hdl.verilog import to_verilog  # noqa: E402
from scfpga.layers import SpikeGNNLayer  # noqa: E402
from scfpga.sim import cosim  # noqa: E402
from scfpga.sim import graph as graph_bench  # noqa: E402


def karate():
    try:
        import networkx as nx
    except ImportError:
        sys.exit("networkx is needed: .venv/bin/pip install -e '.[graph]'")
    g = nx.karate_club_graph()
    a = nx.to_numpy_array(g, nodelist=range(34), weight=None).astype(np.int64)
    labels = np.array([0 if g.nodes[v]["club"] == "Mr. Hi" else 1 for v in range(34)])
    return a, labels


def split(labels, per_class, seed):
    rng = np.random.default_rng(seed)
    train = {0, 33}
    for c in (0, 1):
        pool = [v for v in rng.permutation(34) if labels[v] == c and v not in train]
        train.update(pool[:per_class - 1])
    train = np.array(sorted(train))
    return train, np.setdiff1d(np.arange(34), train)


def train_gcn(a_mean, labels, train, hidden, seed, epochs=300, lr=0.05, decay=5e-4):
    """2-layer mean-aggregation GCN on one-hot features, Adam, hand-written gradients."""
    rng = np.random.default_rng(seed)
    n = len(a_mean)
    w1 = rng.standard_normal((hidden, n)) * np.sqrt(2.0 / n)
    w2 = rng.standard_normal((2, hidden)) * np.sqrt(2.0 / hidden)
    y = np.eye(2)[labels]
    params, m, v = [w1, w2], [0, 0], [0, 0]
    for step in range(1, epochs + 1):
        p1 = a_mean @ w1.T                         # X = I
        h = np.maximum(p1, 0)
        m2 = a_mean @ h
        z = m2 @ w2.T
        prob = np.exp(z - z.max(1, keepdims=True))
        prob /= prob.sum(1, keepdims=True)
        dz = np.zeros_like(z)
        dz[train] = (prob[train] - y[train]) / len(train)
        dw2 = dz.T @ m2 + decay * w2
        dh = a_mean.T @ (dz @ w2)
        dw1 = (dh * (p1 > 0)).T @ a_mean + decay * w1
        for i, g in enumerate((dw1, dw2)):
            m[i] = 0.9 * m[i] + 0.1 * g
            v[i] = 0.999 * v[i] + 0.001 * g * g
            params[i] -= lr * (m[i] / (1 - 0.9 ** step)) / (np.sqrt(v[i] / (1 - 0.999 ** step)) + 1e-8)
        w1, w2 = params
    p1 = a_mean @ w1.T
    z = a_mean @ np.maximum(p1, 0) @ w2.T
    return w1, w2, p1, z


def spiking(a, w1, w2, p1, z, hidden, T):
    """The converted spiking GNN: weights scaled so each layer's largest activation is 1."""
    l1 = max(1e-9, np.maximum(p1, 0).max())
    l2 = max(1e-9, np.abs(z).max())
    gnn = SpikeGNNLayer([34, hidden, 2], threshold=1.0, T=T, tau_mem=None)
    gnn.convs[0].W = w1 / l1
    gnn.convs[1].W = w2 * l1 / l2
    return gnn


def rtl_check(gnn, a, features, build_root):
    """Co-simulate both layers; returns per-layer (ok, cycles, synapses, seconds)."""
    spikes = gnn.run(features, a)
    rows = []
    for i, (conv, s_in) in enumerate(zip(gnn.convs, spikes)):
        p, _ = conv.params(a)
        t0 = time.time()
        stim, expected = graph_bench.make_case(p, None, np.random.default_rng(i), p_on=1.0,
                                               spikes=s_in)
        top = f"graphconv{i + 1}"
        result = cosim(to_verilog(GraphConvCore(p), top), top, stim, expected, (),
                       build_root=build_root)
        rows.append({"layer": i + 1, "ok": bool(result.ok), "cycles": result.cycles,
                     "synapses": p.events.n_synapses, "inputs": p.events.n_pre,
                     "neurons": p.events.n_post, "seconds": round(time.time() - t0, 1),
                     "text": result.describe(top)})
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--splits", type=int, default=10)
    ap.add_argument("--labels", type=int, default=4, help="labelled members per class")
    ap.add_argument("--hidden", type=int, default=8)
    ap.add_argument("--T", type=int, default=32)
    ap.add_argument("--no-rtl", action="store_true")
    ap.add_argument("--out", default=str(ROOT / "results" / "graph_karate"))
    args = ap.parse_args()
    a, labels = karate()
    a_loops = a + np.eye(34, dtype=np.int64)
    a_mean = a_loops / a_loops.sum(1, keepdims=True)
    features = np.eye(34)
    rows = []
    for s in range(args.splits):
        train, test = split(labels, args.labels, s)
        w1, w2, p1, z = train_gcn(a_mean, labels, train, args.hidden, seed=100 + s)
        gnn = spiking(a_loops, w1, w2, p1, z, args.hidden, args.T)
        counts = gnn.counts(features, a_loops)
        pred_float = z.argmax(1)
        pred_spike = counts.argmax(1)
        rows.append({"split": s, "train": train.tolist(),
                     "float_acc": float((pred_float[test] == labels[test]).mean()),
                     "spike_acc": float((pred_spike[test] == labels[test]).mean()),
                     "agree": float((pred_float == pred_spike).mean())})
        print(f"split {s}: float {rows[-1]['float_acc']:.3f}  spiking {rows[-1]['spike_acc']:.3f}")
        if s == 0:
            gnn0 = gnn
    rtl = []
    if not args.no_rtl:
        rtl = rtl_check(gnn0, a_loops, features, ROOT / "build" / "graph_karate")
        for r in rtl:
            print(f"RTL layer {r['layer']}: {r['text']} ({r['seconds']} s)")
    summary = {"nodes": 34, "edges": int(a.sum() // 2), "hidden": args.hidden, "T": args.T,
               "labels_per_class": args.labels, "splits": rows, "rtl_split0": rtl,
               "float_acc_mean": float(np.mean([r["float_acc"] for r in rows])),
               "spike_acc_mean": float(np.mean([r["spike_acc"] for r in rows]))}
    out = Path(args.out)
    out.with_suffix(".json").write_text(json.dumps(summary, indent=1) + "\n")
    md = ["# Karate club node classification: spiking GNN (model = RTL) next to a float GCN", "",
          f"Zachary's karate club (34 members, {summary['edges']} friendships, from networkx), "
          f"{args.labels} labelled members per class (incl. the two leaders), the other "
          f"{34 - 2 * args.labels} classified; {args.splits} seeded splits; 2 layers 34 -> "
          f"{args.hidden} -> 2, mean aggregation with self loops, one-hot features; spiking: "
          f"integrate-and-fire, T = {args.T} steps, 8-bit synapse weights "
          "(`scripts/graph_karate.py`).", "",
          "| model | test accuracy (mean over splits) | min | max |", "|---|---:|---:|---:|"]
    for key, name in (("float_acc", "float GCN (baseline)"), ("spike_acc", "spiking GNN")):
        vals = [r[key] for r in rows]
        md.append(f"| {name} | {np.mean(vals):.3f} | {min(vals):.3f} | {max(vals):.3f} |")
    if rtl:
        md += ["", "RTL, split 0 (each layer fed the address events of the previous layer's "
               "spikes; every output spike of every step compared):", "",
               "| layer | inputs | neurons | synapses | cycles | result |",
               "|---:|---:|---:|---:|---:|---|"]
        md += [f"| {r['layer']} | {r['inputs']} | {r['neurons']} | {r['synapses']} | "
               f"{r['cycles']} | {r['text']} |" for r in rtl]
    out.with_suffix(".md").write_text("\n".join(md) + "\n")
    print(f"float {summary['float_acc_mean']:.3f}, spiking {summary['spike_acc_mean']:.3f}; "
          f"wrote {out}.json/.md")
    if rtl and not all(r["ok"] for r in rtl):
        sys.exit("RTL differs from the model")


if __name__ == "__main__":
    main()
