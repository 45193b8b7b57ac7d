"""The per-cycle proof in an HDL testbench (sim/runner.py cosim_icarus): same verdicts as the
cocotb bench, the first mismatching cycle and port named."""
import numpy as np

from scfpga.hdl import to_verilog
from scfpga.model import LIFParams
from scfpga.sim import cosim
from scfpga.sim import lif as bench
from scfpga.sim.runner import top_ports


def _case(cycles=3000):
    p = LIFParams(width=12, n_inputs=3, weights=(300, -700, 200), threshold=900, leak_shift=2,
                  refractory=1)
    stim, expected = bench.make_case(p, cycles, np.random.default_rng(7))
    return to_verilog(p, "lif"), stim, expected


def test_ports_are_read_from_the_declarations():
    v, _, _ = _case(10)
    ports = top_ports(v, "lif")
    assert ports["inputs"] == ("input", 3) and ports["v"] == ("output", 12)
    assert ports["clk"] == ("input", 1) and ports["spike"] == ("output", 1)


def test_a_planted_mismatch_names_its_cycle_port_and_values(tmp_path, monkeypatch):
    v, stim, expected = _case()
    assert cosim(v, "lif", stim, expected, ("v",), build_root=tmp_path).ok
    bad = dict(expected, v=expected["v"].copy())
    k = 2345
    bad["v"][k] = expected["v"][k] - 5
    r = cosim(v, "lif", stim, bad, ("v",), build_root=tmp_path)
    assert (r.ok, r.cycle, r.port, r.expected, r.actual) == \
        (False, k, "v", int(expected["v"][k]) - 5, int(expected["v"][k]))
    # The cocotb bench (SCFPGA_COCOTB=1) gives the same verdict on the same arrays.
    monkeypatch.setenv("SCFPGA_COCOTB", "1")
    r2 = cosim(v, "lif", stim, bad, ("v",), build_root=tmp_path)
    assert (r2.ok, r2.cycle, r2.port, r2.expected, r2.actual) == \
        (r.ok, r.cycle, r.port, r.expected, r.actual)


def test_negative_values_compare_as_twos_complement(tmp_path):
    v, stim, expected = _case(2000)
    assert expected["v"].min() < 0                  # the case does go negative
    assert cosim(v, "lif", stim, expected, ("v",), build_root=tmp_path).ok
