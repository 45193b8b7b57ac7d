"""Runnable adapters for primitive blocks (semantics and golden results: :mod:`.designs`)."""
from amaranth.hdl import Module, ResetInserter, Signal

from ..hdl.counter import Counter
from ..hdl.lif import LIF
from ..hdl.lfsr import LFSR
from ..hdl.mux import Mux
from ..hdl.sng import SNG
from ..hdl.sobol import Sobol
from ..hdl.synapse import Synapse
from ..model.sng import SNGParams
from .protocol import RESULT_WIDTH
from .runnable import Runnable, RunTimer


class BlockRunner(Runnable):
    """A primitive block behind the runnable contract (:mod:`.runnable`).

    Load i is the threshold register of SNG i (the block's own SNG for ``sng``); registers keep
    their value across runs. ``start`` resets every source, SNG, the block and the counters
    (``ResetInserter``), then the sources run for ``length`` cycles while the output's ones
    are counted. ``result_data`` is registered: ``result_latency = 1``.

    A block with inputs gets its input bits through a register, one cycle late: the SNG
    comparators then no longer sit in front of the block's own logic (for a LIF that halves
    the critical path). The block's ``en`` and the counting are delayed to match, so the
    results are unchanged and a run is ``busy`` for ``length + 1`` cycles
    (:attr:`BlockDesign.run_cycles`). A ``counter`` stays ``busy`` one cycle more, so that the
    ``done`` of a window closed by the last bit is counted before the results are read.

    ``lfsr`` and ``sobol`` run the source itself for ``length`` cycles; load 0 is the run
    cycle whose ``value`` is captured (see :mod:`.designs` for all results).

    Parameters
    ----------
    design : scfpga.boards.designs.BlockDesign
    """

    def __init__(self, design):
        self.design = design
        super().__init__(n_loads=design.n_loads, n_results=design.n_results, length=design.length,
                         design_id=design.design_id, result_latency=1)

    def elaborate(self, platform):
        m = Module()
        d = self.design
        # A counter's run ends with one idle "drain" cycle (see the class docstring).
        m.submodules.timer = timer = RunTimer(d.run_cycles - (d.block == "counter"))
        drain = Signal()
        if d.block == "counter":
            m.d.sync += drain.eq(timer.last)
        m.d.comb += [timer.start.eq(self.start & ~drain), self.busy.eq(timer.busy | drain)]

        init = d.params.prob if d.block == "sng" and d.params.prob is not None else 0
        loads = [Signal(d.load_width + 1, name=f"load{i}", init=init) for i in range(d.n_loads)]
        with m.If(self.load_we):
            with m.Switch(self.load_addr):
                for i, reg in enumerate(loads):
                    with m.Case(i):
                        m.d.sync += reg.eq(self.load_data)

        # Everything that evolves during a run restarts with it; the load registers do not.
        run = Module()
        m.submodules.run = ResetInserter(timer.restart)(run)
        if d.is_source:
            results = self._source(run, timer, loads[0])
        elif d.block == "sng":
            en = timer.busy
            run.submodules.sng = sng = SNG(SNGParams(d.params.source))
            run.d.comb += [sng.en.eq(en), sng.prob.eq(loads[0])]
            results = [self._count_ones(run, en, sng.bit)]
        else:
            # Run cycles 0..length-1 make input bits k; the block sees bit k in cycle k + 1.
            en_in = timer.busy & ~timer.last
            en = timer.busy & ~timer.first
            bits = []
            for i, source in enumerate(d.input_sources()):
                sng = SNG(SNGParams(source))
                run.submodules[f"in{i}"] = sng
                run.d.comb += [sng.en.eq(en_in), sng.prob.eq(loads[i])]
                bit = Signal(name=f"bit{i}")
                run.d.sync += bit.eq(sng.bit)
                bits.append(bit)
            results = self._block(run, timer, bits, en)

        self.add_result_mux(m, results)
        return m

    def _count_ones(self, run, en, out):
        ones = Signal(self.design.length.bit_length())
        with run.If(en):
            run.d.sync += ones.eq(ones + out)
        return ones

    def _source(self, run, timer, index):
        """``lfsr``/``sobol``: value in run cycle ``index``, in the last cycle, and the sum."""
        d = self.design
        run.submodules.source = source = (LFSR if d.block == "lfsr" else Sobol)(d.params)
        run.d.comb += source.en.eq(timer.busy)
        cycle = Signal(range(d.length + 1))
        # Not Signal.like: that would copy the LFSR's init (the seed) as the reset value.
        sample = Signal(d.params.width, name="sample")
        last = Signal(d.params.width, name="last")
        total = Signal(RESULT_WIDTH)                  # wraps: the sum mod 2**32
        with run.If(timer.busy):
            run.d.sync += [cycle.eq(cycle + 1), total.eq(total + source.value)]
            # An index past the run never matches: sample keeps its reset value 0.
            with run.If(cycle == index):
                run.d.sync += sample.eq(source.value)
        with run.If(timer.last):
            run.d.sync += last.eq(source.value)
        return [sample, last, total]

    def _block(self, run, timer, bits, en):
        d = self.design
        if d.block == "counter":
            run.submodules.block = block = Counter(d.params)
            run.d.comb += [block.en.eq(en), block.bit.eq(bits[0])]
            # Counted whenever it pulses: the last one falls in the drain cycle after the run.
            windows = Signal(range(d.length // d.params.window + 1))
            with run.If(block.done):
                run.d.sync += windows.eq(windows + 1)
            return [block.count, windows]
        if d.block in ("and", "xnor"):
            run.submodules.block = block = Synapse(d.params)
            run.d.comb += [block.a.eq(bits[0]), block.b.eq(bits[1])]
            return [self._count_ones(run, en, block.bit)]
        component = Mux if d.block == "mux" else LIF
        run.submodules.block = block = component(d.params)
        run.d.comb += [block.en.eq(en)] + [block.inputs[i].eq(b) for i, b in enumerate(bits)]
        if d.block == "mux":
            return [self._count_ones(run, en, block.bit)]
        v_last = Signal.like(block.v, name="v_last")
        with run.If(timer.last):
            run.d.sync += v_last.eq(block.v)
        return [self._count_ones(run, en, block.spike), v_last]
