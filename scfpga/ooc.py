"""Out-of-context cost builds: a block behind few enough pins to place on a small package.

A dense layer's ports (threshold write port, neuron select, score, count, one spike bit per
neuron) need far more IO than an UP5K SG48 has, and nextpnr refuses a design with more top-level
ports than package pins. :class:`SerialWrapper` shifts the threshold writes in serially (one
data pin) and XOR-reduces the wide outputs to single pins; every reduction depends on every bit,
so synthesis cannot optimise any of the layer away. Used by ``scripts/dense_cost.py`` and the
``dense`` sweep evaluator (:func:`scfpga.evaluators.evaluate_dense`).
"""
from amaranth.hdl import Cat, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .hdl.dense import Dense
from .hdl.verilog import to_verilog

DENSE_TOP = "dense_ooc"


class SerialWrapper(wiring.Component):
    """The layer behind few pins: serial threshold loading, XOR-reduced outputs.

    Parameters
    ----------
    dense : scfpga.hdl.dense.Dense
        The layer to wrap (becomes submodule ``dense``).
    """

    def __init__(self, dense):
        self.dense = dense
        self.word_bits = len(dense.addr) + len(dense.data)
        super().__init__({
            "sin": In(1), "shift": In(1), "load": In(1), "start": In(1), "en": In(1),
            "sel": In(len(dense.sel)), "busy": Out(1), "done": Out(1), "spike_x": Out(1),
            "spike_valid": Out(1), "score_x": Out(1), "count_x": Out(1),
        })
        self.n_neurons = dense.params.n_neurons

    def elaborate(self, platform):
        m = Module()
        m.submodules.dense = d = self.dense
        word = Signal(self.word_bits)
        with m.If(self.shift):
            m.d.sync += word.eq(Cat(word[1:], self.sin))
        m.d.comb += [
            d.addr.eq(word[:len(d.addr)]), d.data.eq(word[len(d.addr):]),
            d.load.eq(self.load), d.start.eq(self.start), d.en.eq(self.en), d.sel.eq(self.sel),
            self.busy.eq(d.busy), self.done.eq(d.done), self.spike_valid.eq(d.spike_valid),
            self.spike_x.eq(d.spike.xor()), self.score_x.eq(d.score.as_unsigned().xor()),
            self.count_x.eq(d.count.xor()),
        ]
        return m


def clocks_per_inference(dense):
    """Clocks for one inference: ``n_inputs`` threshold writes (one per clock through the
    layer's parallel port; the serial shifting is a measurement aid, not counted) plus
    :attr:`Dense.clocks_per_run`."""
    return dense.clocks_per_run + dense.params.n_inputs


def dense_ooc_verilog(params, lanes=1, top=DENSE_TOP):
    """Verilog of ``Dense(params, lanes)`` inside :class:`SerialWrapper`, and the layer.

    Returns
    -------
    verilog : str
    dense : scfpga.hdl.dense.Dense
        The wrapped layer (for :attr:`~Dense.clocks_per_run`, :meth:`~Dense.describe`).
    """
    dense = Dense(params, lanes)
    return to_verilog(SerialWrapper(dense), top), dense
