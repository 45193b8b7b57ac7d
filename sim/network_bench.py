"""The cocotb test that proves a network design (:class:`scfpga.hdl.network.Network`).

Per sample: write its load words (input thresholds or raster words, and run-time weights when
the sample reloads them), pulse ``start``, then on the first clock of every SC
cycle (one trigger per cycle, no Python per clock) compare every layer's spike vector with the
golden model's, and after the run every output neuron's spike count and score. The first
difference (sample, layer, neuron, cycle, expected, actual) is written as JSON to
``SCFPGA_RESULT``. Inputs come from an ``.npz`` at ``SCFPGA_BENCH``: ``writes_addr``,
``writes_data`` and ``writes_start`` (sample s writes ``[start[s], start[s + 1])``),
``spikes<l>`` (samples, neurons, T) uint8, ``counts`` and ``scores`` (samples, outputs),
``run_clocks``, and with a WTA readout ``winners`` (samples,) packed masks.
"""
import os

import cocotb
import numpy as np
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge, with_timeout

from .bench_clock import start_clock_and_reset
from .verdict import write_verdict


def _words(bits):
    """(samples, neurons, T) bits -> per sample and cycle the spike vector as an int."""
    packed = np.packbits(bits, axis=1, bitorder="little")          # (samples, bytes, T)
    return [[int.from_bytes(packed[s, :, k].tobytes(), "little") for k in range(bits.shape[2])]
            for s in range(bits.shape[0])]


def _first_bit(diff):
    return (diff & -diff).bit_length() - 1


@cocotb.test()
async def network_matches_model(dut):
    data = np.load(os.environ["SCFPGA_BENCH"])
    w_addr, w_data = data["writes_addr"].tolist(), data["writes_data"].tolist()
    w_start = data["writes_start"].tolist()
    samples = len(w_start) - 1
    n_layers = sum(1 for k in data.files if k.startswith("spikes"))
    want = [_words(data[f"spikes{l}"]) for l in range(n_layers)]
    counts, scores = data["counts"].tolist(), data["scores"].tolist()
    run_clocks = int(data["run_clocks"])
    length = data["spikes0"].shape[2]
    await start_clock_and_reset(dut, ("load", "addr", "data", "start", "sel"))
    ports = [getattr(dut, f"spikes{l}") for l in range(n_layers)]

    def fail(**what):
        write_verdict({"ok": False, "samples": samples, **what})
        assert False, str(what)

    for s in range(samples):
        await FallingEdge(dut.clk)
        for i in range(w_start[s], w_start[s + 1]):
            dut.load.value, dut.addr.value, dut.data.value = 1, w_addr[i], w_data[i]
            await FallingEdge(dut.clk)
        dut.load.value, dut.start.value = 0, 1
        await FallingEdge(dut.clk)
        dut.start.value = 0
        for k in range(length):
            if k:
                await with_timeout(RisingEdge(dut.cycle_start), run_clocks * 10, "ns")
            await ReadOnly()
            shown = int(dut.k.value)
            if shown != k:
                fail(sample=s, layer=None, neuron=None, cycle=k, what="k", expected=k, actual=shown)
            for l, port in enumerate(ports):
                got = int(port.value)
                if got != want[l][s][k]:
                    fail(sample=s, layer=l, neuron=_first_bit(got ^ want[l][s][k]), cycle=k,
                         what="spike", expected=(want[l][s][k] >> _first_bit(got ^ want[l][s][k])) & 1,
                         actual=(got >> _first_bit(got ^ want[l][s][k])) & 1)
        await with_timeout(FallingEdge(dut.busy), run_clocks * 10, "ns")
        if "winners" in data.files:          # the WTA readout, shown when busy falls
            await ReadOnly()
            got, want_w = int(dut.winners.value), int(data["winners"][s])
            if got != want_w:
                fail(sample=s, layer=n_layers - 1, neuron=_first_bit(got ^ want_w),
                     cycle=length, what="winners", expected=want_w, actual=got)
        for j, (c, sc) in enumerate(zip(counts[s], scores[s])):
            await FallingEdge(dut.clk)
            dut.sel.value = j
            await RisingEdge(dut.clk)
            await ReadOnly()
            got_c, got_s = int(dut.count.value), dut.score.value.to_signed()
            if (got_c, got_s) != (c, sc):
                what = "count" if got_c != c else "score"
                fail(sample=s, layer=n_layers - 1, neuron=j, cycle=length, what=what,
                     expected=c if what == "count" else sc, actual=got_c if what == "count" else got_s)
    write_verdict({"ok": True, "samples": samples})
