"""The runnable-design contract: what a design implements to be driven by a board top.

Hardware side: a ``wiring.Component`` in the ``sync`` domain with exactly these ports
(:func:`runnable_signature`):

=============  ========  =========================================================================
port           dir       meaning
=============  ========  =========================================================================
load_addr      in  [16]  address of a load word (input threshold, weight, ...), 0..n_loads-1
load_data      in  [16]  the word; the design decides what it means
load_we        in        on a rising edge with ``load_we = 1`` the design stores ``load_data``
                         at ``load_addr``. The engine writes only while ``busy = 0``.
start          in        one-cycle pulse: start a run. Every stream source and every state
                         restarts, so a run depends only on the loads. The run's cycle 0 is the
                         cycle after the ``start`` edge. Ignored while ``busy = 1``.
busy           out       1 from the cycle after ``start`` until the results are ready; it must
                         fall after a bounded number of cycles (the runners: exactly ``length``)
result_addr    in  [16]  which result to read, 0..n_results-1; held stable by the engine
result_data    out [32]  that result, valid ``result_latency`` cycles after ``result_addr`` is
                         presented, while ``busy = 0``. Results persist until the next ``start``.
=============  ========  =========================================================================

Python side, attributes of the component (the board top reads them to build its INFO reply):
``n_loads`` and ``n_results`` (1..65535), ``length`` (cycles per run, informative),
``design_id`` (32-bit, :func:`design_id`), ``result_latency`` (cycles, >= 0).
:class:`Runnable` is a base class that sets them; :func:`check_runnable` validates any object.

The host side of a design is a "runnable design" object (:mod:`.designs` has the primitive
ones) with ``name``, ``n_loads``, ``n_results``, ``length``, ``design_id``, ``describe()``
(JSON-able dict, the source of the id), ``loads_from_x(x)``, ``expected_results(loads)`` (the
golden model, int64 (batch, n_results)), ``decode_results(raw)`` (32-bit words to signed where
needed) and ``component()`` (the Amaranth runnable). Optional: ``check_loads(loads)`` (validate,
return int64 (batch, n_loads)), ``spec`` (its design-file dict, written as ``design.json`` by a
build; paths in it must then be absolute) and ``run_cycles`` (cycles ``busy`` stays high, which
RUN reports; default ``length``).

Stateful designs (optional ``stateful = True``): a design whose runs change state that the
next run uses (weights learned by STDP or by predictive coding, a reservoir's fed-back state,
dendritic compartments) is a function of every run since configuration, not of its loads
alone. Such a design also has ``initial_state()`` (the state the bitstream starts in) and
``advance(state, loads)`` (one run: loads (n_loads,) -> results (n_results,) int64 and the next
state); ``expected_results(loads)`` then reads the rows of ``loads`` as consecutive runs from
``initial_state()``, which is what a freshly configured board (and the run-level co-simulation,
which starts from reset) computes. The software board (:mod:`.simboard`) keeps the state across
RUNs. Results should expose the state (e.g. the learned weights) so the host can read it back.
A design file ``design = "<kind>"`` reaches a loader registered with
:func:`.ops.register`.
"""
import json
import zlib

from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..model.params import ParameterError, check_int
from .protocol import ADDR_WIDTH, LOAD_WIDTH, RESULT_WIDTH

MAX_ITEMS = (1 << ADDR_WIDTH) - 1      # INFO reports n_loads / n_results as u16


def runnable_signature():
    """The port signature every runnable design has (from the design's point of view)."""
    return wiring.Signature({
        "load_addr": In(ADDR_WIDTH), "load_data": In(LOAD_WIDTH), "load_we": In(1),
        "start": In(1), "busy": Out(1),
        "result_addr": In(ADDR_WIDTH), "result_data": Out(RESULT_WIDTH),
    })


def design_id(description):
    """32-bit id of a design: CRC-32 of its canonical JSON description."""
    text = json.dumps(description, sort_keys=True, separators=(",", ":"))
    return zlib.crc32(text.encode())


def check_runnable(component):
    """Raise :class:`ParameterError` unless ``component`` honours the contract's Python side
    and has the contract's ports."""
    for name in ("n_loads", "n_results"):
        check_int(name, getattr(component, name, None), 1, MAX_ITEMS)
    check_int("length", getattr(component, "length", None), 1, 2**32 - 1)
    check_int("design_id", getattr(component, "design_id", None), 0, 2**32 - 1)
    check_int("result_latency", getattr(component, "result_latency", None), 0, 255)
    members = getattr(getattr(component, "signature", None), "members", None)
    if members is None or dict(members) != dict(runnable_signature().members):
        raise ParameterError("a runnable design must have exactly the ports of runnable_signature()")
    return component


class Runnable(wiring.Component):
    """Base class of runnable designs: the contract's ports plus its Python attributes."""

    def __init__(self, *, n_loads, n_results, length, design_id, result_latency):
        self.n_loads = n_loads
        self.n_results = n_results
        self.length = length
        self.design_id = design_id
        self.result_latency = result_latency
        super().__init__(runnable_signature())
        check_runnable(self)

    def add_result_mux(self, m, results):
        """Drive ``result_data`` one cycle after ``result_addr`` (``result_latency = 1``) from
        ``results[result_addr]``, 0 past the end; a signed result sign-extends."""
        with m.Switch(self.result_addr):
            for i, value in enumerate(results):
                with m.Case(i):
                    m.d.sync += self.result_data.eq(value)
            with m.Default():
                m.d.sync += self.result_data.eq(0)


class RunTimer(wiring.Component):
    """Run control for fixed-length runs: ``busy`` for exactly ``length`` cycles after ``start``.

    Attributes
    ----------
    start : Signal, in
        Start pulse (ignored while busy).
    restart : Signal, out
        ``start & ~busy``: the edge that starts a run. Drive the design's reset with it
        (``ResetInserter``) so that run cycle 0 shows every source's element 0.
    busy : Signal, out
        1 during run cycles 0..length-1.
    first : Signal, out
        1 during run cycle 0.
    last : Signal, out
        1 during run cycle length-1.
    """

    def __init__(self, length):
        self.length = check_int("length", length, 1, 2**32 - 1)
        super().__init__({"start": In(1), "restart": Out(1), "busy": Out(1), "first": Out(1),
                          "last": Out(1)})

    def elaborate(self, platform):
        m = Module()
        remaining = Signal(range(self.length))
        m.d.comb += [self.restart.eq(self.start & ~self.busy),
                     self.first.eq(self.busy & (remaining == self.length - 1)),
                     self.last.eq(self.busy & (remaining == 0))]
        with m.If(self.restart):
            m.d.sync += [self.busy.eq(1), remaining.eq(self.length - 1)]
        with m.Elif(self.last):
            m.d.sync += self.busy.eq(0)
        with m.Elif(self.busy):
            m.d.sync += remaining.eq(remaining - 1)
        return m
