"""Neuron-zoo bench: a folded bank of a few neurons around one ``step_core``, every cycle checked.

:class:`~scfpga.hdl.neuron_types.FoldedNeurons` holds the state registers of ``n`` neurons and passes them through one
combinational core of :func:`scfpga.hdl.neuron.step_core`, one neuron per clock, round robin
(the way a folded layer uses the core). Ports: ``current`` (in, the current of the neuron whose
turn it is), ``fire`` and one output per state field (registered: the result of the previous
cycle's update). The golden model of that schedule: neuron ``j mod n`` makes its ``j // n``-th
update in cycle ``j``, and its spike and new state show during cycle ``j + 1``.
"""
import numpy as np
from amaranth.back import verilog

from ..hdl.neuron_types import FoldedNeurons, NeuronStep
from ..model.neuron import init_state, state_fields, step
from .runner import cosim

TOP = "neuron_bank"
__all__ = ["FoldedNeurons", "NeuronStep", "make_case", "expected_outputs", "bank_verilog",
           "cosimulate_neuron", "signed_ports", "TOP"]


def signed_ports(params):
    return tuple(name for name, _, sign in state_fields(params) if sign)


def expected_outputs(params, currents, n=3):
    """Per-cycle ``fire`` and state outputs of :class:`FoldedNeurons` fed ``currents``."""
    currents = np.asarray(currents, np.int64)
    cycles = len(currents)
    steps = -(-cycles // n)
    grid = np.zeros(steps * n, np.int64)
    grid[:cycles] = currents
    grid = grid.reshape(steps, n)                       # grid[s, i]: neuron i's s-th current
    out = {name: np.zeros(cycles, np.int64) for name, _, _ in state_fields(params)}
    out["fire"] = np.zeros(cycles, np.int64)
    state = init_state(params, (n,))
    for s in range(steps):
        state, fire = step(params, state, grid[s])
        for i in range(n):
            j = s * n + i + 1                           # shown during the cycle after the update
            if j < cycles:
                out["fire"][j] = fire[i]
                for name in state:
                    out[name][j] = state[name][i]
    return out


def random_currents(rng, cycles, current_bits):
    """Seeded currents: bursts of strong drive, quiet stretches and full-scale extremes."""
    lim = (1 << (current_bits - 1)) - 1
    mean = rng.choice([-0.3, 0.1, 0.4, 0.9], size=cycles // 50 + 1).repeat(50)[:cycles]
    cur = np.round(mean * lim + rng.normal(0, 0.3 * lim, cycles)).astype(np.int64)
    return np.clip(cur, -lim - 1, lim)


def make_case(params, cycles, rng, current_bits=8, n=3, p_on=1.0):
    """Stimulus (``current``) and expected outputs for the folded bank (every cycle enabled:
    ``p_on`` is accepted for the bench interface and must be 1)."""
    currents = random_currents(rng, cycles, current_bits)
    return {"current": currents}, expected_outputs(params, currents, n)


def bank_verilog(params, current_bits=8, n=3):
    return verilog.convert(FoldedNeurons(params, current_bits, n), name=TOP, emit_src=False)


def cosimulate_neuron(params, cycles=600, seed=1, current_bits=8, n=3, build_root=None):
    """Co-simulate a folded bank of ``n`` neurons under cocotb + Icarus: ``(ok, message)``."""
    stim, expected = make_case(params, cycles, np.random.default_rng(seed), current_bits, n)
    result = cosim(bank_verilog(params, current_bits, n), TOP, stim, expected,
                   signed_ports(params), build_root=build_root)
    what = f"{type(params).__name__} bank of {n}"
    return result.ok, f"{what}: {result.describe(what)}"


def run_case(params, cycles, rng, simulate, **kw):
    """``scfpga sim neuron``: seeded random currents, every cycle's spike and state compared."""
    stim, expected = make_case(params, cycles, rng)
    result = simulate(stim, expected, signed_ports(params))
    what = f"{type(params).__name__} bank of 3"
    return result, result.describe(what)
