"""Conv and pool layers in networks: the golden model against independent correlations, the spec
format, and seeded random conv/pool networks co-simulated spike by spike against the RTL."""
import numpy as np
import pytest
from scipy.signal import correlate

from scfpga.layers import SCConv2DLayer, SpikingConv2d
from scfpga.model.conv import ConvLayer, PoolLayer
from scfpga.model.netspec import network_from_spec, network_to_spec
from scfpga.model.network import DenseLayer, Network, NetworkParams
from scfpga.model.neuron import lif_neuron
from scfpga.model.params import ParameterError
from scfpga.sim.network import cosim_network


def hwc(bits, shape):
    """(batch, C*H*W, T) HWC vectors -> (batch, C, H, W, T)."""
    c, h, w = shape
    return bits.reshape(len(bits), h, w, c, -1).transpose(0, 3, 1, 2, 4)


def reference_conv_currents(layer, s, bits):
    """Per-cycle conv currents from a zero-padded NCHW map, one kernel offset at a time, with
    the weight bits ``sign * [S(k) < |q|]`` (independent of the layer's index tables)."""
    c, h, w = layer.in_shape
    q = np.array(layer.weights)                      # (o, c, kh, kw)
    o, _, kh, kw = q.shape
    pad, st = layer.padding, layer.stride
    x = np.pad(hwc(bits, layer.in_shape), ((0, 0), (0, 0), (pad, pad), (pad, pad), (0, 0)))
    _, oh, ow = layer.out_shape
    on = np.sign(q)[..., None] * (s[None, None, None, None, :] < np.abs(q)[..., None])
    out = np.zeros((len(bits), o, oh, ow, len(s)), np.int64)
    for ky in range(kh):
        for kx in range(kw):
            win = x[:, :, ky:ky + st * oh:st, kx:kx + st * ow:st]       # (b, c, oh, ow, T)
            out += np.einsum("bcyxt,oct->boyxt", win, on[:, :, ky, kx])
    if layer.bias is not None:
        b = np.array(layer.bias)
        out += (np.sign(b)[:, None] * (s[None] < np.abs(b)[:, None]))[None, :, None, None]
    return out.transpose(0, 2, 3, 1, 4).reshape(len(bits), -1, len(s))      # back to HWC


def random_conv_network(rng, length=None):
    """conv -> pool -> (conv | nothing) -> dense on a small random image: kernel 1-5, stride
    1-2, padding 0-2, channels 1-8, both sources, folds, lanes, max and average pooling."""
    c, side = int(rng.integers(1, 4)), int(rng.integers(4, 8))
    width = int(rng.integers(5, 9))
    layers, shape = [], (c, side, side)
    for depth in range(int(rng.integers(1, 3))):
        k = int(rng.integers(1, min(5, shape[1]) + 1))
        pad = int(rng.integers(0, min(2, k - 1) + 1))
        stride = int(rng.integers(1, 3))
        o = int(rng.choice([1, 2, 3, 4, 6, 8]))
        folds = [f for f in range(1, o + 1) if o % f == 0]
        w = rng.uniform(-0.5, 1, (o, shape[0], k, k))
        b = rng.uniform(-0.5, 1, o) if rng.random() < 0.5 else None
        conv = ConvLayer(np.round(w * (1 << width)).astype(int), shape,
                         None if b is None else np.round(b * (1 << width)).astype(int),
                         stride, pad, lif_neuron(width=12, threshold=int(rng.integers(1, 3)),
                                                 leak_shift=int(rng.choice([0, 3]))),
                         int(2 ** rng.integers(0, 3)), int(rng.choice(folds)))
        layers.append(conv)
        shape = conv.out_shape
        if depth == 0 and min(shape[1:]) >= 2:
            pool = PoolLayer(str(rng.choice(["max", "avg"])), shape, 2,
                             int(rng.integers(1, 3)), 0, int(2 ** rng.integers(0, 2)))
            layers.append(pool)
            shape = pool.out_shape
    n = int(np.prod(shape))
    layers.append(DenseLayer(np.round(rng.uniform(-0.3, 1, (3, n)) * (1 << width)).astype(int),
                             neuron=lif_neuron(width=12, threshold=2)))
    return NetworkParams(c * side * side, tuple(layers), width,
                         length or int(rng.integers(6, 13)), str(rng.choice(["sobol", "lfsr"])),
                         int(rng.integers(0, 4)), input_shape=(c, side, side))


# ---------------------------------------------------------------------------- golden model

@pytest.mark.parametrize("seed", range(6))
def test_conv_currents_match_a_padded_correlation(seed):
    rng = np.random.default_rng(seed)
    params = random_conv_network(rng, length=24)
    model = Network(params)
    run = model.evaluate(rng.random((2, params.n_inputs)))
    s = model.streams(params.length)[1]
    x = run.inputs
    for l, layer in enumerate(params.layers):
        if isinstance(layer, ConvLayer):
            np.testing.assert_array_equal(run.currents[l], reference_conv_currents(layer, s[l], x))
        x = run.spikes[l]


@pytest.mark.parametrize("seed", range(3))
def test_exact_accumulation_is_scipy_correlation(seed):
    """accumulation = "exact": the current is the integer cross-correlation of the input bits
    with the kernel plus the bias, every cycle (scipy as the oracle; strided: its subsample)."""
    rng = np.random.default_rng(40 + seed)
    c, h, w, o = int(rng.integers(1, 4)), int(rng.integers(5, 9)), int(rng.integers(5, 9)), 3
    k = int(rng.integers(1, 6))
    pad, stride = int(rng.integers(0, min(2, k - 1) + 1)), int(rng.integers(1, 3))
    k = min(k, h + 2 * pad, w + 2 * pad)
    q = rng.integers(-64, 65, (o, c, k, k))
    bias = rng.integers(-64, 65, o)
    conv = ConvLayer(q, (c, h, w), bias, stride, pad, accumulation="exact")
    params = NetworkParams(c * h * w, (conv,), 6, 12, input_shape=(c, h, w))
    run = Network(params).evaluate(rng.random((2, c * h * w)))
    x = np.pad(hwc(run.inputs, (c, h, w)), ((0, 0), (0, 0), (pad, pad), (pad, pad), (0, 0)))
    _, oh, ow = conv.out_shape
    for b in range(2):
        for t in range(12):
            full = np.stack([sum(correlate(x[b, ch, :, :, t], q[j, ch], mode="valid")
                                 for ch in range(c)) + bias[j] for j in range(o)])
            want = full[:, ::stride, ::stride][:, :oh, :ow]
            got = run.currents[0][b, :, t].reshape(oh, ow, o).transpose(2, 0, 1)
            np.testing.assert_array_equal(got, want)


def test_exact_dense_layer_is_a_matrix_product():
    rng = np.random.default_rng(9)
    q, bias = rng.integers(-256, 257, (5, 20)), rng.integers(-256, 257, 5)
    layer = DenseLayer(q, bias, accumulation="exact")
    run = Network(NetworkParams(20, (layer,), 8, 10)).evaluate(rng.random((3, 20)))
    want = np.einsum("ji,bit->bjt", q, run.inputs.astype(np.int64)) + bias[None, :, None]
    np.testing.assert_array_equal(run.currents[0], want)
    with pytest.raises(ParameterError, match="accumulation must be one of sc, exact"):
        DenseLayer(q, accumulation="float")
    with pytest.raises(ParameterError, match="weight_memory must be rom with exact"):
        NetworkParams(20, (layer,), 8, 10, weight_memory="ram")


def test_max_pool_is_an_or_one_cycle_later_and_avg_pool_a_density():
    rng = np.random.default_rng(2)
    bits = (rng.random((3, 4 * 4 * 2, 200)) < 0.3).astype(np.uint8)
    for kind in ("max", "avg"):
        pool = PoolLayer(kind, (2, 4, 4), 2)
        run = Network(NetworkParams(32, (pool,), 8, 200)).evaluate_bits(bits)
        win = hwc(bits, (2, 4, 4)).reshape(3, 2, 2, 2, 2, 2, 200).sum((3, 5))   # (b,c,y,x,T)
        want = win.transpose(0, 2, 3, 1, 4).reshape(3, 8, 200)
        np.testing.assert_array_equal(run.currents[0], want)           # the window's count
        if kind == "max":
            np.testing.assert_array_equal(run.spikes[0][..., 1:], want[..., :-1] > 0)
            assert not run.spikes[0][..., 0].any()
        else:
            np.testing.assert_allclose(run.counts[0] / 200, want.mean(-1) / 4, atol=0.02)


def test_conv_layer_validation():
    q = np.ones((4, 2, 3, 3), int)
    with pytest.raises(ParameterError, match="weights must have 2 input channels"):
        ConvLayer(np.ones((4, 3, 3, 3), int), (2, 5, 5))
    with pytest.raises(ParameterError, match="fold must divide out_channels"):
        ConvLayer(q, (2, 5, 5), fold=3)
    with pytest.raises(ParameterError, match="does not fit the 2x2 input"):
        ConvLayer(q, (2, 2, 2))
    with pytest.raises(ParameterError, match="layer 2: in_shape must be"):
        conv = ConvLayer(q, (2, 5, 5))
        NetworkParams(50, (conv, PoolLayer("max", (4, 9, 1), 1)), 8, input_shape=(2, 5, 5))
    with pytest.raises(ParameterError, match="pool must be one of max, avg"):
        PoolLayer("min", (1, 4, 4))


# ---------------------------------------------------------------------------- specs

CONV_SPEC = {"input_shape": [1, 8, 8], "length": 32, "layers": [
    {"type": "conv2d", "out_channels": 4, "kernel_size": 3, "padding": 1, "fold": 2,
     "bias": [0.1, 0.2, 0.0, -0.1]},
    {"type": "maxpool2d", "kernel_size": 2},
    {"type": "flatten"},
    {"type": "dense", "neurons": 10}]}


def test_conv_spec_reads_and_round_trips():
    params = network_from_spec(CONV_SPEC)
    assert params.sizes == (64, 256, 64, 10) and params.input_shape == (1, 8, 8)
    assert [type(l).__name__ for l in params.layers] == ["ConvLayer", "PoolLayer", "DenseLayer"]
    assert network_from_spec(network_to_spec(params)) == params
    exact = dict(CONV_SPEC, layers=[dict(CONV_SPEC["layers"][0], accumulation="exact")] +
                 CONV_SPEC["layers"][1:3] + [dict(CONV_SPEC["layers"][3], accumulation="exact")])
    params = network_from_spec(exact)
    assert [getattr(l, "accumulation", None) for l in params.layers] == ["exact", None, "exact"]
    assert network_from_spec(network_to_spec(params)) == params


@pytest.mark.parametrize("layer, message", [
    ({"type": "conv2d", "out_channels": 4}, "layer 1: out_channels and kernel_size must be"),
    ({"type": "conv2d", "out_channels": 4, "kernel_size": 3, "colour": 1},
     "layer 1: unknown key 'colour' (allowed for conv2d"),
    ({"type": "conv2d", "out_channels": 4, "kernel_size": 9}, "layer 1: kernel_size must be in"),
    ({"type": "conv2d", "out_channels": 4, "kernel_size": 3, "stride": 0},
     "layer 1: stride must be in 1..4"),
    ({"type": "conv2d", "out_channels": 4, "kernel_size": 3, "padding": 3},
     "layer 1: padding must be in 0..2"),
    ({"type": "conv2d", "out_channels": 4, "kernel_size": 3, "in_channels": 2},
     "layer 1: in_channels must be 1"),
    ({"type": "maxpool2d", "kernel_size": 2, "weights": [1]}, "layer 1: unknown key 'weights'"),
    ({"type": "conv2d", "out_channels": 4, "kernel_size": 3, "accumulation": "float"},
     "layer 1: accumulation must be one of sc, exact"),
    ({"type": "avgpool2d", "kernel_size": [2]}, "layer 1: kernel_size must be an integer or"),
])
def test_conv_spec_errors_name_the_layer_and_key(layer, message):
    with pytest.raises(ParameterError, match=message.replace("(", r"\(")):
        network_from_spec({"input_shape": [1, 8, 8], "layers": [layer]})


def test_a_conv_on_a_flat_input_needs_its_map():
    with pytest.raises(ParameterError, match="layer 2: height and width must be given"):
        network_from_spec({"inputs": 64, "layers": [
            {"type": "dense", "neurons": 16}, {"type": "conv2d", "out_channels": 2,
                                               "kernel_size": 3}]})
    params = network_from_spec({"inputs": 64, "layers": [
        {"type": "dense", "neurons": 16},
        {"type": "conv2d", "out_channels": 2, "kernel_size": 3, "height": 4, "width": 4}]})
    assert params.layers[1].in_shape == (1, 4, 4)


# ---------------------------------------------------------------------------- RTL

@pytest.mark.parametrize("seed", range(10))
def test_random_conv_network_rtl_is_spike_exact(seed, tmp_path_factory):
    rng = np.random.default_rng(500 + seed)
    params = random_conv_network(rng)
    p = Network(params).thresholds(rng.random((1, params.n_inputs)))
    result = cosim_network(params, p, build_root=tmp_path_factory.getbasetemp() / "convsim")
    assert result.ok, result.describe()


def test_random_conv_networks_cover_what_they_claim():
    nets = [random_conv_network(np.random.default_rng(500 + s)) for s in range(10)]
    convs = [l for n in nets for l in n.layers if isinstance(l, ConvLayer)]
    pools = [l for n in nets for l in n.layers if isinstance(l, PoolLayer)]
    assert {n.source for n in nets} == {"sobol", "lfsr"}
    assert {p.kind for p in pools} == {"max", "avg"}
    assert {c.stride for c in convs} == {1, 2} and {c.padding for c in convs} >= {0, 1}
    assert max(c.geometry.kernel[0] for c in convs) >= 3
    assert any(c.fold > 1 for c in convs) and any(c.lanes > 1 for c in convs)
    assert any(c.bias is not None for c in convs)
    active = []
    for s, n in enumerate(nets):
        rng = np.random.default_rng(500 + s)
        random_conv_network(rng)
        run = Network(n).evaluate(rng.random((1, n.n_inputs)))
        active += [bool(spikes.any()) for spikes in run.spikes]
    assert np.mean(active) >= 0.9


@pytest.mark.parametrize("layer", [
    ConvLayer(np.arange(-20, 34, 3).reshape(3, 2, 3, 1) * 8, (2, 5, 4), [100, -50, 20], 2, 1,
              lanes=4),
    PoolLayer("max", (3, 4, 5), 2, 1, lanes=2),
    PoolLayer("avg", (2, 5, 5), 3, 1, 1),
], ids=["conv", "maxpool", "avgpool"])
def test_each_window_op_alone_reading_the_encoder_is_spike_exact(layer, tmp_path):
    n = layer.n_inputs
    params = NetworkParams(n, (layer,), 8, 12, "lfsr", 1, input_shape=layer.in_shape)
    x = np.random.default_rng(3).random((1, n))
    assert Network(params).evaluate(x).spikes[0].any()
    result = cosim_network(params, Network(params).thresholds(x), build_root=tmp_path)
    assert result.ok, result.describe()


@pytest.mark.parametrize("seed", range(2))
def test_exact_accumulation_networks_rtl_are_spike_exact(seed, tmp_path):
    """conv (exact) -> pool -> dense (exact): integer weights per spike in the RTL too."""
    rng = np.random.default_rng(70 + seed)
    c, side, width = int(rng.integers(1, 3)), int(rng.integers(5, 8)), 6
    top = 1 << width
    k, o = int(rng.integers(2, 4)), int(rng.choice([2, 4]))
    conv = ConvLayer(rng.integers(-top // 2, top + 1, (o, c, k, k)), (c, side, side),
                     rng.integers(-top // 2, top + 1, o), 1, int(rng.integers(0, 2)),
                     lif_neuron(width=14, threshold=int(rng.integers(1, 3)) * top),
                     int(2 ** rng.integers(0, 2)), int(rng.choice([1, o])), "exact")
    pool = PoolLayer(str(rng.choice(["max", "avg"])), conv.out_shape, 2)
    dense = DenseLayer(rng.integers(-top // 2, top + 1, (3, pool.n_neurons)),
                       neuron=lif_neuron(width=16, threshold=2 * top), accumulation="exact")
    params = NetworkParams(c * side * side, (conv, pool, dense), width, 10,
                           str(rng.choice(["sobol", "lfsr"])), input_shape=(c, side, side))
    x = rng.random((1, params.n_inputs))
    run = Network(params).evaluate(x)
    assert all(s.any() for s in run.spikes)
    result = cosim_network(params, Network(params).thresholds(x), build_root=tmp_path)
    assert result.ok, result.describe()


def test_seed_conv_classes_take_exact_accumulation():
    """SpikingConv2d(accumulation="exact") currents are the integer correlation (scipy);
    SCConv2DLayer's exact rates stay near its SC rates (same 1.0 = 2**width)."""
    rng = np.random.default_rng(5)
    conv = SpikingConv2d(2, 3, 3, padding=1, bias=True, accumulation="exact",
                         bias_values=[0.25, -0.5, 0.0])
    x = (rng.random((2, 6, 5, 2)) < 0.5).astype(np.uint8)
    cur = conv.currents(x, 3)
    for b in range(2):
        for o in range(3):
            want = sum(correlate(x[b, :, :, c], conv.q[o, c], mode="same") for c in range(2))
            np.testing.assert_array_equal(cur[b, :, :, o], want + conv.qb[o])
    img = rng.random((1, 6, 6))
    w = rng.random((2, 1, 3, 3)) * 0.3
    sc = SCConv2DLayer(1, 2, 3, padding=1, weights=w).forward(img)
    exact = SCConv2DLayer(1, 2, 3, padding=1, weights=w, accumulation="exact").forward(img)
    assert np.abs(sc - exact).max() < 0.06
    with pytest.raises(ParameterError, match="accumulation must be one of sc, exact"):
        SpikingConv2d(1, 1, 3, accumulation="int")
