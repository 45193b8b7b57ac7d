"""Compiled kernels (model/kernels.py) against the NumPy rules they replace, bit for bit."""
import numpy as np
import pytest

from scfpga.model import LIFParams, ParameterError, lif_run
from scfpga.model import neuron, neuron_types as nt
from scfpga.model.dense import SCDenseLayer
from scfpga.model.lif import lif_step
from scfpga.model.network import DenseLayer, Network, NetworkParams


def _lif_loop(p, cur):
    """lif_run as it was: one vectorised lif_step per cycle."""
    spikes = np.zeros(cur.shape, np.uint8)
    vs = np.zeros(cur.shape, np.int64)
    v = np.zeros(cur.shape[:-1], np.int64)
    r = np.zeros(cur.shape[:-1], np.int64)
    for k in range(cur.shape[-1] - 1):
        v, r, fire = lif_step(p, v, r, cur[..., k])
        spikes[..., k + 1] = fire
        vs[..., k + 1] = v
    return spikes, vs, v, r


def _random_lif(rng):
    width = int(rng.integers(4, 33))
    return LIFParams(width=width, n_inputs=1, weights=(1,),
                     threshold=int(rng.integers(1, min(1 << (width - 1), 200))),
                     leak_shift=int(rng.integers(0, width)), reset=str(rng.choice(["subtract", "zero"])),
                     refractory=int(rng.integers(0, 4)))


@pytest.mark.parametrize("seed", range(20))
def test_lif_run_is_lif_step_over_time(seed):
    rng = np.random.default_rng(seed)
    p = _random_lif(rng)
    amp = min(p.v_max, 60)
    cur = rng.integers(-amp, 2 * amp, (3, 5, int(rng.integers(1, 300))))
    spikes, vs, v, r = _lif_loop(p, cur)
    got_s, got_v = lif_run(p, cur)
    assert np.array_equal(got_s, spikes) and np.array_equal(got_v, vs)
    assert got_s.dtype == np.uint8 and got_v.dtype == np.int64
    s2, state = neuron.run(p, cur)
    assert np.array_equal(s2, spikes) and np.array_equal(state["v"], v)
    assert ("r" in state) == bool(p.refractory)
    if p.refractory:
        assert np.array_equal(state["r"], r)


def _step_loop(p, cur):
    spikes = np.zeros(cur.shape, np.uint8)
    state = neuron.init_state(p, cur.shape[:-1])
    for k in range(cur.shape[-1] - 1):
        state, fire = neuron.step(p, state, cur[..., k])
        spikes[..., k + 1] = fire
    return spikes, state


FIXED = [nt.LeakyParams(beta=0.8, threshold=3.0),
         nt.LeakyParams(beta=0.9, threshold=2.0, reset_mechanism="zero", v_reset=-0.5,
                        v_leak=0.3, width=12),
         nt.LeakyParams(beta=0.5, threshold=5.0, reset_mechanism="none", width=6, r=1.5),
         nt.IFParams(threshold=4.0, reset_mechanism="none", r=0.7),
         nt.IFParams(threshold=4.0, width=8),
         nt.IFParams(threshold=1.0, reset_mechanism="zero", v_reset=0.25, width=24)]


@pytest.mark.parametrize("p", FIXED, ids=lambda p: f"{p.name}-{p.reset_mechanism}-{p.width}")
def test_leaky_and_if_fast_paths_are_their_update_rules(p):
    cur = np.random.default_rng(p.width).integers(-9, 12, (4, 6, 257))
    want_s, want_state = _step_loop(p, cur)
    got_s, got_state = neuron.run(p, cur)
    assert neuron.fast_run(p, cur) is not None
    assert np.array_equal(got_s, want_s)
    assert got_state.keys() == want_state.keys()
    assert all(np.array_equal(got_state[k], want_state[k]) for k in got_state)
    assert want_s.sum() > 0                     # the cases do fire


LIFS = [None, LIFParams(width=10, n_inputs=1, weights=(1,), threshold=20, leak_shift=2,
                        refractory=3, reset="zero"),
        LIFParams(width=8, n_inputs=1, weights=(1,), threshold=5, leak_shift=0),
        # int64 state (2**31 + currents leaves int32) and a saturating 5-bit int32 state
        LIFParams(width=32, n_inputs=1, weights=(1,), threshold=7, leak_shift=5),
        LIFParams(width=5, n_inputs=1, weights=(1,), threshold=15, leak_shift=0)]


@pytest.mark.parametrize("source", ["sobol", "lfsr"])
@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("lif", range(len(LIFS)))
def test_compiled_dense_run_equals_the_gemm_path(source, bias, lif):
    rng = np.random.default_rng(lif)
    n, N = 70, 9                                  # two 64-bit words per cycle
    w = rng.uniform(-1, 1, (N, n))
    b = rng.uniform(-1, 1, N) if bias else None
    kw = dict(source=source, length=200, lif=LIFS[lif])
    fast, ref = SCDenseLayer.from_weights(w, b, **kw), SCDenseLayer.from_weights(w, b, **kw)
    ref._packed = lambda T: None                  # force the NumPy GEMM path
    x = rng.random((5, n))
    for got, want in ((fast.evaluate(x[0]), ref.evaluate(x[0])), (fast.evaluate(x), ref.evaluate(x))):
        for g, r in zip(got, want):
            assert g.shape == r.shape and np.array_equal(g, r)
    assert np.array_equal(fast.forward(x), ref.forward(x))
    assert np.array_equal(fast.run(x), want[0]) and np.array_equal(fast.run(x[1]), want[0][1])
    assert np.array_equal(fast.get_spike_trains(), want[0][1])
    assert fast.evaluate(x).counts.sum() > 0


@pytest.mark.parametrize("source", ["sobol", "lfsr"])
def test_compiled_network_currents_equal_the_gemm_path(source):
    rng = np.random.default_rng(3)
    layers = (DenseLayer(rng.integers(-256, 257, (20, 130)), rng.integers(-256, 257, 20)),
              DenseLayer(rng.integers(-256, 257, (10, 20)),
                         neuron=nt.LeakyParams(beta=0.9, threshold=2.0)))
    params = NetworkParams(130, layers, width=8, length=128, source=source)
    fast, ref = Network(params), Network(params)
    ref._masks = lambda index, T: None
    x = rng.random((4, 130))
    got, want = fast.evaluate(x), ref.evaluate(x)
    for g, r in zip(got, want):
        for a, b in zip(g if isinstance(g, list) else [g], r if isinstance(r, list) else [r]):
            assert a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b)
    assert got.counts[-1].sum() > 0


def test_compiled_scores_equal_the_table_sum_and_still_validate():
    rng = np.random.default_rng(5)
    layer = SCDenseLayer.from_weights(rng.uniform(-1, 1, (12, 40)), rng.uniform(-1, 1, 12),
                                      length=256)
    x = rng.random((7, 40))
    table, bias = layer.count_table(256)
    p = layer.thresholds(x)
    want = table[np.arange(40), p].sum(-2, dtype=np.int64) + bias
    for _ in range(2):                            # the first call builds, the second is compiled
        assert np.array_equal(layer.scores(x), want)
        assert np.array_equal(layer.scores(x[3]), want[3])
    assert np.array_equal(layer.scores(x, 100), layer.scores_thresholds(p, 100))
    for bad in (np.nan, -0.1, 1.5):
        x2 = x.copy()
        x2[2, 5] = bad
        with pytest.raises(ParameterError, match="x must be in"):
            layer.scores(x2)
    with pytest.raises(ParameterError):
        layer.scores(x[:, :3])


def _network_run(net, x, fused):
    """``Network.evaluate`` with the fused layer kernel on, or forced off (the generic path)."""
    if not fused:
        net._fused = lambda index, T: None
    return net.evaluate(x)


@pytest.mark.parametrize("seed", range(4))
def test_fused_network_layers_equal_the_generic_path(seed):
    """layer_run (encoder, currents and LIF / leaky / IF neurons in one pass) against the
    per-stage kernels and NumPy neuron updates, every array of every layer, bit for bit."""
    from scfpga.model.network import DenseLayer, Network, NetworkParams
    from scfpga.model.neuron import lif_neuron
    from scfpga.model.neuron_types import ALIFParams, IFParams, LeakyParams
    rng = np.random.default_rng(seed)
    sizes = [int(rng.integers(3, 90)) for _ in range(4)]
    makers = [lambda: lif_neuron(width=12, threshold=int(rng.integers(1, 4)),
                                 leak_shift=int(rng.choice([0, 3])),
                                 reset=str(rng.choice(["subtract", "zero"])),
                                 refractory=int(rng.integers(0, 3))),
              lambda: LeakyParams(beta=float(rng.uniform(0.5, 1)), threshold=1.5,
                                  reset_mechanism=str(rng.choice(["subtract", "zero", "none"]))),
              lambda: IFParams(threshold=2.0, reset_mechanism=str(rng.choice(["subtract", "zero"]))),
              lambda: ALIFParams()]                  # no fused update: the generic path
    layers = tuple(DenseLayer(np.round(rng.uniform(-0.5, 1, (sizes[l + 1], sizes[l])) * 64).astype(int),
                              None if rng.random() < 0.5 else
                              np.round(rng.uniform(-1, 1, sizes[l + 1]) * 64).astype(int),
                              makers[int(rng.integers(0, 4))]())
                   for l in range(3))
    params = NetworkParams(sizes[0], layers, 6, int(rng.integers(20, 200)),
                           str(rng.choice(["sobol", "lfsr"])), int(rng.integers(0, 5)))
    x = rng.random((5, sizes[0]))
    got, want = _network_run(Network(params), x, True), _network_run(Network(params), x, False)
    np.testing.assert_array_equal(got.inputs, want.inputs)
    for name in ("spikes", "currents", "counts", "scores"):
        for g, w in zip(getattr(got, name), getattr(want, name)):
            assert g.dtype == w.dtype and g.shape == w.shape
            np.testing.assert_array_equal(g, w)
    assert sum(int(s.sum()) for s in got.spikes) > 0          # the networks do spike


def test_network_evaluate_still_validates_its_inputs():
    from scfpga.model.network import DenseLayer, Network, NetworkParams
    net = Network(NetworkParams(4, (DenseLayer(np.ones((3, 4), int) * 20),), 6, 32))
    x = np.full((2, 4), 0.5)
    assert np.array_equal(net.evaluate(x, 20).counts[0], net.evaluate_thresholds(
        np.full((2, 4), 32), 20).counts[0])
    for bad in (np.nan, -0.1, 1.5):
        x2 = x.copy()
        x2[1, 2] = bad
        with pytest.raises(ParameterError, match="x must be in"):
            net.evaluate(x2)
    with pytest.raises(ParameterError):
        net.evaluate(x[:, :3])


def test_network_outputs_are_recycled_only_once_dropped():
    """Network.evaluate reuses the arrays of a result the caller no longer references, never
    those of one it still holds (any view of them included)."""
    from scfpga.model.network import DenseLayer, Network, NetworkParams
    rng = np.random.default_rng(9)
    net = Network(NetworkParams(20, (DenseLayer(rng.integers(-40, 64, (6, 20))),
                                     DenseLayer(rng.integers(-40, 64, (3, 6)))), 6, 64))
    x1, x2 = rng.random((4, 20)), rng.random((4, 20))
    want1, want2 = Network(net.params).evaluate(x1), Network(net.params).evaluate(x2)

    def same(run, want):
        return all(np.array_equal(a, b) for a, b in zip(
            (run.inputs, *run.spikes, *run.currents, *run.counts, *run.scores),
            (want.inputs, *want.spikes, *want.currents, *want.counts, *want.scores)))

    first = net.evaluate(x1)
    ids = [id(c.base) for c in first.currents]     # ids: a reference would keep them busy
    del first
    second = net.evaluate(x2)                      # the first result was dropped: recycled
    assert [id(c.base) for c in second.currents] == ids and same(second, want2)
    held = second.currents[1][:, :2]              # a view keeps the second result's memory
    kept = held.copy()
    del second
    third = net.evaluate(x1)
    assert id(third.currents[1].base) != ids[1] and same(third, want1)
    assert np.array_equal(held, kept)
