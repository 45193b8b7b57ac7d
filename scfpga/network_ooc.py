"""Out-of-context cost builds of a whole network (:class:`scfpga.hdl.network.Network`).

The network's ports (threshold write port, neuron select, score, count, one spike bit per neuron
of every layer) need more IO than an UP5K SG48 has. :class:`NetworkSerialWrapper` does what
:class:`scfpga.ooc.SerialWrapper` does for a dense layer: the threshold writes are shifted in
serially (one data pin) and the wide outputs are XOR-reduced to single pins; every reduction
depends on every bit, so synthesis cannot optimise any of the network away. Used by
``scripts/network_cost.py``.
"""
from amaranth.hdl import Cat, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .hdl.network import Network
from .hdl.verilog import to_verilog

NETWORK_TOP = "network_ooc"


class NetworkSerialWrapper(wiring.Component):
    """The network behind few pins: serial threshold loading, XOR-reduced outputs.

    Parameters
    ----------
    network : scfpga.hdl.network.Network
        The network to wrap (becomes submodule ``network``).
    """

    def __init__(self, network):
        self.network = network
        self.word_bits = len(network.addr) + len(network.data)
        super().__init__({
            "sin": In(1), "shift": In(1), "load": In(1), "start": In(1),
            "sel": In(len(network.sel)), "busy": Out(1), "done": Out(1), "cycle_start": Out(1),
            "spike_x": Out(1), "score_x": Out(1), "count_x": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.network = n = self.network
        word = Signal(self.word_bits)
        with m.If(self.shift):
            m.d.sync += word.eq(Cat(word[1:], self.sin))
        spikes = Cat(*(getattr(n, f"spikes{l}") for l in range(len(n.params.layers))))
        m.d.comb += [
            n.addr.eq(word[:len(n.addr)]), n.data.eq(word[len(n.addr):]),
            n.load.eq(self.load), n.start.eq(self.start), n.sel.eq(self.sel),
            self.busy.eq(n.busy), self.done.eq(n.done), self.cycle_start.eq(n.cycle_start),
            self.spike_x.eq(spikes.xor()), self.score_x.eq(n.score.as_unsigned().xor()),
            self.count_x.eq(n.count.xor()),
        ]
        return m


def clocks_per_inference(network):
    """Clocks for one inference: ``n_inputs`` threshold writes (one per clock through the
    network's parallel port; the serial shifting is a measurement aid, not counted) plus the
    run, :attr:`scfpga.hdl.network.Schedule.run_clocks`."""
    return network.params.n_inputs + network.schedule.run_clocks


def network_ooc_verilog(params, top=NETWORK_TOP):
    """Verilog of ``Network(params)`` inside :class:`NetworkSerialWrapper`, and the network.

    Returns
    -------
    verilog : str
    network : scfpga.hdl.network.Network
        The wrapped network (for its :attr:`~Network.schedule` and :meth:`~Network.describe`).
    """
    network = Network(params)
    return to_verilog(NetworkSerialWrapper(network), top), network
