"""Dense-layer bench: loads random thresholds, runs the layer twice with random stalls and
checks every output on every clock against the golden model.

Per run: ``load`` writes each input's threshold (random order, random gaps, the extremes 0 and
``2**width`` included), one ``start`` clock, then the run with ``en`` on with probability
``p_on``, and a few idle clocks. ``sel`` walks over the neurons every clock, so ``count`` and
``score`` of every neuron are compared while they change. The expected values follow the
pipeline schedule :class:`scfpga.hdl.dense.RunSchedule` (with ``e`` the enabled clocks since
the start clock, the LIF update of cycle ``k`` shows from ``e = (k+1)*steps + UPDATE_DELAY`` and
its spikes are counted one enabled clock later).
"""
from dataclasses import dataclass, field

import numpy as np

from ..hdl.dense import run_schedule
from ..model.dense import DenseParams, SCDenseLayer
from ..model.lif import LIFParams

SIGNED_PORTS = ("score",)
INPUT_PORTS = ("load", "addr", "data", "start", "en", "sel")
OUTPUT_PORTS = ("busy", "done", "spike", "spike_valid", "count", "score")


@dataclass
class DenseCase:
    """Stimulus, expected outputs and what is needed to explain a mismatch."""
    params: DenseParams
    lanes: int
    stimulus: dict
    expected: dict
    runs: list = field(default_factory=list)      # per run: start clock, thresholds
    run_of: np.ndarray = None                     # clock -> run index (-1 before the first)
    cycle_of: np.ndarray = None                   # clock -> SC cycle the spikes show

    def explain(self, result):
        """'layer ..., neuron j, SC cycle k (clock c): port expected X, got Y'."""
        if result.ok:
            return f"bit-exact over {result.cycles} clocks"
        if result.cycle is None:
            return f"{self.params.describe()}: simulation failed, see {result.log}"
        c, port = result.cycle, result.port
        neuron = "-"
        if port in ("count", "score"):
            neuron = int(self.stimulus["sel"][c])
        elif port == "spike" and isinstance(result.actual, int):
            diff = int(result.expected) ^ result.actual
            neuron = (diff & -diff).bit_length() - 1
        return (f"layer [{self.params.describe()}, lanes {self.lanes}], run {self.run_of[c]}, "
                f"neuron {neuron}, SC cycle {self.cycle_of[c]} (clock {c}): port '{port}' "
                f"expected {result.expected}, got {result.actual}")


def run_expectation(layer, lanes, p, en_after):
    """Outputs of one run for each clock after its start clock, given ``en`` of those clocks.

    Keys: the output ports ``busy, done, spike, spike_valid``, and ``_score``/``_count``
    ((n_neurons, clocks) values of every neuron), ``_cycle`` (spike index shown), ``_length``
    (enabled clocks until ``busy`` falls).
    """
    prm = layer.params
    sched = run_schedule(prm, lanes)
    r = layer.evaluate_thresholds(p)
    e = np.concatenate([[0], np.cumsum(en_after)[:-1]])          # enabled clocks before
    shown, summed, counted = sched.shown(e), sched.summed(e), sched.counted(e)
    end = sched.busy_clocks
    spike_words = (r.spikes.astype(np.int64) << np.arange(prm.n_neurons)[:, None]).sum(0)
    partial = np.concatenate([np.zeros((prm.n_neurons, 1), np.int64),
                              np.cumsum(r.currents, 1)], 1)
    counts = np.concatenate([np.zeros((prm.n_neurons, 1), np.int64),
                             np.cumsum(r.spikes[:, 1:], 1)], 1)
    prev_en = np.concatenate([[0], en_after[:-1]])
    return {
        "busy": (e < end).astype(np.int64),
        "done": ((e == end) & (prev_en == 1)).astype(np.int64),
        "spike": spike_words[shown],
        "spike_valid": sched.spike_valid(e).astype(np.int64),
        "_score": partial[:, summed], "_count": counts[:, counted], "_cycle": shown,
        "_length": end,
    }


def make_runs(params, rng, lanes=1, runs=2, p_on=0.85, idle=3, min_cycles=0):
    """A :class:`DenseCase` of ``runs`` runs with fresh random thresholds each."""
    layer = SCDenseLayer(params)
    n, top = params.n_inputs, 1 << params.width
    span = run_schedule(params, lanes).busy_clocks      # enabled clocks a run needs
    ins = {k: [] for k in INPUT_PORTS}
    outs = {k: [] for k in ("busy", "done", "spike", "spike_valid")}
    score_rows, count_rows, run_of, cycle_of = [], [], [], []
    last = {"busy": 0, "done": 0, "spike": 0, "spike_valid": 0}
    last_sc = np.zeros(params.n_neurons, np.int64)
    last_ct = np.zeros(params.n_neurons, np.int64)
    last_cycle, case_runs = 0, []

    def emit(count, values, exp=None, run=-1):
        for key in INPUT_PORTS:
            v = values.get(key, 0)
            ins[key].append(np.broadcast_to(np.asarray(v, np.int64), (count,)))
        if exp is None:
            for key in outs:
                outs[key].append(np.full(count, last[key] if key != "done" else 0, np.int64))
            score_rows.append(np.repeat(last_sc[:, None], count, 1))
            count_rows.append(np.repeat(last_ct[:, None], count, 1))
            cycle_of.append(np.full(count, last_cycle))
        else:
            for key in outs:
                outs[key].append(exp[key])
            score_rows.append(exp["_score"])
            count_rows.append(exp["_count"])
            cycle_of.append(exp["_cycle"])
        run_of.append(np.full(count, run))

    for run in range(runs):
        p = rng.integers(0, top + 1, n)
        p[rng.random(n) < 0.15] = top
        p[rng.random(n) < 0.15] = 0
        # Load phase: one write per input, random order, random gaps (outputs hold).
        for i in rng.permutation(n):
            while rng.random() > p_on:
                emit(1, {"en": int(rng.random() < p_on), "data": int(rng.integers(0, top + 1))})
            emit(1, {"load": 1, "addr": int(i), "data": int(p[i]), "en": int(rng.random() < p_on)})
        start = sum(len(a) for a in ins["start"])
        emit(1, {"start": 1, "en": int(rng.random() < p_on)})
        # Run phase: long enough for every enabled clock the run needs, plus idle clocks.
        en = (rng.random(int(span / max(p_on, 0.05)) + 8 * span // 10 + 16) < p_on).astype(np.int64)
        need = np.searchsorted(np.cumsum(en), span) + 1 + idle
        while need > len(en):
            en = np.concatenate([en, np.ones(span, np.int64)])
            need = np.searchsorted(np.cumsum(en), span) + 1 + idle
        en = en[:need]
        exp = run_expectation(layer, lanes, p, en)
        emit(len(en), {"en": en}, exp, run)
        last.update({k: int(exp[k][-1]) for k in outs})
        last["done"] = 0
        last_sc, last_ct, last_cycle = exp["_score"][:, -1], exp["_count"][:, -1], exp["_cycle"][-1]
        case_runs.append({"start": start, "thresholds": p})
    total = sum(len(a) for a in ins["start"])
    if total < min_cycles:
        emit(min_cycles - total, {"en": 1})
    stimulus = {k: np.concatenate(v) for k, v in ins.items()}
    clocks = len(stimulus["en"])
    stimulus["sel"] = np.arange(clocks) % params.n_neurons
    scores, counts = np.concatenate(score_rows, 1), np.concatenate(count_rows, 1)
    expected = {k: np.concatenate(v) for k, v in outs.items()}
    expected["score"] = scores[stimulus["sel"], np.arange(clocks)]
    expected["count"] = counts[stimulus["sel"], np.arange(clocks)]
    return DenseCase(params, lanes, stimulus, expected, case_runs,
                     np.concatenate(run_of), np.concatenate(cycle_of))


def make_case(params, cycles, rng, p_on=0.85, lanes=1):
    """``(stimulus, expected)`` for two runs, padded with idle clocks to ``cycles``."""
    case = make_runs(params, rng, lanes=lanes, p_on=p_on, min_cycles=cycles)
    return case.stimulus, case.expected


def run_case(params, cycles, rng, simulate, lanes=1):
    """Co-simulate two runs (``simulate(stimulus, expected, signed_ports)``); the result and a
    report naming run, neuron and SC cycle of a mismatch."""
    case = make_runs(params, rng, lanes=lanes, min_cycles=cycles or 0)
    result = simulate(case.stimulus, case.expected, SIGNED_PORTS)
    return result, case.explain(result)


def random_params(rng, n_inputs=None, n_neurons=None, max_length=96, **overrides):
    """A random layer: shape, width, source, seed, accumulation, bias and LIF (``overrides``
    fix any :class:`DenseParams` field; ``n_inputs``/``n_neurons`` default to 1..24 / 1..8)."""
    n = int(rng.integers(1, 25)) if n_inputs is None else n_inputs
    neurons = int(rng.integers(1, 9)) if n_neurons is None else n_neurons
    source = overrides.pop("source", str(rng.choice(["sobol", "lfsr"])))
    accumulation = overrides.pop("accumulation", str(rng.choice(["counter", "mux"])))
    bias = rng.uniform(-1, 1, neurons) if rng.random() < 0.5 else None
    width = int(rng.integers(3, 10))
    if accumulation == "mux":
        width = max(width, (n + (bias is not None) - 1).bit_length())
    lif = None
    if rng.random() < 0.6:
        lw = int(rng.integers(6, 14))
        terms = n + (bias is not None)
        lif = LIFParams(width=lw, n_inputs=1, weights=(1,),
                        threshold=int(rng.integers(1, min(1 << (lw - 2), 2 * terms + 2))),
                        leak_shift=int(rng.integers(0, 4)),
                        reset=str(rng.choice(["subtract", "zero"])),
                        refractory=int(rng.integers(0, 3)))
    kwargs = dict(length=int(rng.integers(8, max_length + 1)), source=source,
                  seed=int(rng.integers(0, 40)), accumulation=accumulation,
                  lfsr_width=max(width, 12 if n < 60 else 16), lif=lif)
    kwargs.update(overrides)
    return DenseParams.from_float(rng.uniform(-1, 1, (neurons, n)), bias, width, **kwargs)
