"""The components a network design is made of (the design: :mod:`scfpga.hdl.network`).

* :class:`DenseLayerCore` — one layer: sweeps its synapse columns, accumulates, steps its
  neurons through one update core, keeps their state in block RAM, shows its spike vector.
* :class:`Encoder` — the SNG bank feeding layer 1 (thresholds and source states in block RAM).
* :class:`SpikeInput` — a layer's spike vector as the next layer's input.
* :class:`WindowInput` — a conv or pool layer's input map in block RAM (double-buffered per SC
  cycle, written by the producing layer's neuron updates), read through the window: (pass,
  tap) -> input index (:class:`scfpga.model.conv.Geometry`), zero padding.
* :class:`MapInput` — the same double-buffered block RAM for a dense layer after a conv or
  pool layer (its input vector read row by row).
* :class:`InputBuffer` — the encoder's bits of the SC cycle swept into that map first (a window
  layer reads inputs in any order, while the encoder advances each input once per cycle).

A layer reads its input through a :class:`FetchSignature` port: it names, in its stage A, the
row (``lanes`` synapse columns) it will need and, in stage B, gets their bits. Any source of
bits that answers such a port can feed any layer; a layer's cycle is run by the
:class:`CycleSignature` signals the design drives (start of a run, end of an SC cycle, k).
"""
from amaranth.hdl import C, Cat, Module, Mux, ResetInserter, Signal, signed, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ..model.conv import ConvLayer, PoolLayer, current_bound, is_exact
from ..model.lfsr import lfsr_leap_columns
from ..model.params import ParameterError
from .network_loads import RASTER_BITS, raster_shift, runtime_threshold
from .neuron import state_layout, step_core
from .neuron_types import pipelined_core
from .sources import (StreamSource, direction_bits, direction_index, input_source_table, leap,
                      sign_magnitude_word, weight_field_bits)

BRAM = {"ram_style": "block"}      # Yosys would build shallow tables from logic otherwise


def state_word(layer, length):
    """Layout of a neuron's RAM word: neuron state, score (sum of currents), spike count."""
    score_bits = (current_bound(layer) * length).bit_length() + 1
    return data.StructLayout({"neuron": state_layout(layer.neuron),
                              "score": signed(score_bits),
                              "count": unsigned(max(1, (length - 1).bit_length()))})


class CycleSignature(wiring.Signature):
    """The run of a layer, driven by the design (``In`` on the layer's side).

    ``clear``: the start of a run (states and sources restart); ``commit``: the end of an SC
    cycle that is not the run's last (spikes show, sources advance); ``k``: the SC cycle;
    ``busy``: a run is in progress.
    """

    def __init__(self, length):
        super().__init__({"clear": Out(1), "commit": Out(1), "busy": Out(1),
                          "k": Out(range(max(2, length)))})


class FetchSignature(wiring.Signature):
    """A layer reading its input bits (``Out`` on the layer's side).

    Stage A: ``row_a`` (synapse columns ``row * lanes .. + lanes - 1``). Stage B, the next
    clock: ``row_b``, ``valid_b``, ``final_b`` (the cycle's last pass: a source that advances per
    SC cycle writes its state back now), and the source answers ``bits`` (one per lane). With
    ``passes`` (window layers), stage A also names the pass ``pass_a`` (its output position).
    """

    def __init__(self, rows, lanes, passes=None):
        ports = {"row_a": Out(range(max(2, rows))), "row_b": Out(range(max(2, rows))),
                 "valid_b": Out(1), "final_b": Out(1), "bits": In(lanes)}
        if passes is not None:
            ports["pass_a"] = Out(range(max(2, passes)))
        super().__init__(ports)


class SpikeInput(wiring.Component):
    """A spike vector (a layer's committed spikes) answering a fetch port.

    The bit is selected in stage A (from ``row_a``) and registered for stage B: a wide
    vector's selector is a deep multiplexer tree, which must not share a clock with the
    weight comparator and the accumulator. The vector holds still for the whole SC cycle
    (it changes at the commit, before any fetch of the next cycle)."""

    def __init__(self, n_inputs, rows, lanes):
        self.n_inputs, self.rows, self.lanes = n_inputs, rows, lanes
        super().__init__({"spikes": In(n_inputs), "fetch": In(FetchSignature(rows, lanes))})

    def elaborate(self, platform):
        m = Module()
        for lane in range(self.lanes):
            index = Signal(range(max(2, self.rows) * self.lanes + 1), name=f"index{lane}")
            m.d.comb += index.eq(self.fetch.row_a * self.lanes + lane if self.lanes > 1
                                 else self.fetch.row_a)
            m.d.sync += self.fetch.bits[lane].eq(
                Mux(index < self.n_inputs, self.spikes.bit_select(index, 1), 0))
        return m


def is_window(layer):
    """A conv or pool layer (its input is read through :class:`WindowInput`)."""
    return isinstance(layer, (ConvLayer, PoolLayer))


def advance_sweep(m, t, g, valid, pass_clocks, passes):
    """One clock of a pass sweep, under the caller's enable: clock ``t`` of pass ``g`` steps
    on; after a pass's last clock the next pass starts, after the last pass ``valid`` clears."""
    with m.If(t == pass_clocks - 1):
        m.d.sync += t.eq(0)
        with m.If(g == passes - 1):
            m.d.sync += valid.eq(0)
        with m.Else():
            m.d.sync += g.eq(g + 1)
    with m.Else():
        m.d.sync += t.eq(t + 1)


def window_origin(m, layer, passes, pass_a):
    """(oy, ox, base) of pass ``pass_a`` of a window layer, combinational in its stage A: the
    window's top-left input shifted by the padding (non-negative) and its HWC index plus the
    pass's channel (pool). Registers stepped when ``pass_a`` advances (by one, from 0), so no
    table per position: the logic does not grow with the map."""
    geo = layer.geometry
    c_n, _, w = layer.in_shape
    oh, ow = geo.out_hw
    s = geo.stride
    per_pos = passes // geo.positions                    # passes per position
    channel = 1 if isinstance(layer, PoolLayer) else 0   # a pool pass reads one channel
    oy = Signal(range((oh - 1) * s + 1), name="oy")
    ox = Signal(range((ow - 1) * s + 1), name="ox")
    base = Signal(range(max(2, layer.n_inputs + (geo.padding * w + geo.padding) * c_n + 1)),
                  name="base")
    sub = Signal(range(max(2, per_pos)), name="sub")
    cur = [Signal.like(v, name=f"{v.name}_r") for v in (oy, ox, base, sub)]
    last = Signal.like(pass_a, name="last_pass")
    m.d.sync += [last.eq(pass_a)] + [r.eq(v) for r, v in zip(cur, (oy, ox, base, sub))]
    c_oy, c_ox, c_base, c_sub = cur
    with m.If(pass_a == 0):
        m.d.comb += [oy.eq(0), ox.eq(0), base.eq(0), sub.eq(0)]
    with m.Elif(pass_a != last):                         # the next pass: step the origin
        with m.If(c_sub != per_pos - 1):
            m.d.comb += [oy.eq(c_oy), ox.eq(c_ox), base.eq(c_base + channel), sub.eq(c_sub + 1)]
        with m.Elif(c_ox == (ow - 1) * s):
            m.d.comb += [oy.eq(c_oy + s), ox.eq(0), sub.eq(0),
                         base.eq(c_base + (s * w - (ow - 1) * s) * c_n - channel * (per_pos - 1))]
        with m.Else():
            m.d.comb += [oy.eq(c_oy), ox.eq(c_ox + s), sub.eq(0),
                         base.eq(c_base + s * c_n - channel * (per_pos - 1))]
    with m.Else():
        m.d.comb += [oy.eq(c_oy), ox.eq(c_ox), base.eq(c_base), sub.eq(c_sub)]
    return oy, ox, base


def tap_words(layer, steps, lanes, lane):
    """The lane's tap table (one word per sweep row): valid bit, ky, kx, offset (:meth:`~scfpga
    .model.conv.Geometry.tap_table`), and the field widths ``(kb, ob)``; rows past the taps (or
    the bias) are 0."""
    taps = layer.geometry.tap_table()
    kb = max(1, int(max(taps[:, 0].max(), taps[:, 1].max())).bit_length())
    ob = max(1, int(taps[:, 2].max()).bit_length())
    words = []
    for row in range(steps):
        t = row * lanes + lane
        if t < len(taps):
            ky, kx, off = (int(v) for v in taps[t])
            words.append(1 | (ky << 1) | (kx << (1 + kb)) | (off << (1 + 2 * kb)))
        else:
            words.append(0)
    return words, kb, ob


def window_tap(m, layer, steps, lane, row_a, oy, ox, base):
    """(input index, inside) of lane ``lane``'s tap in sweep row ``row_a`` of the window at
    (oy, ox, base) (:func:`window_origin`), combinational: the tap table is a few words of
    logic. ``inside`` is 0 for a padding tap and for rows past the taps (the bias)."""
    geo = layer.geometry
    c_n, h, w = layer.in_shape
    pad = geo.padding
    bias = (pad * w + pad) * c_n              # base and offsets count from the padded corner
    words, kb, ob = tap_words(layer, steps, layer.lanes, lane)
    trom = Memory(shape=1 + 2 * kb + ob, depth=steps, init=words)
    m.submodules[f"tap{lane}"] = trom
    t_rd = trom.read_port(domain="comb")
    m.d.comb += t_rd.addr.eq(row_a)
    tap, ky, kx = t_rd.data[0], t_rd.data[1:1 + kb], t_rd.data[1 + kb:1 + 2 * kb]
    off = t_rd.data[1 + 2 * kb:]
    iy = Signal(len(oy) + 1, name=f"iy{lane}")
    ix = Signal(len(ox) + 1, name=f"ix{lane}")
    index = Signal(len(base) + 1, name=f"index{lane}")
    inside = Signal(name=f"inside{lane}")
    m.d.comb += [iy.eq(oy + ky), ix.eq(ox + kx), index.eq(base + off - bias),
                 inside.eq(tap & (iy >= pad) & (iy < h + pad) & (ix >= pad) & (ix < w + pad))]
    return index, inside


class WindowInput(wiring.Component):
    """A window layer's input map in block RAM (a line buffer), read through its window.

    The map's source writes it through ``we``/``waddr``/``wdata`` (``write_lanes`` bits of word
    ``waddr``, HWC order): a layer writes one spike per neuron update (its U3 stream), the
    :class:`InputBuffer` one encoder row per clock. With ``double`` (a layer source) the memory
    holds two banks: during SC cycle k the source writes the spikes of cycle k + 1 into bank
    ``(k + 1) % 2`` while the window reads those of cycle k from bank ``k % 2`` (zero in cycle 0,
    the model's first spikes); without it (the encoder) the cycle's bits are read after the
    buffer's sweep (the reader's ``delay``). So neither side keeps the map in flip-flops, and
    the logic does not grow with the map.

    Stage A derives the pass's window origin from registers stepped when ``pass_a`` advances
    (no table per position), adds each lane's tap (``row_a`` -> ky, kx, offset: a table of the
    kernel's taps), checks the bounds (a padding tap reads 0) and addresses the lane's read
    port; stage B selects the bit of the word.
    """

    def __init__(self, layer, sched, length, write_lanes=1, double=True):
        self.layer, self.sched, self.double = layer, sched, double
        self.write_lanes = write_lanes
        self.words = -(-layer.n_inputs // write_lanes)
        super().__init__({
            "cycle": In(CycleSignature(length)),
            "we": In(1), "waddr": In(range(max(2, self.words))), "wdata": In(write_lanes),
            "fetch": In(FetchSignature(sched.steps, layer.lanes, sched.passes)),
        })

    def elaborate(self, platform):
        m = Module()
        layer, ls, f, cyc = self.layer, self.sched, self.fetch, self.cycle
        wl = self.write_lanes
        wb = (wl - 1).bit_length()
        mem = Memory(shape=wl, depth=self.words * (2 if self.double else 1), init=[], attrs=BRAM)
        m.submodules.map = mem
        wr = mem.write_port()
        bank = cyc.k[0]
        m.d.comb += [wr.en.eq(self.we), wr.data.eq(self.wdata),
                     wr.addr.eq(Cat(~bank, self.waddr) if self.double else self.waddr)]
        oy, ox, base = window_origin(m, layer, ls.passes, f.pass_a)
        # cycle 0 of a layer source: no spikes yet (the bank holds an earlier run's)
        live = Signal()
        m.d.sync += live.eq((cyc.k != 0) if self.double else 1)
        for lane in range(layer.lanes):
            index, inside = window_tap(m, layer, ls.steps, lane, f.row_a, oy, ox, base)
            rd = mem.read_port()
            word = index[wb:wb + max(1, (self.words - 1).bit_length())]
            m.d.comb += rd.addr.eq(Cat(bank, word) if self.double else word)
            inside_b, sel_b = Signal(name=f"inside_b{lane}"), Signal(max(1, wb), name=f"sel{lane}")
            m.d.sync += [inside_b.eq(inside), sel_b.eq(index[:wb] if wb else 0)]
            bit = rd.data.bit_select(sel_b, 1) if wb else rd.data[0]
            m.d.comb += f.bits[lane].eq(inside_b & live & bit)
        return m


class MapInput(wiring.Component):
    """A dense layer's input spike vector in block RAM, written by the producing layer's neuron
    updates and double-buffered per SC cycle exactly as :class:`WindowInput`'s map (bank
    ``(k + 1) % 2`` written during cycle k, bank ``k % 2`` read; zero in cycle 0). Stage A
    addresses each lane's input ``row_a * lanes + lane``, stage B shows its bit (0 past the
    last input). Used after conv and pool layers, whose maps would otherwise sit in flip-flops.
    """

    def __init__(self, n_inputs, rows, lanes, length):
        self.n_inputs, self.rows, self.lanes = n_inputs, rows, lanes
        super().__init__({
            "cycle": In(CycleSignature(length)),
            "we": In(1), "waddr": In(range(max(2, n_inputs))), "wdata": In(1),
            "fetch": In(FetchSignature(rows, lanes)),
        })

    def elaborate(self, platform):
        m = Module()
        f, cyc, lanes = self.fetch, self.cycle, self.lanes
        mem = Memory(shape=1, depth=2 * self.n_inputs, init=[], attrs=BRAM)
        m.submodules.map = mem
        wr = mem.write_port()
        bank = cyc.k[0]
        m.d.comb += [wr.en.eq(self.we), wr.data.eq(self.wdata),
                     wr.addr.eq(Cat(~bank, self.waddr))]
        live = Signal()
        m.d.sync += live.eq(cyc.k != 0)
        abits = max(1, (self.n_inputs - 1).bit_length())
        for lane in range(lanes):
            index = Signal(range(max(2, self.rows) * lanes + 1), name=f"index{lane}")
            m.d.comb += index.eq(f.row_a * lanes + lane if lanes > 1 else f.row_a)
            rd = mem.read_port()
            m.d.comb += rd.addr.eq(Cat(bank, index[:abits]))
            valid_b = Signal(name=f"valid_b{lane}")
            m.d.sync += valid_b.eq(index < self.n_inputs)
            m.d.comb += f.bits[lane].eq(valid_b & live & rd.data[0])
        return m


class InputBuffer(wiring.Component):
    """Sweeps the encoder once at the start of every SC cycle (clocks ``0 .. rows - 1``, stage
    B one clock later) and writes each row (``lanes`` bits) into a window layer's map
    (:class:`WindowInput`, one bank); complete after clock ``rows``: what the window layer
    reading the encoder waits for (its ``delay``, :func:`scfpga.hdl.network.schedule`)."""

    def __init__(self, params, rows, lanes):
        self.params, self.rows, self.lanes = params, rows, lanes
        super().__init__({"cycle": In(CycleSignature(params.length)),
                          "fetch": Out(FetchSignature(rows, lanes)),
                          "we": Out(1), "waddr": Out(range(max(2, rows))), "wdata": Out(lanes)})

    def elaborate(self, platform):
        m = Module()
        cyc, f, rows = self.cycle, self.fetch, self.rows
        row, active = Signal(range(max(2, rows + 1))), Signal()
        with m.If(cyc.clear | cyc.commit):
            m.d.sync += [row.eq(0), active.eq(1)]
        with m.Elif(cyc.busy & active):
            m.d.sync += row.eq(row + 1)
            with m.If(row == rows - 1):
                m.d.sync += active.eq(0)
        m.d.comb += [f.row_a.eq(row), f.final_b.eq(1),
                     self.we.eq(f.valid_b), self.waddr.eq(f.row_b), self.wdata.eq(f.bits)]
        m.d.sync += [f.valid_b.eq(cyc.busy & active & ~cyc.clear), f.row_b.eq(row)]
        return m


class Encoder(wiring.Component):
    """One comparator SNG per network input, ``lanes`` at a time, answering a fetch port.

    Per lane, block RAM holds each input's threshold (``load`` port) and its source state; stage
    A reads the row, stage B compares the state's top ``width`` bits with the threshold and, in
    the cycle's last pass, writes the advanced state back (LFSR: a leap through a fixed XOR
    network; Sobol: XOR with the direction number the lowest zero bit of k picks). In cycle 0
    the state comes from the seed ROM (LFSR) or is 0 (Sobol), so a run needs no set-up pass.
    """

    def __init__(self, params, rows, lanes):
        self.params, self.rows, self.lanes = params, rows, lanes
        super().__init__({
            "load": In(1), "addr": In(range(max(2, params.n_inputs))), "data": In(params.width + 1),
            "cycle": In(CycleSignature(params.length)), "fetch": In(FetchSignature(rows, lanes)),
        })

    def elaborate(self, platform):
        m = Module()
        p, plan, lanes, f, cyc = self.params, self.params.plan, self.lanes, self.fetch, self.cycle
        sobol = p.source == "sobol"
        state_w = p.width if sobol else p.lfsr_width
        lane_bits = (lanes - 1).bit_length()
        cb = direction_bits(plan)
        dir_c = direction_index(cyc.k, plan.inputs[0].index_width, cb) if sobol else None
        for lane in range(lanes):
            table = input_source_table(plan, p.n_inputs, self.rows, lanes, lane)
            pmem = Memory(shape=p.width + 1, depth=self.rows, init=[], attrs=BRAM)
            smem = Memory(shape=state_w, depth=self.rows, init=[], attrs=BRAM)
            imem = Memory(shape=state_w, depth=len(table), init=table, attrs=BRAM)
            for name, mem in (("thr", pmem), ("state", smem), ("init", imem)):
                m.submodules[f"{name}{lane}"] = mem
            p_wr, s_wr = pmem.write_port(), smem.write_port()
            p_rd, i_rd = pmem.read_port(), imem.read_port()
            s_rd = smem.read_port(transparent_for=(s_wr,) if self.rows == 1 else ())
            m.d.comb += [
                p_wr.addr.eq(self.addr[lane_bits:]), p_wr.data.eq(self.data),
                p_wr.en.eq(self.load & ~cyc.busy & ((self.addr[:lane_bits] == lane)
                                                    if lane_bits else 1)),
                p_rd.addr.eq(f.row_a), s_rd.addr.eq(f.row_a),
                i_rd.addr.eq(Cat(dir_c, f.row_a) if sobol else f.row_a),
            ]
            value = Signal(state_w, name=f"value{lane}")
            m.d.comb += value.eq(Mux(cyc.k == 0, 0 if sobol else i_rd.data, s_rd.data))
            nxt = value ^ i_rd.data if sobol else leap(value, lfsr_leap_columns(plan.inputs[0],
                                                                                plan.leap))
            m.d.comb += [s_wr.addr.eq(f.row_b), s_wr.data.eq(nxt),
                         s_wr.en.eq(f.valid_b & f.final_b),
                         f.bits[lane].eq(value[plan.shift:] < p_rd.data)]
        return m


class RasterInput(wiring.Component):
    """The run's input spike raster (``encoding = "raster"``) answering a fetch port.

    Block RAM holds the bits of every input in every SC cycle as 16-bit load words (the
    ``inputs`` region of :mod:`.network_loads`: word ``j`` of cycle ``k`` at ``(k << s) | j``),
    written through ``load``/``addr``/``data`` while idle. Stage A addresses the word holding the
    row's ``lanes`` bits in cycle ``k``, stage B selects them; bits past the last input read 0.
    """

    def __init__(self, params, rows, lanes):
        if lanes > RASTER_BITS:
            raise ParameterError(f"layer 1: lanes must be at most {RASTER_BITS} with a raster "
                                 f"input (a row must lie in one raster word), got {lanes}")
        self.params, self.rows, self.lanes = params, rows, lanes
        self.shift = raster_shift(params.n_inputs)
        self.depth = params.length << self.shift
        super().__init__({
            "load": In(1), "addr": In(range(max(2, self.depth))), "data": In(RASTER_BITS),
            "cycle": In(CycleSignature(params.length)), "fetch": In(FetchSignature(rows, lanes)),
        })

    def elaborate(self, platform):
        m = Module()
        f, cyc, lanes, s = self.fetch, self.cycle, self.lanes, self.shift
        mem = Memory(shape=RASTER_BITS, depth=self.depth, init=[], attrs=BRAM)
        m.submodules.raster = mem
        wr, rd = mem.write_port(), mem.read_port()
        lane_bits = (lanes - 1).bit_length()
        per_word = RASTER_BITS.bit_length() - 1 - lane_bits      # log2(rows in one word)
        word_a = f.row_a >> per_word
        m.d.comb += [wr.addr.eq(self.addr), wr.data.eq(self.data),
                     wr.en.eq(self.load & ~cyc.busy),
                     rd.addr.eq(Cat(word_a[:s], cyc.k) if s else cyc.k)]
        offset = Signal(range(RASTER_BITS), name="offset")
        m.d.comb += offset.eq((f.row_b << lane_bits) if per_word else 0)
        for lane in range(lanes):
            index = Signal(range(max(2, self.rows) * lanes + 1), name=f"index{lane}")
            m.d.comb += [index.eq(f.row_b * lanes + lane),
                         f.bits[lane].eq(Mux(index < self.params.n_inputs,
                                             rd.data.bit_select(offset + lane, 1), 0))]
        return m


class DenseLayerCore(wiring.Component):
    """One dense layer of a network (sweep, accumulators, neuron update, state RAM).

    Parameters
    ----------
    params : NetworkParams
        The network (for width, length and the layer's weight source).
    index : int
        Which layer.
    sched : LayerSchedule
        Its clocks (:func:`scfpga.hdl.network.schedule`).

    layout : WeightLayout or None
        Run-time weights (:mod:`.network_loads`): the weight memory gets a write port,
        ``wload``/``waddr``/``wdata`` (one sign-magnitude weight, written while idle at the
        region-local address ``waddr``). None: a ROM initialised by the bitstream.

    Ports: ``cycle`` (:class:`CycleSignature`, in), ``fetch`` (:class:`FetchSignature`, out),
    ``spikes`` (the committed spike vector: the model's spikes of cycle k), the spike stream
    ``out_we``/``out_addr``/``out_bit`` (each neuron's spike of cycle k + 1 as its update writes
    it back: what a window layer's map (:class:`WindowInput`) stores), and the result read port
    ``sel`` -> ``count``, ``score`` one clock later while idle.
    """

    def __init__(self, params, index, sched, layout=None, length=None):
        self.params, self.index, self.sched, self.layout = params, index, sched, layout
        self.layer = layer = params.layers[index]
        # SC cycles of a run: fewer than the network's after a TAC layer (its chunk steps)
        self.length = length = params.length if length is None else length
        self.word = state_word(layer, params.length)
        ports = {
            "cycle": In(CycleSignature(length)),
            "fetch": Out(FetchSignature(sched.steps, layer.lanes,
                                        sched.passes if is_window(layer) else None)),
            "spikes": Out(layer.n_neurons),
            "out_we": Out(1), "out_addr": Out(range(max(2, layer.n_neurons))), "out_bit": Out(1),
            "sel": In(range(max(2, layer.n_neurons))),
            "count": Out(self.word["count"].shape), "score": Out(self.word["score"].shape),
        }
        if layout is not None:
            ports.update(wload=In(1), waddr=In(max(1, (layout.size - 1).bit_length())),
                         wdata=In(params.width + 2))
        self.runtime_threshold = layout is not None and runtime_threshold(layer)
        if self.runtime_threshold:               # LIF threshold register, loaded with weights
            ports.update(tload=In(1), tdata=In(16))
        super().__init__(ports)

    def _weight_rom(self, lane):
        """ROM rows ``pass * steps + step`` (a window layer: ``(pass % rom_passes) * steps +
        step``, the kernel shared by every position): each slot's magnitude (W+1 bits) and sign.
        SPRAM has no power-up contents: its weights are loaded at run time."""
        p, ls, layer = self.params, self.sched, self.layer
        if p.weight_memory == "spram":
            return []
        q, P = layer.kernel_terms, ls.parallel
        words = []
        for g in range(ls.rom_passes):
            for step in range(ls.steps):
                term = step * layer.lanes + lane
                words.append(sign_magnitude_word(
                    [q[j, term] if (j < len(q) and term < layer.sweep_terms) else 0
                     for j in range(g * P, g * P + P)], p.width, p.weight_memory))
        return words

    def _weight_memory(self, m, lane, row):
        """The lane's weight memory and its read data (stage B) for row ``row`` (stage A).

        Run-time weights add a write port with one enable per slot. In SPRAM the two ports
        must be one (a single-port RAM): one address, multiplexed by ``busy``, and no read
        while writing (SPRAM's read data holds during a write; a disabled read port does too).
        """
        p, ls, lay = self.params, self.sched, self.layout
        fw = weight_field_bits(p.width, p.weight_memory)
        rows = ls.rom_passes * ls.steps
        attrs = {"ram_style": "huge"} if p.weight_memory == "spram" else BRAM
        mem = Memory(shape=ls.parallel * fw, depth=rows, init=self._weight_rom(lane), attrs=attrs)
        m.submodules[f"wmem{lane}"] = mem
        rd = mem.read_port()
        if lay is None:
            m.d.comb += rd.addr.eq(row)
            return rd.data
        wr = mem.write_port(granularity=fw)
        lb, sb = lay.lane_bits, lay.slot_bits
        w_lane, w_slot = self.waddr[:lb], self.waddr[lb:lb + sb]
        w_row = self.waddr[lb + sb:]
        we = Signal(name=f"we{lane}")
        m.d.comb += we.eq(self.wload & ~self.cycle.busy & ((w_lane == lane) if lb else 1) &
                          (w_row < rows))          # rows past the memory must not alias
        field = Signal(fw, name=f"field{lane}")
        m.d.comb += [field.eq(self.wdata), wr.data.eq(field.replicate(ls.parallel)),
                     wr.en.eq(Mux(we, C(1, ls.parallel) << w_slot if sb else 1, 0))]
        if p.weight_memory == "spram":
            addr = Signal(range(max(2, rows)), name=f"waddr{lane}")
            m.d.comb += [addr.eq(Mux(we, w_row, row)), wr.addr.eq(addr), rd.addr.eq(addr),
                         rd.en.eq(~we)]
        else:
            m.d.comb += [wr.addr.eq(w_row), rd.addr.eq(row)]
        return rd.data

    def elaborate(self, platform):
        m = Module()
        p, ls, layer, cyc, f = self.params, self.sched, self.layer, self.cycle, self.fetch
        w, lanes, P, n = p.width, layer.lanes, ls.parallel, layer.n_neurons
        restart = cyc.clear | cyc.commit

        # ---- sweep counters (stage A) and their stage-B copies; a window layer's weight ROM
        # row wraps after ``rom_passes`` passes (the kernel is shared by every position)
        a_valid, g = Signal(), Signal(range(ls.passes))
        rom_rows = ls.rom_passes * ls.steps
        t, row = Signal(range(ls.pass_clocks)), Signal(range(rom_rows))
        a_active = Signal()
        m.d.comb += a_active.eq(a_valid & (t < ls.steps))
        if ls.delay:                     # wait for the source (InputBuffer) to fill
            wait = Signal(range(ls.delay + 1))
            with m.If(restart):
                m.d.sync += wait.eq(ls.delay)
            with m.Elif(cyc.busy & (wait != 0)):
                m.d.sync += wait.eq(wait - 1)
                with m.If(wait == 1):
                    m.d.sync += a_valid.eq(1)
        with m.If(restart):
            m.d.sync += [a_valid.eq(ls.delay == 0), g.eq(0), t.eq(0), row.eq(0)]
        with m.Elif(cyc.busy & a_valid):
            with m.If(a_active):
                m.d.sync += row.eq(row + 1)
                if rom_rows < ls.passes * ls.steps:
                    with m.If(row == rom_rows - 1):
                        m.d.sync += row.eq(0)
            advance_sweep(m, t, g, a_valid, ls.pass_clocks, ls.passes)
        b_g, b_last = Signal(range(ls.passes)), Signal()
        m.d.sync += [f.valid_b.eq(cyc.busy & a_active & ~cyc.clear), f.row_b.eq(t), b_g.eq(g),
                     b_last.eq(t == ls.steps - 1)]
        m.d.comb += [f.row_a.eq(t), f.final_b.eq(b_g == ls.passes - 1)]
        if is_window(layer):
            m.d.comb += f.pass_a.eq(g)

        # ---- the layer's weight source: stable for the cycle, advanced at the commit
        exact = is_exact(layer)             # integer weights: no stream, no comparator
        if not isinstance(layer, PoolLayer) and not exact:
            wsrc = ResetInserter(cyc.clear)(StreamSource(p.plan, p.plan.weights[self.index]))
            m.submodules.weight_src = wsrc
            m.d.comb += wsrc.en.eq(cyc.commit)

        # ---- per lane: input bit (stage B) and weight-ROM word, product bits per slot
        fw = weight_field_bits(w, p.weight_memory)
        contrib = [[] for _ in range(P)]
        always_on = isinstance(layer, PoolLayer)     # pool synapses: no weights, no comparator
        fan = layer.sweep_terms - (layer.bias is not None)     # swept inputs before the bias
        for lane in range(lanes):
            if not always_on:
                w_data = self._weight_memory(m, lane, row)
            bit = f.bits[lane]
            if layer.bias is not None and fan % lanes == lane:
                bit = bit | (f.row_b == fan // lanes)        # the bias input is 1
            a_bit = Signal(name=f"bit{lane}")
            m.d.comb += a_bit.eq(bit)
            for slot in range(P):
                if always_on:
                    contrib[slot].append(Mux(a_bit, C(1, signed(2)), C(0, signed(2))))
                    continue
                mag = w_data[slot * fw: slot * fw + w + 1]
                neg = w_data[slot * fw + w + 1]
                if exact:                   # the weight itself when the input spiked
                    contrib[slot].append(Mux(a_bit, Mux(neg, -mag, mag), 0))
                    continue
                on = a_bit & (wsrc.value < mag)
                contrib[slot].append(Mux(on, Mux(neg, C(-1, signed(2)), C(1, signed(2))),
                                         C(0, signed(2))))

        # ---- accumulators (B) and the current shift register feeding the update core
        cur_bits = current_bound(layer).bit_length() + 1
        cur_sr = [Signal(signed(cur_bits), name=f"cur{s}") for s in range(P)]
        shift = Signal()
        for slot in range(P):
            acc = Signal(signed(cur_bits), name=f"acc{slot}")
            total = acc + sum(contrib[slot])
            with m.If(cyc.clear):
                m.d.sync += acc.eq(0)
            with m.Elif(f.valid_b):
                m.d.sync += acc.eq(Mux(b_last, 0, total))
            with m.If(f.valid_b & b_last):
                m.d.sync += cur_sr[slot].eq(total)
            with m.Elif(shift):
                m.d.sync += cur_sr[slot].eq(cur_sr[slot + 1] if slot + 1 < P else 0)

        # ---- the pass's currents, one per clock, into the neuron updates
        u_left, u_n = Signal(range(P + 1)), Signal(range(n + 1))
        with m.If(restart):
            m.d.sync += u_left.eq(0)
        with m.Elif(f.valid_b & b_last):
            m.d.sync += [u_left.eq(Mux(b_g == ls.passes - 1, ls.last_count, P)),
                         u_n.eq(b_g * P)]
        with m.Elif(u_left != 0):
            m.d.sync += [u_left.eq(u_left - 1), u_n.eq(u_n + 1)]
        m.d.comb += shift.eq(neuron_updates(m, self, u_left != 0, u_n, cur_sr[0], cur_bits))
        return m


def neuron_updates(m, core, u0_valid, u0_n, u1_cur, cur_bits):
    """A layer core's neuron updates, one per clock (U0 address, U1 register, U2 step, U3 write
    back), its state RAM, spike vector and spike stream; returns U1's valid flag.

    ``core`` is the layer's component (:class:`DenseLayerCore`, or a TAC layer's core in
    :mod:`.conv_tac`): its ``cycle``, ``params``, ``layer``, ``length``, ``word``, result and
    spike ports. In U0 neuron ``u0_n`` is addressed (``u0_valid``); ``u1_cur`` must hold its
    current one clock later.
    """
    layer, cyc, n = core.layer, core.cycle, core.layer.n_neurons
    restart = cyc.clear | cyc.commit
    smem = Memory(shape=core.word, depth=n, init=[], attrs=BRAM)
    m.submodules.state = smem
    s_rd, s_wr = smem.read_port(), smem.write_port()
    u1_valid, u2_valid, u3_valid = Signal(), Signal(), Signal()
    u1_n, u2_n, u3_n = Signal(range(n + 1)), Signal(range(n + 1)), Signal(range(n + 1))
    with m.If(restart):
        m.d.sync += u1_valid.eq(0)
    with m.Else():
        m.d.sync += [u1_valid.eq(u0_valid), u1_n.eq(u0_n)]
    m.d.comb += [s_rd.addr.eq(Mux(cyc.busy, u0_n, core.sel)),
                 core.count.eq(s_rd.data.count), core.score.eq(s_rd.data.score)]
    # U1: the word (zero in cycle 0: the RAM is never cleared) and the current, registered
    # so that the update core starts from registers; U2: the core, into a register.
    old, new = Signal(core.word), Signal(core.word)
    cur, fire = Signal(signed(cur_bits)), Signal()
    m.d.sync += [u2_valid.eq(u1_valid & ~restart), u2_n.eq(u1_n),
                 old.eq(Mux(cyc.k == 0, 0, s_rd.data.as_value())), cur.eq(u1_cur)]
    if core.runtime_threshold:
        neuron = layer.neuron
        thr = Signal(neuron.width - 1, init=neuron.threshold)
        hi = (1 << (neuron.width - 1)) - 1
        with m.If(core.tload & ~cyc.busy):   # clamped as clamp_threshold says
            m.d.sync += thr.eq(Mux(core.tdata == 0, 1, Mux(core.tdata > hi, hi, core.tdata)))
        m.submodules.core = unit = step_core(neuron, cur_bits, runtime_threshold=True)
        m.d.comb += unit.threshold.eq(thr)
    else:            # products registered: unit.latency more clocks (update_latency)
        m.submodules.core = unit = pipelined_core(layer.neuron, cur_bits)
    m.d.comb += [unit.state.eq(old.neuron), unit.current.eq(cur)]
    # What bypasses the core follows it through its pipeline: the neuron, the valid flag
    # (cleared by a restart in every stage), the score and count of the word.
    d_valid, d_n, d_score, d_count, d_cur = u2_valid, u2_n, old.score, old.count, cur
    for i in range(getattr(unit, "latency", 0)):
        regs = [Signal(like.shape(), name=f"u2_{name}{i}") for name, like in
                (("valid", d_valid), ("n", d_n), ("score", d_score), ("count", d_count),
                 ("cur", d_cur))]
        m.d.sync += [regs[0].eq(d_valid & ~restart), regs[1].eq(d_n), regs[2].eq(d_score),
                     regs[3].eq(d_count), regs[4].eq(d_cur)]
        d_valid, d_n, d_score, d_count, d_cur = regs
    m.d.sync += [new.neuron.eq(unit.next), new.score.eq(d_score + d_cur),
                 new.count.eq(d_count + (unit.fire & (cyc.k != core.length - 1))),
                 fire.eq(unit.fire)]
    m.d.sync += [u3_valid.eq(d_valid & ~restart), u3_n.eq(d_n)]
    # U3: write back; the spike shifts into the next vector, shown at the commit.
    m.d.comb += [s_wr.addr.eq(u3_n), s_wr.data.eq(new), s_wr.en.eq(u3_valid),
                 core.out_we.eq(u3_valid), core.out_addr.eq(u3_n), core.out_bit.eq(fire)]
    nxt = Signal(n)
    with m.If(u3_valid):
        m.d.sync += nxt.eq(Cat(nxt[1:], fire) if n > 1 else fire)
    with m.If(cyc.clear):
        m.d.sync += core.spikes.eq(0)
    with m.Elif(cyc.commit):
        m.d.sync += core.spikes.eq(nxt)
    return u1_valid
