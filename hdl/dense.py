"""Dense SC layer generator (semantics, stream plan and quantisation: :mod:`scfpga.model.dense`).

Architecture: *input-serial, neuron-parallel*. The layer walks its ``n_terms`` synapse columns
(inputs, then the bias) ``lanes`` at a time; one SC cycle takes ``steps = ceil(n_terms/lanes)``
clocks and every neuron sees ``lanes`` synapses per clock. What is shared and where it lives:

* **inputs**: one SNG per input, time-multiplexed. The thresholds ``P_i`` (run-time, ``load``
  port) and each input's source state sit in block RAM, one word per input; each clock reads
  the state of the inputs in flight, compares its top ``width`` bits with ``P_i`` and writes the
  advanced state back (LFSR: ``width`` steps through a fixed XOR network; Sobol: XOR with the
  direction number picked by the shared cycle counter, from a per-input direction ROM). Cycle 0
  takes the state from the seed ROM (LFSR) or 0 (Sobol), so a run needs no initialisation pass.
* **weights**: one weight source for the whole layer (the model's shared ``S``). Each clock reads
  one ROM row per lane holding ``|q|`` and the sign of every neuron's synapse, baked in at build
  time (block RAM initialised from the bitstream), and each neuron compares ``S`` with its
  magnitude: one ``width + 1``-bit comparator per neuron and lane.
* **neurons**: per neuron an up/down accumulator (counter mode; MUX mode keeps only the selected
  term), the cycle's current register, a :class:`~scfpga.hdl.lif.LIFCore` (or, for the default
  non-leaky neuron that cannot saturate, the clamp-free :class:`IFNeuron`), the score and the
  spike count. The neurons run in parallel; nothing else is per synapse.

Measured (``scripts/dense_cost.py``, UP5K, out of context): 64 inputs x 16 neurons, W = 8,
L = 256, Sobol, one lane: 1948 of 5280 logic cells, 13 of 30 EBR, 38 MHz; two lanes: 2403 LC,
26 EBR, 32 MHz at twice the throughput. The weight ROM takes ``lanes * ceil(n_neurons *
(width + 2) / 16)`` EBR, which bounds the neuron count on one device.

Pipeline, counted in enabled clocks after the ``start`` clock: clock ``m = k*steps + step``
addresses the RAMs (A), clock ``m + 1`` forms the product bits and accumulates (B); after the
last step of cycle k, clock ``(k+1)*steps + 1`` adds the current to the score and updates the
LIF (C; not for the run's last cycle, as in :func:`scfpga.model.lif.lif_run`), clock
``(k+1)*steps + 2`` shows the new spikes (``spike_valid``) and adds them to the counts (D).

Run interface (``sync`` domain):

* ``load``/``addr``/``data``: while idle, an edge with ``load = 1`` writes threshold ``data``
  (``0..2**width``) of input ``addr``; writes while busy are ignored.
* ``start``: an edge with ``start = 1`` while idle clears scores, counts, neurons and sources
  and raises ``busy``. ``en``: an edge with ``en = 0`` freezes the run (stall).
* ``busy`` falls and ``done`` pulses for one clock when the last cycle's current is in the
  scores; counts and scores then hold until the next ``start``.
* ``sel`` selects the neuron shown on ``count`` (spikes so far) and ``score`` (signed, sum of
  currents so far); ``spike`` holds every neuron's current spike bit (the model's ``spikes``
  of the current cycle), ``spike_valid`` is 1 while ``spike`` shows a newly updated cycle.
"""
from typing import NamedTuple

import numpy as np

from amaranth.hdl import C, Cat, Module, Mux, ResetInserter, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ..model.dense import DenseParams, integrate_fire_exact
from ..model.lfsr import lfsr_leap_columns
from ..model.mux import uniform_select
from ..model.params import ParameterError, check_int
from .lif import LIFCore
from .sources import (StreamSource, direction_bits, direction_index, input_source_table, leap,
                      sign_magnitude_word, weight_field_bits)

MAX_LANES = 64


def sweep_steps(params, lanes=1):
    """Clocks per SC cycle: ``ceil(n_terms / lanes)`` (validates ``params`` and ``lanes``)."""
    if not isinstance(params, DenseParams):
        raise ParameterError("params must be a DenseParams")
    check_int("lanes", lanes, 1, MAX_LANES)
    if lanes & (lanes - 1):
        raise ParameterError(f"lanes must be a power of two, got {lanes}")
    return -(-params.n_terms // lanes)


# Stages after stage A's last step of a cycle until its LIF update shows (B, C; module docstring).
UPDATE_DELAY = 2


class RunSchedule(NamedTuple):
    """The pipeline timing of one run of :class:`Dense`, the one statement of it.

    Everything is counted in enabled clocks ``e`` after the ``start`` clock (module docstring):
    cycle k's current is in the scores and its LIF update shows from ``e = (k + 1) * steps +
    UPDATE_DELAY``, its spikes are counted one enabled clock later, ``busy`` falls at
    :attr:`busy_clocks`. The bench (``sim/dense.py``), the board design, the out-of-context
    throughput and the digits RTL check all read it from here. Methods take int or array ``e``.
    """
    length: int
    steps: int

    @property
    def busy_clocks(self):
        """Enabled clocks after the ``start`` clock until ``busy`` falls (``done`` rises)."""
        return self.length * self.steps + UPDATE_DELAY

    @property
    def clocks_per_run(self):
        """Clocks from the ``start`` clock to the ``done`` clock, both included, without stalls."""
        return self.busy_clocks + 1

    def summed(self, e):
        """SC cycles whose current is in the scores (0..length)."""
        return np.clip((e - UPDATE_DELAY) // self.steps, 0, self.length)

    def shown(self, e):
        """SC cycle whose spikes ``spike`` shows (0..length-1)."""
        return np.clip((e - UPDATE_DELAY) // self.steps, 0, self.length - 1)

    def counted(self, e):
        """Index of the last SC cycle whose spikes are in the counts (cycle 0 never counts)."""
        return np.clip((e - UPDATE_DELAY - 1) // self.steps, 0, self.length - 1)

    def spike_valid(self, e):
        """``spike_valid``: ``spike`` shows a newly updated cycle (1..length-1)."""
        d, steps = UPDATE_DELAY, self.steps
        return (e >= steps + d) & ((e - d) % steps == 0) & (e - d <= (self.length - 1) * steps)


def run_schedule(params, lanes=1):
    """The :class:`RunSchedule` of ``Dense(params, lanes)`` (validates both)."""
    steps = sweep_steps(params, lanes)
    return RunSchedule(params.length, steps)


class IFNeuron(wiring.Component):
    """The LIF neuron where :func:`~scfpga.model.dense.integrate_fire_exact` holds: no leak,
    no refractory period, reset by subtraction, and a membrane that provably never saturates,
    so the clamp of :class:`~scfpga.hdl.lif.LIFCore` is dropped (same ports and timing)."""

    def __init__(self, lif, current_bits):
        self.lif = lif
        super().__init__({"en": In(1), "current": In(signed(current_bits)),
                          "spike": Out(1), "v": Out(signed(lif.width))})

    def elaborate(self, platform):
        m = Module()
        thr = self.lif.threshold
        u = Signal(signed(self.lif.width))
        fire = Signal()
        m.d.comb += [u.eq(self.v + self.current), fire.eq(u >= thr)]
        with m.If(self.en):
            m.d.sync += [self.spike.eq(fire), self.v.eq(Mux(fire, u - thr, u))]
        return m


class Dense(wiring.Component):
    """A dense SC layer; see the module docstring for the architecture and the run interface.

    Parameters
    ----------
    params : DenseParams
    lanes : int
        Synapse columns processed per clock, a power of two 1..64: ``lanes`` times the
        throughput for ``lanes`` times the weight-ROM width and comparators.

    Attributes
    ----------
    load, addr, data : Signal, in
        Threshold write port (``addr`` in ``0..n_inputs-1``, ``data`` in ``0..2**width``).
    start, en : Signal, in
        Start a run (while idle); advance the run.
    busy, done : Signal, out
        Run in progress; one-clock pulse at its end.
    sel : Signal, in
        Neuron shown on ``count`` and ``score``.
    count : Signal, out
        Spikes of neuron ``sel`` so far in the run.
    score : Signal(signed), out
        Sum of neuron ``sel``'s currents so far (the class score after ``done``).
    spike : Signal(n_neurons), out
        Spike bit of every neuron in the current cycle.
    spike_valid : Signal, out
        ``spike`` shows a cycle for the first time (held during a stall).
    """

    def __init__(self, params: DenseParams, lanes: int = 1):
        try:
            self.steps = sweep_steps(params, lanes)
        except ParameterError:
            self._MustUse__silence = True      # no "created but never used" warning as well
            raise
        self.params, self.lanes = params, lanes
        self.schedule = RunSchedule(params.length, self.steps)
        p = params
        self.current_bits = p.n_terms.bit_length() + 1
        self.score_bits = p.score_range.bit_length() + 1
        self.count_bits = max(1, (p.length - 1).bit_length())
        self.simple_neurons = integrate_fire_exact(p, p.length)
        super().__init__({
            "load": In(1), "addr": In(range(max(2, p.n_inputs))), "data": In(p.width + 1),
            "start": In(1), "en": In(1), "busy": Out(1), "done": Out(1),
            "sel": In(range(max(2, p.n_neurons))),
            "count": Out(self.count_bits), "score": Out(signed(self.score_bits)),
            "spike": Out(p.n_neurons), "spike_valid": Out(1),
        })

    @property
    def clocks_per_run(self):
        """Clocks from the ``start`` clock to the ``done`` clock, both included, without stalls."""
        return self.schedule.clocks_per_run

    def describe(self):
        p, lanes, steps = self.params, self.lanes, self.steps
        state = p.width if p.source == "sobol" else p.lfsr_width
        acc = "up/down accumulator" if p.accumulation == "counter" else "MUX term latch"
        return (
            f"{p.describe()}\n"
            f"architecture: input-serial, neuron-parallel; {lanes} lane(s), {steps} clocks per "
            f"SC cycle, {self.clocks_per_run} clocks per run\n"
            f"shared: one {p.source} weight source (model S), one SNG comparator per lane "
            f"(time-multiplexed over {p.n_inputs} inputs, thresholds and {state}-bit source "
            f"states in RAM{', direction ROM' if p.source == 'sobol' else ', seed ROM'})\n"
            f"weights: constant sign-magnitude ROM, {lanes} x {steps} rows of "
            f"{p.n_neurons} x {p.width + 2} bits; per neuron and lane one "
            f"{p.width + 1}-bit comparator\n"
            f"per neuron: {acc}, "
            f"{self.current_bits}-bit current, {p.lif.width}-bit "
            f"{'integrate-and-fire (no clamp needed)' if self.simple_neurons else 'LIF'}, "
            f"{self.score_bits}-bit score, {self.count_bits}-bit spike count")

    def _rom_rows(self):
        """Per lane: weight-ROM words, source seeds / Sobol direction tables (init contents)."""
        p, plan, lanes = self.params, self.params.plan, self.lanes
        q = p.signed_terms
        wrom = [[sign_magnitude_word([q[j, t] if t < p.n_terms else 0 for j in range(p.n_neurons)],
                                     p.width)
                 for t in range(lane, self.steps * lanes, lanes)] for lane in range(lanes)]
        init = [input_source_table(plan, p.n_inputs, self.steps, lanes, lane)
                for lane in range(lanes)]
        return wrom, init, direction_bits(plan)

    def elaborate(self, platform):
        m = Module()
        p, plan, lanes, steps = self.params, self.params.plan, self.lanes, self.steps
        w, n_neur, length = p.width, p.n_neurons, p.length
        sobol = p.source == "sobol"
        state_w = w if sobol else p.lfsr_width
        lane_bits = (lanes - 1).bit_length()

        # ---- control: stage A counters and the B/C/D pipeline flags
        clear = Signal()
        a_valid, step, k = Signal(), Signal(range(steps)), Signal(range(length))
        b_valid, b_row, b_first, b_last, b_final = (Signal(), Signal(range(steps)), Signal(),
                                                    Signal(), Signal())
        c_go, c_final, d_go = Signal(), Signal(), Signal()
        m.d.comb += clear.eq(self.start & ~self.busy)
        m.d.sync += self.done.eq(0)
        with m.If(clear):
            m.d.sync += [self.busy.eq(1), a_valid.eq(1), step.eq(0), k.eq(0),
                         b_valid.eq(0), c_go.eq(0), d_go.eq(0)]
        with m.Elif(self.en):
            with m.If(a_valid):
                with m.If(step == steps - 1):
                    m.d.sync += step.eq(0)
                    with m.If(k == length - 1):
                        m.d.sync += a_valid.eq(0)
                    with m.Else():
                        m.d.sync += k.eq(k + 1)
                with m.Else():
                    m.d.sync += step.eq(step + 1)
            m.d.sync += [b_valid.eq(a_valid), b_row.eq(step), b_first.eq(k == 0),
                         b_last.eq(step == steps - 1), b_final.eq(k == length - 1),
                         c_go.eq(b_valid & b_last), c_final.eq(b_final),
                         d_go.eq(c_go & ~c_final)]
            with m.If(c_go & c_final):
                m.d.sync += [self.busy.eq(0), self.done.eq(1)]
        advance = Signal()               # the edge that ends a cycle's sweep in stage B
        m.d.comb += advance.eq(self.en & b_valid & b_last)

        # ---- shared weight and select sources (reset to element 0 by start)
        m.submodules.weight_src = wsrc = ResetInserter(clear)(StreamSource(plan, plan.weight))
        m.d.comb += wsrc.en.eq(advance)
        sel_term = None
        if p.accumulation == "mux":
            m.submodules.select_src = ssrc = ResetInserter(clear)(StreamSource(plan, plan.select))
            m.d.comb += ssrc.en.eq(advance)
            sel_term = Signal(range(p.n_terms))
            m.d.comb += sel_term.eq(uniform_select(ssrc.value, p.n_terms, w))

        # ---- stage A/B per lane: SNG over the time-multiplexed inputs, weight comparators
        wrom_init, src_init, cb = self._rom_rows()
        dir_c = Signal(max(1, cb))
        if sobol:                        # lowest zero bit of the cycle index selects V
            m.d.comb += dir_c.eq(direction_index(k, plan.inputs[0].index_width, len(dir_c)))
        contrib = [[] for _ in range(n_neur)]
        fw = weight_field_bits(w)
        for lane in range(lanes):
            # Block RAM, not logic: Yosys would build shallow ROMs from LUTs otherwise.
            bram = {"ram_style": "block"}
            pmem = Memory(shape=w + 1, depth=steps, init=[], attrs=bram)
            smem = Memory(shape=state_w, depth=steps, init=[], attrs=bram)
            wrom = Memory(shape=n_neur * fw, depth=steps, init=wrom_init[lane], attrs=bram)
            imem = Memory(shape=state_w, depth=len(src_init[lane]), init=src_init[lane],
                          attrs=bram)
            for name, mem in (("p", pmem), ("state", smem), ("w", wrom), ("init", imem)):
                m.submodules[f"{name}_mem{lane}"] = mem
            p_wr, s_wr = pmem.write_port(), smem.write_port()
            p_rd, w_rd, i_rd = pmem.read_port(), wrom.read_port(), imem.read_port()
            s_rd = smem.read_port(transparent_for=(s_wr,) if steps == 1 else ())
            m.d.comb += [
                p_wr.addr.eq(self.addr[lane_bits:]), p_wr.data.eq(self.data),
                p_wr.en.eq(self.load & ~self.busy & (self.addr[:lane_bits] == lane
                                                     if lane_bits else 1)),
                p_rd.addr.eq(step), s_rd.addr.eq(step), w_rd.addr.eq(step),
                i_rd.addr.eq(Cat(dir_c[:cb], step) if sobol else step),
            ]
            for port in (p_rd, s_rd, w_rd, i_rd):
                m.d.comb += port.en.eq(self.en)
            value = Signal(state_w)
            m.d.comb += value.eq(Mux(b_first, 0 if sobol else i_rd.data, s_rd.data))
            nxt = value ^ i_rd.data if sobol else leap(value, lfsr_leap_columns(
                plan.inputs[0], plan.leap))
            m.d.comb += [s_wr.addr.eq(b_row), s_wr.data.eq(nxt), s_wr.en.eq(self.en & b_valid)]
            term = Cat(C(lane, lane_bits), b_row) if lane_bits else b_row
            a_bit = value[plan.shift:] < p_rd.data
            if p.bias is not None and p.n_inputs % lanes == lane:
                a_bit = a_bit | (b_row == p.n_inputs // lanes)
            if sel_term is not None:
                a_bit = a_bit & (term == sel_term)
            for j in range(n_neur):
                mag = w_rd.data[j * fw: j * fw + w + 1]
                neg = w_rd.data[j * fw + w + 1]
                bit = a_bit & (wsrc.value < mag)
                contrib[j].append(Mux(bit, Mux(neg, C(-1, signed(2)), C(1, signed(2))),
                                      C(0, signed(2))))

        # ---- neurons: accumulate (B), score and LIF (C), spike counts (D)
        scores, counts, spikes = [], [], []
        for j in range(n_neur):
            acc = Signal(signed(self.current_bits), name=f"acc{j}")
            cur = Signal(signed(self.current_bits), name=f"cur{j}")
            score = Signal(signed(self.score_bits), name=f"score{j}")
            count = Signal(self.count_bits, name=f"count{j}")
            total = acc + sum(contrib[j])
            neuron = IFNeuron if self.simple_neurons else LIFCore
            core = ResetInserter(clear)(neuron(p.lif, self.current_bits))
            m.submodules[f"lif{j}"] = core
            m.d.comb += [core.en.eq(self.en & c_go & ~c_final), core.current.eq(cur)]
            with m.If(clear):
                m.d.sync += [acc.eq(0), cur.eq(0), score.eq(0), count.eq(0)]
            with m.Elif(self.en):
                with m.If(b_valid):
                    m.d.sync += acc.eq(Mux(b_last, 0, total))
                    with m.If(b_last):
                        m.d.sync += cur.eq(total)
                with m.If(c_go):
                    m.d.sync += score.eq(score + cur)
                with m.If(d_go):
                    m.d.sync += count.eq(count + core.spike)
            scores.append(score)
            counts.append(count)
            spikes.append(core.spike)
        # Read port as a shift (an `assign`), padded so that every sel value is in range.
        pad = (1 << len(self.sel)) - n_neur
        m.d.comb += [
            self.spike.eq(Cat(*spikes)), self.spike_valid.eq(d_go),
            self.score.eq(Cat(*scores, C(0, pad * self.score_bits)).word_select(
                self.sel, self.score_bits)),
            self.count.eq(Cat(*counts, C(0, pad * self.count_bits)).word_select(
                self.sel, self.count_bits)),
        ]
        return m

