"""Formal proofs (scfpga.prove): the fast set `make test` runs, and proof that the harnesses can
fail (a wrong claim, a broken design and a wrapping membrane are caught), the CLI."""
import json

import pytest

import scfpga.cli as cli
from scfpga.hdl.verilog import to_verilog
from scfpga.model.sobol import SobolParams
from scfpga.prove import (Proof, equiv_proofs, lfsr_proofs, lif_proofs, proofs, run_proof,
                          sobol_proofs)

FAST = proofs("fast")


@pytest.mark.parametrize("proof", FAST, ids=[p.name for p in FAST])
def test_fast_proofs_pass(proof):
    result = run_proof(proof)
    assert result.status == "PASS", f"{proof.name}: {proof.claim}\n{result.log[-3000:]}"


def test_fast_set_covers_every_block():
    assert {p.block for p in FAST} == {"lfsr", "sobol", "sng", "lif", "neuron", "engine", "equiv"}
    assert {p.name for p in FAST if p.block == "equiv"} >= {"equiv-ice40-dense"}


def test_a_wrong_period_is_refuted():
    """Claiming the LFSR returns one step early must fail."""
    never0, period = lfsr_proofs(4)
    period.files["harness.v"] = period.files["harness.v"].replace("== 15", "== 14")
    period.name += "-wrong"
    assert run_proof(period).status == "FAIL"


def test_a_sobol_longer_than_the_window_is_refuted():
    """index_width = W + 1 gives period 2**(W+1): the W-bit window is not restored."""
    proof = sobol_proofs(4)[0]
    dut = proof.files["dut.v"]
    cut = dut.index("  (* anyconst *)")
    long = to_verilog(SobolParams(4, 1, index_width=5), "dut")
    end = long.rindex("endmodule")
    proof.files["dut.v"] = long[:end] + dut[cut:dut.rindex("endmodule")] + long[end:]
    proof.name = "sobol4-index5-refuted"
    assert run_proof(proof).status == "FAIL"


def test_a_wrapping_membrane_would_be_caught():
    """The LIF harness distinguishes saturation from wrap-around: claiming the unclamped sum
    (what a wrapping adder computes) fails."""
    core = lif_proofs(8)[0]
    text = core.files["harness.v"]
    core.files["harness.v"] = text.replace("wire signed [11:0] u = raw > 127 ? 127 : "
                                           "(raw < -128 ? -128 : raw);",
                                           "wire signed [11:0] u = raw;")
    assert core.files["harness.v"] != text
    core.name += "-wrap"
    core.mode, core.depth = "bmc", 4              # a counterexample needs two large currents
    assert run_proof(core).status == "FAIL"


EXPANDED = """read_verilog -sv dut.v
hierarchy -top dut
proc
flatten
opt_clean
design -save preopt
synth_ice40 -device u -top dut
{mutation}
design -stash postopt
design -copy-from preopt -as gold A:top
design -copy-from postopt -as gate A:top
techmap -wb -D EQUIV -autoproc -map +/ice40/cells_sim.v
equiv_make gold gate equiv
hierarchy -top equiv
equiv_induct equiv
equiv_status -assert equiv
"""


@pytest.mark.parametrize("mutation, status", [("", "PASS"),
                                              ("setparam -set LUT_INIT 0 t:SB_LUT4", "FAIL")])
def test_a_broken_netlist_is_not_equivalent(mutation, status):
    """equiv_opt's steps written out: the LFSR's netlist passes, and with its feedback LUT
    forced to 0 it fails."""
    base = equiv_proofs(["lfsr"])[0]
    proof = Proof("equiv", f"equiv-lfsr-mutated-{status.lower()}", "mutation", base.files,
                  "equiv", 0, script=EXPANDED.format(mutation=mutation))
    assert run_proof(proof).status == status


def test_cli_prove(tmp_path, capsys):
    out = tmp_path / "r.json"
    assert cli.main(["prove", "lfsr", "--width", "4", "-o", str(out)]) == 0
    io = capsys.readouterr()
    assert "PASS  lfsr4-period" in io.out and "2 proofs passed" in io.out
    rows = json.loads(out.read_text())
    assert [r["status"] for r in rows] == ["PASS", "PASS"] and rows[1]["depth"] == 17
    assert cli.main(["prove", "lfsr", "--width", "4", "-o", str(out)]) == 2
    assert "--force" in capsys.readouterr().err
    for argv, message in ((["prove", "nope"], "BLOCK must be one of"),
                          (["prove", "sobol", "--width", "40"], "width must be in 3..16"),
                          (["prove", "equiv", "--target", "nope"], "equivalence target")):
        assert cli.main(argv) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1
