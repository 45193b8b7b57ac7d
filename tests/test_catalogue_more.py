"""The step-per-run layers of the catalogue on hardware: predictive coding and the recurrent
reservoir. Golden models against literal per-cycle oracles and float references, the reference
class shapes, and co-simulation of seeded random configurations over several runs (learned
weights and fed-back states carried from run to run), every output on every cycle."""
import numpy as np
import pytest

from scfpga.hdl.verilog import to_verilog
from scfpga.layers import PredictiveCodingSCLayer, SCRecurrentLayer
from scfpga.model import ParameterError
from scfpga.model.predictive import (PredictiveParams, error_bits, initial_weights,
                                     predictive_float, predictive_run, predictive_step)
from scfpga.model.recurrent import (RecurrentParams, recurrent_acc, recurrent_bits,
                                    recurrent_run, reservoir_float, reservoir_weights)
from scfpga.model.sng import quantize_unipolar
from scfpga.model.sources import source_sequence
from scfpga.sim import cosim
from scfpga.sim.ops import bench


def cosim_result(params, name, cycles, seed, tmp_path, dut_params=None):
    b = bench(params)
    stim, expected = b.make_case(params, cycles, np.random.default_rng(seed))
    verilog = to_verilog(b.dut(dut_params or params), name)
    return cosim(verilog, name, stim, expected, b.signed_ports, build_root=tmp_path), expected


# --- predictive coding ------------------------------------------------------------------------

def random_predictive(seed):
    rng = np.random.default_rng(900 + seed)
    width, frac = int(rng.integers(3, 7)), int(rng.integers(0, 5))
    n_in, n_neu = int(rng.integers(1, 5)), int(rng.integers(1, 5))
    lr_shift = int(rng.integers(1, 9))
    return PredictiveParams(n_in, n_neu, rng.integers(0, (1 << (width + frac)) + 1, (n_neu, n_in)),
                            1 << int(rng.integers(2, 6)), width, frac,
                            int(rng.integers(1, (1 << lr_shift) + 1)), lr_shift,
                            ("independent", "shared")[seed % 2], ("sobol", "lfsr")[seed // 2 % 2],
                            sobol_dim=int(rng.integers(1, 5)))


def test_predictive_step_matches_a_per_cycle_oracle(rng):
    for seed in range(4):
        p = random_predictive(seed)
        x = rng.integers(0, (1 << p.width) + 1, size=p.n_inputs)
        w = np.array(p.weights)
        s = predictive_step(p, x, w)
        r_a, r_p = (source_sequence(src, p.length) for src in p.sources)
        for j in range(p.n_neurons):
            for i in range(p.n_inputs):
                e = sum((r_a[t] < x[i]) != (r_p[t] < w[j, i] // (1 << p.frac))
                        for t in range(p.length))
                assert s.error_terms[j, i] == e
                ones = sum(r_a[t] < x[i] for t in range(p.length))
                target = ones * (1 << p.weight_bits) // p.length
                assert s.weights[j, i] == w[j, i] + (p.lr * (target - w[j, i])) // (1 << p.lr_shift)
        np.testing.assert_array_equal(error_bits(p, x, w)[0].sum(-1), s.errors)


def test_predictive_shared_sobol_error_is_the_distance_and_weights_stay_in_range(rng):
    # One Sobol period: the XOR of two comparators of one source counts exactly the values
    # between the thresholds, |x - w|.
    p = PredictiveParams(5, 3, rng.integers(0, 1 << 12, (3, 5)), 256, 8, 4, streams="shared")
    x = rng.integers(0, 257, size=(7, 5))
    s = predictive_step(p, x)
    np.testing.assert_array_equal(s.error_terms,
                                  np.abs(x[:, None, :] - (np.array(p.weights) >> 4)))
    for lr in (0, 1, 1 << 10):                          # no update, tiny, and lr = 1
        q = PredictiveParams(5, 3, p.weights, 256, 8, 4, lr, 10, "shared")
        w = predictive_run(q, x)[1]
        assert w.min() >= 0 and w.max() <= q.one
        if lr == 0:
            assert (w == np.array(q.weights)).all()
    np.testing.assert_array_equal(w[1], np.repeat((x[0] << 4)[None], 3, 0))   # lr = 1: the target


def test_predictive_tracks_the_float_reference_and_learns(rng):
    w, x = rng.random((8, 8)), rng.random((40, 8))
    for streams, bound in (("independent", 3e-3), ("shared", 1.5e-3)):
        p = PredictiveParams.from_float(w, 256, 0.01, 8, 8, streams=streams)
        s = predictive_step(p, quantize_unipolar(x, 8))
        expected, _ = predictive_float(x, np.array(p.weights) / p.one, 0.01, streams)
        assert np.abs(s.errors / (256 * 8) - expected).mean() < bound
    layer = PredictiveCodingSCLayer(4, 3, lr=0.1, seed=3, streams="shared")
    np.testing.assert_allclose(layer.weights, initial_weights(4, 3, 3), atol=2**-17)
    target = np.array([0.2, 0.5, 0.9, 0.0])
    first = layer.forward(target)
    learned = layer.weights
    out = [layer.forward(target) for _ in range(60)]
    np.testing.assert_array_equal(out[0]["predictions"], learned)   # predicts, then learns
    assert out[-1]["prediction_error"] < 0.02 < first["prediction_error"]
    np.testing.assert_allclose(layer.weights, np.tile(target, (3, 1)), atol=0.01)


def test_predictive_reference_shape_and_errors():
    layer = PredictiveCodingSCLayer(n_inputs=3, n_neurons=2, length=128, lr=0.05, seed=0)
    out = layer.forward([0.5, -1.0, 2.0])               # clipped to [0, 1] like the reference
    assert set(out) == {"prediction_error", "surprises", "predictions"}
    assert out["surprises"].shape == (2,) and out["predictions"].shape == (2, 3)
    assert isinstance(out["prediction_error"], float)
    assert not np.array_equal(layer.weights, out["predictions"])   # updated after predicting
    layer.reset()
    np.testing.assert_array_equal(layer.weights, out["predictions"])
    with pytest.raises(ParameterError, match="length"):
        PredictiveCodingSCLayer(3, 2, length=100)
    with pytest.raises(ParameterError, match="inputs"):
        layer.forward([0.5, 0.5])
    with pytest.raises(ParameterError, match="lr"):
        PredictiveParams(lr=2000, lr_shift=10)
    with pytest.raises(ParameterError, match="weights"):
        PredictiveParams(2, 2, ((0, 1), (2, 1 << 17)))


def test_layer_classes_step_like_the_ops_runs(rng):
    """A sequence of forward/step calls is the op's sequence of runs (what the RTL computes)."""
    x = rng.random((6, 4))
    layer = PredictiveCodingSCLayer(4, 3, length=64, lr=0.2, seed=2, source="lfsr")
    surprises = np.stack([layer.forward(row)["surprises"] for row in x])
    errors, weights = predictive_run(layer.params, quantize_unipolar(x, 8))
    np.testing.assert_array_equal(surprises, errors / (64 * 4))
    np.testing.assert_array_equal(layer.weights, weights[-1] / layer.params.one)
    res = SCRecurrentLayer(4, 6, length=64, seed=4, signed=True, feedback_delay=2)
    states = recurrent_run(res.params, quantize_unipolar(x, res.params.width))[1]
    np.testing.assert_array_equal(res.run(x), states / 64)


@pytest.mark.parametrize("seed", range(4))
def test_predictive_cosimulation(seed, tmp_path):
    p = random_predictive(seed)
    result, expected = cosim_result(p, "predictive", 6 * p.length + 60, seed, tmp_path)
    assert result.ok, f"{p}: {result.describe('predictive')}"
    assert expected["done"].sum() >= 3
    weights = np.stack([v for k, v in expected.items() if k.startswith("w")], 1)
    assert (weights != weights[0]).any()                 # the learned weights were compared


def test_cosimulation_catches_other_streams_and_another_learning_rate(tmp_path):
    p = PredictiveParams(3, 2, ((10, 200, 90), (0, 256, 128)), 16, 5, 3, 5, 4)
    for other in (PredictiveParams(3, 2, p.weights, 16, 5, 3, 5, 4, "shared"),
                  PredictiveParams(3, 2, p.weights, 16, 5, 3, 6, 4)):   # another lr
        result, _ = cosim_result(p, "predictive", 120, 1, tmp_path, dut_params=other)
        assert not result.ok and result.port.startswith(("err", "w"))


# --- recurrent reservoir ----------------------------------------------------------------------

def random_recurrent(seed):
    rng = np.random.default_rng(950 + seed)
    w_in, w_rec = reservoir_weights(int(rng.integers(1, 4)), int(rng.integers(1, 6)), seed,
                                    0.8, float(rng.uniform(0.5, 1.5)), signed=seed % 2 == 1)
    width = int(rng.integers(3, 7))
    return RecurrentParams.from_float(w_in, w_rec, 1 << int(rng.integers(1, width + 1)), width,
                                      feedback_delay=int(rng.integers(1, 4)),
                                      source=("sobol", "lfsr")[seed // 2 % 2])


def test_recurrent_run_matches_a_per_cycle_oracle(rng):
    for seed in range(4):
        p = random_recurrent(seed)
        xs = rng.integers(0, (1 << p.width) + 1, size=(5, p.n_inputs))
        accs, states = recurrent_run(p, xs)
        r_a, r_w = (source_sequence(src, p.length) for src in p.sources)
        w = p.terms
        past = [[0] * p.n_neurons for _ in range(p.feedback_delay)]   # states, oldest first
        for n, x in enumerate(xs):
            fb = past[-p.feedback_delay]                 # the state after step n - delay
            data = list(x) + [s * 2**p.state_shift for s in fb]
            for j in range(p.n_neurons):
                acc = sum(int(np.sign(w[j, t])) for t in range(len(data))
                          for c in range(p.length)
                          if r_a[c] < data[t] and r_w[c] < abs(w[j, t]))
                assert accs[n, j] == acc
            past.append([min(max(int(a), 0), p.length) for a in accs[n]])
            assert states[n].tolist() == past[-1]
        np.testing.assert_array_equal(recurrent_bits(p, xs[0], np.zeros(p.n_neurons, int)).sum(-1),
                                      recurrent_acc(p, xs[0], np.zeros(p.n_neurons, int)))


def test_recurrent_spectral_radius_reference_draws_and_float_fidelity():
    w_in, w_rec = reservoir_weights(3, 10, 0)
    r = np.random.RandomState(0)
    np.testing.assert_allclose(w_in, r.uniform(0, 1, (10, 3)) * 0.5)
    raw = r.uniform(0, 0.2, (10, 10))
    np.testing.assert_allclose(w_rec, raw * 0.9 / np.abs(np.linalg.eigvals(raw)).max())
    assert np.isclose(np.abs(np.linalg.eigvals(w_rec)).max(), 0.9)
    w_in, w_rec = reservoir_weights(2, 20, 1, signed=True)
    t = np.arange(200)
    xs = np.stack([(np.sin(0.3 * t) + 1) / 2, np.ones(200)], 1)
    for length, width, bound in ((256, 8, 0.008), (1024, 10, 0.002)):
        p = RecurrentParams.from_float(w_in, w_rec, length, width)
        states = recurrent_run(p, quantize_unipolar(xs, width))[1] / length
        ref = reservoir_float(xs, np.array(p.w_in) / 2**width, np.array(p.w_rec) / 2**width)
        assert 0 < (ref > 0).mean() < 1                     # the clip is active, both ways
        assert np.abs(states - ref).mean() < bound


def test_recurrent_reference_example_and_errors():
    res = SCRecurrentLayer(n_inputs=3, n_neurons=10, seed=0)
    state = res.step(np.array([0.5, 0.3, 0.8]))
    assert state.shape == (10,) and (state >= 0).all() and (state <= 1).all()
    ref = np.clip(res.W_in @ [0.5, 0.3, 0.8], 0, 1)
    assert np.abs(state - ref).max() < 0.01              # first step: no feedback yet
    second = res.step(np.array([0.5, 0.3, 0.8]))
    assert (second > state).all()                         # positive feedback adds
    res.reset()
    np.testing.assert_array_equal(res.step(np.array([0.5, 0.3, 0.8])), state)
    delayed = SCRecurrentLayer(3, 10, seed=0, feedback_delay=2)
    np.testing.assert_array_equal(delayed.run(np.full((2, 3), [0.5, 0.3, 0.8])),
                                  [state, state])         # step 1 still sees the zero state
    with pytest.raises(ParameterError, match="input_vector"):
        res.step(np.array([0.5, 1.5, 0]))
    with pytest.raises(ParameterError, match="length"):
        RecurrentParams(length=48)
    with pytest.raises(ParameterError, match="feedback_delay"):
        RecurrentParams(feedback_delay=5)


@pytest.mark.parametrize("seed", range(4))
def test_recurrent_cosimulation(seed, tmp_path):
    p = random_recurrent(seed)
    result, expected = cosim_result(p, "recurrent", 8 * p.length + 60, seed, tmp_path)
    assert result.ok, f"{p}: {result.describe('recurrent')}"
    assert expected["done"].sum() >= 4
    states = np.stack([v for k, v in expected.items() if k.startswith("s")], 1)
    assert len(np.unique(states, axis=0)) >= 3            # fed-back states vary


def test_cosimulation_catches_another_feedback_delay(tmp_path):
    w_in, w_rec = reservoir_weights(2, 3, 5, 0.8, 1.2)
    p = RecurrentParams.from_float(w_in, w_rec, 8, 4, feedback_delay=1)
    other = RecurrentParams.from_float(w_in, w_rec, 8, 4, feedback_delay=2)
    result, _ = cosim_result(p, "recurrent", 120, 0, tmp_path, dut_params=other)
    assert not result.ok and result.port.startswith(("acc", "s"))
