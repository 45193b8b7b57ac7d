"""Board top: protocol, UART, runnable designs, PLL, host driver, CLI and real iCE40 builds.

The board core (UART + protocol engine + design) is co-simulated under cocotb + Icarus with a
UART host model at 8 clock cycles per bit; its replies must equal, byte for byte, the frames
the protocol module builds around the golden model's results. The same script is played
against the software board (:mod:`scfpga.boards.simboard`), and once against the
post-synthesis netlist. Builds run the real YoWASP flow.
"""
import json
import re
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest
from amaranth.back import verilog
from amaranth.sim import Simulator

import scfpga.cli as cli
from scfpga.boards import protocol as P
from scfpga.boards.catalog import BOARDS
from scfpga.boards.designs import BlockDesign, block_design
from scfpga.boards.ops import load_design
from scfpga.boards.host import BoardClient
from scfpga.boards.pll import pll_settings
from scfpga.boards.runnable import check_runnable
from scfpga.boards.top import BoardTop, core_clock
from scfpga.boards.uart import allowed_bauds, uart_divisor
from scfpga.boards.build import DEVICES
from scfpga.gatelevel import synthesise_netlist
from scfpga.model import ParameterError
from scfpga.boards.uart_bench import PLL_SIM_MODEL, run_uart_session
from scfpga.boards.toolchain import ICE40_SIM_DEFINES, tool_path
from board_helpers import BIT, LIF, TIMEOUT_BITS, core_verilog, info_of, software_board

SNG = block_design("sng", {"source": "lfsr", "width": 9, "seed": 77}, length=700)
MUX = block_design("mux", {"inputs": 5, "width": 6, "dim": 2}, length=256, input_width=6)


def req(cmd, payload=b"", **step):
    return dict({"send": P.encode_request(cmd, payload).hex(), "wait_bits": 400}, **step)


def ok(cmd, payload=b""):
    return P.encode_reply(cmd, P.Status.OK, payload).hex()


def err(cmd, status):
    return P.encode_reply(cmd, status).hex()


def results_payload(values):
    return struct.pack(f"<{len(values)}I", *(int(v) & 0xFFFFFFFF for v in values))


def run_script(design, loads_a, loads_b):
    """A session: two runs with different loads, results read back in pieces.

    Returns (steps, expected reply hex per step).
    """
    exp_a = design.expected_results(loads_a[None, :])[0]
    exp_b = design.expected_results(loads_b[None, :])[0]
    n, half = design.n_loads, max(1, design.n_loads // 2)
    steps, want = [], []

    def add(step, reply):
        steps.append(step)
        want.append(reply)

    run_bits = design.length // BIT + 400
    add(req(P.Command.INFO), ok(P.Command.INFO, info_of(design).encode()))
    add(req(P.Command.WRITE, P.write_payload(0, loads_a)), ok(P.Command.WRITE))
    add(req(P.Command.RUN, wait_bits=run_bits), ok(P.Command.RUN, P.run_reply_payload(design.run_cycles)))
    add(req(P.Command.INFO), ok(P.Command.INFO, info_of(design, P.FLAG_RESULTS_VALID).encode()))
    add(req(P.Command.READ, P.read_payload(0, design.n_results)), ok(P.Command.READ, results_payload(exp_a)))
    # Second sample: loads in two frames (addresses), results one at a time.
    add(req(P.Command.WRITE, P.write_payload(0, loads_b[:half])), ok(P.Command.WRITE))
    if half < n:
        add(req(P.Command.WRITE, P.write_payload(half, loads_b[half:])), ok(P.Command.WRITE))
    add(req(P.Command.INFO), ok(P.Command.INFO, info_of(design).encode()))   # WRITE cleared the flag
    add(req(P.Command.RUN, wait_bits=run_bits), ok(P.Command.RUN, P.run_reply_payload(design.run_cycles)))
    for i in range(design.n_results):
        add(req(P.Command.READ, P.read_payload(i, 1)), ok(P.Command.READ, results_payload(exp_b[i:i + 1])))
    return steps, want


def error_script(design, loads):
    """Every error the protocol defines, each followed by proof that nothing changed."""
    exp = design.expected_results(loads[None, :])[0]
    drain = {"wait_bits": TIMEOUT_BITS + 150, "quiet": True}     # answered after the timeout
    C, S = P.Command, P.Status
    bad_chk = bytearray(P.encode_request(C.INFO))
    bad_chk[-1] ^= 0x40
    # A WRITE of other loads whose checksum is wrong must not reach the design.
    other = (loads + 1) % ((1 << design.load_width) + 1)
    bad_write = bytearray(P.encode_request(C.WRITE, P.write_payload(0, other)))
    bad_write[-1] ^= 0x01
    steps = [
        (req(C.WRITE, P.write_payload(0, loads)), ok(C.WRITE)),
        ({"send": bad_chk.hex(), "wait_bits": 400}, err(C.INFO, S.BAD_CHECKSUM)),
        ({"send": bad_write.hex(), "wait_bits": 400}, err(C.WRITE, S.BAD_CHECKSUM)),
        (req(0x77, b"\x01\x02"), err(0x77, S.UNKNOWN_COMMAND)),
        (req(C.INFO, b"\x00"), err(C.INFO, S.BAD_LENGTH)),
        (req(C.RUN, b"\x00"), err(C.RUN, S.BAD_LENGTH)),
        (req(C.WRITE, b"\x00\x00\x05"), err(C.WRITE, S.BAD_LENGTH)),               # odd length
        (req(C.WRITE, b"\x00\x00"), err(C.WRITE, S.BAD_LENGTH)),                   # no word
        (req(C.WRITE, P.write_payload(design.n_loads, [1])), err(C.WRITE, S.BAD_ADDRESS)),
        (req(C.WRITE, P.write_payload(0x100, [1])), err(C.WRITE, S.BAD_ADDRESS)),  # high byte
        (req(C.READ, struct.pack("<HB", 0, 0)), err(C.READ, S.BAD_LENGTH)),
        (req(C.READ, struct.pack("<HB", 0, P.MAX_READ_WORDS + 1)), err(C.READ, S.BAD_LENGTH)),
        (req(C.READ, P.read_payload(design.n_results, 1)), err(C.READ, S.BAD_ADDRESS)),
        # len > MAX_PAYLOAD: the rest is swallowed until the line is quiet.
        (dict(drain, send="a510c8" + "a5" * 6), err(C.WRITE, S.BAD_LENGTH)),
        # A truncated READ is abandoned after the inter-byte timeout.
        (dict(drain, send="a5300300"), err(C.READ, S.TIMEOUT)),
        (dict(drain, send="a5"), err(0, S.TIMEOUT)),
        # Line noise before a frame is skipped.
        ({"send": "00ff13" + P.encode_request(C.INFO).hex(), "wait_bits": 400},
         ok(C.INFO, info_of(design).encode())),
        # A framing error (0 stop bit) in the middle of a frame, and one outside any frame.
        (dict(drain, send=P.encode_request(C.WRITE, P.write_payload(0, other)).hex(),
              bad_stop=[3]), err(C.WRITE, S.FRAMING)),
        (dict(drain, send="55", bad_stop=[0]), err(0, S.FRAMING)),
        # The engine recovers, and the loads are those of the one good WRITE.
        (req(C.RUN, wait_bits=design.length // BIT + 400), ok(C.RUN, P.run_reply_payload(design.run_cycles))),
        (req(C.READ, P.read_payload(0, design.n_results)), ok(C.READ, results_payload(exp))),
    ]
    return [s for s, _ in steps], [w for _, w in steps]


def play_on_software_board(design, steps):
    board = software_board(design)
    replies = []
    for step in steps:
        board.write(bytes.fromhex(step["send"]))
        replies.append(board.read(4096).hex())
    return replies


def assert_replies(result, steps, want):
    for k, (step, got, expected) in enumerate(zip(steps, result["replies"], want)):
        assert got == expected, (f"step {k} sent {step['send']}: got {got or 'no reply'}, "
                                 f"expected {expected}")
    assert result["tx_bad_stop"] == 0


# ------------------------------------------------------------------------- pure Python

def test_protocol_frames_and_checksums():
    frame = P.encode_request(P.Command.WRITE, P.write_payload(3, [1, 0xFFFF]))
    assert frame.hex() == "a510060300" "0100" "ffff" + f"{(-(0x10 + 6 + 3 + 1 + 0x1fe)) & 0xFF:02x}"
    assert sum(frame[1:]) % 256 == 0
    reply = P.encode_reply(P.Command.READ, P.Status.OK, results_payload([5, 2**32 - 1]))
    r = P.decode_reply(reply)
    assert (r.cmd, r.status, P.decode_results(r.payload)) == (P.Command.READ, 0, [5, 2**32 - 1])
    for i in range(1, len(reply)):                    # any single corrupted byte is caught
        bad = bytearray(reply)
        bad[i] ^= 0x10
        with pytest.raises(P.ProtocolError):
            P.decode_reply(bad)
    with pytest.raises(P.ProtocolError, match="BAD_ADDRESS"):
        P.decode_reply(P.encode_reply(P.Command.READ, P.Status.BAD_ADDRESS)).check(P.Command.READ)
    info = P.Info(1, 128, 3, 2, 0xDEADBEEF, 300, 24_000_000, 240_000, 1)
    assert len(info.encode()) == P.INFO_SIZE == 23 and P.Info.decode(info.encode()) == info
    assert info.encode()[P.info_offset("flags")] == 1 and info.results_valid
    assert P.MAX_WRITE_WORDS == 63 and P.MAX_READ_WORDS == 32
    with pytest.raises(ValueError):
        P.write_payload(0, [1] * 64)
    with pytest.raises(ValueError):
        P.read_payload(0, 0)


def test_uart_divisor_and_limits():
    assert uart_divisor(12_000_000, 115200) == 104
    assert uart_divisor(24_000_000, 115200) == 208
    assert uart_divisor(921600, 115200) == 8
    with pytest.raises(ParameterError, match="baud"):
        uart_divisor(400_000, 115200)                 # divisor 3
    with pytest.raises(ParameterError, match="off"):
        uart_divisor(1_000_000, 115200)               # 9: 3.5 % off
    # The fast link: 3 Mbaud is exact at the UP5K's 18 MHz and the demo's 24 MHz; 4 Mbaud
    # is 12.5 % off at 18 MHz, and the message lists what the clock allows, in one line.
    assert uart_divisor(18_000_000, 3_000_000) == 6 and uart_divisor(24_000_000, 3_000_000) == 8
    with pytest.raises(ParameterError, match=r"12\.5% off .* allowed at 18 MHz: 9600, .*, "
                                             r"2000000, 3000000$"):
        uart_divisor(18_000_000, 4_000_000)
    assert 6_000_000 in allowed_bauds(24_000_000) and 921600 not in allowed_bauds(18_000_000)


ICEPLL_FREQS = (17, 24, 25, 30, 33.3, 48, 60, 100, 133, 250)


def test_pll_settings_match_icepll(tmp_path_factory):
    cwd = Path.cwd() / "build"
    cwd.mkdir(exist_ok=True)
    procs = {f: subprocess.Popen([tool_path("yowasp-icepll"), "-i", "12", "-o", str(f)], cwd=cwd,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for f in ICEPLL_FREQS}
    for f, proc in procs.items():
        out = proc.communicate()[0]
        got = {k: int(v) for k, v in re.findall(r"^(DIVR|DIVF|DIVQ|FILTER_RANGE):\s+(\d+)", out, re.M)}
        achieved = float(re.search(r"([\d.]+) MHz \(achieved\)", out)[1])
        s = pll_settings(12, f)
        assert (s.divr, s.divf, s.divq, s.filter_range) == (
            got["DIVR"], got["DIVF"], got["DIVQ"], got["FILTER_RANGE"]), f"{f} MHz: {out}"
        assert abs(s.f_out - achieved) < 1e-3        # icepll prints 3 decimals
        assert 533 <= s.f_vco <= 1066 and 10 <= s.f_pfd <= 133
    assert pll_settings(12, 24).f_out_hz == 24_000_000
    assert pll_settings(12, 16).f_out == 16.125       # icepll: 15.9375, below the PLL's minimum
    assert pll_settings(12, 275).f_out == 270         # icepll: 276, above its maximum
    with pytest.raises(ParameterError, match="16..275"):
        pll_settings(12, 300)


def test_board_catalogue_comes_from_amaranth_boards():
    assert set(BOARDS) == {"icebreaker", "upduino3", "icestick", "hx8k-evn"}
    for b in BOARDS.values():
        assert b.device in DEVICES and b.osc_mhz == 12
        pins = b.pins()
        assert len({pin for pin, _ in pins.values()}) == 5, b.name
        pcf = b.pcf()
        for port, (pin, _) in pins.items():
            assert re.search(rf"^set_io( -pullup yes)? {port} {pin}$", pcf, re.M), (b.name, port)
    ib = BOARDS["icebreaker"]
    assert (ib.device, ib.package, ib.pll) == ("up5k", "sg48", "SB_PLL40_PAD")
    assert ib.pins()["clk_in"] == ("35", False)                   # the PLL's own pad
    assert ib.pins()["uart_rx"] == ("6", False) and ib.pins()["uart_tx"] == ("9", False)
    assert ib.pins()["led_busy"] == ("11", True)                  # active-low LEDs
    assert BOARDS["icestick"].device == "hx1k" and BOARDS["hx8k-evn"].package == "ct256"


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_board_top_instantiates_the_right_pll(name):
    b = BOARDS[name]
    top = BoardTop(b, SNG.component(), 48)
    text = verilog.convert(top, name="board_top", emit_src=False)
    assert text.count(b.pll) == 1 and "SB_PLL40" not in text.replace(b.pll, "")
    assert top.clk_hz == 48_000_000 and top.core.divisor == round(48e6 / 115200)
    assert re.search(r"\.DIVF\(7'h[0-9a-f]+\)", text)
    plain = BoardTop(b, SNG.component(), 12)                       # the oscillator: no PLL
    assert plain.pll is None and "SB_PLL40" not in verilog.convert(plain, name="t", emit_src=False)
    with pytest.raises(ParameterError, match="freq"):
        core_clock(b, 10)


# ---------------------------------------------------------------- designs and runners

def amaranth_run(design, batch):
    """Drive a runnable through the contract in Amaranth's simulator; decoded results."""
    dut = check_runnable(design.component())
    sim = Simulator(dut)
    sim.add_clock(1e-6)
    got, busy_cycles = [], []

    async def bench(ctx):
        for loads in batch:
            for i, v in enumerate(loads):
                ctx.set(dut.load_addr, i)
                ctx.set(dut.load_data, int(v))
                ctx.set(dut.load_we, 1)
                await ctx.tick()
            ctx.set(dut.load_we, 0)
            ctx.set(dut.start, 1)
            await ctx.tick()
            ctx.set(dut.start, 0)
            n = 0
            while ctx.get(dut.busy):
                await ctx.tick()
                n += 1
            busy_cycles.append(n)
            row = []
            for r in range(design.n_results):
                ctx.set(dut.result_addr, r)
                await ctx.tick().repeat(dut.result_latency)
                row.append(ctx.get(dut.result_data))
            got.append(row)

    sim.add_testbench(bench)
    sim.run()
    assert busy_cycles == [design.run_cycles] * len(batch)
    return design.decode_results(np.array(got))


@pytest.mark.parametrize("design", [
    SNG, LIF, MUX,
    block_design("sng", {"width": 6, "dim": 3}, length=64),
    block_design("and", {}, length=200, input_width=5),
    block_design("xnor", {}, length=150, input_source="lfsr", input_width=5),
    block_design("lif", {"inputs": 2, "width": 8, "weights": "90,-60", "threshold": 100,
                         "leak_shift": 0, "reset": "zero"}, length=128, input_width=4),
], ids=["sng-lfsr", "lif-lfsr", "mux-sobol", "sng-sobol", "and", "xnor-lfsr", "lif-neg"])
def test_runner_equals_golden_model(design, rng):
    top = 1 << design.load_width
    loads = rng.integers(0, top + 1, size=(4, design.n_loads))
    loads[0] = top                                  # the extremes P = 0 and P = 2**W
    loads[1] = 0
    expected = design.expected_results(loads)
    assert np.array_equal(amaranth_run(design, loads), expected)
    assert len(np.unique(expected[:, 0])) > 1       # the loads matter
    assert expected[:, 0].max() > 0


def test_golden_results_have_the_documented_meaning():
    # sng: ones = P exactly over a full Sobol period; LFSR: P - 1 per period.
    sobol = block_design("sng", {"width": 8}, length=256)
    assert sobol.expected_results([[0], [77], [256]])[:, 0].tolist() == [0, 77, 256]
    lfsr = block_design("sng", {"source": "lfsr", "width": 8, "seed": 5}, length=255)
    assert lfsr.expected_results([[77]])[0, 0] == 76
    # and: a full-scale input passes the other stream through unchanged.
    a = block_design("and", {}, length=256)
    assert a.expected_results([[256, 100]])[0, 0] == 100
    # Input streams never reuse the MUX's select dimension.
    assert [s.dim for s in MUX.input_sources()] == [1, 3, 4, 5, 6]
    # Registered input bits: a block with inputs is busy one cycle longer than its run.
    assert (SNG.run_cycles, LIF.run_cycles, MUX.run_cycles) == (700, 301, 257)
    # The v result is signed.
    assert LIF.decode_results([[3, 2**32 - 5]]).tolist() == [[3, -5]]


def test_design_files_and_errors(tmp_path):
    f = tmp_path / "lif.toml"
    f.write_text('design = "lif"\nlength = 300\ninput_source = "lfsr"\ninput_width = 7\n'
                 '[params]\ninputs = 3\nwidth = 12\nweights = [300, -200, 250]\nthreshold = 700\n'
                 'leak_shift = 3\nrefractory = 1\n')
    d = load_design(f)
    assert d == LIF and d.design_id == LIF.design_id
    j = tmp_path / "d.json"
    j.write_text(json.dumps(LIF.spec))
    assert load_design(j).design_id == LIF.design_id
    for text, match in [('design = "fusion"', "design must be one of"),
                        ('design = "sng"\nspeed = 3', "unknown design file key 'speed'"),
                        ('design = "sng"\n[params]\nwidht = 3', "widht is not an option of sng"),
                        ('design = "sng"\n[params]\nwidth = 16', "width must be in 1..15"),
                        ('design = "mux"\nlength = 0', "length must be in"),
                        ("design = ", "not valid toml")]:
        f.write_text(text)
        with pytest.raises(ParameterError, match=match):
            load_design(f)
    with pytest.raises(ParameterError, match="shape"):
        LIF.loads_from_x(np.zeros((2, 4)))
    with pytest.raises(ParameterError, match="0..128"):
        LIF.check_loads([[0, 0, 129]])
    with pytest.raises(ParameterError, match="design"):
        BlockDesign("lfsr", None)


def test_example_design_files():
    examples = Path(__file__).parent.parent / "examples"
    sng = load_design(examples / "board_sng.toml")
    assert (sng.n_loads, sng.n_results, sng.length) == (1, 1, 1024)
    assert sng.expected_results([[0], [333], [1024]])[:, 0].tolist() == [0, 333, 1024]
    lif = load_design(examples / "board_lif.toml")
    assert (lif.n_loads, lif.n_results) == (3, 2)
    assert lif.expected_results(lif.loads_from_x([1.0, 0.0, 1.0]))[0, 0] > 0


def test_design_id_changes_with_any_parameter():
    ids = {d.design_id for d in [
        LIF, block_design("lif", {"inputs": 3, "width": 12, "weights": "300,-200,251",
                                  "threshold": 700, "leak_shift": 3, "refractory": 1},
                          length=300, input_source="lfsr", input_width=7),
        block_design("lif", {"inputs": 3, "width": 12, "weights": "300,-200,250",
                             "threshold": 700, "leak_shift": 3, "refractory": 1},
                     length=301, input_source="lfsr", input_width=7),
        SNG, MUX]}
    assert len(ids) == 5


# ------------------------------------------------------------ co-simulation over the UART

@pytest.mark.parametrize("design", [LIF, MUX, SNG], ids=["lif", "mux", "sng"])
def test_board_core_over_uart_equals_golden_model(design, rng):
    top = 1 << design.load_width
    loads_a = rng.integers(0, top + 1, size=design.n_loads)
    loads_b = rng.integers(0, top + 1, size=design.n_loads)
    steps, want = run_script(design, loads_a, loads_b)
    result = run_uart_session(core_verilog(design), "board_core", steps, BIT * 10)
    assert_replies(result, steps, want)
    assert play_on_software_board(design, steps) == want
    # The busy LED lit for the runs; the heartbeat kept toggling.
    assert result["busy_pulses"] >= 2 and result["heartbeat_toggles"] >= 5
    # Not vacuous: the model's results for other loads do not match what the DUT sent.
    other = design.expected_results((loads_a[None, :] + 1) % (top + 1))[0]
    assert not np.array_equal(other, design.expected_results(loads_a[None, :])[0])
    want[4] = ok(P.Command.READ, results_payload(other))
    with pytest.raises(AssertionError, match="step 4"):
        assert_replies(result, steps, want)


def test_board_core_errors_and_recovery(rng):
    design = LIF
    loads = rng.integers(0, (1 << design.load_width) + 1, size=design.n_loads)
    steps, want = error_script(design, loads)
    result = run_uart_session(core_verilog(design), "board_core", steps, BIT * 10)
    assert_replies(result, steps, want)
    # Abandoned frames are answered after about the timeout: never a hang.
    # reply_bits: from the end of the request to the end of the reply (10 bits a byte).
    for step, bits, reply in zip(steps, result["reply_bits"], want):
        sending = len(reply) // 2 * 10
        if step.get("quiet"):
            assert sending + TIMEOUT_BITS - 2 <= bits <= sending + TIMEOUT_BITS + 4, step
        elif not step["send"].startswith("a520"):         # not RUN: answered at once
            assert sending <= bits <= sending + 4, step
    # The software board gives the same bytes for everything it can express.
    plain = [k for k, s in enumerate(steps) if not s.get("bad_stop")]
    software = play_on_software_board(design, [steps[k] for k in plain])
    assert software == [want[k] for k in plain]


def test_gate_level_board_core_equals_golden_model(rng):
    """The synthesised iCE40 netlist of the whole core still answers bit-exactly."""
    design = SNG
    netlist, cells_sim = synthesise_netlist(core_verilog(design), "board_core")
    loads_a, loads_b = np.array([200]), np.array([511])
    steps, want = run_script(design, loads_a, loads_b)
    steps.append({"send": "a5300300", "wait_bits": TIMEOUT_BITS + 150})
    want.append(err(P.Command.READ, P.Status.TIMEOUT))
    result = run_uart_session(netlist, "board_core", steps, BIT * 10, extra_sources=[cells_sim],
                              defines=ICE40_SIM_DEFINES)
    assert_replies(result, steps, want)


@pytest.mark.parametrize("name", ["icebreaker", "icestick"])
def test_whole_board_top_with_pll_model(name, tmp_path):
    """The real top: 12 MHz in, a PLL (behavioural model) to 24 MHz, reset held until lock,
    the UART divisor from the achieved clock (1 Mbaud here, to keep the simulation short),
    the pins' LED polarity; the iCEstick's HX1K without BATCH (INFO says so)."""
    top = BoardTop(BOARDS[name], SNG.component(), 24, baud=1_000_000, led_tick_log2=8,
                   heartbeat_ticks=16, busy_ticks=2)
    assert (top.clk_hz, top.core.divisor) == (24_000_000, 24)
    assert top.core.batch == (name != "icestick")
    model = tmp_path / "pll_model.v"
    model.write_text(PLL_SIM_MODEL)
    loads = np.array([300])
    steps = [req(P.Command.INFO), req(P.Command.WRITE, P.write_payload(0, loads)),
             req(P.Command.RUN), req(P.Command.READ, P.read_payload(0, 1))]
    info = P.Info(P.PROTOCOL_VERSION, P.MAX_PAYLOAD, 1, 1, SNG.design_id, SNG.length,
                  24_000_000, 240_000, 0 if top.core.batch else P.FLAG_NO_BATCH)
    want = [ok(P.Command.INFO, info.encode()), ok(P.Command.WRITE),
            ok(P.Command.RUN, P.run_reply_payload(SNG.run_cycles)),
            ok(P.Command.READ, results_payload(SNG.expected_results([loads])[0]))]
    result = run_uart_session(verilog.convert(top, name="board_top", emit_src=False), "board_top",
                              steps, 1000, clock_port="clk_in", clock_ns=1000 / 12,
                              reset_port=None, settle_ns=60_000, extra_sources=[model])
    assert_replies(result, steps, want)
    assert result["heartbeat_toggles"] >= 2 and result["busy_pulses"] >= 1


# ---------------------------------------------------------------------- host driver

def test_host_client_on_software_board_splits_frames():
    wide = block_design("mux", {"inputs": 100, "width": 7}, length=128, input_width=7)
    x = np.random.default_rng(3).random((2, 100))
    with BoardClient.open("sim", design=wide) as board:
        info = board.info()
        assert (info.n_loads, info.design_id, info.results_valid) == (100, wide.design_id, False)
        got = board.evaluate(wide, wide.loads_from_x(x))           # 100 loads: two WRITEs
        assert np.array_equal(got, wide.expected_results(wide.loads_from_x(x)))
        assert board.transport.runs == 2 and board.info().results_valid
        with pytest.raises(P.ProtocolError, match="not 0x"):
            board.check_design(SNG)
        with pytest.raises(P.ProtocolError, match="BAD_ADDRESS"):
            board.read_results(1, 1)


# ------------------------------------------------------------------- CLI and builds

@pytest.fixture
def scfpga_main():
    assert "scfpga.cli_board" in cli.EXTENSIONS          # build/run are part of the CLI
    return cli.main


def test_cli_run_on_software_board(scfpga_main, tmp_path, capsys):
    design = tmp_path / "lif.json"
    design.write_text(json.dumps(LIF.spec))
    x = np.random.default_rng(5).random((3, 3))
    np.save(tmp_path / "x.npy", x)
    out = tmp_path / "r.npy"
    args = ["run", "--port", "sim", str(design), "--x", str(tmp_path / "x.npy"), "-o", str(out)]
    assert scfpga_main(args) == 0
    assert "3 samples bit-exact" in capsys.readouterr().out
    assert np.array_equal(np.load(out), LIF.expected_results(LIF.loads_from_x(x)))
    assert scfpga_main(args) == 2 and "use --force" in capsys.readouterr().err
    np.save(tmp_path / "x.npy", np.zeros((2, 4)))
    assert scfpga_main(args + ["--force"]) == 2 and "shape" in capsys.readouterr().err


def test_cli_run_models_the_build_with_or_without_batch(scfpga_main, tmp_path, capsys,
                                                        monkeypatch):
    """``--port sim`` takes BATCH and the baud from the report.json next to the design."""
    import scfpga.boards.simboard as simboard
    built = []
    monkeypatch.setattr(simboard.SimulatedBoard, "_batch_header",
                        lambda self, payload: built.append(self.batch) or (P.Status.BAD_LENGTH,))
    design = tmp_path / "lif.json"
    design.write_text(json.dumps(LIF.spec))
    np.save(tmp_path / "x.npy", np.random.default_rng(6).random((2, 3)))
    args = ["run", "--port", "sim", str(design), "--x", str(tmp_path / "x.npy")]
    for batch in (False, True):
        (tmp_path / "report.json").write_text(json.dumps(
            {"board": {"batch": batch, "uart": {"baud": 1_000_000}}}))
        code = scfpga_main(args)
        err_text = capsys.readouterr().err
        assert "1000000 baud" in err_text
        if batch:                   # BATCH was sent (and refused by the patched header check)
            assert code == 1 and "BAD_LENGTH" in err_text and built == [True]
        else:                       # WRITE, RUN, READ per sample: BATCH never sent
            assert code == 0 and built == []


def test_cli_batch_option_reaches_the_build_and_build_errors_are_one_line(
        scfpga_main, tmp_path, capsys, monkeypatch):
    import scfpga.boards.flow as flow
    from scfpga.boards.build import BuildError, DesignTooLarge
    seen = []

    def refuse(*a, batch=None, **k):
        seen.append(batch)
        raise (DesignTooLarge("design does not fit x: y", {}) if len(seen) < 3 else
               BuildError("nextpnr failed"))
    monkeypatch.setattr(flow, "build_board", refuse)
    argv = ["build", "sng", "--board", "icebreaker", "-o", str(tmp_path / "o")]
    for extra in ([], ["--no-batch"], ["--batch"]):
        assert scfpga_main(argv + extra) == 1
        assert capsys.readouterr().err.splitlines()[-1] in (
            "scfpga: error: design does not fit x: y", "scfpga: error: nextpnr failed")
    assert seen == [None, False, True]
    assert BoardTop(BOARDS["icebreaker"], SNG.component(), batch=False).core.batch is False
    assert BoardTop(BOARDS["icestick"], SNG.component(), batch=True).core.batch is True
    assert BoardTop(BOARDS["hx8k-evn"], SNG.component()).core.batch is True


@pytest.mark.parametrize("argv, message", [
    (["build", "fusion", "--board", "icebreaker", "-o", "x"], "fusion cannot run on a board"),
    (["build", "sng", "--board", "nope", "-o", "x"], "board must be one of icebreaker"),
    (["build", "sng", "--width", "20", "--board", "icebreaker", "-o", "x"], "--width must be in 1..15"),
    (["build", "sng", "-o", "x"], "--board is required"),
    (["build", "sng", "--board", "icebreaker"], "--output"),
    (["build", "sng", "--board", "icebreaker", "--freq", "8", "-o", "x"], "freq must be 12 MHz"),
    (["build", "sng", "--board", "icebreaker", "--baud", "4000000", "-o", "x"],
     "allowed at 18 MHz: 9600, 19200, 38400, 57600, 115200, 230400, 460800, 1000000, 1500000, "
     "2000000, 3000000"),
    (["build", "nothing.txt", "--board", "icebreaker", "-o", "x"], "BLOCK_OR_DESIGN must be"),
])
def test_cli_build_usage_errors(scfpga_main, capsys, argv, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert scfpga_main(argv) == 2
    err_text = capsys.readouterr().err
    assert message in err_text and err_text.count("\n") <= 2
    assert not (tmp_path / "x").exists()


def test_cli_builds_icebreaker_bitstream(scfpga_main, tmp_path, capsys):
    out = tmp_path / "sng"
    argv = ["build", "sng", "--source", "lfsr", "--width", "9", "--seed", "77", "--length", "700",
            "--board", "icebreaker", "--freq", "24", "-o", str(out)]
    assert scfpga_main(argv) == 0
    io = capsys.readouterr()
    assert "sng on icebreaker (up5k-sg48)" in io.out and "placing and routing" in io.err
    report = json.loads((out / "report.json").read_text())
    assert report["board"]["name"] == "icebreaker" and report["board"]["platform"] == "ICEBreakerPlatform"
    assert (report["device"], report["package"]) == ("up5k", "sg48")
    assert report["board"]["pll"]["primitive"] == "SB_PLL40_PAD"
    assert (report["board"]["pll"]["divr"], report["board"]["pll"]["divf"],
            report["board"]["pll"]["divq"]) == (0, 63, 5)
    assert report["board"]["uart"]["divisor"] == 208
    lc = report["logic_cells"]
    assert lc["total"] == 5280 and 200 < lc["used"] < 2000
    assert report["ebr"]["used"] >= 1 and report["ebr"]["total"] == 30     # the payload buffer
    assert report["spram"] == {"used": 0, "total": 4} and report["flip_flops"] > 100
    clk = report["fmax_mhz"]["clk"]
    assert abs(clk["target"] - 24) < 0.01 and clk["achieved"] > 24 and report["timing_met"]
    assert report["design"]["design_id"] == SNG.design_id
    assert load_design(out / "design.json").design_id == SNG.design_id
    assert "set_io clk_in 35" in (out / "board_top.pcf").read_text()
    assert (out / "board_top.bin").stat().st_size > 100_000
    before = (out / "board_top.bin").stat().st_mtime_ns
    assert scfpga_main(argv) == 2 and "--force" in capsys.readouterr().err
    assert (out / "board_top.bin").stat().st_mtime_ns == before


def test_cli_names_the_resource_that_does_not_fit(scfpga_main, tmp_path, capsys):
    out = tmp_path / "big"
    argv = ["build", "mux", "--inputs", "12", "--width", "8", "--input-width", "8",
            "--board", "icestick", "-o", str(out)]
    assert scfpga_main(argv) == 1
    err_text = capsys.readouterr().err
    # One line, exit 1: not an internal error with a traceback hint.
    assert re.fullmatch(r"scfpga: error: design does not fit hx1k-tq144: logic cells "
                        r"\(ICESTORM_LC\) \d+ > 1280", err_text.splitlines()[-1])
    assert "internal error" not in err_text
    assert not (out / "report.json").exists()


def test_cli_fails_on_missed_timing_unless_allowed(scfpga_main, tmp_path, capsys, monkeypatch):
    out = tmp_path / "fast"
    argv = ["build", "and", "--board", "icestick", "--freq", "192", "-o", str(out)]
    assert scfpga_main(argv) == 1
    io = capsys.readouterr()
    err_text = io.err
    # The iCEstick builds without BATCH (with it, not even this design fits the HX1K).
    assert "no BATCH" in io.out and "internal error" not in err_text
    m = re.search(r"timing not met: clock clk reaches ([\d.]+) MHz, below the target 192\.\d+ MHz",
                  err_text)
    assert m and float(m[1]) < 192
    report = json.loads((out / "report.json").read_text())
    assert not report["timing_met"] and report["board"]["clock_mhz"] == 192
    assert report["board"]["batch"] is False
    # The same report with --allow-timing-fail is accepted (no second build needed).
    import scfpga.boards.flow as flow
    monkeypatch.setattr(flow, "build_board", lambda *a, **k: report)
    assert scfpga_main(argv + ["--allow-timing-fail", "--force"]) == 0
    assert "accepted (--allow-timing-fail)" in capsys.readouterr().err


# ------------------------------------------------- the sources and the counter as designs

LFSR_RUN = block_design("lfsr", {"width": 10, "seed": 123}, length=200)
SOBOL_RUN = block_design("sobol", {"width": 12, "dim": 4}, length=160)
COUNTER_RUN = block_design("counter", {"window": 48}, length=250, input_source="lfsr",
                           input_width=6)
NEW_RUNS = {"lfsr": LFSR_RUN, "sobol": SOBOL_RUN, "counter": COUNTER_RUN}


def test_every_block_can_run_on_a_board():
    from scfpga.boards.ops import runnable_names
    from scfpga.model.ops import OPS
    # Every primitive block, the dense layer and networks; not (yet) fusion, and the neuron zoo
    # runs on a board inside a network's layers, not alone.
    blocks = {"lfsr", "sobol", "sng", "and", "xnor", "mux", "counter", "lif", "dense", "network"}
    assert blocks <= set(runnable_names()) and not {"fusion", "neuron"} & set(runnable_names())
    assert set(runnable_names()) <= set(OPS)


def test_source_and_counter_results_have_the_documented_meaning():
    from scfpga.model.counter import CounterParams, counter_counts
    from scfpga.model.lfsr import LFSRParams, lfsr_sequence
    from scfpga.model.sobol import SobolParams, sobol_sequence
    from scfpga.model.sng import compare
    seq = lfsr_sequence(LFSRParams(10, 123), 200)
    got = LFSR_RUN.expected_results([[0], [57], [199], [200], [2**15]])
    assert got[:, 0].tolist() == [123, seq[57], seq[199], 0, 0]        # past the run: 0
    assert (got[:, 1] == seq[-1]).all() and (got[:, 2] == seq.sum()).all()
    assert LFSR_RUN.result_names == ("sample", "last", "sum") and LFSR_RUN.n_loads == 1
    assert LFSR_RUN.loads_from_x([0.0, 0.5, 1.0]).ravel().tolist() == [0, 100, 199]
    # The sum wraps at 32 bits (32-bit Sobol values over 16 cycles overflow it).
    wide = block_design("sobol", {"width": 32, "dim": 2}, length=16)
    values = sobol_sequence(SobolParams(32, 2), 16)
    assert values.sum() >= 2**32
    assert wide.expected_results([[3]])[0].tolist() == [values[3], values[-1],
                                                        values.sum() % 2**32]
    # Sobol wraps after its period, as the hardware's index counter does.
    short = block_design("sobol", {"width": 4, "dim": 1}, length=40)
    assert short.expected_results([[16], [39]])[:, 0].tolist() == [0, sobol_sequence(
        SobolParams(4, 1), 8)[7]]
    # counter: ones of bits 192..239 (the 5th window of 48), five done pulses; the input SNG
    # is the one LFSR phase of a 1-input design, the threshold load 0.
    bits = compare(lfsr_sequence(COUNTER_RUN.input_sources()[0], 250), np.array([37]))[0]
    assert COUNTER_RUN.expected_results([[37]])[0].tolist() == [bits[192:240].sum(), 5]
    count, _ = counter_counts(CounterParams(48), bits)
    assert bits[192:240].sum() == count[-1]            # what the block shows in the last cycle
    assert COUNTER_RUN.expected_results([[64], [0]])[:, 0].tolist() == [48, 0]
    assert block_design("counter", {"window": 300}, length=250).expected_results([[256]]).tolist() \
        == [[0, 0]]
    # The counter stays busy one drain cycle more; the sources have no input register.
    assert (LFSR_RUN.run_cycles, SOBOL_RUN.run_cycles, COUNTER_RUN.run_cycles) == (200, 160, 252)
    assert COUNTER_RUN.decode_results([[2**32 - 1, 3]]).tolist() == [[2**32 - 1, 3]]   # unsigned


@pytest.mark.parametrize("design", [
    LFSR_RUN, SOBOL_RUN, COUNTER_RUN,
    block_design("lfsr", {"width": 32, "seed": 0xDEADBEEF}, length=3),
    block_design("sobol", {"width": 5, "dim": 9, "index_width": 6}, length=150),
    block_design("counter", {"window": 1}, length=9, input_width=3),
    block_design("counter", {"window": 64}, length=256, input_width=8),
], ids=["lfsr", "sobol", "counter-lfsr", "lfsr32-short", "sobol-index", "counter-w1",
        "counter-exact"])
def test_new_runners_equal_golden_model(design, rng):
    top = 1 << design.load_width
    if design.block == "counter":
        loads = rng.integers(0, top + 1, size=(5, 1))
        loads[:2, 0] = [top, 0]
    else:                       # sample indices: first, last, random, past the run
        loads = np.array([[0], [design.length - 1], [rng.integers(design.length)],
                          [design.length], [top]])
    expected = design.expected_results(loads)
    assert np.array_equal(amaranth_run(design, loads), expected)
    assert len(np.unique(expected[:, 0])) > 1           # the loads matter


@pytest.mark.parametrize("name", sorted(NEW_RUNS))
def test_new_designs_over_uart_equal_golden_model(name, rng):
    design = NEW_RUNS[name]
    if design.block == "counter":
        # +10: most of the 63 LFSR values fall in a 48-bit window, so the count moves.
        loads_a, loads_b = rng.integers(1, 50, size=1), np.array([64])
        other = loads_a + 10
    else:
        loads_a, loads_b = rng.integers(1, design.length - 1, size=1), np.array([design.length - 1])
        other = loads_a + 1
    steps, want = run_script(design, loads_a, loads_b)
    result = run_uart_session(core_verilog(design), "board_core", steps, BIT * 10)
    assert_replies(result, steps, want)
    assert play_on_software_board(design, steps) == want
    # Not vacuous: another load's golden results differ from what the DUT sent.
    alt = design.expected_results(other[None, :])[0]
    assert not np.array_equal(alt, design.expected_results(loads_a[None, :])[0])
    want[4] = ok(P.Command.READ, results_payload(alt))
    with pytest.raises(AssertionError, match="step 4"):
        assert_replies(result, steps, want)


@pytest.mark.parametrize("name", ["lfsr", "sobol", "counter"])
def test_cli_builds_every_new_block_for_icebreaker(scfpga_main, tmp_path, capsys, name):
    out = tmp_path / name
    assert scfpga_main(["build", name, "--board", "icebreaker", "-o", str(out)]) == 0
    assert f"{name} on icebreaker (up5k-sg48)" in capsys.readouterr().out
    report = json.loads((out / "report.json").read_text())
    assert report["timing_met"] and report["fmax_mhz"]["clk"]["achieved"] > 18
    assert 200 < report["logic_cells"]["used"] < 2000 and report["flip_flops"] > 100
    design = load_design(out / "design.json")
    assert design == block_design(name)                  # the CLI defaults, as a design file
    assert report["design"]["design_id"] == design.design_id
    assert report["design"]["n_results"] == design.n_results
    assert (out / "board_top.bin").stat().st_size > 100_000
