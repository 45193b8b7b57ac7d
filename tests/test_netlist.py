"""The fast netlist (sim/netlist.py: flattened by Yosys, one clocked block per clock, native
sign extension) behaves exactly as the generated Verilog: every cycle of random primitives and
dense layers against the golden model, and the same first mismatch when one is planted."""
import functools

import numpy as np
import pytest

from scfpga.boards.designs import block_design
from scfpga.hdl import to_verilog
from scfpga.sim import campaign
from scfpga.sim.campaign import cosim_many, random_campaign
from scfpga.sim.netlist import fast_netlist
from scfpga.sim.runner import run_hdl_tb
from scfpga.sim.runs import cosim_runs


@pytest.fixture
def fast_campaign(monkeypatch):
    """cosim_many with the fast netlist: the campaign's own testbench and verdicts."""
    monkeypatch.setattr(campaign, "run_hdl_tb", functools.partial(run_hdl_tb, fast=True))


def test_random_configurations_are_bit_exact_every_cycle(fast_campaign, tmp_path):
    cases = random_campaign(21, 6, cycles=300)
    results = cosim_many(cases, build_root=tmp_path)
    bad = [f"{c.name}: {r.describe()}" for c, r in zip(cases, results) if not r.ok]
    assert not bad, f"{len(bad)} of {len(cases)} configurations differ, first: {bad[0]}"
    assert next(tmp_path.glob("*-many-fast-*/netlist.log")).read_text().startswith("yosys:")


def test_planted_mismatches_name_the_same_cycle_and_port(monkeypatch, tmp_path):
    cases = random_campaign(22, 2, cycles=200)
    rng = np.random.default_rng(3)
    planted = {}
    for d in rng.choice(len(cases), 4, replace=False):
        c = cases[d]
        port = sorted(c.expected)[0]
        k = int(rng.integers(20, c.cycles))
        c.expected = dict(c.expected, **{port: c.expected[port].copy()})
        c.expected[port][k] ^= 1
        planted[int(d)] = (k, port)
    plain = cosim_many(cases, build_root=tmp_path / "generated")
    monkeypatch.setattr(campaign, "run_hdl_tb", functools.partial(run_hdl_tb, fast=True))
    fast = cosim_many(cases, build_root=tmp_path / "fast")
    verdict = lambda r: (r.ok, r.cycle, r.port, r.expected, r.actual)
    assert [verdict(r) for r in fast] == [verdict(r) for r in plain]
    for d, (k, port) in planted.items():
        # the planted cycle, or an earlier wrong one of the same design (a flipped bit of an
        # earlier port in the same comparison order cannot come first: one port per design)
        assert not fast[d].ok and fast[d].cycle <= k
    assert sum(r.ok for r in fast) == len(cases) - len(planted)


@pytest.mark.parametrize("name,options,kw", [
    ("lif", {"inputs": 3, "weights": [3000, -800, 1200]}, dict(length=200)),
    ("counter", {"window": 40}, dict(length=150, input_source="lfsr")),
])
def test_run_level_verdicts_match_the_generated_netlist(name, options, kw, tmp_path):
    design = block_design(name, options, **kw)
    component = design.component()
    loads = design.loads_from_x(np.random.default_rng(8).random((12, design.n_loads)))
    expected = design.expected_results(loads).copy()
    verilog = to_verilog(component, "runner")
    args = dict(latency=component.result_latency, signed=design.result_signed)
    assert cosim_runs(verilog, "runner", loads, expected, netlist="fast", build_root=tmp_path,
                      **args).ok
    expected[9, 0] += 1
    got = [cosim_runs(verilog, "runner", loads, expected, netlist=n, build_root=tmp_path, **args)
           for n in ("fast", "generated")]
    assert [(r.ok, r.sample, r.result, r.cycle, r.actual) for r in got] == \
        [(False, 9, 0, got[1].cycle, expected[9, 0] - 1)] * 2


def test_the_rewrite_leaves_one_clocked_block_and_no_bitwise_sign_extension(tmp_path):
    from scfpga.model import LIFParams
    text, note = fast_netlist(to_verilog(LIFParams(width=12, n_inputs=3), "lif"), "lif", tmp_path)
    assert note.startswith("yosys:")
    assert text.count("always @(posedge clk)") == 1 and "module lif" in text
    # explicit sign extensions of whole operands are gone (a shift's { v[11], v[11:4] } stays)
    assert text.count("$signed({") < (tmp_path / "flat.v").read_text().count("$signed({")


def test_a_yosys_failure_keeps_the_generated_verilog(tmp_path):
    broken = "module bad(input clk); this is not verilog; endmodule\n"
    text, note = fast_netlist(broken, "bad", tmp_path)
    assert text == broken and note.startswith("yosys failed")
