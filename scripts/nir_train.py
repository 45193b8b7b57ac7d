"""Train the NIR example networks (two spiking MLPs and a conv net) with snnTorch; export to NIR.

Needs the optional extra ``pip install -e '.[nir-train]'`` (torch, snntorch); nothing in the
package imports them. Writes ``examples/digits_lif.nir`` (64-32-10, snn.Leaky),
``examples/digits_cuba.nir`` (64-32-10, snn.Synaptic = NIR CubaLIF) and
``examples/digits_conv.nir`` (8x8 image -> Conv2d 3x3 1->4 + snn.Leaky -> AvgPool2d 2 ->
Flatten -> Linear 64->10 + snn.Leaky) and their float accuracy (snnTorch's own forward pass on
Bernoulli rate-coded inputs) to ``results/nir/train.json`` (with ``--out`` elsewhere: next to the
files, or ``--results``).

Choices that make the NIR file mean what was trained (NIR's tracker, see README):

* ``reset_mechanism="zero"`` and ``reset_delay=False``: NIR neurons reset *to* ``v_reset`` in the
  step they fire; snnTorch's default (subtract, delayed) is exported as a zero reset anyway, so
  a network trained with it would change its meaning on export.
* weights and biases are clamped to [-1, 1] after every step (hardware-aware training): the
  import then needs no weight scale and the SC threshold stays at 1 current unit.
* snnTorch's exporter writes ``tau = dt / (1 - beta)`` with ``dt = 1e-4``: import with
  ``--dt 1e-4`` (scfpga's default).

* conv net: snnTorch 1.0's ``export_to_nir`` runs NIR's type inference, which fails on a conv
  net (``IndexError`` in ``calculate_conv_output``: the Input carries the sample's batch
  dimension); the script skips that inference and writes the shapes the exporter leaves out
  (Conv2d ``input_shape``, Flatten ``input_type``), tensors as arrays.

Usage: ``python scripts/nir_train.py [--epochs 40] [--steps 32] [--models lif cuba conv]``.
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def export_conv(net, export_to_nir, nir, torch):
    """The conv net as a NIR graph: snnTorch's exporter without NIR's type inference (which
    fails on it), the shapes it leaves out filled in, tensors as arrays, no batch dimension."""
    infer = nir.NIRGraph.infer_types
    nir.NIRGraph.infer_types = lambda self: None
    try:
        graph = export_to_nir(net, torch.zeros(1, 1, 8, 8))
    finally:
        nir.NIRGraph.infer_types = infer
    for node in graph.nodes.values():
        for k, v in vars(node).items():
            if isinstance(v, torch.Tensor):
                setattr(node, k, v.detach().numpy())
        kind = type(node).__name__
        if kind == "Input":
            node.input_type = {"input": np.array([1, 8, 8])}
            node.output_type = {"output": np.array([1, 8, 8])}
        elif kind == "Conv2d":
            node.input_shape = np.array([8, 8])
        elif kind == "Flatten":
            node.input_type = {"input": np.array([4, 4, 4])}
        elif kind == "Output":
            node.input_type = node.output_type = {"output": np.array([10])}
        for k, v in list(vars(node).items()):
            if k.endswith("_type") and isinstance(v, dict):
                setattr(node, k, {a: b for a, b in v.items() if b is not None})
    return graph


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--steps", type=int, default=32, help="time steps per sample in training")
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(ROOT / "examples"))
    ap.add_argument("--results", default=None,
                    help="folder of train.json (default: results/nir for the examples, else --out)")
    ap.add_argument("--force", action="store_true", help="overwrite existing .nir files")
    ap.add_argument("--models", nargs="+", default=["lif", "cuba", "conv"],
                    choices=["lif", "cuba", "conv"], help="which examples to train")
    args = ap.parse_args(argv)
    try:
        import nir
        import snntorch as snn
        import torch
        from snntorch.export_nir import export_to_nir
    except ImportError as e:
        print(f"nir_train: error: {e.name} is missing; pip install -e '.[nir-train]'",
              file=sys.stderr)
        return 2
    from snntorch import utils as snn_utils
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = digits.data.astype(np.float32) / 16.0
    y = digits.target.astype(np.int64)
    # the same split as scfpga.digits (test_size=0.3, random_state=0)
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.3, random_state=0, stratify=y)
    torch.manual_seed(args.seed)
    out = Path(args.out)
    models = {"lif": ("digits_lif", "leaky"), "cuba": ("digits_cuba", "synaptic"),
              "conv": ("digits_conv", "conv")}
    # A trial run into another folder must not rewrite the README's training record.
    default_out = out.resolve() == (ROOT / "examples").resolve()
    res = Path(args.results) if args.results else (ROOT / "results" / "nir" if default_out else out)
    tj = res / "train.json"
    results = json.loads(tj.read_text()) if tj.exists() else {}
    for name, kind in (models[m] for m in args.models):
        path = out / f"{name}.nir"
        if path.exists() and not args.force:
            print(f"nir_train: error: {path} exists; use --force to overwrite it", file=sys.stderr)
            return 2

        def neuron(n, output=False):
            # per-neuron (equal) parameters: a scalar exports 0-d arrays that NIR's type
            # inference rejects (snnTorch#410, NIR#107)
            full = lambda v: torch.full(n if isinstance(n, tuple) else (n,), v)  # noqa: E731
            common = dict(threshold=full(1.0), reset_mechanism="zero", reset_delay=False,
                          init_hidden=True, output=output)
            if kind in ("leaky", "conv"):
                return snn.Leaky(beta=full(0.9), **common)
            return snn.Synaptic(alpha=full(0.5), beta=full(0.9), **common)

        if kind == "conv":
            net = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), neuron((4, 8, 8)),
                                      torch.nn.AvgPool2d(2), torch.nn.Flatten(),
                                      torch.nn.Linear(64, 10), neuron(10, output=True))
            weighted = (net[0], net[4])
        else:
            net = torch.nn.Sequential(torch.nn.Linear(64, args.hidden), neuron(args.hidden),
                                      torch.nn.Linear(args.hidden, 10), neuron(10, output=True))
            weighted = (net[0], net[2])

        def run(xb):
            snn_utils.reset(net)
            if kind == "conv":
                xb = xb.reshape(-1, 1, 8, 8)
            spikes = torch.bernoulli(xb.unsqueeze(0).expand(args.steps, *xb.shape))
            count = 0
            for t in range(args.steps):
                out_t = net(spikes[t])
                count = count + (out_t[0] if isinstance(out_t, tuple) else out_t)
            return count

        opt = torch.optim.Adam(net.parameters(), lr=5e-3)
        xt, yt = torch.tensor(xtr), torch.tensor(ytr)
        for epoch in range(args.epochs):
            perm = torch.randperm(len(xt))
            for lo in range(0, len(xt), 64):
                idx = perm[lo:lo + 64]
                loss = torch.nn.functional.cross_entropy(run(xt[idx]), yt[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
                with torch.no_grad():
                    for layer in weighted:
                        layer.weight.clamp_(-1, 1)
                        layer.bias.clamp_(-1, 1)
        with torch.no_grad():
            acc = float((run(torch.tensor(xte)).argmax(1).numpy() == yte).mean())
        snn_utils.reset(net)
        graph = export_conv(net, export_to_nir, nir, torch) if kind == "conv" else \
            export_to_nir(net, torch.zeros(64))
        out.mkdir(parents=True, exist_ok=True)
        nir.write(path, graph)
        results[name] = {"neuron": kind, "hidden": args.hidden, "epochs": args.epochs,
                         "steps": args.steps, "float_test_accuracy": acc,
                         "torch": torch.__version__, "snntorch": snn.__version__,
                         "nir": nir.__version__ if hasattr(nir, "__version__") else "1.0.x"}
        print(f"{path}: snnTorch test accuracy {acc:.3f} ({args.steps} steps, Bernoulli inputs)")
    res.mkdir(parents=True, exist_ok=True)
    (res / "train.json").write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
