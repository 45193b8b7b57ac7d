"""Host driver: talk to a board top over a serial port (pyserial), or to a software board.

Frames, codes and limits come from :mod:`.protocol`, the module the gateware is built from.

>>> with BoardClient.open("/dev/ttyUSB1") as board:          # doctest: +SKIP
...     info = board.info()
...     results = board.evaluate(design, design.loads_from_x(x))
"""
import time

import numpy as np

from .protocol import (DEFAULT_BAUD, MAX_READ_WORDS, MAX_WRITE_WORDS, REPLY_HEADER, SYNC_REPLY,
                       Command, Info, ProtocolError, decode_reply, decode_results, encode_request,
                       read_payload, reply_size, write_payload)
from .simboard import SimulatedBoard

SIM_PORT = "sim"


class SerialTransport:
    """A serial port (8N1) through pyserial."""

    def __init__(self, port, baud=DEFAULT_BAUD):
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
        return self.serial.read(n)

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
        Seconds to wait for a reply (a RUN adds its own duration, from INFO).
    """

    def __init__(self, transport, timeout=1.0):
        self.transport = transport
        self.timeout = timeout
        self._info = None

    @classmethod
    def open(cls, port, baud=DEFAULT_BAUD, design=None, timeout=1.0):
        """Open a serial port, or ``"sim"`` for a software board running ``design``."""
        if port == SIM_PORT:
            if design is None:
                raise ProtocolError("the simulated board needs a design")
            return cls(SimulatedBoard(design), timeout)
        return cls(SerialTransport(port, baud), timeout)

    def close(self):
        self.transport.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ------------------------------------------------------------------------- framing
    def _read_exactly(self, n, deadline):
        data = bytearray()
        while len(data) < n:
            chunk = self.transport.read(n - len(data))
            if chunk:
                data += chunk
            elif time.monotonic() > deadline:
                raise ProtocolError(f"no complete reply within {self.timeout:g} s "
                                    f"(got {bytes(data).hex(' ') or 'nothing'})")
        return bytes(data)

    def request(self, cmd, payload=b"", extra_time=0.0):
        """Send one request and return its :class:`.protocol.Reply` (any status)."""
        self.transport.write(encode_request(cmd, payload))
        deadline = time.monotonic() + self.timeout + extra_time
        while self._read_exactly(1, deadline)[0] != SYNC_REPLY:
            pass                                    # skip line noise before the reply
        header = bytes([SYNC_REPLY]) + self._read_exactly(REPLY_HEADER - 1, deadline)
        frame = header + self._read_exactly(reply_size(header) - REPLY_HEADER, deadline)
        return decode_reply(frame)

    # ------------------------------------------------------------------------ commands
    def info(self):
        """The board's :class:`.protocol.Info` (version, design id, sizes, clock)."""
        self._info = Info.decode(self.request(Command.INFO).check(Command.INFO).payload)
        return self._info

    def write_loads(self, addr, words):
        """Write load words ``addr, addr+1, ...`` (split into frames as needed)."""
        words = [int(w) for w in words]
        for start in range(0, len(words), MAX_WRITE_WORDS):
            chunk = words[start:start + MAX_WRITE_WORDS]
            self.request(Command.WRITE, write_payload(addr + start, chunk)).check(Command.WRITE)

    def run(self):
        """Run the design once; the number of cycles it was busy."""
        info = self._info or self.info()
        reply = self.request(Command.RUN, extra_time=info.length / info.clk_hz)
        return int.from_bytes(reply.check(Command.RUN).payload, "little")

    def read_results(self, addr, count):
        """Results ``addr .. addr+count-1`` as raw 32-bit words."""
        out = []
        for start in range(0, count, MAX_READ_WORDS):
            n = min(MAX_READ_WORDS, count - start)
            reply = self.request(Command.READ, read_payload(addr + start, n)).check(Command.READ)
            out += decode_results(reply.payload)
        return out

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
        """Run every row of ``loads`` (batch, n_loads); results (batch, n_results), decoded."""
        check = getattr(design, "check_loads", None)       # optional in the contract
        loads = check(loads) if check else np.atleast_2d(np.asarray(loads, dtype=np.int64))
        self.check_design(design)
        raw = []
        for row in loads:
            self.write_loads(0, row)
            self.run()
            raw.append(self.read_results(0, design.n_results))
        return design.decode_results(np.array(raw, dtype=np.int64).reshape(len(loads), -1))
