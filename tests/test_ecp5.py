"""ECP5 boards through the same pip-only flow: EHXPLLL settings (checked against Project
Trellis's ecppll), the board catalogue and LPF, the board top, gate-level co-simulation of
ECP5 netlists with Yosys's cell models, and a real, reproducible ULX3S build from the CLI."""
import importlib
import json
import re
import subprocess

import numpy as np
import pytest
from amaranth.back import verilog

import scfpga.cli as cli
from scfpga.boards import protocol as P
from scfpga.boards.build import DEVICES, _too_large, family
from scfpga.boards.catalog import ALL_BOARDS, BOARDS, ECP5_BOARDS, board
from scfpga.boards.designs import block_design
from scfpga.boards.pll import ecp5_pll_settings
from scfpga.boards.toolchain import tool_path
from scfpga.boards.top import BoardCore, BoardTop, core_clock
from scfpga.boards.uart_bench import run_uart_session
from scfpga.gatelevel import gate_level_cosim, sim_defines, synthesise_netlist
from scfpga.hdl.verilog import to_verilog
from scfpga.model import ParameterError
from scfpga.model.lfsr import LFSRParams
from scfpga.model.network import DenseLayer, Network, NetworkParams
from scfpga.model.neuron import lif_neuron
from scfpga.model.lif import LIFParams
from scfpga.model.sng import SNGParams
from scfpga.model.sobol import SobolParams
from scfpga.sim import require_icarus
from scfpga.sim.runner import cosim
from scfpga.sim.network import TOP as NET_TOP, cosim_network, network_verilog

SNG = block_design("sng", {"source": "lfsr", "width": 9, "seed": 77}, length=700)

ECPPLL_CASES = [(25, 50), (25, 48), (25, 100), (25, 30), (25, 133), (25, 12.5), (100, 50),
                (100, 75), (100, 40), (48, 60), (12, 96)]


def test_ecp5_pll_settings_match_ecppll(tmp_path):
    procs = {}
    for f_in, f_out in ECPPLL_CASES:
        name = f"pll_{f_in}_{f_out}.v".replace(".", "_", 1)
        procs[(f_in, f_out)] = (name, subprocess.Popen(
            [tool_path("yowasp-ecppll"), "-i", str(f_in), "-o", str(f_out), "-f", name],
            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    for (f_in, f_out), (name, proc) in procs.items():
        assert proc.wait() == 0
        text = (tmp_path / name).read_text()
        tool = {k: int(v) for k, v in re.findall(r"\.(CLKI_DIV|CLKFB_DIV|CLKOP_DIV|CLKOP_CPHASE)"
                                                 r"\((\d+)\)", text)}
        s = ecp5_pll_settings(f_in, f_out)
        assert (s.clki_div, s.clkfb_div, s.clkop_div, s.clkop_cphase) == (
            tool["CLKI_DIV"], tool["CLKFB_DIV"], tool["CLKOP_DIV"], tool["CLKOP_CPHASE"]), (f_in, f_out)
        assert 400 <= s.f_vco <= 800 and s.f_pfd >= 3.125
    assert ecp5_pll_settings(25, 50).f_out_hz == 50_000_000
    assert ecp5_pll_settings(25, 48).f_out == 46.875           # 3.125 MHz PFD floor
    with pytest.raises(ParameterError, match="10..400"):
        ecp5_pll_settings(25, 500)
    with pytest.raises(ParameterError, match="PLL input"):
        ecp5_pll_settings(5, 50)


def test_ecp5_catalogue_comes_from_amaranth_boards():
    assert set(ECP5_BOARDS) >= {"ulx3s-85f", "ecpix5-85f"} and not set(ECP5_BOARDS) & set(BOARDS)
    assert ALL_BOARDS == {**BOARDS, **ECP5_BOARDS}
    for b in ECP5_BOARDS.values():
        assert b.family == "ecp5" and family(b.device) == "ecp5" and b.pll == "EHXPLLL"
        assert b.device in DEVICES and b.speed in (6, 7, 8)
        pins = b.pins()
        assert len({pin for pin, _ in pins.values()}) == 5, b.name
        suffix, lpf = b.constraints()
        assert suffix == ".lpf"
        for port, (pin, _) in pins.items():
            assert f'LOCATE COMP "{port}" SITE "{pin}";' in lpf
        assert 'IOBUF PORT "uart_rx" IO_TYPE=LVCMOS33 PULLMODE=UP;' in lpf
        assert f'FREQUENCY PORT "clk_in" {b.osc_mhz:g} MHZ;' in lpf
    u = board("ulx3s-85f")
    assert (u.device, u.package, u.speed, u.osc_mhz) == ("85k", "CABGA381", 6, 25)
    assert u.pins()["clk_in"] == ("G2", False) and u.pins()["uart_rx"] == ("M1", False)
    e = board("ecpix5-85f")
    assert (e.device, e.package, e.speed, e.osc_mhz) == ("um5g-85k", "CABGA554", 8, 100)
    assert e.pins()["led_busy"][1] is True                      # active-low RGB LED
    with pytest.raises(ParameterError, match="ulx3s-85f"):
        board("ulx3s-12f")


@pytest.mark.parametrize("name", sorted(ECP5_BOARDS))
def test_board_top_instantiates_ehxplll(name):
    b = ECP5_BOARDS[name]
    top = BoardTop(b, SNG.component(), 50)
    text = verilog.convert(top, name="board_top", emit_src=False)
    assert text.count("EHXPLLL") == 1 and "SB_PLL40" not in text
    s = top.pll
    for param, value in (("CLKI_DIV", s.clki_div), ("CLKFB_DIV", s.clkfb_div),
                         ("CLKOP_DIV", s.clkop_div), ("CLKOP_CPHASE", s.clkop_cphase)):
        assert re.search(rf"\.{param}\(32'(sh|d){value}\)|\.{param}\({value}\)", text), param
    assert 'FEEDBK_PATH("CLKOP")' in text
    assert top.clk_hz == 50_000_000 and top.core.divisor == round(50e6 / 115200)
    plain = BoardTop(b, SNG.component(), b.osc_mhz)               # the oscillator: no PLL
    assert plain.pll is None and "EHXPLLL" not in verilog.convert(plain, name="t", emit_src=False)
    assert core_clock(b, 300)[1] == 300_000_000                 # above the iCE40's 275 MHz
    assert core_clock(b, 12.5)[1] == 12_500_000                 # below the iCE40's 16 MHz
    with pytest.raises(ParameterError, match="10..400"):        # the ECP5 PLL's own range
        core_clock(b, 450)


# ---------------------------------------------------------------- gate level (ECP5 cells)

ECP5_PRIMITIVES = [
    pytest.param("lfsr", LFSRParams(16, 1), id="lfsr16"),
    pytest.param("sobol", SobolParams(8, 2), id="sobol8"),
    pytest.param("sng", SNGParams(SobolParams(8, 1)), id="sng8-sobol-port"),
    pytest.param("lif", LIFParams(width=12, n_inputs=3, weights=(100, -70, 40), threshold=500,
                                  leak_shift=3, refractory=2), id="lif12x3"),
]


@pytest.mark.parametrize("block, params", ECP5_PRIMITIVES)
def test_ecp5_gate_level_netlist_is_bit_exact(block, params):
    require_icarus()
    bench = importlib.import_module(f"scfpga.sim.{block}")
    stim, expected = bench.make_case(params, 600, np.random.default_rng(11))
    top = f"gl5_{block}"
    result = gate_level_cosim(to_verilog(params, top), top, stim, expected,
                              getattr(bench, "SIGNED_PORTS", ()), device="85k")
    assert result.ok, f"ECP5 gate-level {params}: {result.describe('netlist')}"


def test_ecp5_gate_level_catches_a_broken_netlist():
    """Complementing every LUT4 must be caught: the ECP5 netlist path is not vacuous."""
    require_icarus()
    bench = importlib.import_module("scfpga.sim.lfsr")
    params = LFSRParams(8, 3)
    netlist, cells = synthesise_netlist(to_verilog(params, "gl5_bad"), "gl5_bad", device="85k")
    assert "TRELLIS_FF" in netlist and "module LUT4" in cells.read_text()
    broken, n = re.subn(r"\.INIT\(16'h([0-9a-f]{4})\)",
                        lambda m: f".INIT(16'h{0xFFFF ^ int(m[1], 16):04x})", netlist)
    assert n >= 1
    stim, expected = bench.make_case(params, 100, np.random.default_rng(1))
    result = cosim(broken, "gl5_bad", stim, expected, extra_sources=[cells],
                   defines=sim_defines("85k"))
    assert not result.ok


def test_ecp5_gate_level_board_core_answers_over_uart():
    """The synthesised ECP5 netlist of the whole board core (UART, protocol engine, design)
    answers INFO, WRITE, RUN and READ byte for byte as the protocol and golden model say."""
    require_icarus()
    bit = 8
    # Small BATCH FIFOs (LUT RAM) keep the netlist small; block RAM is covered below.
    core = dict(clk_hz=bit * 115200, baud=115200, timeout_cycles=40 * bit, led_tick_log2=4,
                heartbeat_ticks=4, busy_ticks=2, fifo_bytes=16)
    text = verilog.convert(BoardCore(SNG.component(), **core), name="board_core", emit_src=False)
    netlist, cells = synthesise_netlist(text, "board_core", device="25k")
    loads = np.array([300])
    info = P.Info(P.PROTOCOL_VERSION, P.MAX_PAYLOAD, 1, 1, SNG.design_id, SNG.length,
                  core["clk_hz"], core["timeout_cycles"], 0)
    req = lambda cmd, payload=b"", **kw: dict({"send": P.encode_request(cmd, payload).hex(),  # noqa: E731
                                               "wait_bits": 400}, **kw)
    ok = lambda cmd, payload=b"": P.encode_reply(cmd, P.Status.OK, payload).hex()  # noqa: E731
    want_result = int(SNG.expected_results(loads[None, :])[0][0])
    steps = [req(P.Command.INFO), req(P.Command.WRITE, P.write_payload(0, loads)),
             req(P.Command.RUN, wait_bits=SNG.length // bit + 400),
             req(P.Command.READ, P.read_payload(0, 1))]
    want = [ok(P.Command.INFO, info.encode()), ok(P.Command.WRITE),
            ok(P.Command.RUN, P.run_reply_payload(SNG.run_cycles)),
            ok(P.Command.READ, want_result.to_bytes(4, "little"))]
    result = run_uart_session(netlist, "board_core", steps, bit * 10, extra_sources=[cells],
                              defines=sim_defines("25k"))
    assert result["replies"] == want


def _bram_network():
    """A small seeded network whose weight ROMs, state RAMs and encoder tables synth_ecp5
    puts in DP16KD block RAM (data widths 4, 9, 18 and 36, reads and writes)."""
    rng = np.random.default_rng(2024)
    layers = []
    for n_in, n_out, fold, lanes in ((5, 6, 2, 2), (6, 4, 1, 1)):
        w = np.round(rng.uniform(-0.6, 1, (n_out, n_in)) * 32).astype(int)
        layers.append(DenseLayer(w, None, lif_neuron(width=12, threshold=1, leak_shift=3,
                                                     reset="subtract"), lanes=lanes, fold=fold))
    return NetworkParams(5, tuple(layers), 5, 24, "sobol", 3), rng


@pytest.fixture(scope="module")
def bram_netlist(tmp_path_factory):
    params, rng = _bram_network()
    netlist, cells = synthesise_netlist(network_verilog(params), NET_TOP,
                                        tmp_path_factory.mktemp("syn"), device="25k")
    return params, Network(params).thresholds(rng.random((2, params.n_inputs))), netlist, cells


def test_ecp5_gate_level_network_with_block_ram_is_spike_exact(bram_netlist, tmp_path):
    """An ECP5 netlist with block RAM runs on the behavioural DP16KD (scfpga.ecp5_bram) and
    spikes exactly as the golden model."""
    require_icarus()
    params, x, netlist, cells = bram_netlist
    widths = set(re.findall(r"\.DATA_WIDTH_[AB]\(32'd(\d+)\)", netlist))
    assert netlist.count("DP16KD #(") >= 4 and {"9", "18", "36"} <= widths
    assert re.search(r"\.WEA\(\\", netlist)                 # some block RAM is written
    result = cosim_network(params, x, build_root=tmp_path, verilog_text=netlist,
                           extra_sources=[cells], defines=sim_defines("25k"), vcd=False)
    assert result.ok, result.describe()


@pytest.mark.parametrize("mutation", ["rom", "writes"])
def test_ecp5_block_ram_model_is_not_vacuous(bram_netlist, tmp_path, mutation):
    """Complementing the block RAM contents, or never writing block RAM, must be caught."""
    require_icarus()
    params, x, netlist, cells = bram_netlist
    if mutation == "rom":
        broken, n = re.subn(r"\.(INITVAL_[0-9A-F]{2})\(320'h([0-9a-f]{80})\)",
                            lambda m: f".{m[1]}(320'h{(~int(m[2], 16)) & ((1 << 320) - 1):080x})",
                            netlist)
    else:
        broken, n = re.subn(r"\.WE([AB])\(\\[^)]*\)", r".WE\1(1'h0)", netlist)
    assert n >= 1 and broken != netlist
    result = cosim_network(params, x, build_root=tmp_path, verilog_text=broken,
                           extra_sources=[cells], defines=sim_defines("25k"), vcd=False)
    assert not result.ok


# ------------------------------------------------------------------------- real builds

@pytest.fixture
def scfpga_main():
    return cli.main


def test_cli_builds_reproducible_ulx3s_bitstream(scfpga_main, tmp_path, capsys):
    out_a, out_b = tmp_path / "a", tmp_path / "b"
    argv = ["build", "sng", "--source", "lfsr", "--width", "9", "--seed", "77", "--length", "700",
            "--board", "ulx3s-25f", "--freq", "50"]
    assert scfpga_main(argv + ["-o", str(out_a)]) == 0
    io = capsys.readouterr()
    assert "sng on ulx3s-25f (25k-CABGA381)" in io.out and "EHXPLLL" in io.out
    assert "nextpnr-ecp5" in io.err and "board_top.bit" in io.out
    report = json.loads((out_a / "report.json").read_text())
    assert (report["family"], report["device"], report["package"], report["speed"]) == (
        "ecp5", "25k", "CABGA381", 6)
    pll = report["board"]["pll"]
    assert pll["primitive"] == "EHXPLLL" and (pll["clki_div"], pll["clkfb_div"],
                                              pll["clkop_div"]) == (1, 2, 12)
    assert report["board"]["uart"]["divisor"] == 434
    lc = report["logic_cells"]
    assert lc["total"] == 24288 and 200 < lc["used"] < 5000
    assert report["ebr"]["total"] == 56 and report["dsp"]["total"] == 28
    assert report["spram"] == {"used": 0, "total": 0} and report["flip_flops"] > 100
    assert report["luts"] > 100 and report["carry_cells"] > 0
    clk = report["fmax_mhz"]["clk"]
    assert abs(clk["target"] - 50) < 0.01 and clk["achieved"] > 50 and report["timing_met"]
    assert 'LOCATE COMP "clk_in" SITE "G2";' in (out_a / "board_top.lpf").read_text()
    assert (out_a / "board_top.bit").stat().st_size > 100_000
    # Reproducible: the same inputs give the same bitstream, byte for byte.
    assert scfpga_main(argv + ["-o", str(out_b)]) == 0
    capsys.readouterr()
    assert (out_a / "board_top.bit").read_bytes() == (out_b / "board_top.bit").read_bytes()
    assert json.loads((out_b / "report.json").read_text())["bin_sha256"] == report["bin_sha256"]
    # An existing build is not overwritten without --force.
    assert scfpga_main(argv + ["-o", str(out_a)]) == 2 and "--force" in capsys.readouterr().err


def test_cli_ecp5_missed_timing_is_an_error(scfpga_main, tmp_path, capsys):
    out = tmp_path / "fast"
    argv = ["build", "and", "--board", "ulx3s-25f", "--freq", "390", "-o", str(out)]
    assert scfpga_main(argv) == 1
    err_text = capsys.readouterr().err
    m = re.search(r"timing not met: clock clk reaches ([\d.]+) MHz, below the target 390", err_text)
    assert m and float(m[1]) < 390


def test_ecp5_resource_overflow_is_named(tmp_path):
    """nextpnr-ecp5's utilisation table, as it prints it, is parsed into DesignTooLarge."""
    log = tmp_path / "nextpnr.log"
    log.write_text("Info: Device utilisation:\n"
                   "Info: \t          TRELLIS_IO:       5/    197     2%\n"
                   "Info: \t              DP16KD:      60/     56   107%\n"
                   "Info: \t        TRELLIS_COMB:   30000/  24288   123%\n")
    e = _too_large(log, "25k", "CABGA381")
    assert e.over == {"DP16KD": (60, 56), "TRELLIS_COMB": (30000, 24288)}
    assert "18 kbit block RAM (DP16KD) 60 > 56" in str(e) and "LUT4 slots (TRELLIS_COMB)" in str(e)


@pytest.mark.parametrize("argv, message", [
    (["build", "sng", "--board", "ulx3s-85f", "--freq", "450", "-o", "x"], "10..400"),
    (["build", "sng", "--board", "ulx3s-12f", "-o", "x"], "ecpix5-85f"),
])
def test_cli_ecp5_usage_errors(scfpga_main, capsys, argv, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert scfpga_main(argv) == 2
    err_text = capsys.readouterr().err
    assert message in err_text and err_text.count("\n") <= 2
    assert not (tmp_path / "x").exists()
