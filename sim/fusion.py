"""Fusion bench: threshold loads, runs with random ``en``, ignored writes and starts while busy.

:func:`make_case` builds a schedule of runs. Before each run a load phase writes random
thresholds (all registers before the first run, a random subset later, so registers must hold
their values), with idle gaps; ``start`` may coincide with the last write (that write must be
visible in the run). During a run ``en`` pauses at random, and ``load`` with junk ``addr``/``data``
and ``start`` pulses are applied: the hardware must ignore both. Expected values per cycle come
from :func:`scfpga.model.fusion.fusion_bits` of each run's thresholds.

The generic cosim compares int64 ports, so :class:`FusionProbe` exposes element j's bit and
count as ports ``bit<j>`` and ``count<j>``: a mismatch report then names the element.
"""
import numpy as np
from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..hdl.fusion import Fusion
from ..model.fusion import FusionParams, fusion_bits
from ..model.params import ParameterError
from .timeline import enabled_index, random_enable

INPUTS = ("start", "en", "load", "addr", "data")


class FusionProbe(wiring.Component):
    """:class:`~scfpga.hdl.fusion.Fusion` with one ``bit<j>`` and ``count<j>`` port per element."""

    def __init__(self, params: FusionParams):
        self.params = params
        self.fusion = Fusion(params)
        members = {name: In(self.fusion.signature.members[name].shape) for name in INPUTS}
        members.update({f"bit{j}": Out(1) for j in range(params.dim)})
        members.update({f"count{j}": Out(params.count_width) for j in range(params.dim)})
        members.update({"busy": Out(1), "done": Out(1)})
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        m.submodules.fusion = f = self.fusion
        m.d.comb += [getattr(f, name).eq(getattr(self, name)) for name in INPUTS]
        m.d.comb += [self.busy.eq(f.busy), self.done.eq(f.done)]
        width = self.params.count_width
        for j in range(self.params.dim):
            m.d.comb += [getattr(self, f"bit{j}").eq(f.bits[j]),
                         getattr(self, f"count{j}").eq(f.counts.word_select(j, width))]
        return m


def dut(params: FusionParams):
    """The component :func:`make_case` is written for (its ports are the expected keys)."""
    return FusionProbe(params)


def default_cycles(params: FusionParams):
    """Co-simulated cycles when none are asked for: room for about three runs with loads."""
    return 3 * (params.length + params.n_modalities * params.dim + 24)


def _random_thresholds(params, rng):
    top = 1 << params.width
    probs = rng.integers(0, top + 1, size=(params.n_modalities, params.dim))
    extremes = rng.random(probs.shape) < 0.1                  # 0 and 2**width: the edge cases
    probs[extremes] = rng.choice([0, top], size=int(extremes.sum()))
    return probs


def _load_phase(params, rng, regs, first):
    """Writes for one load phase, ending in the ``start`` cycle; updates ``regs`` in place."""
    n_regs = params.n_modalities * params.dim
    new = _random_thresholds(params, rng).reshape(-1)
    addrs = rng.permutation(n_regs) if first else rng.choice(n_regs, rng.integers(0, n_regs + 1),
                                                              replace=False)
    rows = []
    for a in addrs:
        while rng.random() < 0.2:                             # idle gap: junk, no load
            rows.append((0, int(rng.integers(0, 2)), 0, int(rng.integers(0, n_regs)), 0))
        rows.append((0, int(rng.integers(0, 2)), 1, int(a), int(new[a])))
        regs[a] = new[a]
    if rows and rng.random() < 0.5:                           # start on the same edge as the last write
        rows[-1] = (1,) + rows[-1][1:]
    else:
        rows.append((1, int(rng.integers(0, 2)), 0, 0, 0))
    return rows


def _run_phase(params, rng, p_on):
    """Stimulus rows of one run: exactly ``length`` enabled cycles, junk writes and starts."""
    en = np.zeros(0, np.int64)
    while en.sum() < params.length:
        en = np.concatenate([en, random_enable(rng, 2 * params.length + 8, p_on)])
    en = en[:int(np.searchsorted(np.cumsum(en), params.length)) + 1]
    n = en.size
    junk_load = (rng.random(n) < 0.3).astype(np.int64)
    junk_start = (rng.random(n) < 0.1).astype(np.int64)
    addr = rng.integers(0, params.n_modalities * params.dim, size=n)
    value = rng.integers(0, (1 << params.width) + 1, size=n)
    return np.stack([junk_start, en, junk_load, addr, value], axis=1)


def make_case(params: FusionParams, cycles, rng, p_on=0.85):
    """Stimulus and expected outputs (ports of :class:`FusionProbe`) for ``cycles`` cycles.

    As many complete runs as fit are scheduled (at least one: ``cycles`` must allow it), then
    idle cycles. Raises :class:`ParameterError` if not even one run fits.
    """
    dim, top = params.dim, 1 << params.width
    regs = np.zeros(params.n_modalities * dim, np.int64)
    stim_rows, expected = [], {f"bit{j}": [] for j in range(dim)}
    expected.update({f"count{j}": [] for j in range(dim)})
    expected.update({"busy": [], "done": []})
    counts = np.zeros(dim, np.int64)
    done_next = 0
    while True:
        load = _load_phase(params, rng, regs, first=not stim_rows)
        run = _run_phase(params, rng, p_on)
        if len(stim_rows) + len(load) + len(run) + 1 > cycles:
            break
        probs = np.minimum(regs.reshape(params.n_modalities, dim), top)
        bits = fusion_bits(params, probs).astype(np.int64)               # (dim, length)
        idx = enabled_index(run[:, 1])
        ones = np.concatenate([np.zeros((dim, 1), np.int64), np.cumsum(bits, axis=1)], axis=1)
        _idle(expected, len(load), counts, done_next)
        for j in range(dim):
            expected[f"bit{j}"].append(bits[j, idx])
            expected[f"count{j}"].append(ones[j, idx])
        expected["busy"].append(np.ones(len(run), np.int64))
        expected["done"].append(np.zeros(len(run), np.int64))
        stim_rows += load + [tuple(int(v) for v in r) for r in run]
        counts, done_next = ones[:, -1], 1
    if not stim_rows:
        raise ParameterError(f"cycles must allow one run of length {params.length} plus loads")
    pad = cycles - len(stim_rows)
    _idle(expected, pad, counts, done_next)
    stim_rows += [(0, int(e), 0, 0, 0) for e in rng.integers(0, 2, size=pad)]
    stim = dict(zip(INPUTS, np.array(stim_rows, np.int64).T))
    return stim, {k: np.concatenate(v) for k, v in expected.items()}


def _idle(expected, n, counts, done_first):
    """Expected outputs of ``n`` idle cycles: counts held, ``done`` only in the first."""
    for j, c in enumerate(counts):
        expected[f"bit{j}"].append(np.zeros(n, np.int64))
        expected[f"count{j}"].append(np.full(n, c, np.int64))
    expected["busy"].append(np.zeros(n, np.int64))
    done = np.zeros(n, np.int64)
    done[:1] = done_first
    expected["done"].append(done)


def describe(result, params):
    """A mismatch as 'element j, cycle k, port, expected, actual' (or the ok/failed summary)."""
    if result.ok or result.port is None:
        return result.describe("fusion")
    digits = result.port.lstrip("abcdefghijklmnopqrstuvwxyz")
    element = digits if digits else "- (all elements)"
    return (f"fusion {params}: element {element}, cycle {result.cycle}, port '{result.port}': "
            f"expected {result.expected}, actual {result.actual}")


def pysim(params: FusionParams, stim, expected):
    """Run :class:`FusionProbe` in Amaranth's simulator; ``None`` or (cycle, port, expected, actual).

    Same timing as the cocotb bench (inputs after the edge, outputs sampled before the next).
    """
    from amaranth.sim import Simulator

    probe = dut(params)
    cycles = len(next(iter(expected.values())))
    ins = {k: [int(v) for v in a] for k, a in stim.items()}
    outs = {k: [int(v) for v in a] for k, a in expected.items()}
    mismatch = []

    async def bench(ctx):
        for k in range(cycles):
            for name, values in ins.items():
                ctx.set(getattr(probe, name), values[k])
            for name, values in outs.items():
                actual = ctx.get(getattr(probe, name))
                if actual != values[k]:
                    mismatch.append((k, name, values[k], actual))
                    return
            await ctx.tick()

    sim = Simulator(probe)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return mismatch[0] if mismatch else None
