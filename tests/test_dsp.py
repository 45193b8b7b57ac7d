"""UP5K DSPs: the build's SB_MAC16 budget, and gate-level proof of a netlist that uses them."""
import re

import numpy as np
import pytest

from scfpga.boards.build import DesignTooLarge, build_verilog
from scfpga.boards.toolchain import ICE40_SIM_DEFINES
from scfpga.gatelevel import synthesise_netlist
from scfpga.hdl.network import schedule
from scfpga.hdl.neuron_types import update_latency
from scfpga.model.netspec import network_from_spec
from scfpga.model.network import Network
from scfpga.model.params import ParameterError
from scfpga.sim.network import TOP, cosim_network, network_verilog

# Nine registered 8 x 8 products of one input byte (16-bit results: each one SB_MAC16 with
# -dsp), folded into one output bit: more multipliers than the UP5K's 8 DSPs, two pins.
NINE_MULTIPLIES = "module mul9(input clk, input [7:0] a, output y);\n" + "".join(
    f"  reg [15:0] p{i}; always @(posedge clk) p{i} <= a * 8'd{c};\n"
    for i, c in enumerate((131, 137, 139, 149, 151, 157, 163, 167, 173))) + \
    "  assign y = ^(p0 ^ p1 ^ p2 ^ p3 ^ p4 ^ p5 ^ p6 ^ p7 ^ p8);\nendmodule\n"


def test_more_multipliers_than_dsps(tmp_path):
    """Yosys maps all nine (it has no DSP budget); asked for DSPs the build names the count
    and the way out, by default it builds them from logic cells."""
    with pytest.raises(DesignTooLarge, match=r"made 9 SB_MAC16 multipliers, up5k has 8: .*"
                                             r"--no-dsp") as e:
        build_verilog(NINE_MULTIPLIES, "mul9", tmp_path / "forced", dsp=True)
    assert e.value.over == {"ICESTORM_DSP": (9, 8)}
    report = build_verilog(NINE_MULTIPLIES, "mul9", tmp_path / "auto")
    assert report["synth_dsp"] is False and report["dsp"]["used"] == 0
    assert report["dsp_note"].startswith("9 multipliers > 8 DSPs")
    with pytest.raises(ParameterError, match="hx8k has no SB_MAC16"):
        build_verilog(NINE_MULTIPLIES, "mul9", tmp_path / "hx", device="hx8k", dsp=True)


def test_pipelined_update_latency_per_type():
    """Every product and every saturated value is registered (leaky: multiply | sum and
    clamp | threshold and reset; CubaLIF two more for its second multiply); the schedule
    waits for the pipeline."""
    spec = {"inputs": 3, "length": 8, "layers": [
        {"neurons": 2, "neuron": {"type": "leaky", "beta": 0.9}},
        {"neurons": 2, "neuron": {"type": "synaptic", "alpha": 0.8, "beta": 0.9}}]}
    params = network_from_spec(spec)
    assert [update_latency(layer.neuron) for layer in params.layers] == [3, 5]
    lif = network_from_spec(dict(spec, layers=[dict(layer, neuron={"type": "lif"})
                                               for layer in spec["layers"]]))
    assert update_latency(lif.layers[0].neuron) == 0
    assert [a.last_update - b.last_update for a, b in
            zip(schedule(params).layers, schedule(lif).layers)] == [3, 5]


def test_dsp_netlist_of_a_leaky_network_is_spike_exact_at_gate_level(tmp_path):
    """synth_ice40 -dsp (as the UP5K build runs it): the leaky and CubaLIF multiplies become
    SB_MAC16 cells, simulated with Yosys's model of the cell, and every spike equals the golden
    model; a wrong coefficient in one DSP is caught."""
    spec = {"inputs": 5, "length": 16, "width": 6, "source": "sobol", "seed": 1, "layers": [
        {"neurons": 4, "fold": 2,
         "neuron": {"type": "leaky", "beta": 0.9, "threshold": 1.5, "width": 10}},
        {"neurons": 3, "neuron": {"type": "synaptic", "alpha": 0.8, "beta": 0.8,
                                  "threshold": 1.0, "width": 10}}]}
    params = network_from_spec(spec)
    netlist, cells = synthesise_netlist(network_verilog(params), TOP, tmp_path / "syn")
    assert netlist.count("SB_MAC16 #(") >= 3
    loads = Network(params).thresholds(np.random.default_rng(3).random((2, params.n_inputs)))
    run = lambda text, name: cosim_network(                              # noqa: E731
        params, loads, build_root=tmp_path / name, verilog_text=text, extra_sources=[cells],
        defines=ICE40_SIM_DEFINES, vcd=False)
    result = run(netlist, "good")
    assert result.ok, result.describe()
    # layer 1's beta (the constant A operand of its DSP) one bit off
    first = re.compile(r"(SB_MAC16 #\(.*?\) \\layer0[^\n]*\n\s*\.A\(16'h)([0-9a-f]{4})", re.S)
    assert first.search(netlist)
    broken = first.sub(lambda m: m[1] + f"{int(m[2], 16) ^ 0x0800:04x}", netlist, count=1)
    bad = run(broken, "broken")
    assert not bad.ok and bad.layer is not None
