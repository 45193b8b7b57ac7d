"""Bitstream sources in hardware: the component for an LFSR or Sobol parameter object, a layer's
stream source (:class:`StreamSource`, a source of a :mod:`scfpga.model.streams` plan) and the
two pieces of logic layers share to advance time-multiplexed source states (:func:`leap`,
:func:`direction_index`)."""
from functools import reduce
from operator import xor

import numpy as np

from amaranth.hdl import C, Cat, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..model.lfsr import LFSRParams, lfsr_leap_columns
from ..model.params import ParameterError
from ..model.sobol import SobolParams
from .lfsr import LFSR
from .sobol import Sobol


def make_source(params):
    """An :class:`LFSR` or :class:`Sobol` component for ``params``."""
    if isinstance(params, LFSRParams):
        return LFSR(params)
    if isinstance(params, SobolParams):
        return Sobol(params)
    raise ParameterError(f"source must be LFSRParams or SobolParams, got {type(params).__name__}")


def leap(value, cols):
    """The XOR network mapping an LFSR state ``value`` to the state ``len(cols)`` steps later
    (``cols``: :func:`scfpga.model.lfsr.lfsr_leap_columns`)."""
    return Cat(*[reduce(xor, [value[i] for i, c in enumerate(cols) if (c >> b) & 1], C(0, 1))
                 for b in range(len(cols))])


def direction_index(k, index_width, bits):
    """The Sobol direction number that takes point ``k`` to ``k + 1``: the position of the
    lowest zero bit of ``k`` (``index_width`` when there is none), ``bits`` wide.

    A Mux chain, not ``m.If``: Icarus never evaluates an ``always @*`` whose inputs stay
    constant from time 0, and a cycle counter does stay 0 until the first run.
    """
    top = min(len(k), index_width)            # k's bits above len(k) are 0
    lowest = C(top if top < index_width else 0, bits)
    for j in reversed(range(top)):
        lowest = Mux(~k[j], j, lowest)
    return lowest


class StreamSource(wiring.Component):
    """One source of a stream plan: ``value`` is the model's stream value of the current cycle
    (``plan.shift``/``plan.leap`` of :mod:`scfpga.model.streams`); ``en`` advances a cycle."""

    def __init__(self, plan, params):
        self.plan, self.params = plan, params
        super().__init__({"en": In(1), "value": Out(plan.width)})

    def elaborate(self, platform):
        m = Module()
        if self.plan.kind == "sobol":
            m.submodules.sobol = sobol = Sobol(self.params)
            m.d.comb += [sobol.en.eq(self.en), self.value.eq(sobol.value)]
        else:
            state = Signal(self.params.width, init=self.params.seed)
            with m.If(self.en):
                m.d.sync += state.eq(leap(state, lfsr_leap_columns(self.params, self.plan.leap)))
            m.d.comb += self.value.eq(state[self.plan.shift:])
        return m


def direction_bits(plan):
    """Index bits of a per-input Sobol direction table (0 for LFSR plans)."""
    return max(1, (plan.inputs[0].index_width - 1).bit_length()) if plan.kind == "sobol" else 0


def input_source_table(plan, n_inputs, rows, lanes, lane):
    """Init contents of a lane's time-multiplexed input sources: per row (input ``row * lanes +
    lane``), the LFSR seed, or the Sobol direction numbers at ``(row << direction_bits) | j``."""
    cb = direction_bits(plan)
    table = [0] * (rows << cb) if plan.kind == "sobol" else [0] * rows
    for row in range(rows):
        i = row * lanes + lane
        if i >= n_inputs:
            continue
        if plan.kind == "sobol":
            for j, v in enumerate(plan.inputs[i].directions):
                table[(row << cb) | j] = v
        else:
            table[row] = plan.inputs[i].seed
    return table


def weight_field_bits(width, memory="rom"):
    """Bits of one sign-magnitude weight in a weight-memory word: magnitude ``0..2**width`` and a
    sign; in SPRAM rounded up to whole nibbles (its write mask has one bit per 4 data bits)."""
    bits = width + 2
    return -(-bits // 4) * 4 if memory == "spram" else bits


def sign_magnitude(values, width):
    """Each value's weight field: magnitude (``width + 1`` bits), then its sign bit."""
    v = np.asarray(values, dtype=np.int64)
    return np.abs(v) | ((v < 0).astype(np.int64) << (width + 1))


def sign_magnitude_word(values, width, memory="rom"):
    """One weight-memory word: value ``s`` in field ``s`` of :func:`weight_field_bits` (how
    layers store their weights)."""
    word, fw = 0, weight_field_bits(width, memory)
    for s, f in enumerate(sign_magnitude(values, width).tolist()):
        word |= f << (s * fw)
    return word
