"""Seeded random configurations of every primitive and of dense layers, each proven against the
golden model on every cycle, many designs per simulation (sim/campaign.py)."""
import numpy as np
import pytest

from scfpga.sim.campaign import KINDS, Case, cosim_many, random_campaign
from scfpga.sim.lif import make_case
from scfpga.hdl.ops import component
from scfpga.model import LIFParams

PRIMITIVES = tuple(k for k in KINDS if k != "dense")


@pytest.mark.parametrize("kinds,per_kind,seed", [(PRIMITIVES, 25, 11), (("dense",), 25, 12)],
                         ids=["primitives", "dense-layers"])
def test_random_configurations_are_bit_exact(kinds, per_kind, seed, tmp_path):
    cases = random_campaign(seed, per_kind, cycles=400, kinds=kinds)
    assert len(cases) == per_kind * len(kinds)
    results = cosim_many(cases, build_root=tmp_path)
    bad = [f"{c.name}: {r.describe()}" for c, r in zip(cases, results) if not r.ok]
    assert not bad, f"{len(bad)} of {len(cases)} configurations differ, first: {bad[0]}"
    assert all(r.cycles >= 400 for r in results)


def test_each_case_gets_its_own_verdict(tmp_path):
    """Planted errors in two of four designs: those two name their first wrong cycle and port,
    the other two still pass (a mismatch stops only its own design)."""
    rng = np.random.default_rng(5)
    cases = []
    for i in range(4):
        p = LIFParams(width=10, n_inputs=2, weights=(200, -90 - i), threshold=300, leak_shift=2)
        stim, expected = make_case(p, 300, rng)
        cases.append(Case(f"lif{i}", component(p), stim, expected, ("v",)))
    for i, k in ((1, 123), (3, 7)):
        cases[i].expected = dict(cases[i].expected, v=cases[i].expected["v"].copy())
        cases[i].expected["v"][k] += 3
    results = cosim_many(cases, build_root=tmp_path)
    assert [r.ok for r in results] == [True, False, True, False]
    for i, k in ((1, 123), (3, 7)):
        r = results[i]
        assert (r.cycle, r.port, r.expected, r.actual) == \
            (k, "v", int(cases[i].expected["v"][k]), int(cases[i].expected["v"][k]) - 3)
