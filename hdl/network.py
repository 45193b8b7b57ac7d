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

The parts are components with named signatures (:mod:`.network_layer`): a layer is a
:class:`~.network_layer.DenseLayerCore` run by a :class:`~.network_layer.CycleSignature` and
reading its inputs through a :class:`~.network_layer.FetchSignature` port; layer 1's port is
answered by the :class:`~.network_layer.Encoder` (an SNG per input time-multiplexed per lane,
thresholds and source states in block RAM), layer l + 1's by layer l's committed spike vector,
which holds still for the whole cycle: the model's one-cycle latency per layer. The layers
exchange whole spike vectors in lockstep rather than ``amaranth.lib.stream`` handshakes, because
every layer's cycle k must end before any layer's cycle k + 1 begins; a new kind of layer (conv,
event-driven) plugs in by answering the same two signatures.

Schedule (:class:`Schedule`, the one statement of the timing; the bench and the board design
use it): within a cycle of ``cycle_clocks`` clocks, clock ``c``, a layer's step ``t`` of pass
``g`` addresses its RAMs at ``c = g * pass_clocks + t`` (A) and accumulates at ``c + 1`` (B); the
last step's B clock latches the currents; update ``p`` of the pass addresses the state word
``p + 1`` clocks later (U0), registers it and the current (U1), steps the neuron into a register
(U2) and writes the word back and shifts the spike in (U3): one neuron per clock, with only the
update core between registers. The commit is clock ``cycle_clocks - 1``; no commit after the run's last cycle (its spikes are not part of the run).
With event layers (:mod:`.event_layer`) the cycle ends on a handshake: the counter waits at
``cycle_clocks - 1`` until every event layer is ``done``, so a cycle takes the larger of
``cycle_clocks`` and their :func:`~.event_layer.layer_clocks`, and ``busy`` lasts at most
:attr:`Schedule.run_clocks`.
With a TAC layer (:class:`~scfpga.model.conv_tac.TACConvLayer`, :mod:`.conv_tac`) the run has
two rates: the encoder advances every SC cycle, while the TAC layer and every layer after it run
on a chunk-rate :class:`~.network_layer.CycleSignature` (its ``k`` counts chunks, its commit is
a chunk's last SC cycle's). The other SC cycles of a chunk only aggregate the input and last
:attr:`Schedule.short_clocks`.

Run interface (``sync`` domain):

* ``load``/``addr``/``data``: while idle, an edge with ``load = 1`` writes load word ``data`` at
  ``addr``: an input threshold (``0..2**width``), raster word or weight, as the network's
  :func:`load_map` says (:mod:`.network_loads`).
* ``start``: while idle, starts a run; ``busy`` is 1 for ``length * cycle_clocks`` clocks from
  the next one; ``done`` pulses for one clock when it falls.
* ``spikes<l>`` (l = 0 ..): layer l's spike vector of the SC cycle ``k`` shown on ``k``;
  ``cycle_start`` is 1 on each cycle's first clock.
* ``sel``: while idle, the output-layer neuron whose ``count`` and ``score`` appear one clock later.
"""
from dataclasses import dataclass

from amaranth.hdl import Cat, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..model.conv import ConvLayer
from ..model.conv_tac import TACConvLayer, network_chunk
from ..model.event_layer import EventLayer
from ..model.network import NetworkParams
from ..model.params import ParameterError
from . import neuron_types  # noqa: F401  (registers the update core of every neuron type)
from .conv_tac import TACLayerCore
from .neuron_types import update_latency
from .network_layer import (CycleSignature, DenseLayerCore, Encoder, InputBuffer, MapInput,
                            RasterInput, SpikeInput, WindowInput, is_window, state_word)
from .network_loads import LoadMap
from .event_layer import EventLayerCore, worst_clocks
from .recurrent_layer import check_position, input_vector, swept_inputs


@dataclass(frozen=True)
class LayerSchedule:
    """Clocks of one layer inside an SC cycle (module docstring)."""
    steps: int            # clocks of one sweep: ceil(n_terms / lanes)
    parallel: int         # neurons per pass (accumulators)
    passes: int           # ceil(n_neurons / parallel)
    pass_clocks: int      # max(steps, parallel + 1): the update of a pass overlaps the next
    last_update: int      # clock of the layer's last state write-back
    last_count: int       # neurons in the last pass
    rom_passes: int = 0   # weight-ROM passes: ``passes`` (dense), ``fold`` (conv), 1 (pool)
    delay: int = 0        # clocks before the first sweep step (waiting for an InputBuffer)
    encoder_rows: int = 0     # InputBuffer rows (a window layer reading the encoder)


@dataclass(frozen=True)
class Schedule:
    layers: tuple
    cycle_clocks: int
    length: int
    worst_clocks: int = 0     # event layers: the most clocks a cycle can take (0: none)
    chunk: int = 1            # a TAC layer's K: only every K-th SC cycle is a full one
    short_clocks: int = 0     # with K > 1: the clocks of the others (input aggregation only)

    @property
    def run_clocks(self):
        """Clocks ``busy`` stays high after the ``start`` clock (with event layers: at most;
        a cycle takes ``cycle_clocks`` or an event layer's
        :func:`~.event_layer.layer_clocks`, whichever is more; with a TAC layer only the last
        cycle of each chunk)."""
        full = self.length // self.chunk
        return full * max(self.cycle_clocks, self.worst_clocks) + \
            (self.length - full) * self.short_clocks


def schedule(params: NetworkParams):
    """The :class:`Schedule` of a network (validates ``params``)."""
    if not isinstance(params, NetworkParams):
        raise ParameterError("params must be a NetworkParams")
    layers, worst = [], 0
    _, chunk = network_chunk(params)
    for l, layer in enumerate(params.layers):
        check_position(layer, l)
        if isinstance(layer, TACConvLayer):
            layers.append(tac_schedule(params, l))
            continue
        if isinstance(layer, EventLayer):      # no sweep: a variable cycle, ended by ``done``
            if l == 0 or params.weight_memory != "rom":
                raise ParameterError(f"layer {l + 1}: an event layer must follow another layer "
                                     f"and keep its synapses in ROM (weight_memory 'rom')")
            layers.append(LayerSchedule(1, 1, 1, 1, 0, layer.n_neurons))
            worst = max(worst, worst_clocks(layer))
            continue
        steps = -(-layer.sweep_terms // layer.lanes)
        window = is_window(layer)
        # A window layer's pass serves out_channels / fold neurons of one position.
        parallel = -(-(layer.out_channels if window else layer.n_neurons) // layer.fold)
        passes = -(-layer.n_neurons // parallel)
        rom_passes = (layer.fold if isinstance(layer, ConvLayer) else 1) if window else passes
        pass_clocks = max(steps, parallel + 1)
        last_count = layer.n_neurons - (passes - 1) * parallel
        rows = -(-params.n_inputs // layer.lanes) if window and l == 0 else 0
        delay = rows + 1 if rows else 0        # the InputBuffer's last row written to block RAM
        # + the update core's pipeline (registered products, hdl.neuron_types)
        last = (delay + (passes - 1) * pass_clocks + steps + 3 + last_count
                + update_latency(layer.neuron))
        layers.append(LayerSchedule(steps, parallel, passes, pass_clocks, last, last_count,
                                    rom_passes, delay, rows))
    if chunk > 1 and worst:
        raise ParameterError("a network with a TAC layer cannot have event layers (their "
                             "cycles end on a handshake; the TAC network's are scheduled)")
    short = layers[0].delay + 1 if chunk > 1 else 0       # a TAC layer's aggregation
    return Schedule(tuple(layers), max(s.last_update for s in layers) + 2, params.length, worst,
                    chunk, short)


def tac_schedule(params, l):
    """The :class:`LayerSchedule` of a :class:`~scfpga.model.conv_tac.TACConvLayer` (layer 1,
    one lane, ``K`` dividing the run): every SC cycle the :class:`~.network_layer.InputBuffer`
    writes its rows (clocks 1 .. rows) and the engine (:class:`~.conv_tac.TACConvEngine`)
    folds each into its word one clock later, so the cycle's aggregation ends at clock
    ``delay = rows + 1`` (the ``step``); in a chunk's last cycle the sweep starts after it and
    each pass's currents leave one per clock into the neuron updates."""
    layer = params.layers[l]
    if l != 0 or layer.lanes != 1 or params.length % layer.chunk:
        raise ParameterError(f"layer {l + 1}: a TAC conv layer must be the first layer, with "
                             f"lanes = 1 and a chunk that divides length ({params.length}); "
                             f"got layer {l + 1}, lanes {layer.lanes}, chunk {layer.chunk}")
    steps = layer.sweep_terms
    parallel = layer.out_channels // layer.fold
    passes = layer.n_neurons // parallel
    pass_clocks = max(steps, parallel + 1)
    rows = params.n_inputs
    delay = rows + 1
    # sweep from delay + 1; a pass's currents leave at B + 1 .. B + P; U3 three clocks later
    last = (delay + 1 + (passes - 1) * pass_clocks + steps + parallel + 3
            + update_latency(layer.neuron))
    return LayerSchedule(steps, parallel, passes, pass_clocks, last, parallel, layer.fold,
                         delay, rows)


def load_map(params: NetworkParams):
    """The :class:`~.network_loads.LoadMap` of a network (what each load address means)."""
    return LoadMap(params, schedule(params))


class Network(wiring.Component):
    """A :class:`~scfpga.model.network.NetworkParams` network; see the module docstring.

    The design drives every layer's :class:`~.network_layer.CycleSignature` and joins each
    layer's fetch port to its source: the :class:`~.network_layer.Encoder` for layer 1, the
    previous layer's spikes (:class:`~.network_layer.SpikeInput`) after that.
    """

    def __init__(self, params: NetworkParams):
        self.schedule = schedule(params)
        self.params = params
        self.loads = LoadMap(params, self.schedule)
        p = params
        out = p.layers[-1]
        self.out_word = state_word(out, p.length)
        ports = {
            "load": In(1), "addr": In(range(max(2, self.loads.space))),
            "data": In(self.loads.data_bits),
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
            lines.append(f"layer {l + 1}: {layer.describe()}, "
                         f"{layer.lanes} lane(s), {ls.parallel} accumulators x {ls.passes} "
                         f"pass(es), {ls.steps} clocks per sweep, {type(layer.neuron).__name__}")
        return "\n".join(lines)

    def elaborate(self, platform):
        m = Module()
        p, sch = self.params, self.schedule
        C_ = sch.cycle_clocks
        cycle = CycleSignature(p.length).create()
        c = Signal(range(C_))
        last_cycle, ready, end = Signal(), Signal(), Signal()
        dones = []                       # event layers: the cycle ends when all are done
        # Fixed-schedule layers are done at clock C_ - 1; the cycle waits there for the rest.
        m.d.comb += [cycle.clear.eq(self.start & ~self.busy), cycle.busy.eq(self.busy),
                     cycle.k.eq(self.k), last_cycle.eq(self.k == p.length - 1),
                     cycle.commit.eq(end & ~last_cycle)]
        # A TAC layer (hdl.conv_tac): the SC cycles of a chunk but its last are short (the
        # input's aggregation only); the layers from it on run on the chunk's cycle signature.
        tac_at, K = network_chunk(p)
        chunks = p.length // K
        full = Signal(init=1)
        if K > 1:
            j = Signal(range(K))
            m.d.comb += [full.eq(j == K - 1),
                         end.eq(self.busy & Mux(full, c == C_ - 1, c == sch.short_clocks - 1)
                                & ready)]
            with m.If(cycle.clear):
                m.d.sync += j.eq(0)
            with m.Elif(cycle.commit):
                m.d.sync += j.eq(Mux(full, 0, j + 1))
        else:
            m.d.comb += end.eq(self.busy & (c == C_ - 1) & ready)
        chunk_cycle = cycle
        if K > 1:
            chunk_cycle = CycleSignature(chunks).create()
            kc = Signal(range(max(2, chunks)))
            m.d.comb += [chunk_cycle.clear.eq(cycle.clear), chunk_cycle.busy.eq(self.busy),
                         chunk_cycle.k.eq(kc), chunk_cycle.commit.eq(cycle.commit & full)]
            with m.If(cycle.clear):
                m.d.sync += kc.eq(0)
            with m.Elif(chunk_cycle.commit):
                m.d.sync += kc.eq(kc + 1)
        # A register, not busy & (c == 0): benches trigger on its edges, and a gate-level
        # netlist's combinational outputs may glitch at the clock edge.
        m.d.sync += [self.cycle_start.eq(cycle.clear | cycle.commit), self.done.eq(0)]
        with m.If(cycle.clear):
            m.d.sync += [self.busy.eq(1), c.eq(0), self.k.eq(0)]
        with m.Elif(self.busy):
            with m.If(c != C_ - 1):
                m.d.sync += c.eq(c + 1)
            with m.If(end):
                m.d.sync += c.eq(0)
                with m.If(last_cycle):
                    m.d.sync += [self.busy.eq(0), self.done.eq(1)]
                with m.Else():
                    m.d.sync += self.k.eq(self.k + 1)

        cores, prev = [], None
        loads = self.loads
        # A load is decoded into registered region enables and local addresses, so the host
        # engine's address logic with the region compares and a weight memory's address
        # multiplexer (SPRAM address setup is long) are separate paths. The memory write
        # lands on the next edge, the one that samples a ``start`` right after the load: the
        # run's first reads come after it.
        data_r = Signal.like(self.data)
        m.d.sync += data_r.eq(self.data)

        def decoded(region, name):
            """Registered (write enable, local address) of a region."""
            we, local = Signal(name=f"{name}_we"), Signal(region.bits, name=f"{name}_addr")
            m.d.sync += [we.eq(self.load & ~self.busy & region.hit(self.addr)),
                         local.eq(region.local(self.addr))]
            return we, local

        for l, (layer, ls) in enumerate(zip(p.layers, sch.layers)):
            if isinstance(layer, TACConvLayer):   # encoder -> InputBuffer -> the TAC engine
                core = TACLayerCore(p, l)
                make = RasterInput if p.encoding == "raster" else Encoder
                encoder = make(p, ls.encoder_rows, 1)
                buffer = InputBuffer(p, ls.encoder_rows, 1)
                m.submodules.encoder, m.submodules.input_buffer = encoder, buffer
                m.submodules[f"layer{l}"] = core
                we, local = decoded(loads.inputs, "inputs")
                m.d.comb += [encoder.load.eq(we), encoder.addr.eq(local),
                             encoder.data.eq(data_r)]
                wiring.connect(m, cycle, encoder.cycle, buffer.cycle)
                wiring.connect(m, buffer.fetch, encoder.fetch)
                wiring.connect(m, chunk_cycle, core.cycle)
                m.d.comb += [core.we.eq(buffer.we), core.waddr.eq(buffer.waddr),
                             core.wbit.eq(buffer.wdata), core.step.eq(self.busy & (c == ls.delay)),
                             getattr(self, f"spikes{l}").eq(core.spikes)]
                cores.append(core)
                prev = core
                continue
            lcycle, llength = (chunk_cycle, chunks) if tac_at is not None else (cycle, p.length)
            if isinstance(layer, EventLayer):    # address events from the previous layer
                core = EventLayerCore(p, l)
                m.submodules[f"layer{l}"] = core
                wiring.connect(m, lcycle, core.cycle)
                m.d.comb += [core.inputs.eq(prev.spikes),
                             getattr(self, f"spikes{l}").eq(core.spikes)]
                dones.append(core.done)
                cores.append(core)
                prev = core
                continue
            core = DenseLayerCore(p, l, ls, loads.layouts.get(l), llength)
            m.submodules[f"layer{l}"] = core
            if l in loads.weights:
                we, local = decoded(loads.weights[l], f"weights{l}")
                m.d.comb += [core.wload.eq(we), core.waddr.eq(local), core.wdata.eq(data_r)]
            if l in loads.thresholds:
                we, _ = decoded(loads.thresholds[l], f"threshold{l}")
                m.d.comb += [core.tload.eq(we), core.tdata.eq(data_r)]
            if l == 0:
                rows = ls.encoder_rows if is_window(layer) else ls.steps
                make = RasterInput if p.encoding == "raster" else Encoder
                encoder = make(p, rows, layer.lanes)
                we, local = decoded(loads.inputs, "inputs")
                m.d.comb += [encoder.load.eq(we), encoder.addr.eq(local),
                             encoder.data.eq(data_r)]
                if is_window(layer):         # swept into the window's map first
                    buffer = InputBuffer(p, rows, layer.lanes)
                    m.submodules.input_buffer = buffer
                    m.submodules.encoder = encoder
                    source = WindowInput(layer, ls, p.length, layer.lanes, double=False)
                    wiring.connect(m, cycle, core.cycle, encoder.cycle, buffer.cycle,
                                   source.cycle)
                    wiring.connect(m, buffer.fetch, encoder.fetch)
                    m.d.comb += [source.we.eq(buffer.we), source.waddr.eq(buffer.waddr),
                                 source.wdata.eq(buffer.wdata)]
                else:
                    source = encoder
                    wiring.connect(m, lcycle, core.cycle, source.cycle)
            else:
                if is_window(layer):         # the previous layer's spikes in block RAM
                    source = WindowInput(layer, ls, llength)
                    wiring.connect(m, lcycle, core.cycle, source.cycle)
                    m.d.comb += [source.we.eq(prev.out_we), source.waddr.eq(prev.out_addr),
                                 source.wdata.eq(prev.out_bit)]
                elif is_window(p.layers[l - 1]) and swept_inputs(layer) == layer.n_inputs:
                    # a dense layer after a map reads it from block RAM too (MapInput)
                    source = MapInput(layer.n_inputs, ls.steps, layer.lanes, llength)
                    wiring.connect(m, lcycle, core.cycle, source.cycle)
                    m.d.comb += [source.we.eq(prev.out_we), source.waddr.eq(prev.out_addr),
                                 source.wdata.eq(prev.out_bit)]
                else:
                    source = SpikeInput(swept_inputs(layer), ls.steps, layer.lanes)
                    m.d.comb += source.spikes.eq(input_vector(layer, prev, core))
                    wiring.connect(m, lcycle, core.cycle)
            m.submodules[f"input{l}"] = source
            wiring.connect(m, core.fetch, source.fetch)
            m.d.comb += getattr(self, f"spikes{l}").eq(core.spikes)
            cores.append(core)
            prev = core
        m.d.comb += ready.eq(Cat(*dones).all() if dones else 1)
        m.d.comb += [cores[-1].sel.eq(self.sel), self.count.eq(cores[-1].count),
                     self.score.eq(cores[-1].score)]
        return m
