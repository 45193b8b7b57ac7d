"""Learning-layer bench: several epochs in RTL, every weight read back and compared bit for bit.

:func:`cosim_stdp` generates the Verilog of an :class:`~scfpga.model.stdp.STDPParams` (or takes
the text given), runs the cocotb test :mod:`.stdp_bench` over a list of epochs and compares,
after every epoch, the whole weight memory and every spike count with
:class:`scfpga.model.stdp.STDPLayer`. Transient faults (:class:`~scfpga.model.stdp.Flip`) are
injected into the simulation at the clock :func:`scfpga.hdl.stdp.enc_cycle` of their step and
given to the model as the same flips. Stuck cells reach the RTL in two ways: as part of the
parameters (the fault map is then in the weight RAM's write path and in a ROM beside it), or
injected at simulation time (``cosim_stdp(..., stuck=fault_map)``) into fault-free hardware,
where the bench holds the stuck bits of the weight RAM words on every clock.

``scfpga sim stdp`` runs :func:`run_case` on seeded random rates with the op's defaults.
"""
import json
from dataclasses import dataclass

import numpy as np

from ..hdl.stdp import STDPLayer as STDPDesign, enc_cycle, run_cycles
from ..hdl.verilog import to_verilog
from ..model.params import ParameterError, check_int
from ..model.stdp import STDPLayer, STDPParams
from .runner import run_cocotb

TOP = "stdp"
DEFAULT_EPOCHS = 4


@dataclass
class STDPResult:
    ok: bool
    epochs: int
    epoch: int | None = None
    result: int | None = None
    expected: int | None = None
    actual: int | None = None
    log: str = ""
    n_weights: int = 0
    n_inputs: int = 1

    def describe(self):
        if self.ok:
            return (f"bit-exact: all {self.n_weights} weights and every spike count after each of "
                    f"{self.epochs} epochs")
        if self.epoch is None:
            return f"stdp: simulation failed, see {self.log}"
        what = (f"weight (neuron, input) {divmod(self.result, self.n_inputs)}"
                if self.result < self.n_weights else f"count {self.result - self.n_weights}")
        return (f"mismatch after epoch {self.epoch}: {what} expected {self.expected}, "
                f"got {self.actual}")


def expected_results(params: STDPParams, rates, flips=None):
    """Per epoch the result words (weights row-major, then counts) and the model's epochs."""
    epochs = STDPLayer(params).train(rates, flips)
    words = np.array([np.concatenate([e.weights.ravel(), e.counts]) for e in epochs], np.int64)
    return words, epochs


def flip_rows(params: STDPParams, flips):
    """Per-epoch :class:`Flip` lists as the bench's rows ``epoch, clock, kind, index, bit``."""
    rows = []
    for e, fs in enumerate(flips or ()):
        for f in fs or ():
            index = f.neuron * params.n_inputs + f.input if f.target == "weight" else f.neuron
            rows.append((e, enc_cycle(params, f.step), int(f.target == "v"), index, f.bit))
    return np.array(rows, np.int64).reshape(-1, 5)


def stuck_rows(params: STDPParams, stuck, flips=None):
    """The stuck cells of fault map ``stuck`` as the bench's rows ``word, and_mask, or_mask``
    (synapses with a stuck bit only). Offsets cannot be injected by holding bits, and a flip of
    a held bit would be undone by the simulation but not by the model: both are refused."""
    if stuck.shape != params.shape or stuck.bits != params.weight_bits:
        raise ParameterError(f"stuck must be a FaultMap of shape {params.shape} and "
                             f"{params.weight_bits} bits")
    if stuck.has_offset:
        raise ParameterError("stuck must have no offsets (variability is not a stuck bit)")
    if params.faults is not None and not params.faults.is_clean:
        raise ParameterError("params must have no fault map of its own when stuck cells are "
                             "injected in simulation")
    and_m, or_m, _ = stuck.arrays
    for fs in flips or ():
        for f in fs or ():
            if f.target == "weight" and not (and_m[f.neuron, f.input] >> f.bit) & 1:
                raise ParameterError(f"flip of weight ({f.neuron}, {f.input}) bit {f.bit} hits "
                                     "a stuck bit")
    held = np.flatnonzero((and_m != (1 << params.weight_bits) - 1).ravel())
    return np.stack([held, and_m.ravel()[held], or_m.ravel()[held]], 1).astype(np.int64)


def cosim_stdp(params: STDPParams, rates, flips=None, expected=None, build_root=None,
               simulator=None, verilog_text=None, top=TOP, stuck=None):
    """Co-simulate epochs on ``rates`` (epochs, inputs) integers; ``flips`` per epoch.

    ``stuck``: a :class:`~scfpga.model.faults.FaultMap` of stuck cells injected at simulation
    time into the weight RAM of the fault-free hardware of ``params`` (the bench holds those
    bits on every clock, from reset on, as a stuck cell does); the model predicts it as
    ``params.with_faults(stuck)``. ``expected`` replaces the model's result words (a test that
    the bench can fail). Returns an :class:`STDPResult`.
    """
    rates = np.atleast_2d(np.asarray(rates, np.int64))
    held = np.zeros((0, 3), np.int64) if stuck is None else stuck_rows(params, stuck, flips)
    if expected is None:
        model = params if stuck is None else params.with_faults(stuck)
        expected, _ = expected_results(model, rates, flips)
    arrays = {"rates": rates, "expected": np.asarray(expected, np.int64),
              "run_clocks": np.int64(run_cycles(params)), "flips": flip_rows(params, flips),
              "stuck": held}
    text = verilog_text or to_verilog(STDPDesign(params), top)
    result_file, log = run_cocotb(text, top, "scfpga.sim.stdp_bench", arrays, build_root,
                                  simulator)
    n_w = params.n_neurons * params.n_inputs
    if not result_file.exists():
        return STDPResult(False, len(rates), log=str(log), n_weights=n_w,
                          n_inputs=params.n_inputs)
    r = json.loads(result_file.read_text())
    return STDPResult(r["ok"], r["epochs"], r.get("epoch"), r.get("result"), r.get("expected"),
                      r.get("actual"), str(log), n_w, params.n_inputs)


def random_rates(params: STDPParams, epochs, rng):
    """``epochs`` rate vectors: a few repeated patterns (what STDP picks up) and noise."""
    top = 1 << params.width
    patterns = rng.integers(0, top + 1, (2, params.n_inputs))
    pick = rng.integers(0, 3, epochs)
    noise = rng.integers(0, top + 1, (epochs, params.n_inputs))
    return np.where((pick < 2)[:, None], patterns[np.minimum(pick, 1)], noise)


def run_case(params, cycles, rng, simulate, epochs=DEFAULT_EPOCHS):
    """``scfpga sim stdp``: ``epochs`` epochs on seeded random rates (``cycles`` is unused:
    an epoch is ``length`` time steps). Returns ``(result, text)``."""
    check_int("epochs", epochs, 1, 1000)
    rates = random_rates(params, epochs, rng)
    result = cosim_stdp(params, rates, build_root=simulate.build_root,
                        simulator=simulate.simulator, verilog_text=simulate.verilog,
                        top=simulate.top)
    return result, result.describe()


def make_case(params, cycles, rng, p_on=1.0, **kw):
    """The learning layer is proven epoch by epoch (:func:`run_case`), not per cycle."""
    raise NotImplementedError("the stdp bench has no per-cycle case; use run_case")
