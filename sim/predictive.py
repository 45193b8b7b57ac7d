"""Predictive-coding bench: runs on random input thresholds (10 % at 0 and 2**width), random
``en`` pauses, ignored starts, inputs changing while busy; checks ``busy``, ``done``, every
running ``err<j>`` and every weight register on every cycle, over several runs so the
learned weights feed the next run's predictions.

Expected values: :func:`scfpga.model.predictive.error_bits` per cycle and
:func:`~scfpga.model.predictive.predictive_step` for each run's update.
"""
import numpy as np

from ..model.predictive import PredictiveParams, error_bits, predictive_step
from .run_schedule import run_schedule


def default_cycles(params: PredictiveParams):
    return 3 * (params.length + 24)


def random_thresholds(rng, cycles, n, width):
    """(cycles, n) thresholds in 0..2**width, 10 % at the extremes."""
    top = 1 << width
    t = rng.integers(0, top + 1, size=(cycles, n))
    extreme = rng.random(t.shape) < 0.1
    t[extreme] = rng.choice([0, top], size=int(extreme.sum()))
    return t


def make_case(params: PredictiveParams, cycles, rng, p_on=0.85):
    p = params
    s = run_schedule(p.length, cycles, rng, p_on)
    x = random_thresholds(rng, cycles, p.n_inputs, p.width)
    w = np.array(p.weights, np.int64)
    weights = [w]
    running = [np.zeros((p.length + 1, p.n_neurons), np.int64)]     # "run -1": nothing counted
    for c in s.starts:
        inc, _ = error_bits(p, x[c], w)
        running.append(np.concatenate([np.zeros((1, p.n_neurons), np.int64),
                                       np.cumsum(inc, axis=1).T]))
        w = predictive_step(p, x[c], w).weights
        weights.append(w)
    err = np.stack(running)[s.run + 1, s.pos]                    # (cycles, n_neurons)
    wts = np.stack(weights)[s.finished]                          # (cycles, n_neurons, n_inputs)
    stim = {"start": s.start, "en": s.en, **{f"x{i}": x[:, i] for i in range(p.n_inputs)}}
    expected = {"busy": s.busy, "done": s.done}
    expected.update({f"err{j}": err[:, j] for j in range(p.n_neurons)})
    expected.update({f"w{j}_{i}": wts[:, j, i] for j in range(p.n_neurons)
                     for i in range(p.n_inputs)})
    return stim, expected
