"""Validation helpers shared by every parameter object, and by the CLI and API for the values,
names, arrays and paths users give (each error names the flag, key or file and what is allowed)."""
import math
import numbers
import os
import re
from pathlib import Path

import numpy as np


class ParameterError(ValueError):
    """A block parameter is outside its allowed range.

    The message always names the parameter and the range, so the CLI can print it as is.
    """


def check_int(name, value, lo, hi=None):
    """Return ``value`` as ``int`` if it is an integer in ``lo..hi`` (inclusive), else raise."""
    rng = f"{lo}..{hi}" if hi is not None else f">= {lo}"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ParameterError(f"{name} must be an integer in {rng}, got {value!r}")
    value = int(value)
    if value < lo or (hi is not None and value > hi):
        raise ParameterError(f"{name} must be in {rng}, got {value}")
    return value


def check_choice(name, value, choices):
    if value not in choices:
        raise ParameterError(f"{name} must be one of {', '.join(map(str, choices))}, got {value!r}")
    return value


def load_array(path, what):
    """``np.load(path)`` (None for None) of a non-empty, at least 1-D array of finite real
    numbers; anything else (unreadable, ``.npz``, pickled objects, strings, complex, NaN or
    infinity, no elements) is a ParameterError naming ``what``."""
    if path is None:
        return None
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as e:
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise ParameterError(f"{what} must be a readable .npy file, got {str(path)!r} ({reason})") from None
    if not isinstance(array, np.ndarray):                   # an .npz archive
        array.close()
        raise ParameterError(f"{what} must be a .npy file holding one array, got an .npz archive {path}")
    if not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        raise ParameterError(f"{what} must hold real numbers (integer or float), got dtype "
                             f"{array.dtype} in {path}")
    if array.ndim == 0 or array.size == 0:
        raise ParameterError(f"{what} must be an array with at least one element, got shape "
                             f"{array.shape} in {path}")
    if np.issubdtype(array.dtype, np.floating) and not np.isfinite(array).all():
        raise ParameterError(f"{what} must hold finite numbers, got NaN or infinity in {path}")
    return array


# --------------------------------------------------------------------- CLI and API values

MAX_SEED = 2**63 - 1

# Verilog-2005 and SystemVerilog keywords: never a module name.
VERILOG_KEYWORDS = frozenset("""
always always_comb always_ff always_latch and assert assign assume automatic begin bind bit
break buf bufif0 bufif1 byte case casex casez cell chandle class clocking cmos config const
constraint context continue cover covergroup coverpoint cross deassign default defparam design
disable dist do edge else end endcase endclass endclocking endconfig endfunction endgenerate
endgroup endinterface endmodule endpackage endprimitive endprogram endproperty endspecify
endsequence endtable endtask enum event expect export extends extern final first_match for
force foreach forever fork forkjoin function generate genvar highz0 highz1 if iff ifnone
ignore_bins illegal_bins import incdir include initial inout input inside instance int integer
interface intersect join join_any join_none large liblist library local localparam logic
longint macromodule matches medium modport module nand negedge new nmos nor noshowcancelled
not notif0 notif1 null or output package packed parameter pmos posedge primitive priority
program property protected pull0 pull1 pulldown pullup pulsestyle_ondetect pulsestyle_onevent
pure rand randc randcase randsequence rcmos real realtime ref reg release repeat return rnmos
rpmos rtran rtranif0 rtranif1 scalared sequence shortint shortreal showcancelled signed small
solve specify specparam static string strong0 strong1 struct super supply0 supply1 table
tagged task this throughout time timeprecision timeunit tran tranif0 tranif1 tri tri0 tri1
triand trior trireg type typedef union unique unsigned use uwire var vectored virtual void
wait wait_order wand weak0 weak1 while wildcard wire with within wor xnor xor
""".split())
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")


def check_identifier(name, value):
    """``value`` if it is a plain Verilog identifier (letters, digits, ``_``, not starting with
    a digit, at most 128 characters, not a keyword): also safe as a file and directory name."""
    if not isinstance(value, str) or not _IDENTIFIER.fullmatch(value) or value in VERILOG_KEYWORDS:
        raise ParameterError(f"{name} must be a Verilog identifier (a letter or _, then letters, "
                             f"digits or _, at most 128 characters, not a keyword), got {value!r}")
    return value


def check_seed(name, value):
    """A random seed: an integer in 0..2**63-1."""
    return check_int(name, value, 0, MAX_SEED)


def check_positive(name, value, hi=None):
    """A finite real number > 0 (and <= ``hi``); bools, NaN and infinity are rejected."""
    rng = f"> 0 and <= {hi:g}" if hi is not None else "> 0 and finite"
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) \
            or value <= 0 or (hi is not None and value > hi):
        raise ParameterError(f"{name} must be a number {rng}, got {value!r}")
    return value


def check_output_file(name, path, force=False, suffix=None):
    """Check before any work that ``path`` can be written: not a directory, its folder exists
    and is writable, the suffix is ``suffix`` (if given) and an existing file needs ``force``.
    Returns the path as a :class:`~pathlib.Path`."""
    if not str(path).strip():
        raise ParameterError(f"{name} must be a file path, got an empty string")
    out = Path(path)
    if suffix is not None and out.suffix != suffix:
        raise ParameterError(f"{name} must end in {suffix}, got {str(path)!r}")
    if out.is_dir():
        raise ParameterError(f"{name} must be a file path, but {out} is a directory")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise ParameterError(f"{name}: the folder {parent} of {out} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ParameterError(f"{name}: the folder {parent} of {out} is not writable")
    if out.exists() or out.is_symlink():
        if not force:
            raise ParameterError(f"{name}: {out} exists; use --force to overwrite it")
        if not os.access(out, os.W_OK):
            raise ParameterError(f"{name}: {out} exists and is not writable")
    return out


def check_output_dir(name, path):
    """Check before any work that ``path`` is, or can be made as, a writable folder."""
    if not str(path).strip():
        raise ParameterError(f"{name} must be a folder path, got an empty string")
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise ParameterError(f"{name} must be a folder, but {out} is a file")
    probe = out
    while not probe.exists():                 # the nearest existing ancestor must be writable
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise ParameterError(f"{name}: {probe} is a file, so {out} cannot be made")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise ParameterError(f"{name}: {probe} is not writable")
    return out


def write_file(name, path, data):
    """Write ``data`` (str or bytes) to ``path`` completely or not at all (a temporary file
    renamed into place); a disk or permission fault is a ParameterError naming ``name``."""
    out = Path(path)
    tmp = out.with_name(f".{out.name}.partial-{os.getpid()}")
    try:
        if isinstance(data, str):
            tmp.write_text(data)
        else:
            tmp.write_bytes(data)
        os.replace(tmp, out)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise ParameterError(f"{name}: cannot write {out} ({e.strerror or e})") from None
    return out


def read_text(name, path):
    """A spec file's text: it must exist, be a file and be UTF-8."""
    p = Path(path)
    if not p.is_file():
        raise ParameterError(f"{name} {p} {'is a folder' if p.is_dir() else 'does not exist'}")
    try:
        return p.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise ParameterError(f"{name} {p} is not UTF-8 text (byte {e.start})") from None
    except OSError as e:
        raise ParameterError(f"{name} {p} cannot be read ({e.strerror or e})") from None


def signed_range(bits):
    """``(lo, hi)`` of a ``bits``-wide two's-complement value: where fixed-point state saturates."""
    return -(1 << (bits - 1)), (1 << (bits - 1)) - 1


def check_thresholds(x, n_inputs, width):
    """Comparator thresholds ``x`` as int64 (..., n_inputs) in ``0..2**width``, else raise
    (``inputs`` is the name users know them by)."""
    x = np.asarray(x)
    top = 1 << width
    if x.shape[-1:] != (n_inputs,) or not np.issubdtype(x.dtype, np.integer) or \
            (x.size and (x.min() < 0 or x.max() > top)):
        raise ParameterError(f"inputs must be integers in 0..{top} of shape (..., {n_inputs})")
    return x.astype(np.int64)
