"""iCE40 PLL settings computed in Python, and the PLL primitive as an Amaranth ``Instance``.

In SIMPLE feedback mode (iCE40 sysCLOCK PLL design guide, Lattice TN1251)::

    f_pfd = f_in / (DIVR + 1)               10 .. 133 MHz   (phase detector)
    f_vco = f_pfd * (DIVF + 1)             533 .. 1066 MHz
    f_out = f_vco / 2**DIVQ                 16 .. 275 MHz
    DIVR 0..15, DIVF 0..127, DIVQ 1..6
    FILTER_RANGE = 1, 2, 3, 4, 5, 6 for f_pfd below 17, 26, 44, 66, 101, and above

:func:`pll_settings` searches every legal (DIVR, DIVF, DIVQ) for the output closest to the
request; ties go to the smallest DIVR, then DIVF, then DIVQ, which is the order ``icepll``
searches in, so both pick the same settings (checked against ``yowasp-icepll`` in the tests).
One difference: ``icepll`` does not check the achieved output against the 16 MHz minimum
(it answers 15.9375 MHz for 16 MHz and 276 MHz for 275); here it must lie in 16..275 MHz.

Which primitive a board needs depends on its clock pin: a clock on the PLL's dedicated pad
(iCEBreaker pin 35) must use ``SB_PLL40_PAD``; any other pin goes through the fabric to
``SB_PLL40_CORE`` (nextpnr refuses the other combination). One output suffices here, so the
two-output ``SB_PLL40_2F_*`` variants are not used.
"""
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from amaranth.hdl import Const, Instance

from ..model.params import ParameterError

F_IN = (10, 133)
F_PFD = (10, 133)
F_VCO = (533, 1066)
F_OUT = (16, 275)
FILTER_EDGES = (17, 26, 44, 66, 101)
PRIMITIVES = ("SB_PLL40_PAD", "SB_PLL40_CORE")


@dataclass(frozen=True)
class PLLSettings:
    """One PLL configuration; frequencies in MHz."""
    f_in: float
    divr: int
    divf: int
    divq: int

    @property
    def f_pfd(self):
        return self.f_in / (self.divr + 1)

    @property
    def f_vco(self):
        return self.f_pfd * (self.divf + 1)

    @property
    def f_out(self):
        return self.f_vco / 2**self.divq

    @property
    def f_out_hz(self):
        """The exact output frequency in Hz (a fraction, for baud-rate divisors)."""
        return Fraction(self.f_in) * 10**6 * (self.divf + 1) / ((self.divr + 1) * 2**self.divq)

    @property
    def filter_range(self):
        return 1 + sum(self.f_pfd >= edge for edge in FILTER_EDGES)

    def as_dict(self):
        return {"f_in_mhz": self.f_in, "f_out_mhz": round(self.f_out, 6), "divr": self.divr,
                "divf": self.divf, "divq": self.divq, "filter_range": self.filter_range,
                "f_pfd_mhz": round(self.f_pfd, 6), "f_vco_mhz": round(self.f_vco, 6)}


def pll_settings(f_in, f_out):
    """The legal SIMPLE-feedback settings whose output is closest to ``f_out`` (MHz).

    Raises
    ------
    ParameterError
        ``f_in`` or ``f_out`` outside the PLL's range.
    """
    if not F_IN[0] <= f_in <= F_IN[1]:
        raise ParameterError(f"PLL input must be in {F_IN[0]}..{F_IN[1]} MHz, got {f_in}")
    if not F_OUT[0] <= f_out <= F_OUT[1]:
        raise ParameterError(f"freq must be in {F_OUT[0]}..{F_OUT[1]} MHz for the PLL, got {f_out}")
    best = None
    for divr in range(16):
        f_pfd = f_in / (divr + 1)
        if not F_PFD[0] <= f_pfd <= F_PFD[1]:
            continue
        for divf in range(128):
            f_vco = f_pfd * (divf + 1)
            if not F_VCO[0] <= f_vco <= F_VCO[1]:
                continue
            for divq in range(1, 7):
                s = PLLSettings(f_in, divr, divf, divq)
                if not F_OUT[0] <= s.f_out <= F_OUT[1]:
                    continue                # icepll would allow 15.94 MHz for a 16 MHz request
                if best is None or abs(s.f_out - f_out) < abs(best.f_out - f_out):
                    best = s
    if best is None:
        raise ParameterError(f"no PLL setting reaches {f_out} MHz from {f_in} MHz")
    return best


def pll_instance(settings, primitive, clk_in, clk_out, lock):
    """The PLL primitive: ``clk_in`` (pad or fabric clock) -> ``clk_out`` on a global net."""
    if primitive not in PRIMITIVES:
        raise ParameterError(f"primitive must be one of {', '.join(PRIMITIVES)}, got {primitive!r}")
    source = "i_PACKAGEPIN" if primitive == "SB_PLL40_PAD" else "i_REFERENCECLK"
    return Instance(
        primitive,
        p_FEEDBACK_PATH="SIMPLE",
        p_DIVR=Const(settings.divr, 4), p_DIVF=Const(settings.divf, 7),
        p_DIVQ=Const(settings.divq, 3), p_FILTER_RANGE=Const(settings.filter_range, 3),
        i_RESETB=Const(1, 1), i_BYPASS=Const(0, 1),
        o_PLLOUTGLOBAL=clk_out, o_LOCK=lock,
        **{source: clk_in},
    )


# --------------------------------------------------------------------------------- ECP5
# ECP5 EHXPLLL (Lattice TN1263, ECP5 sysCLOCK PLL/DLL design and usage guide) with CLKOP fed
# back to CLKFB, as Project Trellis's ``ecppll`` configures it::
#
#     f_pfd = f_in / CLKI_DIV                   3.125 .. 400 MHz
#     f_out = f_pfd * CLKFB_DIV                    10 .. 400 MHz  (CLKOP)
#     f_vco = f_out * CLKOP_DIV                   400 .. 800 MHz
#     CLKI_DIV 1..128, CLKFB_DIV 1..80, CLKOP_DIV 1..128, input 8..400 MHz
#
# :func:`ecp5_pll_settings` searches as ``ecppll`` does (CLKI_DIV, then CLKFB_DIV, then
# CLKOP_DIV ascending; a strictly smaller error wins, an equal error wins when its VCO is closer
# to 600 MHz; in float32 arithmetic), so both pick the same settings (checked against ``yowasp-ecppll`` in the tests).
# CLKOP_CPHASE is the 180-degree shift ``ecppll`` writes (about CLKOP_DIV / 2).
ECP5_F_IN = (8, 400)
ECP5_F_PFD = (3.125, 400)
ECP5_F_VCO = (400, 800)
ECP5_F_OUT = (10, 400)
ECP5_PRIMITIVES = ("EHXPLLL",)


@dataclass(frozen=True)
class ECP5PLLSettings:
    """One EHXPLLL configuration; frequencies in MHz."""
    f_in: float
    clki_div: int
    clkfb_div: int
    clkop_div: int

    @property
    def f_pfd(self):
        return self.f_in / self.clki_div

    @property
    def f_out(self):
        return self.f_pfd * self.clkfb_div

    @property
    def f_vco(self):
        return self.f_out * self.clkop_div

    @property
    def f_out_hz(self):
        return Fraction(self.f_in) * 10**6 * self.clkfb_div / self.clki_div

    @property
    def clkop_cphase(self):
        """The 180-degree shift ``ecppll`` writes: half a CLKOP period in VCO cycles, with the
        period held in float32 and the product truncated, as the tool computes it (so 6.0 may
        come out as 5 and 4.0 as 4)."""
        f32 = np.float32
        fout = f32(self.f_in) / f32(self.clki_div) * f32(self.clkfb_div)
        fvco = fout * f32(self.clkop_div)
        half_period = f32(1 / (float(fout) * 1e6) * 0.5)
        return int(float(half_period) * (float(fvco) * 1e6))

    def as_dict(self):
        return {"f_in_mhz": self.f_in, "f_out_mhz": round(self.f_out, 6),
                "clki_div": self.clki_div, "clkfb_div": self.clkfb_div,
                "clkop_div": self.clkop_div, "clkop_cphase": self.clkop_cphase,
                "f_pfd_mhz": round(self.f_pfd, 6), "f_vco_mhz": round(self.f_vco, 6)}


def ecp5_pll_settings(f_in, f_out):
    """The legal EHXPLLL settings whose CLKOP is closest to ``f_out`` (MHz).

    Raises
    ------
    ParameterError
        ``f_in`` or ``f_out`` outside the PLL's range, or no setting reaches ``f_out``.
    """
    if not ECP5_F_IN[0] <= f_in <= ECP5_F_IN[1]:
        raise ParameterError(f"PLL input must be in {ECP5_F_IN[0]}..{ECP5_F_IN[1]} MHz, got {f_in}")
    if not ECP5_F_OUT[0] <= f_out <= ECP5_F_OUT[1]:
        raise ParameterError(f"freq must be in {ECP5_F_OUT[0]}..{ECP5_F_OUT[1]} MHz for the "
                             f"ECP5 PLL, got {f_out}")
    # Single precision, as ecppll computes: exact ties (133.33 MHz from 25: VCO 533.3 or
    # 666.7) are broken by float32 rounding, and matching the tool means rounding the same way.
    f32 = np.float32
    clki = np.arange(1, 129, dtype=f32)[:, None, None]
    clkfb = np.arange(1, 81, dtype=f32)[None, :, None]
    clkop = np.arange(1, 129, dtype=f32)[None, None, :]
    f_pfd = f32(f_in) / clki
    vco = f_pfd * clkfb * clkop
    out = vco / clkop
    legal = ((f_pfd >= f32(ECP5_F_PFD[0])) & (f_pfd <= f32(ECP5_F_PFD[1]))
             & (vco >= f32(ECP5_F_VCO[0])) & (vco <= f32(ECP5_F_VCO[1])))
    err = np.where(legal, np.abs(out - f32(f_out)), np.inf).ravel()
    best = None
    if np.isfinite(err.min()):
        # ecppll keeps the first minimum error, then any later equal error whose VCO is
        # strictly closer to 600 MHz: the earliest of the closest among the minima.
        ties = np.flatnonzero(err == err.min())
        dist = np.abs(np.broadcast_to(vco, legal.shape).ravel()[ties] - f32(600))
        index = ties[np.flatnonzero(dist == dist.min())[0]]
        i, j, k = np.unravel_index(index, legal.shape)
        best = (int(i) + 1, int(j) + 1, int(k) + 1)
    if best is None:
        raise ParameterError(f"no ECP5 PLL setting reaches {f_out} MHz from {f_in} MHz")
    settings = ECP5PLLSettings(f_in, *best)
    if not ECP5_F_OUT[0] <= settings.f_out <= ECP5_F_OUT[1]:
        raise ParameterError(f"no ECP5 PLL setting reaches {f_out} MHz from {f_in} MHz "
                             f"inside {ECP5_F_OUT[0]}..{ECP5_F_OUT[1]} MHz")
    return settings


def ecp5_pll_instance(settings, clk_in, clk_out, lock):
    """EHXPLLL with CLKOP fed back: ``clk_in`` -> ``clk_out``, the parameters ``ecppll`` writes."""
    return Instance(
        "EHXPLLL",
        a_FREQUENCY_PIN_CLKI=f"{settings.f_in:g}",
        a_FREQUENCY_PIN_CLKOP=f"{settings.f_out:.6g}",
        a_ICP_CURRENT="12", a_LPF_RESISTOR="8", a_MFG_ENABLE_FILTEROPAMP="1",
        a_MFG_GMCREF_SEL="2",
        p_PLLRST_ENA="DISABLED", p_INTFB_WAKE="DISABLED", p_STDBY_ENABLE="DISABLED",
        p_DPHASE_SOURCE="DISABLED", p_OUTDIVIDER_MUXA="DIVA", p_OUTDIVIDER_MUXB="DIVB",
        p_OUTDIVIDER_MUXC="DIVC", p_OUTDIVIDER_MUXD="DIVD",
        p_CLKI_DIV=settings.clki_div, p_CLKOP_ENABLE="ENABLED", p_CLKOP_DIV=settings.clkop_div,
        p_CLKOP_CPHASE=settings.clkop_cphase, p_CLKOP_FPHASE=0, p_FEEDBK_PATH="CLKOP",
        p_CLKFB_DIV=settings.clkfb_div,
        i_RST=Const(0, 1), i_STDBY=Const(0, 1), i_CLKI=clk_in, i_CLKFB=clk_out,
        i_PHASESEL0=Const(0, 1), i_PHASESEL1=Const(0, 1), i_PHASEDIR=Const(1, 1),
        i_PHASESTEP=Const(1, 1), i_PHASELOADREG=Const(1, 1), i_PLLWAKESYNC=Const(0, 1),
        i_ENCLKOP=Const(0, 1),
        o_CLKOP=clk_out, o_LOCK=lock,
    )
