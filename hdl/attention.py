"""Stochastic attention generator (semantics and source rule: :mod:`scfpga.model.attention`).

Datapath per cycle: three sources (``R_q``, ``R_k``, ``R_v``); one comparator per element of
Q, K and V against its operand's source; per (query i, key j) ``dim_k`` AND gates and a popcount
``p_ij``; per query ``den_i += sum_j p_ij`` and ``num_iv += sum_j (v_jv ? p_ij : 0)``. No
multiplier and no divider: the reader divides ``num`` by ``den``.

Run interface (``sync`` domain):

* ``start``: an edge with ``start = 1`` while idle captures every threshold port (``q<i>_<d>``,
  ``k<j>_<d>``, ``v<j>_<e>``, ``0..2**width``) into registers, restarts the sources at element
  0, clears the counts and raises ``busy``. Threshold ports are ignored at any other time.
* ``en``: while busy each edge with ``en = 1`` consumes one cycle; the edge that consumes cycle
  ``length - 1`` drops ``busy`` and raises ``done`` for one cycle.
* ``den<i>``, ``num<i>_<e>``: the counts so far in the run, held after it until the next start.
"""
from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import Out

from ..model.attention import AttentionParams
from .run_control import run_members, run_sources
from .wta import popcount


def threshold_ports(params):
    """Names of the threshold input ports, Q then K then V, row-major."""
    return ([f"q{i}_{d}" for i in range(params.n_q) for d in range(params.dim_k)] +
            [f"k{j}_{d}" for j in range(params.n_k) for d in range(params.dim_k)] +
            [f"v{j}_{e}" for j in range(params.n_k) for e in range(params.dim_v)])


def count_ports(params):
    return ([f"den{i}" for i in range(params.n_q)] +
            [f"num{i}_{e}" for i in range(params.n_q) for e in range(params.dim_v)])


class Attention(wiring.Component):
    """Row-sum normalised attention on bitstreams: integer ``num``/``den`` counts per run.

    Parameters
    ----------
    params : AttentionParams

    Attributes
    ----------
    start, en : Signal, in
        Start a run (while idle, capturing the thresholds); consume one cycle (while busy).
    q<i>_<d>, k<j>_<d>, v<j>_<e> : Signal(width + 1), in
        SNG thresholds of Q, K, V.
    busy, done : Signal, out
    den<i>, num<i>_<e> : Signal(count_width), out
    """

    def __init__(self, params: AttentionParams):
        self.params = params
        members = run_members(threshold_ports(params), params.width)
        members.update({name: Out(params.count_width) for name in count_ports(params)})
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        p = self.params
        restart, step = Signal(), Signal()
        m.d.comb += [restart.eq(self.start & ~self.busy), step.eq(self.busy & self.en)]
        src = run_sources(m, ("src_q", "src_k", "src_v"), p.sources, restart, step)

        bit = {}
        for name, which in [(n, "qkv".index(n[0])) for n in threshold_ports(p)]:
            reg = Signal(p.width + 1, name=f"t_{name}")
            with m.If(restart):
                m.d.sync += reg.eq(getattr(self, name))
            bit[name] = src[which] < reg

        dens = [getattr(self, f"den{i}") for i in range(p.n_q)]
        m.d.sync += self.done.eq(0)
        remaining = Signal(range(p.length + 1))
        with m.If(restart):
            m.d.sync += [self.busy.eq(1), remaining.eq(p.length)]
            m.d.sync += [getattr(self, n).eq(0) for n in count_ports(p)]
        with m.Elif(step):
            m.d.sync += remaining.eq(remaining - 1)
            with m.If(remaining == 1):
                m.d.sync += [self.busy.eq(0), self.done.eq(1)]
            for i in range(p.n_q):
                prods = []
                for j in range(p.n_k):
                    pij = Signal(range(p.dim_k + 1), name=f"p{i}_{j}")
                    m.d.comb += pij.eq(popcount(bit[f"q{i}_{d}"] & bit[f"k{j}_{d}"]
                                                for d in range(p.dim_k)))
                    prods.append(pij)
                m.d.sync += dens[i].eq(dens[i] + sum(prods))
                for e in range(p.dim_v):
                    num = getattr(self, f"num{i}_{e}")
                    m.d.sync += num.eq(num + sum(Mux(bit[f"v{j}_{e}"], prods[j], 0)
                                                 for j in range(p.n_k)))
        return m
