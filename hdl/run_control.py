"""The run interface of layers that work in runs of ``length`` enabled cycles.

* ``start``: an edge with ``start = 1`` while idle begins a run (``restart`` is high during
  that cycle: the layer captures its inputs and clears its counts) and raises ``busy``.
* ``en``: while busy each edge with ``en = 1`` consumes one cycle (``step``); the edge that
  consumes cycle ``length - 1`` (``last``) drops ``busy`` and raises ``done`` for one cycle.
"""
from amaranth.hdl import ResetInserter, Signal
from amaranth.lib.wiring import In, Out

from .sources import make_source


def run_members(thresholds, width):
    """Signature members of the run interface with threshold inputs: ``start``, ``en``, one
    ``In(width + 1)`` (thresholds ``0..2**width``, captured at ``start``) per name in
    ``thresholds``, ``busy``, ``done``; the layer adds its outputs after them."""
    members = {"start": In(1), "en": In(1)}
    members.update({name: In(width + 1) for name in thresholds})
    members.update({"busy": Out(1), "done": Out(1)})
    return members


def run_control(m, start, en, busy, done, length):
    """Add the run state machine to ``m``; returns the 1-bit signals ``(restart, step, last)``."""
    restart, step, last = Signal(), Signal(), Signal()
    remaining = Signal(range(length + 1))
    m.d.comb += [restart.eq(start & ~busy), step.eq(busy & en), last.eq(step & (remaining == 1))]
    m.d.sync += done.eq(0)
    with m.If(restart):
        m.d.sync += [busy.eq(1), remaining.eq(length)]
    with m.Elif(step):
        m.d.sync += remaining.eq(remaining - 1)
        with m.If(last):
            m.d.sync += [busy.eq(0), done.eq(1)]
    return restart, step, last


def run_sources(m, names, params, restart, step):
    """Add one source per parameter object as submodule ``names[k]``, back at element 0 on
    every ``restart`` (as the model restarts its sequences every run) and advanced by ``step``;
    returns their ``value`` signals in order."""
    values = []
    for name, sp in zip(names, params, strict=True):
        s = make_source(sp)
        m.submodules[name] = ResetInserter(restart)(s)
        m.d.comb += s.en.eq(step)
        values.append(s.value)
    return values
