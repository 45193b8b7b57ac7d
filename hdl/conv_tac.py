"""The conv engine in TAC mode (semantics: :mod:`scfpga.model.conv_tac`).

The engine aggregates K SC cycles of a conv layer's input map into integer words in block RAM
and sweeps the kernel once per chunk over those words, with exact accumulation (integer weight
times word), emitting one current per output neuron per chunk:

* **aggregation** (every SC cycle): the map's source writes each input's bit of the cycle once
  (``we``/``waddr``/``wbit``, any order, at most one per clock); the engine reads the input's
  word and writes back ``a - (a >> s) + (bit << F)`` (``0 + (bit << F)`` in a chunk's first
  cycle) one clock later. ``step`` ends an SC cycle; every K-th step ends a chunk.
* **one pass over the kernel per chunk**: at a chunk's end the bank of words flips (the next
  chunk aggregates into the other bank) and the sweep starts, as the network's conv layer sweeps
  a cycle (:mod:`.network_layer`: the window origin from :func:`~.network_layer.window_origin`,
  the taps from :func:`~.network_layer.window_tap`, the kernel in a ROM shared by every
  position, ``out_channels / fold`` accumulators). Each tap adds ``q * a`` (a (W+1) x word-bits
  multiplier per accumulator) and the bias row ``q_b * a_1``. A pass's currents leave one per
  clock (``cur_valid``, neuron ``cur_n`` in HWC order, ``cur``) while the next pass
  accumulates. The sweep takes :meth:`TACConvEngine.sweep_clocks`; it must end before the next
  chunk does (``busy``).

So the kernel is swept ``T / K`` times per run instead of T, for a map of ``word_bits``-bit words
and wider products. The neuron update (the layer's, once per chunk) is the network's update core
fed with these currents: :class:`TACLayerCore`, a :class:`~scfpga.model.conv_tac.TACConvLayer`
of a network design (:mod:`.network`), is the engine plus the network's neuron updates
(:func:`~.network_layer.neuron_updates`) run at the chunk rate.
"""
from amaranth.hdl import Cat, Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ..model.conv import ConvLayer
from ..model.conv_tac import TACParams
from ..model.params import ParameterError
from .network_layer import (BRAM, CycleSignature, advance_sweep, neuron_updates, state_word,
                            window_origin, window_tap)
from .sources import sign_magnitude_word, weight_field_bits


class TACConvEngine(wiring.Component):
    """A conv layer's engine in TAC mode ``tac`` at weight width ``width`` (module docstring).

    Ports: ``start`` (idle: a new run, the next step is cycle 0 of chunk 0), ``we``, ``waddr``,
    ``wbit``, ``step`` (in); ``busy``, ``cur_valid``, ``cur_n``, ``cur`` (out).
    """

    def __init__(self, layer, tac, width):
        if not isinstance(layer, ConvLayer):
            raise ParameterError("layer must be a ConvLayer")
        if not isinstance(tac, TACParams):
            raise ParameterError("tac must be a TACParams")
        self.layer, self.tac, self.width = layer, tac, width
        self.parallel = layer.out_channels // layer.fold
        self.passes = layer.geometry.positions * layer.fold
        self.steps = layer.sweep_terms
        self.pass_clocks = max(self.steps, self.parallel + 1)
        top = 1 << width
        bound = layer.sweep_terms * top * tac.one
        self.cur_bits = bound.bit_length() + 1
        super().__init__({
            "start": In(1), "we": In(1), "waddr": In(range(max(2, layer.n_inputs))),
            "wbit": In(1), "step": In(1),
            "busy": Out(1), "cur_valid": Out(1), "cur_n": Out(range(max(2, layer.n_neurons))),
            "cur": Out(signed(self.cur_bits)),
        })

    def sweep_clocks(self):
        """Clocks from a chunk's last ``step`` to the last current (``busy`` falls after it)."""
        return self.passes * self.pass_clocks + self.parallel + 2

    def elaborate(self, platform):
        m = Module()
        layer, tac, w = self.layer, self.tac, self.width
        n, P, steps = layer.n_inputs, self.parallel, self.steps
        wb = tac.word_bits
        # ---- aggregation: chunk cycle j, write bank; read-modify-write one clock apart
        j = Signal(range(max(2, tac.chunk)))
        wbank = Signal()
        mem = Memory(shape=wb, depth=2 * n, init=[], attrs=BRAM)
        m.submodules.words = mem
        rmw_rd, wr = mem.read_port(), mem.write_port()
        m.d.comb += rmw_rd.addr.eq(Cat(wbank, self.waddr))
        we_r, addr_r, bit_r = Signal(), Signal.like(self.waddr), Signal()
        m.d.sync += [we_r.eq(self.we), addr_r.eq(self.waddr), bit_r.eq(self.wbit)]
        old = rmw_rd.data
        kept = old - (old >> tac.leak_shift) if tac.leak_shift else old
        m.d.comb += [wr.addr.eq(Cat(wbank, addr_r)), wr.en.eq(we_r),
                     wr.data.eq(Mux(j == 0, 0, kept) + (bit_r << tac.frac_bits))]
        chunk_end = Signal()
        m.d.comb += chunk_end.eq(self.step & (j == tac.chunk - 1))
        with m.If(self.start):
            m.d.sync += [j.eq(0), wbank.eq(0)]
        with m.Elif(self.step):
            m.d.sync += j.eq(Mux(chunk_end, 0, j + 1))
            with m.If(chunk_end):
                m.d.sync += wbank.eq(~wbank)

        # ---- the sweep over the chunk's bank (the one just completed)
        rbank, a_valid = Signal(), Signal()
        g, t = Signal(range(max(2, self.passes))), Signal(range(max(2, self.pass_clocks)))
        rom_rows = layer.fold * steps
        row = Signal(range(max(2, rom_rows)))
        with m.If(chunk_end):
            m.d.sync += [rbank.eq(wbank), a_valid.eq(1), g.eq(0), t.eq(0), row.eq(0)]
        with m.Elif(a_valid):
            with m.If(t < steps):
                m.d.sync += row.eq(Mux(row == rom_rows - 1, 0, row + 1))
            advance_sweep(m, t, g, a_valid, self.pass_clocks, self.passes)
        a_active = Signal()
        m.d.comb += a_active.eq(a_valid & (t < steps))
        oy, ox, base = window_origin(m, layer, self.passes, g)
        index, inside = window_tap(m, layer, steps, 0, t, oy, ox, base)
        rd = mem.read_port()
        m.d.comb += rd.addr.eq(Cat(rbank, index[:max(1, (n - 1).bit_length())]))
        fw = weight_field_bits(w)
        q = layer.kernel_terms
        words = [sign_magnitude_word([q[f * P + s, st] for s in range(P)], w)
                 for f in range(layer.fold) for st in range(steps)]
        wrom = Memory(shape=P * fw, depth=rom_rows, init=words, attrs=BRAM)
        m.submodules.kernel = wrom
        w_rd = wrom.read_port()
        m.d.comb += w_rd.addr.eq(row)
        b_valid, b_inside, b_bias, b_last = Signal(), Signal(), Signal(), Signal()
        b_g = Signal.like(g)
        m.d.sync += [b_valid.eq(a_active & ~chunk_end), b_inside.eq(inside),
                     b_bias.eq((t == steps - 1) & (layer.bias is not None)),
                     b_last.eq(t == steps - 1), b_g.eq(g)]
        word = Signal(wb + 1)
        m.d.comb += word.eq(Mux(b_bias, tac.one, Mux(b_inside, rd.data, 0)))
        # ---- accumulators and the shift register that emits a pass's currents
        cur_sr = [Signal(signed(self.cur_bits), name=f"cur{s}") for s in range(P)]
        left, out_n = Signal(range(P + 1)), Signal.like(self.cur_n)
        for s in range(P):
            mag = w_rd.data[s * fw: s * fw + w + 1]
            neg = w_rd.data[s * fw + w + 1]
            prod = Signal(w + 1 + wb + 1, name=f"prod{s}")
            m.d.comb += prod.eq(mag * word)
            acc = Signal(signed(self.cur_bits), name=f"acc{s}")
            total = acc + Mux(neg, -prod, prod)
            with m.If(b_valid):
                m.d.sync += acc.eq(Mux(b_last, 0, total))
            with m.If(b_valid & b_last):
                m.d.sync += cur_sr[s].eq(total)
            with m.Elif(left != 0):
                m.d.sync += cur_sr[s].eq(cur_sr[s + 1] if s + 1 < P else 0)
        with m.If(self.start):
            m.d.sync += left.eq(0)
        with m.Elif(b_valid & b_last):
            m.d.sync += [left.eq(P), out_n.eq(b_g * P)]
        with m.Elif(left != 0):
            m.d.sync += [left.eq(left - 1), out_n.eq(out_n + 1)]
        m.d.comb += [self.cur_valid.eq(left != 0), self.cur_n.eq(out_n),
                     self.cur.eq(cur_sr[0]), self.busy.eq(a_valid | b_valid | (left != 0))]
        return m


class TACLayerCore(wiring.Component):
    """Layer ``index`` of a network, a :class:`~scfpga.model.conv_tac.TACConvLayer`: the
    :class:`TACConvEngine` and the neuron updates of its currents, once per chunk.

    Ports: ``cycle`` (a :class:`~.network_layer.CycleSignature` of the chunk steps: its commit
    ends a chunk), ``step`` (the end of an SC cycle's aggregation; the K-th ends the chunk and
    starts the sweep), ``we``/``waddr``/``wbit`` (the input map's bits of the SC cycle, one per
    clock), and :class:`~.network_layer.DenseLayerCore`'s ``spikes``, spike stream and result
    port.
    """

    runtime_threshold = False          # exact accumulation: weights and threshold in the build

    def __init__(self, params, index):
        self.params, self.index = params, index
        self.layer = layer = params.layers[index]
        self.length = params.length // layer.chunk
        self.word = state_word(layer, params.length)
        self.engine = TACConvEngine(layer, layer.temporal, params.width)
        super().__init__({
            "cycle": In(CycleSignature(self.length)), "step": In(1),
            "we": In(1), "waddr": In(range(max(2, layer.n_inputs))), "wbit": In(1),
            "spikes": Out(layer.n_neurons),
            "out_we": Out(1), "out_addr": Out(range(max(2, layer.n_neurons))), "out_bit": Out(1),
            "sel": In(range(max(2, layer.n_neurons))),
            "count": Out(self.word["count"].shape), "score": Out(self.word["score"].shape),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.engine = e = self.engine
        m.d.comb += [e.start.eq(self.cycle.clear), e.step.eq(self.step), e.we.eq(self.we),
                     e.waddr.eq(self.waddr), e.wbit.eq(self.wbit)]
        cur = Signal.like(e.cur)            # the current of the neuron addressed a clock ago
        m.d.sync += cur.eq(e.cur)
        neuron_updates(m, self, e.cur_valid, e.cur_n, cur, e.cur_bits)
        return m
