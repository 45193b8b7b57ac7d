"""Board top level: clock (PLL), reset, UART, protocol engine, LEDs and a runnable design.

:class:`BoardCore` is everything behind the clock: it runs in the ``sync`` domain (Verilog
ports ``clk``, ``rst``) and is what the cocotb bench simulates. :class:`BoardTop` adds the
PLL (iCE40 ``SB_PLL40_*`` or ECP5 ``EHXPLLL``), a reset held until the PLL has locked, and the
board's pins.
"""
from amaranth.hdl import Cat, ClockDomain, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.cdc import FFSynchronizer
from amaranth.lib.wiring import In, Out

from ..model.params import ParameterError
from .engine import ProtocolEngine
from .pll import (ECP5_F_OUT, F_OUT, ecp5_pll_instance, ecp5_pll_settings, pll_instance,
                  pll_settings)
from .protocol import BATCH_FIFO_BYTES, DEFAULT_BAUD
from .protocol import timeout_cycles as default_timeout
from .uart import UARTRx, UARTTx, uart_divisor

RESET_CYCLES = 1024          # reset held this long after the PLL locks
# Devices whose boards build without BATCH by default: on the HX1K (1280 logic cells) the
# engine's BATCH FIFOs and states (about 500 cells) leave too little room for any design.
NO_BATCH_DEVICES = frozenset({"hx1k"})


def batch_default(board):
    """Whether ``board``'s top serves BATCH unless told otherwise: all but the small devices
    of :data:`NO_BATCH_DEVICES`."""
    return board.device not in NO_BATCH_DEVICES


class BoardCore(wiring.Component):
    """UART + protocol engine + design, with a heartbeat and a busy LED.

    Parameters
    ----------
    design : Runnable
        Any component honouring :mod:`.runnable`.
    clk_hz : int
        Clock frequency (sets the UART divisor, the default timeouts, and INFO's ``clk_hz``).
    baud : int
        UART baud rate (8N1).
    timeout_cycles : int or None
        Inter-byte timeout; default :data:`.protocol.TIMEOUT_MS`.
    led_tick_log2 : int or None
        The LEDs count ticks of ``2**led_tick_log2`` cycles (short counters, short carry
        chains); default about a millisecond.
    heartbeat_ticks : int or None
        Ticks between heartbeat LED toggles; default half a second.
    busy_ticks : int or None
        The busy LED stays on this many ticks after activity, so that a run of a few
        microseconds is visible; default 50 ms.
    fifo_bytes : int
        The engine's BATCH receive and reply FIFO depth (:data:`.protocol.BATCH_FIFO_BYTES`).
    batch : bool
        Whether the engine serves BATCH (:class:`.engine.ProtocolEngine`).

    Attributes
    ----------
    uart_rx : in;  uart_tx : out;  led_heartbeat, led_busy : out (active high)
    """

    def __init__(self, design, clk_hz, baud=DEFAULT_BAUD, timeout_cycles=None,
                 led_tick_log2=None, heartbeat_ticks=None, busy_ticks=None,
                 fifo_bytes=BATCH_FIFO_BYTES, batch=True):
        self.design = design
        self.clk_hz = int(clk_hz)
        self.baud = baud
        self.divisor = uart_divisor(self.clk_hz, baud)
        self.timeout_cycles = timeout_cycles or default_timeout(self.clk_hz)
        if self.timeout_cycles < 2 * 10 * self.divisor:
            raise ParameterError(f"timeout_cycles must be at least two byte times "
                                 f"({20 * self.divisor}), got {self.timeout_cycles}")
        self.led_tick_log2 = led_tick_log2 or max(1, (self.clk_hz // 1000).bit_length() - 1)
        tick_s = 2**self.led_tick_log2 / self.clk_hz
        self.heartbeat_ticks = heartbeat_ticks or max(1, round(0.5 / tick_s))
        self.busy_ticks = busy_ticks or max(1, round(0.05 / tick_s))
        self.fifo_bytes = fifo_bytes
        self.batch = batch
        super().__init__({"uart_rx": In(1, init=1), "uart_tx": Out(1, init=1),
                          "led_heartbeat": Out(1), "led_busy": Out(1)})

    def elaborate(self, platform):
        m = Module()
        m.submodules.rx = rx = UARTRx(self.divisor)
        m.submodules.tx = tx = UARTTx(self.divisor)
        m.submodules.engine = engine = ProtocolEngine(self.design, self.clk_hz, self.timeout_cycles,
                                                      self.fifo_bytes, self.batch)
        m.submodules.design = self.design
        wiring.connect(m, engine.design, self.design)
        m.d.comb += [
            rx.rx.eq(self.uart_rx), self.uart_tx.eq(tx.tx),
            engine.rx_data.eq(rx.data), engine.rx_valid.eq(rx.valid), engine.rx_error.eq(rx.error),
            tx.data.eq(engine.tx_data), tx.valid.eq(engine.tx_valid), engine.tx_ready.eq(tx.ready),
        ]

        prescaler = Signal(self.led_tick_log2)
        tick = Signal()
        m.d.sync += Cat(prescaler, tick).eq(prescaler + 1)      # tick: the carry out
        beat = Signal(range(self.heartbeat_ticks))
        with m.If(tick):
            with m.If(beat == self.heartbeat_ticks - 1):
                m.d.sync += [beat.eq(0), self.led_heartbeat.eq(~self.led_heartbeat)]
            with m.Else():
                m.d.sync += beat.eq(beat + 1)

        hold = Signal(range(self.busy_ticks + 1))
        with m.If(engine.active | self.design.busy):
            m.d.sync += hold.eq(self.busy_ticks)
        with m.Elif(tick & (hold != 0)):
            m.d.sync += hold.eq(hold - 1)
        m.d.comb += self.led_busy.eq(hold != 0)
        return m


def core_clock(board, freq_mhz=None):
    """``(PLLSettings or None, clk_hz)`` for a requested core clock on ``board``.

    The oscillator's own frequency needs no PLL; anything else goes through the PLL
    (16..275 MHz on an iCE40, 10..400 MHz on an ECP5). ``None`` is the board's default.
    """
    freq_mhz = board.default_mhz if freq_mhz is None else freq_mhz
    osc = board.osc_mhz
    if freq_mhz == osc:
        return None, int(round(osc * 1e6))
    ecp5 = getattr(board, "family", "ice40") == "ecp5"
    lo, hi = ECP5_F_OUT if ecp5 else F_OUT
    if not lo <= freq_mhz <= hi:
        raise ParameterError(f"freq must be {osc:g} MHz (the oscillator, no PLL) or "
                             f"{lo}..{hi} MHz, got {freq_mhz:g}")
    pll = ecp5_pll_settings(osc, freq_mhz) if ecp5 else pll_settings(osc, freq_mhz)
    return pll, int(round(pll.f_out_hz))


class BoardTop(wiring.Component):
    """The whole FPGA: ``clk_in`` from the board's oscillator, UART and two LEDs.

    Parameters
    ----------
    board : catalog.Board
    design : Runnable
    freq_mhz : float
        Requested core clock. The oscillator's own frequency uses no PLL; otherwise
        16..275 MHz through the PLL (:func:`.pll.pll_settings`; the achieved frequency is
        :attr:`clk_hz`).
    baud : int
    batch : bool or None
        Serve BATCH; ``None`` is the board's default (:func:`batch_default`: not on the
        iCEstick's HX1K).
    **core_options
        The rest of :class:`BoardCore`'s options.

    Attributes
    ----------
    pll : PLLSettings or None
    clk_hz : int
        Achieved core clock in Hz (rounded).
    """

    def __init__(self, board, design, freq_mhz=None, baud=DEFAULT_BAUD, batch=None,
                 **core_options):
        self.board = board
        self.pll, self.clk_hz = core_clock(board, freq_mhz)
        batch = batch_default(board) if batch is None else batch
        self.core = BoardCore(design, self.clk_hz, baud, batch=batch, **core_options)
        self.inverted = {port: inv for port, (_, inv) in board.pins().items()}
        if self.inverted["uart_tx"] or self.inverted["uart_rx"]:
            raise ParameterError(f"{board.name}: inverted UART pins are not supported")
        super().__init__({"clk_in": In(1), "uart_rx": In(1, init=1), "uart_tx": Out(1, init=1),
                          "led_heartbeat": Out(1), "led_busy": Out(1)})

    @property
    def clk_mhz(self):
        return self.pll.f_out if self.pll else self.clk_hz / 1e6

    def elaborate(self, platform):
        m = Module()
        m.domains.sync = sync = ClockDomain("sync")
        # The reset logic must not be reset by what it generates: its own reset-less domain.
        m.domains.por = por = ClockDomain("por", reset_less=True)
        clk, lock = Signal(), Signal()
        if self.pll is None:
            m.d.comb += [clk.eq(self.clk_in), lock.eq(1)]
        elif self.board.pll == "EHXPLLL":
            m.submodules.pll = ecp5_pll_instance(self.pll, self.clk_in, clk, lock)
        else:
            m.submodules.pll = pll_instance(self.pll, self.board.pll, self.clk_in, clk, lock)
        m.d.comb += [sync.clk.eq(clk), por.clk.eq(clk)]

        locked = Signal()
        m.submodules.lock_sync = FFSynchronizer(lock, locked, o_domain="por")
        # iCE40 and ECP5 flip-flops power up at 0, so this counts from 0 after configuration.
        settle = Signal(range(RESET_CYCLES + 1))
        with m.If(~locked):
            m.d.por += settle.eq(0)
        with m.Elif(settle != RESET_CYCLES):
            m.d.por += settle.eq(settle + 1)
        m.d.comb += sync.rst.eq(settle != RESET_CYCLES)

        m.submodules.core = core = self.core
        m.d.comb += [core.uart_rx.eq(self.uart_rx), self.uart_tx.eq(core.uart_tx)]
        for port in ("led_heartbeat", "led_busy"):
            value = getattr(core, port)
            m.d.comb += getattr(self, port).eq(~value if self.inverted[port] else value)
        return m

