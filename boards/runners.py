"""Runnable adapters for primitive blocks (semantics and golden results: :mod:`.designs`)."""
from amaranth.hdl import Module, ResetInserter, Signal

from ..hdl.lif import LIF
from ..hdl.mux import Mux
from ..hdl.sng import SNG
from ..hdl.synapse import Synapse
from ..model.sng import SNGParams
from .designs import BlockDesign
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
    (:attr:`BlockDesign.run_cycles`).

    Parameters
    ----------
    design : BlockDesign
    """

    def __init__(self, design: BlockDesign):
        self.design = design
        super().__init__(n_loads=design.n_loads, n_results=design.n_results, length=design.length,
                         design_id=design.design_id, result_latency=1)

    def elaborate(self, platform):
        m = Module()
        d = self.design
        m.submodules.timer = timer = RunTimer(d.run_cycles)
        m.d.comb += [timer.start.eq(self.start), self.busy.eq(timer.busy)]

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
        if d.block == "sng":
            en = timer.busy
            run.submodules.sng = sng = SNG(SNGParams(d.params.source))
            run.d.comb += [sng.en.eq(en), sng.prob.eq(loads[0])]
            block, out = sng, sng.bit
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
            block, out = self._block(run, bits, en)

        ones = Signal(d.length.bit_length())
        with run.If(en):
            run.d.sync += ones.eq(ones + out)
        results = [ones]
        if d.block == "lif":
            v_last = Signal.like(block.v, name="v_last")
            with run.If(timer.last):
                run.d.sync += v_last.eq(block.v)
            results.append(v_last)
        with m.Switch(self.result_addr):
            for i, value in enumerate(results):
                with m.Case(i):
                    m.d.sync += self.result_data.eq(value)     # a signed result sign-extends
            with m.Default():
                m.d.sync += self.result_data.eq(0)
        return m

    def _block(self, run, bits, en):
        d = self.design
        if d.block in ("and", "xnor"):
            run.submodules.block = block = Synapse(d.params)
            run.d.comb += [block.a.eq(bits[0]), block.b.eq(bits[1])]
            return block, block.bit
        component = Mux if d.block == "mux" else LIF
        run.submodules.block = block = component(d.params)
        run.d.comb += [block.en.eq(en)] + [block.inputs[i].eq(b) for i, b in enumerate(bits)]
        return block, (block.bit if d.block == "mux" else block.spike)
