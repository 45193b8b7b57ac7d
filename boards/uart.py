"""8N1 UART receiver and transmitter; the bit period is a whole number of clock cycles.

``divisor = round(clk_hz / baud)`` clock cycles per bit (:func:`uart_divisor`). A receiver
tolerates a combined clock mismatch of a few per cent, so the rounding error is capped at
:data:`MAX_BAUD_ERROR`.

The host's side of the iCEBreaker (and iCEstick, HX8K-EVN) link is an FTDI FT2232H, whose
baud generator divides 120 MHz by 10 and then by 1, 1.5, or 2 and more in steps of 1/8:
12 Mbaud, 8 Mbaud, 6 Mbaud, 4 Mbaud, 3 Mbaud, ... exactly. The amaranth-boards platform
files give only the UART's pins (and a pull-up on rx): no clock limit, no flow control, so
the board's receive buffer and the host's pacing (:mod:`.protocol`, BATCH) stand in for
RTS/CTS. :data:`STANDARD_BAUDS` are the rates an error message offers.
"""
from amaranth.hdl import Cat, Const, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.cdc import FFSynchronizer
from amaranth.lib.wiring import In, Out

from ..model.params import ParameterError

MAX_BAUD_ERROR = 0.02
MIN_DIVISOR = 4
STANDARD_BAUDS = (9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600, 1_000_000,
                  1_500_000, 2_000_000, 3_000_000, 4_000_000, 6_000_000, 12_000_000)


def _error(clk_hz, baud):
    divisor = int(round(clk_hz / baud))
    return divisor, abs(clk_hz / divisor - baud) / baud if divisor else float("inf")


def allowed_bauds(clk_hz):
    """The :data:`STANDARD_BAUDS` a ``clk_hz`` clock makes within :data:`MAX_BAUD_ERROR`."""
    return [b for b in STANDARD_BAUDS
            if _error(clk_hz, b)[0] >= MIN_DIVISOR and _error(clk_hz, b)[1] <= MAX_BAUD_ERROR]


def uart_divisor(clk_hz, baud):
    """Clock cycles per bit for ``baud`` at ``clk_hz``.

    Raises
    ------
    ParameterError
        The divisor would be below :data:`MIN_DIVISOR` or the baud rate off by more than
        :data:`MAX_BAUD_ERROR`.
    """
    if isinstance(baud, bool) or not isinstance(baud, (int, float)) or not baud > 0:
        raise ParameterError(f"baud must be positive, got {baud!r}")
    allowed = ", ".join(map(str, allowed_bauds(clk_hz)))
    divisor, error = _error(clk_hz, baud)
    if divisor < MIN_DIVISOR:
        raise ParameterError(f"baud must be at most clk_hz / {MIN_DIVISOR} = {clk_hz // MIN_DIVISOR}, "
                             f"got {baud} (allowed at {clk_hz / 1e6:g} MHz: {allowed})")
    if error > MAX_BAUD_ERROR:
        raise ParameterError(f"baud {baud} is {error:.1%} off at {clk_hz} Hz (more than "
                             f"{MAX_BAUD_ERROR:.0%}); allowed at {clk_hz / 1e6:g} MHz: {allowed}")
    return divisor


class UARTRx(wiring.Component):
    """8N1 receiver.

    The line is synchronised (two flip-flops), a start bit is confirmed half a bit after its
    falling edge, and every bit is sampled at its centre. A 0 stop bit is a framing error: the
    byte is dropped, ``error`` pulses, and the receiver waits for the line to go idle (high)
    again, so a held-low line (a break) reports one error, not a stream of bytes.

    Parameters
    ----------
    divisor : int
        Clock cycles per bit, >= 4.

    Attributes
    ----------
    rx : Signal, in
        The serial line (idle high).
    data : Signal(8), out
        The last byte received.
    valid : Signal, out
        1 for one cycle when ``data`` holds a new byte.
    error : Signal, out
        1 for one cycle after a framing error.
    """

    def __init__(self, divisor):
        if divisor < MIN_DIVISOR:
            raise ParameterError(f"divisor must be >= {MIN_DIVISOR}, got {divisor}")
        self.divisor = divisor
        super().__init__({"rx": In(1, init=1), "data": Out(8), "valid": Out(1), "error": Out(1)})

    def elaborate(self, platform):
        m = Module()
        line = Signal(init=1)
        m.submodules.sync = FFSynchronizer(self.rx, line, init=1)
        timer = Signal(range(self.divisor))
        bit = Signal(range(8))
        shift = Signal(8)
        m.d.sync += [self.valid.eq(0), self.error.eq(0)]
        with m.FSM():
            with m.State("IDLE"):
                with m.If(~line):
                    m.d.sync += timer.eq(self.divisor // 2 - 1)
                    m.next = "START"
            with m.State("START"):
                with m.If(timer != 0):
                    m.d.sync += timer.eq(timer - 1)
                with m.Elif(line):                  # a glitch, not a start bit
                    m.next = "IDLE"
                with m.Else():
                    m.d.sync += [timer.eq(self.divisor - 1), bit.eq(0)]
                    m.next = "DATA"
            with m.State("DATA"):
                with m.If(timer != 0):
                    m.d.sync += timer.eq(timer - 1)
                with m.Else():
                    m.d.sync += [shift.eq(Cat(shift[1:], line)), timer.eq(self.divisor - 1),
                                 bit.eq(bit + 1)]
                    with m.If(bit == 7):
                        m.next = "STOP"
            with m.State("STOP"):
                with m.If(timer != 0):
                    m.d.sync += timer.eq(timer - 1)
                with m.Elif(line):
                    m.d.sync += [self.data.eq(shift), self.valid.eq(1)]
                    m.next = "IDLE"
                with m.Else():
                    m.d.sync += self.error.eq(1)
                    m.next = "BREAK"
            with m.State("BREAK"):
                with m.If(line):
                    m.next = "IDLE"
        return m


class UARTTx(wiring.Component):
    """8N1 transmitter with a valid/ready handshake.

    A byte is taken on a clock edge with ``valid & ready``; ``tx`` is a register (no glitches
    on the pin). ``ready`` returns the cycle after the stop bit ends, so bytes go back to back.

    Attributes
    ----------
    data : Signal(8), in
    valid : Signal, in
    ready : Signal, out
    tx : Signal, out
        The serial line, idle high.
    """

    def __init__(self, divisor):
        if divisor < MIN_DIVISOR:
            raise ParameterError(f"divisor must be >= {MIN_DIVISOR}, got {divisor}")
        self.divisor = divisor
        super().__init__({"data": In(8), "valid": In(1), "ready": Out(1), "tx": Out(1, init=1)})

    def elaborate(self, platform):
        m = Module()
        shift = Signal(9)                      # data bits then the stop bit, LSB first
        left = Signal(range(11))               # bit periods still to send, start bit included
        timer = Signal(range(self.divisor))
        m.d.comb += self.ready.eq(left == 0)
        with m.If(left == 0):
            with m.If(self.valid):
                m.d.sync += [shift.eq(Cat(self.data, Const(1, 1))), self.tx.eq(0),
                             left.eq(10), timer.eq(self.divisor - 1)]
        with m.Elif(timer != 0):
            m.d.sync += timer.eq(timer - 1)
        with m.Else():
            m.d.sync += [left.eq(left - 1), timer.eq(self.divisor - 1)]
            with m.If(left != 1):              # after the stop bit the line simply stays high
                m.d.sync += [self.tx.eq(shift[0]), shift.eq(shift >> 1)]
        return m
