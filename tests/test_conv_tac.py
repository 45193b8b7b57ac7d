"""The conv engine's TAC mode (model/conv_tac.py): the seed's identities on the integer engine
(K = 1 is the exact conv layer; without leak a chunk is the sum of its cycles) and the leaky
aggregate against a plain integer loop."""
import numpy as np
import pytest
from amaranth.sim import Simulator

from scfpga.hdl.conv_tac import TACConvEngine
from scfpga.model.conv import ConvLayer
from scfpga.model.conv_tac import TACParams, tac_currents, tac_run
from scfpga.model.network import Network, NetworkParams
from scfpga.model.neuron import lif_neuron
from scfpga.model.params import ParameterError


def exact_conv(rng):
    q = rng.integers(-64, 65, (3, 2, 3, 3))
    return ConvLayer(q, (2, 6, 5), rng.integers(-64, 65, 3), 1, 1,
                     lif_neuron(width=24, threshold=200), accumulation="exact")


def test_k1_is_the_exact_conv_layer_and_a_chunk_the_sum_of_its_cycles():
    rng = np.random.default_rng(0)
    conv = exact_conv(rng)
    bits = (rng.random((2, conv.n_inputs, 24)) < 0.4).astype(np.uint8)
    run = Network(NetworkParams(60, (conv,), 6, 24, input_shape=(2, 6, 5))).evaluate_bits(bits)
    spk, cur = tac_run(conv, TACParams(1), bits)
    np.testing.assert_array_equal(cur, run.currents[0])
    np.testing.assert_array_equal(spk, run.spikes[0])
    for k in (2, 3, 8, 24):
        chunks = tac_currents(conv, TACParams(k), bits)
        want = run.currents[0].reshape(2, -1, 24 // k, k).sum(-1)
        np.testing.assert_array_equal(chunks, want)


@pytest.mark.parametrize("k, s, f", [(4, 1, 3), (8, 3, 4), (5, 2, 0)])
def test_leaky_aggregate_follows_the_shift_subtract_recurrence(k, s, f):
    rng = np.random.default_rng(k)
    bits = (rng.random((3, 7, 4 * k)) < 0.5).astype(np.uint8)
    tac = TACParams(k, s, f)
    got = tac.aggregate(bits)
    for b, i, c in np.ndindex(got.shape):
        a = 0
        for j in range(k):
            a = a - (a >> s) + (int(bits[b, i, c * k + j]) << f)
        assert got[b, i, c] == a
    assert tac.one == int(tac.aggregate(np.ones(k, int))[0]) and tac.word_bits >= f + 1


def test_tac_validation():
    with pytest.raises(ParameterError, match="chunk must be in 1..64"):
        TACParams(0)
    with pytest.raises(ParameterError, match="chunk must divide the run's 10 cycles"):
        TACParams(4).aggregate(np.zeros((1, 10)))
    with pytest.raises(ParameterError, match="bits must have shape"):
        tac_currents(exact_conv(np.random.default_rng(1)), TACParams(2), np.zeros((1, 5, 4)))


# ---------------------------------------------------------------------------- hardware engine

def run_engine(layer, tac, width, bits, rng):
    """Drive a TACConvEngine (Amaranth simulator): each cycle's bits written in a random order,
    a step per cycle (a chunk's last step after the previous sweep); the currents it emits."""
    dut = TACConvEngine(layer, tac, width)
    n, T = bits.shape
    got = np.full((layer.n_neurons, T // tac.chunk), -(1 << 62), np.int64)
    seen = []

    async def bench(ctx):
        async def tick():
            await ctx.tick()
            if ctx.get(dut.cur_valid):
                seen.append((ctx.get(dut.cur_n), ctx.get(dut.cur)))

        ctx.set(dut.start, 1)
        await tick()
        ctx.set(dut.start, 0)
        for k in range(T):
            for i in rng.permutation(n):
                ctx.set(dut.we, 1)
                ctx.set(dut.waddr, int(i))
                ctx.set(dut.wbit, int(bits[i, k]))
                await tick()
            ctx.set(dut.we, 0)
            while ctx.get(dut.busy):
                await tick()
            ctx.set(dut.step, 1)
            await tick()
            ctx.set(dut.step, 0)
            if (k + 1) % tac.chunk == 0:
                await tick()
                while ctx.get(dut.busy):
                    await tick()
                for neuron, cur in seen:
                    got[neuron, k // tac.chunk] = cur
                assert len(seen) == layer.n_neurons
                seen.clear()

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return got


@pytest.mark.parametrize("seed, k, s, f", [(0, 1, 0, 0), (1, 3, 0, 0), (2, 4, 2, 3)])
def test_tac_engine_currents_equal_the_model(seed, k, s, f):
    """Every current of every chunk of the RTL engine equals model/conv_tac's (random conv:
    kernel 1-3, stride 1-2, padding, bias, fold; the leaky aggregate too)."""
    rng = np.random.default_rng(seed)
    c, h, w = int(rng.integers(1, 3)), int(rng.integers(3, 6)), int(rng.integers(3, 6))
    kk = int(rng.integers(1, 4))
    o = int(rng.choice([2, 4]))
    layer = ConvLayer(rng.integers(-32, 33, (o, c, kk, kk)), (c, h, w),
                      rng.integers(-32, 33, o) if seed != 1 else None,
                      int(rng.integers(1, 3)), int(rng.integers(0, kk)),
                      fold=int(rng.choice([1, o])), accumulation="exact")
    tac = TACParams(k, s, f)
    bits = (rng.random((layer.n_inputs, 2 * k)) < 0.5).astype(np.uint8)
    got = run_engine(layer, tac, 5, bits, rng)
    np.testing.assert_array_equal(got, tac_currents(layer, tac, bits[None])[0])
