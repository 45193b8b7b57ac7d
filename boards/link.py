"""How many samples per second the host link carries, from the protocol's byte counts.

A BATCH (:mod:`.protocol`) keeps both UART directions and the design busy at once: the host
streams sample blocks while the engine runs the previous sample and its reply FIFO drains
(:mod:`.engine`). A sample therefore costs the slowest of three things, in clock cycles:

* receive: ``2 n + 1`` bytes of 10 bits (``n`` load words and the checksum);
* reply: ``4 rcount + 5`` bytes of 10 bits;
* engine: taking the block from the FIFO (a byte per cycle), the run, fetching the results
  (``result_latency + 1`` cycles each) and queueing the reply (a byte per cycle). The state
  changes between these overlap with them: the board core under cocotb (dense digits layer and
  MLP at 24 MHz, ``scripts/link_speed.py``) takes this count to within a UART bit time.

Without BATCH every sample is a WRITE (in frames of up to 63 words), a RUN and a READ (up to
32 results per frame), each waiting for its reply: the line carries one direction at a time
and the run adds to it (:func:`serial_link`). USB latency on the host is not in either figure
(the pacing window of :func:`.protocol.batch_window` covers it for BATCH).
"""
import gc
import math
import warnings

from amaranth.hdl import UnusedElaboratable

from .protocol import (MAX_READ_WORDS, MAX_WRITE_WORDS, REPLY_HEADER, batch_window,
                       sample_reply_size)
from .uart import uart_divisor

BYTE_BITS = 10                 # 8N1
REQUEST_OVERHEAD = 4           # sync, cmd, len, chk


def compute_cycles(run_cycles, n_words, rcount, result_latency=1):
    """Clock cycles of one sample on the board with the link out of the way: loads written
    and results read one per cycle around the run."""
    return run_cycles + n_words + rcount * (result_latency + 1)


def batch_link(run_cycles, n_words, rcount, clk_hz, baud, result_latency=1):
    """Samples/s of a BATCH at ``baud`` and what bounds it.

    Returns a dict: ``per_s``, ``bound`` ("receive", "reply" or "engine"), the cycles of each,
    the UART ``divisor`` and the host's pacing ``window``.
    """
    divisor = uart_divisor(clk_hz, baud)
    cycles = {
        "receive": (2 * n_words + 1) * BYTE_BITS * divisor,
        "reply": sample_reply_size(rcount) * BYTE_BITS * divisor,
        "engine": (run_cycles + (2 * n_words + 1) + rcount * (result_latency + 1)
                   + sample_reply_size(rcount)),
    }
    bound = max(cycles, key=cycles.get)
    return {"per_s": clk_hz / cycles[bound], "bound": bound, "divisor": divisor,
            "window": batch_window(n_words), **{f"{k}_cycles": v for k, v in cycles.items()}}


def serial_link(run_cycles, n_words, rcount, clk_hz, baud):
    """Samples/s with WRITE, RUN and READ per sample, each waiting for its reply."""
    writes = math.ceil(n_words / MAX_WRITE_WORDS)
    reads = math.ceil(rcount / MAX_READ_WORDS)
    request = (REQUEST_OVERHEAD * (writes + 1 + reads) + 2 * writes + 2 * n_words + 3 * reads)
    reply = (REPLY_HEADER + 1) * (writes + 1 + reads) + 4 + 4 * rcount
    cycles = (request + reply) * BYTE_BITS * clk_hz / baud + run_cycles
    return {"per_s": clk_hz / cycles, "bytes": request + reply}


def result_latency(design):
    """The result latency of a runnable design object's component (built, read, dropped)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnusedElaboratable)    # built only to read one number
        component = design.component()
        latency = component.result_latency
        del component
        gc.collect()
    return latency


def design_link(design, clk_hz, baud):
    """Compute rate and BATCH link rate of a runnable design: ``(compute_per_s, batch_link)``."""
    latency = result_latency(design)
    n, r = design.n_loads, design.n_results
    return (clk_hz / compute_cycles(design.run_cycles, n, r, latency),
            batch_link(design.run_cycles, n, r, clk_hz, baud, latency))
