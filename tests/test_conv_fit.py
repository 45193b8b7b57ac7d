"""The fit estimate of networks with window layers against their recorded iCEBreaker builds
(``results/conv_fit.json``, made by ``scripts/conv_fit.py``)."""
import json
from pathlib import Path

from scfpga.hdl.network_fit import BOARD_CORE, estimate, fit_layout, with_layout
from scfpga.model.netspec import network_from_spec

BUILDS = Path(__file__).parent.parent / "results" / "conv_fit.json"


def test_estimates_are_close_to_the_builds_and_never_optimistic():
    rows = json.loads(BUILDS.read_text())
    assert len(rows) >= 5 and "digits" in rows
    for name, r in rows.items():
        est = estimate(network_from_spec(r["spec"]))
        lc, ebr = est["lc"] + BOARD_CORE["lc"], est["ebr"] + BOARD_CORE["ebr"]
        assert r["logic_cells"] <= lc <= 1.08 * r["logic_cells"], (name, lc, r["logic_cells"])
        assert r["ebr"] <= ebr <= r["ebr"] + 1, (name, ebr, r["ebr"])


def test_the_digits_conv_network_fits_the_up5k_as_built():
    """It was built and met timing on the iCEBreaker: the fit must not refuse it."""
    params = network_from_spec(json.loads(BUILDS.read_text())["digits"]["spec"])
    fitted, est = fit_layout(params, "up5k")
    assert est["ebr"] <= 30 - BOARD_CORE["ebr"]
    built = with_layout(params, [l.fold for l in params.layers], [l.lanes for l in params.layers])
    assert estimate(built)["lc"] <= 0.85 * (5280 - BOARD_CORE["lc"])
