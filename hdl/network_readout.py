"""The k-WTA readout of a network design (semantics and tie rule: :mod:`scfpga.model.readout`).

:class:`ReadoutNetwork` is a :class:`~.network.Network` with the same ports plus ``winners``
(bit ``i``: output neuron ``i`` won). When the run ends it reads every output neuron's count or
score through the network's result port (``sel`` -> value one clock later), keeps them in
registers and registers :func:`~.wta.winner_mask` of them: ``n + 2`` clocks after the network's
last SC cycle, during which ``busy`` stays 1, so a run's ``done`` means the winners are shown.
A score competes as ``score + 2**(bits - 1)``: its two's complement with the sign bit inverted.
"""
from amaranth.hdl import Cat, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import Out

from .network import Network
from .wta import winner_mask


def network_top(params):
    """The design of ``params``: a :class:`ReadoutNetwork` if it has a readout."""
    return Network(params) if params.readout is None else ReadoutNetwork(params)


class ReadoutNetwork(wiring.Component):
    """A network with a k-WTA readout (module docstring)."""

    def __init__(self, params):
        self.params = params
        self.network = Network(params)
        self.schedule, self.loads = self.network.schedule, self.network.loads
        members = dict(self.network.signature.members.items())
        members["winners"] = Out(params.layers[-1].n_neurons)
        super().__init__(members)

    def describe(self):
        return f"{self.network.describe()}\nreadout: {self.params.readout.describe()}"

    def elaborate(self, platform):
        m = Module()
        p, net = self.params, self.network
        m.submodules.network = net
        out = p.layers[-1]
        n, readout = out.n_neurons, p.readout
        bits = readout.wta(out, p.length).width
        m.d.comb += [net.load.eq(self.load), net.addr.eq(self.addr), net.data.eq(self.data),
                     net.start.eq(self.start), self.k.eq(net.k),
                     self.cycle_start.eq(net.cycle_start), self.count.eq(net.count),
                     self.score.eq(net.score)]
        for l in range(len(p.layers)):
            m.d.comb += getattr(self, f"spikes{l}").eq(getattr(net, f"spikes{l}"))

        scanning = Signal()
        idx = Signal(range(n + 2))
        cap_valid, cap_j = Signal(), Signal(range(n + 2))
        value = Signal(bits)
        if readout.over == "counts":
            m.d.comb += value.eq(net.count)
        else:                                      # order-preserving offset of a signed score
            m.d.comb += value.eq(Cat(net.score[:-1], ~net.score[-1]))
        vals = [Signal(bits, name=f"value{j}") for j in range(n)]
        m.d.comb += [net.sel.eq(Mux(scanning, idx, self.sel)),
                     self.busy.eq(net.busy | net.done | scanning)]
        m.d.sync += [cap_valid.eq(scanning & (idx < n)), cap_j.eq(idx), self.done.eq(0)]
        for j, v in enumerate(vals):
            with m.If(cap_valid & (cap_j == j)):
                m.d.sync += v.eq(value)
        win = winner_mask(m, vals, readout.k)
        with m.If(net.done):
            m.d.sync += [scanning.eq(1), idx.eq(0)]
        with m.Elif(scanning):
            m.d.sync += idx.eq(idx + 1)
            with m.If(idx == n + 1):           # every value registered: show the winners
                m.d.sync += [scanning.eq(0), self.done.eq(1), self.winners.eq(Cat(*win))]
        return m
