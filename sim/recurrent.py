"""Recurrent-layer bench: runs on random input thresholds (10 % at 0 and 2**width), random
``en`` pauses, ignored starts, inputs changing while busy; checks ``busy``, ``done``, every
running ``acc<j>`` and every state ``s<j>`` on every cycle, over several runs so each run's
state streams carry earlier runs' results (the feedback delay line).

Expected values: :func:`scfpga.model.recurrent.recurrent_bits` per cycle, the delay line of
:func:`~scfpga.model.recurrent.shift_history` across runs.
"""
import numpy as np

from ..model.recurrent import RecurrentParams, next_state, recurrent_bits, shift_history
from .predictive import random_thresholds
from .run_schedule import run_schedule

# every accumulator that can exist, compared as signed
SIGNED_PORTS = tuple(f"acc{j}" for j in range(32))


def default_cycles(params: RecurrentParams):
    return 4 * (params.length + 12)


def make_case(params: RecurrentParams, cycles, rng, p_on=0.85):
    p = params
    s = run_schedule(p.length, cycles, rng, p_on)
    x = random_thresholds(rng, cycles, p.n_inputs, p.width)
    history = np.zeros((p.feedback_delay, p.n_neurons), np.int64)
    states = [history[0]]
    running = [np.zeros((p.length + 1, p.n_neurons), np.int64)]     # "run -1": nothing counted
    for c in s.starts:
        inc = recurrent_bits(p, x[c], history[-1])
        cum = np.concatenate([np.zeros((p.n_neurons, 1), np.int64), np.cumsum(inc, 1)], 1).T
        running.append(cum)
        history = shift_history(history, next_state(p, cum[-1]))
        states.append(history[0])
    acc = np.stack(running)[s.run + 1, s.pos]
    st = np.stack(states)[s.finished]
    stim = {"start": s.start, "en": s.en, **{f"x{i}": x[:, i] for i in range(p.n_inputs)}}
    expected = {"busy": s.busy, "done": s.done}
    expected.update({f"acc{j}": acc[:, j] for j in range(p.n_neurons)})
    expected.update({f"s{j}": st[:, j] for j in range(p.n_neurons)})
    return stim, expected
