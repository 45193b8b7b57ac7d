"""Event-driven synapses: the CSR golden model equals the dense product bit for bit, the seeded
connectivity keeps its promises, the brainstate-named layers, and the AER engine in RTL."""
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from scfpga.event_layers import EventFixedNumConn, EventFixedProb, EventLinear, FixedNumConn
from scfpga.hdl.event import EventSynapses
from scfpga.hdl.verilog import to_verilog
from scfpga.layers import EventLinear as ExportedEventLinear
from scfpga.model import ParameterError
from scfpga.model.event import (EVENT_CYCLES, STEP_CYCLES, EventParams, connectivity,
                                dense_weight, event_apply, event_cycles, from_connections,
                                from_dense, memory_bits, quantize_weights)
from scfpga.sim import cosim
from scfpga.sim import event as bench


def random_layer(rng, n_pre, n_post, density, bits):
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    w = rng.integers(lo, hi + 1, (n_pre, n_post)) * (rng.random((n_pre, n_post)) < density)
    return w, from_dense(w, bits)


# --- golden model: event == dense, over sparsity 0..100 % ----------------------------------

@settings(max_examples=60, deadline=None)
@given(st.integers(1, 40), st.integers(1, 24), st.floats(0, 1), st.floats(0, 1),
       st.integers(2, 16), st.integers(0, 2**32 - 1))
def test_event_linear_equals_the_dense_product(n_pre, n_post, density, activity, bits, seed):
    rng = np.random.default_rng(seed)
    w, p = random_layer(rng, n_pre, n_post, density, bits)
    spikes = rng.random((5, n_pre)) < activity
    np.testing.assert_array_equal(dense_weight(p), w)
    expect = spikes.astype(np.int64) @ w
    np.testing.assert_array_equal(event_apply(p, spikes), expect)
    np.testing.assert_array_equal(event_apply(p, spikes.astype(float)), expect)   # 0/1 floats
    assert p.n_synapses == np.count_nonzero(w)
    # The accumulators hold every step's sums: the worst case of each sign fits acc_width.
    lo, hi = -(1 << (p.acc_width - 1)), (1 << (p.acc_width - 1)) - 1
    assert lo <= np.minimum(w, 0).sum(0).min() and np.maximum(w, 0).sum(0).max() <= hi


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 60), st.integers(1, 30), st.floats(0, 1), st.floats(0, 1),
       st.integers(0, 2**63 - 1), st.booleans())
def test_random_connectivity_equals_its_dense_matrix(n_pre, n_post, conn, activity, seed, fixed):
    rng = np.random.default_rng(seed % 2**32)
    k = int(conn * n_pre)
    pre, post = connectivity(n_pre, n_post, k if fixed else conn, seed, "num" if fixed else "prob")
    weights = rng.integers(-128, 128, len(pre))
    p = from_connections(n_pre, n_post, pre, post, weights, 8)
    dense = np.zeros((n_pre, n_post), np.int64)
    dense[pre, post] = weights                                  # oracle: scatter, then matmul
    spikes = (rng.random((4, n_pre)) < activity).astype(np.uint8)
    np.testing.assert_array_equal(event_apply(p, spikes), spikes @ dense)
    if fixed:
        np.testing.assert_array_equal(np.bincount(post, minlength=n_post), k)   # exact fan-in
    assert len(set(zip(pre.tolist(), post.tolist()))) == len(pre)              # no duplicates


def test_connectivity_is_seeded_and_follows_its_probability():
    a = connectivity(300, 200, 0.2, 7, "prob")
    b = connectivity(300, 200, 0.2, 7, "prob")
    c = connectivity(300, 200, 0.2, 8, "prob")
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert len(a[0]) != len(c[0]) or not np.array_equal(a[1], c[1])
    # 60000 Bernoulli(0.2) pairs: mean 12000, sd 98; 5 sd either side.
    assert abs(len(a[0]) - 12000) < 500
    assert len(connectivity(30, 20, 0.0, 1, "prob")[0]) == 0
    assert len(connectivity(30, 20, 1.0, 1, "prob")[0]) == 600
    # Fixed fan-in: the chosen inputs differ between outputs (not one shared set).
    pre, post = connectivity(100, 10, 5, 3, "num")
    assert len({tuple(sorted(pre[post == j])) for j in range(10)}) > 1


def test_step_cost_is_a_line_in_the_active_inputs(rng):
    w, p = random_layer(rng, 30, 12, 0.4, 8)
    spikes = rng.random((50, 30)) < rng.random((50, 1))
    rows = (w != 0).sum(1)
    literal = [STEP_CYCLES + sum(EVENT_CYCLES + rows[i] for i in np.flatnonzero(s))
               for s in spikes]
    np.testing.assert_array_equal(event_cycles(p, spikes), literal)
    # A dense layer: every row the same length, so cost = 1 + active * (2 + n_post).
    full = from_dense(np.ones((30, 12), np.int64), 4)
    active = spikes.sum(1)
    np.testing.assert_array_equal(event_cycles(full, spikes), 1 + active * (2 + 12))
    assert memory_bits(full) == 30 * 2 * 9 + 360 * (4 + 4)


def test_quantisation_rule():
    q, frac = quantize_weights([0.1, -0.35, 0.2], 8)
    assert frac == 8 and q.tolist() == [26, -90, 51]         # 0.35 * 2**9 = 179 > 127
    q, frac = quantize_weights([[3.0, -1.0]], 4)
    assert frac == 1 and q.tolist() == [[6, -2]]
    assert quantize_weights([0.0, 0.0], 8)[1] == 7
    with pytest.raises(ParameterError, match="weight"):
        quantize_weights([1e6], 4)


@pytest.mark.parametrize("kwargs, name", [
    (dict(n_pre=0), "n_pre"), (dict(n_post=5000), "n_post"), (dict(weight_width=1), "weight_width"),
    (dict(pre_ptr=(0, 2, 1, 2)), "pre_ptr"), (dict(post=(0, 5)), "post"),
    (dict(pre_ptr=(0, 2, 2, 2), post=(1, 1)), "post"), (dict(weight=(200, 1)), "weight")])
def test_bad_parameters(kwargs, name):
    base = dict(n_pre=3, n_post=4, pre_ptr=(0, 1, 1, 2), post=(1, 2), weight=(3, -4),
                weight_width=8)
    with pytest.raises(ParameterError, match=name):
        EventParams(**{**base, **kwargs})


def test_bad_spikes_and_conn_num():
    p = from_dense(np.eye(3, dtype=np.int64))
    for bad in (np.array([0, 2, 1]), np.array([0.5, 0, 1]), np.zeros(4)):
        with pytest.raises(ParameterError, match="spikes"):
            event_apply(p, bad)
    with pytest.raises(ParameterError, match="conn_num"):
        connectivity(10, 4, 1.5, 0, "prob")
    with pytest.raises(ParameterError, match="conn_num"):
        connectivity(10, 4, 11, 0, "num")


# --- the brainstate-named layers (the seed's example, NumPy arrays) -----------------------

def test_seed_example_runs_as_written():
    rng = np.random.default_rng(0)
    n_pre, n_post = 200, 100
    spikes = (rng.random(n_pre) < 0.1).astype(float)
    weight = rng.standard_normal((n_pre, n_post)) * 0.1
    event_linear = ExportedEventLinear(n_pre, n_post, weight=weight)
    event_out = event_linear(spikes)
    assert event_out.shape == (100,)
    assert np.allclose(event_out, spikes @ weight, atol=1e-5)
    np.testing.assert_array_equal(event_linear(spikes.astype(bool)), event_out)
    np.testing.assert_array_equal(event_out, spikes @ event_linear.weight)   # exact, quantised
    sparse_syn = EventFixedProb(n_pre, n_post, conn_num=0.2, conn_weight=0.5)
    assert sparse_syn(spikes).shape == (100,)
    assert abs(sparse_syn.n_synapses - 4000) < 300
    fixed_syn = FixedNumConn(n_pre, n_post, conn_num=10, conn_weight=0.5)
    assert fixed_syn(spikes).shape == (100,) and fixed_syn.n_synapses == 1000
    event_fixed = EventFixedNumConn(n_pre, n_post, conn_num=10, conn_weight=0.5)
    np.testing.assert_array_equal(event_fixed(spikes), fixed_syn(spikes))
    x = rng.random((3, n_pre))                                   # real inputs: sparse product
    np.testing.assert_allclose(fixed_syn(x), x @ fixed_syn.weight, rtol=1e-12)
    with pytest.raises(ParameterError, match="spikes"):
        event_fixed(x)
    # Per-synapse weights from a callable; the memory counts synapses, not n_pre * n_post.
    per = EventFixedProb(n_pre, n_post, 0.05, lambda n: np.linspace(-1, 1, n), seed=3)
    assert len(set(per.params.weight)) > 100
    assert per.memory_bits < 0.2 * n_pre * n_post * 24


# --- RTL: every output in every cycle against the model -----------------------------------

def cosim_ok(params, cycles, seed, tmp_path, **kw):
    stim, expected = bench.make_case(params, cycles, np.random.default_rng(seed), **kw)
    result = cosim(to_verilog(EventSynapses(params), "event"), "event", stim, expected,
                   bench.SIGNED_PORTS, build_root=tmp_path)
    assert result.ok, f"{params.n_pre}x{params.n_post}: {result.describe('event')}"
    return stim, expected


def random_params(seed):
    rng = np.random.default_rng(900 + seed)
    n_pre, n_post = int(rng.integers(1, 24)), int(rng.integers(1, 12))
    if seed % 3 == 0:
        return random_layer(rng, n_pre, n_post, rng.random(), int(rng.integers(2, 12)))[1]
    rule, conn = ("prob", rng.random()) if seed % 3 == 1 else ("num", int(rng.integers(0, n_pre + 1)))
    pre, post = connectivity(n_pre, n_post, conn, seed, rule)
    return from_connections(n_pre, n_post, pre, post, rng.integers(-8, 8, len(pre)), 4)


@pytest.mark.parametrize("seed", range(6))
def test_engine_cosimulation(seed, tmp_path):
    p = random_params(seed)
    stim, expected = cosim_ok(p, 400, seed, tmp_path)
    assert expected["out_valid"].sum() >= 3            # several steps were published and checked


def test_burst_of_every_input_is_never_refused(tmp_path, rng):
    """Every input fires in every step, written back to back: aer_ready stays 1 and every
    sum is exact (the FIFO holds a whole step)."""
    w, p = random_layer(rng, 40, 6, 0.7, 8)
    spikes = np.ones((4, 40), np.uint8)
    stim, expected = cosim_ok(p, 1100, 1, tmp_path, p_on=1.0, spikes=spikes)
    assert stim["aer_valid"][:41].all()                 # 40 events + marker in 41 cycles
    assert expected["out_valid"].sum() == 4
    cost = expected["step_cycles"][expected["out_valid"] == 1]
    assert (cost == 1 + 40 * 2 + np.count_nonzero(w)).all()


def test_cli_runs_the_event_ops(tmp_path):
    run = [sys.executable, "-m", "scfpga"]
    out = subprocess.run([*run, "model", "event-fixed-prob", "--pre", "12", "--post", "3"],
                         capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0 and len(out.stdout.splitlines()) == 8
    bad = subprocess.run([*run, "model", "event-linear", "--post", "0"], capture_output=True,
                         text=True, cwd=tmp_path)
    assert bad.returncode == 2 and "--post" in bad.stderr and "Traceback" not in bad.stderr


def test_bench_notices_a_wrong_sum_or_a_wrong_cost(tmp_path, rng):
    _, p = random_layer(rng, 10, 4, 0.8, 6)
    stim, expected = bench.make_case(p, 300, np.random.default_rng(5))
    verilog = to_verilog(EventSynapses(p), "event")
    k = int(np.flatnonzero(expected["out_valid"])[2])
    for port in ("y1", "step_cycles"):
        wrong = {name: v.copy() for name, v in expected.items()}
        wrong[port][k] += 1
        result = cosim(verilog, "event", stim, wrong, bench.SIGNED_PORTS, build_root=tmp_path)
        assert not result.ok and result.cycle == k and result.port == port
