"""Property-based fuzzing of the board protocol (hypothesis): random and malformed frames against
the software board and the RTL protocol engine (cocotb + Icarus), and hostile boards against the
host driver. Properties: the board never raises and only sends well-formed replies; the RTL and
the software board send the same bytes; the host either gets a correctly shaped answer or a
ProtocolError, always within its deadline.

Generated cases per run (fixed by the settings below): 60 byte streams and 60 frame scripts on
the software board, 80 hostile replies and 10 noisy lines against the host driver, and 2 RTL
scripts of 16 steps (32 frames) under cocotb. BATCH's bad frames (length, checksums, addresses,
truncated and missing samples, framing, overrun) are a fixed script on the RTL core, checked
byte for byte and against the software board.
"""
import struct
import time

import numpy as np
from amaranth.back import verilog
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scfpga.boards import protocol as P
from scfpga.boards.designs import block_design
from scfpga.boards.host import BoardClient
from scfpga.boards.top import BoardCore
from scfpga.boards.uart_bench import run_uart_session
from board_helpers import BIT, CORE, LIF, TIMEOUT_BITS, core_verilog, info_of, software_board

C, S = P.Command, P.Status


def fuzz(n):
    """Run ``n`` generated cases per test run (no deadline: co-simulation is slow; no example
    database, so a run writes nothing into the checkout)."""
    return settings(max_examples=n, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def replies_of(data):
    """Split board output into reply frames; assert every byte belongs to a well-formed one."""
    frames, data = [], bytes(data)
    while data:
        assert data[0] == P.SYNC_REPLY and len(data) >= P.REPLY_HEADER, data.hex()
        n = P.reply_size(data)
        reply = P.decode_reply(data[:n])                    # raises on a malformed frame
        assert reply.status in S._value2member_map_
        assert reply.status == S.OK or reply.payload == b""
        frames.append(reply)
        data = data[n:]
    return frames


# --------------------------------------------------------------------------- frames
def _frame(cmd, payload, corrupt):
    frame = bytearray(P.encode_request(cmd, payload))
    if corrupt:
        frame[-1] ^= corrupt
    return bytes(frame)


@st.composite
def request_frames(draw, design=LIF):
    """One request frame: a valid command with fitting or broken payload, or an unknown one."""
    kind = draw(st.sampled_from(["info", "write", "run", "read", "unknown", "run+info"]))
    corrupt = draw(st.sampled_from([0, 0, 0, 1, 0x80]))
    if kind == "info":
        return _frame(C.INFO, draw(st.binary(max_size=2)), corrupt), kind
    if kind == "write":
        addr = draw(st.one_of(st.integers(0, design.n_loads), st.integers(0, 0xFFFF)))
        words = draw(st.lists(st.integers(0, 0xFFFF), min_size=0, max_size=5))
        payload = struct.pack(f"<H{len(words)}H", addr, *words) + draw(st.binary(max_size=1))
        return _frame(C.WRITE, payload, corrupt), kind
    if kind == "run":
        return _frame(C.RUN, draw(st.binary(max_size=1)), corrupt), kind
    if kind == "read":
        payload = struct.pack("<HB", draw(st.integers(0, design.n_results + 1)),
                              draw(st.integers(0, P.MAX_READ_WORDS + 2)))
        return _frame(C.READ, payload[:draw(st.integers(2, 3))], corrupt), kind
    if kind == "run+info":       # INFO while the board runs: dropped by the busy board
        return _frame(C.RUN, b"", 0) + _frame(C.INFO, b"", 0), kind
    cmd = draw(st.integers(0, 255).filter(lambda c: c not in C._value2member_map_))
    return _frame(cmd, draw(st.binary(max_size=6)), corrupt), kind


@st.composite
def steps(draw, design=LIF):
    """A step of a session: noise, then a frame that is whole, truncated or over-long."""
    noise = draw(st.binary(max_size=3).map(lambda b: bytes(x for x in b if x != P.SYNC_REQUEST)))
    frame, kind = draw(request_frames(design))
    shape = draw(st.sampled_from(["whole"] * 6 + ["truncated", "too_long"]))
    if kind == "run+info":
        shape = "whole"
    if shape == "truncated":
        frame = frame[:draw(st.integers(1, len(frame) - 1))]
    elif shape == "too_long":
        frame = bytes([P.SYNC_REQUEST, frame[1], draw(st.integers(P.MAX_PAYLOAD + 1, 255))]) + \
            draw(st.binary(max_size=4))
    step = {"send": (noise + frame).hex(), "wait_bits": 400}
    if shape != "whole":
        step.update(wait_bits=TIMEOUT_BITS + 150, quiet=True)     # answered after the timeout
    elif frame[1] == C.RUN:
        step["wait_bits"] = design.length // BIT + 400
    return step


def play(board, script):
    out = []
    for step in script:
        board.write(bytes.fromhex(step["send"]))
        out.append(board.read(1 << 16).hex())
    return out


# --------------------------------------------------------------- software board
@fuzz(60)
@given(st.binary(max_size=300))
def test_software_board_answers_any_byte_stream_with_well_formed_replies(data):
    board = software_board(LIF)
    board.write(data)
    out = board.read(1 << 16)
    out += board.read(1 << 16)                   # the line went quiet: a pending frame ends
    replies_of(out)
    assert board.read(1 << 16) == b""            # nothing left over
    # Whatever came before, the board answers the next request correctly.
    board.write(P.encode_request(C.INFO))
    (reply,) = replies_of(board.read(1 << 16))
    info = P.Info.decode(reply.check(C.INFO).payload)
    assert (info.n_loads, info.n_results, info.design_id) == (LIF.n_loads, LIF.n_results, LIF.design_id)


@fuzz(60)
@given(st.lists(steps(), min_size=1, max_size=12))
def test_software_board_one_reply_per_step_and_results_follow_the_loads(script):
    board = software_board(LIF)
    for step, out in zip(script, play(board, script)):
        assert len(replies_of(bytes.fromhex(out))) == 1, step     # exactly one reply, never more
    # After a RUN, READ returns the golden model of the loads as the registers hold them.
    board.write(P.encode_request(C.RUN))
    replies_of(board.read(1 << 16))[0].check(C.RUN)
    board.write(P.encode_request(C.READ, P.read_payload(0, LIF.n_results)))
    got = P.decode_results(replies_of(board.read(1 << 16))[0].check(C.READ).payload)
    want = LIF.expected_results(board.effective_loads()[None, :])[0] & 0xFFFFFFFF
    assert got == want.tolist()


def test_software_board_drops_requests_while_busy_and_runs_out_of_range_loads():
    board = software_board(LIF)
    board.write(P.encode_request(C.WRITE, P.write_payload(0, [0xFFFF, 129, 300])))
    replies_of(board.read(100))[0].check(C.WRITE)
    # RUN then INFO without waiting: the INFO arrives while the RUN reply goes out: dropped.
    board.write(P.encode_request(C.RUN) + P.encode_request(C.INFO))
    (reply,) = replies_of(board.read(1 << 16))
    assert reply.check(C.RUN).payload == P.run_reply_payload(LIF.run_cycles)
    # 0xFFFF keeps its low 8 bits (255, above 128: compares like 128); 300 keeps 44.
    assert board.effective_loads().tolist() == [128, 128, 44]


# ------------------------------------------------------------------ host driver
class HostileBoard:
    """Answers each request with the bytes ``reply(request)`` gives, a few bytes per read."""

    def __init__(self, reply):
        self.reply, self.out = reply, bytearray()

    def write(self, data):
        self.out += self.reply(bytes(data))

    def read(self, n, timeout=None):
        chunk, self.out = bytes(self.out[:min(n, 7)]), self.out[min(n, 7):]
        return chunk

    def close(self):
        pass


GOOD_INFO = info_of(LIF)


@st.composite
def hostile_replies(draw):
    """A reply to a request: right or wrong command, any status, payload of any size, bad
    checksum, noise around it, or an INFO with odd fields."""
    cmd = draw(st.sampled_from([None, 0x00, 0x01, 0x10, 0x20, 0x30, 0x77]))
    status = draw(st.sampled_from([0, 0, 0, 1, 2, 3, 5, 6, 9]))
    payload = draw(st.one_of(
        st.binary(max_size=40),
        st.builds(lambda v, p, c: P.Info(v, p, LIF.n_loads, LIF.n_results, LIF.design_id,
                                         LIF.length, c, CORE["timeout_cycles"]).encode(),
                  st.sampled_from([P.PROTOCOL_VERSION, 0, 2]), st.sampled_from([P.MAX_PAYLOAD, 8]),
                  st.sampled_from([CORE["clk_hz"], 0, 1]))))
    corrupt = draw(st.sampled_from([0, 0, 0, 1]))
    noise = draw(st.binary(max_size=4))
    tail = draw(st.booleans())

    def reply(request):
        frame = bytearray(P.encode_reply(request[1] if cmd is None else cmd, status, payload))
        frame[-1] ^= corrupt
        return noise + bytes(frame if not tail else frame[:len(frame) // 2])
    return reply


@fuzz(80)
@given(hostile_replies(), st.sampled_from(["info", "run", "read", "write"]))
def test_host_driver_validates_every_reply_and_never_overruns_its_deadline(reply, what):
    timeout = 0.05
    client = BoardClient(HostileBoard(reply), timeout=timeout)
    client._info = GOOD_INFO
    t0 = time.monotonic()
    try:
        if what == "info":
            info = client.info()
            assert info.version == P.PROTOCOL_VERSION and info.clk_hz > 0
        elif what == "run":
            assert 0 <= client.run() < 1 << 32
        elif what == "read":
            n = LIF.n_results + 2
            assert len(client.read_results(0, n)) == n
        else:
            client.write_loads(0, [1, 2, 3])
    except P.ProtocolError as e:
        assert str(e) and "\n" not in str(e)
    assert time.monotonic() - t0 < timeout + LIF.length / CORE["clk_hz"] + 0.5


class NoisyLine:
    """A board that never stops sending bytes (no valid reply among them)."""

    def __init__(self, seed, sync_rate):
        self.rng, self.sync_rate = np.random.default_rng(seed), sync_rate

    def write(self, data):
        pass

    def read(self, n, timeout=None):
        data = self.rng.integers(0, 256, size=max(1, n), dtype=np.uint8)
        data[self.rng.random(len(data)) < self.sync_rate] = P.SYNC_REPLY
        return data.tobytes()

    def close(self):
        pass


@fuzz(10)
@given(st.integers(0, 2**32 - 1), st.sampled_from([0.0, 0.05, 0.5, 1.0]))
def test_host_driver_gives_up_on_continuous_line_noise(seed, sync_rate):
    client = BoardClient(NoisyLine(seed, sync_rate), timeout=0.05)
    t0 = time.monotonic()
    try:
        client.info()
        raise AssertionError("noise decoded as an INFO reply")
    except P.ProtocolError as e:
        assert "no complete reply" in str(e) or "INFO" in str(e) or "reply to command" in str(e)
    assert time.monotonic() - t0 < 0.5


# ---------------------------------------------------------------- RTL engine
@fuzz(2)
@given(st.lists(steps(), min_size=16, max_size=16))
def test_rtl_engine_equals_software_board_on_random_frames(tmp_path_factory, script):
    """The gateware and the software board send the same bytes for every generated step."""
    result = run_uart_session(core_verilog(LIF), "board_core", script, BIT * 10,
                              build_root=tmp_path_factory.mktemp("uart"))
    software = play(software_board(LIF), script)
    for k, (step, rtl, sw) in enumerate(zip(script, result["replies"], software)):
        assert rtl == sw, f"step {k} sent {step['send']}: RTL {rtl or 'nothing'}, software {sw or 'nothing'}"
    assert result["tx_bad_stop"] == 0


# ---------------------------------------------------------------- BATCH bad frames
def _raw_batch(addr, rcount, raddr, n, samples, size=P.BATCH_HEADER_SIZE):
    return P.encode_request(C.BATCH, struct.pack("<HBHHH", addr, rcount, raddr, n, samples)[:size])


def _err(status):
    return P.encode_reply(C.BATCH, status).hex()


def _frames_of(data):
    return len(replies_of(data))


def batch_error_script():
    """Every BATCH error, each followed by proof that the engine answers correctly again.

    Returns (steps, expected reply hex per step, indices of steps the software board can
    play: all but the framing error's batch)."""
    loads = np.array([100, 20, 77])
    drain = {"wait_bits": TIMEOUT_BITS + 150}
    wait = {"wait_bits": P.BATCH_WAIT_FACTOR * TIMEOUT_BITS + 150}
    good = lambda samples: {"send": P.encode_request(C.BATCH, P.batch_payload(          # noqa: E731
        0, 3, 0, 2, samples)).hex(), "wait_bits": 400}
    ok_hdr = P.encode_reply(C.BATCH, S.OK).hex()
    bad_chk = bytearray(_raw_batch(0, 2, 0, 3, 1))
    bad_chk[-1] ^= 0x20
    a, b = np.array([30, 128, 5]), np.array([64, 64, 64])
    res = lambda l: LIF.expected_results(l[None, :])[0]                                 # noqa: E731
    sample_ok = lambda l: P.encode_reply(C.BATCH, S.OK, struct.pack(                    # noqa: E731
        "<2I", *(int(v) & 0xFFFFFFFF for v in res(l)))).hex()
    broken = bytearray(P.sample_block(b))
    broken[-1] ^= 0x01
    info = lambda flags: P.encode_reply(C.INFO, S.OK, P.Info(                            # noqa: E731
        P.PROTOCOL_VERSION, P.MAX_PAYLOAD, LIF.n_loads, LIF.n_results, LIF.design_id,
        LIF.length, CORE["clk_hz"], CORE["timeout_cycles"], flags).encode()).hex()
    steps = [
        ({"send": P.encode_request(C.WRITE, P.write_payload(0, loads)).hex(), "wait_bits": 400},
         P.encode_reply(C.WRITE, S.OK).hex()),
        ({"send": bad_chk.hex(), "wait_bits": 400}, _err(S.BAD_CHECKSUM)),
        # Bad length: short header, rcount 0 or > 63, no words, no samples.
        ({"send": _raw_batch(0, 2, 0, 3, 1, size=8).hex(), "wait_bits": 400}, _err(S.BAD_LENGTH)),
        ({"send": _raw_batch(0, 0, 0, 3, 1).hex(), "wait_bits": 400}, _err(S.BAD_LENGTH)),
        ({"send": _raw_batch(0, 64, 0, 3, 1).hex(), "wait_bits": 400}, _err(S.BAD_LENGTH)),
        ({"send": _raw_batch(0, 2, 0, 0, 1).hex(), "wait_bits": 400}, _err(S.BAD_LENGTH)),
        ({"send": _raw_batch(0, 2, 0, 3, 0).hex(), "wait_bits": 400}, _err(S.BAD_LENGTH)),
        # Bad address: loads or results beyond the design, also through a high byte.
        ({"send": _raw_batch(2, 2, 0, 2, 1).hex(), "wait_bits": 400}, _err(S.BAD_ADDRESS)),
        ({"send": _raw_batch(0, 2, 1, 3, 1).hex(), "wait_bits": 400}, _err(S.BAD_ADDRESS)),
        ({"send": _raw_batch(0x100, 1, 0, 1, 1).hex(), "wait_bits": 400}, _err(S.BAD_ADDRESS)),
        ({"send": _raw_batch(0, 1, 0, 0x101, 1).hex(), "wait_bits": 400}, _err(S.BAD_ADDRESS)),
        ({"send": _raw_batch(0, 1, 0x8000, 1, 1).hex(), "wait_bits": 400}, _err(S.BAD_ADDRESS)),
        # Nothing was executed: the loads are still those of the WRITE.
        ({"send": P.encode_request(C.RUN).hex(), "wait_bits": LIF.length // BIT + 400},
         P.encode_reply(C.RUN, S.OK, P.run_reply_payload(LIF.run_cycles)).hex()),
        ({"send": P.encode_request(C.READ, P.read_payload(0, 2)).hex(), "wait_bits": 400},
         P.encode_reply(C.READ, S.OK, struct.pack("<2I", *(int(v) & 0xFFFFFFFF
                                                         for v in res(loads)))).hex()),
        # A sample with a bad checksum: its predecessor's reply, then BAD_CHECKSUM once quiet;
        # the bad sample did not run (results are sample a's) but its words were written.
        (good(3), ok_hdr),
        (dict(drain, send=(P.sample_block(a) + bytes(broken)).hex(), frames=2),
         sample_ok(a) + _err(S.BAD_CHECKSUM)),
        ({"send": P.encode_request(C.INFO).hex(), "wait_bits": 400}, info(0)),
        ({"send": P.encode_request(C.READ, P.read_payload(0, 2)).hex(), "wait_bits": 400},
         P.encode_reply(C.READ, S.OK, struct.pack("<2I", *(int(v) & 0xFFFFFFFF
                                                         for v in res(a)))).hex()),
        # Truncated: a sample stops half way -> TIMEOUT after the inter-byte timeout.
        (good(2), ok_hdr),
        (dict(drain, send=(P.sample_block(a) + P.sample_block(b)[:3]).hex(), frames=2),
         sample_ok(a) + _err(S.TIMEOUT)),
        # No sample at all -> TIMEOUT after the longer first-byte wait.
        (good(1), ok_hdr),
        (dict(wait, send=""), _err(S.TIMEOUT)),
        # A framing error inside a sample -> FRAMING once the line is quiet.
        (good(2), ok_hdr),
        (dict(drain, send=P.sample_block(a).hex(), bad_stop=[1]), _err(S.FRAMING)),
        # Recovery: a good batch, results valid again.
        (good(1), ok_hdr),
        ({"send": P.sample_block(b).hex(), "wait_bits": 400}, sample_ok(b)),
        ({"send": P.encode_request(C.INFO).hex(), "wait_bits": 400}, info(P.FLAG_RESULTS_VALID)),
    ]
    # The software board cannot send a 0 stop bit: it skips that step and its batch header.
    plain = [k for k in range(len(steps))
             if not any(s.get("bad_stop") for s, _ in steps[k:k + 2])]
    return [s for s, _ in steps], [w for _, w in steps], plain


def play_frames(board, script):
    """Like :func:`play`, reading until each step's ``frames`` replies are in."""
    out = []
    for step in script:
        board.write(bytes.fromhex(step["send"]))
        got = b""
        while True:
            chunk = board.read(1 << 16)
            got += chunk
            if not chunk or _frames_of(got) >= step.get("frames", 1):
                break
        out.append(got.hex())
    return out


def test_rtl_engine_batch_bad_frames_and_recovery(tmp_path_factory):
    """Bad length, bad checksum (header and sample), bad address, truncated sample and missing
    sample (timeouts), framing error: one error reply each, the same bytes from the software
    board, and the engine answers correctly afterwards."""
    steps, want, plain = batch_error_script()
    result = run_uart_session(core_verilog(LIF), "board_core", steps, BIT * 10,
                              build_root=tmp_path_factory.mktemp("uart"))
    for k, (step, rtl, expected) in enumerate(zip(steps, result["replies"], want)):
        assert rtl == expected, f"step {k} sent {step['send']}: RTL {rtl or 'nothing'}, want {expected}"
    software = play_frames(software_board(LIF),
                           [steps[k] for k in plain])
    assert software == [want[k] for k in plain]
    # The first-byte wait is the longer one: the reply came after 20 timeouts, not one.
    assert result["reply_bits"][21] >= P.BATCH_WAIT_FACTOR * TIMEOUT_BITS - 10


def test_rtl_engine_batch_overrun(tmp_path_factory):
    """Samples sent faster than a slow design takes them overflow a small receive FIFO: the
    replies so far are right, then one OVERRUN once the line is quiet; then INFO works."""
    slow = block_design("sng", {"source": "lfsr", "width": 9, "seed": 77}, length=2000)
    core = BoardCore(slow.component(), **CORE, fifo_bytes=16)
    text = verilog.convert(core, name="board_core", emit_src=False)
    rows = np.arange(1, 21)[:, None] * 20
    steps = [{"send": P.encode_request(C.BATCH, P.batch_payload(0, 1, 0, 1, 20)).hex(),
              "wait_bits": 400},
             # 25 bytes arrive during each 2000-cycle run: the 16-byte FIFO overflows in the
             # first run, so sample 0 is answered and then the batch ends with OVERRUN.
             {"send": b"".join(P.sample_block(r) for r in rows).hex(), "frames": 2,
              "wait_bits": 4 * (2000 // BIT + 200)},
             {"send": P.encode_request(C.INFO).hex(), "wait_bits": 400}]
    result = run_uart_session(text, "board_core", steps, BIT * 10,
                              build_root=tmp_path_factory.mktemp("uart"))
    frames = replies_of(bytes.fromhex(result["replies"][1]))
    assert len(frames) == 2 and frames[-1].status == S.OVERRUN
    for reply, row in zip(frames[:-1], rows):
        want = slow.expected_results(row[None, :])[0].tolist()
        assert P.decode_results(reply.check(C.BATCH).payload) == want
    P.Info.decode(replies_of(bytes.fromhex(result["replies"][2]))[0].check(C.INFO).payload)
