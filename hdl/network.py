"""A whole spiking network as one design (semantics: :mod:`scfpga.model.network`).

Every layer runs in lockstep, one SC cycle at a time. During SC cycle k each layer sweeps its
synapse columns (``lanes`` per clock) once per *pass*; a pass serves ``parallel`` neurons, each
with its own accumulator and weight comparator (``fold`` = neurons per accumulator, so a layer
of N neurons takes ``passes = ceil(N / parallel)`` passes). After a pass the ``parallel``
currents go to a shift register that feeds one neuron update core (:mod:`.neuron`), one neuron
per clock, while the next pass accumulates. Neuron state, score and spike count of every neuron
live in one block-RAM word per neuron, so a layer's neuron count is bounded by memory, not logic.
When every layer is done, the cycle *commits*: each layer's new spike vector becomes visible
(the model's ``spike`` of cycle k + 1) and the weight sources advance.

Inputs: layer 1 reads the encoder, an SNG per input time-multiplexed per lane (thresholds and
source states in block RAM, as in :class:`~scfpga.hdl.dense.Dense`); layer l + 1 reads the
committed spike vector of layer l, which holds still for the whole cycle. That is the model's
one-cycle latency per layer.

Schedule (:class:`Schedule`, the one statement of the timing; the bench and the board design
use it): within a cycle of ``cycle_clocks`` clocks, clock ``c``, a layer's step ``t`` of pass
``g`` addresses its RAMs at ``c = g * pass_clocks + t`` (A) and accumulates at ``c + 1`` (B); the
last step's B clock latches the currents; update ``p`` of the pass addresses the state word
``p + 1`` clocks later (U0), registers it and the current (U1), steps the neuron into a register
(U2) and writes the word back and shifts the spike in (U3): one neuron per clock, with only the
update core between registers. The commit is clock
``cycle_clocks - 1``; no commit after the run's last cycle (its spikes are not part of the run).

Run interface (``sync`` domain):

* ``load``/``addr``/``data``: while idle, an edge with ``load = 1`` writes threshold ``data``
  (``0..2**width``) of input ``addr``.
* ``start``: while idle, starts a run; ``busy`` is 1 for ``length * cycle_clocks`` clocks from
  the next one; ``done`` pulses for one clock when it falls.
* ``spikes<l>`` (l = 0 ..): layer l's spike vector of the SC cycle ``k`` shown on ``k``;
  ``cycle_start`` is 1 on each cycle's first clock.
* ``sel``: while idle, the output-layer neuron whose ``count`` and ``score`` appear one clock later.
"""
from dataclasses import dataclass

from amaranth.hdl import C, Cat, Const, Module, Mux, ResetInserter, Signal, signed, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ..model.lfsr import lfsr_leap_columns
from ..model.network import NetworkParams
from ..model.params import ParameterError
from . import neuron_types  # noqa: F401  (registers the update core of every neuron type)
from .dense import _leap, _Source
from .neuron import state_layout, step_core

BRAM = {"ram_style": "block"}      # Yosys would build shallow tables from logic otherwise


@dataclass(frozen=True)
class LayerSchedule:
    """Clocks of one layer inside an SC cycle (module docstring)."""
    steps: int            # clocks of one sweep: ceil(n_terms / lanes)
    parallel: int         # neurons per pass (accumulators)
    passes: int           # ceil(n_neurons / parallel)
    pass_clocks: int      # max(steps, parallel + 1): the update of a pass overlaps the next
    last_update: int      # clock of the layer's last state write-back
    last_count: int       # neurons in the last pass


@dataclass(frozen=True)
class Schedule:
    layers: tuple
    cycle_clocks: int
    length: int

    @property
    def run_clocks(self):
        """Clocks ``busy`` stays high after the ``start`` clock."""
        return self.length * self.cycle_clocks


def schedule(params: NetworkParams):
    """The :class:`Schedule` of a network (validates ``params``)."""
    if not isinstance(params, NetworkParams):
        raise ParameterError("params must be a NetworkParams")
    layers = []
    for layer in params.layers:
        steps = -(-layer.n_terms // layer.lanes)
        parallel = -(-layer.n_neurons // layer.fold)
        passes = -(-layer.n_neurons // parallel)
        pass_clocks = max(steps, parallel + 1)
        last_count = layer.n_neurons - (passes - 1) * parallel
        last = (passes - 1) * pass_clocks + steps + 3 + last_count
        layers.append(LayerSchedule(steps, parallel, passes, pass_clocks, last, last_count))
    return Schedule(tuple(layers), max(s.last_update for s in layers) + 2, params.length)


def _state_word(layer, length):
    """Layout of a neuron's RAM word: neuron state, score (sum of currents), spike count."""
    score_bits = (layer.n_terms * length).bit_length() + 1
    return data.StructLayout({"neuron": state_layout(layer.neuron),
                              "score": signed(score_bits),
                              "count": unsigned(max(1, (length - 1).bit_length()))})


class Network(wiring.Component):
    """A :class:`~scfpga.model.network.NetworkParams` network; see the module docstring."""

    def __init__(self, params: NetworkParams):
        self.schedule = schedule(params)
        self.params = params
        p = params
        out = p.layers[-1]
        self.out_word = _state_word(out, p.length)
        ports = {
            "load": In(1), "addr": In(range(max(2, p.n_inputs))), "data": In(p.width + 1),
            "start": In(1), "busy": Out(1), "done": Out(1),
            "k": Out(range(max(2, p.length))), "cycle_start": Out(1),
            "sel": In(range(max(2, out.n_neurons))),
            "count": Out(self.out_word["count"].shape), "score": Out(self.out_word["score"].shape),
        }
        for l, layer in enumerate(p.layers):
            ports[f"spikes{l}"] = Out(layer.n_neurons)
        super().__init__(ports)

    def describe(self):
        s, p = self.schedule, self.params
        lines = [f"{p.describe()}: {s.cycle_clocks} clocks per SC cycle, "
                 f"{s.run_clocks} per run"]
        for l, (layer, ls) in enumerate(zip(p.layers, s.layers)):
            lines.append(f"layer {l + 1}: {layer.n_inputs} -> {layer.n_neurons}, "
                         f"{layer.lanes} lane(s), {ls.parallel} accumulators x {ls.passes} "
                         f"pass(es), {ls.steps} clocks per sweep, {type(layer.neuron).__name__}")
        return "\n".join(lines)

    def elaborate(self, platform):
        m = Module()
        p, sch = self.params, self.schedule
        C_ = sch.cycle_clocks
        clear = Signal()
        c = Signal(range(C_))
        last_cycle, commit = Signal(), Signal()
        m.d.comb += [clear.eq(self.start & ~self.busy), last_cycle.eq(self.k == p.length - 1),
                     commit.eq(self.busy & (c == C_ - 1) & ~last_cycle)]
        # A register, not busy & (c == 0): benches trigger on its edges, and a gate-level
        # netlist's combinational outputs may glitch at the clock edge.
        m.d.sync += self.cycle_start.eq(clear | commit)
        m.d.sync += self.done.eq(0)
        with m.If(clear):
            m.d.sync += [self.busy.eq(1), c.eq(0), self.k.eq(0)]
        with m.Elif(self.busy):
            m.d.sync += c.eq(c + 1)
            with m.If(c == C_ - 1):
                m.d.sync += c.eq(0)
                with m.If(last_cycle):
                    m.d.sync += [self.busy.eq(0), self.done.eq(1)]
                with m.Else():
                    m.d.sync += self.k.eq(self.k + 1)

        prev = None
        for l, layer in enumerate(p.layers):
            spikes = self._layer(m, l, layer, sch.layers[l], c, clear, commit, prev)
            m.d.comb += getattr(self, f"spikes{l}").eq(spikes)
            prev = spikes
        return m

    # ------------------------------------------------------------------ one layer
    def _encoder_bits(self, m, ls, layer, lane, a_step, b_step, b_valid, b_write, lanes):
        """Layer 1's input bit of ``lane`` in stage B: the SNG of input ``b_step*lanes+lane``."""
        p, plan = self.params, self.params.plan
        sobol = p.source == "sobol"
        w, state_w = p.width, (p.width if sobol else p.lfsr_width)
        lane_bits = (lanes - 1).bit_length()
        steps = ls.steps
        cb = max(1, (plan.inputs[0].index_width - 1).bit_length()) if sobol else 0
        table = [0] * (steps << cb) if sobol else []
        for row in range(steps):
            i = row * lanes + lane
            src = plan.inputs[i] if i < p.n_inputs else None
            if sobol and src:
                for d, v in enumerate(src.directions):
                    table[(row << cb) | d] = v
            elif not sobol:
                table.append(src.seed if src else 0)
        pmem = Memory(shape=w + 1, depth=steps, init=[], attrs=BRAM)
        smem = Memory(shape=state_w, depth=steps, init=[], attrs=BRAM)
        imem = Memory(shape=state_w, depth=len(table), init=table, attrs=BRAM)
        for name, mem in (("thr", pmem), ("state", smem), ("init", imem)):
            m.submodules[f"enc_{name}{lane}"] = mem
        p_wr, s_wr = pmem.write_port(), smem.write_port()
        p_rd, i_rd = pmem.read_port(), imem.read_port()
        s_rd = smem.read_port(transparent_for=(s_wr,) if steps == 1 else ())
        m.d.comb += [
            p_wr.addr.eq(self.addr[lane_bits:]), p_wr.data.eq(self.data),
            p_wr.en.eq(self.load & ~self.busy & ((self.addr[:lane_bits] == lane)
                                                 if lane_bits else 1)),
            p_rd.addr.eq(a_step), s_rd.addr.eq(a_step),
        ]
        if sobol:
            # Lowest zero bit of k picks the direction number; a Mux chain, not m.If (Icarus
            # never evaluates an `always @*` whose inputs stay constant from time 0).
            iw = plan.inputs[0].index_width
            top = min(len(self.k), iw)
            dir_c = C(top if top < iw else 0, cb)
            for j in reversed(range(top)):
                dir_c = Mux(~self.k[j], j, dir_c)
            m.d.comb += i_rd.addr.eq(Cat(dir_c, a_step))
        else:
            m.d.comb += i_rd.addr.eq(a_step)
        first = self.k == 0
        value = Signal(state_w, name=f"enc_value{lane}")
        m.d.comb += value.eq(Mux(first, 0 if sobol else i_rd.data, s_rd.data))
        nxt = value ^ i_rd.data if sobol else _leap(value, lfsr_leap_columns(plan.inputs[0],
                                                                            plan.leap))
        m.d.comb += [s_wr.addr.eq(b_step), s_wr.data.eq(nxt), s_wr.en.eq(b_valid & b_write)]
        return value[plan.shift:] < p_rd.data

    def _layer(self, m, l, layer, ls, c, clear, commit, prev):
        p = self.params
        plan = p.plan
        w, lanes, P = p.width, layer.lanes, ls.parallel
        lane_bits = (lanes - 1).bit_length()
        pre = f"l{l}_"

        # ---- sweep counters (stage A) and their stage-B copies
        a_valid, g, t, row = (Signal(name=pre + "a_valid"), Signal(range(ls.passes), name=pre + "g"),
                              Signal(range(ls.pass_clocks), name=pre + "t"),
                              Signal(range(ls.passes * ls.steps), name=pre + "row"))
        a_active = Signal(name=pre + "a_active")
        m.d.comb += a_active.eq(a_valid & (t < ls.steps))
        with m.If(clear | commit):
            m.d.sync += [a_valid.eq(1), g.eq(0), t.eq(0), row.eq(0)]
        with m.Elif(self.busy & a_valid):
            with m.If(a_active):
                m.d.sync += row.eq(row + 1)
            with m.If(t == ls.pass_clocks - 1):
                m.d.sync += t.eq(0)
                with m.If(g == ls.passes - 1):
                    m.d.sync += a_valid.eq(0)
                with m.Else():
                    m.d.sync += g.eq(g + 1)
            with m.Else():
                m.d.sync += t.eq(t + 1)
        b_valid, b_t, b_g, b_last = (Signal(name=pre + "b_valid"),
                                     Signal(range(max(2, ls.steps)), name=pre + "b_t"),
                                     Signal(range(ls.passes), name=pre + "b_g"),
                                     Signal(name=pre + "b_last"))
        m.d.sync += [b_valid.eq(self.busy & a_active & ~clear), b_t.eq(t), b_g.eq(g),
                     b_last.eq(t == ls.steps - 1)]

        # ---- weight source of the layer: stable for the cycle, advanced at the commit
        wsrc = ResetInserter(clear)(_Source(plan, plan.weights[l]))
        m.submodules[pre + "weight_src"] = wsrc
        m.d.comb += wsrc.en.eq(commit)

        # ---- per lane: the input bit and the weight-ROM word, product bits per accumulator
        q = layer.signed_terms
        fw = w + 2
        contrib = [[] for _ in range(P)]
        for lane in range(lanes):
            words = []
            for gi in range(ls.passes):
                for step in range(ls.steps):
                    term, word = step * lanes + lane, 0
                    for slot in range(P):
                        j = gi * P + slot
                        v = int(q[j, term]) if (j < layer.n_neurons and term < layer.n_terms) else 0
                        word |= (abs(v) | ((v < 0) << (w + 1))) << (slot * fw)
                    words.append(word)
            wrom = Memory(shape=P * fw, depth=len(words), init=words, attrs=BRAM)
            m.submodules[f"{pre}wrom{lane}"] = wrom
            w_rd = wrom.read_port()
            m.d.comb += w_rd.addr.eq(row)
            if l == 0:
                bit = self._encoder_bits(m, ls, layer, lane, t, b_t, b_valid,
                                         b_g == ls.passes - 1, lanes)
            else:
                index = Signal(range(ls.steps * lanes + 1), name=f"{pre}index{lane}")
                m.d.comb += index.eq(b_t * lanes + lane if lanes > 1 else b_t)
                bit = Mux(index < layer.n_inputs, prev.bit_select(index, 1), 0)
            if layer.bias is not None and layer.n_inputs % lanes == lane:
                bit = bit | (b_t == layer.n_inputs // lanes)
            a_bit = Signal(name=f"{pre}bit{lane}")
            m.d.comb += a_bit.eq(bit)
            for slot in range(P):
                mag = w_rd.data[slot * fw: slot * fw + w + 1]
                neg = w_rd.data[slot * fw + w + 1]
                on = a_bit & (wsrc.value < mag)
                contrib[slot].append(Mux(on, Mux(neg, C(-1, signed(2)), C(1, signed(2))),
                                         C(0, signed(2))))

        # ---- accumulators (B), current shift register, one update core
        cur_bits = layer.n_terms.bit_length() + 1
        cur_sr = [Signal(signed(cur_bits), name=f"{pre}cur{s}") for s in range(P)]
        u_left = Signal(range(P + 1), name=pre + "u_left")
        u_n = Signal(range(layer.n_neurons + 1), name=pre + "u_n")
        u1_valid, u1_n = Signal(name=pre + "u1_valid"), Signal(range(layer.n_neurons + 1),
                                                                name=pre + "u1_n")
        shift = Signal(name=pre + "shift")
        for slot in range(P):
            acc = Signal(signed(cur_bits), name=f"{pre}acc{slot}")
            total = acc + sum(contrib[slot])
            with m.If(clear):
                m.d.sync += acc.eq(0)
            with m.Elif(b_valid):
                m.d.sync += acc.eq(Mux(b_last, 0, total))
            with m.If(b_valid & b_last):
                m.d.sync += cur_sr[slot].eq(total)
            with m.Elif(shift):
                m.d.sync += cur_sr[slot].eq(cur_sr[slot + 1] if slot + 1 < P else 0)

        word = _state_word(layer, p.length)
        smem = Memory(shape=word, depth=layer.n_neurons, init=[], attrs=BRAM)
        m.submodules[pre + "state"] = smem
        s_rd, s_wr = smem.read_port(), smem.write_port()
        # U0: the pass's neurons one per clock, starting the clock after the latch.
        with m.If(clear | commit):
            m.d.sync += [u_left.eq(0), u1_valid.eq(0)]
        with m.Else():
            with m.If(b_valid & b_last):
                m.d.sync += [u_left.eq(Mux(b_g == ls.passes - 1, ls.last_count, P)),
                             u_n.eq(b_g * P)]
            with m.Elif(u_left != 0):
                m.d.sync += [u_left.eq(u_left - 1), u_n.eq(u_n + 1)]
            m.d.sync += [u1_valid.eq(u_left != 0), u1_n.eq(u_n)]
        if l == len(p.layers) - 1:
            m.d.comb += s_rd.addr.eq(Mux(self.busy, u_n, self.sel))
            m.d.comb += [self.count.eq(s_rd.data.count), self.score.eq(s_rd.data.score)]
        else:
            m.d.comb += s_rd.addr.eq(u_n)
        # U1: the word arrives; register it (zero in cycle 0: the RAM is never cleared) and
        # the neuron's current, so that the update core starts from registers.
        # U2: step the neuron; register the new word and the spike.
        # U3: write the word back and shift the spike in.
        u2_valid, u3_valid = Signal(name=pre + "u2_valid"), Signal(name=pre + "u3_valid")
        u2_n = Signal(range(layer.n_neurons + 1), name=pre + "u2_n")
        u3_n = Signal(range(layer.n_neurons + 1), name=pre + "u3_n")
        old = Signal(word, name=pre + "old")
        cur = Signal(signed(cur_bits), name=pre + "cur")
        new = Signal(word, name=pre + "new")
        fire = Signal(name=pre + "fire")
        m.d.comb += shift.eq(u1_valid)
        m.d.sync += [u2_valid.eq(u1_valid & ~(clear | commit)), u2_n.eq(u1_n),
                     u3_valid.eq(u2_valid & ~(clear | commit)), u3_n.eq(u2_n),
                     old.eq(Mux(self.k == 0, 0, s_rd.data.as_value())), cur.eq(cur_sr[0])]
        m.submodules[pre + "core"] = core = step_core(layer.neuron, cur_bits)
        m.d.comb += [core.state.eq(old.neuron), core.current.eq(cur)]
        m.d.sync += [new.neuron.eq(core.next), new.score.eq(old.score + cur),
                     new.count.eq(old.count + (core.fire & (self.k != p.length - 1))),
                     fire.eq(core.fire)]
        m.d.comb += [s_wr.addr.eq(u3_n), s_wr.data.eq(new), s_wr.en.eq(u3_valid)]
        n = layer.n_neurons
        nxt = Signal(n, name=pre + "next_spikes")
        spikes = Signal(n, name=pre + "spikes")
        with m.If(u3_valid):
            m.d.sync += nxt.eq(Cat(nxt[1:], fire) if n > 1 else fire)
        with m.If(clear):
            m.d.sync += spikes.eq(0)
        with m.Elif(commit):
            m.d.sync += spikes.eq(nxt)
        return spikes
