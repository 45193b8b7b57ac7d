"""The protocol engine: parses request frames from the UART and drives a runnable design.

Frames, codes and error handling are specified in :mod:`.protocol`; this is their gateware.
A request's payload is kept in a small block RAM (one word per two bytes) and executed only
after its checksum has been verified, so a corrupted WRITE never reaches the design.

BATCH is an option (``batch=True``). With it, replies leave through a FIFO in front of the
transmitter, so during a BATCH the next sample runs while the previous sample's results are
still being sent; outside a batch the engine takes no new request until that FIFO is empty
(the protocol's one request at a time). During a BATCH, received bytes wait in a second FIFO
while the design runs. Without it (a small device: the two FIFOs, the sample states and the
long BATCH wait cost about 500 iCE40 logic cells) replies go straight to the transmitter,
BATCH is answered UNKNOWN_COMMAND and INFO sets :data:`~.protocol.FLAG_NO_BATCH`.
"""
from amaranth.hdl import C, Cat, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.fifo import SyncFIFOBuffered
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ..model.params import ParameterError, check_int
from .protocol import (BATCH_FIFO_BYTES, BATCH_HEADER_SIZE, BATCH_WAIT_FACTOR,
                       FLAG_NO_BATCH, FLAG_RESULTS_VALID, MAX_BATCH_RESULTS, MAX_PAYLOAD, MAX_READ_WORDS,
                       MAX_WRITE_WORDS, PROTOCOL_VERSION, SYNC_REPLY, SYNC_REQUEST, Command, Info,
                       Status, info_offset)
from .runnable import check_runnable, runnable_signature


class ProtocolEngine(wiring.Component):
    """Request parser, command executor and reply generator.

    Parameters
    ----------
    design : Runnable
        The design to drive; its ``n_loads``, ``n_results``, ``length``, ``design_id`` and
        ``result_latency`` become constants of the engine.
    clk_hz : int
        Clock frequency, reported by INFO.
    timeout_cycles : int
        Inter-byte timeout: a frame with no new byte for this many cycles is abandoned.
    fifo_bytes : int
        Depth of the BATCH receive FIFO and of the reply FIFO (the protocol's
        :data:`~.protocol.BATCH_FIFO_BYTES`; tests shrink it to provoke OVERRUN).
    batch : bool
        Serve BATCH (default). False leaves out its FIFOs and states: BATCH is then an
        UNKNOWN_COMMAND, the host falls back to WRITE, RUN and READ per sample.

    Attributes
    ----------
    rx_data, rx_valid, rx_error : in
        From :class:`.uart.UARTRx`.
    tx_data, tx_valid : out; tx_ready : in
        To :class:`.uart.UARTTx`.
    design : the runnable interface, flipped (connect it to the design).
    active : out
        1 while a frame is being received, a command executed or a reply sent.
    """

    def __init__(self, design, clk_hz, timeout_cycles, fifo_bytes=BATCH_FIFO_BYTES, batch=True):
        check_runnable(design)
        if not isinstance(batch, bool):
            raise ParameterError(f"batch must be True or False, got {batch!r}")
        self.batch = batch
        self.fifo_bytes = check_int("fifo_bytes", fifo_bytes, 4, 1 << 16)
        self.n_loads, self.n_results = design.n_loads, design.n_results
        self.result_latency = design.result_latency
        self.timeout_cycles = check_int("timeout_cycles", timeout_cycles, 1, 2**32 - 1)
        self.info = Info(PROTOCOL_VERSION, MAX_PAYLOAD, design.n_loads, design.n_results,
                         design.design_id, min(design.length, 2**32 - 1),
                         check_int("clk_hz", clk_hz, 1, 2**32 - 1), self.timeout_cycles,
                         0 if batch else FLAG_NO_BATCH)
        if MAX_PAYLOAD % 4:
            raise ParameterError("MAX_PAYLOAD must be a multiple of 4")
        super().__init__({
            "rx_data": In(8), "rx_valid": In(1), "rx_error": In(1),
            "tx_data": Out(8), "tx_valid": Out(1), "tx_ready": In(1),
            "design": In(runnable_signature()),
            "active": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        dz = self.design
        rx_byte = self.rx_data
        batch = self.batch

        # Frame fields as they arrive.
        cmd = Signal(8)
        length = Signal(8)
        idx = Signal(8)                    # payload bytes received
        csum = Signal(8)
        # Payload bytes 0..1, the WRITE / READ address. Only as many bits as the design has
        # loads or results are kept (short adders); ``far`` says a higher bit was set.
        addr = Signal(max(self.n_loads, self.n_results).bit_length())
        far = Signal()
        count = Signal(8)                  # payload byte 2 (READ count, BATCH rcount)
        low = Signal(8)                    # even payload byte waiting for its odd partner
        m.submodules.payload = payload = Memory(shape=16, depth=MAX_PAYLOAD // 2, init=[])
        wr = payload.write_port()
        rd = payload.read_port()

        # The reply being sent.
        status = Signal(range(max(Status) + 1))
        pending = Signal.like(status)      # error to report once the line is quiet (DRAIN)
        rlen = Signal(8)                   # payload length, a function of cmd and status
        pidx = Signal(8)
        rsum = Signal(8)
        word = Signal(32)                  # the result being sent (READ)
        cycles = Signal(32)                # run length in cycles (RUN)
        most = max(MAX_WRITE_WORDS, MAX_READ_WORDS, MAX_BATCH_RESULTS if batch else 0)
        item = Signal(range(most + 1))
        lat = Signal(range(self.result_latency + 1))
        results_valid = Signal()
        # READ's first result is ``addr``; a BATCH's, its header's ``raddr``.
        raddr = Signal.like(addr) if batch else addr

        if batch:
            # BATCH header fields (payload bytes 3..8), each with a flag for bits beyond
            # ``addr``. in_batch routes received bytes into the FIFO; header says the reply
            # being sent is the header's (empty); left counts samples still to come; witem
            # and odd walk through a sample's bytes.
            n_words_b = Signal.like(addr)
            far_r, far_n = Signal(), Signal()
            samples = Signal(16)
            in_batch, header, odd = Signal(), Signal(), Signal()
            left = Signal(16)
            witem = Signal.like(addr)
            fault = Signal.like(status)    # FRAMING or OVERRUN seen during a batch

            m.submodules.rxq = rxq = SyncFIFOBuffered(width=8, depth=self.fifo_bytes)
            m.submodules.txq = txq = SyncFIFOBuffered(width=8, depth=self.fifo_bytes)
            m.d.comb += [self.tx_data.eq(txq.r_data), self.tx_valid.eq(txq.r_rdy),
                         txq.r_en.eq(self.tx_ready)]
            out_data, out_valid, out_ready = txq.w_data, txq.w_en, txq.w_rdy
            replying = txq.level != 0
            # Batch bytes queue up; a byte that finds the queue full is an OVERRUN.
            m.d.comb += [rxq.w_data.eq(rx_byte),
                         rxq.w_en.eq(self.rx_valid & in_batch & (fault == 0))]
            with m.If(in_batch & (fault == 0)):
                with m.If(self.rx_error):
                    m.d.sync += fault.eq(Status.FRAMING)
                with m.Elif(self.rx_valid & ~rxq.w_rdy):
                    m.d.sync += fault.eq(Status.OVERRUN)
        else:
            out_data, out_valid, out_ready = self.tx_data, self.tx_valid, self.tx_ready
            in_batch = replying = C(0)

        # Silence since the last received byte or framing error, in whole timeouts
        # (``periods``, saturating at the BATCH wait; with BATCH, restarted too while a
        # batch's previous reply is still going out: ``rearm``). Counting timeouts, not
        # cycles, keeps the counter and its comparisons as short as the timeout itself.
        factor = BATCH_WAIT_FACTOR if batch else 1
        quiet = Signal(range(self.timeout_cycles))
        periods = Signal(range(factor + 1))
        rearm = Signal()
        with m.If(self.rx_valid | self.rx_error | rearm):
            m.d.sync += [quiet.eq(0), periods.eq(0)]
        with m.Elif(quiet == self.timeout_cycles - 1):
            m.d.sync += quiet.eq(0)
            with m.If(periods != factor):
                m.d.sync += periods.eq(periods + 1)
        with m.Else():
            m.d.sync += quiet.eq(quiet + 1)
        timed_out = periods != 0
        waited_out = periods == factor

        # Range checks, registered: their operands settle before the checksum byte arrives,
        # which keeps the adders and comparators off EXEC's path.
        n_words = (length - 2) >> 1
        write_fits, read_fits, bad_read_length = Signal(), Signal(), Signal()
        m.d.sync += [write_fits.eq(~far & (addr + n_words <= self.n_loads)),
                     read_fits.eq(~far & (addr + count <= self.n_results)),
                     bad_read_length.eq((length != 3) | (count == 0) | (count > MAX_READ_WORDS))]
        if batch:
            batch_fits, bad_batch_length = Signal(), Signal()
            m.d.sync += [batch_fits.eq(~far & ~far_r & ~far_n &
                                       (addr + n_words_b <= self.n_loads) &
                                       (raddr + count <= self.n_results)),
                         bad_batch_length.eq((length != BATCH_HEADER_SIZE) | (count == 0) |
                                             (count > MAX_BATCH_RESULTS) | (n_words_b == 0) |
                                             (samples == 0))]

        info_bytes = list(self.info.encode())
        # A ROM with an asynchronous read port, not an Array of constants: Yosys writes the
        # latter as an `always @*` block whose inputs may never change before the first read,
        # and Icarus then never evaluates it (the byte stays X in RTL simulation).
        m.submodules.info = info = Memory(shape=8, depth=len(info_bytes), init=info_bytes)
        info_rd = info.read_port(domain="comb")
        flags_at = info_offset("flags")

        def abort_on_error(m):
            """In a frame: framing error -> drain; silence -> TIMEOUT."""
            with m.If(self.rx_error):
                m.d.sync += pending.eq(Status.FRAMING)
                m.next = "DRAIN"
            with m.Elif(timed_out):
                reply(Status.TIMEOUT)

        def reply(code):
            m.d.sync += status.eq(code)
            m.next = "SEND_SYNC"

        def send(byte):
            """Offer ``byte`` (to the reply FIFO, or the transmitter without BATCH); the caller
            moves on under ``If(out_ready)``."""
            m.d.comb += [out_data.eq(byte), out_valid.eq(1)]
            with m.If(out_ready):
                m.d.sync += rsum.eq(rsum + byte)

        m.d.comb += [wr.data.eq(Cat(low, rx_byte)), wr.addr.eq(idx >> 1)]

        with m.FSM() as fsm:
            with m.State("IDLE"):
                if batch:
                    m.d.comb += rxq.r_en.eq(1)         # nothing of a finished batch stays
                with m.If(replying):
                    pass                               # still replying: bytes are dropped
                with m.Elif(self.rx_error):
                    m.d.sync += [pending.eq(Status.FRAMING), cmd.eq(0)]
                    m.next = "DRAIN"
                with m.Elif(self.rx_valid & (rx_byte == SYNC_REQUEST)):
                    m.d.sync += cmd.eq(0)
                    m.next = "CMD"

            with m.State("CMD"):
                with m.If(self.rx_valid):
                    m.d.sync += [cmd.eq(rx_byte), csum.eq(rx_byte)]
                    m.next = "LEN"
                with m.Else():
                    abort_on_error(m)

            with m.State("LEN"):
                with m.If(self.rx_valid):
                    m.d.sync += [length.eq(rx_byte), csum.eq(csum + rx_byte), idx.eq(0)]
                    with m.If(rx_byte > MAX_PAYLOAD):
                        m.d.sync += pending.eq(Status.BAD_LENGTH)
                        m.next = "DRAIN"
                    with m.Elif(rx_byte == 0):
                        m.next = "CHK"
                    with m.Else():
                        m.next = "PAYLOAD"
                with m.Else():
                    abort_on_error(m)

            with m.State("PAYLOAD"):
                with m.If(self.rx_valid):
                    m.d.sync += [csum.eq(csum + rx_byte), idx.eq(idx + 1), low.eq(rx_byte)]
                    with m.Switch(idx):
                        with m.Case(0):
                            m.d.sync += [addr.eq(rx_byte), far.eq(rx_byte[len(addr):].any())]
                        with m.Case(1):
                            if len(addr) > 8:
                                m.d.sync += addr[8:].eq(rx_byte)
                            m.d.sync += far.eq(far | rx_byte[max(len(addr) - 8, 0):].any())
                        with m.Case(2):
                            m.d.sync += count.eq(rx_byte)
                        if batch:
                            fields = ((raddr, far_r), (n_words_b, far_n))
                            for k, (reg, flag) in enumerate(fields):
                                with m.Case(3 + 2 * k):
                                    m.d.sync += [reg.eq(rx_byte),
                                                 flag.eq(rx_byte[len(reg):].any())]
                                with m.Case(4 + 2 * k):
                                    if len(reg) > 8:
                                        m.d.sync += reg[8:].eq(rx_byte)
                                    m.d.sync += flag.eq(flag |
                                                        rx_byte[max(len(reg) - 8, 0):].any())
                            with m.Case(7):
                                m.d.sync += samples[:8].eq(rx_byte)
                            with m.Case(8):
                                m.d.sync += samples[8:].eq(rx_byte)
                    m.d.comb += wr.en.eq(idx[0])
                    with m.If(idx == length - 1):
                        m.next = "CHK"
                with m.Else():
                    abort_on_error(m)

            with m.State("CHK"):
                with m.If(self.rx_valid):
                    with m.If((csum + rx_byte)[:8] != 0):
                        reply(Status.BAD_CHECKSUM)
                    with m.Else():
                        m.next = "EXEC"
                with m.Else():
                    abort_on_error(m)

            with m.State("DRAIN"):
                # The frame's extent is unknown: swallow bytes until the line is quiet.
                if batch:
                    m.d.comb += rxq.r_en.eq(1)
                with m.If(timed_out):
                    reply(pending)

            with m.State("EXEC"):
                with m.Switch(cmd):
                    with m.Case(int(Command.INFO)):
                        with m.If(length != 0):
                            reply(Status.BAD_LENGTH)
                        with m.Else():
                            reply(Status.OK)
                    with m.Case(int(Command.WRITE)):
                        with m.If((length < 4) | length[0]):
                            reply(Status.BAD_LENGTH)
                        with m.Elif(~write_fits):
                            reply(Status.BAD_ADDRESS)
                        with m.Else():
                            m.d.sync += [item.eq(0), results_valid.eq(0)]
                            m.next = "WRITE_FETCH"
                    with m.Case(int(Command.RUN)):
                        with m.If(length != 0):
                            reply(Status.BAD_LENGTH)
                        with m.Else():
                            m.next = "RUN_START"
                    with m.Case(int(Command.READ)):
                        with m.If(bad_read_length):
                            reply(Status.BAD_LENGTH)
                        with m.Elif(~read_fits):
                            reply(Status.BAD_ADDRESS)
                        with m.Else():
                            m.d.sync += [status.eq(Status.OK), item.eq(0), pidx.eq(0),
                                         lat.eq(0)]
                            if batch:
                                m.d.sync += raddr.eq(addr)
                            m.next = "READ_FETCH"
                    if batch:
                        with m.Case(int(Command.BATCH)):
                            with m.If(bad_batch_length):
                                reply(Status.BAD_LENGTH)
                            with m.Elif(~batch_fits):
                                reply(Status.BAD_ADDRESS)
                            with m.Else():
                                m.d.sync += [in_batch.eq(1), header.eq(1), left.eq(samples),
                                             fault.eq(0)]
                                reply(Status.OK)
                    with m.Default():
                        reply(Status.UNKNOWN_COMMAND)

            with m.State("WRITE_FETCH"):
                m.d.comb += rd.addr.eq(item + 1)       # word 0 holds the address
                m.next = "WRITE_STORE"

            with m.State("WRITE_STORE"):
                m.d.comb += [dz.load_addr.eq(addr + item), dz.load_data.eq(rd.data),
                             dz.load_we.eq(1)]
                m.d.sync += item.eq(item + 1)
                with m.If(item + 1 == n_words):
                    reply(Status.OK)
                with m.Else():
                    m.next = "WRITE_FETCH"

            with m.State("RUN_START"):
                m.d.comb += dz.start.eq(1)
                m.d.sync += cycles.eq(0)
                m.next = "RUN_WAIT"

            with m.State("RUN_WAIT"):
                with m.If(dz.busy):
                    m.d.sync += cycles.eq(cycles + 1)
                with m.Else():
                    m.d.sync += results_valid.eq(1)
                    with m.If(in_batch):                   # stream this sample's results
                        m.d.sync += [status.eq(Status.OK), item.eq(0), pidx.eq(0), lat.eq(0)]
                        m.next = "READ_FETCH"
                    with m.Else():
                        reply(Status.OK)

            if batch:
                with m.State("SAMPLE"):
                    # A sample's bytes from the receive FIFO: words go to the loads as they
                    # come.
                    m.d.comb += rxq.r_en.eq(1)
                    first = (witem == 0) & ~odd
                    with m.If(fault != 0):
                        m.d.sync += [pending.eq(fault), in_batch.eq(0)]
                        m.next = "DRAIN"
                    with m.Elif(rxq.r_rdy):
                        byte = rxq.r_data
                        m.d.sync += [csum.eq(csum + byte), low.eq(byte), odd.eq(~odd)]
                        with m.If(odd):
                            m.d.comb += [dz.load_addr.eq(addr + witem),
                                         dz.load_data.eq(Cat(low, byte)), dz.load_we.eq(1)]
                            m.d.sync += [witem.eq(witem + 1), results_valid.eq(0)]
                            with m.If(witem + 1 == n_words_b):
                                m.next = "SAMPLE_CHK"
                    with m.Else():
                        # The first byte may wait for the host (BATCH_WAIT_FACTOR timeouts
                        # after the last reply has gone out); later ones get the inter-byte
                        # timeout.
                        m.d.comb += rearm.eq(first & (replying | ~self.tx_ready))
                        with m.If(first & waited_out | ~first & timed_out):
                            m.d.sync += in_batch.eq(0)
                            reply(Status.TIMEOUT)

                with m.State("SAMPLE_CHK"):
                    m.d.comb += rxq.r_en.eq(1)
                    with m.If(fault != 0):
                        m.d.sync += [pending.eq(fault), in_batch.eq(0)]
                        m.next = "DRAIN"
                    with m.Elif(rxq.r_rdy):
                        with m.If((csum + rxq.r_data)[:8] != 0):
                            m.d.sync += [pending.eq(Status.BAD_CHECKSUM), in_batch.eq(0)]
                            m.next = "DRAIN"
                        with m.Else():
                            m.next = "RUN_START"
                    with m.Elif(timed_out):
                        m.d.sync += in_batch.eq(0)
                        reply(Status.TIMEOUT)

            with m.State("READ_FETCH"):
                # result_addr is held from the cycle this state is entered.
                with m.If(lat == self.result_latency):
                    m.d.sync += [word.eq(dz.result_data), lat.eq(0)]
                    with m.If(pidx == 0):
                        m.next = "SEND_SYNC"
                    with m.Else():
                        m.next = "SEND_PAYLOAD"
                with m.Else():
                    m.d.sync += lat.eq(lat + 1)

            with m.State("SEND_SYNC"):
                m.d.comb += [out_data.eq(SYNC_REPLY), out_valid.eq(1)]
                with m.If(out_ready):
                    m.d.sync += [rsum.eq(0), pidx.eq(0)]
                    m.next = "SEND_CMD"

            with m.State("SEND_CMD"):
                send(cmd)
                with m.If(out_ready):
                    m.next = "SEND_STATUS"

            with m.State("SEND_STATUS"):
                send(status)
                with m.If(out_ready):
                    m.next = "SEND_LEN"

            with m.State("SEND_LEN"):
                send(rlen)
                with m.If(out_ready):
                    m.next = "SEND_PAYLOAD"
                    with m.If(rlen == 0):
                        m.next = "SEND_CHK"

            with m.State("SEND_PAYLOAD"):
                byte = Signal(8)
                with m.Switch(cmd):
                    with m.Case(int(Command.INFO)):
                        m.d.comb += [info_rd.addr.eq(pidx), byte.eq(info_rd.data)]
                        with m.If(pidx == flags_at):
                            m.d.comb += byte.eq(results_valid * FLAG_RESULTS_VALID |
                                                self.info.flags)
                    with m.Case(int(Command.RUN)):
                        m.d.comb += byte.eq(cycles.word_select(pidx[:2], 8))
                    with m.Default():
                        m.d.comb += byte.eq(word.word_select(pidx[:2], 8))
                send(byte)
                with m.If(out_ready):
                    m.d.sync += pidx.eq(pidx + 1)
                    # READ and BATCH replies are results: fetch the next after every 4 bytes.
                    results = (cmd == Command.READ) | (cmd == Command.BATCH) if batch else \
                        cmd == Command.READ
                    with m.If(pidx + 1 == rlen):
                        m.next = "SEND_CHK"
                    with m.Elif(results & (pidx[:2] == 3)):
                        m.d.sync += item.eq(item + 1)
                        m.next = "READ_FETCH"

            with m.State("SEND_CHK"):
                m.d.comb += [out_data.eq(-rsum), out_valid.eq(1)]
                with m.If(out_ready):
                    m.next = "IDLE"
                    if batch:
                        with m.If(in_batch & (status == Status.OK)):
                            # The header's reply or a sample's results are queued: next sample.
                            m.d.sync += [header.eq(0), witem.eq(0), odd.eq(0), csum.eq(0)]
                            with m.If(~header):
                                m.d.sync += left.eq(left - 1)
                            with m.If(header | (left != 1)):
                                m.next = "SAMPLE"
                            with m.Else():
                                m.d.sync += in_batch.eq(0)
                        with m.Else():
                            m.d.sync += in_batch.eq(0)

        with m.If(status == Status.OK):
            with m.Switch(cmd):
                with m.Case(int(Command.INFO)):
                    m.d.comb += rlen.eq(len(info_bytes))
                with m.Case(int(Command.RUN)):
                    m.d.comb += rlen.eq(4)
                with m.Case(int(Command.READ)):
                    m.d.comb += rlen.eq(count << 2)
                if batch:
                    with m.Case(int(Command.BATCH)):
                        m.d.comb += rlen.eq(Mux(header, 0, count << 2))
        m.d.comb += [dz.result_addr.eq(raddr + item),
                     self.active.eq(~fsm.ongoing("IDLE") | replying)]
        return m
