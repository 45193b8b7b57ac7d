"""Run-time weights (block RAM, SPRAM) and spike-raster input of network designs (issue #13).

The co-simulations load weights, run, reload other weights, run again, and compare every spike
of every layer in every cycle with the golden model of the network in effect.
"""
import dataclasses

import numpy as np
import pytest

from scfpga.hdl.network import load_map
from scfpga.hdl.network_loads import (RASTER_BITS, check_same_shape, input_writes,
                                      weight_slots, weight_writes)
from scfpga.model.lif import LIFParams
from scfpga.model.network import Network
from scfpga.model.params import ParameterError
from scfpga.sim.network import cosim_network

from test_network import random_network
from test_network_conv import random_conv_network


def other_weights(params, rng):
    """The same shape with fresh random weights and biases, and LIF thresholds."""
    top = 1 << params.width
    layers = []
    for layer in params.layers:
        if not hasattr(layer, "weights"):
            layers.append(layer)
            continue
        w = rng.integers(-top, top + 1, np.shape(layer.weights))
        b = None if layer.bias is None else rng.integers(-top, top + 1, len(layer.bias))
        neuron = layer.neuron
        if isinstance(neuron, LIFParams):
            neuron = dataclasses.replace(neuron, threshold=int(rng.integers(
                1, min(5, 1 << (neuron.width - 1)))))
        layers.append(dataclasses.replace(layer, weights=w, bias=b, neuron=neuron))
    return dataclasses.replace(params, layers=tuple(layers))


def inputs_for(params, rng, samples):
    if params.encoding == "raster":
        return (rng.random((samples, params.n_inputs, params.length)) < 0.4).astype(np.int64)
    return Network(params).thresholds(rng.random((samples, params.n_inputs)))


def run_of(params, x):
    model = Network(params)
    return model.evaluate_bits(x) if params.encoding == "raster" else model.evaluate_thresholds(x)


@pytest.mark.parametrize("seed,memory,encoding", [(1, "ram", "rate"), (2, "spram", "rate"),
                                                  (3, "spram", "raster"), (4, "ram", "raster")])
def test_load_run_reload_run_is_spike_exact(seed, memory, encoding, tmp_path_factory):
    rng = np.random.default_rng(seed)
    base = random_network(rng, layers=2)
    for layer in base.layers:            # raster rows must lie in one 16-bit word
        assert layer.lanes <= RASTER_BITS
    params = dataclasses.replace(base, weight_memory=memory, encoding=encoding)
    other = other_weights(params, rng)
    x = inputs_for(params, rng, 3)
    # The reload must matter: the two networks' spikes differ on these inputs.
    a, b = run_of(params, x[1:2]), run_of(other, x[1:2])
    assert any((sa != sb).any() for sa, sb in zip(a.spikes, b.spikes))
    result = cosim_network(params, x, build_root=tmp_path_factory.getbasetemp() / f"rt{seed}",
                           reloads={1: other, 2: params})
    assert result.ok, result.describe()


def test_a_reload_the_hardware_missed_is_caught(tmp_path, monkeypatch):
    """The bench expects the reloaded network; writes that never happen must fail the proof."""
    import scfpga.sim.network as sn
    rng = np.random.default_rng(7)
    params = dataclasses.replace(random_network(rng, layers=2), weight_memory="ram")
    other = other_weights(params, rng)
    x = inputs_for(params, rng, 2)
    real = sn.weight_writes
    monkeypatch.setattr(sn, "weight_writes", lambda lmap, p=None: tuple(
        v[:0] for v in real(lmap, p)))
    result = sn.cosim_network(params, x, build_root=tmp_path, reloads={1: other}, vcd=False)
    assert not result.ok and result.sample == 1


def test_raster_into_a_conv_network_is_spike_exact(tmp_path):
    rng = np.random.default_rng(11)
    params = dataclasses.replace(random_conv_network(rng, length=12), encoding="raster")
    if params.layers[0].lanes > RASTER_BITS:
        params = dataclasses.replace(params, layers=(dataclasses.replace(
            params.layers[0], lanes=RASTER_BITS),) + params.layers[1:])
    result = cosim_network(params, inputs_for(params, rng, 2), build_root=tmp_path)
    assert result.ok, result.describe()


# ---------------------------------------------------------------------------- the load map

def test_raster_words_decode_back_to_the_raster():
    rng = np.random.default_rng(3)
    params = dataclasses.replace(random_network(rng, layers=1, max_size=40), encoding="raster")
    lmap = load_map(params)
    raster = (rng.random((params.n_inputs, params.length)) < 0.5).astype(np.int64)
    words = input_writes(lmap, raster)
    assert len(words) == lmap.input_words <= lmap.inputs.size
    per = len(words) // params.length
    bits = (words.reshape(params.length, per)[:, :, None] >> np.arange(RASTER_BITS)) & 1
    assert (bits.reshape(params.length, -1)[:, :params.n_inputs].T == raster).all()
    assert not bits.reshape(params.length, -1)[:, params.n_inputs:].any()
    with pytest.raises(ParameterError, match="raster must be 0/1"):
        input_writes(lmap, raster * 2)


@pytest.mark.parametrize("seed", range(4))
def test_weight_writes_place_every_weight_once_inside_its_region(seed):
    rng = np.random.default_rng(seed)
    params = dataclasses.replace(random_network(rng), weight_memory="spram")
    lmap = load_map(params)
    addrs, words = weight_writes(lmap)
    assert len(np.unique(addrs)) == len(addrs)
    assert addrs.min() >= lmap.inputs.size and addrs.max() < lmap.space
    regions = sorted(lmap.weights.values(), key=lambda r: r.base)
    for r, s in zip(regions, regions[1:]):
        assert r.base + r.size <= s.base
    for l, layer in enumerate(params.layers):        # every weight lands in some slot, once
        slots = weight_slots(layer, lmap.layouts[l])
        q = np.asarray(layer.kernel_terms)
        assert sorted(slots[slots != 0].tolist()) == sorted(q[q != 0].tolist())
    mags = words & ((1 << (params.width + 1)) - 1)
    assert mags.max() <= 1 << params.width


def test_lif_thresholds_load_with_the_weights_and_clamp_like_the_register():
    from scfpga.hdl.network_loads import network_from_image
    rng = np.random.default_rng(2)
    params = dataclasses.replace(random_network(rng, layers=2), weight_memory="ram")
    lmap = load_map(params)
    assert set(lmap.thresholds) == {0, 1}
    other = other_weights(params, rng)
    image = np.zeros(lmap.space, np.int64)
    a, w = weight_writes(lmap, other)
    image[a] = w
    assert network_from_image(lmap, image) == other
    neuron = params.layers[0].neuron
    for word, want in ((0, 1), (1 << 16 - 1, (1 << (neuron.width - 1)) - 1)):
        image[lmap.thresholds[0].base] = word
        assert network_from_image(lmap, image).layers[0].neuron.threshold == want


def test_only_weights_and_biases_load_at_run_time():
    rng = np.random.default_rng(0)
    params = dataclasses.replace(random_network(rng, layers=2), weight_memory="ram")
    lmap = load_map(params)
    with pytest.raises(ParameterError, match="differs from the design in length"):
        weight_writes(lmap, dataclasses.replace(params, length=params.length + 1))
    layer = dataclasses.replace(params.layers[0], fold=1 if params.layers[0].fold > 1 else 2) \
        if params.layers[0].n_neurons > 1 else dataclasses.replace(params.layers[0], lanes=2)
    with pytest.raises(ParameterError, match="layer 1 differs"):
        check_same_shape(params, dataclasses.replace(params, layers=(layer,) + params.layers[1:]))
    rom = dataclasses.replace(params, weight_memory="rom")
    with pytest.raises(ParameterError, match="weight_memory must be 'ram' or 'spram'"):
        weight_writes(load_map(rom))


# ---------------------------------------------------------------------------- the board design

RUNTIME_SPEC = {"inputs": 20, "length": 16, "width": 6, "source": "sobol", "seed": 2,
                "encoding": "raster", "weight_memory": "spram",
                "layers": [{"neurons": 6, "fold": 2, "bias": [0.5, -0.25, 0.125, 0.0, 1.0, 0.3]},
                           {"neurons": 3, "neuron": {"type": "lif", "threshold": 2,
                                                     "leak_shift": 3}}]}


@pytest.fixture(scope="module")
def runtime_design():
    from scfpga.boards.network_design import NetworkDesign
    from scfpga.model.netspec import network_from_spec
    return NetworkDesign(network_from_spec(RUNTIME_SPEC))


def test_a_raster_design_returns_counts_scores_and_every_cycles_output_spikes(runtime_design):
    d = runtime_design
    rng = np.random.default_rng(4)
    x = (rng.random((3, d.params.length, d.params.n_inputs)) < 0.5).astype(np.int64)
    loads = d.loads_from_x(x)
    assert loads.shape == (3, d.sample_loads) and d.n_loads == d.load_map.space
    got = d.expected_results(loads)
    run = Network(d.params).evaluate_bits(x.transpose(0, 2, 1))
    n = d.n_outputs
    np.testing.assert_array_equal(got[:, :n], run.counts[-1])
    np.testing.assert_array_equal(got[:, n:2 * n], run.scores[-1])
    words = got[:, 2 * n:].reshape(3, d.params.length, d.spike_words)
    spikes = (words[:, :, :1] >> np.arange(n)) & 1                 # (batch, T, n)
    np.testing.assert_array_equal(spikes.transpose(0, 2, 1), run.spikes[-1])


def test_one_bitstream_for_every_weight_set_of_a_shape(runtime_design):
    rng = np.random.default_rng(5)
    other = runtime_design.with_weights(other_weights(runtime_design.params, rng))
    assert other.design_id == runtime_design.design_id and other.params != runtime_design.params
    rom = dataclasses.replace(runtime_design, params=dataclasses.replace(
        runtime_design.params, weight_memory="rom"), spec=None)
    with pytest.raises(ParameterError, match="weight_memory must be 'ram' or 'spram'"):
        rom.weight_loads()


def test_runnable_design_reloads_weights_between_runs(runtime_design, tmp_path):
    """Each run writes a whole load image (weights and raster): run by run, two weight sets
    alternate, and every count, score and output spike word matches the model."""
    from amaranth.back import verilog
    from scfpga.sim.runs import cosim_runs
    d = runtime_design
    rng = np.random.default_rng(6)
    images = []
    for i in range(4):
        net = d.params if i % 2 == 0 else other_weights(d.params, rng)
        image = np.zeros(d.n_loads, np.int64)
        a, w = d.weight_loads(net)
        image[a] = w
        x = (rng.random((d.params.length, d.params.n_inputs)) < 0.4).astype(np.int64)
        image[:d.sample_loads] = d.loads_from_x(x)[0]
        images.append(image)
    images = np.array(images)
    want = d.expected_results(images)
    assert len({tuple(r) for r in want}) == 4
    text = verilog.convert(d.component(), name="rt_runner", emit_src=False)
    result = cosim_runs(text, "rt_runner", images, want, latency=2, signed=d.result_signed,
                        build_root=tmp_path)
    assert result.ok, result.describe("network", d.result_names)


# ---------------------------------------------------------------------------- host and CLI

def test_network_board_loads_new_weights_and_checks_runs_on_the_software_board(runtime_design):
    from scfpga.boards.network_host import NetworkBoard
    d = runtime_design
    rng = np.random.default_rng(8)
    other = other_weights(d.params, rng)
    x = (rng.random((3, d.params.length, d.params.n_inputs)) < 0.4).astype(np.int64)
    with NetworkBoard.open("sim", d) as board:
        first = board.load(d.params)           # SPRAM starts undefined: load before running
        assert first.synapses == sum(np.size(l.kernel_terms) for l in d.params.layers)
        a = board.run(x)
        report = board.load(other)
        from scfpga.boards.protocol import MAX_WRITE_WORDS
        runs = [lay.rows << (lay.slot_bits + lay.lane_bits)          # one run per layer
                for lay in d.load_map.layouts.values()]
        assert report.frames == sum(-(-n // MAX_WRITE_WORDS) for n in runs)
        b = board.run(x)
    want = Network(other).evaluate_bits(x.transpose(0, 2, 1))
    np.testing.assert_array_equal(b.spikes, want.spikes[-1])
    np.testing.assert_array_equal(b.scores, want.scores[-1])
    assert (a.raw != b.raw).any()


def test_scfpga_load_cli(runtime_design, tmp_path, capsys):
    import json
    from scfpga import cli
    d = runtime_design
    (tmp_path / "design.json").write_text(json.dumps(d.spec))
    rng = np.random.default_rng(9)
    np.save(tmp_path / "x.npy", (rng.random((2, d.params.length, d.params.n_inputs)) < 0.4)
            .astype(np.int64))
    np.savez(tmp_path / "w.npz", weights0=rng.uniform(-1, 1, (6, 20)),
             bias0=rng.uniform(-1, 1, 6), weights1=rng.uniform(-1, 1, (3, 6)))
    args = ["load", "--port", "sim", str(tmp_path / "design.json")]
    assert cli.main(args + [str(tmp_path / "w.npz"), "--x", str(tmp_path / "x.npy")]) == 0
    assert "2 samples bit-exact with the golden model of the loaded network" in \
        capsys.readouterr().out
    np.savez(tmp_path / "bad.npz", weights0=rng.uniform(-1, 1, (6, 20)), bias0=np.zeros(6))
    assert cli.main(args + [str(tmp_path / "bad.npz")]) == 2
    assert "weights1 is missing" in capsys.readouterr().err
    rom = dict(d.spec, weight_memory="rom")
    (tmp_path / "rom.json").write_text(json.dumps(rom))
    assert cli.main(["load", "--port", "sim", str(tmp_path / "rom.json"),
                     str(tmp_path / "w.npz")]) == 2
    assert "weight_memory must be 'ram' or 'spram'" in capsys.readouterr().err


def test_encoded_digits_as_a_raster_run_like_the_rate_design(tmp_path):
    """The rate design's own SNG bits of two digits, streamed in as a raster, give the same
    spikes in the model and, spike for spike, in the raster RTL."""
    import scfpga.digits as D
    from scfpga.model.network import quantize_network
    rng = np.random.default_rng(12)
    x = D.load_split().x_test[:2]
    rate, _ = quantize_network([rng.uniform(-1, 1, (12, 64)), rng.uniform(-1, 1, (10, 12))],
                               thresholds=2, fold=(3, 2), lanes=(4, 1), length=24)
    model = Network(rate)
    thresholds = model.thresholds(x)
    bits = model.input_bits(thresholds, rate.length).astype(np.int64)
    raster = dataclasses.replace(rate, encoding="raster")
    a, b = model.evaluate_thresholds(thresholds), Network(raster).evaluate_bits(bits)
    for sa, sb in zip(a.spikes, b.spikes):
        np.testing.assert_array_equal(sa, sb)
    assert a.counts[0].any()
    result = cosim_network(raster, bits, build_root=tmp_path)
    assert result.ok, result.describe()
