"""Spiking graph networks: the fixed-point graph convolution against independent oracles,
the seeded encoding, the reference's example, and the RTL core spike for spike."""
import numpy as np
import pytest

from scfpga.hdl.graph import GraphConvCore
from scfpga.hdl.verilog import to_verilog
from scfpga.layers import SpikeGNNLayer, SpikeGraphConv
from scfpga.model import ParameterError
from scfpga.model.event import event_apply
from scfpga.model.graph import (encode, graph_conv_params, graph_conv_run, leak_shift_of,
                                lif_step)
from scfpga.model.params import signed_range
from scfpga.sim import cosim
from scfpga.sim import graph as bench


def random_graph(rng, n, p=0.4):
    a = (rng.random((n, n)) < p).astype(np.int64)
    return a


def test_aggregation_is_the_degree_normalised_neighbour_sum(rng):
    n, fi, fo = 7, 3, 2
    a = random_graph(rng, n)
    a[3] = 0                                                     # a node without neighbours
    w = rng.standard_normal((fo, fi))
    p, frac = graph_conv_params(w, a, threshold=0.5, weight_bits=10)
    spikes = (rng.random((6, n * fi)) < 0.5).astype(np.uint8)
    current = event_apply(p.events, spikes).reshape(6, n, fo)
    deg = np.maximum(1, a.sum(1))
    # Oracle: the per-synapse rounding rule written out with einsum over the dense graph.
    q = np.floor(w.T[None] / deg[:, None, None] * 2.0 ** frac + 0.5).astype(np.int64)  # v,f,o
    s = spikes.reshape(6, n, fi)
    np.testing.assert_array_equal(current, np.einsum("vu,tuf,vfo->tvo", a, s, q))
    assert (current[:, 3] == 0).all()
    # ... and within half a unit per active synapse of the real mean aggregation.
    real = np.einsum("vu,tuf,of->tvo", a, s, w) / deg[None, :, None] * 2.0 ** frac
    active = np.einsum("vu,tuf->tv", a, s)[..., None]
    assert (np.abs(current - real) <= 0.5 * active + 1e-9).all()


def test_neurons_follow_the_literal_update(rng):
    a = random_graph(rng, 5, 0.6)
    p, _ = graph_conv_params(rng.standard_normal((3, 2)) * 3, a, threshold=0.4, tau_mem=6.0)
    assert p.leak_shift == 3
    spikes = (rng.random((40, 10)) < 0.6).astype(np.uint8)
    out = graph_conv_run(p, spikes)
    current = event_apply(p.events, spikes)
    lo, hi = signed_range(p.state_width)
    v = [0] * 15
    for t in range(40):                                          # literal per-neuron loop
        for j in range(15):
            u = min(hi, max(lo, v[j] - (v[j] >> 3) + int(current[t, j])))
            fired = u >= p.threshold
            assert out[t, j] == fired
            v[j] = u - p.threshold if fired else u
    assert 0 < out.mean() < 1
    # Saturation: a huge current clips at the state's range instead of wrapping.
    state, fired = lif_step(p, np.array([hi - 1]), np.array([hi]))
    assert fired[0] == 1 and state[0] == hi - p.threshold


def test_encoding_is_seeded_and_rate_coded():
    x = np.array([[0.0, 0.25, 0.5], [0.75, 1.0, 0.1]])
    s = encode(x, 4000, seed=3)
    np.testing.assert_array_equal(s, encode(x, 4000, seed=3))
    assert not np.array_equal(s, encode(x, 4000, seed=4))
    rate = s.mean(0)
    assert rate[0] == 0 and rate[4] == 1
    assert np.allclose(rate, x.ravel(), atol=0.03)


def test_reference_example_runs_as_written():
    rng = np.random.default_rng(1)
    adj = (rng.random((20, 20)) > 0.7).astype(float)
    np.fill_diagonal(adj, 0)
    features = rng.random((20, 16))
    gnn = SpikeGNNLayer([16, 8, 3], T=8)
    node_out = gnn.forward(features, adj)
    assert node_out.shape == (20, 3) and 0 <= node_out.min() and node_out.max() <= 1
    assert gnn.graph_classify(features, adj) in range(3) and gnn.n_layers == 2
    np.testing.assert_array_equal(node_out, gnn.forward(features, adj))    # reproducible
    busy = SpikeGNNLayer([16, 8, 3], T=16, threshold=0.1)
    counts = busy.counts(features, adj)
    assert counts.sum() > 0 and counts.dtype.kind == "i"
    conv = SpikeGraphConv(16, 4, threshold=0.2, tau_mem=None, seed=5)
    assert conv.forward(features, adj, T=8).shape == (20, 4)


@pytest.mark.parametrize("call, name", [
    (lambda: graph_conv_params(np.ones((2, 2)), np.full((3, 3), 0.5)), "adjacency"),
    (lambda: graph_conv_params(np.ones((2, 2)), np.ones((3, 2))), "adjacency"),
    (lambda: leak_shift_of(-1.0), "tau_mem"),
    (lambda: graph_conv_params(np.ones((2, 2)), np.eye(3), threshold=0), "threshold"),
    (lambda: encode(np.ones((2, 2)), 0, 1), "T"),
    (lambda: SpikeGraphConv(3, 2).forward(np.ones((4, 2)), np.eye(4)), "node_features")])
def test_bad_input(call, name):
    with pytest.raises(ParameterError, match=name):
        call()


# --- RTL ---------------------------------------------------------------------------------

def cosim_ok(p, cycles, seed, tmp_path, **kw):
    stim, expected = bench.make_case(p, cycles, np.random.default_rng(seed), **kw)
    result = cosim(to_verilog(GraphConvCore(p), "graphconv"), "graphconv", stim, expected, (),
                   build_root=tmp_path)
    assert result.ok, result.describe("graphconv")
    return expected


@pytest.mark.parametrize("seed", range(3))
def test_graph_conv_cosimulation(seed, tmp_path):
    rng = np.random.default_rng(700 + seed)
    n, fi, fo = int(rng.integers(2, 8)), int(rng.integers(1, 4)), int(rng.integers(1, 6))
    p, _ = graph_conv_params(rng.standard_normal((fo, fi)), random_graph(rng, n),
                             threshold=float(rng.uniform(0.05, 0.5)),
                             tau_mem=[None, 2.0, 8.0][seed], weight_bits=int(rng.integers(3, 9)))
    expected = cosim_ok(p, 700, seed, tmp_path)
    valid = expected["spike_valid"] == 1
    assert valid.sum() >= 4
    words = np.stack([expected[k][valid] for k in expected if k.startswith("spikes")], 1)
    assert len({tuple(w) for w in words}) >= 3          # the spike patterns change between steps


def test_two_layers_chain_spike_for_spike(tmp_path, rng):
    """Layer 2 in RTL fed with the address events of layer 1's model spikes, which layer 1's
    RTL reproduces: the stack is bit-exact layer by layer (40 output neurons: two words)."""
    a = random_graph(rng, 8, 0.5)
    gnn = SpikeGNNLayer([3, 5, 5], T=10, threshold=0.15, tau_mem=None)
    x = rng.random((8, 3))
    spikes = gnn.run(x, a)
    for conv, s_in, s_out in zip(gnn.convs, spikes, spikes[1:]):
        p, _ = conv.params(a)
        np.testing.assert_array_equal(graph_conv_run(p, s_in), s_out)
        expected = cosim_ok(p, None, 3, tmp_path, spikes=s_in)
        assert expected["spike_valid"].sum() == 10
    assert 0 < spikes[-1].mean() < 1
