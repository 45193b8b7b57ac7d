"""Networks: golden model against independent references, stream allocation, specs, and the
RTL of seeded random networks co-simulated spike by spike (and once at gate level)."""
import numpy as np
import pytest

from scfpga.model.dense import DenseParams, SCDenseLayer
from scfpga.model.netspec import load_network, network_from_spec, network_to_spec
from scfpga.model.network import DenseLayer, Network, NetworkParams, quantize_network
from scfpga.model.neuron import lif_neuron
from scfpga.model.params import ParameterError
from scfpga.model.streams import network_plan, stream_plan, stream_values
from scfpga.sim.network import cosim_network


def random_network(rng, layers=None, max_size=9):
    """A seeded random network: 2-4 layers, mixed sizes, both sources, folds, lanes, neurons."""
    n_layers = layers or int(rng.integers(2, 5))
    sizes = [int(rng.integers(2, max_size + 1)) for _ in range(n_layers + 1)]
    width = int(rng.integers(3, 9))
    layers_ = []
    for l in range(n_layers):
        w = rng.uniform(-0.6, 1, (sizes[l + 1], sizes[l]))      # mostly excitatory: activity
        b = rng.uniform(-1, 1, sizes[l + 1]) if rng.random() < 0.5 else None
        neuron = lif_neuron(width=int(rng.integers(6, 17)), threshold=int(rng.integers(1, 3)),
                            leak_shift=int(rng.choice([0, 0, 3, 4])),
                            reset=str(rng.choice(["subtract", "zero"])),
                            refractory=int(rng.integers(0, 3)))
        q = np.round(w * (1 << width)).astype(int)
        qb = None if b is None else np.round(b * (1 << width)).astype(int)
        layers_.append(DenseLayer(q, qb, neuron, lanes=int(2 ** rng.integers(0, 3)),
                                  fold=int(rng.integers(1, sizes[l + 1] + 1))))
    source = str(rng.choice(["sobol", "lfsr"]))
    return NetworkParams(sizes[0], tuple(layers_), width, int(rng.integers(8, 40)), source,
                         int(rng.integers(0, 6)))


def reference_currents(layer, s, bits):
    """Per-cycle currents with plain integers, one synapse at a time (independent oracle)."""
    q = np.asarray(layer.weights)
    nb, n_in, T = bits.shape
    out = np.zeros((nb, layer.n_neurons, T), np.int64)
    for b in range(nb):
        for j in range(layer.n_neurons):
            for k in range(T):
                total = sum(int(np.sign(q[j, i])) * int(bits[b, i, k] and s[k] < abs(q[j, i]))
                            for i in range(n_in))
                if layer.bias is not None:
                    total += int(np.sign(layer.bias[j])) * int(s[k] < abs(layer.bias[j]))
                out[b, j, k] = total
    return out


# ---------------------------------------------------------------------------- golden model

@pytest.mark.parametrize("source", ["sobol", "lfsr"])
@pytest.mark.parametrize("bias", [False, True])
def test_one_layer_network_equals_dense_layer(source, bias):
    rng = np.random.default_rng(3)
    w, b = rng.uniform(-1, 1, (6, 20)), (rng.uniform(-1, 1, 6) if bias else None)
    dense = DenseParams.from_float(w, b, 7, length=150, source=source, seed=2)
    net = NetworkParams(20, (DenseLayer(dense.weights, dense.bias, dense.lif),), 7, 150,
                        source, 2)
    x = rng.random((5, 20))
    want, got = SCDenseLayer(dense).evaluate(x), Network(net).evaluate(x)
    np.testing.assert_array_equal(got.spikes[0], want.spikes)
    np.testing.assert_array_equal(got.currents[0], want.currents)
    np.testing.assert_array_equal(got.scores[0], want.scores)
    np.testing.assert_array_equal(got.counts[0], want.counts)


@pytest.mark.parametrize("seed", range(4))
def test_layer_currents_match_a_synapse_by_synapse_reference(seed):
    rng = np.random.default_rng(seed)
    params = random_network(rng, layers=2, max_size=6)
    model = Network(params)
    run = model.evaluate(rng.random((2, params.n_inputs)))
    s = model.streams(params.length)[1]
    x = run.inputs
    for l, layer in enumerate(params.layers):
        np.testing.assert_array_equal(run.currents[l], reference_currents(layer, s[l], x))
        x = run.spikes[l]


def test_spikes_reach_the_next_layer_one_cycle_later():
    """Layer l+1 sees layer l's spikes of the same cycle, which are caused by the current of the
    cycle before: with no bias, layer l's first l cycles carry no current at all."""
    rng = np.random.default_rng(7)
    q = [np.full((5, 4), 200), np.full((5, 5), 200), np.full((3, 5), 200)]
    params = NetworkParams(4, tuple(DenseLayer(w) for w in q), 8, 32)
    run = Network(params).evaluate(np.ones((1, 4)))
    for l in range(3):
        assert not run.currents[l][..., :l].any()
        assert run.currents[l][..., l].all()          # and then it does
        assert not run.spikes[l][..., :l + 1].any()
    del rng


def test_neurons_fire_at_about_the_rate_the_currents_say():
    rng = np.random.default_rng(1)
    w = rng.uniform(0, 0.3, (8, 16))
    params = NetworkParams(16, (DenseLayer(np.round(w * 256).astype(int),
                                           neuron=lif_neuron(threshold=2)),), 8, 1024)
    x = rng.random((4, 16))
    rate = Network(params).evaluate(x).counts[0] / 1024
    np.testing.assert_allclose(rate, np.clip(x @ w.T / 2, 0, 1), atol=0.02)


# ---------------------------------------------------------------------------- stream allocation

@pytest.mark.parametrize("source", ["sobol", "lfsr"])
def test_every_stream_of_a_network_has_its_own_source(source):
    for n_in, n_layers in [(3, 1), (16, 3), (64, 2), (40, 6)]:
        plan = network_plan(source, 8, n_in, n_layers, 1, 16, 256)
        sources = plan.inputs + plan.weights + plan.selects
        key = (lambda s: s.dim) if source == "sobol" else (lambda s: s.seed)
        assert len({key(s) for s in sources}) == n_in + 2 * n_layers
        if source == "lfsr":                  # distinct states are also far apart in phase
            values = stream_values(plan, sources, 64)
            assert len({v.tobytes() for v in values}) == len(sources)


def test_one_layer_plan_is_the_dense_plan():
    for source in ("sobol", "lfsr"):
        net = network_plan(source, 8, 12, 1, 3, 16, 256)
        dense = stream_plan(source, 8, 12, 3, 16, 256)
        assert (net.inputs, net.weights[0], net.selects[0]) == (dense.inputs, dense.weight,
                                                                 dense.select)


# ---------------------------------------------------------------------------- quantisation

def test_quantisation_scales_weights_and_threshold_together():
    rng = np.random.default_rng(0)
    w1, w2 = rng.normal(0, 2, (8, 10)), rng.normal(0, 0.3, (3, 8))
    params, report = quantize_network([w1, w2], thresholds=[8.0, 1.0], width=8)
    s = 1 / np.abs(w1).max()
    assert report[0].scale == pytest.approx(s) and report[1].scale == 1.0
    assert params.layers[0].neuron.threshold == max(1, round(8 * s))
    assert report[0].weight_max_error <= 0.5 / 256 + 1e-12
    np.testing.assert_allclose(np.array(params.layers[0].weights) / 256, w1 * s, atol=0.5 / 256)


# ---------------------------------------------------------------------------- specs

SPEC = """
inputs = 16
length = 256
source = "sobol"

[[layers]]
type = "dense"
neurons = 8
weights = "w1.npy"

[[layers]]
type = "dense"
neurons = 4
weights = "w2.npy"
"""


def test_the_issue_spec_works_as_written(tmp_path):
    rng = np.random.default_rng(0)
    np.save(tmp_path / "w1.npy", rng.uniform(-1, 1, (8, 16)))
    np.save(tmp_path / "w2.npy", rng.uniform(-1, 1, (4, 8)))
    (tmp_path / "net.toml").write_text(SPEC)
    params = load_network(tmp_path / "net.toml")
    assert params.sizes == (16, 8, 4) and params.length == 256
    assert network_from_spec(network_to_spec(params)) == params


@pytest.mark.parametrize("spec, message", [
    ({"inputs": 4, "layers": [{"neurons": 2, "colour": 1}]}, "layer 1: unknown key 'colour'"),
    ({"inputs": 4, "layers": [{"neurons": 2}, {"type": "conv", "neurons": 2}]},
     "layer 2: type must be one of dense"),
    ({"inputs": 4, "layers": [{"weights": [[0.5] * 3] * 2}]}, "layer 1: weights must have shape"),
    ({"inputs": 4, "layers": [{"weights": [[1.5] * 4] * 2}]}, "layer 1: weights must be reals in"),
    ({"inputs": 4, "layers": [{"neurons": 2, "bias": [0.1]}]}, "layer 1: bias must have one"),
    ({"inputs": 4, "layers": [{"neurons": 2, "neuron": {"type": "hh"}}]},
     "layer 1: neuron type must be one of"),
    ({"inputs": 4, "layers": [{"neurons": 2, "neuron": {"threshold": 0}}]},
     "layer 1: neuron: threshold must be in"),
    ({"inputs": 4, "layers": [{"neurons": 2, "lanes": 3}]}, "layer 1: lanes must be a power"),
    ({"inputs": 4, "layers": [{"neurons": 2, "fold": 3}]}, "layer 1: fold must be in 1..2"),
    ({"inputs": 4, "layers": []}, "layers must be a non-empty list"),
    ({"inputs": 4, "lenght": 9, "layers": [{"neurons": 2}]}, "unknown key 'lenght'"),
    ({"inputs": 4, "source": "xor", "layers": [{"neurons": 2}]}, "source must be one of"),
])
def test_spec_errors_name_the_layer_and_key(spec, message):
    with pytest.raises(ParameterError, match=message.replace("(", r"\(")):
        network_from_spec(spec)


def test_spec_file_errors(tmp_path):
    with pytest.raises(ParameterError, match="does not exist"):
        load_network(tmp_path / "missing.toml")
    (tmp_path / "bad.toml").write_text("inputs = [")
    with pytest.raises(ParameterError, match="not valid toml"):
        load_network(tmp_path / "bad.toml")
    (tmp_path / "net.toml").write_text('inputs = 3\n[[layers]]\nweights = "nope.npy"\n')
    with pytest.raises(ParameterError, match="net.toml: layer 1: weights must be a readable"):
        load_network(tmp_path / "net.toml")


# ---------------------------------------------------------------------------- RTL

@pytest.mark.parametrize("seed", range(20))
def test_random_network_rtl_is_spike_exact(seed, tmp_path_factory):
    rng = np.random.default_rng(1000 + seed)
    params = random_network(rng)
    p = Network(params).thresholds(rng.random((2, params.n_inputs)))
    result = cosim_network(params, p, build_root=tmp_path_factory.getbasetemp() / "netsim")
    assert result.ok, result.describe()
    assert result.samples == 2


def test_random_networks_cover_what_they_claim():
    nets = [random_network(np.random.default_rng(1000 + s)) for s in range(20)]
    assert {n.source for n in nets} == {"sobol", "lfsr"}
    assert {len(n.layers) for n in nets} == {2, 3, 4}
    assert any(l.fold > 1 for n in nets for l in n.layers)
    assert any(l.fold == 1 for n in nets for l in n.layers)
    assert any(l.lanes > 1 for n in nets for l in n.layers)
    # The proof means something only where spikes flow: nearly every layer fires.
    active = []
    for s, n in enumerate(nets):
        rng = np.random.default_rng(1000 + s)
        random_network(rng)
        run = Network(n).evaluate(rng.random((2, n.n_inputs)))
        active += [bool(spikes.any()) for spikes in run.spikes]
    assert np.mean(active) >= 0.9


def test_a_wrong_spike_is_caught_with_its_place_and_a_waveform(tmp_path, monkeypatch):
    import scfpga.sim.network as sn
    rng = np.random.default_rng(5)
    params = random_network(rng, layers=2)
    p = Network(params).thresholds(rng.random((2, params.n_inputs)))
    good = sn.bench_arrays

    def corrupted(params, thresholds, reloads=None):
        arrays = good(params, thresholds, reloads)
        arrays["spikes1"] = arrays["spikes1"].copy()
        arrays["spikes1"][1, 0, 5] ^= 1
        return arrays
    monkeypatch.setattr(sn, "bench_arrays", corrupted)
    result = sn.cosim_network(params, p, build_root=tmp_path)
    assert not result.ok
    assert (result.sample, result.layer, result.neuron, result.cycle) == (1, 1, 0, 5)
    assert "layer 2, neuron 0, SC cycle 5" in result.describe()
    assert result.vcd and "$enddefinitions" in open(result.vcd).read()


def test_gate_level_network_is_spike_exact(tmp_path):
    from scfpga.gatelevel import synthesise_netlist
    from scfpga.boards.toolchain import ICE40_SIM_DEFINES
    from scfpga.sim.network import TOP, network_verilog
    rng = np.random.default_rng(2024)
    params = random_network(rng, layers=2, max_size=6)
    netlist, cells = synthesise_netlist(network_verilog(params), TOP, tmp_path / "syn")
    p = Network(params).thresholds(rng.random((2, params.n_inputs)))
    result = cosim_network(params, p, build_root=tmp_path, verilog_text=netlist,
                           extra_sources=[cells], defines=ICE40_SIM_DEFINES)
    assert result.ok, result.describe()


def test_folded_layers_keep_state_per_neuron():
    """The hardware schedule: a folded layer has fewer accumulators and more passes."""
    from scfpga.hdl.network import schedule
    w = np.ones((12, 8), int)
    unfolded = schedule(NetworkParams(8, (DenseLayer(w),)))
    folded = schedule(NetworkParams(8, (DenseLayer(w, fold=4),)))
    assert (unfolded.layers[0].parallel, unfolded.layers[0].passes) == (12, 1)
    assert (folded.layers[0].parallel, folded.layers[0].passes) == (3, 4)
    assert folded.cycle_clocks > unfolded.cycle_clocks


def test_a_network_of_three_neuron_types_is_spike_exact(tmp_path):
    """Any registered neuron type goes into a layer: leaky (beta by multiply), synaptic and
    ALIF neurons in one network, named in a spec, proven spike by spike."""
    spec = {"inputs": 6, "length": 40, "width": 6, "source": "sobol", "seed": 1, "layers": [
        {"neurons": 5, "fold": 2, "neuron": {"type": "leaky", "beta": 0.9, "threshold": 2.0,
                                             "width": 12}},
        {"neurons": 4, "neuron": {"type": "synaptic", "alpha": 0.8, "beta": 0.9,
                                  "threshold": 1.5, "width": 12}},
        {"neurons": 3, "fold": 3, "neuron": {"type": "alif", "beta": 0.95, "threshold": 1.0,
                                             "width": 12}}]}
    params = network_from_spec(spec)
    assert [type(l.neuron).__name__ for l in params.layers] == \
        ["LeakyParams", "SynapticParams", "ALIFParams"]
    assert network_from_spec(network_to_spec(params)) == params
    rng = np.random.default_rng(9)
    x = rng.random((2, 6))
    run = Network(params).evaluate(x)
    assert all(s.any() for s in run.spikes)                # spikes flow through every layer
    result = cosim_network(params, Network(params).thresholds(x), build_root=tmp_path)
    assert result.ok, result.describe()


# ---------------------------------------------------------------------------- fitting a device

def test_resource_estimates_match_the_measured_builds():
    """The fit's estimates against the real UP5K builds of scripts/network_cost.py."""
    import json
    from pathlib import Path
    from scfpga.hdl.network_fit import estimate
    runs = json.loads((Path(__file__).parent.parent / "results" / "network_cost.json")
                      .read_text())["variants"]
    checked = 0
    for v in runs.values():
        if not v["fits"]:
            continue
        sizes, bias = v["sizes"], len(v["sizes"]) > 2
        layers = tuple(DenseLayer(np.ones((sizes[i + 1], sizes[i]), int),
                                  np.ones(sizes[i + 1], int) if bias else None,
                                  lif_neuron(16, 2), v["lanes"][i], v["fold"][i])
                       for i in range(len(sizes) - 1))
        est = estimate(NetworkParams(sizes[0], layers, 8, 256))
        assert abs(est["lc"] - v["logic_cells"]["used"]) <= 0.05 * v["logic_cells"]["used"]
        assert v["ebr"]["used"] <= est["ebr"] <= v["ebr"]["used"] + 1     # never optimistic
        checked += 1
    assert checked >= 10


def test_fit_layout_finds_the_fastest_layout_that_fits():
    from scfpga.hdl.network import schedule
    from scfpga.hdl.network_fit import estimate, fit_layout
    rng = np.random.default_rng(0)
    params, _ = quantize_network([rng.uniform(-1, 1, (32, 64)), rng.uniform(-1, 1, (10, 32))],
                                 biases=[rng.uniform(-1, 1, 32), rng.uniform(-1, 1, 10)])
    assert estimate(params)["ebr"] > 29                    # unfolded, it does not fit a UP5K
    fitted, est = fit_layout(params, "up5k")
    assert est["ebr"] <= 29 and est["lc"] <= 0.85 * (5280 - 760)
    assert [l.weights for l in fitted.layers] == [l.weights for l in params.layers]
    # Fastest: no layout with fewer clocks per cycle fits (spot-check every one-step change).
    from scfpga.hdl.network_fit import with_layout
    folds, lanes = [l.fold for l in fitted.layers], [l.lanes for l in fitted.layers]
    for i in range(2):
        for df, dl in ((-1, 0), (0, 2)):
            f, n = list(folds), list(lanes)
            f[i], n[i] = max(1, f[i] + df), n[i] * (dl or 1)
            other = with_layout(params, f, n)
            if schedule(other).cycle_clocks < schedule(fitted).cycle_clocks:
                e = estimate(other)
                assert e["ebr"] > 29 or e["lc"] > 0.85 * (5280 - 760)
    with pytest.raises(ParameterError, match="does not fit even fully folded: block RAM"):
        fit_layout(params, "hx1k")


def test_scfpga_layers_has_the_network_and_the_neuron_factory():
    import scfpga.layers as L
    neuron = L.create_neuron("leaky", beta=0.5, threshold=1.0)
    spk, state = neuron(np.full((2, 3), 3), neuron.init_state((2, 3)))
    assert spk.shape == (2, 3) and spk.all()
    with pytest.raises(ParameterError, match="neuron type must be one of leaky"):
        L.create_neuron("hodgkin")
    params, _ = L.quantize_network([np.full((2, 3), 0.5)], neuron=lambda t: L.create_neuron(
        "leaky", beta=0.9, threshold=float(t)).params)
    assert isinstance(params, L.NetworkParams)
    assert L.Network(params).counts(np.ones((1, 3))).shape == (1, 2)
