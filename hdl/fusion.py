"""MUX fusion layer generator (semantics, sharing and decorrelation: :mod:`scfpga.model.fusion`).

Datapath: one data source ``R`` and one select source ``S`` for the whole layer. The select
decoder turns ``S`` into the modality index ``sel`` once; each element then muxes its ``sel``-th
threshold register and compares it with ``R``. Selecting the threshold before comparing gives
the same bit as comparing every (modality, element) pair and muxing the bits, with one
comparator per element instead of one per input value.

Run interface (all registered, ``sync`` domain):

* ``load``/``addr``/``data``: while idle, an edge with ``load = 1`` writes threshold ``data``
  (``0..2**width``; larger values act as ``2**width``) of modality ``addr // dim``, element
  ``addr % dim``. Writes while busy are ignored, so a run always sees one set of thresholds.
* ``start``: an edge with ``start = 1`` while idle restarts both sources at element 0, clears the
  counts and raises ``busy``.
* ``en``: while busy, each edge with ``en = 1`` consumes one cycle: ``counts[j] += bits[j]`` and
  the sources advance. The edge that consumes cycle ``length - 1`` drops ``busy`` and raises
  ``done`` for one cycle; ``counts`` then hold the run's totals until the next ``start``.
* ``bits[j]`` is element j's fused bit of the current cycle while busy (combinational from the
  sources and registers), 0 while idle. It equals ``fusion_bits(...)[j, k]`` in the run's
  ``k``-th enabled cycle.
"""
from amaranth.hdl import Array, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..model.fusion import FusionParams
from .mux import select_index
from .run_control import run_sources


class Fusion(wiring.Component):
    """``dim`` MUX fusion elements over ``n_modalities`` run-time threshold registers each.

    Parameters
    ----------
    params : FusionParams

    Attributes
    ----------
    start, en : Signal, in
        Start a run (while idle); consume one cycle (while busy).
    load : Signal, in
        Write ``data`` to threshold register ``addr`` (while idle).
    addr : Signal(range(n_modalities * dim)), in
        ``modality * dim + element``.
    data : Signal(width + 1), in
        Threshold P in ``0..2**width``.
    busy, done : Signal, out
        A run is in progress; one-cycle pulse after its last cycle.
    bits : Signal(dim), out
        Fused bit of every element in the current cycle (0 while idle).
    counts : Signal(dim * count_width), out
        Ones per element so far in the run (the totals after ``done``); element j is
        ``counts.word_select(j, count_width)``.
    """

    def __init__(self, params: FusionParams):
        self.params = params
        n_regs = params.n_modalities * params.dim
        super().__init__({
            "start": In(1), "en": In(1),
            "load": In(1), "addr": In(range(n_regs)), "data": In(params.width + 1),
            "busy": Out(1), "done": Out(1),
            "bits": Out(params.dim),
            # Flat, element j in bits [j*count_width, (j+1)*count_width): an ArrayLayout port
            # makes Amaranth emit wires named 'counts[0]', which crash Yosys's ABC9 pass.
            "counts": Out(params.count_width * params.dim),
        })

    def elaborate(self, platform):
        m = Module()
        p = self.params
        restart = Signal()
        step = Signal()
        m.d.comb += [restart.eq(self.start & ~self.busy), step.eq(self.busy & self.en)]

        # Both sources restart at element 0 on every run, as in the model.
        data_value, select_value = run_sources(m, ("data_source", "select_source"),
                                               (p.data_source, p.select_source), restart, step)
        sel = select_index(m, select_value, p.mux)

        regs = [Signal(p.width + 1, name=f"prob_{mod}_{j}")
                for mod in range(p.n_modalities) for j in range(p.dim)]
        with m.If(self.load & ~self.busy):
            with m.Switch(self.addr):
                for i, reg in enumerate(regs):
                    with m.Case(i):
                        m.d.sync += reg.eq(self.data)

        for j in range(p.dim):
            threshold = Array(regs[mod * p.dim + j] for mod in range(p.n_modalities))[sel]
            m.d.comb += self.bits[j].eq(self.busy & (data_value < threshold))

        counts = [self.counts.word_select(j, p.count_width) for j in range(p.dim)]
        remaining = Signal(range(p.length + 1))
        m.d.sync += self.done.eq(0)
        with m.If(restart):
            m.d.sync += [self.busy.eq(1), remaining.eq(p.length)]
            m.d.sync += self.counts.eq(0)
        with m.Elif(step):
            m.d.sync += [c.eq(c + self.bits[j]) for j, c in enumerate(counts)]
            m.d.sync += remaining.eq(remaining - 1)
            with m.If(remaining == 1):
                m.d.sync += [self.busy.eq(0), self.done.eq(1)]
        return m

