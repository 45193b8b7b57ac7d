"""A network on a board as a Python object: load trained weights without a rebuild, run batches.

A bitstream built with run-time weights (``weight_memory = "ram"`` or ``"spram"``) runs every
network of its *shape*; :meth:`NetworkBoard.load` writes another network's weights and biases
over the link (WRITE frames of consecutive addresses, :func:`scfpga.hdl.network_loads.
weight_writes`) and from then on :meth:`NetworkBoard.run` compares against that network::

    with NetworkBoard.open("/dev/ttyUSB1", "build/net/design.json", baud=3_000_000) as board:
        board.load("retrained.toml")         # or an .npz of weights<l> / bias<l>
        out = board.run(x)                   # counts, scores (and output spikes), checked
        print(out.classes)

``port = "sim"`` runs the software board (:mod:`.simboard`), which models the load memories.
"""
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..model.netspec import load_network, network_from_spec
from ..model.params import ParameterError
from .host import BoardClient
from .network_design import NetworkDesign
from .ops import load_design
from .protocol import DEFAULT_BAUD, MAX_WRITE_WORDS, write_payload


@dataclass(frozen=True)
class LoadReport:
    """What one :meth:`NetworkBoard.load` wrote and how long it took."""
    synapses: int         # weights and biases of the network
    words: int            # load words (one weight each, unused slots included)
    frames: int           # WRITE requests
    bytes: int            # request bytes on the line (replies not counted)
    seconds: float        # wall time, replies included

    def line_seconds(self, baud):
        """Time the request bytes take on the line at ``baud`` (10 bits a byte)."""
        return self.bytes * 10 / baud


@dataclass(frozen=True)
class NetworkResults:
    """Decoded results of a batch; ``spikes`` (batch, outputs, T) for raster designs."""
    counts: np.ndarray
    scores: np.ndarray
    spikes: np.ndarray | None
    raw: np.ndarray

    @property
    def classes(self):
        """argmax of the scores (first on ties), as the model's ``predict``."""
        return np.argmax(self.scores, axis=-1)


def runs(addrs):
    """``[(start, stop), ...]`` index ranges of ``addrs`` holding consecutive addresses."""
    addrs = np.asarray(addrs)
    breaks = np.flatnonzero(np.diff(addrs) != 1) + 1
    edges = np.concatenate([[0], breaks, [len(addrs)]])
    return list(zip(edges[:-1].tolist(), edges[1:].tolist()))


def read_weights(design, source):
    """A network of ``design``'s shape from ``source``: a NetworkParams, a network spec
    (.toml/.json) or an .npz of real weights in [-1, 1] named ``weights<l>`` (and optionally
    ``bias<l>``), layer l counted from 0 over the layers with weights."""
    if not isinstance(design, NetworkDesign):
        raise ParameterError("the design must be a network design (design = \"network\")")
    if not isinstance(source, (str, Path)):
        params = source
    else:
        path = Path(source)
        if path.suffix in (".toml", ".json"):
            params = load_network(path)
        elif path.suffix == ".npz":
            params = _from_npz(design, path)
        else:
            raise ParameterError(f"WEIGHTS must be a network spec (.toml/.json) or an .npz, "
                                 f"got {str(path)!r}")
    design.weight_loads(params)            # same shape and run-time weights, or a clear error
    return params


def _from_npz(design, path):
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except (OSError, ValueError) as e:
        raise ParameterError(f"WEIGHTS {path}: cannot read the .npz ({e})") from None
    spec = {k: v for k, v in design.spec.items() if k != "design"}
    layers = [dict(layer) for layer in spec["layers"]]
    weighted = [layer for layer in layers if "weights" in layer]
    known = {f"weights{l}" for l in range(len(weighted))} | \
        {f"bias{l}" for l in range(len(weighted))}
    extra = sorted(set(arrays) - known)
    if extra:
        raise ParameterError(f"WEIGHTS {path}: unknown array {extra[0]!r} (allowed: "
                             f"weights0..weights{len(weighted) - 1}, bias0..)")
    for l, layer in enumerate(weighted):
        if f"weights{l}" not in arrays:
            raise ParameterError(f"WEIGHTS {path}: weights{l} is missing")
        layer["weights"] = np.asarray(arrays[f"weights{l}"], np.float64)
        if ("bias" in layer) != (f"bias{l}" in arrays):
            raise ParameterError(f"WEIGHTS {path}: layer {l} of the design "
                                 f"{'has' if 'bias' in layer else 'has no'} bias")
        if f"bias{l}" in arrays:
            layer["bias"] = np.asarray(arrays[f"bias{l}"], np.float64)
    spec["layers"] = layers
    return network_from_spec(spec)


def write_weights(client, design, params=None):
    """Write the weights (and LIF thresholds) of ``params`` (default: the design's own) over
    ``client`` as WRITE frames, one run of consecutive addresses per layer; a
    :class:`LoadReport`. Nothing to write for a design without run-time weights (None)."""
    if not getattr(design, "runtime_weights", False):
        return None
    params = design.params if params is None else params
    addrs, words = design.weight_loads(params)
    t0, frames, sent = time.monotonic(), 0, 0
    for lo, hi in runs(addrs):
        for start in range(lo, hi, MAX_WRITE_WORDS):
            chunk = words[start:min(hi, start + MAX_WRITE_WORDS)].tolist()
            client.write_loads(int(addrs[start]), chunk)
            frames += 1
            sent += len(write_payload(int(addrs[start]), chunk)) + 4   # A5 cmd len .. chk
    synapses = sum(np.size(layer.kernel_terms) for layer in params.layers
                   if hasattr(layer, "weights"))
    return LoadReport(synapses, len(words), frames, sent, time.monotonic() - t0)


class NetworkBoard:
    """A connected board running a :class:`~.network_design.NetworkDesign` (module docstring)."""

    def __init__(self, client, design):
        self.client, self.design = client, design
        self.info = client.check_design(design)

    @classmethod
    def open(cls, port, design, baud=DEFAULT_BAUD, timeout=2.0):
        """Connect to ``port`` (``"sim"``: software board) running ``design`` (a
        :class:`NetworkDesign` or its design file)."""
        if isinstance(design, (str, Path)):
            design = load_design(design)
        if not isinstance(design, NetworkDesign):
            raise ParameterError("the design must be a network design (design = \"network\")")
        client = BoardClient.open(port, baud, design=design, timeout=timeout)
        try:
            return cls(client, design)
        except Exception:
            client.close()
            raise

    def close(self):
        self.client.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def load(self, network):
        """Write the weights and biases of ``network`` (see :func:`read_weights`); later runs
        are checked against it. Returns a :class:`LoadReport`."""
        params = read_weights(self.design, network)
        report = write_weights(self.client, self.design, params)
        self.design = self.design.with_weights(params)
        return report

    def run(self, x, check=True):
        """Run samples ``x`` (rates (batch, inputs) in [0, 1]; a raster design: spikes
        (batch, T, inputs)); :class:`NetworkResults`. ``check`` raises ParameterError naming
        the first sample that differs from the golden model of the loaded network."""
        d = self.design
        loads = d.loads_from_x(x)
        raw = self.client.evaluate(d, loads)
        if check:
            want = d.expected_results(loads)
            bad = np.flatnonzero((raw != want).any(axis=1))
            if len(bad):
                raise ParameterError(f"sample {bad[0]} differs from the golden model of the "
                                     f"loaded network ({len(bad)} of {len(raw)} samples)")
        n = d.n_outputs
        spikes = None
        if d.spike_words:
            words = raw[:, 2 * n:].reshape(len(raw), d.params.length, d.spike_words)
            bits = (words[:, :, :, None] >> np.arange(32)) & 1
            spikes = bits.reshape(len(raw), d.params.length, -1)[:, :, :n].transpose(0, 2, 1)
        return NetworkResults(raw[:, :n], raw[:, n:2 * n], spikes, raw)
