"""Dense layer golden model: exact against brute force, statistics against float, the rule."""
import dataclasses

import numpy as np
import pytest

from scfpga.model import LFSRParams, LIFParams, ParameterError, lif_run, lfsr_sequence
from scfpga.model.dense import (DenseParams, SCDenseLayer, integrate_fire, integrate_fire_exact,
                                quantize_weights, sobol_order, sobol_pair_t, stream_plan,
                                stream_values)
from scfpga.model.mux import uniform_weights
from scfpga.model.sobol import SobolParams, sobol_sequence


def _layer(rng, n=12, neurons=5, bias=True, **kw):
    b = rng.uniform(-1, 1, neurons) if bias else None
    return SCDenseLayer.from_weights(rng.uniform(-1, 1, (neurons, n)), b, **kw)


def _brute_currents(layer, p, T):
    """Unpacked bits, straight from the definitions in the module docstring."""
    prm = layer.params
    r, s, sel = layer.streams(T)
    a = (r[None] < p[:, :, None]).astype(np.int64)                       # (B, n, T)
    if prm.bias is not None:
        a = np.concatenate([a, np.ones((len(p), 1, T), np.int64)], 1)
    q = prm.signed_terms
    prod = a[:, None] * (np.abs(q)[:, :, None] > s) * np.sign(q)[:, :, None]   # (B, N, n, T)
    if prm.accumulation == "counter":
        return prod.sum(2)
    return prod[:, :, sel, np.arange(T)]


# ---------------------------------------------------------------------------- parameters

def test_quantisation_is_sign_magnitude_of_the_sng_rule():
    q = quantize_weights([[1.0, -1.0, 0.5, -0.25, 0.0, -0.001]], 8)
    assert q.tolist() == [[256, -256, 128, -64, 0, 0]]
    with pytest.raises(ParameterError, match="weights must be in"):
        quantize_weights([[1.5]], 8)


@pytest.mark.parametrize("kwargs, match", [
    ({"weights": [[300]]}, "weights must be in -256..256"),
    ({"weights": [1, 2]}, "weights must be a non-empty 2-D"),
    ({"weights": [[1.5]]}, "weights must be a non-empty 2-D"),
    ({"weights": [[1]], "width": 0}, "width must be in 1..16"),
    ({"weights": [[1]], "length": 0}, "length must be in"),
    ({"weights": [[1]], "source": "xor"}, "source must be one of"),
    ({"weights": [[1]], "accumulation": "add"}, "accumulation must be one of"),
    ({"weights": [[1, 1]], "bias": [1, 2]}, "bias must have n_neurons"),
    ({"weights": [[1]] * 2, "width": 1, "accumulation": "mux", "bias": [1, 1]}, None),
    ({"weights": [[1] * 3], "width": 1, "accumulation": "mux"}, "mux accumulation needs"),
    ({"weights": [[1]], "source": "lfsr", "lfsr_width": 21}, "lfsr_width must be in"),
    ({"weights": [[1] * 300], "source": "lfsr", "lfsr_width": 8}, "lfsr_width must be larger"),
    ({"weights": [[1]], "lif": 3}, "lif must be a LIFParams"),
])
def test_bad_parameters_name_the_parameter(kwargs, match):
    if match is None:
        DenseParams(**kwargs)
        return
    with pytest.raises(ParameterError, match=match):
        DenseParams(**kwargs)


def test_params_are_frozen_hashable_and_default_lif_never_saturates():
    p = DenseParams.from_float(np.eye(3) * 0.5, length=256)
    assert hash(p) == hash(DenseParams.from_float(np.eye(3) * 0.5, length=256))
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.width = 4
    assert p.lif.threshold == 3 and p.lif.leak_shift == 0 and integrate_fire_exact(p, 256)
    big = DenseParams.from_float(np.ones((2, 256)), length=1024)
    assert big.lif.width > 16 and integrate_fire_exact(big, 1024)


# ---------------------------------------------------------------------------- stream plan

@pytest.mark.parametrize("pair", [(1, 2), (1, 3), (1, 6), (1, 18), (1, 27), (2, 40), (5, 9)])
def test_sobol_pair_t_matches_counting_elementary_boxes(pair):
    """Oracle: t is the smallest value for which every 2**-a x 2**-b box (a + b = m - t)
    holds exactly 2**t of the first 2**m points."""
    m = 8
    r, s = (sobol_sequence(SobolParams(m, d), 1 << m) for d in pair)
    for t in range(m + 1):
        if all(np.all(np.bincount((r >> (m - a)) << (m - t - a) | (s >> (t + a)),
                                  minlength=1 << (m - t)) == 1 << t) for a in range(m - t + 1)):
            break
    assert sobol_pair_t(*pair, m) == t


def test_sobol_rule_distinct_dimensions_best_pairs_first():
    plan = stream_plan("sobol", 8, 64, 0, 16, 256)
    dims = [plan.weight.dim, plan.select.dim] + [s.dim for s in plan.inputs]
    assert plan.weight.dim == 1 and len(set(dims)) == len(dims)
    ts = [sobol_pair_t(1, d, 8) for d in dims[1:]]
    assert ts == sorted(ts) and max(ts) <= 1            # 64 inputs all get t <= 1 partners
    assert sobol_order(1, 8)[:2] == (2, 14)              # the two t = 0 partners of dim 1
    assert stream_plan("sobol", 8, 3, 4, 16, 256).weight.dim == 5
    # Input streams do not depend on the accumulation or on the layer's size.
    assert stream_plan("sobol", 8, 10, 0, 16, 256).inputs == plan.inputs[:10]


def test_lfsr_rule_leaps_width_steps_through_one_m_sequence():
    plan = stream_plan("lfsr", 8, 5, 123, 16, 256)
    period = (1 << 16) - 1
    seq = lfsr_sequence(LFSRParams(16, 1), period)
    spacing = period // 7
    for s, src in enumerate((plan.weight, plan.select) + plan.inputs):
        assert src.seed == seq[(123 + s * spacing) % period]
    # Oracle: step a plain Python LFSR (XOR of the taps shifted in at the LSB).
    state, taps, want = plan.inputs[2].seed, LFSRParams(16, 1).taps, []
    for _ in range(40):
        want.append(state >> 8)
        for _ in range(8):
            fb = 0
            for t in taps:
                fb ^= (state >> (t - 1)) & 1
            state = ((state << 1) | fb) & 0xFFFF
    assert stream_values(plan, plan.inputs[2:3], 40)[0].tolist() == want


# ---------------------------------------------------------------------------- exactness

@pytest.mark.parametrize("source", ["sobol", "lfsr"])
@pytest.mark.parametrize("accumulation", ["counter", "mux"])
@pytest.mark.parametrize("bias", [False, True])
def test_currents_spikes_scores_match_brute_force(source, accumulation, bias, rng):
    layer = _layer(rng, bias=bias, width=6, length=150, source=source, seed=3,
                   accumulation=accumulation)
    p = rng.integers(0, 65, (6, 12))
    p[0, :4] = [0, 64, 0, 64]
    for T in (150, 37):
        run = layer.evaluate_thresholds(p, T)
        cur = _brute_currents(layer, p, T)
        assert np.array_equal(run.currents, cur)
        spikes, v = lif_run(layer.params.lif, cur)
        assert np.array_equal(run.spikes, spikes) and np.array_equal(run.v, v)
        assert np.array_equal(run.counts, spikes.sum(-1))
        assert np.array_equal(run.scores, cur.sum(-1))
        assert np.array_equal(layer.scores_thresholds(p, T), run.scores)
        single = layer.evaluate_thresholds(p[2], T)
        assert np.array_equal(single.spikes, run.spikes[2])
    if accumulation == "counter":                      # the packed fallback of the table
        assert np.array_equal(layer._scores_packed(p, 150), layer.scores_thresholds(p))


def test_general_lif_takes_the_reference_path(rng):
    """Leak, refractory, reset to zero and saturation: the model must still equal lif_run."""
    for leak, low, saturates in ((2, -0.5, False), (0, -1.0, True)):
        lif = LIFParams(width=7, n_inputs=1, weights=(1,), threshold=5, leak_shift=leak,
                        reset="zero", refractory=2)
        layer = SCDenseLayer.from_weights(rng.uniform(low, 1, (6, 12)), width=5, length=90,
                                          lif=lif)
        assert not integrate_fire_exact(layer.params, 90)
        p = rng.integers(0, 33, (4, 12))
        run = layer.evaluate_thresholds(p)
        spikes, v = lif_run(lif, _brute_currents(layer, p, 90))
        assert np.array_equal(run.spikes, spikes) and np.array_equal(run.v, v)
        assert run.spikes.any()
        assert (run.v == lif.v_min).any() == saturates


def test_integrate_fire_closed_form_equals_lif_run(rng):
    for _ in range(100):
        thr = int(rng.integers(1, 30))
        T = int(rng.integers(1, 200))
        cur = rng.integers(-thr, thr + 1, (2, 3, T))
        lif = LIFParams(width=20, threshold=thr, leak_shift=0)
        for a, b in zip(integrate_fire(thr, cur), lif_run(lif, cur)):
            assert np.array_equal(a, b)


def test_mux_select_formula_of_the_hardware_equals_the_uniform_split():
    """hdl.dense computes sel = ((R + 1) * n - 1) >> W instead of comparing thresholds."""
    for width in (3, 5, 8):
        r = np.arange(1 << width)
        for n in range(1, (1 << width) + 1):
            thresholds = np.cumsum(uniform_weights(n, width))[:-1]
            assert np.array_equal(((r + 1) * n - 1) >> width,
                                  np.searchsorted(thresholds, r, side="right"))


def test_api_shapes_and_decoding(rng):
    layer = _layer(rng, neurons=4, length=256)
    x = rng.random((3, 12))
    assert layer.run(x[0]).shape == (4, 256) and layer.get_spike_trains().shape == (4, 256)
    assert layer.run(x, 100).shape == (3, 4, 100)
    assert layer.forward(x).shape == (3, 4) and layer.forward(x[0]).shape == (4,)
    assert np.all((layer.forward(x) >= 0) & (layer.forward(x) <= 1))
    assert np.array_equal(layer.predict(x), np.argmax(layer.scores(x), -1))
    assert np.abs(layer.estimate(x) - layer.exact(x)).max() < 0.1
    with pytest.raises(ParameterError, match="x must have shape"):
        layer.forward(np.ones(5))
    with pytest.raises(ParameterError, match="x must be in"):
        layer.forward(np.full(12, 1.5))


def test_forward_rate_follows_relu_of_the_dot_product(rng):
    layer = _layer(rng, n=32, neurons=16, bias=False, length=1024)
    x = rng.random((8, 32))
    want = np.maximum(layer.exact(x), 0) / 32
    assert np.abs(layer.forward(x) - want).max() < 0.02


# ---------------------------------------------------------------------------- statistics

def _error_slope(source, rng, lengths=(64, 256, 1024, 4096)):
    errs = []
    layers = [_layer(rng, n=16, neurons=8, bias=False, width=12, length=4096, source=source,
                     seed=int(rng.integers(0, 50))) for _ in range(4)]
    x = rng.random((32, 16))
    for L in lengths:
        e = [layer.scores(x, L) / L - layer.exact(x) for layer in layers]
        errs.append(np.sqrt(np.mean(np.square(e))))
    return np.polyfit(np.log(lengths), np.log(errs), 1)[0], errs


def test_sobol_error_falls_like_one_over_length(rng):
    slope, errs = _error_slope("sobol", rng)
    assert slope < -0.8, (slope, errs)


def test_lfsr_error_falls_like_one_over_sqrt_length(rng):
    slope, errs = _error_slope("lfsr", rng)
    assert -0.7 < slope < -0.3, (slope, errs)


def _and_errors(plan, n, T, rng, same_source=False):
    """Counts of [R_i < P][S < Q] minus T*p*q for random P, Q on every input of the plan."""
    top = 1 << plan.width
    r = stream_values(plan, plan.inputs[:n], T)
    s = r if same_source else stream_values(plan, (plan.weight,), T)
    P = rng.integers(1, top, (n, 64))
    Q = rng.integers(1, top, (n, 64))
    c = ((r[:, None, :] < P[..., None]) & (s[:, None, :] < Q[..., None])).sum(-1)
    pq = P * Q / top ** 2
    return c - T * pq, np.sqrt(T * pq * (1 - pq))


def test_and_of_lfsr_streams_errs_like_independent_bernoulli(rng):
    plan = stream_plan("lfsr", 8, 48, 0, 16, 1024)
    err, sd = _and_errors(plan, 48, 1024, rng)
    z = np.sqrt(np.mean((err / sd) ** 2))
    assert 0.8 < z < 1.25, z
    # Unbiased: errors of one input are correlated over (P, Q), so ~48 independent means.
    assert abs(np.mean(err / sd)) < 3 / np.sqrt(48)
    same, sd = _and_errors(plan, 48, 1024, rng, same_source=True)   # min(p, q): must fail
    assert np.sqrt(np.mean((same / sd) ** 2)) > 5


def test_and_of_sobol_streams_beats_independent_streams(rng):
    plan = stream_plan("sobol", 8, 64, 0, 16, 256)
    err, sd = _and_errors(plan, 64, 256, rng)
    assert np.sqrt(np.mean(err ** 2)) < 0.2 * np.sqrt(np.mean(sd ** 2))
    assert np.abs(err).max() <= 4 and abs(np.mean(err)) < 0.1


def test_digits_classifier_meets_the_demo_target():
    """64 x 10 logistic regression on sklearn digits, weights and bias scaled into [-1, 1]."""
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    xtr, xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    clf = LogisticRegression(max_iter=5000).fit(xtr, ytr)
    scale = max(np.abs(clf.coef_).max(), np.abs(clf.intercept_).max())
    layer = SCDenseLayer.from_weights(clf.coef_ / scale, clf.intercept_ / scale, length=256)
    float_acc = clf.score(xte, yte)
    sc_acc = np.mean(layer.predict(xte) == yte)
    assert sc_acc >= 0.94 and sc_acc >= float_acc - 0.02, (sc_acc, float_acc)
