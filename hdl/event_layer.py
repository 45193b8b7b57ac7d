"""An event-driven layer of a network design (semantics: :mod:`scfpga.model.event_layer`).

Per SC cycle, after the cycle's start (a run's ``clear`` or the previous cycle's ``commit``)
the core copies the input spike vector (the previous layer's committed spikes, still for the
whole cycle) into a *pending* register and, one per clock, sends the lowest pending index as an
address event into :class:`~.event.EventSynapses` (its AER FIFO, CSR row and synapse memories
and accumulators), then the end-of-step marker. When the engine publishes the sums (the exact
currents), the neurons step one per clock through the same update pipeline as a dense layer
(U0 address the state word, U1 register it and the current, U2 the neuron core, U3 write back
and shift the spike in), and ``done`` rises; the design commits the SC cycle once every
event layer is done and the fixed-schedule layers' clock count has passed
(:mod:`scfpga.hdl.network`). The clocks of a cycle are :func:`layer_clocks`: a line in the
number of active inputs and their synapses, never the synapse count.

Ports: ``cycle`` (:class:`~.network_layer.CycleSignature`, in), ``inputs`` (the input spike
vector), ``spikes`` (the committed spike vector), ``done``, and the result read port ``sel``
-> ``count``, ``score`` one clock later while idle (as :class:`~.network_layer.DenseLayerCore`).
"""
from amaranth.hdl import C, Cat, Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ..model.event import EVENT_CYCLES, STEP_CYCLES, event_cycles
from .event import FIFO_LATENCY, EventSynapses
from .network_layer import BRAM, CycleSignature, state_word
from .neuron import step_core

# Clocks of a cycle besides the engine's: the load of the pending register (1), the FIFO's
# latency to the first pop, the engine's publish register (1), the n neuron updates and their
# pipeline (U0..U3: 3 more), and ``done`` (1).
OVERHEAD = 1 + FIFO_LATENCY + 1 + 3 + 1


def layer_clocks(layer, spikes):
    """Clocks of an SC cycle whose input spikes are ``(..., n_inputs)`` if this layer is the
    slowest: ``OVERHEAD + event_cycles + neurons`` (the producer sends one event per clock,
    the engine needs at least ``EVENT_CYCLES`` per event, so it never waits for one). The
    cycle takes the largest of these and the schedule's ``cycle_clocks``."""
    return OVERHEAD + event_cycles(layer.synapses, spikes) + layer.n_neurons


def worst_clocks(layer):
    """:func:`layer_clocks` when every input fires."""
    s = layer.synapses
    return OVERHEAD + STEP_CYCLES + s.n_pre * EVENT_CYCLES + s.n_synapses + layer.n_neurons


class EventLayerCore(wiring.Component):
    """One event-driven layer of a network (module docstring).

    Parameters
    ----------
    params : NetworkParams
    index : int
        Which layer (an :class:`~scfpga.model.event_layer.EventLayer`).
    """

    def __init__(self, params, index):
        self.params, self.index = params, index
        self.layer = layer = params.layers[index]
        self.word = state_word(layer, params.length)
        super().__init__({
            "cycle": In(CycleSignature(params.length)),
            "inputs": In(layer.n_inputs), "spikes": Out(layer.n_neurons), "done": Out(1),
            "sel": In(range(max(2, layer.n_neurons))),
            "count": Out(self.word["count"].shape), "score": Out(self.word["score"].shape),
        })

    def elaborate(self, platform):
        m = Module()
        p, layer, cyc = self.params, self.layer, self.cycle
        syn, n, n_in = layer.synapses, layer.n_neurons, layer.n_inputs
        restart = cyc.clear | cyc.commit
        m.submodules.engine = eng = EventSynapses(syn)

        # ---- producer: pending inputs -> address events (lowest index first), then the marker
        load, pending, sent = Signal(), Signal(n_in), Signal(init=1)      # idle: nothing to send
        # The lowest pending index as one expression (an ``assign``: Icarus leaves an always
        # block whose inputs never change after time 0 at X, and pending may stay 0).
        pick = C(0, range(max(2, n_in)))
        for i in reversed(range(n_in)):
            pick = Mux(pending[i], i, pick)
        lowest = Signal(range(max(2, n_in)))
        m.d.comb += lowest.eq(pick)
        m.d.sync += load.eq(restart)
        with m.If(restart):
            m.d.sync += sent.eq(1)                # nothing to send until loaded
        with m.Elif(load):
            m.d.sync += [pending.eq(self.inputs), sent.eq(0)]
        with m.Elif(~sent & cyc.busy & eng.aer_ready):
            m.d.comb += [eng.aer_valid.eq(1), eng.aer_index.eq(lowest),
                         eng.aer_end.eq(pending == 0)]
            with m.If(pending == 0):
                m.d.sync += sent.eq(1)
            with m.Else():
                m.d.sync += pending.eq(pending & ~(C(1, n_in) << lowest)[:n_in])

        # ---- neuron updates after the engine publishes the currents (eng.y<j>)
        cur_bits = layer.sweep_terms.bit_length() + 1
        smem = Memory(shape=self.word, depth=n, init=[], attrs=BRAM)
        m.submodules.state = smem
        s_rd, s_wr = smem.read_port(), smem.write_port()
        u_on, u_n = Signal(), Signal(range(n + 1))
        u1_valid, u2_valid, u3_valid = Signal(), Signal(), Signal()
        u1_n, u2_n, u3_n = Signal(range(n + 1)), Signal(range(n + 1)), Signal(range(n + 1))
        u1_cur = Signal(signed(cur_bits))
        # The current of neuron u_n, as one expression (an ``assign``, not a case block).
        pick_y = getattr(eng, "y0")
        for j in range(1, n):
            pick_y = Mux(u_n == j, getattr(eng, f"y{j}"), pick_y)
        with m.If(restart):
            m.d.sync += [u_on.eq(0), u_n.eq(0), u1_valid.eq(0), self.done.eq(0)]
        with m.Else():
            with m.If(eng.out_valid):
                m.d.sync += [u_on.eq(1), u_n.eq(0)]
            with m.Elif(u_on):
                m.d.sync += u_n.eq(u_n + 1)
                with m.If(u_n == n - 1):
                    m.d.sync += u_on.eq(0)
            m.d.sync += [u1_valid.eq(u_on), u1_n.eq(u_n), u1_cur.eq(pick_y)]
        m.d.comb += [s_rd.addr.eq(Mux(cyc.busy, u_n, self.sel)),
                     self.count.eq(s_rd.data.count), self.score.eq(s_rd.data.score)]
        old, new = Signal(self.word), Signal(self.word)
        cur, fire = Signal(signed(cur_bits)), Signal()
        m.d.sync += [u2_valid.eq(u1_valid & ~restart), u2_n.eq(u1_n),
                     u3_valid.eq(u2_valid & ~restart), u3_n.eq(u2_n),
                     old.eq(Mux(cyc.k == 0, 0, s_rd.data.as_value())), cur.eq(u1_cur)]
        m.submodules.core = core = step_core(layer.neuron, cur_bits)
        m.d.comb += [core.state.eq(old.neuron), core.current.eq(cur)]
        m.d.sync += [new.neuron.eq(core.next), new.score.eq(old.score + cur),
                     new.count.eq(old.count + (core.fire & (cyc.k != p.length - 1))),
                     fire.eq(core.fire)]
        m.d.comb += [s_wr.addr.eq(u3_n), s_wr.data.eq(new), s_wr.en.eq(u3_valid)]
        nxt = Signal(n)
        with m.If(u3_valid):
            m.d.sync += nxt.eq(Cat(nxt[1:], fire) if n > 1 else fire)
            with m.If((u3_n == n - 1) & ~restart):
                m.d.sync += self.done.eq(1)
        with m.If(cyc.clear):
            m.d.sync += self.spikes.eq(0)
        with m.Elif(cyc.commit):
            m.d.sync += self.spikes.eq(nxt)
        return m



def resources(layer, word_bits):
    """``(memories, lc)`` of an event layer for :func:`scfpga.hdl.network_fit.estimate`:
    memories as ``(width, depth)`` (CSR rows, synapses, AER FIFO, neuron state words of
    ``word_bits``) and an estimate of its logic cells, not fitted to builds: an adder and a
    register per accumulator bit, the output mux, the priority encoder, the update core."""
    s = layer.synapses
    mems = [(2 * s.ptr_bits, s.n_pre), (s.post_bits + s.weight_width, max(1, s.n_synapses)),
            (s.index_bits + 1, s.n_pre + 1), (word_bits, layer.n_neurons)]
    cur_bits = layer.sweep_terms.bit_length() + 1
    lc = 260 + 2 * layer.n_neurons * s.acc_width + 2 * s.n_pre + layer.n_neurons * cur_bits / 2
    return mems, lc


__all__ = ["EventLayerCore", "layer_clocks", "worst_clocks", "resources", "OVERHEAD"]
