"""Host driver: talk to a board top over a serial port (pyserial), or to a software board.

Frames, codes and limits come from :mod:`.protocol`, the module the gateware is built from.

>>> with BoardClient.open("/dev/ttyUSB1") as board:          # doctest: +SKIP
...     info = board.info()
...     results = board.evaluate(design, design.loads_from_x(x))   # BATCH frames
...     raw = board.run_batch(loads)          # (batch, n_results) raw 32-bit words

A batch is one BATCH request: the header is answered at once, then the samples stream out
while their results stream back; the host keeps :func:`.protocol.batch_window` samples
ahead of the replies it has read, so it never waits a round trip per sample and never
overruns the board's receive buffer.
"""
import math
import time

import numpy as np

from .protocol import (BATCH_WAIT_FACTOR, DEFAULT_BAUD, INFO_SIZE, MAX_BATCH_RESULTS,
                       MAX_BATCH_SAMPLES, MAX_PAYLOAD, MAX_READ_WORDS, MAX_WRITE_WORDS,
                       PROTOCOL_VERSION, REPLY_HEADER, SYNC_REPLY, Command, Info, ProtocolError,
                       Status, batch_payload, batch_window, decode_reply, decode_results,
                       encode_request, read_payload, reply_size, sample_block, write_payload)
from .simboard import SimulatedBoard

SIM_PORT = "sim"
MAX_TIMEOUT_S = 3600.0
MAX_BAUD = 12_000_000
MAX_RUN_S = 3600.0            # a RUN the board says takes longer than this is a bad INFO


def check_timeout(timeout):
    """A reply timeout in seconds: a finite number in (0, 3600]."""
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or \
            not math.isfinite(timeout) or not 0 < timeout <= MAX_TIMEOUT_S:
        raise ProtocolError(f"timeout must be a number of seconds > 0 and <= {MAX_TIMEOUT_S:g}, "
                            f"got {timeout!r}")
    return float(timeout)


def check_baud(baud):
    if isinstance(baud, bool) or not isinstance(baud, int) or not 300 <= baud <= MAX_BAUD:
        raise ProtocolError(f"baud must be an integer in 300..{MAX_BAUD}, got {baud!r}")
    return baud


class SerialTransport:
    """A serial port (8N1) through pyserial."""

    def __init__(self, port, baud=DEFAULT_BAUD):
        check_baud(baud)
        try:
            import serial
        except ImportError:
            raise ProtocolError("pyserial is not installed: pip install pyserial") from None
        try:
            self.serial = serial.Serial(port, baud, bytesize=8, parity="N", stopbits=1, timeout=0.05)
        except serial.SerialException as e:
            raise ProtocolError(f"cannot open {port}: {e}") from None
        self.serial.reset_input_buffer()

    def write(self, data):
        self.serial.write(data)
        self.serial.flush()

    def read(self, n, timeout=None):
        return self.serial.read(n)              # returns after at most 50 ms (the port timeout)

    def close(self):
        self.serial.close()


class BoardClient:
    """Request/response client of the board protocol.

    Parameters
    ----------
    transport : object
        ``write(bytes)``, ``read(n) -> bytes`` (may return fewer, possibly none, after a short
        wait) and ``close()``: :class:`SerialTransport` or :class:`.simboard.SimulatedBoard`.
    timeout : float
        Seconds to wait for a reply (a RUN adds its own duration, from INFO), in (0, 3600].
        The deadline holds whatever the line carries: continuous noise, a reply that never
        completes or a stream of foreign frames all end in :class:`ProtocolError` by then.

    Every reply is checked: its command echo, status, payload size (INFO 23 bytes, RUN 4,
    READ 4 per word asked for, WRITE none), and INFO's version, payload limit, clock and timeout
    fields. Anything else is a :class:`ProtocolError` naming what was wrong.
    """

    def __init__(self, transport, timeout=1.0):
        self.transport = transport
        self.timeout = check_timeout(timeout)
        self._info = None

    @classmethod
    def open(cls, port, baud=DEFAULT_BAUD, design=None, timeout=1.0, batch=True):
        """Open a serial port, or ``"sim"`` for a software board running ``design``, built
        with BATCH or not (``batch``; a real board says which in INFO)."""
        check_timeout(timeout)
        check_baud(baud)
        if port == SIM_PORT:
            if design is None:
                raise ProtocolError("the simulated board needs a design")
            return cls(SimulatedBoard(design, batch=batch), timeout)
        return cls(SerialTransport(port, baud), timeout)

    def close(self):
        self.transport.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ------------------------------------------------------------------------- framing
    def _read_exactly(self, n, deadline, skipped=0):
        """``n`` bytes, or :class:`ProtocolError` once ``deadline`` passes: checked after every
        read, whether it returned bytes or not, so a line that never stops talking cannot
        hold the host."""
        data = bytearray()
        while len(data) < n:
            if time.monotonic() > deadline:
                noise = f" after {skipped} bytes of line noise" if skipped else ""
                raise ProtocolError(f"no complete reply within {self.timeout:g} s{noise} "
                                    f"(got {bytes(data[:16]).hex(' ') or 'nothing'})")
            chunk = self.transport.read(n - len(data))
            if chunk:
                data += chunk[:n - len(data)]
        return bytes(data)

    def request(self, cmd, payload=b"", extra_time=0.0):
        """Send one request and return its :class:`.protocol.Reply` (any status).

        Bytes before the reply's sync byte are skipped (line noise); a frame that fails its
        checksum is skipped too and the hunt goes on, all within one deadline of ``timeout``
        + ``extra_time`` seconds."""
        self.transport.write(encode_request(cmd, payload))
        return self._reply(extra_time)

    def _reply(self, extra_time=0.0):
        """The next well-formed reply frame, within ``timeout + extra_time`` seconds."""
        deadline = time.monotonic() + self.timeout + extra_time
        skipped = 0
        while True:
            while self._read_exactly(1, deadline, skipped)[0] != SYNC_REPLY:
                skipped += 1                        # line noise before the reply
            header = bytes([SYNC_REPLY]) + self._read_exactly(REPLY_HEADER - 1, deadline, skipped)
            frame = header + self._read_exactly(reply_size(header) - REPLY_HEADER, deadline, skipped)
            try:
                return decode_reply(frame)
            except ProtocolError:
                skipped += len(frame)               # noise that looked like a reply: hunt on

    def _ok(self, cmd, payload=b"", extra_time=0.0, size=None):
        """An OK reply to ``cmd`` whose payload has ``size`` bytes (None: any)."""
        reply = self.request(cmd, payload, extra_time).check(cmd)
        if size is not None and len(reply.payload) != size:
            raise ProtocolError(f"{Command(cmd).name} reply payload has {len(reply.payload)} "
                                f"bytes, expected {size}")
        return reply

    # ------------------------------------------------------------------------ commands
    def info(self):
        """The board's :class:`.protocol.Info` (version, design id, sizes, clock), checked:
        protocol version :data:`~.protocol.PROTOCOL_VERSION`, a payload limit of at least
        :data:`~.protocol.MAX_PAYLOAD`, a clock and timeout > 0 and a run that ends within an
        hour."""
        info = Info.decode(self._ok(Command.INFO, size=INFO_SIZE).payload)
        if info.version != PROTOCOL_VERSION:
            raise ProtocolError(f"the board speaks protocol version {info.version}, this host "
                                f"{PROTOCOL_VERSION}: rebuild the bitstream with this scfpga")
        if info.max_payload < MAX_PAYLOAD:
            raise ProtocolError(f"the board takes payloads of at most {info.max_payload} bytes, "
                                f"the host sends up to {MAX_PAYLOAD}")
        if info.clk_hz == 0 or info.timeout_cycles == 0:
            raise ProtocolError(f"the board reports a clock of {info.clk_hz} Hz and an inter-byte "
                                f"timeout of {info.timeout_cycles} cycles; both must be > 0")
        if info.length / info.clk_hz > MAX_RUN_S:
            raise ProtocolError(f"the board reports runs of {info.length} cycles at "
                                f"{info.clk_hz} Hz (over {MAX_RUN_S:g} s)")
        self._info = info
        return info

    def write_loads(self, addr, words):
        """Write load words ``addr, addr+1, ...`` (split into frames as needed)."""
        words = [int(w) for w in words]
        for start in range(0, len(words), MAX_WRITE_WORDS):
            chunk = words[start:start + MAX_WRITE_WORDS]
            self._ok(Command.WRITE, write_payload(addr + start, chunk), size=0)

    def run(self):
        """Run the design once; the number of cycles it was busy."""
        info = self._info or self.info()
        reply = self._ok(Command.RUN, extra_time=info.length / info.clk_hz, size=4)
        return int.from_bytes(reply.payload, "little")

    def read_results(self, addr, count):
        """Results ``addr .. addr+count-1`` as raw 32-bit words (exactly ``count``)."""
        out = []
        for start in range(0, count, MAX_READ_WORDS):
            n = min(MAX_READ_WORDS, count - start)
            reply = self._ok(Command.READ, read_payload(addr + start, n), size=4 * n)
            out += decode_results(reply.payload)
        return out

    def run_batch(self, loads, addr=0, results=None):
        """Run every row of ``loads`` in BATCH requests; raw 32-bit results (batch, count).

        Parameters
        ----------
        loads : array (batch, n)
            Row k is written to loads ``addr .. addr+n-1`` before sample k runs.
        addr : int
            First load of each row (other loads keep what WRITE put there).
        results : (first, count) or None
            Which results come back per sample, count 1..63; default all of them.

        An error reply (bad frame, timeout, overrun) is a :class:`ProtocolError` naming the
        sample it answers. A board built without BATCH (INFO says so, or it answers
        UNKNOWN_COMMAND) is a :class:`ProtocolError` with status UNKNOWN_COMMAND.
        """
        info = self._info or self.info()
        if not info.has_batch:              # no request needed: INFO said so
            raise ProtocolError("the board was built without BATCH (scfpga build --no-batch, "
                                "or a small device): use WRITE, RUN and READ per sample",
                                status=Status.UNKNOWN_COMMAND)
        loads = np.atleast_2d(np.asarray(loads, dtype=np.int64))
        first, count = (0, info.n_results) if results is None else results
        if not 1 <= count <= MAX_BATCH_RESULTS:
            raise ProtocolError(f"a batch returns 1..{MAX_BATCH_RESULTS} results per sample, "
                                f"got {count}")
        if loads.ndim != 2 or loads.shape[1] == 0:
            raise ProtocolError(f"loads must have shape (batch, n), got {loads.shape}")
        n = loads.shape[1]
        window = batch_window(n)
        run_s = info.length / info.clk_hz
        out = []
        for start in range(0, len(loads), MAX_BATCH_SAMPLES):
            rows = loads[start:start + MAX_BATCH_SAMPLES]
            header = self.request(Command.BATCH, batch_payload(addr, n, first, count, len(rows)))
            if header.status == Status.UNKNOWN_COMMAND:
                raise ProtocolError("the board does not know BATCH (a bitstream built without "
                                    "it, or before it)", status=header.status)
            if len(header.check(Command.BATCH).payload):
                raise ProtocolError(f"BATCH reply payload has {len(header.payload)} bytes, "
                                    f"expected 0")
            blocks = [sample_block(row) for row in rows]
            self.transport.write(b"".join(blocks[:window]))
            for k in range(len(rows)):
                # A reply may wait for the runs queued before it and the board's patience
                # with the first byte of a sample.
                reply = self._reply(window * run_s + BATCH_WAIT_FACTOR * info.timeout_s)
                if reply.cmd != Command.BATCH or reply.status != Status.OK:
                    name = (Status(reply.status).name if reply.status in Status._value2member_map_
                            else hex(reply.status))
                    raise ProtocolError(f"BATCH sample {start + k} failed: board replied {name}",
                                        status=reply.status)
                if len(reply.payload) != 4 * count:
                    raise ProtocolError(f"BATCH reply payload has {len(reply.payload)} bytes, "
                                        f"expected {4 * count}")
                out.append(decode_results(reply.payload))
                if k + window < len(rows):
                    self.transport.write(blocks[k + window])
        return np.array(out, dtype=np.int64).reshape(len(loads), count)

    def check_design(self, design):
        """Raise :class:`ProtocolError` unless the board runs ``design``."""
        info = self.info()
        if info.design_id != design.design_id:
            raise ProtocolError(f"the board runs design 0x{info.design_id:08x}, not "
                                f"0x{design.design_id:08x} ({design.name}): build and flash it")
        if (info.n_loads, info.n_results) != (design.n_loads, design.n_results):
            raise ProtocolError("the board's design has different loads or results")
        return info

    def evaluate(self, design, loads):
        """Run every row of ``loads`` (batch, n_loads); results (batch, n_results), decoded.

        One BATCH request when a sample's results fit one reply (up to 63), else (and on a
        board built without BATCH, or before it) WRITE, RUN and READ per sample."""
        check = getattr(design, "check_loads", None)       # optional in the contract
        loads = check(loads) if check else np.atleast_2d(np.asarray(loads, dtype=np.int64))
        self.check_design(design)
        if design.n_results <= MAX_BATCH_RESULTS:
            try:
                return design.decode_results(self.run_batch(loads))
            except ProtocolError as e:
                if e.status != Status.UNKNOWN_COMMAND:
                    raise
        raw = []                    # a board without BATCH, or too many results per sample
        for row in loads:
            self.write_loads(0, row)
            self.run()
            raw.append(self.read_results(0, design.n_results))
        return design.decode_results(np.array(raw, dtype=np.int64).reshape(len(loads), -1))
