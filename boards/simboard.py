"""A software board: the protocol engine's behaviour in Python, with golden-model results.

It is a transport (``write``/``read``/``close``) for :class:`.host.BoardClient`, so the host
driver and the CLI can be exercised without hardware (``scfpga run --port sim``). Its replies
follow :mod:`.protocol` byte for byte, including the error handling; the gateware's replies
are checked against the same protocol module in the cocotb bench.
"""
import dataclasses
import struct

import numpy as np

from .protocol import (BATCH_HEADER_SIZE, FLAG_NO_BATCH, FLAG_RESULTS_VALID, MAX_BATCH_RESULTS, MAX_PAYLOAD,
                       MAX_READ_WORDS, PROTOCOL_VERSION, SYNC_REQUEST, Command, Info, Status,
                       encode_reply, run_reply_payload)


class SimulatedBoard:
    """The board top running ``design``, in software.

    Parameters
    ----------
    design : runnable design
        Results come from ``design.expected_results`` (the golden model).
    clk_hz, timeout_cycles : int
        Reported by INFO.
    batch : bool
        Whether the board was built with BATCH; without it BATCH is an UNKNOWN_COMMAND and
        INFO sets :data:`.protocol.FLAG_NO_BATCH`, as the gateware built with ``batch=False``.

    A read that finds nothing to return while a frame is incomplete stands for the line going
    quiet: the frame is abandoned with a TIMEOUT reply, as the gateware does.

    Time is what the host reads: a reply written but not yet read is still being sent, so the
    board is busy and drops every byte that arrives meanwhile, as the gateware does with bytes
    that arrive while it executes or replies.

    During a BATCH, bytes are never dropped: they stand for the gateware's receive FIFO, which
    the software board never overruns (it runs each sample the moment its last byte arrives;
    OVERRUN is the gateware's alone). A read that finds nothing while the batch waits for a
    sample is the line going quiet there too: the batch ends with TIMEOUT.

    Load words are stored as the gateware's load registers hold them: ``load_width + 1`` bits
    (a 16-bit word keeps its low bits), and a threshold above ``2**load_width`` compares like
    ``2**load_width`` (every source value is below it). So a RUN after an out-of-range WRITE
    replies OK with the results the hardware computes, never an exception.
    """

    def __init__(self, design, clk_hz=24_000_000, timeout_cycles=240_000, batch=True):
        self.design = design
        self.batch = bool(batch)
        self.info = Info(PROTOCOL_VERSION, MAX_PAYLOAD, design.n_loads, design.n_results,
                         design.design_id, design.length, clk_hz, timeout_cycles,
                         0 if self.batch else FLAG_NO_BATCH)
        # What the bitstream puts in the load memories (e.g. run-time weights kept in block
        # RAM start as the built network's); zeros where a design says nothing.
        initial = getattr(design, "initial_loads", None)
        self.loads = np.zeros(design.n_loads, np.int64) if initial is None else \
            np.array(initial(), np.int64)
        self.results = np.zeros(design.n_results, np.int64)
        self.results_valid = False
        self.runs = 0
        # A stateful design (boards/runnable.py) carries state from run to run, as its
        # gateware does from configuration on.
        self.state = design.initial_state() if getattr(design, "stateful", False) else None
        self._out = bytearray()
        self._frame = None              # bytes of the frame being received, after A5
        self._drain = None              # status to send once the line is quiet
        self._batch = None              # (addr, n, raddr, rcount) while a BATCH runs
        self._left = 0                  # samples the batch still expects
        self._sample = bytearray()      # bytes of the sample being received

    # ------------------------------------------------------------------ transport interface
    def write(self, data):
        for byte in bytes(data):
            self._byte(byte)
        return len(data)

    def read(self, n, timeout=None):
        if not self._out and (self._frame is not None or self._drain is not None or
                              self._batch is not None):
            self._quiet()
        chunk, self._out = bytes(self._out[:n]), self._out[n:]
        return chunk

    def close(self):
        pass

    def effective_loads(self):
        """The loads as the design's registers see them (see the class docstring)."""
        width = self.design.load_width
        return np.minimum(self.loads & ((1 << (width + 1)) - 1), 1 << width)

    # ----------------------------------------------------------------------- the engine
    def _quiet(self):
        status = Status.TIMEOUT if self._drain is None else self._drain
        cmd = Command.BATCH if self._batch is not None else self._frame[0] if self._frame else 0
        self._frame, self._drain, self._batch = None, None, None
        self._reply(cmd, status)

    def _reply(self, cmd, status, payload=b""):
        self._out += encode_reply(cmd, status, payload if status == Status.OK else b"")

    def _byte(self, byte):
        if self._drain is not None:                   # draining
            return
        if self._batch is not None:                   # a sample byte: queued, never dropped
            self._sample_byte(byte)
            return
        if self._out:                                 # busy sending a reply
            return
        if self._frame is None:
            if byte == SYNC_REQUEST:
                self._frame = bytearray()
            return
        f = self._frame
        f.append(byte)
        if len(f) == 2 and f[1] > MAX_PAYLOAD:
            self._drain = Status.BAD_LENGTH
        elif len(f) >= 2 and len(f) == 2 + f[1] + 1:
            self._frame = None
            if sum(f) & 0xFF:
                self._reply(f[0], Status.BAD_CHECKSUM)
            else:
                self._reply(f[0], *self._execute(f[0], bytes(f[2:-1])))

    def _run(self):
        if self.state is not None:
            raw, self.state = self.design.advance(self.state, self.effective_loads())
        else:
            raw = self.design.expected_results(self.effective_loads()[None, :])[0]
        self.results = raw & 0xFFFFFFFF
        self.results_valid = True
        self.runs += 1

    def _sample_byte(self, byte):
        addr, n, raddr, rcount = self._batch
        self._sample.append(byte)
        if len(self._sample) < 2 * n + 1:
            return
        sample, self._sample = bytes(self._sample), bytearray()
        # The gateware writes each word as it arrives, before the checksum is known.
        self.loads[addr:addr + n] = np.frombuffer(sample[:-1], "<u2").astype(np.int64)
        self.results_valid = False
        if sum(sample) & 0xFF:
            self._batch, self._drain = None, Status.BAD_CHECKSUM   # answered once quiet
            self._frame = bytearray([Command.BATCH])
            return
        self._run()
        self._reply(Command.BATCH, Status.OK,
                    self.results[raddr:raddr + rcount].astype("<u4").tobytes())
        self._left -= 1
        if self._left == 0:
            self._batch = None

    def _batch_header(self, payload):
        if len(payload) != BATCH_HEADER_SIZE:
            return (Status.BAD_LENGTH,)
        addr, rcount, raddr, n, samples = struct.unpack("<HBHHH", payload)
        if not 1 <= rcount <= MAX_BATCH_RESULTS or n == 0 or samples == 0:
            return (Status.BAD_LENGTH,)
        if addr + n > self.design.n_loads or raddr + rcount > self.design.n_results:
            return (Status.BAD_ADDRESS,)
        self._batch, self._left, self._sample = (addr, n, raddr, rcount), samples, bytearray()
        return (Status.OK,)

    def _execute(self, cmd, payload):
        n = len(payload)
        if cmd == Command.INFO:
            if n:
                return (Status.BAD_LENGTH,)
            flags = self.info.flags | (FLAG_RESULTS_VALID if self.results_valid else 0)
            return Status.OK, dataclasses.replace(self.info, flags=flags).encode()
        if cmd == Command.WRITE:
            if n < 4 or n % 2:
                return (Status.BAD_LENGTH,)
            addr = int.from_bytes(payload[:2], "little")
            words = np.frombuffer(payload[2:], "<u2").astype(np.int64)
            if addr + len(words) > self.design.n_loads:
                return (Status.BAD_ADDRESS,)
            self.loads[addr:addr + len(words)] = words
            self.results_valid = False
            return (Status.OK,)
        if cmd == Command.RUN:
            if n:
                return (Status.BAD_LENGTH,)
            self._run()
            cycles = getattr(self.design, "run_cycles", self.design.length)
            return Status.OK, run_reply_payload(cycles)
        if cmd == Command.READ:
            if n != 3 or not 1 <= payload[2] <= MAX_READ_WORDS:
                return (Status.BAD_LENGTH,)
            addr, count = int.from_bytes(payload[:2], "little"), payload[2]
            if addr + count > self.design.n_results:
                return (Status.BAD_ADDRESS,)
            words = self.results[addr:addr + count].astype("<u4")
            return Status.OK, words.tobytes()
        if cmd == Command.BATCH and self.batch:
            return self._batch_header(payload)
        return (Status.UNKNOWN_COMMAND,)
