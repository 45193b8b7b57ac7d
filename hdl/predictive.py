"""Predictive-coding generator (semantics, streams and update rule: :mod:`scfpga.model.predictive`).

Datapath per cycle: the sources ``R_a`` and ``R_p`` (one when ``streams = "shared"``); one
comparator per input against ``R_a`` and per weight against ``R_p`` (the weight's top ``width +
1`` bits); one XOR per (neuron, input); per neuron a popcount of its XORs into ``err<j>``; per
input a ones counter. On the run's last edge every weight takes its update,
``w + ((lr (tgt - w)) >> lr_shift)`` with ``tgt`` the input's full count shifted up: one
constant multiplier per weight, no divider.

Run interface: :mod:`.run_control` (``start`` captures the ``x<i>`` thresholds, ``0..2**width``).
``err<j>`` are the counts so far in the run, held after it; ``w<j>_<i>`` the weight registers
(initial values at reset, units ``2**-(width + frac)``).
"""
from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import Out

from ..model.predictive import PredictiveParams
from .run_control import run_control, run_members, run_sources
from .wta import popcount


class Predictive(wiring.Component):
    """XOR prediction errors and the fixed-point prediction update, one run per step.

    Attributes
    ----------
    start, en : Signal, in
    x<i> : Signal(width + 1), in
        Input thresholds, captured at ``start``.
    busy, done : Signal, out
    err<j> : Signal(error_width), out
        Neuron j's XOR popcount over its inputs so far in the run.
    w<j>_<i> : Signal(width + frac + 1), out
        Prediction weights (registered; updated on the run's last edge).
    """

    def __init__(self, params: PredictiveParams):
        self.params = p = params
        members = run_members([f"x{i}" for i in range(p.n_inputs)], p.width)
        members.update({f"err{j}": Out(p.error_width) for j in range(p.n_neurons)})
        members.update({f"w{j}_{i}": Out(p.weight_bits + 1, init=p.weights[j][i])
                        for j in range(p.n_neurons) for i in range(p.n_inputs)})
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        p = self.params
        restart, step, last = run_control(m, self.start, self.en, self.busy, self.done, p.length)
        n_src = 1 if p.streams == "shared" else 2
        values = run_sources(m, ("src_a", "src_p")[:n_src], p.sources[:n_src], restart, step)
        r_a, r_p = values[0], values[-1]

        a = []
        for i in range(p.n_inputs):
            reg = Signal(p.width + 1, name=f"t_x{i}")
            ones = Signal(p.log_length + 1, name=f"ones{i}")
            bit = Signal(name=f"a{i}")
            m.d.comb += bit.eq(r_a < reg)
            with m.If(restart):
                m.d.sync += [reg.eq(getattr(self, f"x{i}")), ones.eq(0)]
            with m.Elif(step):
                m.d.sync += ones.eq(ones + bit)
            a.append((bit, ones))

        for j in range(p.n_neurons):
            err = getattr(self, f"err{j}")
            xors = []
            for i, (bit, ones) in enumerate(a):
                w = getattr(self, f"w{j}_{i}")
                xors.append(bit ^ (r_p < w[p.frac:]))
                # the update: the target includes this last cycle's bit
                target = Signal(p.weight_bits + 1, name=f"tgt{j}_{i}")
                m.d.comb += target.eq((ones + bit) << (p.weight_bits - p.log_length))
                delta = Signal.like(target - w, name=f"dw{j}_{i}")
                m.d.comb += delta.eq(target - w)
                with m.If(last):
                    m.d.sync += w.eq(w + ((delta * p.lr) >> p.lr_shift))
            with m.If(restart):
                m.d.sync += err.eq(0)
            with m.Elif(step):
                m.d.sync += err.eq(err + popcount(xors))
        return m
