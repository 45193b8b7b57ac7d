"""Recurrent SC layer generator (semantics and feedback timing: :mod:`scfpga.model.recurrent`).

Datapath per cycle: the data source ``R_a`` and the weight source ``R_w``; one comparator per
input (its captured threshold) and per fed-back state (the count shifted up by
``state_shift``) against ``R_a``; one comparator per distinct weight magnitude against ``R_w``
(constants, shared between terms); per neuron the popcount of its positive AND terms minus that
of its negative ones into a signed accumulator. On the run's last edge each neuron's
``clip(acc, 0, L)`` enters the front of the state delay line (``feedback_delay`` banks); the
state streams read its last bank, so the feedback timing is the parameter's, nothing else.

Run interface: :mod:`.run_control` (``start`` captures the ``x<i>`` thresholds ``0..2**width``).
``acc<j>``: the accumulators so far in the run, held after it; ``s<j>``: the newest state
(zero after reset).
"""
from amaranth.hdl import Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import Out

from ..model.recurrent import RecurrentParams
from .run_control import run_control, run_members, run_sources
from .wta import popcount


class Recurrent(wiring.Component):
    """A reservoir step per run: SC products of inputs and fed-back states with fixed weights.

    Attributes
    ----------
    start, en : Signal, in
    x<i> : Signal(width + 1), in
        Input thresholds, captured at ``start``.
    busy, done : Signal, out
    acc<j> : Signal(signed(acc_width)), out
    s<j> : Signal(state_width), out
        State counts ``0..L`` after the latest run.
    """

    def __init__(self, params: RecurrentParams):
        self.params = p = params
        members = run_members([f"x{i}" for i in range(p.n_inputs)], p.width)
        members.update({f"acc{j}": Out(signed(p.acc_width)) for j in range(p.n_neurons)})
        members.update({f"s{j}": Out(p.state_width) for j in range(p.n_neurons)})
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        p = self.params
        restart, step, last = run_control(m, self.start, self.en, self.busy, self.done, p.length)
        r_a, r_w = run_sources(m, ("src_a", "src_w"), p.sources, restart, step)

        # the state delay line: bank 0 newest (the s<j> ports), the last bank fed back
        banks = [[getattr(self, f"s{j}") for j in range(p.n_neurons)]]
        banks += [[Signal(p.state_width, name=f"h{b}_{j}") for j in range(p.n_neurons)]
                  for b in range(1, p.feedback_delay)]
        data = []
        for i in range(p.n_inputs):
            reg = Signal(p.width + 1, name=f"t_x{i}")
            with m.If(restart):
                m.d.sync += reg.eq(getattr(self, f"x{i}"))
            data.append(r_a < reg)
        data += [r_a < (s << p.state_shift) for s in banks[-1]]

        weight_bit = {}                          # one comparator per distinct magnitude
        for mag in sorted({abs(w) for row in p.terms.tolist() for w in row} - {0}):
            bit = Signal(name=f"wb{mag}")
            m.d.comb += bit.eq(r_w < mag)
            weight_bit[mag] = bit

        for j, row in enumerate(p.terms.tolist()):
            acc = getattr(self, f"acc{j}")
            pos = [data[t] & weight_bit[w] for t, w in enumerate(row) if w > 0]
            neg = [data[t] & weight_bit[-w] for t, w in enumerate(row) if w < 0]
            inc = Signal(signed(max(len(pos), len(neg), 1).bit_length() + 1), name=f"inc{j}")
            m.d.comb += inc.eq(popcount(pos) - popcount(neg))
            total = Signal(signed(p.acc_width + 1), name=f"total{j}")
            m.d.comb += total.eq(acc + inc)
            with m.If(restart):
                m.d.sync += acc.eq(0)
            with m.Elif(step):
                m.d.sync += acc.eq(total)
            with m.If(last):
                m.d.sync += banks[0][j].eq(Mux(total < 0, 0, Mux(total > p.length, p.length,
                                                                  total)))
                m.d.sync += [banks[b][j].eq(banks[b - 1][j]) for b in range(1, p.feedback_delay)]
        return m
