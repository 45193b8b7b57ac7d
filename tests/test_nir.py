"""NIR in and out: graphs built with the ``nir`` package directly (no torch)."""
import json

import nir
import numpy as np
import pytest

from scfpga import cli
from scfpga.model.network import DenseLayer, Network, NetworkParams
from scfpga.model.neuron_types import AlphaParams, LeakyParams
from scfpga.model.params import ParameterError
from scfpga.nir import fidelity, from_nir, predictions, reference_run, to_hwc, to_nir

DT = 1e-3


def _lif(n, tau=0.01, thr=1.0, r=None, **kw):
    full = lambda v: np.full(n, float(v))                  # noqa: E731
    tau = np.broadcast_to(np.asarray(tau, float), (n,)).copy()
    return nir.LIF(tau=tau, r=tau / DT if r is None else np.asarray(r, float),
                   v_leak=full(0), v_threshold=np.broadcast_to(np.asarray(thr, float), (n,)).copy(),
                   v_reset=full(0), **kw)


def _chain(*nodes, n_in, n_out=1):
    names = ["input"] + [f"n{i}" for i in range(len(nodes))] + ["output"]
    table = {"input": nir.Input(input_type=np.array([n_in])),
             **{f"n{i}": node for i, node in enumerate(nodes)},
             "output": nir.Output(output_type=np.array([n_out]))}
    return nir.NIRGraph(nodes=table, edges=list(zip(names[:-1], names[1:])), type_check=False)


def _mlp(rng, n_in=12, hidden=8, n_out=4, second="cuba"):
    """Affine -> LIF with per-neuron r and thresholds -> Affine -> CubaLIF -> Linear -> LI."""
    w1 = rng.normal(0, 0.6, (hidden, n_in))
    lif = _lif(hidden, r=rng.uniform(5, 15, hidden), thr=rng.uniform(0.5, 2, hidden))
    full = lambda n, v: np.full(n, float(v))                 # noqa: E731
    cuba = nir.CubaLIF(tau_syn=full(n_out, 2 * DT), tau_mem=full(n_out, 10 * DT),
                       r=full(n_out, 10), v_leak=full(n_out, 0), v_threshold=full(n_out, 1),
                       v_reset=full(n_out, 0), w_in=full(n_out, 2))
    li = nir.LI(tau=full(3, 5 * DT), r=full(3, 5), v_leak=full(3, 0))
    return _chain(nir.Affine(weight=w1, bias=rng.normal(0, 0.2, hidden)), lif,
                  nir.Affine(weight=rng.normal(0, 0.8, (n_out, hidden)), bias=np.zeros(n_out)),
                  cuba, nir.Linear(weight=rng.normal(0, 0.8, (3, n_out))), li, n_in=n_in)


def test_round_trip_gives_the_same_network(tmp_path):
    graph = _mlp(np.random.default_rng(1))
    net, report = from_nir(graph, dt=DT, report=True)
    assert [type(layer.neuron).__name__ for layer in net.layers] == \
        ["LeakyParams", "SynapticParams", "LIParams"]
    assert [r.types for r in report] == [("Affine", "LIF"), ("Affine", "CubaLIF"), ("Linear", "LI")]
    again = from_nir(to_nir(net, dt=DT), dt=DT)
    assert again == net
    path = tmp_path / "net.nir"
    nir.write(path, to_nir(net, dt=DT))
    assert from_nir(path, dt=DT) == net
    assert from_nir(nir.read(path), dt=DT) == net          # passes NIR's own type check
    # a different dt is a different network
    assert from_nir(graph, dt=DT / 2) != net


def test_folding_and_export_keep_the_float_semantics():
    """Per-neuron r and thresholds folded into the weights, the scale, the strict threshold and
    the export: at high precision the exported graph's reference spikes like the original's."""
    graph = _mlp(np.random.default_rng(2))
    net = from_nir(graph, dt=DT, width=16, state_width=24, clip=1.0)     # no weight saturated
    bits = (np.random.default_rng(3).random((4, 12, 200)) < 0.4).astype(np.uint8)
    a, b = reference_run(graph, bits, DT), reference_run(to_nir(net, dt=DT), bits, DT)
    assert np.mean(a["n1"] == b["lif1"]) > 0.995 and a["n1"].mean() > 0.05
    assert np.mean(a["n3"] == b["cuba2"]) > 0.99
    assert np.corrcoef(a["n5"].ravel(), b["li3"].ravel())[0, 1] > 0.999


def test_strict_threshold_and_reset_to_v_reset_are_exact():
    """IF with dt=1: v counts integer currents; NIR fires on v > 2 (not >= 2) and resets to
    v_reset. A weight of 1.0 is an SC current of exactly 1 every cycle, so scfpga must match
    the reference spike for spike, one cycle later."""
    graph = _chain(nir.Linear(weight=np.ones((1, 1))),
                   nir.IF(r=np.ones(1), v_threshold=np.full(1, 2.0), v_reset=np.full(1, 0.5)),
                   n_in=1)
    net, report = from_nir(graph, dt=1.0, report=True)
    bits = np.ones((1, 1, 40), np.uint8)
    rows, run, ref = fidelity(net, report, graph, bits, dt=1.0)
    # v: 1, 2 (not > 2), 3 fires -> 0.5, 1.5, 2.5 fires -> 0.5, ...
    assert list(np.flatnonzero(ref["n1"][0, 0])[:4]) == [2, 4, 6, 8]
    assert rows[0]["agreement"] == 1.0
    assert list(np.flatnonzero(run.spikes[0][0, 0])[:2]) == [3, 5]


def test_golden_model_tracks_the_nir_reference_on_rates():
    rng = np.random.default_rng(4)
    graph = _chain(nir.Affine(weight=rng.uniform(-0.3, 0.4, (10, 16)), bias=np.zeros(10)),
                   _lif(10), n_in=16)
    net, report = from_nir(graph, dt=DT, report=True)
    model = Network(net)
    bits = model.input_bits(model.thresholds(rng.random((6, 16))), 256)
    rows, run, ref = fidelity(net, report, graph, bits, dt=DT)
    # SC currents are noisy estimates of W x: spikes are correlated with the reference's
    # (independent trains of the same rates would agree on ~0.68), rates close
    assert rows[0]["agreement"] > 0.72
    assert rows[0]["rate_error"] < 0.08 and rows[0]["rate_ref"] > 0.3


def test_other_nodes_scale_flatten_threshold_li_readout():
    rng = np.random.default_rng(5)
    n = 6
    full = lambda v: np.full(n, float(v))                  # noqa: E731
    graph = _chain(nir.Flatten(input_type={"input": np.array([2, 4])}, start_dim=0),
                   nir.Scale(scale=rng.uniform(0.5, 2, 8)),
                   nir.Linear(weight=rng.uniform(-0.2, 0.5, (n, 8))),
                   nir.Threshold(threshold=full(0.3)),                   # stateless
                   nir.Affine(weight=rng.uniform(-0.5, 1, (n, n)), bias=full(0.1)),
                   nir.LI(tau=full(4 * DT), r=full(4), v_leak=full(0)),
                   nir.Threshold(threshold=full(1.0)),                   # LI + Threshold
                   nir.Affine(weight=rng.uniform(-1, 1, (2, n)), bias=np.zeros(2)),  # readout
                   n_in=8)
    net, report = from_nir(graph, dt=DT, width=12, report=True)
    assert [r.types for r in report] == [("Flatten", "Scale", "Linear", "Threshold"),
                                         ("Affine", "LI", "Threshold"), ("Affine",)]
    assert net.layers[1].neuron.reset_mechanism == "none"
    assert from_nir(to_nir(net, dt=DT), dt=DT, width=12) == net
    bits = (rng.random((3, 8, 120)) < 0.5).astype(np.uint8)
    rows, run, ref = fidelity(net, report, graph, bits, dt=DT)
    assert rows[0]["agreement"] > 0.6 and rows[1]["agreement"] > 0.6     # stateless: noisier
    assert rows[2]["kind"] == "membrane"
    hi = from_nir(graph, dt=DT, width=16, state_width=24, clip=1.0)   # semantics, high precision
    a, b = reference_run(graph, bits, DT), reference_run(to_nir(hi, dt=DT), bits, DT)
    assert np.mean(a["n3"] == b["thr1"]) > 0.99 and np.mean(a["n6"] == b["thr2"]) > 0.99
    assert np.corrcoef(a["n7"].ravel(), b["li3"].ravel())[0, 1] > 0.999
    # a readout straight on the inputs: its time-mean is the SC estimate of W x
    readout = _chain(nir.Affine(weight=rng.uniform(-1, 1, (2, 8)), bias=np.zeros(2)), n_in=8,
                     n_out=2)
    net, report = from_nir(readout, dt=DT, report=True)
    rows, run, ref = fidelity(net, report, readout, bits, dt=DT)
    assert rows[0]["mean_error"] < 0.05
    sc, rf = predictions(net, report, run, ref)
    assert sc.shape == rf.shape == (3,)


def test_scalar_and_zero_d_parameters():
    w = np.random.default_rng(6).uniform(0, 1, (5, 3))
    zero_d = nir.LIF(tau=np.array(0.01), r=np.array(10.0), v_leak=np.array(0.0),
                     v_threshold=np.array(1.0), v_reset=np.array(0.0))
    per = _lif(5)
    a = from_nir(_chain(nir.Affine(weight=w, bias=np.zeros(5)), zero_d, n_in=3, n_out=5), dt=DT)
    b = from_nir(_chain(nir.Affine(weight=w, bias=np.zeros(5)), per, n_in=3), dt=DT)
    assert a == b


@pytest.mark.parametrize("bad, message", [
    (lambda: nir.Conv2d(input_shape=(4, 4), weight=np.ones((1, 1, 2, 2)), stride=1, padding=0,
                        dilation=1, groups=1, bias=np.zeros(1)), "'n0' (Conv2d) needs a (C, H, W)"),
    (lambda: nir.SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]),
                           padding=np.array([0, 0])), "'n0' (SumPool2d) needs a (C, H, W)"),
    (lambda: nir.I(r=np.ones(3)), "node 'n0' has type I"),
    (lambda: _lif(3, tau=[0.01, 0.02, 0.01]), "'n0' (LIF): tau differs between neurons"),
    (lambda: _lif(3, tau=1e-4), "tau = 0.0001 is shorter than dt = 0.001"),
    (lambda: _lif(3, thr=[1, -1, 1]), "thresholds must be > 0"),
    (lambda: nir.LIF(tau=np.full(2, 0.01), r=np.ones(2), v_leak=np.zeros(2),
                     v_threshold=np.ones(2), v_reset=np.zeros(2)),
     "has shape (2,), expected a scalar or 3 values"),
])
def test_unsupported_nodes_and_parameters_are_errors_naming_the_node(bad, message):
    with pytest.raises(ParameterError, match=None) as e:
        node = bad()
        if isinstance(node, nir.LIF) and node.tau.size == 2:      # wrong size for 3 inputs
            node.r = np.ones(2)
            graph = _chain(node, n_in=3)
        else:
            graph = _chain(node, n_in=3)
        from_nir(graph, dt=DT)
    assert message in str(e.value) and "\n" not in str(e.value)


def test_graph_shape_errors():
    a = nir.Affine(weight=np.ones((2, 3)), bias=np.zeros(2))
    branch = nir.NIRGraph(nodes={"input": nir.Input(input_type=np.array([3])), "a": a,
                                 "b": nir.Affine(weight=np.ones((2, 3)), bias=np.zeros(2)),
                                 "output": nir.Output(output_type=np.array([2]))},
                          edges=[("input", "a"), ("input", "b"), ("a", "output")],
                          type_check=False)
    with pytest.raises(ParameterError, match="'input' has 2 outgoing edges"):
        from_nir(branch)
    sub = _chain(_chain(_lif(3), n_in=3), n_in=3)
    with pytest.raises(ParameterError, match="subgraph"):
        from_nir(sub)
    with pytest.raises(ParameterError, match="weight must have shape \\(outputs, 4\\)"):
        from_nir(_chain(a, n_in=4))


def test_export_refuses_what_nir_cannot_say():
    net = NetworkParams(2, (DenseLayer([[100, -50]], neuron=LeakyParams()),))   # subtract
    with pytest.raises(ParameterError, match="layer 1: reset_mechanism 'subtract'"):
        to_nir(net)
    net = NetworkParams(2, (DenseLayer([[100, -50]], neuron=LeakyParams(reset_mechanism="zero")),
                            DenseLayer([[100]], neuron=AlphaParams(reset_mechanism="zero"))))
    with pytest.raises(ParameterError, match="layer 2: neuron type 'alpha' has no NIR node"):
        to_nir(net)


@pytest.fixture()
def nirfile(tmp_path):
    rng = np.random.default_rng(7)
    graph = _chain(nir.Affine(weight=rng.uniform(-0.3, 0.8, (6, 8)), bias=np.zeros(6)),
                   _lif(6), nir.Affine(weight=rng.uniform(-0.5, 1, (3, 6)), bias=np.zeros(3)),
                   _lif(3, tau=0.005), n_in=8)
    nir.write(tmp_path / "net.nir", graph)
    np.save(tmp_path / "x.npy", rng.random((2, 8)))
    np.save(tmp_path / "raster.npy", (rng.random((2, 40, 8)) < 0.5).astype(np.uint8))
    return tmp_path


def test_cli_model_report_and_raster(nirfile, capsys):
    f = str(nirfile / "net.nir")
    assert cli.main(["model", f, "--dt", "1e-3", "--length", "64", "--x",
                     str(nirfile / "x.npy"), "--report", str(nirfile / "q.json")]) == 0
    out, err = capsys.readouterr()
    net = from_nir(f, dt=DT, length=64)
    expect = Network(net).evaluate(np.load(nirfile / "x.npy")).counts[-1]
    assert [list(map(int, line.split())) for line in out.split("\n")[:-1]] == expect.tolist()
    assert "layer 1 [n0:Affine n1:LIF] -> leaky x6" in err
    rep = json.loads((nirfile / "q.json").read_text())
    assert rep["dt"] == DT and [r["neurons"] for r in rep["layers"]] == [6, 3]
    assert cli.spec_target(["build", f, "--board", "icebreaker"]) == \
        ["build", "network", f, "--board", "icebreaker"]
    assert cli.main(["model", f, "--dt", "1e-3", "--x", str(nirfile / "raster.npy")]) == 0
    raster = np.load(nirfile / "raster.npy").transpose(0, 2, 1)
    expect = Network(net).evaluate_bits(raster).counts[-1]
    out = capsys.readouterr().out
    assert [list(map(int, line.split())) for line in out.split("\n")[:-1]] == expect.tolist()


@pytest.mark.parametrize("argv, message", [
    (["--dt", "1"], "--dt"),                              # tau < dt: names the node
    (["--dt", "-1"], "dt must be a positive number"),
    (["--width", "40"], "--width must be an integer in 1..16"),
])
def test_cli_errors_are_one_line(nirfile, capsys, argv, message):
    assert cli.main(["model", str(nirfile / "net.nir"), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_cli_sim_proves_a_nir_network_bit_exact(nirfile, capsys, monkeypatch):
    monkeypatch.setenv("SCFPGA_SIM_DIR", str(nirfile / "sim"))
    assert cli.main(["sim", str(nirfile / "net.nir"), "--dt", "1e-3", "--length", "48",
                     "--x", str(nirfile / "x.npy")]) == 0
    assert "bit-exact" in capsys.readouterr().out
    raster = str(nirfile / "raster.npy")                    # (2 samples, 40 steps, 8 inputs)
    assert cli.main(["sim", str(nirfile / "net.nir"), "--dt", "1e-3", "--x", raster]) == 2
    assert 'needs a network with encoding = "raster"' in capsys.readouterr().err


def test_raster_import_is_spike_exact_in_rtl(nirfile, capsys, monkeypatch):
    """--encoding raster: the RTL is fed the very spikes (samples, T, inputs) the NIR float
    reference sees (here a raster, not rates), and matches the golden model in every spike."""
    monkeypatch.setenv("SCFPGA_SIM_DIR", str(nirfile / "sim"))
    f, raster = str(nirfile / "net.nir"), str(nirfile / "raster.npy")
    net = from_nir(f, dt=DT, length=40, encoding="raster")
    assert net.encoding == "raster" and net.length == 40
    assert cli.main(["sim", f, "--dt", "1e-3", "--length", "40", "--encoding", "raster",
                     "--x", raster]) == 0
    assert "bit-exact: every spike of every layer in every cycle, 2 samples" in \
        capsys.readouterr().out
    # the same spikes through the reference: scfpga follows it (one cycle per layer later)
    bits = np.load(raster).transpose(0, 2, 1)
    rows, run, ref = fidelity(net, from_nir(f, dt=DT, length=40, report=True)[1], f, bits,
                              dt=DT)
    assert rows[0]["agreement"] > 0.7 and run.spikes[0].any()
    assert cli.main(["sim", f, "--dt", "1e-3", "--encoding", "raster", "--x", raster]) == 2
    assert "(T, inputs) = (256, 8)" in capsys.readouterr().err    # T must be --length


@pytest.mark.parametrize("name, neuron", [("digits_lif", "leaky"), ("digits_cuba", "synaptic")])
def test_shipped_snntorch_examples(name, neuron):
    """The example files exported by snnTorch (per-neuron arrays, float32, dt 1e-4) import,
    keep their types and round-trip."""
    from pathlib import Path
    path = Path(__file__).resolve().parents[1] / "examples" / f"{name}.nir"
    net, report = from_nir(path, report=True)
    assert net.sizes == (64, 32, 10) and {r.neuron for r in report} == {neuron}
    assert all(r.weight_max_error <= 2 ** -8 and r.threshold_error < 1e-2 for r in report)
    assert from_nir(to_nir(net)) == net


def _conv_graph(rng, r_if=1 / DT):
    """Input (2, 6, 6) -> Conv2d 3x3 pad 1 -> LIF -> SumPool2d 2 -> Conv2d 3x3 -> LIF ->
    AvgPool2d 2 + IF -> Flatten -> Affine -> LIF: every map node, both pool mappings."""
    full = lambda n, v: np.full(n, float(v))                 # noqa: E731
    nodes = {"input": nir.Input(input_type=np.array([2, 6, 6])),
             "c1": nir.Conv2d(input_shape=(6, 6), weight=rng.normal(0, 0.5, (3, 2, 3, 3)),
                              stride=1, padding=1, dilation=1, groups=1,
                              bias=rng.normal(0, 0.1, 3)),
             "l1": _lif(3 * 6 * 6),
             "p1": nir.SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]),
                                 padding=np.array([0, 0])),
             "c2": nir.Conv2d(input_shape=(3, 3), weight=rng.normal(0.1, 0.3, (4, 3, 2, 2)),
                              stride=1, padding="valid", dilation=1, groups=1, bias=np.zeros(4)),
             "l2": _lif(4 * 2 * 2),
             "p2": nir.AvgPool2d(kernel_size=np.array([2, 2]), stride=np.array([1, 1]),
                                 padding=np.array([0, 0])),
             "i2": nir.IF(r=full(4, r_if), v_threshold=full(4, 0.3), v_reset=full(4, 0)),
             "f": nir.Flatten(input_type={"input": np.array([4, 1, 1])}, start_dim=0),
             "fc": nir.Affine(weight=rng.normal(0, 0.8, (3, 4)), bias=np.zeros(3)),
             "l3": _lif(3), "output": nir.Output(output_type=np.array([3]))}
    names = list(nodes)
    return nir.NIRGraph(nodes=nodes, edges=list(zip(names[:-1], names[1:])), type_check=False)


def test_conv_pool_flatten_import_round_trip_and_semantics():
    rng = np.random.default_rng(11)
    graph = _conv_graph(rng)
    net, report = from_nir(graph, dt=DT, report=True)
    assert [layer.describe().split()[0] for layer in net.layers] == \
        ["conv", "avgpool", "conv", "conv", "dense"]       # AvgPool2d + IF: a diagonal conv
    assert net.input_shape == (2, 6, 6) and net.layers[2].in_shape == (3, 3, 3)
    assert [r.types for r in report][1:4] == [("SumPool2d",), ("Conv2d", "LIF"),
                                               ("AvgPool2d", "IF")]
    assert from_nir(to_nir(net, dt=DT), dt=DT) == net
    graph.nodes["input"].input_type = {"input": np.array([1, 2, 6, 6])}   # nirtorch's batch
    assert from_nir(graph, dt=DT) == net
    # semantics at high precision: the exported graph's float reference spikes like the
    # original's (CHW <-> HWC, the SumPool's window size moved into the next kernel)
    hi = from_nir(graph, dt=DT, width=16, state_width=24, clip=1.0)
    bits = (rng.random((3, 72, 120)) < 0.5).astype(np.uint8)
    a, b = reference_run(graph, bits, DT), reference_run(to_nir(hi, dt=DT), bits, DT)
    assert np.mean(a["l1"] == b["lif1"]) > 0.99 and a["l1"].mean() > 0.05
    assert np.mean(a["l2"] == b["lif3"]) > 0.98 and a["l2"].mean() > 0.05
    assert np.mean(a["l3"] == b["lif5"]) > 0.97
    # scfpga against the reference on the same spikes (its inputs in HWC order)
    rows, run, ref = fidelity(net, report, graph, to_hwc(bits.transpose(0, 2, 1),
                                                         (2, 6, 6)).transpose(0, 2, 1), dt=DT)
    assert rows[0]["agreement"] > 0.75 and rows[1]["kind"] == "pool"
    assert rows[1]["rate_error"] < 0.1


def test_conv_network_from_nir_is_spike_exact_in_rtl(tmp_path):
    from scfpga.sim.network import cosim_network
    net = from_nir(_conv_graph(np.random.default_rng(12)), dt=DT, length=24)
    model = Network(net)
    res = cosim_network(net, model.thresholds(np.random.default_rng(13).random((1, 72))),
                        build_root=tmp_path, vcd=False)
    assert res.ok, res.describe()


@pytest.mark.parametrize("field, value, message", [
    ("dilation", 2, "dilation must be 1"), ("groups", 2, "groups must be 1"),
    ("stride", (1, 2), "stride (1, 2) differs between height and width"),
    ("padding", "same", None),
])
def test_conv_geometry_scfpga_cannot_map_is_an_error_naming_the_node(field, value, message):
    graph = _conv_graph(np.random.default_rng(14))
    setattr(graph.nodes["c1"], field, value)
    if message is None:                       # 'same' at stride 1, odd kernel: padding 1
        assert from_nir(graph, dt=DT).layers[0].padding == 1
        return
    with pytest.raises(ParameterError) as e:
        from_nir(graph, dt=DT)
    assert "'c1' (Conv2d)" in str(e.value) and message in str(e.value)


def test_shipped_snntorch_conv_example():
    """The conv example (snnTorch Conv2d + Leaky, AvgPool2d, Flatten, Linear + Leaky; its
    Input keeps nirtorch's batch of one) imports onto conv, pool and dense layers and
    round-trips."""
    from pathlib import Path
    path = Path(__file__).resolve().parents[1] / "examples" / "digits_conv.nir"
    net, report = from_nir(path, report=True)
    assert net.input_shape == (1, 8, 8) and net.sizes == (64, 256, 64, 10)
    assert [r.types for r in report] == [("Conv2d", "LIF"), ("AvgPool2d",),
                                         ("Flatten", "Affine", "LIF")]
    assert from_nir(to_nir(net)) == net


def test_conv1d_is_a_one_row_conv(tmp_path):
    """Conv1d over a (C, L) sequence: a ConvLayer over the map (C, 1, L) with a 1 x k kernel;
    its float reference equals a direct 1-D correlation; scfpga follows the reference and is
    spike-exact in RTL; round trip; padding (which would pad both axes of the map) is an error
    naming the node."""
    rng = np.random.default_rng(15)
    w, bias = rng.normal(0.2, 0.5, (3, 2, 3)), rng.normal(0, 0.1, 3)
    conv = lambda pad: nir.Conv1d(input_shape=10, weight=w, stride=1, padding=pad,  # noqa: E731
                                  dilation=1, groups=1, bias=bias)
    nodes = {"input": nir.Input(input_type=np.array([2, 10])), "c1": conv(0), "l1": _lif(24),
             "f": nir.Flatten(input_type={"input": np.array([3, 8])}, start_dim=0),
             "fc": nir.Affine(weight=rng.normal(0, 0.8, (4, 24)), bias=np.zeros(4)),
             "l2": _lif(4), "output": nir.Output(output_type=np.array([4]))}
    names = list(nodes)
    graph = nir.NIRGraph(nodes=nodes, edges=list(zip(names[:-1], names[1:])), type_check=False)
    net, report = from_nir(graph, dt=DT, report=True)
    assert net.input_shape == (2, 1, 10) and net.layers[0].out_shape == (3, 1, 8)
    assert [r.types for r in report] == [("Conv1d", "LIF"), ("Flatten", "Affine", "LIF")]
    assert from_nir(to_nir(net, dt=DT), dt=DT) == net
    bits = (rng.random((3, 20, 80)) < 0.5).astype(np.uint8)
    x = bits.reshape(3, 2, 10, 80).astype(float)
    direct = np.stack([np.einsum("ck,bckt->bt", w[o], x[:, :, j:j + 3]) + bias[o]
                       for o in range(3) for j in range(8)], axis=1)
    np.testing.assert_allclose(reference_run(graph, bits, DT)["c1"], direct, atol=1e-12)
    rows, _, _ = fidelity(net, report, graph,
                          to_hwc(bits.transpose(0, 2, 1), (2, 1, 10)).transpose(0, 2, 1), dt=DT)
    assert rows[0]["agreement"] > 0.75
    from scfpga.sim.network import cosim_network
    short = from_nir(graph, dt=DT, length=24)
    res = cosim_network(short, Network(short).thresholds(rng.random((1, 20))),
                        build_root=tmp_path, vcd=False)
    assert res.ok, res.describe()
    graph.nodes["c1"] = conv(1)
    with pytest.raises(ParameterError, match=r"'c1' \(Conv1d\): padding must be 0"):
        from_nir(graph, dt=DT)
