"""Co-simulation campaigns: many designs proven cycle by cycle in one simulation.

Generating, compiling and starting a simulation costs about a second per design, whatever its
size; a campaign pays it once. :func:`cosim_many` puts every design (any component with a
per-cycle bench case) side by side in one Amaranth wrapper whose ports are the designs' ports
prefixed ``d<index>__``, converts it to Verilog once, and runs one generated testbench in which
each design has its own memories, its own stimulus loop and its own comparisons (the schedule of
:func:`.runner.cosim`: two reset cycles, inputs after the rising edge, outputs compared at the
falling edge; a design without a clock steps every 10 ns). Every design gets its own verdict:
the first mismatching cycle and port, or bit-exact over all its cycles.

:func:`random_campaign` draws seeded random configurations of the primitives and of dense
layers for it.
"""
from dataclasses import dataclass

import numpy as np
from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..hdl.verilog import to_verilog
from ..model.counter import CounterParams
from ..model.lfsr import LFSRParams
from ..model.lif import LIFParams
from ..model.mux import MuxParams, quantize_weights
from ..model.sng import SNGParams
from ..model.sobol import SobolParams
from ..model.synapse import SynapseParams
from . import dense as dense_bench
from .ops import bench
from .runner import CosimResult, hex_lines, logic_value, run_hdl_tb, top_ports

TOP = "scfpga_campaign"


@dataclass
class Case:
    """One design of a campaign: its component, per-cycle stimulus and expected outputs."""
    name: str
    component: object
    stimulus: dict
    expected: dict
    signed_ports: tuple = ()

    @property
    def cycles(self):
        return len(next(iter(self.expected.values())))


class Side(wiring.Component):
    """Every case's component as a submodule, its ports those of the wrapper (``d<i>__port``)."""

    def __init__(self, components):
        self._parts = list(components)
        members = {}
        for i, c in enumerate(self._parts):
            for path, member, _ in c.signature.flatten(c):
                shape = member.shape
                members[f"d{i}__" + "__".join(map(str, path))] = \
                    In(shape) if member.flow == wiring.In else Out(shape)
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        for i, c in enumerate(self._parts):
            m.submodules[f"d{i}"] = c
            for path, member, value in c.signature.flatten(c):
                outer = getattr(self, f"d{i}__" + "__".join(map(str, path)))
                m.d.comb += (value.eq(outer) if member.flow == wiring.In else outer.eq(value))
        return m


def campaign_testbench(cases, ports, ports_of):
    """The testbench: per case an ``initial`` block stepping its own arrays (see the module
    docstring); ``SCFPGA MISMATCH case cycle port bits`` or ``SCFPGA OK case`` per case.
    ``ports``: the wrapper's ports; ``ports_of(d)``: those of case ``d``'s own module."""
    clocked_top = "clk" in ports
    lines = ["`timescale 1ns/1ps", "module scfpga_tb;", "  reg clk, rst;", "  integer done;"]
    conn = [".clk(clk)", ".rst(rst)"] if clocked_top else []
    blocks = []
    for d, case in enumerate(cases):
        stim, outs = sorted(case.stimulus), sorted(case.expected)
        n = case.cycles
        clocked = "clk" in ports_of(d)
        for p in stim:
            w = ports[f"d{d}__{p}"][1]
            lines += [f"  reg [{w - 1}:0] i{d}_{p};", f"  reg [{w - 1}:0] m_i{d}_{p} [0:{n - 1}];"]
            conn.append(f".d{d}__{p}(i{d}_{p})")
        for p in outs:
            w = ports[f"d{d}__{p}"][1]
            lines += [f"  wire [{w - 1}:0] o{d}_{p};", f"  reg [{w - 1}:0] m_o{d}_{p} [0:{n - 1}];"]
            conn.append(f".d{d}__{p}(o{d}_{p})")
        body = [f"  initial begin : case{d}", "    integer k;",
                *(f"    i{d}_{p} = 0;" for p in stim),
                *(f"    $readmemh(\"d{d}_i_{p}.hex\", m_i{d}_{p});" for p in stim),
                *(f"    $readmemh(\"d{d}_o_{p}.hex\", m_o{d}_{p});" for p in outs)]
        if clocked:
            body.append("    @(posedge clk); @(posedge clk);")
        body += [f"    begin : run{d}", f"      for (k = 0; k < {n}; k = k + 1) begin",
                 *(f"        i{d}_{p} <= m_i{d}_{p}[k];" for p in stim),
                 "        @(negedge clk);" if clocked else "        #5;"]
        for p in outs:
            body += [f"        if (o{d}_{p} !== m_o{d}_{p}[k]) begin",
                     f"          $display(\"SCFPGA MISMATCH {d} %0d {p} %b\", k, o{d}_{p});",
                     f"          disable run{d};", "        end"]
        body += ["        @(posedge clk);" if clocked else "        #5;", "      end",
                 f"      $display(\"SCFPGA OK {d}\");", "    end", "    done = done + 1;",
                 "  end"]
        blocks += body
    lines.append(f"  \\{TOP} dut({', '.join(conn)});")
    lines += ["  always #5 clk = ~clk;",
              "  initial begin", "    clk = 1;", "    rst = 1;", "    done = 0;",
              "    @(posedge clk); @(posedge clk);", "    rst <= 0;",
              f"    wait (done == {len(cases)});", "    $finish;", "  end", *blocks,
              "endmodule", ""]
    return "\n".join(lines)


def cosim_many(cases, build_root=None):
    """Co-simulate every :class:`Case` in one simulation; a :class:`~.runner.CosimResult`
    per case, in order."""
    verilog = to_verilog(Side([c.component for c in cases]), TOP)
    ports = top_ports(verilog, TOP)
    # A case is clocked when its own module (the wrapper's submodule d<i>) has a clock port.
    tb = campaign_testbench(cases, ports, lambda d: top_ports(verilog, f"{TOP}.d{d}"))
    memories = {}
    for d, c in enumerate(cases):
        for p, v in c.stimulus.items():
            memories[f"d{d}_i_{p}.hex"] = hex_lines(v, ports[f"d{d}__{p}"][1])
        for p, v in c.expected.items():
            memories[f"d{d}_o_{p}.hex"] = hex_lines(v, ports[f"d{d}__{p}"][1])
    stdout, log = run_hdl_tb(verilog, TOP, tb, memories, {}, build_root, kind="many")
    results = [CosimResult(ok=False, cycles=c.cycles, log=str(log)) for c in cases]
    for line in (stdout or "").splitlines():
        if line.startswith("SCFPGA OK"):
            d = int(line.split()[2])
            results[d] = CosimResult(ok=True, cycles=cases[d].cycles, log=str(log))
        elif line.startswith("SCFPGA MISMATCH"):
            _, _, d, k, port, bits = line.split()
            d, k, c = int(d), int(k), cases[int(d)]
            results[d] = CosimResult(ok=False, cycles=c.cycles, cycle=k, port=port,
                                     expected=int(c.expected[port][k]),
                                     actual=logic_value(bits, port in c.signed_ports),
                                     log=str(log))
    return results


# ---------------------------------------------------------------------------- random configs

def _source(rng, lo=3, hi=16):
    width = int(rng.integers(lo, hi + 1))
    if rng.random() < 0.5:
        return LFSRParams(width, int(rng.integers(1, 1 << width)))
    return SobolParams(width, int(rng.integers(1, 33)))


def _lif(rng):
    width = int(rng.integers(4, 25))
    hi = (1 << (width - 1)) - 1
    n = int(rng.integers(1, 6))
    scale = hi if rng.random() < 0.5 else max(hi // 8, 1)     # extremes reach saturation
    return LIFParams(width=width, n_inputs=n,
                     weights=tuple(int(w) for w in rng.integers(-scale, scale + 1, n)),
                     threshold=int(rng.integers(1, hi + 1)),
                     leak_shift=int(rng.integers(0, width)),
                     reset=str(rng.choice(["subtract", "zero"])),
                     refractory=int(rng.integers(0, 6)))


def _mux(rng):
    n = int(rng.integers(2, 17))
    source = _source(rng, max(3, (n - 1).bit_length()), 10)
    weights = quantize_weights(rng.random(n) + 0.05, source.width) if rng.random() < 0.5 else None
    return MuxParams(n, source, weights)


def _sng(rng):
    source = _source(rng)
    prob = None if rng.random() < 0.5 else int(rng.integers(0, (1 << source.width) + 1))
    return SNGParams(source, prob)


KINDS = {
    "lfsr": lambda rng: (LFSRParams(w := int(rng.integers(3, 33)),
                                    int(rng.integers(1, 1 << w))), {}),
    "sobol": lambda rng: (SobolParams(int(rng.integers(3, 17)), int(rng.integers(1, 33))), {}),
    "sng": lambda rng: (_sng(rng), {}),
    "synapse": lambda rng: (SynapseParams(str(rng.choice(["and", "xnor"]))), {}),
    "mux": lambda rng: (_mux(rng), {}),
    "counter": lambda rng: (CounterParams(int(rng.integers(1, 300))), {}),
    "lif": lambda rng: (_lif(rng), {}),
    "dense": lambda rng: (dense_bench.random_params(rng, int(rng.integers(1, 9)),
                                                    int(rng.integers(1, 5)), max_length=24),
                          {"lanes": int(rng.choice([1, 2]))}),
}


def random_case(kind, rng, cycles):
    """A :class:`Case` of a seeded random configuration of ``kind`` (a key of ``KINDS``)."""
    while True:
        try:
            params, kw = KINDS[kind](rng)
            break
        except ValueError:              # an invalid draw (ParameterError): draw again
            continue
    b = bench(params)
    stim, expected = b.make_case(params, cycles, rng, **kw)
    return Case(f"{kind} {params}", b.dut(params, **kw), stim, expected, b.signed_ports)


def random_campaign(seed, per_kind, cycles=400, kinds=tuple(KINDS)):
    """``per_kind`` random cases of each kind, drawn from one seeded generator."""
    rng = np.random.default_rng(seed)
    return [random_case(kind, rng, cycles) for kind in kinds for _ in range(per_kind)]
