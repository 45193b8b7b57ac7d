"""NIR (Neuromorphic Intermediate Representation, ``nir`` 1.0) graphs in and out of scfpga.

:func:`from_nir` maps a NIR graph (or a ``.nir`` file) to a :class:`.network.NetworkParams` and a
per-layer :class:`NodeQuantisation` report; :func:`to_nir` writes a network back;
:func:`reference_run` is a float64 NumPy reading of the NIR specification, run straight on the
graph (it shares no code with the conversion), against which the fidelity of the conversion is
measured (``scripts/nir_fidelity.py``).

Graph
-----
A chain ``Input -> ... -> Output`` (no branches, merges, subgraphs or recurrence). Nodes:
``Flatten`` (identity on the flat vector), ``Affine``/``Linear``/``Scale`` (consecutive ones are
composed into one weight matrix and bias), then a neuron node: ``LIF``, ``IF``, ``CubaLIF``,
``LI``, ``CubaLI``, ``Threshold``; ``LI``/``CubaLI`` followed by ``Threshold`` is one spiking
layer without reset. Each weight group + neuron node is one :class:`.network.DenseLayer`; a
neuron without weights gets the identity matrix; weights without a neuron (the last layer, a
plain readout) get an ``LI`` neuron with ``beta = 0`` (its output is its current, scfpga's
*score*). Maps (:mod:`.nir_conv`): ``Conv2d`` + neuron is a :class:`.conv.ConvLayer`; a
``SumPool2d``/``AvgPool2d`` followed by a neuron is a ConvLayer with a diagonal kernel (exact);
one followed by weights is a :class:`.conv.PoolLayer` ``avg`` (spikes at the window's mean
density, one cycle later; a SumPool's window size moves into the next weights); a ``Flatten``
of a map permutes the next dense weights from NIR's CHW order to scfpga's HWC order, and a
network whose Input is a map takes its inputs in HWC order (:func:`.nir_conv.to_hwc`).
A ``Conv1d`` (padding 0) is a ConvLayer over its ``(C, L)`` sequence read as the map
``(C, 1, L)`` (exported back as a ``Conv2d`` over that map). Any other node type raises an
error naming node and type.

Semantics (NIR spec, forward Euler with the user's ``dt``, default ``DEFAULT_DT = 1e-4``, which is
what snnTorch's exporter assumes when it writes ``tau = dt / (1 - beta)``):

* ``LIF``: ``v += dt/tau * (v_leak - v + r*I)``, spike if ``v > v_threshold``, then
  ``v = v_reset``. So ``beta = 1 - dt/tau`` (``tau < dt`` is an error: Euler would be unstable).
* ``IF``: ``v += dt * r * I``; same spike and reset. The spec's ``dv/dt = R I`` has no time
  constant, so ``dt`` only scales the input: files from discrete-time tools (Sinabs IAF, for
  which snnTorch imports IF as ``v += r*I``) mean ``dt = 1``.
* ``CubaLIF``: ``I_syn += dt/tau_syn * (-I_syn + w_in*S)``, then
  ``v += dt/tau_mem * (v_leak - v + r*I_syn)`` with the *updated* synaptic current (snnTorch's
  ``Synaptic`` order, which its exporter maps to CubaLIF; plain forward Euler would use the old
  one: one step of delay on the synaptic path). ``CubaLI``: the same without spikes.
* ``LI``: ``v += dt/tau * (v_leak - v + r*I)``, output ``v``. ``Threshold``: ``z = x > t``.

How the traps found in NIR's tracker are handled:

* Parameter shapes: scalars, 0-d arrays and per-neuron arrays are all accepted (snnTorch writes
  0-d arrays for scalar ``beta``, snnTorch#410, NIR#107, NIR#176). scfpga neurons have one
  parameter set per layer: per-neuron ``r``, ``w_in`` and ``v_threshold`` are folded exactly into
  the weight rows (the membrane of neuron j is measured in units of its threshold); per-neuron
  ``tau``, ``tau_syn`` and (after that scaling) ``v_leak``/``v_reset`` that differ are an error
  naming node and parameter.
* Reset: NIR resets to ``v_reset`` (default 0 when absent: files older than NIR#129 have none).
  snnTorch trains with subtract reset by default but exports it as a reset to 0; train with
  ``reset_mechanism="zero"`` (``scripts/nir_train.py``). scfpga imports a zero reset.
* Strict threshold: NIR fires on ``v > v_threshold``, scfpga neurons on ``U >= Q``; the
  integer threshold is ``round(t * 2**frac) + 1``, so the fixed-point test is the strict one.
* dt: not stored in NIR files; given by the user (default ``1e-4``, snnTorch's). Norse exports
  ``tau`` against its own ``dt = 1e-3`` (norse#411): pass ``--dt 1e-3`` for Norse files.
* Batch dimension: nirtorch-based exporters (snnTorch) write the Input of a conv net with the
  sample's batch of one, ``(1, C, H, W)``; a leading 1 of a 4-D Input is dropped.
* Fixed-point shifts (NIR#111: Lava's fixed-point import silently shifts thresholds and decays):
  every scale and rounding scfpga applies is in the report, per layer.

State range: ``v_range`` (every state field of a layer) is the largest of 4 x threshold,
``|v_reset|``, ``|v_leak|`` and the largest row sum of |SC weights| (the largest mean current,
which is the steady state of a membrane with ``r = 1 - beta`` and of a synaptic current); states
saturate there (the float reference does not saturate: measured in the fidelity tables).

Scaling: after folding, layer l's weights and bias ``W'`` are scaled by ``s = 1 / max|W'|`` to use
the whole sign-magnitude range (``2**width`` is 1.0); the neuron state is scaled by the same
``s`` (threshold ``s``, ``v_leak``, ``v_reset`` in current units), which leaves the float
dynamics unchanged. The membrane keeps the Euler gain ``dt/tau`` (``r = 1 - beta``), so its
steady state equals the current. Values in state units are snapped to the state grid, floats are
rounded to 12 significant digits: import -> :func:`to_nir` -> import gives an equal network.
"""
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import nir
import numpy as np

from .dense import quantize_weights
from .conv import ConvLayer, PoolLayer
from .network import DenseLayer, Network, NetworkParams
from .neuron_types import IFParams, LeakyParams, LIParams, SynapticParams, fixed_run
from .nir_conv import (chw_index, conv_geometry, map_shape, pool_geometry, reference_conv,
                       reference_pool, to_hwc)
from .nir_conv import out_shape as conv_out
from .params import ParameterError

DEFAULT_DT = 1e-4
DEFAULT_CLIP = 0.95
NEURON_NODES = ("LIF", "IF", "CubaLIF", "LI", "CubaLI", "Threshold")
WEIGHT_NODES = ("Affine", "Linear", "Scale")
MAP_NODES = ("Conv2d", "Conv1d", "SumPool2d", "AvgPool2d")
SUPPORTED_NODES = ("Input", "Output", "Flatten") + WEIGHT_NODES + MAP_NODES + NEURON_NODES


def _canon(x):
    """A float rounded to 12 significant digits (absorbs the noise of tau <-> beta)."""
    return float(f"{float(x):.12g}")


def _frac(width, v_range):
    return width - 1 - max(0, math.ceil(math.log2(v_range)))


def _snap(x, frac):
    return _canon(math.floor(x * (1 << frac) + 0.5) / (1 << frac))


# ----------------------------------------------------------------------------- reading a graph

def load_graph(graph_or_path):
    """A :class:`nir.NIRGraph` from a graph or a ``.nir`` file (one-line errors)."""
    if isinstance(graph_or_path, nir.NIRGraph):
        return graph_or_path
    path = Path(graph_or_path)
    if not path.is_file():
        raise ParameterError(f"NIR file {path} does not exist")
    try:
        # type_check=False: exporters write 0-d parameters that NIR's own type inference
        # rejects (snnTorch#410); shapes are checked here, per node.
        return nir.read(path, type_check=False)
    except Exception as e:                              # h5py/nir raise many kinds
        raise ParameterError(f"{path} is not a readable NIR file ({type(e).__name__}: "
                             f"{str(e).splitlines()[0] if str(e) else ''})") from None


def graph_chain(graph):
    """``(input shape, [(name, node), ...])``: the nodes between Input and Output, in order."""
    nodes = graph.nodes
    for name, node in nodes.items():
        kind = type(node).__name__
        if isinstance(node, nir.NIRGraph):
            raise ParameterError(f"node {name!r} is a subgraph (NIRGraph; recurrent layers such as "
                                 "RLeaky export as one): scfpga networks are feed-forward chains")
        if kind not in SUPPORTED_NODES:
            raise ParameterError(f"node {name!r} has type {kind}, which scfpga cannot map "
                                 f"(supported: {', '.join(SUPPORTED_NODES)})")
    ins = [k for k, v in nodes.items() if isinstance(v, nir.Input)]
    outs = [k for k, v in nodes.items() if isinstance(v, nir.Output)]
    if len(ins) != 1 or len(outs) != 1:
        raise ParameterError(f"a NIR graph must have one Input and one Output node, got "
                             f"{len(ins)} and {len(outs)}")
    succ, pred = {}, {}
    for edge in graph.edges:
        a, b = edge
        for end in (a, b):
            if end not in nodes:
                raise ParameterError(f"edge {a!r} -> {b!r} names a node that does not exist")
        succ.setdefault(a, []).append(b)
        pred.setdefault(b, []).append(a)
    for name in nodes:
        for what, table in (("outgoing", succ), ("incoming", pred)):
            n = len(table.get(name, []))
            if n > 1:
                raise ParameterError(f"node {name!r} has {n} {what} edges: scfpga networks are "
                                     "chains (no branches, merges or recurrence)")
    chain, name, seen = [], ins[0], {ins[0]}
    while name != outs[0]:
        nxt = succ.get(name, [])
        if not nxt:
            raise ParameterError(f"node {name!r} has no outgoing edge: the chain from Input "
                                 "does not reach Output")
        name = nxt[0]
        if name in seen:
            raise ParameterError(f"node {name!r} closes a loop: recurrence is not supported")
        seen.add(name)
        if name != outs[0]:
            chain.append((name, nodes[name]))
    unused = sorted(set(nodes) - seen)
    if unused:
        raise ParameterError(f"node {unused[0]!r} is not on the chain from Input to Output")
    shape = tuple(int(v) for v in np.asarray(nodes[ins[0]].input_type["input"]).ravel())
    if len(shape) == 4 and shape[0] == 1:
        shape = shape[1:]       # a batch of one: nirtorch keeps the sample's batch dimension
    return map_shape(shape, chain), chain


def _array(name, node, attr):
    a = np.asarray(getattr(node, attr), dtype=np.float64)
    if not np.all(np.isfinite(a)):
        raise ParameterError(f"node {name!r} ({type(node).__name__}): {attr} must be finite")
    return a


def _per_neuron(name, node, attr, n):
    """``attr`` of a neuron node as n values: a scalar (any shape of size 1) or one per neuron."""
    a = _array(name, node, attr)
    if a.size == 1:
        return np.full(n, float(a.ravel()[0]))
    if a.size != n:
        raise ParameterError(f"node {name!r} ({type(node).__name__}): {attr} has shape "
                             f"{a.shape}, expected a scalar or {n} values (one per neuron)")
    return a.ravel()


def _uniform(name, node, attr, values):
    """The one value of a per-layer parameter; neurons that differ are an error."""
    v0 = float(values[0])
    if not np.allclose(values, v0, rtol=1e-6, atol=1e-12):
        raise ParameterError(
            f"node {name!r} ({type(node).__name__}): {attr} differs between neurons "
            f"({values.min():g}..{values.max():g}); an scfpga layer has one {attr} for all its "
            "neurons (only r, w_in and v_threshold may differ: they fold into the weights)")
    return v0


# ----------------------------------------------------------------------------- from NIR

@dataclass(frozen=True)
class NodeQuantisation:
    """What mapping one layer (a group of NIR nodes) to fixed point chose and cost."""
    layer: int
    nodes: tuple                # NIR node names of this layer
    types: tuple                # their NIR types
    neuron: str                 # scfpga neuron type
    neurons: int
    scale: float                # s: folded float weights x s = SC weights in [-1, 1]
    weight_format: str
    weight_rms_error: float     # RMS of quantised - exact weights, relative to max |W'|
    weight_max_error: float
    weights_zeroed: int         # nonzero float weights that quantise to 0
    weights_clipped: int        # weights (and biases) saturated at +-1.0 by the clip scale
    clip_max_error: float       # largest |exact| - 1 of a clipped weight (SC units)
    threshold: float            # NIR threshold in membrane units (1 after folding), or None
    threshold_int: int | None   # the integer threshold Q (fires on U >= Q)
    threshold_error: float      # |(Q - 1) / 2**frac - s| / s (strict-threshold equivalent)
    state_format: str
    coef_error: float           # largest |quantised - exact| decay coefficient
    sc_length: int              # SC cycles per run (one cycle per NIR time step)
    sc_noise: float             # per-cycle membrane noise of SC currents at full input rate:
                                # max_j sqrt(sum_i p(1-p)) x input gain (x 1/threshold), bits
                                # taken as independent (one weight source per layer correlates
                                # them: the real noise is larger)

    def line(self):
        thr = "-" if self.threshold_int is None else f"{self.threshold_error:.1e}"
        nodes = " ".join(f"{n}:{t}" for n, t in zip(self.nodes, self.types))
        return (f"layer {self.layer} [{nodes}]"
                f" -> {self.neuron} x{self.neurons}: scale {self.scale:.4g}, weights "
                f"{self.weight_format} rms err {self.weight_rms_error:.1e} max "
                f"{self.weight_max_error:.1e} ({self.weights_zeroed} zeroed, "
                f"{self.weights_clipped} clipped by up to {self.clip_max_error:.2f}), threshold Q="
                f"{self.threshold_int} err {thr}, state {self.state_format}, coef err "
                f"{self.coef_error:.1e}, SC membrane noise {self.sc_noise:.2f} x threshold "
                "per cycle")


def _neuron(kind, nodes, n, dt, width):
    """``(row gain (n,), neuron factory(s, peak) -> params, description)`` for a neuron group.

    The factory takes the layer scale ``s`` and the largest row sum of |SC weights| (for the
    range of non-spiking states)."""
    (name, node), thr_node = nodes[0], (nodes[1] if len(nodes) > 1 else None)
    P = lambda attr: _per_neuron(name, node, attr, n)          # noqa: E731
    U = lambda attr, values: _uniform(name, node, attr, values)  # noqa: E731

    def decay(attr):
        tau = U(attr, P(attr))
        if tau < dt:
            raise ParameterError(f"node {name!r} ({kind}): {attr} = {tau:g} is shorter than dt = "
                                 f"{dt:g}; forward Euler needs tau >= dt (give a smaller --dt)")
        return _canon(1 - dt / tau), _canon(dt / tau)

    def thresholds():
        t = (_per_neuron(thr_node[0], thr_node[1], "threshold", n) if thr_node
             else P("v_threshold"))
        if np.any(t <= 0):
            where = thr_node[0] if thr_node else name
            raise ParameterError(f"node {where!r}: thresholds must be > 0 (the membrane is "
                                 f"measured in units of the threshold), got min {t.min():g}")
        return t

    def state(values):
        return {k: U(k, v) for k, v in values.items()}

    def spiking(s, frac):
        return _snap(s, frac) + 1.0 / (1 << frac)

    def ranged(make, s, peak, extra=()):
        # the state holds 4 x the threshold, v_reset, v_leak and the largest current (the
        # steady state of a membrane with r = 1 - beta, and of a synaptic current)
        def rng(t):
            return _canon(max(4 * max([t, *map(abs, extra)]), peak))
        g = _snap(s, _frac(width, rng(s)))           # the grid threshold sets the range
        return make(_frac(width, rng(g)), rng(g))

    if kind in ("LIF", "IF", "CubaLIF") or (kind in ("LI", "CubaLI") and thr_node):
        t = thresholds()
        if kind == "IF":
            gain, beta, r = P("r") / t, None, _canon(dt)
        elif kind in ("LIF", "LI"):
            beta, r = decay("tau")
            gain = P("r") / t
        else:
            alpha, w_in = decay("tau_syn")
            beta, r = decay("tau_mem")
            gain = P("r") * P("w_in") / t
        reset = "none" if thr_node else "zero"
        vl = state({"v_leak": P("v_leak") / t}).get("v_leak", 0.0) if kind != "IF" else 0.0
        vr = 0.0 if thr_node else state({"v_reset": P("v_reset") / t})["v_reset"]

        def make(s, peak):
            def build(frac, v_range):
                common = dict(threshold=spiking(s, frac), reset_mechanism=reset,
                              v_reset=_snap(s * vr, frac), r=r, width=width, v_range=v_range)
                if kind == "IF":
                    return IFParams(**common)
                if kind in ("LIF", "LI"):
                    return LeakyParams(beta=beta, v_leak=_snap(s * vl, frac), **common)
                return SynapticParams(alpha=alpha, beta=beta, w_in=w_in,
                                      v_leak=_snap(s * vl, frac), **common)
            return ranged(build, s, peak, (s * vr, s * vl))
        return gain, make, "threshold"
    if kind == "Threshold":
        t = P("threshold")
        if np.any(t <= 0):
            raise ParameterError(f"node {name!r} (Threshold): threshold must be > 0, got min "
                                 f"{t.min():g}")

        def make(s, peak):
            return ranged(lambda frac, v_range: LeakyParams(
                beta=0.0, threshold=spiking(s, frac), reset_mechanism="none", r=1.0,
                width=width, v_range=v_range), s, peak)
        return 1.0 / t, make, "threshold"
    # non-spiking: LI, CubaLI, or a bare readout (node None)
    if node is None:
        beta, r, vl, gain = 0.0, 1.0, 0.0, np.ones(n)
    else:
        gain = P("r") * (P("w_in") if kind == "CubaLI" else 1.0)
        vl = U("v_leak", P("v_leak"))
        if kind == "LI":
            beta, r = decay("tau")
        else:
            alpha, w_in = decay("tau_syn")
            beta, r = decay("tau_mem")

    def make(s, peak):
        v_range = _canon(max(1.0, 2.0 ** math.ceil(math.log2(max(peak, abs(s * vl), 1e-9)))))
        frac = _frac(width, v_range)
        if kind == "CubaLI":
            # no non-spiking synaptic neuron: the threshold sits at the top of the range and
            # the reset is none, so it only "spikes" at saturation; scfpga reads its score
            top = ((1 << (width - 1)) - 1) / (1 << frac)
            return SynapticParams(alpha=alpha, beta=beta, w_in=w_in, r=r, threshold=top,
                                  reset_mechanism="none", v_leak=_snap(s * vl, frac),
                                  width=width, v_range=v_range)
        return LIParams(beta=beta, v_leak=_snap(s * vl, frac), r=r, width=width, v_range=v_range)
    return gain, make, None


def _group(weights, kind, nodes, **extra):
    return dict(weights=weights, kind=kind, nodes=nodes, **extra)


def _layers(shape, chain):
    """Group the chain into layers: dicts with ``type`` ``"dense"`` (``W``, ``b``), ``"conv"``
    (``K`` (O, C, kh, kw), ``b``, ``in_shape``, ``stride``, ``padding``) or ``"pool"`` (a
    standalone average pool: ``in_shape``, ``kernel``, ``stride``, ``padding``), with their
    weight nodes, neuron type and neuron nodes.

    ``shape`` is the NIR shape of the current vector: ``(n,)``, or a map ``(C, H, W)``. A dense
    weight node after a ``Flatten`` of a map gets its columns permuted from NIR's CHW order to
    scfpga's HWC order. A pool followed by a neuron is a convolution with a diagonal kernel
    (exact); a pool followed by weights is a :class:`.conv.PoolLayer` ``avg`` whose spikes fire at
    the window's mean density, and a SumPool's window size moves into the next weights."""
    shape = tuple(shape) or (1,)
    groups, W, b, K, wnodes, i = [], None, None, None, [], 0
    geo, gain_next, flat_of = None, 1.0, (shape if len(shape) == 3 else None)
    size = lambda: int(np.prod(shape))                # noqa: E731

    def close(kind, nodes):
        nonlocal W, b, K, wnodes, geo, gain_next
        if K is not None:
            groups.append(_group(wnodes, kind, nodes, type="conv", K=K, b=b, **geo))
        else:
            groups.append(_group(wnodes, kind, nodes, type="dense",
                                 W=np.eye(size()) * gain_next if W is None else W, b=b))
            gain_next = 1.0
        W, b, K, wnodes, geo = None, None, None, [], None

    while i < len(chain):
        name, node = chain[i]
        kind = type(node).__name__
        if kind == "Flatten":
            if len(shape) == 3 and K is not None:
                raise ParameterError(f"node {name!r} (Flatten) sits between a convolution and "
                                     "its neuron")
            shape = (size(),)
            wnodes.append((name, node))
        elif kind in ("Affine", "Linear"):
            if K is not None or len(shape) != 1:
                raise ParameterError(f"node {name!r} ({kind}) reads a (C, H, W) map: flatten it "
                                     "first (and give the convolution its neuron)")
            w = _array(name, node, "weight")
            if w.ndim != 2 or w.shape[1] != size():
                raise ParameterError(f"node {name!r} ({kind}): weight must have shape (outputs, "
                                     f"{size()}), got {w.shape}")
            bb = _array(name, node, "bias").ravel() if kind == "Affine" else None
            if bb is not None and bb.shape != (w.shape[0],):
                raise ParameterError(f"node {name!r} (Affine): bias must have {w.shape[0]} "
                                     f"values, got shape {bb.shape}")
            if W is None:
                if flat_of is not None and flat_of[0] > 1:      # NIR's CHW columns -> HWC
                    w = w[:, np.argsort(chw_index(flat_of))]
                W, b = w * gain_next, bb
                gain_next = 1.0
            else:
                b = None if b is None and bb is None else \
                    w @ (np.zeros(size()) if b is None else b) + (0 if bb is None else bb)
                W = w @ W
            flat_of = None
            shape = (w.shape[0],)
            wnodes.append((name, node))
        elif kind == "Scale":
            sc = _array(name, node, "scale").ravel()
            if sc.size not in (1, size()) or (K is not None and sc.size != 1):
                raise ParameterError(f"node {name!r} (Scale): scale must have 1 or {size()} "
                                     f"values (1 after a convolution), got {sc.size}")
            if K is not None:
                K, b = K * sc[0], None if b is None else b * sc[0]
            else:
                sc = np.broadcast_to(sc, (size(),))
                if W is None and flat_of is not None:
                    sc = sc[np.argsort(chw_index(flat_of))]
                W = np.diag(sc) * gain_next if W is None else sc[:, None] * W
                b = None if b is None else sc * b
                gain_next = 1.0
            wnodes.append((name, node))
        elif kind in ("Conv2d", "Conv1d"):
            if W is not None or K is not None:
                raise ParameterError(f"node {name!r} ({kind}) follows other weights without a "
                                     "neuron between them")
            K, b, stride, padding = conv_geometry(name, node, shape)
            K = K * gain_next
            gain_next = 1.0
            geo = dict(in_shape=shape, stride=stride, padding=padding)
            shape = conv_out(shape, K.shape[0], K.shape[2:], stride, padding)
            flat_of = shape
            wnodes.append((name, node))
        elif kind in ("SumPool2d", "AvgPool2d"):
            if W is not None or K is not None:
                raise ParameterError(f"node {name!r} ({kind}) follows weights without a neuron "
                                     "between them")
            kernel, stride, padding = pool_geometry(name, node, shape)
            area = kernel[0] * kernel[1]
            nxt = type(chain[i + 1][1]).__name__ if i + 1 < len(chain) else None
            c = shape[0]
            if nxt in NEURON_NODES:
                # pool + neuron: a convolution with a diagonal kernel, exact
                K = np.zeros((c, c) + kernel)
                K[np.arange(c), np.arange(c)] = gain_next * (1.0 / area if kind == "AvgPool2d"
                                                             else 1.0)
                gain_next = 1.0
                geo = dict(in_shape=shape, stride=stride, padding=padding)
                wnodes.append((name, node))
            else:
                if wnodes:
                    raise ParameterError(f"node {name!r} ({kind}) follows a Flatten or Scale")
                if gain_next != 1.0:
                    raise ParameterError(f"node {name!r} ({kind}) follows another pool")
                groups.append(_group([(name, node)], None, [], type="pool", in_shape=shape,
                                     kernel=kernel, stride=stride, padding=padding))
                gain_next = float(area) if kind == "SumPool2d" else 1.0
            shape = conv_out(shape, c, kernel, stride, padding)
            flat_of = shape
        else:                                          # a neuron node
            nodes = [(name, node)]
            if kind in ("LI", "CubaLI") and i + 1 < len(chain) and \
                    type(chain[i + 1][1]).__name__ == "Threshold":
                nodes.append(chain[i + 1])
                i += 1
            if K is None and W is None and len(shape) == 3:
                raise ParameterError(f"node {name!r} ({kind}) on a (C, H, W) map needs a "
                                     "convolution or pool before it (or a Flatten)")
            close(kind, nodes)
        i += 1
    if K is not None:
        raise ParameterError(f"node {wnodes[-1][0]!r}: a convolution or pool needs a neuron "
                             "after it")
    if W is not None or wnodes or gain_next != 1.0:
        close(None, [(None, None)])
    if not groups:
        raise ParameterError("the NIR graph has no layer (no weights and no neurons)")
    return groups


def _clip_peak(Wf, bf, clip):
    """The folded weight magnitude that becomes SC 1.0: the ``ceil(clip * n)``-th smallest of
    the n nonzero |weights and biases| (``clip = 1``: the largest, nothing saturates).

    Why clip at all: one weight source per layer gates every synapse of a neuron together, so
    the per-cycle SC current comes in bursts of whole input spikes (every synapse whose weight
    exceeds the source value); the threshold is ``s`` current units, and a burst far above it
    is overshoot a reset to ``v_reset`` throws away (fewer spikes than the float network).
    A larger scale ``s`` (a few large weights saturated) raises the threshold against the same
    bursts. An order statistic, not an interpolated quantile: an exported network (whose
    clipped weights sit at exactly 1.0) imports to the same scale."""
    mags = np.abs(np.concatenate([Wf.ravel()] + ([] if bf is None else [bf])))
    mags = np.sort(mags[mags > 0])
    if len(mags) == 0:
        return 0.0
    return float(mags[max(0, math.ceil(clip * len(mags)) - 1)])


def from_nir(graph_or_path, dt=DEFAULT_DT, width=8, length=256, state_width=16,
             source="sobol", seed=0, lfsr_width=16, lanes=1, fold=1, encoding="rate",
             clip=None, weight_memory="rom"):
    """``(NetworkParams, [NodeQuantisation, ...])`` for a NIR graph or ``.nir`` file.

    ``dt``: the Euler step of the continuous-time nodes (default 1e-4: snnTorch's export).
    ``width``: SC comparator width (weights have ``width``-bit magnitudes); ``length``: SC cycles
    per run, one per NIR time step; ``state_width``: bits of every neuron state field.
    ``encoding``: what the hardware is fed, ``"rate"`` (one value in [0, 1] per input, encoded
    by scfpga's SNGs) or ``"raster"`` (the input spikes of every time step, e.g. a spiking
    dataset or the spikes a float reference saw; the graph's Input node does not say which).
    ``weight_memory``: ``"rom"``, ``"ram"`` or ``"spram"`` (:class:`.network.NetworkParams`).
    ``clip``: per layer, the fraction of nonzero folded weights kept inside the SC range; the
    rest saturate at +-1.0 (default ``DEFAULT_CLIP``, measured in ``results/nir/clip.md``;
    1.0 saturates none; :func:`_clip_peak` says why this helps).
    """
    try:
        dt = float(dt)
    except (TypeError, ValueError):
        dt = math.nan
    if not (math.isfinite(dt) and dt > 0):
        raise ParameterError(f"dt must be a positive number, got {dt!r}")
    if isinstance(width, bool) or not isinstance(width, int) or not 1 <= width <= 16:
        raise ParameterError(f"width must be an integer in 1..16, got {width!r}")
    clip = DEFAULT_CLIP if clip is None else clip
    if isinstance(clip, bool) or not isinstance(clip, (int, float)) or not 0 < clip <= 1:
        raise ParameterError(f"clip must be a number in (0, 1], got {clip!r}")
    graph = load_graph(graph_or_path)
    shape, chain = graph_chain(graph)
    layers, report = [], []
    for l, g in enumerate(_layers(shape, chain)):
        where = f"layer {l + 1}: "
        try:
            if g["type"] == "pool":
                layer = PoolLayer("avg", g["in_shape"], g["kernel"], g["stride"], g["padding"],
                                  lanes=lanes)
                report.append(_pool_report(l + 1, g, layer, length))
                layers.append(layer)
                continue
            layer, rep = _weight_layer(l + 1, g, dt, width, state_width, clip, length,
                                       lanes, fold)
        except ParameterError as e:
            raise ParameterError(where + str(e)) from None
        report.append(rep)
        layers.append(layer)
    n_in = int(np.prod(shape)) if shape else 1
    net = NetworkParams(n_in, tuple(layers), width, length, source, seed, lfsr_width,
                        input_shape=tuple(shape) if len(shape) == 3 else None,
                        encoding=encoding, weight_memory=weight_memory)
    return net, report


def _names(g):
    nodes = g["weights"] + [x for x in g["nodes"] if x[0] is not None]
    return tuple(x[0] for x in nodes), tuple(type(x[1]).__name__ for x in nodes)


def _pool_report(index, g, layer, length):
    names, types = _names(g)
    return NodeQuantisation(index, names, types, "pool avg", layer.n_neurons, 1.0,
                            "none (every window synapse on)", 0.0, 0.0, 0, 0, 0.0, None,
                            None, 0.0, "IF, subtract reset", 0.0, length, 0.0)


def _weight_layer(index, g, dt, width, state_width, clip, length, lanes, fold):
    """The dense or conv layer of a weight group and its :class:`NodeQuantisation`."""
    top = float(1 << width)
    conv = g["type"] == "conv"
    if conv:
        K = g["K"]
        o = K.shape[0]
        n = int(np.prod(conv_out(g["in_shape"], o, K.shape[2:], g["stride"], g["padding"])))
        W = K.transpose(0, 2, 3, 1).reshape(o, -1)           # kernel in tap order (o, ky, kx, c)
    else:
        W = g["W"]
        n = W.shape[0]
    b = g["b"]
    gain, make, has_thr = _neuron(g["kind"], g["nodes"], n, dt, state_width)
    if conv:
        # a kernel is shared by every position: the gain must be one per out channel
        per = gain.reshape(o, -1)
        if not np.allclose(per, per[:, :1], rtol=1e-6, atol=0):
            raise ParameterError(f"node {g['nodes'][0][0]!r}: r, w_in and v_threshold of a "
                                 "convolution's neurons must be equal across positions (one "
                                 "kernel serves them all)")
        gain = per[:, 0]
    Wf = gain[:, None] * W
    bf = None if b is None else gain * b
    peak = max(np.abs(Wf).max(), 0.0 if bf is None else np.abs(bf).max())
    if peak == 0:
        raise ParameterError(f"every weight of nodes {[w[0] for w in g['weights']]} is 0 "
                             "(after the gains r/v_threshold)")
    s = _canon(1.0 / _clip_peak(Wf, bf, clip))
    q = quantize_weights(np.clip(Wf * s, -1, 1), width)
    qb = None if bf is None else quantize_weights(np.clip(bf * s, -1, 1), width)
    terms = np.abs(q).sum(1) + (0 if qb is None else np.abs(qb))
    neuron = make(s, float(terms.max()) / top)
    if conv:
        kh, kw = K.shape[2:]
        kernel = q.reshape(o, kh, kw, -1).transpose(0, 3, 1, 2)
        layer = ConvLayer(kernel, g["in_shape"], qb, g["stride"], g["padding"], neuron, lanes)
    else:
        layer = DenseLayer(q, qb, neuron, lanes, fold)
    exact = np.concatenate([Wf * s] + ([] if bf is None else [bf[:, None] * s]), 1)
    quant = layer.kernel_terms / top
    err = quant - np.clip(exact, -1, 1)         # rounding; clipping is reported apart
    p = np.abs(quant)
    noise = float(np.sqrt((p * (1 - p)).sum(1)).max())
    if has_thr:
        q_thr = neuron.q_threshold
        thr_err = abs((q_thr - 1) / (1 << neuron.frac) - s) / s
    else:
        q_thr, thr_err = None, 0.0
    coefs = [getattr(neuron, c) for c in ("alpha", "beta") if hasattr(neuron, c)]
    coef_err = max([abs(neuron.q_coef(c) / (1 << neuron.coef_bits) - c) for c in coefs],
                   default=0.0)
    names, types = _names(g)
    return layer, NodeQuantisation(
        index, names, types, neuron.name, n, s,
        f"sign-magnitude {width}+1 bits (1.0 = {1 << width})",
        float(np.sqrt(np.mean(err ** 2))), float(np.abs(err).max()),
        int(np.sum((exact != 0) & (layer.kernel_terms == 0))),
        int(np.sum(np.abs(exact) > 1)), float(max(0.0, np.abs(exact).max() - 1)),
        1.0 if has_thr else None, q_thr, float(thr_err),
        f"Q{state_width - neuron.frac}.{neuron.frac} ({state_width} bits)",
        float(coef_err), length,
        noise * getattr(neuron, "r", 1.0) * getattr(neuron, "w_in", 1.0) /
        (s if has_thr else 1.0))




def report_json(report, dt=None):
    """The quantisation report as a JSON-ready dict."""
    return {"dt": dt, "layers": [asdict(r) for r in report]}


# ----------------------------------------------------------------------------- to NIR

def _strict_threshold(p):
    """The NIR threshold ``t`` with ``v > t`` exactly when the fixed-point ``U >= Q`` fires."""
    return (p.q_threshold - 1) / (1 << p.frac)


def to_nir(network, dt=DEFAULT_DT):
    """A :class:`nir.NIRGraph` whose float semantics (with Euler step ``dt``) are the network's.

    Weights are the quantised ones (``q / 2**width``); thresholds are the strict equivalents of
    the integer thresholds. Neurons NIR cannot express raise an error naming the layer: resets
    by subtraction, the integer ``lif`` type, alpha/ALIF/Izhikevich neurons.
    """
    if not isinstance(network, NetworkParams):
        raise ParameterError("to_nir needs a NetworkParams")
    top = float(1 << network.width)
    shape = network.input_shape or (network.n_inputs,)
    nodes = {"input": nir.Input(input_type=np.array(shape))}
    order = ["input"]

    def add(name, node):
        nodes[name] = node
        order.append(name)

    for l, layer in enumerate(network.layers):
        where = f"layer {l + 1}: "
        n = layer.n_neurons
        full = lambda v: np.full(n, float(v))        # noqa: E731
        pair = lambda v: np.array([v, v])            # noqa: E731
        if isinstance(layer, PoolLayer):
            if layer.kind != "avg":
                raise ParameterError(f"{where}{layer.describe()}: NIR has no max pooling")
            add(f"pool{l + 1}", nir.AvgPool2d(kernel_size=np.array(layer.kernel_size),
                                              stride=pair(layer.stride),
                                              padding=pair(layer.padding)))
            shape = layer.out_shape
            continue
        if isinstance(layer, ConvLayer):
            bias = np.zeros(layer.out_channels) if layer.bias is None else \
                np.array(layer.bias, np.float64) / top
            add(f"conv{l + 1}", nir.Conv2d(
                input_shape=np.array(layer.in_shape[1:]),
                weight=np.array(layer.weights, np.float64) / top, stride=pair(layer.stride),
                padding=pair(layer.padding), dilation=pair(1), groups=1, bias=bias))
        else:
            w = np.array(layer.weights, np.float64) / top
            if len(shape) == 3:                      # a map: NIR flattens it in CHW order
                add(f"flat{l + 1}", nir.Flatten(input_type={"input": np.array(shape)},
                                                start_dim=0))
                w = w[:, chw_index(shape)]
            if layer.bias is None:
                add(f"fc{l + 1}", nir.Linear(weight=w))
            else:
                add(f"fc{l + 1}", nir.Affine(weight=w,
                                             bias=np.array(layer.bias, np.float64) / top))
        shape = layer.out_shape
        p = layer.neuron
        kind = type(p)
        reset = getattr(p, "reset_mechanism", None)
        if reset == "subtract":
            raise ParameterError(where + "reset_mechanism 'subtract' has no NIR equivalent (NIR "
                                 "neurons reset to v_reset)")
        if kind in (LeakyParams, SynapticParams, LIParams) and p.beta >= 1:
            raise ParameterError(where + "beta = 1 has no NIR time constant (use an IF neuron)")
        tau = lambda c: full(dt / (1 - c))           # noqa: E731
        if kind is IFParams and reset == "zero":
            add(f"if{l + 1}", nir.IF(r=full(p.r / dt), v_threshold=full(_strict_threshold(p)),
                                     v_reset=full(p.v_reset)))
        elif kind is LeakyParams and reset == "zero":
            add(f"lif{l + 1}", nir.LIF(tau=tau(p.beta), r=full(p.r / (1 - p.beta)),
                                       v_leak=full(p.v_leak),
                                       v_threshold=full(_strict_threshold(p)),
                                       v_reset=full(p.v_reset)))
        elif kind is LeakyParams and reset == "none":
            add(f"li{l + 1}", nir.LI(tau=tau(p.beta), r=full(p.r / (1 - p.beta)),
                                     v_leak=full(p.v_leak)))
            add(f"thr{l + 1}", nir.Threshold(threshold=full(_strict_threshold(p))))
        elif kind is SynapticParams and p.alpha >= 1:
            raise ParameterError(where + "alpha = 1 has no NIR time constant")
        elif kind is SynapticParams:
            common = dict(tau_syn=tau(p.alpha), tau_mem=tau(p.beta), r=full(p.r / (1 - p.beta)),
                          v_leak=full(p.v_leak), w_in=full(p.w_in / (1 - p.alpha)))
            if reset == "zero":
                add(f"cuba{l + 1}", nir.CubaLIF(v_threshold=full(_strict_threshold(p)),
                                                v_reset=full(p.v_reset), **common))
            else:
                add(f"cubali{l + 1}", nir.CubaLI(**common))
                if p.q_threshold < p.v_max:
                    add(f"thr{l + 1}", nir.Threshold(threshold=full(_strict_threshold(p))))
        elif kind is LIParams:
            add(f"li{l + 1}", nir.LI(tau=tau(p.beta), r=full(p.r / (1 - p.beta)),
                                     v_leak=full(p.v_leak)))
        else:
            raise ParameterError(where + f"neuron type {getattr(p, 'name', kind.__name__)!r} "
                                 "has no NIR node (export supports leaky, if, synaptic and li "
                                 "with zero or no reset)")
    add("output", nir.Output(output_type=np.array([network.n_outputs])))
    edges = list(zip(order[:-1], order[1:]))
    return nir.NIRGraph(nodes=nodes, edges=edges, type_check=False)


def write_nir(network, path, dt=DEFAULT_DT):
    """Write :func:`to_nir` of ``network`` to ``path`` (a ``.nir`` HDF5 file)."""
    nir.write(path, to_nir(network, dt))


# ----------------------------------------------------------------------------- float reference

def reference_run(graph_or_path, spikes, dt=DEFAULT_DT):
    """The NIR specification in float64, run on the graph itself: ``{node name: (batch, n, T)}``.

    ``spikes``: input ``(batch, n_inputs, T)``, a map input flattened in NIR's (C, H, W)
    order (scfpga's inputs are HWC: :func:`.nir_conv.to_hwc`). Every node of a time step sees its
    predecessor's output of the same step (snnTorch, Norse and NIR's own examples simulate it
    so); spiking nodes output 0/1, LI/CubaLI their membrane. Equations: module docstring
    (forward Euler, ``v > threshold`` fires, reset to ``v_reset``; CubaLIF's membrane takes
    the updated synaptic current).
    """
    graph = load_graph(graph_or_path)
    shape, chain = graph_chain(graph)
    x = np.asarray(spikes, np.float64)
    B, _, T = x.shape
    outs = {}
    for name, node in chain:
        kind = type(node).__name__
        g = lambda a: np.asarray(getattr(node, a), np.float64).reshape(-1)[None, :]  # noqa: E731
        if kind == "Flatten":
            y = x
            shape = (x.shape[1],)
        elif kind in ("Conv2d", "Conv1d"):
            w, b, stride, padding = conv_geometry(name, node, shape)
            y = reference_conv(x, shape, w, b, stride, padding)
            shape = conv_out(shape, w.shape[0], w.shape[2:], stride, padding)
        elif kind in ("SumPool2d", "AvgPool2d"):
            kernel, stride, padding = pool_geometry(name, node, shape)
            y = reference_pool(x, shape, kernel, stride, padding, kind == "AvgPool2d")
            shape = conv_out(shape, shape[0], kernel, stride, padding)
        elif kind in ("Affine", "Linear"):
            y = np.einsum("oi,bit->bot", np.asarray(node.weight, np.float64), x)
            shape = (y.shape[1],)
            if kind == "Affine":
                y = y + np.asarray(node.bias, np.float64).reshape(1, -1, 1)
        elif kind == "Scale":
            y = x * np.asarray(node.scale, np.float64).reshape(1, -1, 1)
        elif kind == "Threshold":
            y = (x > np.asarray(node.threshold, np.float64).reshape(1, -1, 1)).astype(np.float64)
        else:
            n = x.shape[1]
            y = np.zeros_like(x)
            v = np.zeros((B, n))
            i_syn = np.zeros((B, n))
            for t in range(T):
                inp = x[:, :, t]
                if kind in ("CubaLIF", "CubaLI"):
                    i_syn = i_syn + dt / g("tau_syn") * (-i_syn + g("w_in") * inp)
                    v = v + dt / g("tau_mem") * (g("v_leak") - v + g("r") * i_syn)
                elif kind == "IF":
                    v = v + dt * g("r") * inp
                else:                                    # LIF, LI
                    v = v + dt / g("tau") * (g("v_leak") - v + g("r") * inp)
                if kind in ("LIF", "IF", "CubaLIF"):
                    z = v > g("v_threshold")
                    v = np.where(z, g("v_reset"), v)
                    y[:, :, t] = z
                else:
                    y[:, :, t] = v
        outs[name] = y
        x = y
    return outs


# ----------------------------------------------------------------------------- fidelity

def layer_outputs(report):
    """The NIR node whose output is each layer's output (the last node of its group)."""
    return [r.nodes[-1] for r in report]


def fidelity(network, report, graph_or_path, bits, dt=DEFAULT_DT):
    """Per layer, scfpga's golden model against :func:`reference_run` on the same input spikes.

    ``bits``: ``(batch, n_inputs, T)`` 0/1. scfpga layer ``l`` (1-based) shows the response to
    the reference's step ``t`` in cycle ``t + l`` (one SC cycle of latency per layer), so each
    layer is compared over ``T - l`` aligned steps. Spiking layers: the fraction of equal
    (sample, neuron, step) spikes, the mean absolute spike-rate error and the reference rate;
    non-spiking layers (LI, readout): the RMS membrane error relative to the reference's RMS
    per step (``rel_rms_error``) and of the time-mean membrane (``mean_error``), scfpga's
    membrane divided by the layer scale. Returns ``(rows, run, ref)``.
    """
    graph = load_graph(graph_or_path)
    bits = np.asarray(bits, np.uint8)
    run = Network(network).evaluate_bits(bits)
    shape = network.input_shape
    ref = reference_run(graph, bits if shape is None else bits[:, chw_index(shape)], dt)
    T = bits.shape[-1]
    rows = []
    for l, (layer, rep, node) in enumerate(zip(network.layers, report, layer_outputs(report))):
        d = l + 1
        r = ref[node][:, :, :T - d]
        row = {"layer": l + 1, "node": node, "neuron": rep.neuron, "steps": T - d}
        order = chw_index(layer.out_shape) if len(layer.out_shape) == 3 else slice(None)
        if isinstance(layer, PoolLayer):
            # the reference's window sum (or mean) against the pool's spike density
            s = run.spikes[l][:, order, d:].astype(np.float64)
            area = 1 if rep.types[0] == "AvgPool2d" else layer.sweep_terms
            row.update(kind="pool", rate_error=float(np.mean(np.abs(s.mean(-1) -
                                                                    r.mean(-1) / area))),
                       rate_ref=float(r.mean() / area), rate_scfpga=float(s.mean()))
        elif rep.threshold_int is not None:
            s = run.spikes[l][:, order, d:].astype(np.float64)
            row.update(kind="spikes", agreement=float(np.mean(s == r)),
                       rate_error=float(np.mean(np.abs(s.mean(-1) - r.mean(-1)))),
                       rate_ref=float(r.mean()), rate_scfpga=float(s.mean()))
        else:
            _, mem = fixed_run(layer.neuron, run.currents[l])
            m = mem[:, order, d:] / rep.scale
            rms = float(np.sqrt(np.mean(r ** 2))) or 1.0
            mr = r.mean(-1)
            mrms = float(np.sqrt(np.mean(mr ** 2))) or 1.0
            row.update(kind="membrane", rel_rms_error=float(np.sqrt(np.mean((m - r) ** 2))) / rms,
                       mean_error=float(np.sqrt(np.mean((m.mean(-1) - mr) ** 2))) / mrms)
        rows.append(row)
    return rows, run, ref


def predictions(network, report, run, ref):
    """``(scfpga classes, reference classes)`` of a batch: the argmax of the output layer's
    spike counts (spiking) or of its mean membrane (LI, readout) over the aligned window."""
    rep, node = report[-1], layer_outputs(report)[-1]
    d = len(network.layers)
    r = ref[node]
    T = r.shape[-1]
    if rep.threshold_int is not None:
        sc = run.spikes[-1][:, :, d:].sum(-1)
    else:
        sc = run.scores[-1]
    return np.argmax(sc, -1), np.argmax(r[:, :, :T - d].sum(-1), -1)


__all__ = ["DEFAULT_DT", "DEFAULT_CLIP", "from_nir", "to_nir", "write_nir", "reference_run",
           "to_hwc", "load_graph", "graph_chain", "NodeQuantisation", "report_json", "fidelity",
           "predictions"]
