"""A spiking network as a runnable design: board top, UART protocol, host and run-level proof.

Loads follow the network's load map (:mod:`scfpga.hdl.network_loads`): a run's inputs at
``0 .. sample_loads - 1`` (the thresholds ``P_i = quantize_unipolar(x_i, width)``, or with
``encoding = "raster"`` the input spike raster, 16 inputs to a word), and with run-time weights
(``weight_memory = "ram"`` or ``"spram"``) every weight and bias above them, loaded once and
kept across runs (:meth:`NetworkDesign.weight_loads`). ``n_loads`` is the whole load space.

Results ``0..n-1`` are the output layer's spike counts, ``n..2n-1`` its signed scores (sum of
currents; ``argmax`` is the class); a raster design adds the output spikes of every SC cycle:
result ``2n + k * words + j`` holds outputs ``32 j .. 32 j + 31`` of cycle ``k``
(:attr:`NetworkDesign.spike_words` words per cycle). A run takes :attr:`run_cycles` clocks
(:func:`scfpga.hdl.network.schedule`). Design files are network specs
(:mod:`scfpga.model.netspec`) with ``design = "network"``; a build writes one with the weights
inline, so ``design.json`` stands on its own. With run-time weights the design id covers the
network's shape only: one bitstream runs every network of that shape.
"""
import dataclasses
from functools import cached_property

import numpy as np
from amaranth.hdl import Module, Mux, Signal
from amaranth.lib.memory import Memory

from ..hdl.network import Network, load_map, schedule
from ..hdl.network_fit import CAPACITY, fit_layout
from ..hdl.network_loads import (input_writes, network_from_image, raster_from_words, shape_of,
                                 spike_record_words, weight_writes)
from ..model.netspec import load_network, network_from_spec, network_to_spec
from ..model.network import Network as NetworkModel, NetworkParams
from ..model.ops import Option
from ..model.params import ParameterError
from .dense_design import ClassifierResults
from .designs import MAX_LOAD_WIDTH
from .protocol import ADDR_WIDTH, LOAD_WIDTH, RESULT_WIDTH
from .runnable import Runnable, design_id


@dataclasses.dataclass(frozen=True)
class NetworkDesign(ClassifierResults):
    """A :class:`~scfpga.model.network.NetworkParams` network behind the runnable contract."""
    params: NetworkParams
    spec: dict | None = dataclasses.field(default=None, compare=False, repr=False)

    RUN_OPTIONS = (Option("--fit", "fit", str, None,
                          "choose fold and lanes of every layer to fit this device's block RAM "
                          "and logic with the fewest clocks (the layers' own fold/lanes are "
                          "replaced; design.json keeps the result)", tuple(CAPACITY)),)
    name = "network"

    @classmethod
    def from_values(cls, op, values, fit=None):
        """``scfpga build NET.toml [--fit DEVICE]``: the design from the spec file."""
        params, _ = op.build(values)
        if fit is not None:
            params, _ = fit_layout(params, fit)
        return cls(params)

    @classmethod
    def from_spec(cls, op, spec, base=None):
        """A design file ``design = "network"`` (a network spec)."""
        return cls(network_from_spec(spec, base))

    @classmethod
    def from_file(cls, path):
        return cls(load_network(path))

    def __post_init__(self):
        if not isinstance(self.params, NetworkParams):
            raise ParameterError("params must be a NetworkParams")
        if self.params.width > MAX_LOAD_WIDTH:
            raise ParameterError(f"width must be in 1..{MAX_LOAD_WIDTH} for a board design "
                                 f"(a threshold of 2**width must fit a {LOAD_WIDTH}-bit load word)")
        if self.runtime_weights and self.params.width + 2 > LOAD_WIDTH:
            raise ParameterError(f"width must be at most {LOAD_WIDTH - 2} with run-time weights "
                                 f"(a sign-magnitude weight must fit a {LOAD_WIDTH}-bit load word)")
        if self.load_map.space > (1 << ADDR_WIDTH) - 1:
            raise ParameterError(f"the network needs {self.load_map.space} load addresses, a "
                                 f"board design at most {(1 << ADDR_WIDTH) - 1}: fewer weights in "
                                 f"RAM, a shorter raster, or weight_memory = 'rom'")
        if self.n_results > (1 << ADDR_WIDTH) - 1:
            raise ParameterError(f"the network has {self.n_results} results (output spikes of "
                                 f"every cycle), a board design at most {(1 << ADDR_WIDTH) - 1}")
        if self.spec is None:
            object.__setattr__(self, "spec", {"design": "network",
                                              **network_to_spec(self.params)})

    @property
    def run_cycles(self):
        return schedule(self.params).run_clocks

    @property
    def n_outputs(self):
        return self.params.n_outputs

    @cached_property
    def load_map(self):
        return load_map(self.params)

    @property
    def runtime_weights(self):
        return self.params.weight_memory != "rom"

    @property
    def raster(self):
        return self.params.encoding == "raster"

    # ---------------------------------------------------------------- loads
    @property
    def n_loads(self):
        """Every load address: the inputs, and the weights when they load at run time."""
        return self.load_map.space if self.runtime_weights else self.sample_loads

    @property
    def sample_loads(self):
        """Load words of one run's inputs, at ``0 ..``."""
        return self.load_map.input_words

    @property
    def load_width(self):
        """Bits of a threshold; raster and weight words use the whole load word."""
        if self.raster or self.runtime_weights:
            return LOAD_WIDTH
        return self.params.width

    def loads_from_x(self, x):
        """One run's load words per sample: thresholds of ``x`` (batch, n_inputs) in [0, 1], or
        for a raster design the raster words of spikes ``x`` (batch, T, n_inputs) of 0/1."""
        if not self.raster:
            return super().loads_from_x(x)
        x = np.asarray(x)
        want = (self.params.length, self.params.n_inputs)
        if x.ndim == 2:
            x = x[None]
        if x.ndim != 3 or x.shape[1:] != want or not np.isin(x, (0, 1)).all():
            raise ParameterError(f"x must be 0/1 spikes of shape (batch, T, inputs) with "
                                 f"(T, inputs) = {want}, got shape {x.shape}")
        return np.stack([input_writes(self.load_map, s.T) for s in x])

    def weight_loads(self, params=None):
        """``(addresses, words)`` writing the weights and biases of ``params`` (default: this
        design's), a network of the same shape; ParameterError without run-time weights."""
        return weight_writes(self.load_map, params)

    def initial_loads(self):
        """The load memories as the bitstream leaves them: the built network's weights in
        block RAM (``weight_memory = "ram"``); zeros elsewhere (SPRAM starts undefined: load
        weights before the first run)."""
        image = np.zeros(self.n_loads, np.int64)
        if self.params.weight_memory == "ram":
            addrs, words = self.weight_loads()
            image[addrs] = words
        return image

    def with_weights(self, params):
        """This design with the weights of ``params`` (same shape, so the same bitstream)."""
        weight_writes(self.load_map, params)                 # checks shape and weight memory
        return dataclasses.replace(self, params=params, spec=None)

    def check_loads(self, loads):
        """Load words (batch, sample_loads), or whole load images (batch, n_loads): int64."""
        loads = np.atleast_2d(np.asarray(loads))
        top = (1 << LOAD_WIDTH) - 1 if self.load_width == LOAD_WIDTH else 1 << self.params.width
        widths = sorted({self.sample_loads, self.n_loads})
        if loads.ndim != 2 or loads.shape[1] not in widths or \
                not np.issubdtype(loads.dtype, np.integer) or loads.min() < 0 or loads.max() > top:
            raise ParameterError(f"loads must be integers in 0..{top} of shape (batch, "
                                 f"{' or '.join(map(str, widths))})")
        return loads.astype(np.int64)

    # ---------------------------------------------------------------- results
    @property
    def spike_words(self):
        """Result words of one cycle's output spikes (a power of two; 0 without a raster)."""
        return spike_record_words(self.params, RESULT_WIDTH)

    @property
    def n_results(self):
        return 2 * self.n_outputs + self.params.length * self.spike_words

    @property
    def result_names(self):
        names = super().result_names
        return names + tuple(f"spikes{k}_{j}" for k in range(self.params.length)
                             for j in range(self.spike_words))

    @property
    def result_signed(self):
        return super().result_signed + (False,) * (self.n_results - 2 * self.n_outputs)

    def describe(self):
        if not self.runtime_weights:
            return {"design": "network", **network_to_spec(self.params)}
        top, layers = shape_of(self.params)          # one bitstream, any weights of this shape
        return {"design": "network", "shape": {**top, "layers": [
            {k: (repr(v) if k == "neuron" else v) for k, v in layer.items()} for layer in layers]}}

    @property
    def design_id(self):
        return design_id(self.describe())

    def component(self):
        return NetworkRunner(self)

    def expected_results(self, loads):
        """Golden results per row of :meth:`check_loads`: a whole load image brings its own
        weights (as the hardware decodes them), a run's words use this design's."""
        loads = self.check_loads(loads)
        if loads.shape[1] != self.sample_loads:
            return np.concatenate([self._expected(network_from_image(self.load_map, row),
                                                  row[None, :self.sample_loads])
                                   for row in loads])
        return self._expected(self.params, loads)

    def _expected(self, params, words):
        model = NetworkModel(params)
        if self.raster:
            run = model.evaluate_bits(np.stack([raster_from_words(self.load_map, row)
                                                for row in words]))
        else:
            w = params.width          # the threshold RAM keeps width + 1 bits
            run = model.evaluate_thresholds(np.minimum(words & ((2 << w) - 1), 1 << w))
        parts = [run.counts[-1], run.scores[-1]]
        if self.raster:
            parts.append(spike_result_words(run.spikes[-1], self.spike_words))
        return np.concatenate(parts, axis=1).astype(np.int64)


def spike_result_words(spikes, words):
    """(batch, neurons, T) spikes -> (batch, T * words) result words (module docstring)."""
    b, n, T = spikes.shape
    padded = np.zeros((b, T, words * RESULT_WIDTH), np.int64)
    padded[:, :, :n] = spikes.transpose(0, 2, 1)
    weights = 1 << np.arange(RESULT_WIDTH, dtype=np.int64)
    return (padded.reshape(b, T, words, RESULT_WIDTH) * weights).sum(-1).reshape(b, -1)


class NetworkRunner(Runnable):
    """:class:`~scfpga.hdl.network.Network` with the runnable ports. The network's result RAM
    answers one clock after ``sel``; ``result_data`` is registered after it (latency 2). A
    raster design records the output spikes of every SC cycle in block RAM (one row per cycle,
    written on the cycle's first clock, when the network shows them)."""

    def __init__(self, design: NetworkDesign):
        self.design = design
        super().__init__(n_loads=design.n_loads, n_results=design.n_results, length=design.length,
                         design_id=design.design_id, result_latency=2)

    def elaborate(self, platform):
        m = Module()
        n = self.design.params.n_outputs
        m.submodules.network = net = Network(self.design.params)
        is_score, was_score = Signal(), Signal()
        m.d.comb += [
            net.load.eq(self.load_we), net.addr.eq(self.load_addr), net.data.eq(self.load_data),
            net.start.eq(self.start), self.busy.eq(net.busy),
            is_score.eq(self.result_addr >= n),
            net.sel.eq(Mux(is_score, self.result_addr - n, self.result_addr)),
        ]
        value = Mux(was_score, net.score, net.count)
        words = self.design.spike_words
        if words:
            p = self.design.params
            mem = Memory(shape=words * RESULT_WIDTH, depth=p.length, init=[],
                         attrs={"ram_style": "block"})
            m.submodules.spike_record = mem
            wr, rd = mem.write_port(), mem.read_port()
            m.d.comb += [wr.addr.eq(net.k), wr.en.eq(net.cycle_start),
                         wr.data.eq(getattr(net, f"spikes{len(p.layers) - 1}"))]
            offset = Signal(range(p.length * words), name="spike_offset")
            is_spike, was_spike, word = Signal(), Signal(), Signal(range(max(2, words)))
            m.d.comb += [is_spike.eq(self.result_addr >= 2 * n),
                         offset.eq(self.result_addr - 2 * n),
                         rd.addr.eq(offset >> (words.bit_length() - 1))]
            m.d.sync += [was_spike.eq(is_spike), word.eq(offset[:words.bit_length() - 1])
                         if words > 1 else word.eq(0)]
            value = Mux(was_spike, rd.data.word_select(word, RESULT_WIDTH), value)
        m.d.sync += [was_score.eq(is_score), self.result_data.eq(value)]
        return m
