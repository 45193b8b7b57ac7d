"""The boards a design can be built for.

Pins, LED polarity, device and package come from the amaranth-boards platform classes, so they
are written down once (there); this table adds what a platform does not say: which LEDs and
which UART the board top uses, which PLL primitive the clock pin needs (:mod:`.pll`) and, for
the UPduino, the UART pins of an external adapter.

==========  =====================  ======  =====  ===========  =======  =========================
board       platform               device  pkg    oscillator   default  notes
==========  =====================  ======  =====  ===========  =======  =========================
icebreaker  ICEBreakerPlatform     up5k    sg48   12 MHz       18 MHz   UART on the FTDI's 2nd
                                                                        port; PLL on the clock pad
upduino3    UpduinoV3Platform      up5k    sg48   12 MHz       18 MHz   solder the OSC jumper (pin
                                                                        20); 3.3 V USB-serial
                                                                        adapter on pins 2 (rx), 46
icestick    ICEStickPlatform       hx1k    tq144  12 MHz       24 MHz   UART on the FTDI's 2nd port
hx8k-evn    ICE40HX8KBEVNPlatform  hx8k    ct256  12 MHz       24 MHz   UART on the FTDI's 2nd port
==========  =====================  ======  =====  ===========  =======  =========================
"""
from dataclasses import dataclass

from amaranth.build import Pins, Resource, Subsignal
from amaranth_boards.ice40_hx8k_b_evn import ICE40HX8KBEVNPlatform
from amaranth_boards.icebreaker import ICEBreakerPlatform
from amaranth_boards.icestick import ICEStickPlatform
from amaranth_boards.upduino_v3 import UpduinoV3Platform

from ..model.params import ParameterError

# The UP5K is the slow part: a LIF runner placed with the board top reaches about 23 MHz.
UP5K_MHZ = 18.0                  # exact from 12 MHz: DIVF = 47, DIVQ = 5

# The UPduino v3's FT232H only programs the flash: a UART needs an external adapter.
_UPDUINO_UART = Resource("uart", 0, Subsignal("rx", Pins("2", dir="i")),
                         Subsignal("tx", Pins("46", dir="o")))


@dataclass(frozen=True)
class Board:
    """One supported board.

    ``clock``, ``uart``, ``led_heartbeat`` and ``led_busy`` name platform resources as
    ``(name, number)`` or ``(name, number, subsignal)``.
    """
    name: str
    title: str
    platform: type
    pll: str                      # PLL primitive for the clock pin
    clock: tuple = ("clk12", 0)
    uart: tuple = ("uart", 0)
    led_heartbeat: tuple = ("led", 0)
    led_busy: tuple = ("led", 1)
    extra_resources: tuple = ()
    default_mhz: float = 24.0
    notes: str = ""

    def _platform(self):
        platform = self.platform()
        if self.extra_resources:
            platform.add_resources(list(self.extra_resources))
        return platform

    @property
    def device(self):
        """nextpnr device name (``up5k``, ``hx1k``, ``hx8k``)."""
        return self.platform.device.lower().removeprefix("ice40")

    @property
    def package(self):
        return self.platform.package.lower()

    @property
    def osc_mhz(self):
        platform = self._platform()
        return platform.lookup(*self.clock[:2]).clock.frequency / 1e6

    def pin(self, resource):
        """``(package pin, inverted)`` of a resource given as in :attr:`uart` etc."""
        platform = self._platform()
        res = platform.lookup(*resource[:2])
        ios = res.ios
        if len(resource) > 2:
            ios = next(s.ios for s in ios if getattr(s, "name", None) == resource[2])
        pins = ios[0]
        names = pins.map_names(platform._conn_pins, res)
        if len(names) != 1:
            raise ParameterError(f"{resource} must be a single pin, got {names}")
        return names[0], pins.invert

    def pins(self):
        """Top-level port -> ``(package pin, inverted)`` for the board top."""
        return {
            "clk_in": self.pin(self.clock),
            "uart_rx": self.pin(self.uart + ("rx",)),
            "uart_tx": self.pin(self.uart + ("tx",)),
            "led_heartbeat": self.pin(self.led_heartbeat),
            "led_busy": self.pin(self.led_busy),
        }

    def pcf(self):
        """Pin constraints for nextpnr. The oscillator's frequency is stated, so nextpnr derives
        the exact constraint of the PLL output from the PLL's dividers."""
        lines = []
        for port, (pin, _) in self.pins().items():
            pullup = " -pullup yes" if port == "uart_rx" else ""    # idle-high line when unplugged
            lines.append(f"set_io{pullup} {port} {pin}")
        lines.append(f"set_frequency clk_in {self.osc_mhz:g}")
        return "\n".join(lines) + "\n"


BOARDS = {b.name: b for b in (
    Board("icebreaker", "1BitSquared iCEBreaker (iCE40UP5K)", ICEBreakerPlatform, "SB_PLL40_PAD",
          led_heartbeat=("led_g", 0), led_busy=("led_r", 0), default_mhz=UP5K_MHZ,
          notes="UART on the FTDI's second port"),
    Board("upduino3", "tinyVision UPduino v3 (iCE40UP5K)", UpduinoV3Platform, "SB_PLL40_CORE",
          led_heartbeat=("rgb_led", 0, "g"), led_busy=("rgb_led", 0, "r"), default_mhz=UP5K_MHZ,
          extra_resources=(_UPDUINO_UART,),
          notes="solder the OSC jumper (12 MHz on pin 20); 3.3 V USB-serial adapter on "
                "pin 2 (FPGA rx) and pin 46 (FPGA tx)"),
    Board("icestick", "Lattice iCEstick (iCE40HX1K)", ICEStickPlatform, "SB_PLL40_CORE",
          led_heartbeat=("led", 4), led_busy=("led", 0),
          notes="UART on the FTDI's second port"),
    Board("hx8k-evn", "Lattice iCE40-HX8K breakout board", ICE40HX8KBEVNPlatform, "SB_PLL40_CORE",
          notes="UART on the FTDI's second port"),
)}


def board(name):
    """The :class:`Board` called ``name``; :class:`ParameterError` lists the choices."""
    if name not in BOARDS:
        raise ParameterError(f"board must be one of {', '.join(BOARDS)}, got {name!r}")
    return BOARDS[name]
