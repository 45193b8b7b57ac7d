"""The framed UART protocol between a host and a board top, defined once for both sides.

The gateware (:mod:`.engine`), the host driver (:mod:`.host`), the software board model and the
cocotb bench all take their codes, layouts and limits from this module.

Frames
------
Every multi-byte field is little-endian. The checksum byte makes the 8-bit sum of every byte
after the sync byte zero: ``chk = -(sum of those bytes) mod 256``.

========  ======================================================  ==========================
frame     bytes                                                   checksum covers
========  ======================================================  ==========================
request   ``A5 cmd len payload[len] chk``                         cmd, len, payload
reply     ``5A cmd status len payload[len] chk``                  cmd, status, len, payload
========  ======================================================  ==========================

``len`` is 0..:data:`MAX_PAYLOAD`. A reply echoes the request's ``cmd`` (0x00 if the error hit
before the command byte arrived). An error reply has ``len = 0``.

Commands
--------
=========  ====  =====================================  =========================================
command    code  request payload                        OK reply payload
=========  ====  =====================================  =========================================
INFO       0x01  none                                   :class:`Info` (:data:`INFO_LAYOUT`, 23 B)
WRITE      0x10  ``addr u16, word u16 x n`` (n 1..63)   none; loads ``addr..addr+n-1`` in order
RUN        0x20  none                                   ``cycles u32``: cycles the design was
                                                        busy; sent when the run has finished
READ       0x30  ``addr u16, count u8`` (count 1..32)   ``result u32 x count``
BATCH      0x40  ``addr u16, rcount u8, raddr u16,      none; then the board takes ``samples``
                 n u16, samples u16`` (9 B)             sample blocks (below), one reply each
=========  ====  =====================================  =========================================

Batches
-------
BATCH streams many samples through one request, so the host never waits a round trip per
sample. It is a build option: a board built without it (the default on the iCEstick's
HX1K, where its buffers would leave too little room for a design, or ``--no-batch``) answers
it UNKNOWN_COMMAND and sets :data:`FLAG_NO_BATCH` in INFO's ``flags``; the host then sends
WRITE, RUN and READ per sample. Its header frame is checked like any request (``rcount`` 1..:data:`MAX_BATCH_RESULTS`,
``n`` >= 1 and ``samples`` >= 1, else BAD_LENGTH; ``addr + n`` beyond ``n_loads`` or
``raddr + rcount`` beyond ``n_results``: BAD_ADDRESS) and answered at once; after an OK reply
(empty payload) the board reads ``samples`` sample blocks, raw bytes without framing::

    word u16 x n, chk u8          chk = -(sum of the 2n word bytes) mod 256

For each block it writes the words to loads ``addr .. addr+n-1``, runs the design and sends
one reply ``5A 40 00 len result u32 x rcount chk`` (results ``raddr .. raddr+rcount-1``,
``len = 4 rcount``) as soon as the run ends: results are streamed, not kept for the batch.
The board keeps receiving while it runs and replies: received bytes wait in a
:data:`BATCH_FIFO_BYTES` byte buffer and replies in a buffer of the same size, so a host that
keeps at most :func:`batch_window` samples ahead of the replies it has read never overflows
it. A sample's bytes follow each other within the inter-byte timeout; its first byte may come
up to ``BATCH_WAIT_FACTOR`` timeouts after the board has sent the previous reply (room for
the host's USB latency). An error ends the batch with one error reply (``len = 0``) in
place of the sample's reply: TIMEOUT (a sample stopped arriving), and, once the line has been
quiet for the timeout (the bytes still in flight are swallowed), BAD_CHECKSUM (that sample's
``chk``; it was not run), FRAMING or OVERRUN (a byte arrived with the receive buffer full).
After an error the loads ``addr .. addr+n-1`` are undefined until written again. Results of
the last run stay readable (READ) after the batch, as after RUN.

Status codes
------------
===============  ====  ===========================================================================
status           code  cause
===============  ====  ===========================================================================
OK               0x00  command executed
BAD_CHECKSUM     0x01  the frame's byte sum is not 0 mod 256 (nothing was executed)
BAD_LENGTH       0x02  ``len`` > MAX_PAYLOAD, or wrong for the command (e.g. WRITE with an odd
                       length, READ count 0 or > 32)
UNKNOWN_COMMAND  0x03  ``cmd`` is none of the above (BATCH too, on a board built without it)
FRAMING          0x04  a byte arrived with a 0 stop bit (UART framing error)
TIMEOUT          0x05  a frame stopped arriving: no byte for the inter-byte timeout
BAD_ADDRESS      0x06  WRITE beyond ``n_loads`` or READ beyond ``n_results`` (BATCH: either)
OVERRUN          0x07  BATCH only: a sample byte arrived while the receive buffer was full
===============  ====  ===========================================================================

Errors and recovery
-------------------
* Bytes outside a frame other than ``A5`` are ignored (the engine hunts for the sync byte).
* A truncated frame is abandoned once no byte has arrived for ``timeout_cycles`` clock cycles
  (:data:`TIMEOUT_MS` by default, reported by INFO): the reply is TIMEOUT. The engine never
  hangs waiting for a byte.
* After a framing error or a bad ``len`` the frame's extent is unknown, so the engine discards
  everything until the line has been quiet for the timeout, then replies FRAMING / BAD_LENGTH.
* A complete frame with a bad checksum, an unknown command, a bad length or address is
  answered at once and nothing is executed.
* One request at a time: bytes that arrive while the board executes a command or sends its
  reply are dropped. Wait for the reply (or the timeout) before sending again.
"""
import struct
from dataclasses import dataclass, fields
from enum import IntEnum

SYNC_REQUEST = 0xA5
SYNC_REPLY = 0x5A
PROTOCOL_VERSION = 1                           # BATCH came later: UNKNOWN_COMMAND on older boards
MAX_PAYLOAD = 128
MAX_WRITE_WORDS = (MAX_PAYLOAD - 2) // 2       # 63 16-bit load words per WRITE
MAX_READ_WORDS = MAX_PAYLOAD // 4              # 32 32-bit results per READ
MAX_BATCH_RESULTS = 63                         # results per BATCH sample reply: len <= 252
MAX_BATCH_SAMPLES = 0xFFFF
BATCH_HEADER_SIZE = 9
BATCH_FIFO_BYTES = 512                         # receive and reply buffers: one iCE40 EBR each
BATCH_WAIT_FACTOR = 20                         # first byte of a sample: 20 timeouts (200 ms)
TIMEOUT_MS = 10                                # default inter-byte timeout
DEFAULT_BAUD = 115200                          # any USB-serial adapter; builds take --baud
# The digits demo's link: the iCEBreaker's FT2232H makes 3 Mbaud exactly (12 MHz / 4) and
# the 18 and 24 MHz cores divide it exactly (6 and 8 cycles per bit).
FAST_BAUD = 3_000_000
LOAD_WIDTH = 16
RESULT_WIDTH = 32
ADDR_WIDTH = 16


class Command(IntEnum):
    INFO = 0x01
    WRITE = 0x10
    RUN = 0x20
    READ = 0x30
    BATCH = 0x40


class Status(IntEnum):
    OK = 0x00
    BAD_CHECKSUM = 0x01
    BAD_LENGTH = 0x02
    UNKNOWN_COMMAND = 0x03
    FRAMING = 0x04
    TIMEOUT = 0x05
    BAD_ADDRESS = 0x06
    OVERRUN = 0x07


class ProtocolError(RuntimeError):
    """A malformed reply, or a reply whose status is not OK (``status`` is then set)."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


# ------------------------------------------------------------------------------------ framing

def checksum(body):
    """The byte that makes ``sum(body) + chk`` zero modulo 256."""
    return (-sum(body)) & 0xFF


def encode_request(cmd, payload=b""):
    """A request frame: ``A5 cmd len payload chk``."""
    payload = bytes(payload)
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"payload must be at most {MAX_PAYLOAD} bytes, got {len(payload)}")
    body = bytes([int(cmd) & 0xFF, len(payload)]) + payload
    return bytes([SYNC_REQUEST]) + body + bytes([checksum(body)])


def encode_reply(cmd, status, payload=b""):
    """A reply frame: ``5A cmd status len payload chk``."""
    payload = bytes(payload)
    body = bytes([int(cmd) & 0xFF, int(status), len(payload)]) + payload
    return bytes([SYNC_REPLY]) + body + bytes([checksum(body)])


REPLY_HEADER = 4          # sync, cmd, status, len


def reply_size(header):
    """Total reply length given its first :data:`REPLY_HEADER` bytes."""
    return REPLY_HEADER + header[3] + 1


@dataclass(frozen=True)
class Reply:
    cmd: int
    status: int
    payload: bytes

    def check(self, expected_cmd):
        """Raise :class:`ProtocolError` unless this is an OK reply to ``expected_cmd``."""
        if self.status != Status.OK:
            name = Status(self.status).name if self.status in Status._value2member_map_ else hex(self.status)
            raise ProtocolError(f"{Command(expected_cmd).name} failed: board replied {name}",
                                status=self.status)
        if self.cmd != int(expected_cmd):
            raise ProtocolError(f"reply to command 0x{self.cmd:02x}, expected 0x{int(expected_cmd):02x}")
        return self


def decode_reply(frame):
    """Parse one complete reply frame; :class:`ProtocolError` if it is malformed."""
    frame = bytes(frame)
    if len(frame) < REPLY_HEADER + 1 or frame[0] != SYNC_REPLY:
        raise ProtocolError(f"not a reply frame: {frame.hex(' ')}")
    if len(frame) != reply_size(frame):
        raise ProtocolError(f"reply length {len(frame)} does not match its len field {frame[3]}")
    if sum(frame[1:]) & 0xFF:
        raise ProtocolError(f"reply checksum mismatch: {frame.hex(' ')}")
    return Reply(frame[1], frame[2], frame[REPLY_HEADER:-1])


# ------------------------------------------------------------------------------- payloads

def write_payload(addr, words):
    words = [int(w) for w in words]
    if not 1 <= len(words) <= MAX_WRITE_WORDS:
        raise ValueError(f"WRITE takes 1..{MAX_WRITE_WORDS} words, got {len(words)}")
    if any(not 0 <= w < 1 << LOAD_WIDTH for w in words):
        raise ValueError(f"load words must be in 0..{(1 << LOAD_WIDTH) - 1}")
    return struct.pack(f"<H{len(words)}H", addr, *words)


def read_payload(addr, count):
    if not 1 <= count <= MAX_READ_WORDS:
        raise ValueError(f"READ takes 1..{MAX_READ_WORDS} results, got {count}")
    return struct.pack("<HB", addr, count)


def decode_results(payload):
    """32-bit results of a READ reply payload; :class:`ProtocolError` unless whole words."""
    if len(payload) % 4:
        raise ProtocolError(f"READ reply payload of {len(payload)} bytes is not whole 32-bit words")
    return list(struct.unpack(f"<{len(payload) // 4}I", payload))


def run_reply_payload(cycles):
    return struct.pack("<I", cycles)


def batch_payload(addr, n, raddr, rcount, samples):
    """The BATCH header payload: ``n`` load words from ``addr`` and ``rcount`` results from
    ``raddr`` per sample, for ``samples`` samples."""
    if not 1 <= rcount <= MAX_BATCH_RESULTS:
        raise ValueError(f"BATCH returns 1..{MAX_BATCH_RESULTS} results per sample, got {rcount}")
    if not 1 <= n <= 0xFFFF or not 1 <= samples <= MAX_BATCH_SAMPLES:
        raise ValueError(f"BATCH takes 1..65535 words and samples, got {n} and {samples}")
    return struct.pack("<HBHHH", addr, rcount, raddr, n, samples)


def sample_block(words):
    """One BATCH sample: its load words (u16 each) and the checksum byte."""
    words = [int(w) for w in words]
    if any(not 0 <= w < 1 << LOAD_WIDTH for w in words):
        raise ValueError(f"load words must be in 0..{(1 << LOAD_WIDTH) - 1}")
    body = struct.pack(f"<{len(words)}H", *words)
    return body + bytes([checksum(body)])


def sample_reply_size(rcount):
    """Bytes of one BATCH sample's OK reply."""
    return REPLY_HEADER + 4 * rcount + 1


def batch_window(n):
    """Samples of ``n`` words a host may send beyond the replies it has read: while the
    board runs one sample, the next ``window - 1`` must fit its receive buffer."""
    return 1 + BATCH_FIFO_BYTES // (2 * n + 1)


# INFO reply: (field, struct code). flags bit 0 = results valid (a run finished since the last
# WRITE or reset); bit 1 = built without BATCH (set by a board that answers it UNKNOWN_COMMAND,
# so a board with BATCH, or one built before the flag, reports 0 there).
INFO_LAYOUT = (
    ("version", "B"), ("max_payload", "B"), ("n_loads", "H"), ("n_results", "H"),
    ("design_id", "I"), ("length", "I"), ("clk_hz", "I"), ("timeout_cycles", "I"),
    ("flags", "B"),
)
INFO_FORMAT = "<" + "".join(code for _, code in INFO_LAYOUT)
INFO_SIZE = struct.calcsize(INFO_FORMAT)
FLAG_RESULTS_VALID = 0x01
FLAG_NO_BATCH = 0x02


def info_offset(field_name):
    """Byte offset of an INFO field (the gateware patches the live ``flags`` byte there)."""
    names = [n for n, _ in INFO_LAYOUT]
    return struct.calcsize("<" + "".join(c for _, c in INFO_LAYOUT[:names.index(field_name)]))


@dataclass(frozen=True)
class Info:
    """What a board reports about itself and the design it runs."""
    version: int
    max_payload: int
    n_loads: int
    n_results: int
    design_id: int
    length: int
    clk_hz: int
    timeout_cycles: int
    flags: int = 0

    def encode(self):
        return struct.pack(INFO_FORMAT, *(getattr(self, f.name) for f in fields(self)))

    @classmethod
    def decode(cls, payload):
        if len(payload) != INFO_SIZE:
            raise ProtocolError(f"INFO payload must be {INFO_SIZE} bytes, got {len(payload)}")
        return cls(*struct.unpack(INFO_FORMAT, payload))

    @property
    def timeout_s(self):
        return self.timeout_cycles / self.clk_hz

    @property
    def results_valid(self):
        return bool(self.flags & FLAG_RESULTS_VALID)

    @property
    def has_batch(self):
        """False when the board says it was built without BATCH (:data:`FLAG_NO_BATCH`)."""
        return not self.flags & FLAG_NO_BATCH


def timeout_cycles(clk_hz, timeout_ms=TIMEOUT_MS):
    """Inter-byte timeout in clock cycles."""
    return max(1, int(round(clk_hz * timeout_ms / 1000)))


# The dataclass and the wire layout must list the same fields in the same order.
assert [f.name for f in fields(Info)] == [n for n, _ in INFO_LAYOUT]
