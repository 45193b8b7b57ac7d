"""scfpga.layers: sc_neurocore's examples run unchanged but for the import, and every result is the
golden model's, bit for bit, within the stated SC error bounds of the float arithmetic."""
import doctest

import numpy as np
import pytest

import scfpga.layers
from scfpga.layers import SCDenseLayer, SCFusionLayer, VectorizedSCLayer
from scfpga.model import ParameterError
from scfpga.model.dense import DenseParams
from scfpga.model.dense import SCDenseLayer as DenseModel
from scfpga.model.fusion import FusionParams, fusion_bits, fusion_counts

# The reference document's examples; only the import line is ours.
REFERENCE_EXAMPLES = {
    "dense": """
>>> from scfpga.layers import SCDenseLayer
>>> layer = SCDenseLayer(
...     n_neurons=4, x_inputs=[0.5, 0.3], weight_values=[0.8, 0.6],
...     x_min=0.0, x_max=1.0, w_min=0.0, w_max=1.0, length=256,
... )
>>> layer.run(T=100)
>>> trains = layer.get_spike_trains()
>>> trains.shape
(4, 100)
""",
    "vectorized": """
>>> from scfpga.layers import VectorizedSCLayer
>>> import numpy as np
>>> layer = VectorizedSCLayer(n_inputs=8, n_neurons=4, length=512)
>>> out = layer.forward(np.random.rand(8))
>>> out.shape
(4,)
>>> (out >= 0).all() and (out <= 1).all()
True
""",
    "fusion": """
>>> from scfpga.layers import SCFusionLayer
>>> import numpy as np
>>> layer = SCFusionLayer(
...     input_dims={"audio": 4, "visual": 4},
...     fusion_weights={"audio": 0.7, "visual": 0.3},
... )
>>> out = layer.forward({"audio": np.ones(4), "visual": np.zeros(4)})
>>> out.shape
(4,)
""",
}


@pytest.mark.parametrize("name", sorted(REFERENCE_EXAMPLES))
def test_reference_examples_run_unchanged(name):
    test = doctest.DocTestParser().get_doctest(REFERENCE_EXAMPLES[name], {}, name, None, 0)
    runner = doctest.DocTestRunner()
    # The examples predate NumPy 2, whose bool scalars print as np.True_.
    with np.printoptions(legacy="1.25"):
        result = runner.run(test, clear_globs=False)
    assert result.failed == 0 and result.attempted >= 4
    if name == "dense":
        assert test.globs["trains"].shape == (4, 100) and test.globs["trains"].any()
    else:
        assert np.isfinite(test.globs["out"]).all()


# --- bit-exact against the golden model ----------------------------------------------------

def test_dense_example_is_the_golden_model():
    layer = SCDenseLayer(n_neurons=4, x_inputs=[0.5, 0.3], weight_values=[0.8, 0.6],
                         x_min=0.0, x_max=1.0, w_min=0.0, w_max=1.0, length=256)
    layer.run(T=100)
    params = DenseParams.from_float(np.tile([0.8, 0.6], (4, 1)), length=256)
    assert layer.params == params
    want = DenseModel(params).evaluate(np.array([0.5, 0.3]), 100).spikes
    np.testing.assert_array_equal(layer.get_spike_trains(), want)
    # Shared weights, no neuron noise: identical trains at the mean product 0.29 per cycle.
    assert (want == want[0]).all() and abs(want[0].sum() - 29) <= 2


def test_dense_range_mapping_rule():
    rng = np.random.default_rng(3)
    x = rng.uniform(-2, 2, 6)
    x[0], x[1] = 5.0, -9.0             # outside [x_min, x_max]: clipped like the reference
    w = rng.uniform(-0.5, 2.0, (3, 6))
    layer = SCDenseLayer(3, x, w, -2, 2, -0.5, 2.0, length=128, seed=4)
    xu = (np.clip(x, -2, 2) + 2) / 4
    np.testing.assert_allclose(layer.x, xu)
    assert layer.x[0] == 1 and layer.x[1] == 0
    assert layer.w_scale == 2.0                  # max(|w_min|, |w_max|): sign and zero kept
    params = DenseParams.from_float(w / 2.0, length=128, seed=4)
    assert layer.params == params
    layer.run(128)
    np.testing.assert_array_equal(layer.get_spike_trains(), DenseModel(params).run(xu, 128))
    np.testing.assert_allclose(layer.estimate(), DenseModel(params).estimate(xu) * 2.0)


def test_dense_run_continues_and_resets():
    args = (5, [0.9, 0.2, 0.7], [[0.5, -1, 1], [1, 1, 1], [-0.3, 0.2, 0.9], [0, 0, 0], [1, -1, 1]],
            0, 1, -1, 1)
    layer = SCDenseLayer(*args, length=64, source="lfsr", seed=11)
    layer.run(T=40)
    layer.run(T=60)                               # past length: the same sources continue
    whole = SCDenseLayer(*args, length=64, source="lfsr", seed=11)
    whole.run(T=100)
    np.testing.assert_array_equal(layer.get_spike_trains(), whole.get_spike_trains())
    assert layer.get_spike_trains().shape == (5, 100)
    assert not layer.get_spike_trains()[3].any()  # zero weights: no current, no spike
    layer.reset()
    assert layer.get_spike_trains().shape == (5, 0)
    layer.run(T=64)
    np.testing.assert_array_equal(layer.get_spike_trains(), whole.get_spike_trains()[:, :64])


def test_dense_summary():
    layer = SCDenseLayer(2, [1.0, 1.0], [[1, 1], [0.5, 0.25]], 0, 1, 0, 1, length=200, dt_ms=0.5)
    layer.run(200)
    s = layer.summary()
    totals = layer.get_spike_trains().sum(1)
    assert s["n_neurons"] == 2 and s["T"] == 200
    assert [st["total_spikes"] for st in s["stats"]] == list(totals)
    assert totals[0] == 199            # rate 1 per cycle; the last cycle's current is unseen
    assert s["stats"][1]["firing_rate_hz"] == pytest.approx(totals[1] / 0.1)   # 200 x 0.5 ms
    assert s["avg_firing_rate_hz"] == pytest.approx(np.mean(totals) / 0.1)


def test_vectorized_is_the_golden_model():
    x = np.random.default_rng(1).random((5, 8))
    layer = VectorizedSCLayer(n_inputs=8, n_neurons=4, length=512)
    w = np.random.default_rng(0).uniform(0, 1, (4, 8))   # default: seeded unipolar weights
    params = DenseParams.from_float(w, length=512)
    assert layer.params == params
    run = DenseModel(params).evaluate(x)
    np.testing.assert_array_equal(layer.forward(x), run.counts / 512)
    np.testing.assert_array_equal(layer.forward(x[2]), run.counts[2] / 512)
    np.testing.assert_allclose(layer.estimate(x), run.scores / 512)
    np.testing.assert_array_equal(layer.weights, np.array(params.weights) / 256)


def test_vectorized_signed_weights_bias_and_mux():
    rng = np.random.default_rng(2)
    w, b = rng.uniform(-1, 1, (3, 6)), rng.uniform(-1, 1, 3)
    layer = VectorizedSCLayer(6, 3, 256, weights=w, bias=b, seed=5, accumulation="mux")
    params = DenseParams.from_float(w, b, length=256, seed=5, accumulation="mux")
    assert layer.params == params
    x = rng.random((4, 6))
    np.testing.assert_array_equal(layer.forward(x), DenseModel(params).evaluate(x).counts / 256)


def test_fusion_is_the_golden_model():
    layer = SCFusionLayer({"audio": 4, "visual": 4}, {"audio": 0.7, "visual": 0.3})
    assert layer.params == FusionParams(("audio", "visual"), 4, (179, 77), 1024)
    # Sobol selects audio exactly 179 times per 256 cycles: ones give exactly 179/256.
    np.testing.assert_array_equal(layer.forward({"audio": np.ones(4), "visual": np.zeros(4)}),
                                  np.full(4, 179 / 256))
    rng = np.random.default_rng(4)
    inp = {"audio": rng.random((3, 4)), "visual": rng.random((3, 4))}
    probs = layer.thresholds(inp)
    np.testing.assert_array_equal(layer.forward(inp), fusion_counts(layer.params, probs) / 1024)
    np.testing.assert_array_equal(layer.forward(inp),
                                  fusion_bits(layer.params, probs).sum(-1) / 1024)


def test_fusion_seed_chooses_the_streams():
    dims, w = {"a": 3, "b": 3, "c": 3}, {"a": 1, "b": 2, "c": 1}
    assert SCFusionLayer(dims, w).params.sobol_dim == 1
    assert SCFusionLayer(dims, w, seed=4).params.sobol_dim == 5
    assert SCFusionLayer(dims, w, source="lfsr").params.seed == FusionParams(source="lfsr").seed
    assert SCFusionLayer(dims, w, source="lfsr", seed=77).params.seed == 77


# --- reproducibility -----------------------------------------------------------------------

def test_same_seed_same_bits_other_seed_other_streams():
    x = np.random.default_rng(9).random((16, 12))
    a, b = VectorizedSCLayer(12, 6, 256, seed=3), VectorizedSCLayer(12, 6, 256, seed=3)
    np.testing.assert_array_equal(a.forward(x), b.forward(x))
    np.testing.assert_array_equal(a.forward(x), a.forward(x))      # no fresh draws per call
    w = a.weights
    other = VectorizedSCLayer(12, 6, 256, weights=w, seed=4)         # same weights, other streams
    assert not np.array_equal(other.estimate(x), a.estimate(x))

    d = [SCDenseLayer(3, [0.2, 0.9], [[0.1, 0.9], [1, 1], [0.6, 0.3]], 0, 1, 0, 1, length=256,
                      seed=s) for s in (7, 7, 8)]
    for layer in d:
        layer.run(256)
    np.testing.assert_array_equal(d[0].get_spike_trains(), d[1].get_spike_trains())
    assert not np.array_equal(d[0].get_spike_trains(), d[2].get_spike_trains())

    inp = {"a": np.linspace(0, 1, 5), "b": np.linspace(1, 0, 5)}
    f = [SCFusionLayer({"a": 5, "b": 5}, {"a": 0.4, "b": 0.6}, 200, seed=s) for s in (0, 0, 2)]
    np.testing.assert_array_equal(f[0].forward(inp), f[1].forward(inp))
    assert not np.array_equal(f[0].bits(inp), f[2].bits(inp))


# --- accuracy against float arithmetic -----------------------------------------------------

@pytest.mark.parametrize("length, per_sqrt_n", [(256, 0.02), (1024, 0.01)])
@pytest.mark.parametrize("n", [8, 64])
def test_vectorized_estimate_within_sc_bound(length, per_sqrt_n, n):
    rng = np.random.default_rng(n + length)
    for seed in range(3):
        w = rng.uniform(-1, 1, (16, n))
        x = rng.random((64, n))
        layer = VectorizedSCLayer(n, 16, length, weights=w, seed=seed)
        bound = per_sqrt_n * np.sqrt(n)
        dot = x @ w.T
        assert np.abs(layer.estimate(x) - dot).max() <= bound
        assert np.abs(layer.forward(x) - np.maximum(0, dot) / n).max() <= bound / n + 2 / length


@pytest.mark.parametrize("length, per_sqrt_n", [(256, 0.02), (1024, 0.01)])
def test_dense_spike_rate_within_sc_bound(length, per_sqrt_n):
    rng = np.random.default_rng(length)
    n = 16
    x, w = rng.uniform(-1, 3, n), rng.uniform(-2, 2, (8, n))
    layer = SCDenseLayer(8, x, w, -1, 3, -2, 2, length=length)
    layer.run(length)
    mean_product = (w / 2) @ ((x + 1) / 4) / n
    rate = layer.get_spike_trains().mean(1)
    bound = per_sqrt_n * np.sqrt(n) / n + 2 / length
    assert np.abs(rate - np.maximum(0, mean_product)).max() <= bound
    assert np.abs(layer.estimate() - w @ ((x + 1) / 4)).max() <= 2 * per_sqrt_n * np.sqrt(n)


@pytest.mark.parametrize("length", [256, 1024])
def test_fusion_within_sc_bound(length):
    rng = np.random.default_rng(length)
    for k in (2, 3, 4):
        dims = {m: 8 for m in "abcd"[:k]}
        layer = SCFusionLayer(dims, dict(zip(dims, rng.random(k))), length)
        inp = {m: rng.random((16, 8)) for m in dims}
        assert np.abs(layer.forward(inp) - layer.exact(inp)).max() <= k / 256 + 0.01


# --- bad input -----------------------------------------------------------------------------

DENSE = dict(n_neurons=2, x_inputs=[0.1, 0.2], weight_values=[0.5, 0.5],
             x_min=0.0, x_max=1.0, w_min=0.0, w_max=1.0)


@pytest.mark.parametrize("change, name", [
    ({"n_neurons": 0}, "n_neurons"),
    ({"x_min": 1.0}, "x_min"),
    ({"w_max": float("nan")}, "w_min"),
    ({"x_inputs": []}, "x_inputs"),
    ({"x_inputs": [[0.1, 0.2]]}, "x_inputs"),
    ({"weight_values": [0.5, 0.5, 0.5]}, "weight_values"),
    ({"weight_values": [[0.5, 0.5]] * 3}, "weight_values"),
    ({"weight_values": [0.5, 1.5]}, "weight_values"),
    ({"length": 0}, "length"),
    ({"seed": 5000}, "seed"),
    ({"source": "bernoulli"}, "source"),
])
def test_dense_bad_arguments_name_the_parameter(change, name):
    with pytest.raises(ParameterError, match=name):
        SCDenseLayer(**{**DENSE, **change})


def test_dense_bad_T():
    layer = SCDenseLayer(**DENSE, length=32)
    with pytest.raises(ParameterError, match="T"):
        layer.run(0)
    with pytest.raises(ParameterError, match="T"):
        layer.run(T=2.5)


def test_vectorized_bad_arguments_and_input():
    for kwargs, name in [({"n_inputs": 0}, "n_inputs"), ({"n_neurons": 5000}, "n_neurons"),
                         ({"weights": np.zeros((2, 3))}, "weights"),
                         ({"weights": np.full((4, 3), 1.5)}, "weights"),
                         ({"seed": -1}, "seed"), ({"length": 2 ** 21}, "length")]:
        with pytest.raises(ParameterError, match=name):
            VectorizedSCLayer(**{"n_inputs": 3, "n_neurons": 4, **kwargs})
    layer = VectorizedSCLayer(3, 4, 64)
    with pytest.raises(ParameterError, match="shape"):
        layer.forward(np.zeros(4))
    with pytest.raises(ValueError, match=r"\[0.0, 1.0\]"):     # ParameterError is a ValueError
        layer.forward([0.2, 1.2, 0.0])
    with pytest.raises(AttributeError):
        layer.weights = np.zeros((4, 3))                       # frozen: build a new layer


def test_fusion_bad_arguments_and_input():
    with pytest.raises(ParameterError, match="input_dims"):
        SCFusionLayer({"a": 4, "b": 5}, {"a": 1, "b": 1})
    with pytest.raises(ParameterError, match="fusion_weights"):
        SCFusionLayer({"a": 4, "b": 4}, {"a": 1, "c": 1})
    with pytest.raises(ParameterError, match="seed"):
        SCFusionLayer({"a": 4, "b": 4}, seed=1023)
    with pytest.raises(ParameterError, match="seed"):
        SCFusionLayer({"a": 4, "b": 4}, source="lfsr", seed=256)
    layer = SCFusionLayer({"a": 4, "b": 4}, {"a": 1, "b": 3})
    with pytest.raises(ParameterError, match="modalities"):
        layer.forward({"a": np.zeros(4)})
    with pytest.raises(ParameterError, match="dim = 4"):
        layer.forward({"a": np.zeros(3), "b": np.zeros(3)})


def test_module_exports_the_reference_names():
    assert {"SCDenseLayer", "VectorizedSCLayer", "SCFusionLayer"} <= set(scfpga.layers.__all__)
    assert all(hasattr(scfpga.layers, name) for name in scfpga.layers.__all__)
    for cls in (SCDenseLayer, VectorizedSCLayer, SCFusionLayer):
        assert "Differences from sc_neurocore" in cls.__doc__
