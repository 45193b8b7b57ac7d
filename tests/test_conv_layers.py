"""scfpga.layers conv, pool, flatten and dropout: the seeds' examples as written, and each layer
against the network golden model (the RTL's bits) or an independent float reference."""
import numpy as np
import pytest

import scfpga.layers as L
from scfpga.conv_layers import float_conv
from scfpga.model.network import Network
from scfpga.model.params import ParameterError


def test_the_seed_examples_run_as_written():
    layer = L.SpikingConv2d(3, 16, kernel_size=3, padding=1)
    state = layer.init_state(batch_size=4, spatial_shape=(8, 8))
    spk, state = layer(np.ones((4, 8, 8, 3)), state)
    assert spk.shape == (4, 8, 8, 16)
    x = np.ones((4, 8, 8, 16))
    assert L.SpikingMaxPool2d(kernel_size=2, stride=2)(x).shape == (4, 4, 4, 16)
    assert L.SpikingAvgPool2d(kernel_size=2, stride=2)(x).shape == (4, 4, 4, 16)
    assert L.SpikingFlatten()(np.ones((4, 8, 8, 16))).shape == (4, 1024)
    drop = L.SpikeDropout(p=0.3)
    drop.train()
    assert drop(np.ones((4, 10))).shape == (4, 10)
    conv = L.SCConv2DLayer(in_channels=1, out_channels=2, kernel_size=3, padding=1)
    out = conv.forward(np.random.default_rng(0).random((1, 8, 8)))
    assert out.shape == (2, 8, 8) and ((out >= 0) & (out <= 1)).all()


@pytest.mark.parametrize("layout", ["NHWC", "NCHW"])
def test_spiking_conv2d_steps_are_the_network_layer(layout):
    """Stepping the layer over T steps gives the network's conv layer spikes one cycle early
    (the hardware shows a spike in the cycle after its update), in either layout."""
    rng = np.random.default_rng(1)
    layer = L.SpikingConv2d(2, 4, 3, stride=2, padding=1, bias=True,
                            bias_values=[0.3, -0.2, 0.1, 0.0], neuron="leaky",
                            neuron_params={"beta": 0.9, "threshold": 1.0},
                            weights=rng.uniform(-1, 1, (4, 2, 3, 3)), length=40, layout=layout)
    T, x = 40, (rng.random((40, 3, 7, 6, 2)) < 0.4).astype(np.uint8)        # (T, B, H, W, C)
    state = layer.init_state(3, (4, 3))
    spikes = []
    for k in range(T):
        xk = x[k].transpose(0, 3, 1, 2) if layout == "NCHW" else x[k]
        spk, state = layer(xk, state)
        spikes.append(spk.transpose(0, 2, 3, 1) if layout == "NCHW" else spk)
    _, params = layer.network_layer((2, 7, 6))
    run = Network(params).evaluate_bits(x.reshape(T, 3, -1).transpose(1, 2, 0))
    got = np.stack(spikes, -1).reshape(3, -1, T)
    np.testing.assert_array_equal(got[..., :-1], run.spikes[0][..., 1:])
    assert got.any()


def test_spiking_conv2d_currents_estimate_the_float_convolution():
    rng = np.random.default_rng(2)
    w = rng.uniform(-1, 1, (3, 2, 3, 3))
    layer = L.SpikingConv2d(2, 3, 3, padding=1, weights=w, length=256)
    x = (rng.random((1, 5, 5, 2)) < 0.5).astype(np.uint8)
    mean = np.mean([layer.currents(x, k) for k in range(256)], axis=0)[0]      # (5, 5, 3)
    xp = np.pad(x[0], ((1, 1), (1, 1), (0, 0)))
    want = np.zeros((5, 5, 3))
    for ky in range(3):
        for kx in range(3):
            want += np.einsum("yxc,oc->yxo", xp[ky:ky + 5, kx:kx + 5], w[:, :, ky, kx])
    np.testing.assert_allclose(mean, want, atol=0.08)


def test_pools_or_and_density_in_both_layouts():
    rng = np.random.default_rng(3)
    x = (rng.random((2, 6, 4, 3)) < 0.3).astype(np.uint8)
    win = x.reshape(2, 3, 2, 2, 2, 3)                  # (B, y, ky, x, kx, C)
    mx = L.SpikingMaxPool2d(2)(x)
    np.testing.assert_array_equal(mx, win.max((2, 4)))
    np.testing.assert_allclose(L.SpikingAvgPool2d(2)(x), win.mean((2, 4)))
    nchw = L.SpikingMaxPool2d(2, layout="NCHW")(x.transpose(0, 3, 1, 2))
    np.testing.assert_array_equal(nchw, mx.transpose(0, 3, 1, 2))


def test_dropout_is_seeded_in_training_and_the_identity_in_eval():
    x = np.ones((50, 200), np.uint8)
    a, b = L.SpikeDropout(0.3, seed=4)(x), L.SpikeDropout(0.3, seed=4)(x)
    np.testing.assert_array_equal(a, b)
    assert set(np.unique(a)) <= {0, 1} and abs(1 - a.mean() - 0.3) < 0.01
    np.testing.assert_array_equal(L.SpikeDropout(0.3).eval()(x), x)
    with pytest.raises(ParameterError, match=r"p must be in \[0, 1\)"):
        L.SpikeDropout(1.0)


def test_conv_layer_errors():
    with pytest.raises(ParameterError, match="bn must be False"):
        L.SpikingConv2d(1, 2, 3, bn=True)
    layer = L.SpikingConv2d(1, 2, 3)
    with pytest.raises(ParameterError, match="x must hold spikes"):
        layer(np.full((1, 5, 5, 1), 0.5), layer.init_state(1, (3, 3)))
    with pytest.raises(ParameterError, match="x must have 1 channels"):
        layer(np.ones((1, 5, 5, 2)), layer.init_state(1, (3, 3)))
    with pytest.raises(ParameterError, match="layout must be one of NHWC, NCHW"):
        L.SpikingMaxPool2d(2, layout="CHW")
    with pytest.raises(ParameterError, match="input_image must have shape"):
        L.SCConv2DLayer(1, 2, 3).forward(np.ones((2, 4, 4)))


# ---------------------------------------------------------------------------- temporal aggregation

def conv_lif_reference(layer, x_seq, reset):
    """Conv + LIF one step at a time, convolution by shifted slices (independent of TAC)."""
    w, pad, beta, thr = layer.weights, layer.padding, layer.beta, layer.threshold
    T, B, H, W, _ = x_seq.shape
    o, _, kh, kw = w.shape
    mem, spikes, mems = np.zeros((B, H + 2 * pad - kh + 1, W + 2 * pad - kw + 1, o)), [], []
    for x in x_seq:
        xp = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
        cur = sum(np.einsum("byxc,oc->byxo", xp[:, ky:ky + mem.shape[1], kx:kx + mem.shape[2]],
                            w[:, :, ky, kx]) for ky in range(kh) for kx in range(kw))
        mem = beta * mem + cur
        mems.append(mem.copy())
        spk = (mem >= thr).astype(float)
        mem = {"subtract": mem - spk * thr, "none": mem, "zero": mem * (1 - spk)}[reset]
        spikes.append(spk)
    return np.stack(spikes), np.stack(mems)


@pytest.mark.parametrize("cls", [L.TemporalAggregatedConv, L.TACTemporalPreserve])
@pytest.mark.parametrize("reset", ["subtract", "zero", "none"])
def test_tac_with_chunks_of_one_is_conv_plus_lif(cls, reset):
    rng = np.random.default_rng(5)
    layer = cls(2, 3, 3, beta=0.8, chunk_size=1, padding=1, threshold=0.5, reset_mechanism=reset)
    x = (rng.random((12, 2, 5, 4, 2)) < 0.4).astype(float)
    spk, _ = layer(x, layer.init_state(2, (5, 4)))
    want, _ = conv_lif_reference(layer, x, reset)
    np.testing.assert_array_equal(spk, want)
    assert want.any()


def test_tac_over_the_whole_sequence_is_exact_without_reset():
    rng = np.random.default_rng(6)
    layer = L.TemporalAggregatedConv(2, 4, 3, beta=0.9, chunk_size=16, padding=1,
                                     threshold=1e9, reset_mechanism="none")
    x = (rng.random((16, 2, 6, 6, 2)) < 0.3).astype(float)
    spk, state = layer(x, layer.init_state(2, (6, 6)))
    assert spk.shape == (1, 2, 6, 6, 4)
    _, mems = conv_lif_reference(layer, x, "none")
    np.testing.assert_allclose(state["mem"], mems[-1], atol=1e-9)
    tp = L.TACTemporalPreserve(2, 16, 3, beta=0.9, chunk_size=4, padding=1)
    assert tp(np.ones((16, 2, 8, 8, 2)), tp.init_state(2, (8, 8)))[0].shape == (16, 2, 8, 8, 16)


def test_tac_error_bound_holds_against_measurement():
    rng = np.random.default_rng(7)
    for K in (2, 4, 8):
        layer = L.TemporalAggregatedConv(2, 4, 3, beta=0.9, chunk_size=K, padding=1,
                                         threshold=0.3, weights=rng.uniform(0, 0.4, (4, 2, 3, 3)))
        x = (rng.random((K, 4, 6, 6, 2)) < 0.4).astype(float)
        exact_spk, exact_mem = conv_lif_reference(layer, x, "subtract")
        tac = np.tensordot(layer.beta ** np.arange(K - 1, -1, -1), x, axes=1)
        u_tac = float_conv(tac, layer.weights, layer.geometry((2, 6, 6)))
        err = np.abs(exact_mem[-1] - u_tac).mean()
        rho = exact_spk[:-1].mean()
        assert 0 < err <= layer.theoretical_error_bound(rho) + 1e-12


@pytest.mark.parametrize("preserve", [False, True])
def test_learnable_tac_starts_as_tac_and_follows_its_weights(preserve):
    rng = np.random.default_rng(8)
    x = (rng.random((10, 2, 6, 6, 2)) < 0.4).astype(float)
    w = rng.uniform(-0.5, 0.5, (3, 2, 3, 3))
    ref_cls = L.TACTemporalPreserve if preserve else L.TemporalAggregatedConv
    ref = ref_cls(2, 3, 3, beta=0.9, chunk_size=4, padding=1, threshold=0.5, weights=w)
    lt = L.LearnableTAC(2, 3, 3, beta=0.9, chunk_size=4, preserve_temporal=preserve, padding=1,
                        threshold=0.5, weights=w)
    want = ref(x, ref.init_state(2, (6, 6)))[0]
    got = lt(x, lt.init_state(2, (6, 6)))[0]
    np.testing.assert_array_equal(got, want)
    assert got.shape[0] == (10 if preserve else 3)
    lt.agg_weights = np.array([0.0, 0.0, 0.0, 1.0])           # only the chunk's last step
    if not preserve:
        state = lt.init_state(2, (6, 6))
        spk, _ = lt(x[:4], state)
        mem = float_conv(x[3], w, lt.geometry((2, 6, 6)))
        np.testing.assert_array_equal(spk[0], mem >= 0.5)


def test_fourier_temporal_conv_first_order_is_conv_plus_lif_and_its_response_is_the_filter():
    from scipy.signal import freqz
    rng = np.random.default_rng(9)
    x = (rng.random((12, 2, 5, 5, 2)) < 0.4).astype(float)
    w = rng.uniform(-0.5, 0.8, (3, 2, 3, 3))
    ftc = L.FourierTemporalConv(2, 3, 3, filter_order=1, beta=0.8, padding=1, threshold=0.5,
                                weights=w)
    tac = L.TemporalAggregatedConv(2, 3, 3, beta=0.8, chunk_size=1, padding=1, threshold=0.5,
                                   weights=w)
    np.testing.assert_array_equal(ftc(x, ftc.init_state(2, (5, 5)))[0],
                                  tac(x, tac.init_state(2, (5, 5)))[0])
    f2 = L.FourierTemporalConv(2, 16, 3, filter_order=2, padding=1)
    f2.r, f2.theta = rng.uniform(0.5, 0.95, 16), rng.uniform(0, np.pi, 16)
    f2.b0, f2.b1 = rng.uniform(0.5, 1, 16), rng.uniform(-0.5, 0.5, 16)
    spk, state = f2(np.ones((10, 2, 8, 8, 2)), f2.init_state(2, (8, 8)))
    assert spk.shape == (10, 2, 8, 8, 16) and set(state) == {"mem", "mem_prev", "input_prev"}
    freqs, mag = f2.get_frequency_response(64)
    for c in (0, 7):
        _, h = freqz([f2.b0[c], f2.b1[c]], [1, -2 * f2.r[c] * np.cos(f2.theta[c]), f2.r[c] ** 2],
                     worN=freqs)
        np.testing.assert_allclose(mag[c], np.abs(h), rtol=1e-9)


def test_infomax_gates_scale_channels_and_measure_information():
    rng = np.random.default_rng(10)
    w = rng.uniform(-0.2, 0.8, (4, 2, 3, 3))
    imc = L.InfoMaxSpikeConv(2, 4, 3, info_reg_weight=0.01, padding=1, threshold=0.5, weights=w)
    ref = L.TemporalAggregatedConv(2, 4, 3, beta=0.9, chunk_size=1, padding=1, threshold=0.5,
                                   weights=w)
    x = (rng.random((6, 2, 8, 8, 2)) < 0.3).astype(float)
    s1, s2 = imc.init_state(2, (8, 8)), ref.init_state(2, (8, 8))
    imc.alpha[2] = 0.0
    for t in range(6):
        g, s1 = imc(x[t], s1)
        spk, s2 = ref(x[t][None], s2)
        np.testing.assert_array_equal(g, spk[0] * [1, 1, 0, 1])
    assert imc.effective_channels() == 3
    u = imc.channel_utilization()
    assert u["input_bits"] > 0 and u["capacity_bits"] == pytest.approx(
        float(np.sum(u["gates"] * u["entropy_bits"])))
    need, cap = u["input_bits"], u["capacity_bits"]
    assert imc.info_loss() == pytest.approx(0.01 * max(0, need - cap) + 0.001 * 3)
    c = L.InfoMaxSpikeConv.minimum_channels(2, 0.3, 0.1, 4.0)
    h = lambda p: -(p * np.log2(p) + (1 - p) * np.log2(1 - p))          # noqa: E731
    assert c * h(0.1) >= 2 * h(0.3) * 4 > (c - 1) * h(0.1)


def test_temporal_collapse_merges_quiet_steps_only():
    rng = np.random.default_rng(11)
    w = rng.uniform(-0.2, 0.8, (3, 2, 3, 3))
    x = (rng.random((12, 2, 6, 6, 2)) < 0.3).astype(float)
    x[3:7] = 0                                                   # four silent steps
    tcc = L.TemporalCollapseConv(2, 3, 3, beta=0.9, padding=1, threshold=0.5, weights=w)
    spk, _ = tcc(x, tcc.init_state(2, (6, 6)))
    assert spk.shape == (12, 2, 6, 6, 3)
    assert tcc.collapse_stats() == {"timesteps": 12, "conv_calls": 9, "collapsed_steps": 3,
                                    "speedup": 12 / 9}
    np.testing.assert_array_equal(spk[3], spk[6])                 # one update, repeated
    busy = L.TemporalCollapseConv(2, 3, 3, beta=0.9, padding=1, threshold=0.5, weights=w,
                                  collapse_threshold=-1)
    ref = L.TemporalAggregatedConv(2, 3, 3, beta=0.9, chunk_size=1, padding=1, threshold=0.5,
                                   weights=w)
    np.testing.assert_array_equal(busy(x, busy.init_state(2, (6, 6)))[0],
                                  ref(x, ref.init_state(2, (6, 6)))[0])
    assert busy.collapse_stats()["conv_calls"] == 12
