"""Event-driven synapse engine (semantics, memory image and cycle cost: :mod:`scfpga.model.event`).

Address events (the index of an input that fired) enter a FIFO; an entry with ``aer_end = 1``
closes the time step. The engine pops one entry at a time: for an event it reads the input's
row pointers from the row memory, then walks that row of the synapse memory one synapse per
clock, adding each weight to its output's accumulator. The end-of-step marker copies the
accumulators to the outputs (``out_valid`` for one cycle) and clears them. Only rows of active
inputs are read: a step costs :func:`~scfpga.model.event.event_cycles` clocks.

The FIFO holds ``n_pre + 1`` entries, a whole step in which every input fires plus its marker,
so a producer that starts a step once the previous one is published is never stalled
(``aer_ready`` stays 1) and no event is dropped; a faster producer is held off by ``aer_ready``.

* ``aer_valid``, ``aer_index``, ``aer_end``: an entry, taken on an edge with ``aer_ready = 1``.
* ``out_valid``: the cycle after a step's marker was popped (registered, one cycle).
* ``y<j>`` (signed, ``acc_width``): output ``j``'s sum of the last published step.
* ``step_cycles``: the clocks the engine worked on the last published step (the measured cost).
"""
from amaranth.hdl import Module, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.fifo import SyncFIFOBuffered
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ..model.event import (EVENT_CYCLES, STEP_CYCLES, EventParams, row_words, synapse_words)

# A write in cycle k is at the FIFO's output (r_rdy) in cycle k + 2: SyncFIFOBuffered has a
# storage stage and an output register. The bench's timing model reads this.
FIFO_LATENCY = 2


def fifo_depth(params: EventParams):
    """Entries of the address-event FIFO: every input once plus the end-of-step marker."""
    return params.n_pre + 1


def cycle_bits(params: EventParams):
    """Width of ``step_cycles``: holds the cost of a step in which every input fires."""
    worst = STEP_CYCLES + params.n_pre * EVENT_CYCLES + params.n_synapses
    return max(1, worst.bit_length())


class EventSynapses(wiring.Component):
    """AER FIFO, CSR row and synapse memories and per-output accumulators.

    Parameters
    ----------
    params : EventParams

    Attributes
    ----------
    aer_valid, aer_end : Signal, in
    aer_index : Signal(index_bits), in
    aer_ready : Signal, out
    out_valid : Signal, out
    step_cycles : Signal, out
    y0 .. y{n_post-1} : Signal(signed(acc_width)), out
    """

    def __init__(self, params: EventParams):
        self.params = params
        members = {"aer_valid": In(1), "aer_index": In(params.index_bits), "aer_end": In(1),
                   "aer_ready": Out(1), "out_valid": Out(1),
                   "step_cycles": Out(cycle_bits(params))}
        members.update({f"y{j}": Out(signed(params.acc_width)) for j in range(params.n_post)})
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        p = self.params
        ib, pb, qb = p.index_bits, p.ptr_bits, p.post_bits

        m.submodules.fifo = fifo = SyncFIFOBuffered(width=ib + 1, depth=fifo_depth(p))
        m.d.comb += [fifo.w_data.eq(self.aer_index | (self.aer_end << ib)),
                     fifo.w_en.eq(self.aer_valid), self.aer_ready.eq(fifo.w_rdy)]

        m.submodules.rows = rows = Memory(shape=2 * pb, depth=p.n_pre, init=row_words(p))
        # A layer without synapses still gets a one-word memory (never read).
        m.submodules.syns = syns = Memory(shape=qb + p.weight_width, depth=max(1, p.n_synapses),
                                          init=synapse_words(p) or [0])
        row_rd = rows.read_port()
        syn_rd = syns.read_port()

        acc = [Signal(signed(p.acc_width), name=f"acc{j}") for j in range(p.n_post)]
        ys = [getattr(self, f"y{j}") for j in range(p.n_post)]
        cur = Signal(pb)
        end = Signal(pb)
        count = Signal.like(self.step_cycles)
        start_ptr = row_rd.data[:pb]
        end_ptr = row_rd.data[pb:]
        post = syn_rd.data[:qb]
        weight = syn_rd.data[qb:].as_signed()

        m.d.comb += [row_rd.addr.eq(fifo.r_data[:ib]), syn_rd.addr.eq(cur)]
        m.d.sync += self.out_valid.eq(0)
        with m.FSM() as fsm:
            with m.State("IDLE"):
                with m.If(fifo.r_rdy):
                    with m.If(fifo.r_data[ib]):              # end of step: publish, clear
                        m.d.sync += [self.out_valid.eq(1), self.step_cycles.eq(count + 1),
                                     count.eq(0)]
                        m.d.sync += [y.eq(a) for y, a in zip(ys, acc)]
                        m.d.sync += [a.eq(0) for a in acc]
                    with m.Else():
                        m.d.sync += count.eq(count + 1)
                        m.next = "ROW"
            with m.State("ROW"):
                m.d.sync += [count.eq(count + 1), cur.eq(start_ptr + 1), end.eq(end_ptr)]
                m.d.comb += syn_rd.addr.eq(start_ptr)
                with m.If(start_ptr != end_ptr):
                    m.next = "WALK"
                with m.Else():
                    m.next = "IDLE"
            with m.State("WALK"):
                # The synapse read in the previous cycle is here: add it to its accumulator.
                m.d.sync += [count.eq(count + 1), cur.eq(cur + 1)]
                for j, a in enumerate(acc):
                    with m.If(post == j):
                        m.d.sync += a.eq(a + weight)
                with m.If(cur == end):
                    m.next = "IDLE"
        # An expression, not a statement inside the FSM: Icarus never runs an always block
        # whose inputs (the state) keep their time-0 value, and an engine that only ever sees
        # end-of-step markers stays in IDLE.
        m.d.comb += fifo.r_en.eq(fsm.ongoing("IDLE"))
        return m
