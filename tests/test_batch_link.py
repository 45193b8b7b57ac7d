"""BATCH: many samples per request, results streamed back, on the RTL core and the software board.

The board core (cocotb + Icarus, 8 clock cycles per UART bit) takes a BATCH header, then sample
blocks paced as the host driver paces them; every reply must equal the frame the protocol module
builds around the golden model's results, and the software board must send the same bytes.
Pipelining is checked on the simulated clock: a batch takes about one reply time per sample,
not a request, a run and a reply. The host driver's ``run_batch`` is checked on the software
board, including its pacing. Bad BATCH frames are in ``test_fuzz_protocol.py``.
"""
import struct

import numpy as np
import pytest
from amaranth.back import verilog

from scfpga.boards import protocol as P
from scfpga.boards.designs import block_design
from scfpga.boards.host import BoardClient
from scfpga.boards.simboard import SimulatedBoard
from scfpga.boards.top import BoardCore
from scfpga.boards.uart_bench import run_uart_session

C, S = P.Command, P.Status
from board_helpers import BIT, CORE, LIF, TIMEOUT_BITS, core_verilog  # noqa: E402  (the board tests' core)


def words_hex(values):
    return struct.pack(f"<{len(values)}I", *(int(v) & 0xFFFFFFFF for v in values)).hex()


def ok(cmd, payload_hex=""):
    return P.encode_reply(cmd, S.OK, bytes.fromhex(payload_hex)).hex()


def play(design, steps):
    """The steps on the software board: read until the step's frames are in (as the bench).
    ``design`` may be a software board already."""
    board = design if isinstance(design, SimulatedBoard) else \
        SimulatedBoard(design, CORE["clk_hz"], CORE["timeout_cycles"])
    out = []
    for step in steps:
        board.write(bytes.fromhex(step.get("send", "")) +
                    b"".join(bytes.fromhex(c) for c in step.get("chunks", ())))
        got = b""
        while True:
            chunk = board.read(1 << 16)
            got += chunk
            if not chunk or len(split_frames(got)) >= step.get("frames", 1):
                break
        out.append(got.hex())
    return out


def split_frames(data):
    frames = []
    while len(data) >= P.REPLY_HEADER and len(data) >= P.reply_size(data):
        n = P.reply_size(data)
        frames.append(data[:n])
        data = data[n:]
    return frames


def batch_session(design, rng, n_samples=8):
    """A WRITE, a full batch, a partial batch (loads 1.., result 1) and READ/INFO after it.

    Returns (steps, expected reply hex per step)."""
    top = (1 << design.load_width) + 1
    loads = rng.integers(0, top, size=design.n_loads)
    steps, want = [], []

    def add(step, reply):
        steps.append(dict({"wait_bits": 400}, **step))
        want.append(reply)

    def batch(rows, addr, raddr, rcount):
        n = rows.shape[1]
        add({"send": P.encode_request(C.BATCH, P.batch_payload(addr, n, raddr, rcount,
                                                                len(rows))).hex()}, ok(C.BATCH))
        replies = []
        for row in rows:
            loads[addr:addr + n] = row
            results = design.expected_results(loads[None, :])[0]
            replies.append(ok(C.BATCH, words_hex(results[raddr:raddr + rcount])))
        add({"chunks": [P.sample_block(r).hex() for r in rows], "window": P.batch_window(n),
             "frames": len(rows), "wait_bits": len(rows) * (design.length // BIT + 400)},
            "".join(replies))
        return results

    add({"send": P.encode_request(C.WRITE, P.write_payload(0, loads)).hex()}, ok(C.WRITE))
    batch(rng.integers(0, top, size=(n_samples, design.n_loads)), 0, 0, design.n_results)
    last = batch(rng.integers(0, top, size=(3, design.n_loads - 1)), 1, 1, design.n_results - 1)
    add({"send": P.encode_request(C.READ, P.read_payload(0, design.n_results)).hex()},
        ok(C.READ, words_hex(last)))
    info = P.Info(P.PROTOCOL_VERSION, P.MAX_PAYLOAD, design.n_loads, design.n_results,
                  design.design_id, design.length, CORE["clk_hz"], CORE["timeout_cycles"],
                  P.FLAG_RESULTS_VALID)
    add({"send": P.encode_request(C.INFO).hex()}, ok(C.INFO, info.encode().hex()))
    return steps, want


def test_batch_on_rtl_core_equals_golden_model_and_software_board_and_pipelines(rng):
    design = LIF
    steps, want = batch_session(design, rng)
    result = run_uart_session(core_verilog(design), "board_core", steps, BIT * 10)
    for k, (got, expected) in enumerate(zip(result["replies"], want)):
        assert got == expected, f"step {k}: got {got or 'nothing'}, expected {expected}"
    assert result["tx_bad_stop"] == 0
    assert play(design, steps) == want
    # Not vacuous: the samples of the batch differ in their results.
    frames = split_frames(bytes.fromhex(want[2]))
    assert len(frames) == 8 and len(set(frames)) > 1
    # Pipelined: the 8-sample stream takes about 8 reply times (the busiest direction here),
    # far less than 8 times a request + a run + a reply, which a round trip per sample costs.
    bit_ns = BIT * 10
    reply_bits = 10 * P.sample_reply_size(design.n_results)
    request_bits = 10 * (2 * design.n_loads + 1)
    serial_ns = 8 * (request_bits + design.run_cycles / BIT + reply_bits) * bit_ns
    line_ns = 8 * reply_bits * bit_ns
    stream_ns = result["step_ns"][2]
    assert line_ns <= stream_ns <= line_ns + (request_bits + 2 * reply_bits) * bit_ns + \
        2 * design.run_cycles * 10, (stream_ns, line_ns)
    assert stream_ns < 0.7 * serial_ns


class CountingBoard(SimulatedBoard):
    """A software board that records how many samples the host had sent beyond the replies it
    had read (the board's receive buffer must hold them)."""

    def __init__(self, design):
        super().__init__(design)
        self.sent, self.read_frames, self.ahead, self.seen = 0, 0, 0, b""

    def write(self, data):
        if self._batch is not None:
            self.sent += len(data) // (2 * self._batch[1] + 1)
            self.ahead = max(self.ahead, self.sent - self.read_frames)
        return super().write(data)

    def read(self, n, timeout=None):
        chunk = super().read(n)
        self.seen += chunk
        self.read_frames = sum(f[1] == C.BATCH and len(f) > P.REPLY_HEADER + 1
                               for f in split_frames(self.seen))
        return chunk


def test_host_run_batch_paces_samples_and_equals_golden_model(rng):
    wide = block_design("mux", {"inputs": 100, "width": 7}, length=128, input_width=7)
    loads = wide.loads_from_x(rng.random((12, 100)))
    board = CountingBoard(wide)
    client = BoardClient(board, timeout=0.5)
    got = client.run_batch(loads)
    assert np.array_equal(wide.decode_results(got), wide.expected_results(loads))
    assert board.runs == 12
    window = P.batch_window(100)                # 201-byte samples: 3 in flight
    assert window == 3 and board.ahead == window
    # Loads from an offset, one result of two: only those words travel.
    sng = block_design("sng", {"width": 8}, length=256)
    client = BoardClient(SimulatedBoard(sng), timeout=0.5)
    assert client.run_batch([[0], [77], [256]], results=(0, 1)).ravel().tolist() == [0, 77, 256]
    with pytest.raises(P.ProtocolError, match="1..63 results"):
        client.run_batch([[1]], results=(0, 64))
    with pytest.raises(P.ProtocolError, match="BAD_ADDRESS"):
        client.run_batch([[1, 2]])


class OldBoard(SimulatedBoard):
    """A board whose bitstream predates BATCH."""

    def _batch_header(self, payload):
        return (S.UNKNOWN_COMMAND,)


def test_host_falls_back_to_per_sample_frames_on_a_board_without_batch(rng):
    loads = LIF.loads_from_x(rng.random((3, 3)))
    client = BoardClient(OldBoard(LIF), timeout=0.5)
    with pytest.raises(P.ProtocolError, match="does not know BATCH"):
        client.run_batch(loads)
    assert np.array_equal(client.evaluate(LIF, loads), LIF.expected_results(loads))
    assert client.transport.runs == 3


def test_core_without_batch_answers_unknown_command_and_serves_write_run_read(rng):
    """``batch=False`` (the iCEstick's default): BATCH is UNKNOWN_COMMAND, INFO says so, and
    WRITE/RUN/READ, timeouts and framing errors work as with BATCH; the software board built
    without BATCH sends the same bytes."""
    design = LIF
    loads = rng.integers(0, (1 << design.load_width) + 1, size=design.n_loads)
    results = design.expected_results(loads[None, :])[0]
    header = P.encode_request(C.BATCH, P.batch_payload(0, design.n_loads, 0, design.n_results, 2))

    def info(flags):
        return ok(C.INFO, P.Info(P.PROTOCOL_VERSION, P.MAX_PAYLOAD, design.n_loads,
                                 design.n_results, design.design_id, design.length,
                                 CORE["clk_hz"], CORE["timeout_cycles"], flags).encode().hex())

    quiet = {"wait_bits": TIMEOUT_BITS + 150, "quiet": True}      # answered after the timeout
    script = [
        ({"send": P.encode_request(C.INFO).hex()}, info(P.FLAG_NO_BATCH)),
        ({"send": header.hex()}, P.encode_reply(C.BATCH, S.UNKNOWN_COMMAND).hex()),
        ({"send": P.encode_request(C.WRITE, P.write_payload(0, loads)).hex()}, ok(C.WRITE)),
        ({"send": P.encode_request(C.RUN).hex(), "wait_bits": design.length // BIT + 400},
         ok(C.RUN, P.run_reply_payload(design.run_cycles).hex())),
        ({"send": P.encode_request(C.READ, P.read_payload(0, design.n_results)).hex()},
         ok(C.READ, words_hex(results))),
        ({"send": P.encode_request(C.INFO).hex()}, info(P.FLAG_NO_BATCH | P.FLAG_RESULTS_VALID)),
        (dict(quiet, send=header[:5].hex()), P.encode_reply(C.BATCH, S.TIMEOUT).hex()),
        (dict(quiet, send="a510c8a5a5"), P.encode_reply(C.WRITE, S.BAD_LENGTH).hex()),
        (dict(quiet, send=header.hex(), bad_stop=[4]), P.encode_reply(C.BATCH, S.FRAMING).hex()),
        ({"send": P.encode_request(C.READ, P.read_payload(1, 1)).hex()},
         ok(C.READ, words_hex(results[1:2]))),
    ]
    steps = [dict({"wait_bits": 400}, **s) for s, _ in script]
    want = [w for _, w in script]
    core = BoardCore(design.component(), **CORE, batch=False)
    result = run_uart_session(verilog.convert(core, name="board_core", emit_src=False),
                              "board_core", steps, BIT * 10)
    for k, (got, expected) in enumerate(zip(result["replies"], want)):
        assert got == expected, f"step {k}: got {got or 'nothing'}, expected {expected}"
    assert result["tx_bad_stop"] == 0
    board = SimulatedBoard(design, CORE["clk_hz"], CORE["timeout_cycles"], batch=False)
    lines = [(s, w) for s, w in zip(steps, want) if "bad_stop" not in s]   # no stop bits there
    assert play(board, [s for s, _ in lines]) == [w for _, w in lines]


def test_host_without_batch_uses_per_sample_frames_without_asking(rng):
    """INFO's FLAG_NO_BATCH: evaluate goes straight to WRITE, RUN and READ (no BATCH request),
    and run_batch says why it cannot."""
    loads = LIF.loads_from_x(rng.random((3, 3)))

    class Recording(SimulatedBoard):
        def write(self, data):
            self.commands = getattr(self, "commands", []) + \
                ([data[1]] if data[:1] == bytes([P.SYNC_REQUEST]) else [])
            return super().write(data)

    board = Recording(LIF, batch=False)
    client = BoardClient(board, timeout=0.5)
    assert np.array_equal(client.evaluate(LIF, loads), LIF.expected_results(loads))
    assert board.runs == 3 and C.BATCH not in board.commands and not client.info().has_batch
    with pytest.raises(P.ProtocolError, match="built without BATCH") as e:
        client.run_batch(loads)
    assert e.value.status == S.UNKNOWN_COMMAND
    assert BoardClient.open("sim", design=LIF).info().has_batch
