"""Conv networks proven in the generated Verilog testbench (:mod:`scfpga.sim.network_hdl`):
every spike compared in HDL, and a wrong expectation caught where it is."""
import numpy as np
import pytest

from scfpga.model.network import Network
from scfpga.sim import network_hdl
from scfpga.sim.network_hdl import cosim_network_hdl, vector_lines
from test_network_conv import random_conv_network


def test_vector_lines_put_column_zero_in_the_lowest_bit():
    rng = np.random.default_rng(0)
    bits = rng.integers(0, 2, (7, 70))
    lines = vector_lines(bits).decode().split()
    assert [int(x, 16) for x in lines] == [sum(int(b) << i for i, b in enumerate(row))
                                           for row in bits]
    assert {len(x) for x in lines} == {18}


@pytest.mark.parametrize("seed", [20, 21])
def test_random_conv_networks_are_spike_exact_in_chunks(seed, tmp_path):
    rng = np.random.default_rng(seed)
    params = random_conv_network(rng)
    x = Network(params).thresholds(rng.random((5, params.n_inputs)))
    seen = []
    result = cosim_network_hdl(params, x, build_root=tmp_path, chunk=2,
                               progress=lambda lo, hi, r: seen.append((lo, hi, r.ok)))
    assert result.ok and result.samples == 5, result.describe()
    assert sorted(seen) == [(0, 2, True), (2, 4, True), (4, 5, True)]


@pytest.mark.parametrize("what", ["spike", "count"])
def test_a_wrong_expectation_is_reported_where_it_is(what, tmp_path, monkeypatch):
    rng = np.random.default_rng(22)
    params = random_conv_network(rng)
    x = Network(params).thresholds(rng.random((3, params.n_inputs)))
    honest = network_hdl.bench_arrays

    def corrupted(*args, **kw):
        arrays = honest(*args, **kw)
        if what == "spike":                 # sample 2, layer 1 (0-based), neuron 2, cycle 4
            arrays["spikes1"][2, 2, 4] ^= 1
        else:
            arrays["counts"][2, 1] += 1
        return arrays

    monkeypatch.setattr(network_hdl, "bench_arrays", corrupted)
    result = cosim_network_hdl(params, x, build_root=tmp_path, chunk=2, workers=2)
    assert not result.ok and result.samples == 3
    assert result.sample == 2 and result.what == what, result.describe()
    if what == "spike":
        want = honest(params, x)["spikes1"][2, 2, 4]
        assert (result.layer, result.neuron, result.cycle) == (1, 2, 4)
        assert (result.expected, result.actual) == (1 - want, want)
    else:
        want = honest(params, x)["counts"][2, 1]
        assert (result.layer, result.neuron) == (len(params.layers) - 1, 1)
        assert (result.expected, result.actual) == (want + 1, want)
