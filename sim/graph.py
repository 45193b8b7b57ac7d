"""Graph convolution bench: the event bench's producer and timing, the neurons' spikes checked.

The address events of each step's input spikes are written as in :mod:`.event` (random order,
random gaps, a step once the previous one is published); the neurons update in the cycle the
engine publishes a step, so ``spike_valid`` and the ``spikes<k>`` words of step ``t`` (from
:func:`~scfpga.model.graph.graph_conv_run`) show two cycles after the marker's pop.
"""
import numpy as np

from ..hdl.graph import WORD, spike_words
from ..model.graph import GraphConvParams, graph_conv_run
from .event import random_steps, schedule
from .timeline import registered


def make_case(params: GraphConvParams, cycles, rng, p_on=0.85, spikes=None):
    """Stimulus and expected outputs; ``spikes`` (T, n_nodes * in_features), else random."""
    e = params.events
    if spikes is None:
        per_step = 4 + e.n_pre * 4 + e.n_synapses
        spikes = random_steps(e.n_pre, max(2, 2 * cycles // per_step + 2), rng)
    spikes = np.asarray(spikes, np.uint8)
    valid, index, end, pops = schedule(e, spikes, rng, p_on)
    if cycles is None:
        cycles = int(pops[-1]) + 3
    pad = max(0, cycles - len(valid))
    stim = {"aer_valid": valid, "aer_index": index, "aer_end": end}
    stim = {k: np.pad(v, (0, pad))[:cycles] for k, v in stim.items()}
    update = pops + 1                                   # the cycle the neurons update
    shown = update[update < cycles]
    out = graph_conv_run(params, spikes[:len(shown)])
    load = np.zeros(cycles, np.int64)
    load[shown] = 1
    words = np.zeros((cycles, spike_words(e.n_post)), np.int64)
    bits = np.zeros((len(shown), spike_words(e.n_post) * WORD), np.int64)
    bits[:, :e.n_post] = out
    weights = np.int64(1) << np.arange(WORD, dtype=np.int64)
    words[shown] = (bits.reshape(len(shown), -1, WORD) * weights).sum(-1)
    held = registered(words, load)
    expected = {"spike_valid": registered(load, np.ones(cycles, np.int64)),
                "aer_ready": np.ones(cycles, np.int64)}
    expected.update({f"spikes{k}": held[:, k] for k in range(words.shape[1])})
    return stim, expected
