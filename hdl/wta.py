"""k-winner-take-all generator (semantics and tie rule: :mod:`scfpga.model.wta`).

One clock: every pair ``(i, j)`` has a comparator deciding whether ``j`` beats ``i`` (greater,
or equal with ``j < i``); element ``i``'s rank is the popcount of its ``n - 1`` comparisons and it
wins iff the rank is below ``k``. Ports are flat, one per element (``x<i>``, ``y<i>``).

* ``en``: the edge with ``en = 1`` registers the result for the current ``x<i>``.
* ``winners``: the winner mask, bit ``i`` for element ``i`` (registered).
* ``y<i>``: ``x<i>`` if it won, else 0 (registered).
"""
from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..model.wta import WTAParams


def beats(x, i, j):
    """1 when element ``j`` beats element ``i`` (the shared tie rule: lower index wins)."""
    return (x[j] > x[i]) | (x[j] == x[i]) if j < i else x[j] > x[i]


def popcount(bits):
    """Sum of 1-bit values as a balanced adder tree."""
    bits = list(bits)
    if not bits:
        return 0
    while len(bits) > 1:
        bits = [bits[a] + bits[a + 1] if a + 1 < len(bits) else bits[a]
                for a in range(0, len(bits), 2)]
    return bits[0]


def winner_mask(m, x, k):
    """Combinational winner bits (a list of 1-bit signals) of the values ``x``."""
    n = len(x)
    win = []
    for i in range(n):
        rank = Signal(range(n), name=f"rank{i}")
        m.d.comb += rank.eq(popcount(beats(x, i, j) for j in range(n) if j != i))
        w = Signal(name=f"win{i}")
        m.d.comb += w.eq(rank < k)
        win.append(w)
    return win


class WTA(wiring.Component):
    """k-WTA over ``n`` unsigned ``width``-bit values, registered outputs.

    Parameters
    ----------
    params : WTAParams

    Attributes
    ----------
    en : Signal, in
        Register the result of the current inputs.
    x0 .. x{n-1} : Signal(width), in
        The competing values.
    winners : Signal(n), out
        Winner mask.
    y0 .. y{n-1} : Signal(width), out
        The value where it won, else 0.
    """

    def __init__(self, params: WTAParams):
        self.params = params
        members = {"en": In(1)}
        members.update({f"x{i}": In(params.width) for i in range(params.n)})
        members["winners"] = Out(params.n)
        members.update({f"y{i}": Out(params.width) for i in range(params.n)})
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        p = self.params
        x = [getattr(self, f"x{i}") for i in range(p.n)]
        win = winner_mask(m, x, p.k)
        with m.If(self.en):
            for i in range(p.n):
                m.d.sync += [self.winners[i].eq(win[i]),
                             getattr(self, f"y{i}").eq(Mux(win[i], x[i], 0))]
        return m
