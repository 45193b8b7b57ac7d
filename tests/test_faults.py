"""Faults: seeded fault maps, the defect layers, and faults injected into the RTL simulation
that the model with the same fault map predicts exactly."""
import numpy as np
import pytest

from scfpga.layers import HardwareAwareSCLayer, MemristiveDenseLayer
from scfpga.model import ParameterError
from scfpga.model.faults import FaultMap, MemristiveDevice, defect_map, stuck_at_map
from scfpga.model.ops import get
from scfpga.model.stdp import Flip, STDPParams
from scfpga.sim.ops import cosimulate
from scfpga.sim.stdp import cosim_stdp, expected_results, random_rates


def test_stuck_at_map_is_seeded_and_has_its_rate():
    a = stuck_at_map((40, 50), 8, 0.1, seed=3)
    assert a == stuck_at_map((40, 50), 8, 0.1, seed=3) and a != stuck_at_map((40, 50), 8, 0.1, 4)
    assert abs(a.stuck.mean() - 0.1) < 0.02                     # 2000 synapses: sd 0.007
    and_m, or_m, off = a.arrays
    ones = a.stuck & (or_m == 255)
    assert abs(ones.sum() / a.stuck.sum() - 0.5) < 0.12
    assert (off == 0).all() and (and_m[~a.stuck] == 255).all()
    w = np.random.default_rng(0).integers(0, 256, (40, 50))
    stored = a.stored(w)
    np.testing.assert_array_equal(stored[a.stuck], or_m[a.stuck])
    np.testing.assert_array_equal(stored[~a.stuck], w[~a.stuck])
    b = stuck_at_map((40, 50), 8, 0.0, seed=1, sigma=3.0)
    assert 2.5 < np.std(b.arrays[2]) < 3.5 and (b.effective(np.zeros((40, 50))) >= 0).all()
    assert FaultMap.none((2, 3), 4).is_clean and not a.is_clean
    with pytest.raises(ParameterError, match="rate"):
        stuck_at_map((2, 2), 8, 1.5)
    with pytest.raises(ParameterError, match="or_mask"):
        FaultMap(4, ((15,),), ((16,),), ((0,),))


def test_defect_map_and_memristive_device():
    d = defect_map((30, 30), 0.2, 0.05, seed=1)
    w = np.full((30, 30), 0.5)
    e = d.apply(w)
    assert set(np.unique(e[d.stuck])) <= {0.0, 1.0} and abs(d.rate - 0.2) < 0.05
    assert 0.04 < np.std(e[~d.stuck] - 0.5) < 0.06
    dev = MemristiveDevice(levels=5, d2d=0.0, variability=0.0, stuck_rate=0.0)
    g, stuck = dev.program(np.linspace(0, 1, 101), seed=0)
    assert not stuck.any() and set(np.round(g * 4, 9)) == {0, 1, 2, 3, 4}   # 5 levels exactly
    with pytest.raises(ParameterError, match="levels"):
        MemristiveDevice(levels=1)


def test_hardware_aware_layer_trains_around_stuck_synapses():
    layer = HardwareAwareSCLayer(16, 4, length=256, stuck_rate=0.25, variability=0.02, seed=5)
    stuck = layer.stuck_mask
    assert layer.n_stuck == stuck.sum() > 0 and layer.stuck_fraction == stuck.mean()
    before = layer.weights.copy()
    np.testing.assert_array_equal(before[stuck], layer.stuck_values[stuck])
    layer.update_weights(np.full((4, 16), -1.0), lr=0.3)
    after = layer.weights
    np.testing.assert_array_equal(after[stuck], before[stuck])      # stuck: untouched
    assert (after[~stuck] > before[~stuck]).any() and (after[~stuck] >= before[~stuck] - 1e-12).all()
    # the realised hardware layer has the effective weights, quantised
    q = np.asarray(layer.params.weights) / 256
    assert np.abs(q - after).max() <= 1 / 512 + 1e-12
    with pytest.raises(ParameterError, match="gradient"):
        layer.update_weights(np.zeros((3, 3)))


def test_memristive_layer_reference_shape():
    layer = MemristiveDenseLayer(8, 3, length=256, stuck_rate=0.3, defect_seed=2)
    first = layer.weights.copy()
    assert layer.stuck.any() and set(np.unique(first[layer.stuck])) <= {0.0, 1.0}
    out = layer.forward(np.full(8, 0.5))
    assert out.shape == (3,) and ((out >= 0) & (out <= 1)).all()
    layer.apply_hardware_defects()
    assert not np.array_equal(layer.weights, first)


# --- hardware -----------------------------------------------------------------------------

def test_injected_flips_are_predicted_by_the_model(tmp_path):
    """Flip bits of the weight RAM and of membranes mid-epoch in the simulation: the model with
    the same flips predicts every weight and count; the clean model does not."""
    p = STDPParams(n_inputs=6, n_neurons=3, length=12, weight_bits=8, threshold=500,
                   faults=stuck_at_map((3, 6), 8, 0.2, seed=2, sigma=2.0))
    rates = random_rates(p, 3, np.random.default_rng(4))
    flips = [[Flip(2, "weight", 1, 7, input=4), Flip(5, "v", 2, 9)],
             [Flip(0, "weight", 0, 6, input=0)],
             [Flip(7, "v", 0, 15), Flip(11, "weight", 2, 0, input=5)]]
    clean, _ = expected_results(p, rates)
    faulty, _ = expected_results(p, rates, flips)
    assert (clean != faulty).sum() >= 3
    result = cosim_stdp(p, rates, flips, build_root=tmp_path)
    assert result.ok, result.describe()
    wrong = cosim_stdp(p, rates, flips, expected=clean, build_root=tmp_path)
    assert not wrong.ok


def test_stuck_cells_injected_in_simulation_are_predicted_by_the_model(tmp_path):
    """Fault-free RTL whose weight-RAM bits the simulation holds stuck (whole synapses and
    single bits, seeded), with membrane flips on top: the model with the same fault map
    predicts every weight and count; the fault-free model does not."""
    p = STDPParams(n_inputs=5, n_neurons=3, length=8, weight_bits=8, threshold=400, a_plus=9)
    stuck = stuck_at_map(p.shape, 8, 0.2, seed=5, bit_rate=0.1)
    assert stuck.stuck.any() and (np.asarray(stuck.and_mask)[~stuck.stuck] != 255).any()
    rates = random_rates(p, 2, np.random.default_rng(6))
    flips = [[Flip(3, "v", 1, 8)], [Flip(1, "v", 0, 10)]]
    clean, _ = expected_results(p, rates, flips)
    faulty, _ = expected_results(p.with_faults(stuck), rates, flips)
    assert (clean != faulty).sum() >= 3
    result = cosim_stdp(p, rates, flips, stuck=stuck, build_root=tmp_path)
    assert result.ok, result.describe()
    wrong = cosim_stdp(p, rates, flips, expected=clean, stuck=stuck, build_root=tmp_path)
    assert not wrong.ok
    j, i = np.argwhere(stuck.arrays[0] != 255)[0]
    held = 255 ^ int(stuck.arrays[0][j, i])
    with pytest.raises(ParameterError, match="stuck bit"):      # a held bit cannot flip
        cosim_stdp(p, rates, [[Flip(0, "weight", int(j), (held & -held).bit_length() - 1,
                                    input=int(i))], []], stuck=stuck)


@pytest.mark.parametrize("name", ["hwaware", "memristive"])
def test_defect_ops_run_in_rtl_with_defaults(name, tmp_path):
    op = get(name)
    values = op.defaults()
    values.update(n_inputs=6, n_neurons=3, length=32, stuck_rate=0.3)
    params, kw = op.build(values)
    result, text = cosimulate(op, params, None, build_root=tmp_path)
    assert result.ok, text
