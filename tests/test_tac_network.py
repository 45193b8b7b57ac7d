"""TAC as a mode of the network: a TACConvLayer in the golden model (two rates, identities with
the exact conv layer), the spec, and the network hardware co-simulated spike by spike."""
import dataclasses
from pathlib import Path

import numpy as np
import pytest

from scfpga.hdl.network import schedule
from scfpga.model.conv import ConvLayer, PoolLayer
from scfpga.model.conv_tac import TACConvLayer, TACParams, network_chunk, tac_currents
from scfpga.model.netspec import load_network, network_from_spec, network_to_spec
from scfpga.model.network import DenseLayer, Network, NetworkParams
from scfpga.model.neuron import lif_neuron
from scfpga.model.params import ParameterError
from scfpga.sim.network import cosim_network
from scfpga.sim.network_hdl import cosim_network_hdl

W = 6


def tac_network(rng, tac, fold=2, length=None, neuron_width=20):
    """TAC conv 3x3 1->4 (bias, exact) -> avgpool 2 -> dense 3 on a 5x5 image."""
    conv = TACConvLayer(rng.integers(-40, 64, (4, 1, 3, 3)), (1, 5, 5),
                        list(rng.integers(-20, 40, 4)), 1, 1,
                        lif_neuron(width=neuron_width, threshold=int(0.8 * (1 << W) * tac.one),
                                   leak_shift=0),
                        fold=fold, accumulation="exact", temporal=tac)
    pool = PoolLayer("avg", conv.out_shape, 2, 2)
    dense = DenseLayer(rng.integers(-20, 64, (3, pool.n_neurons)),
                       neuron=lif_neuron(width=12, threshold=2))
    return NetworkParams(25, (conv, pool, dense), W, length or 8 * tac.chunk,
                         input_shape=(1, 5, 5))


def plain(layer):
    """The same conv layer without TAC (exact accumulation)."""
    fields = {f.name: getattr(layer, f.name) for f in dataclasses.fields(ConvLayer)}
    return ConvLayer(**fields)


def test_k1_network_is_the_exact_conv_network():
    rng = np.random.default_rng(0)
    p = tac_network(rng, TACParams(1))
    q = dataclasses.replace(p, layers=(plain(p.layers[0]),) + p.layers[1:])
    x = Network(p).thresholds(rng.random((4, 25)))
    a, b = Network(p).evaluate_thresholds(x), Network(q).evaluate_thresholds(x)
    for l in range(3):
        np.testing.assert_array_equal(a.spikes[l], b.spikes[l])
        np.testing.assert_array_equal(a.scores[l], b.scores[l])
    assert a.spikes[1].any() and a.spikes[2].any()


@pytest.mark.parametrize("k", [2, 4])
def test_later_layers_run_on_chunk_steps_fed_by_the_summed_conv_currents(k):
    """Without leak a chunk's current is the sum of the exact conv layer's over its cycles;
    every layer from the TAC layer on has T / K steps, and the layers after it are the same
    layers run on the TAC layer's spikes as their input."""
    rng = np.random.default_rng(k)
    p = tac_network(rng, TACParams(k))
    T = p.length
    x = Network(p).thresholds(rng.random((3, 25)))
    run = Network(p).evaluate_thresholds(x)
    assert [s.shape[2] for s in run.spikes] == [T // k] * 3 and run.inputs.shape[2] == T
    exact = Network(dataclasses.replace(p, layers=(plain(p.layers[0]),) + p.layers[1:]))
    per_cycle = exact.evaluate_thresholds(x).currents[0]
    np.testing.assert_array_equal(run.currents[0],
                                  per_cycle.reshape(3, -1, T // k, k).sum(-1))
    np.testing.assert_array_equal(run.currents[0],
                                  tac_currents(p.layers[0], p.layers[0].temporal, run.inputs))
    rest = NetworkParams(p.layers[0].n_neurons, p.layers[1:], W, T, input_shape=(4, 5, 5))
    after = Network(rest).evaluate_bits(run.spikes[0])
    # the same layers, but layer indices (and so weight streams) shift by one: compare pools
    np.testing.assert_array_equal(after.spikes[0], run.spikes[1])


def test_spec_roundtrip_and_errors():
    rng = np.random.default_rng(1)
    p = tac_network(rng, TACParams(4, 2, 3))
    assert network_from_spec(network_to_spec(p)) == p
    assert network_chunk(p) == (0, 4)
    spec = network_to_spec(p)
    spec["layers"][0]["accumulation"] = "sc"
    with pytest.raises(ParameterError, match="accumulation must be 'exact'"):
        network_from_spec(spec)
    spec["layers"][0].update(accumulation="exact", temporal={"chunk": 0})
    with pytest.raises(ParameterError, match="chunk must be"):
        network_from_spec(spec)
    with pytest.raises(ParameterError, match="lanes = 1"):
        schedule(dataclasses.replace(p, layers=(dataclasses.replace(p.layers[0], lanes=2),)
                                     + p.layers[1:]))
    with pytest.raises(ParameterError, match="chunk that divides length"):
        schedule(dataclasses.replace(p, length=30))


def test_the_schedule_shortens_the_cycles_inside_a_chunk():
    rng = np.random.default_rng(2)
    p1, p4 = tac_network(rng, TACParams(1), length=32), tac_network(rng, TACParams(4), length=32)
    s1, s4 = schedule(p1), schedule(p4)
    assert s4.short_clocks == p4.n_inputs + 2 < s4.cycle_clocks
    assert s4.run_clocks == 8 * s4.cycle_clocks + 24 * s4.short_clocks
    assert s4.run_clocks < s1.run_clocks / 2


@pytest.mark.parametrize("k, s, f", [(4, 0, 0), (2, 2, 3)])
def test_tac_network_hardware_is_spike_exact(k, s, f, tmp_path):
    """Every spike of every layer in every SC cycle (chunk-rate layers hold a chunk's spikes
    for its K cycles), then counts and scores: the generated testbench, and the cocotb bench."""
    rng = np.random.default_rng(10 + k)
    p = tac_network(rng, TACParams(k, s, f), fold=2 if k == 4 else 1)
    x = Network(p).thresholds(rng.random((3, 25)))
    run = Network(p).evaluate_thresholds(x)
    assert all(spk.any() for spk in run.spikes)
    result = cosim_network_hdl(p, x, build_root=tmp_path)
    assert result.ok, result.describe()
    if k == 4:
        result = cosim_network(p, x[:1], build_root=tmp_path, vcd=False)
        assert result.ok, result.describe()


def test_the_example_spec_is_a_tac_network_that_spikes_in_every_layer():
    p = load_network(Path(__file__).parent.parent / "examples" / "network" / "tac_conv.toml")
    assert network_chunk(p) == (0, 4) and schedule(p).short_clocks == 66
    run = Network(p).evaluate(np.random.default_rng(0).random((4, 64)))
    assert [s.shape[2] for s in run.spikes] == [16] * 3
    assert all(0.05 < s.mean() < 0.95 for s in run.spikes)
