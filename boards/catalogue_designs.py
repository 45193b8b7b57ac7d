"""The SC layer catalogue on the board: runnable designs of wta, inhibition, attention,
dendrite, predictive and recurrent (common host side and runner: :mod:`.op_design`).

=============  ==================================  ============================================
design         loads (one run)                     results (after the run)
=============  ==================================  ============================================
wta            values x0..x{n-1} (width bits)      winner mask (bit i = element i), y0..y{n-1}
inhibition     rates r0..r{n-1} (width bits)       inhibited rates y0..y{n-1}
attention      thresholds of Q, K, V, row-major    den0..den{n_q-1}, then num{i}_{e} row-major
               (0..2**width)
dendrite *     branch inputs i0..i{b-1} (signed    soma after the run, then every compartment
               input_width bits, two's complement) v{b}_{c} (signed), after ``steps`` steps
predictive *   input thresholds x0.. (0..2**width) XOR error counts err{j}, then the weights
                                                   w{j}_{i} after the run's update
recurrent *    input thresholds x0.. (0..2**width) accumulators acc{j} (signed), then the
                                                   newest state s{j}
=============  ==================================  ============================================

A run of wta and inhibition is one clock; of attention, predictive and recurrent ``length``
clocks (their own run control, the loads captured at ``start``); of dendrite ``steps`` enabled
edges with the loaded inputs held. Designs marked * are stateful (:mod:`.runnable`): the
dendrite's compartments, the predictive weights and the reservoir's delay line carry over from
run to run, from their reset values after configuration, exactly as in the golden models
(:func:`~scfpga.model.dendrite.dendrite_step`, :func:`~scfpga.model.predictive.predictive_step`,
:func:`~scfpga.model.recurrent.recurrent_acc` and the delay line).

``loads_from_x``: x in [0, 1] quantised to ``width`` bits (wta and inhibition: at most
``2**width - 1``); attention takes Q, K, V flattened and concatenated; dendrite takes x in
[-1, 1] as a fraction of the largest input.
"""
import numpy as np
from amaranth.hdl import signed

from ..hdl.attention import Attention, count_ports, threshold_ports
from ..hdl.dendrite import Dendrite
from ..hdl.inhibition import Inhibition
from ..hdl.predictive import Predictive
from ..hdl.recurrent import Recurrent
from ..hdl.wta import WTA
from ..model.attention import attention_counts
from ..model.dendrite import dendrite_step, soma
from ..model.inhibition import inhibition_apply
from ..model.params import ParameterError
from ..model.predictive import predictive_step
from ..model.recurrent import next_state, recurrent_acc, shift_history
from ..model.sng import quantize_unipolar
from ..model.wta import pack_mask, wta_apply, wta_mask
from .designs import MAX_LOAD_WIDTH, ThresholdLoads, batch_x
from .op_design import STEPS, OpDesign, check_steps
from .protocol import LOAD_WIDTH, RESULT_WIDTH
from .runnable import RunTimer


def _max_width(name, value, top, why):
    if value > top:
        raise ParameterError(f"{name} must be at most {top} for a board design ({why})")


class _ValuesDesign(OpDesign):
    """wta and inhibition: one clock on ``n`` unsigned values held in load registers."""
    length = 1

    def check(self):
        _max_width("width", self.params.width, LOAD_WIDTH, "a value must fit a load word")

    @property
    def load_reg_shape(self):
        return self.params.width

    def values_of(self, loads):
        return self.word_values(loads, self.params.width)

    def loads_from_x(self, x):
        x = self.unit_x(x)
        return np.minimum(quantize_unipolar(x, self.params.width), (1 << self.params.width) - 1)

    def wire(self, m, runner, regs):
        m.submodules.timer = timer = RunTimer(1)
        m.submodules.block = block = self.block_type(self.params)
        m.d.comb += [timer.start.eq(runner.start), runner.busy.eq(timer.busy),
                     block.en.eq(timer.busy)]
        m.d.comb += [getattr(block, f"{self.port}{i}").eq(r) for i, r in enumerate(regs)]
        return self.outputs(block)


class WTADesign(_ValuesDesign):
    """k-WTA of the loaded values (:mod:`scfpga.model.wta`: ties to the lower index)."""
    block_type, port = WTA, "x"

    @property
    def load_names(self):
        return tuple(f"x{i}" for i in range(self.params.n))

    @property
    def result_names(self):
        return ("winners",) + tuple(f"y{i}" for i in range(self.params.n))

    def results(self, loads):
        x = self.values_of(loads)
        return np.concatenate([pack_mask(wta_mask(self.params, x))[:, None],
                               wta_apply(self.params, x)], axis=1)

    def outputs(self, block):
        return [block.winners] + [getattr(block, f"y{i}") for i in range(self.params.n)]


class InhibitionDesign(_ValuesDesign):
    """Gaussian-surround inhibition of the loaded rates (:mod:`scfpga.model.inhibition`)."""
    block_type, port = Inhibition, "r"

    @property
    def load_names(self):
        return tuple(f"r{i}" for i in range(self.params.n))

    @property
    def result_names(self):
        return tuple(f"y{i}" for i in range(self.params.n))

    def results(self, loads):
        return inhibition_apply(self.params, self.values_of(loads))

    def outputs(self, block):
        return [getattr(block, f"y{i}") for i in range(self.params.n)]


class _ThresholdDesign(ThresholdLoads, OpDesign):
    """Layers with their own run control (``start``, ``en``, ``busy``) on SNG thresholds."""

    def check(self):
        _max_width("width", self.params.width, MAX_LOAD_WIDTH,
                   f"a threshold of 2**width must fit a {LOAD_WIDTH}-bit load word")

    @property
    def load_reg_shape(self):
        return self.params.width + 1

    def thresholds(self, loads):
        """What the hardware compares with: the register's bits, saturated at 2**width."""
        return self.saturated_thresholds(loads, self.params.width)

    def wire(self, m, runner, regs):
        m.submodules.block = block = self.block_type(self.params)
        m.d.comb += [block.start.eq(runner.start), block.en.eq(1), runner.busy.eq(block.busy)]
        m.d.comb += [getattr(block, n).eq(r) for n, r in zip(self.load_names, regs)]
        return [getattr(block, n) for n in self.result_names]


class AttentionDesign(_ThresholdDesign):
    """Stochastic attention: num/den counts of one run (:mod:`scfpga.model.attention`)."""
    block_type = Attention

    @property
    def load_names(self):
        return tuple(threshold_ports(self.params))

    @property
    def result_names(self):
        return tuple(count_ports(self.params))

    def results(self, loads):
        p = self.params
        t = self.thresholds(loads)
        sizes = np.cumsum([a * b for a, b in p.shapes])[:-1]
        q, k, v = (part.reshape((len(t),) + s) for part, s in zip(np.split(t, sizes, 1),
                                                                   p.shapes))
        den, num = attention_counts(p, q, k, v)
        return np.concatenate([den, num.reshape(len(t), -1)], axis=1)


class PredictiveDesign(_ThresholdDesign):
    """Predictive coding, one step per run; the weights learned so far are its state."""
    block_type = Predictive
    stateful = True

    def check(self):
        super().check()
        _max_width("width + frac", self.params.weight_bits, RESULT_WIDTH - 1,
                   "a weight must fit a result word")

    @property
    def load_names(self):
        return tuple(f"x{i}" for i in range(self.params.n_inputs))

    @property
    def result_names(self):
        p = self.params
        return tuple(f"err{j}" for j in range(p.n_neurons)) + tuple(
            f"w{j}_{i}" for j in range(p.n_neurons) for i in range(p.n_inputs))

    def initial_state(self):
        return np.array(self.params.weights, np.int64)

    def advance(self, state, loads):
        s = predictive_step(self.params, self.thresholds(loads), state)
        return np.concatenate([s.errors, s.weights.ravel()]), s.weights


class RecurrentDesign(_ThresholdDesign):
    """The echo-state reservoir, one step per run; its state delay line is its state."""
    block_type = Recurrent
    stateful = True

    @property
    def load_names(self):
        return tuple(f"x{i}" for i in range(self.params.n_inputs))

    @property
    def result_names(self):
        n = self.params.n_neurons
        return tuple(f"acc{j}" for j in range(n)) + tuple(f"s{j}" for j in range(n))

    @property
    def result_signed(self):
        n = self.params.n_neurons
        return (True,) * n + (False,) * n

    def initial_state(self):
        return np.zeros((self.params.feedback_delay, self.params.n_neurons), np.int64)

    def advance(self, state, loads):
        acc = recurrent_acc(self.params, self.thresholds(loads), state[-1])
        history = shift_history(state, next_state(self.params, acc))
        return np.concatenate([acc, history[0]]), history


class DendriteDesign(OpDesign):
    """The Rall dendrite: ``steps`` steps per run on the loaded inputs; its compartments are
    its state."""
    RUN_OPTIONS = (STEPS,)
    stateful = True
    load_signed = True

    def check(self):
        check_steps(self.steps)
        extra = self.params.soma_width - self.params.width
        _max_width("width", self.params.width, RESULT_WIDTH - extra,
                   "the soma must fit a result word")

    @property
    def length(self):
        return self.steps

    @property
    def load_reg_shape(self):
        return signed(self.params.input_width)

    @property
    def load_names(self):
        return tuple(f"i{b}" for b in range(self.params.n_branches))

    @property
    def result_names(self):
        p = self.params
        return ("soma",) + tuple(f"v{b}_{c}" for b in range(p.n_branches)
                                 for c in range(p.branch_length))

    @property
    def result_signed(self):
        return (True,) * self.n_results

    def loads_from_x(self, x):
        """x in [-1, 1]: that fraction of the largest input, as two's-complement words."""
        x = batch_x(x, self.n_loads, lo=-1)
        top = (1 << (self.params.input_width - 1)) - 1
        return np.floor(x * top + 0.5).astype(np.int64) & ((1 << LOAD_WIDTH) - 1)

    def initial_state(self):
        p = self.params
        return np.zeros((p.n_branches, p.branch_length), np.int64)

    def advance(self, state, loads):
        x = self.word_values(loads, self.params.input_width)
        for _ in range(self.steps):
            state = dendrite_step(self.params, state, x)
        return np.concatenate([[soma(self.params, state)], state.ravel()]), state

    def wire(self, m, runner, regs):
        p = self.params
        m.submodules.timer = timer = RunTimer(self.steps)
        m.submodules.block = block = Dendrite(p)
        m.d.comb += [timer.start.eq(runner.start), runner.busy.eq(timer.busy),
                     block.en.eq(timer.busy)]
        m.d.comb += [getattr(block, f"i{b}").eq(r) for b, r in enumerate(regs)]
        return [block.soma] + [getattr(block, f"v{b}_{c}") for b in range(p.n_branches)
                               for c in range(p.branch_length)]

