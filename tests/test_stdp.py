"""On-chip STDP: the vectorised model against a literal per-synapse oracle, learning
properties, and the RTL holding the model's weights bit for bit after every epoch."""
import numpy as np
import pytest

from scfpga.layers import SCLearningLayer
from scfpga.model import ParameterError
from scfpga.model.faults import stuck_at_map
from scfpga.model.lfsr import LFSRParams
from scfpga.model.sobol import sobol_sequence
from scfpga.model.stdp import LEAP, STDPLayer, STDPParams, run_epoch
from scfpga.sim.stdp import cosim_stdp, expected_results, random_rates


def lfsr_values(params: LFSRParams, visits):
    """The register after every LEAP steps, stepped one shift at a time (no leap matrices)."""
    s, out, mask = params.seed, [], (1 << params.width) - 1
    for _ in range(visits):
        out.append(s)
        for _ in range(LEAP):
            fb = 0
            for t in params.taps:
                fb ^= (s >> (t - 1)) & 1
            s = ((s << 1) | fb) & mask
    return out


def oracle_epoch(p: STDPParams, w, rates):
    """The module docstring's rule, one synapse at a time with Python integers."""
    w = [list(map(int, row)) for row in w]
    n, m, top = p.n_neurons, p.n_inputs, (1 << p.weight_bits) - 1
    enc = lfsr_values(p.encoder, p.length * m)
    if p.stochastic:
        upd = (lfsr_values(p.update, p.length * n * m) if p.update_source == "lfsr"
               else [int(x) << (16 - p.trace_bits) for x in sobol_sequence(p.update, p.length * n * m)])
    and_m, or_m, off = (a.tolist() for a in p.fault_map.arrays)
    x, y, v, counts = [0] * m, [0] * n, [0] * n, [0] * n
    lo, hi = -(1 << (p.v_width - 1)), (1 << (p.v_width - 1)) - 1
    for t in range(p.length):
        s = [int((enc[t * m + i] >> (16 - p.width)) < rates[i]) for i in range(m)]
        x = [p.t_max if s[i] else x[i] - (x[i] >> p.tau_pre_shift) for i in range(m)]
        post = []
        for j in range(n):
            cur = sum(min(top, max(0, w[j][i] + off[j][i])) for i in range(m) if s[i])
            u = min(hi, max(lo, v[j] - ((v[j] >> p.leak_shift) if p.leak_shift else 0) + cur))
            fired = u >= p.threshold
            v[j] = 0 if fired else u
            counts[j] += fired
            post.append(fired)
        for j in range(n):
            for i in range(m):
                if p.stochastic:
                    r = upd[(t * n + j) * m + i] >> (16 - p.trace_bits)
                    dp, dd = p.a_plus * (r < x[i]), p.a_minus * (r < y[j])
                else:
                    dp, dd = (p.a_plus * x[i]) >> p.rate_shift, (p.a_minus * y[j]) >> p.rate_shift
                new = min(p.w_max, max(p.w_min, w[j][i] + post[j] * dp - s[i] * dd))
                w[j][i] = (new & and_m[j][i]) | or_m[j][i]
        y = [p.t_max if post[j] else y[j] - (y[j] >> p.tau_post_shift) for j in range(n)]
    return np.array(w), np.array(counts)


def random_params(seed):
    rng = np.random.default_rng(900 + seed)
    m, n, bits = int(rng.integers(2, 9)), int(rng.integers(1, 4)), int(rng.integers(4, 9))
    kind = seed % 3
    faults = (stuck_at_map((n, m), bits, 0.15, seed, bit_rate=0.05, sigma=2.0)
              if kind == 2 else None)
    return STDPParams(n_inputs=m, n_neurons=n, length=int(rng.integers(6, 14)),
                      width=int(rng.integers(3, 9)), weight_bits=bits,
                      trace_bits=int(rng.integers(4, 9)), tau_pre_shift=int(rng.integers(1, 4)),
                      tau_post_shift=int(rng.integers(1, 4)), a_plus=int(rng.integers(1, 16)),
                      a_minus=int(rng.integers(1, 16)), rate_shift=int(rng.integers(2, 6)),
                      stochastic=kind > 0, update_source=("lfsr", "sobol")[seed % 2],
                      threshold=int(m * (1 << bits) // int(rng.integers(2, 6))),
                      leak_shift=int(rng.integers(0, 4)), seed=int(rng.integers(1, 65536)),
                      weight_seed=seed, faults=faults)


@pytest.mark.parametrize("seed", range(6))
def test_model_matches_the_literal_oracle(seed):
    p = random_params(seed)
    rng = np.random.default_rng(seed)
    w = p.initial_weights
    for _ in range(2):
        rates = rng.integers(0, (1 << p.width) + 1, p.n_inputs)
        want_w, want_c = oracle_epoch(p, w, rates)
        got = run_epoch(p, w, rates)
        np.testing.assert_array_equal(got.weights, want_w)
        np.testing.assert_array_equal(got.counts, want_c)
        w = got.weights


def test_learning_properties():
    rates = np.array([256, 256, 256, 256, 0, 0, 0, 0])
    base = dict(n_inputs=8, n_neurons=2, length=200, threshold=300, weight_seed=3)
    # Bounds hold; only potentiation never lowers a weight, only depression never raises one.
    for a_plus, a_minus, sign in [(8, 0, 1), (0, 8, -1)]:
        p = STDPParams(a_plus=a_plus, a_minus=a_minus, w_min=20, w_max=200, **base)
        layer = STDPLayer(p)
        before = layer.weights.copy()
        after = layer.run_epoch(rates).weights
        assert (after >= 20).all() and (after <= 200).all()
        assert (sign * (after - np.clip(before, 20, 200)) >= 0).all()
    # Inputs that never spike never change (no pre trace, no pre spike); always-on inputs are
    # depressed: they spike after every post spike too, so the post trace outweighs the pairing
    # (no causal correlation, the point of the asymmetric rule).
    layer = STDPLayer(STDPParams(**base))
    before = layer.weights.copy()
    assert layer.run_epoch(rates).counts.sum() > 0
    assert (layer.weights[:, 4:] == before[:, 4:]).all()
    assert (layer.weights[:, :4] <= before[:, :4]).all() and (layer.weights[:, :4] < before[:, :4]).any()


def test_stuck_cells_never_change():
    fm = stuck_at_map((3, 8), 6, 0.3, seed=5, bit_rate=0.2)
    p = STDPParams(n_inputs=8, n_neurons=3, weight_bits=6, length=100, threshold=100, faults=fm,
                   stochastic=True)
    layer = STDPLayer(p)
    and_m, or_m, _ = fm.arrays
    for r in np.random.default_rng(0).integers(0, 257, (3, 8)):
        w = layer.run_epoch(r).weights
        assert ((w & ~and_m & 63) == or_m).all()          # every stuck bit shows its value
    assert fm.stuck.any() and (layer.weights[fm.stuck] == or_m[fm.stuck]).all()


@pytest.mark.parametrize("kwargs, name", [
    (dict(n_inputs=0), "n_inputs"), (dict(n_neurons=17), "n_neurons"), (dict(weight_bits=1), "weight_bits"),
    (dict(w_min=10, w_max=5), "w_max"), (dict(tau_pre_shift=9), "tau_pre_shift"),
    (dict(a_plus=16), "a_plus"), (dict(update_source="x"), "update_source"),
    (dict(weights=((1, 2),)), "weights"), (dict(stochastic=1), "stochastic"),
    (dict(faults=stuck_at_map((2, 2), 8, 0.1)), "faults")])
def test_bad_parameters(kwargs, name):
    with pytest.raises(ParameterError, match=name):
        STDPParams(**kwargs)


def test_rates_are_checked():
    p = STDPParams(n_inputs=4, n_neurons=1, length=4)
    with pytest.raises(ParameterError, match="rates"):
        run_epoch(p, p.initial_weights, [0, 1, 2, 999])


def test_learning_layer_reference_shape():
    layer = SCLearningLayer(n_inputs=6, n_neurons=3, length=50, base_seed=7, threshold=600)
    w0 = layer.get_weights()
    assert w0.shape == (3, 6) and (w0 >= 0).all() and (w0 <= 1).all()
    spikes = layer.run_epoch([1, 1, 1, 0, 0, 0])
    assert spikes.shape == (3, 50) and spikes.dtype == np.uint8 and spikes.any()
    assert not np.array_equal(layer.get_weights(), w0)
    with pytest.raises(ParameterError, match="input_values"):
        layer.run_epoch([0.5] * 5)


# --- hardware -----------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(3))
def test_rtl_weights_equal_the_model_after_every_epoch(seed, tmp_path):
    p = random_params(seed)
    rates = random_rates(p, 3, np.random.default_rng(seed))
    expected, epochs = expected_results(p, rates)
    # the configuration learns (weights move) and spikes, so the comparison is not vacuous
    assert (epochs[-1].weights != p.initial_weights).any() and expected[:, -p.n_neurons:].any()
    result = cosim_stdp(p, rates, build_root=tmp_path)
    assert result.ok, result.describe()


def test_rtl_bench_catches_a_wrong_weight(tmp_path):
    p = random_params(0)
    rates = random_rates(p, 2, np.random.default_rng(0))
    expected, _ = expected_results(p, rates)
    expected[1, 3] ^= 1
    result = cosim_stdp(p, rates, expected=expected, build_root=tmp_path)
    assert not result.ok and (result.epoch, result.result) == (1, 3)
