"""A random schedule of runs for layers with the :mod:`scfpga.hdl.run_control` interface.

Runs of ``length`` enabled cycles separated by 1..4 idle cycles (the last idle cycle starts
the next run), random ``en`` pauses inside runs and random ``en`` while idle, and ignored
``start`` pulses (10 %) while busy. What a cycle shows is then a function of ``(run, pos)``:
``run`` is the latest run started before it (-1 before the first) and ``pos`` the cycles
that run has consumed before it (``length`` once it is over). Benches index their per-run
model arrays with these.
"""
from dataclasses import dataclass

import numpy as np

from ..model.params import ParameterError
from .timeline import enabled_index, random_enable


@dataclass(frozen=True)
class Schedule:
    """Per-cycle ``start``, ``en``, ``busy``, ``done``, ``run``, ``pos`` (int64 arrays), the
    cycle on which each run started (``starts``: its inputs are that cycle's) and ``length``."""
    start: np.ndarray
    en: np.ndarray
    busy: np.ndarray
    done: np.ndarray
    run: np.ndarray
    pos: np.ndarray
    starts: tuple
    length: int

    @property
    def finished(self):
        """Runs completed before each cycle (the index of the state a cycle shows)."""
        return self.run + (self.pos == self.length)


def run_schedule(length, cycles, rng, p_on=0.85):
    """A :class:`Schedule` of as many whole runs as fit in ``cycles`` (at least one)."""
    start, en, busy, run, pos, starts = [], [], [], [], [], []
    r = -1
    while True:
        gap = int(rng.integers(1, 5))
        run_en = np.zeros(0, np.int64)
        while run_en.sum() < length:
            run_en = np.concatenate([run_en, random_enable(rng, 2 * length + 8, p_on)])
        run_en = run_en[:int(np.searchsorted(np.cumsum(run_en), length)) + 1]
        if len(start) + gap + len(run_en) > cycles:
            break
        start += [0] * (gap - 1) + [1]
        en += rng.integers(0, 2, gap).tolist()
        busy += [0] * gap
        run += [r] * gap
        pos += [length] * gap
        starts.append(len(start) - 1)
        r += 1
        start += (rng.random(len(run_en)) < 0.1).astype(int).tolist()      # ignored: busy
        en += run_en.tolist()
        busy += [1] * len(run_en)
        run += [r] * len(run_en)
        pos += enabled_index(run_en).tolist()
    if not starts:
        raise ParameterError(f"cycles must allow one run of length {length} plus a start")
    pad = cycles - len(start)
    start += [0] * pad
    en += rng.integers(0, 2, pad).tolist()
    busy += [0] * pad
    run += [r] * pad
    pos += [length] * pad
    busy = np.array(busy, np.int64)
    done = np.concatenate([[0], busy[:-1] & (1 - busy[1:])])
    return Schedule(*(np.array(a, np.int64) for a in (start, en)), busy, done,
                    np.array(run, np.int64), np.array(pos, np.int64), tuple(starts), length)
