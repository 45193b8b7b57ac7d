"""CLI glue of the layers that run one step per run (predictive coding, recurrent reservoir):
parameter objects from option values, and ``scfpga model`` lines from ``--x``."""
import numpy as np

from .params import ParameterError
from .predictive import PredictiveParams, initial_weights, predictive_run
from .recurrent import RecurrentParams, recurrent_run, reservoir_weights
from .sng import quantize_unipolar


def step_inputs(params, x, stim_seed, steps=3):
    """``--x`` as input thresholds (T, n_inputs): integers as they are (``0..2**width``), reals
    in [0, 1] quantised; a single row is one step; default: ``steps`` seeded random rows."""
    if x is None:
        x = np.random.default_rng(stim_seed).random((steps, params.n_inputs))
    x = np.asarray(x)
    if x.ndim == 1:
        x = x[None]
    if x.ndim != 2 or x.shape[1] != params.n_inputs:
        raise ParameterError(f"x must have shape (T, {params.n_inputs}) (one row per step), "
                             f"got {x.shape}")
    return x if np.issubdtype(x.dtype, np.integer) else quantize_unipolar(x, params.width)


def _rows(values):
    return [" ".join(str(int(v)) for v in row) for row in values]


def make_predictive(v):
    w = initial_weights(v["n_inputs"], v["n_neurons"], v["weight_seed"])
    return PredictiveParams.from_float(w, v["length"], v["lr"], v["width"], v["frac"],
                                       v["lr_shift"], streams=v["streams"], source=v["source"],
                                       seed=v["seed"], sobol_dim=v["sobol_dim"])


def predictive_lines(params, x, stim_seed):
    """Per step, every neuron's XOR error count ``err_j`` (surprise = err_j / (L n_inputs))."""
    return _rows(predictive_run(params, step_inputs(params, x, stim_seed))[0])


def make_recurrent(v):
    w_in, w_rec = reservoir_weights(v["n_inputs"], v["n_neurons"], v["weight_seed"],
                                    v["input_strength"], v["spectral_radius"],
                                    v["weights"] == "signed")
    return RecurrentParams.from_float(w_in, w_rec, v["length"], v["width"],
                                      feedback_delay=v["feedback_delay"], source=v["source"],
                                      seed=v["seed"], sobol_dim=v["sobol_dim"])


def recurrent_lines(params, x, stim_seed):
    """Per step, every neuron's state count (0..L; the state is count / L)."""
    return _rows(recurrent_run(params, step_inputs(params, x, stim_seed))[1])
