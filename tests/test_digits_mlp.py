"""The spiking digits MLP (scfpga.digits_mlp): training, conversion, golden-model accuracy."""
import numpy as np
import pytest

from scfpga import digits as D
from scfpga import digits_mlp as M
from scfpga.model.network import Network
from scfpga.model.params import ParameterError


@pytest.fixture(scope="module")
def split():
    return D.load_split()


@pytest.fixture(scope="module")
def model(split):
    return M.train_mlp(split.x_train, split.y_train)


@pytest.fixture(scope="module")
def converted(model, split):
    return M.to_network(model, x_calib=split.x_train)


def test_training_is_deterministic_and_constrained(model, split):
    assert model.sizes == (64, M.HIDDEN, 10)
    assert model.seconds < 60
    # The hidden layer is trained inside the hardware's range: no scaling at conversion.
    assert np.abs(model.weights[0]).max() <= 1 and np.abs(model.biases[0]).max() <= 1
    assert model.history[-1] < model.history[0] / 5            # the loss fell
    again = M.train_mlp(split.x_train[:200], split.y_train[:200], epochs=3)
    same = M.train_mlp(split.x_train[:200], split.y_train[:200], epochs=3)
    np.testing.assert_array_equal(again.weights[0], same.weights[0])
    other = M.train_mlp(split.x_train[:200], split.y_train[:200], epochs=3, seed=1)
    assert not np.array_equal(again.weights[0], other.weights[0])


def test_chosen_configuration_reaches_97_percent_in_the_golden_model(converted, model, split):
    params, _ = converted
    assert params.sizes == (64, M.HIDDEN, 10)
    assert (params.width, params.length, params.source, params.seed) == (8, 256, "sobol", 0)
    hidden = params.layers[0].neuron
    assert (hidden.threshold, hidden.leak_shift, hidden.reset, hidden.width) == \
        (M.THETA, 0, "subtract", 16)
    float_acc = float(np.mean(model.predict(split.x_test) == split.y_test))
    sc_acc = M.evaluate(params, split.x_test, split.y_test)
    assert sc_acc >= 0.97
    assert float_acc >= 0.97 and abs(sc_acc - float_acc) <= 0.01
    # evaluate() is Network.predict, argmax of the output scores.
    run = Network(params).evaluate(split.x_test[:50])
    np.testing.assert_array_equal(np.argmax(run.scores[-1], -1),
                                  Network(params).predict(split.x_test[:50]))


def test_conversion_report(converted, model, split):
    params, report = converted
    top = 1 << params.width
    hidden, out = report
    # Hidden layer: already in [-1, 1], so scale 1 and the integer threshold is theta exactly.
    assert hidden.scale == 1.0 and hidden.threshold_int == M.THETA
    assert hidden.threshold_error == 0
    # Output layer: divided by its largest magnitude, which then quantises to exactly 2**W.
    peak = max(np.abs(model.weights[1]).max(), np.abs(model.biases[1]).max())
    assert out.scale == pytest.approx(1 / peak)
    assert np.abs(params.layers[1].signed_terms).max() == top
    for r in report:                                      # rounding to the nearest level
        assert 0 < r.weight_rms_error <= r.weight_max_error <= 0.5 / top + 1e-12
    q = params.layers[0].signed_terms
    np.testing.assert_array_equal(q[:, :64], np.rint(model.weights[0] * top))
    # The output threshold is the largest training score, scaled like the weights.
    assert out.threshold_int == round(M.output_threshold(model, split.x_train) * out.scale)
    # Without SC error the quantised network is the float network up to a few images.
    q_acc = M.quantised_accuracy(params, split.x_test, split.y_test)
    f_acc = float(np.mean(model.predict(split.x_test) == split.y_test))
    assert abs(q_acc - f_acc) <= 0.005


def test_hidden_rate_follows_the_float_rate(converted, model, split):
    """The IF neuron with subtract reset fires at clip(relu(z) / theta, 0, 1) up to SC error."""
    params, _ = converted
    run = Network(params).evaluate(split.x_test[:40])
    rate = run.counts[0] / params.length
    want = model.hidden(split.x_test[:40])[0]
    assert np.abs(rate - want).mean() < 0.02
    assert np.abs(rate - want).max() < 0.1


def test_raster_written(converted, split, tmp_path):
    params, _ = converted
    run = Network(params).evaluate(split.x_test[:2])
    path = tmp_path / "raster.png"
    M.plot_raster(run, 0, 1, path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000
    with pytest.raises(ParameterError, match="sample"):
        M.plot_raster(run, 0, 2, tmp_path / "bad.png")
    with pytest.raises(ParameterError, match="layer_index"):
        M.plot_raster(run, 2, 0, tmp_path / "bad.png")


def test_bad_input_raises():
    with pytest.raises(ParameterError, match="theta"):
        M.train_mlp(np.zeros((4, 64)), np.zeros(4, int), theta=0)
    with pytest.raises(ParameterError, match="FloatMLP"):
        M.to_network("not a model")
