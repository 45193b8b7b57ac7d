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

ECP5 boards (:data:`ECP5_BOARDS`, PLL: EHXPLLL, constraints as an LPF):

===========  ==================  ========  ========  ===  ======  =======  ====================
board        platform            device    package   spd  osc     default  notes
===========  ==================  ========  ========  ===  ======  =======  ====================
ulx3s-85f    ULX3S_85F_Platform  85k       CABGA381  6    25 MHz  50 MHz   UART on the FTDI
ulx3s-25f    ULX3S_25F_Platform  25k       CABGA381  6    25 MHz  50 MHz   UART on the FTDI
ecpix5-85f   ECPIX585Platform    um5g-85k  CABGA554  8    100 MHz 50 MHz   UART on the FT2232's
                                                                           2nd port; RGB LEDs
===========  ==================  ========  ========  ===  ======  =======  ====================

:data:`ALL_BOARDS` holds both tables; :func:`board` looks names up in it.
"""
from dataclasses import dataclass

from amaranth.build import Pins, Resource, Subsignal
from amaranth_boards.ecpix5 import ECPIX585Platform
from amaranth_boards.ice40_hx8k_b_evn import ICE40HX8KBEVNPlatform
from amaranth_boards.icebreaker import ICEBreakerPlatform
from amaranth_boards.icestick import ICEStickPlatform
from amaranth_boards.ulx3s import ULX3S_25F_Platform, ULX3S_85F_Platform
from amaranth_boards.upduino_v3 import UpduinoV3Platform

from ..model.params import ParameterError

# The UP5K is the slow part: a LIF runner placed with the board top reaches about 23 MHz.
UP5K_MHZ = 18.0                  # exact from 12 MHz: DIVF = 47, DIVQ = 5
ECP5_MHZ = 50.0                  # exact from 25 MHz (x2) and 100 MHz (/2)

# amaranth-boards device and package names -> nextpnr-ecp5 flags.
_ECP5_DEVICE = {"LFE5U-12F": "12k", "LFE5U-25F": "25k", "LFE5U-45F": "45k", "LFE5U-85F": "85k",
                "LFE5UM-25F": "um-25k", "LFE5UM-45F": "um-45k", "LFE5UM-85F": "um-85k",
                "LFE5UM5G-25F": "um5g-25k", "LFE5UM5G-45F": "um5g-45k",
                "LFE5UM5G-85F": "um5g-85k"}
_ECP5_PACKAGE = {"BG256": "CABGA256", "MG285": "CSFBGA285", "BG381": "CABGA381",
                 "BG554": "CABGA554", "BG756": "CABGA756"}

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
    def family(self):
        """``"ice40"`` or ``"ecp5"``."""
        return "ecp5" if self.platform.device in _ECP5_DEVICE else "ice40"

    @property
    def device(self):
        """nextpnr device name (``up5k``, ``hx1k``, ``hx8k``; ECP5: ``25k``, ``um5g-85k``)."""
        if self.family == "ecp5":
            return _ECP5_DEVICE[self.platform.device]
        return self.platform.device.lower().removeprefix("ice40")

    @property
    def package(self):
        if self.family == "ecp5":
            return _ECP5_PACKAGE[self.platform.package]
        return self.platform.package.lower()

    @property
    def speed(self):
        """ECP5 speed grade (None for an iCE40)."""
        return int(self.platform.speed) if self.family == "ecp5" else None

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

    def lpf(self):
        """ECP5 pin constraints for nextpnr-ecp5: sites, LVCMOS33 banks, a pull-up on the
        UART's receive line and the oscillator's frequency (the PLL output's constraint is
        derived from it)."""
        lines = ["BLOCK ASYNCPATHS;", "BLOCK RESETPATHS;"]
        for port, (pin, _) in self.pins().items():
            pull = " PULLMODE=UP" if port == "uart_rx" else ""
            lines += [f'LOCATE COMP "{port}" SITE "{pin}";',
                      f'IOBUF PORT "{port}" IO_TYPE=LVCMOS33{pull};']
        lines.append(f'FREQUENCY PORT "clk_in" {self.osc_mhz:g} MHZ;')
        return "\n".join(lines) + "\n"

    def constraints(self):
        """``(file suffix, text)``: the PCF of an iCE40 board or the LPF of an ECP5 board."""
        return (".lpf", self.lpf()) if self.family == "ecp5" else (".pcf", self.pcf())


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


# ECP5 boards: kept apart from BOARDS (the iCE40 boards), both in ALL_BOARDS.
ECP5_BOARDS = {b.name: b for b in (
    Board("ulx3s-85f", "Radiona ULX3S (LFE5U-85F)", ULX3S_85F_Platform, "EHXPLLL",
          clock=("clk25", 0), led_heartbeat=("led", 0), led_busy=("led", 1),
          default_mhz=ECP5_MHZ, notes="UART on the FTDI (US1 port)"),
    Board("ulx3s-25f", "Radiona ULX3S (LFE5U-25F)", ULX3S_25F_Platform, "EHXPLLL",
          clock=("clk25", 0), led_heartbeat=("led", 0), led_busy=("led", 1),
          default_mhz=ECP5_MHZ, notes="UART on the FTDI (US1 port)"),
    Board("ecpix5-85f", "LambdaConcept ECPIX-5 (LFE5UM5G-85F)", ECPIX585Platform, "EHXPLLL",
          clock=("clk100", 0), led_heartbeat=("rgb_led", 0, "g"), led_busy=("rgb_led", 0, "r"),
          default_mhz=ECP5_MHZ, notes="UART on the FT2232's second port"),
)}
ALL_BOARDS = {**BOARDS, **ECP5_BOARDS}


def board(name):
    """The :class:`Board` called ``name`` (iCE40 or ECP5); :class:`ParameterError` lists the
    choices."""
    if name not in ALL_BOARDS:
        raise ParameterError(f"board must be one of {', '.join(ALL_BOARDS)}, got {name!r}")
    return ALL_BOARDS[name]
