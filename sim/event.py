"""Event-synapse bench: seeded random steps of address events; every output in every cycle.

Each step has a random activity (0 to 100 % of the inputs, the first step all of them: the
burst), its events in a random order (sums must not depend on it) followed by the end-of-step
marker, written with random gaps (``p_on`` per cycle). The producer starts a step once the
previous one is published, so ``aer_ready`` must be 1 in every cycle: no event is ever refused.

Expected timing, from the cost rule of :mod:`scfpga.model.event`: an entry written in cycle w
is poppable from ``w + FIFO_LATENCY``; the engine pops it at the later of that and the end of
the previous entry's work (an event costs ``EVENT_CYCLES + row length``, the marker
``STEP_CYCLES``); ``out_valid``, ``y<j>`` and ``step_cycles`` change the cycle after the marker's
pop. Steps in a case are few, so the loop over steps stays in Python (events are vectorised).
"""
import numpy as np

from ..hdl.event import FIFO_LATENCY
from ..model.event import (EVENT_CYCLES, MAX_POST, STEP_CYCLES, EventParams, event_apply,
                           event_cycles)
from .timeline import registered


def random_steps(n_pre, steps, rng):
    """(steps, n_pre) 0/1 spikes: step 0 all ones (the burst), step 1 none, then a random
    activity in [0, 1] per step."""
    p = rng.random((steps, 1))
    p[:2, 0] = (1.0, 0.0)[:steps]
    return (rng.random((steps, n_pre)) < p).astype(np.uint8)


def schedule(params: EventParams, spikes, rng, p_on=0.85):
    """Per-cycle producer inputs and the marker pop cycle of every step.

    Returns ``(valid, index, end, pops)``: three int64 arrays over all cycles written and the
    pop cycle of each step's marker.
    """
    rows = params.row_lengths
    valid, index, end, pops = [], [], [], []
    t = 0
    for s in spikes:
        active = rng.permutation(np.flatnonzero(s))
        entries = np.append(active, 0)
        cost = np.append(EVENT_CYCLES + rows[active], STEP_CYCLES)
        gaps = rng.geometric(p_on, len(entries)) - 1 if p_on < 1 else np.zeros(len(entries), int)
        writes = t + np.cumsum(gaps + 1) - 1                    # cycle of each write
        ready = writes + FIFO_LATENCY
        before = np.concatenate([[0], np.cumsum(cost)[:-1]])   # work ahead of each entry
        pop = before + np.maximum.accumulate(ready - before)
        n = writes[-1] + 1 - t
        v, i, e = np.zeros(n, np.int64), np.zeros(n, np.int64), np.zeros(n, np.int64)
        v[writes - t] = 1
        i[writes - t] = entries
        e[writes[-1] - t] = 1
        valid.append(v), index.append(i), end.append(e)
        # Idle producer cycles until the step is published, then a random pause.
        published = pop[-1] + 1
        pause = int(rng.geometric(p_on)) - 1 if p_on < 1 else 0
        idle = published + pause - (writes[-1] + 1)
        valid.append(np.zeros(idle, np.int64)), index.append(np.zeros(idle, np.int64))
        end.append(np.zeros(idle, np.int64))
        pops.append(pop[-1])
        t = published + pause
    return (np.concatenate(valid), np.concatenate(index), np.concatenate(end),
            np.asarray(pops, np.int64))


def expected_outputs(params: EventParams, spikes, pops, cycles):
    """``out_valid``, ``step_cycles`` and ``y<j>`` per cycle for markers popped at ``pops``."""
    pops = pops[pops < cycles]
    load = np.zeros(cycles, np.int64)
    load[pops] = 1
    sums = np.zeros((cycles, params.n_post), np.int64)
    sums[pops] = event_apply(params, spikes[:len(pops)])
    cost = np.zeros(cycles, np.int64)
    cost[pops] = event_cycles(params, spikes[:len(pops)])
    y = registered(sums, load)
    out = {"out_valid": registered(load, np.ones(cycles, np.int64)),
           "step_cycles": registered(cost, load), "aer_ready": np.ones(cycles, np.int64)}
    out.update({f"y{j}": y[:, j] for j in range(params.n_post)})
    return out


def make_case(params: EventParams, cycles, rng, p_on=0.85, spikes=None):
    """Stimulus and expected outputs for ``cycles`` cycles (``spikes``: (steps, n_pre), else
    :func:`random_steps`, as many steps as fit)."""
    if spikes is None:
        per_step = 4 + params.n_pre * (EVENT_CYCLES + 2) + params.n_synapses
        spikes = random_steps(params.n_pre, max(2, 2 * cycles // per_step + 2), rng)
    valid, index, end, pops = schedule(params, spikes, rng, p_on)
    pad = max(0, cycles - len(valid))
    valid, index, end = (np.pad(a, (0, pad))[:cycles] for a in (valid, index, end))
    stim = {"aer_valid": valid, "aer_index": index, "aer_end": end}
    return stim, expected_outputs(params, np.asarray(spikes), pops, cycles)


SIGNED_PORTS = tuple(f"y{j}" for j in range(MAX_POST))


def default_cycles(params):
    return 600
