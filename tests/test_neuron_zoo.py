"""Neuron zoo: independent integer references, saturation, fidelity, API, model == RTL."""
import math

import numpy as np
import pytest
from amaranth.sim import Simulator

from scfpga.model import ParameterError
from scfpga.model import neuron as neuron_api
from scfpga.model import neuron_types as nt
from scfpga.model.neuron_types import (ALIFParams, AlphaParams, IFParams, IzhikevichParams,
                                       LeakyParams, LIParams, SynapticParams, create_neuron)
from scfpga.sim import neuron as bench

TYPES = tuple(nt.NEURON_TYPES)


# ------------------------------------------------------------------ independent references

def _sat(p, x):
    return max(p.v_min, min(p.v_max, x))


def _acc(p, total):
    """One update's round-half-up shift and clamp, on Python ints."""
    return _sat(p, (total + (1 << (p.coef_bits - 1))) >> p.coef_bits)


def _q(x):
    return math.floor(x + 0.5)


def _reset(p, u, thr):
    if u < thr:
        return u, 0
    if p.reset_mechanism == "subtract":
        return _sat(p, u - thr), 1
    if p.reset_mechanism == "zero":
        return _q(p.v_reset * 2 ** p.frac), 1
    return u, 1


def _reference(p, currents):
    """One neuron, plain Python ints, transcribed from the model's docstring (not its code)."""
    B, F = p.coef_bits, p.frac
    cq = lambda c: _q(c * 2 ** B)                   # noqa: E731  multiplier in Q.B
    aq = lambda k: _q(k * 2 ** (F + B))             # noqa: E731  into the accumulator
    sq = lambda x: _q(x * 2 ** F)                   # noqa: E731  state units
    s = {name: 0 for name, _, _ in neuron_api.state_fields(p)}
    spikes, states = [], []
    for i in (int(c) for c in currents):
        if isinstance(p, (LeakyParams, LIParams)):
            u = _acc(p, cq(p.beta) * s["v"] + aq(p.r) * i + aq((1 - p.beta) * p.v_leak))
            s["v"], f = (u, 0) if isinstance(p, LIParams) else _reset(p, u, sq(p.threshold))
        elif isinstance(p, IFParams):
            u = _acc(p, (s["v"] << B) + aq(p.r) * i)
            s["v"], f = _reset(p, u, sq(p.threshold))
        elif isinstance(p, SynapticParams):
            s["syn"] = _acc(p, cq(p.alpha) * s["syn"] + aq(p.w_in) * i)
            u = _acc(p, cq(p.beta) * s["v"] + cq(p.r) * s["syn"] + aq((1 - p.beta) * p.v_leak))
            s["v"], f = _reset(p, u, sq(p.threshold))
        elif isinstance(p, AlphaParams):
            k = math.log(p.beta) / (math.log(p.beta) - math.log(p.alpha))
            d = aq(k * p.r) * i
            e, h = _acc(p, cq(p.alpha) * s["exc"] + d), _acc(p, cq(p.beta) * s["inh"] - d)
            f = int(_sat(p, e + h) >= sq(p.threshold))
            if f and p.reset_mechanism == "subtract":
                e = _sat(p, e - sq(p.threshold))
            elif f and p.reset_mechanism == "zero":
                e, h = sq(p.v_reset), 0
            s["exc"], s["inh"] = e, h
        elif isinstance(p, ALIFParams):
            u = _acc(p, cq(p.beta) * s["v"] + aq(p.r) * i + aq((1 - p.beta) * p.v_leak))
            a = s["a"]
            s["v"], f = _reset(p, u, sq(p.threshold) + a)
            s["a"] = _sat(p, ((cq(p.rho) * a + (1 << (B - 1))) >> B) + f * sq(p.adapt))
        elif isinstance(p, IzhikevichParams):
            x, y, c, dt = s["v"], s["u"], p.c, p.dt
            xn = _acc(p, cq(1 + dt * (0.08 * c + 5)) * x + cq(0.04 * dt) * ((x * x) >> F)
                      - cq(dt) * y + aq(dt * p.r) * i
                      + aq(dt * (0.04 * c * c + 5 * c + 140 - p.b * c)))
            yn = _acc(p, cq(1 - dt * p.a) * y + cq(dt * p.a * p.b) * x)
            f = int(xn >= sq(p.v_peak - c))
            s["v"], s["u"] = (0, _sat(p, yn + sq(p.d))) if f else (xn, yn)
        spikes.append(int(f))
        states.append(dict(s))
    return spikes, states


def random_params(name, rng, width=None, saturate=False):
    """Seeded random float parameters of type ``name`` (extreme drive when ``saturate``)."""
    width = width or int(rng.integers(6, 21))
    reset = ("subtract", "zero", "none")[int(rng.integers(3))]
    thr = float(rng.uniform(5, 60))
    common = dict(width=width)
    if name == "leaky":
        kw = dict(beta=rng.uniform(0.5, 1), threshold=thr, reset_mechanism=reset,
                  v_reset=rng.uniform(-thr, thr / 2), v_leak=rng.uniform(-5, 5),
                  r=rng.uniform(0.2, 2))
    elif name == "if":
        kw = dict(threshold=thr, reset_mechanism=reset, v_reset=rng.uniform(-thr, thr / 2),
                  r=rng.uniform(0.2, 2))
    elif name == "synaptic":
        kw = dict(alpha=rng.uniform(0.3, 0.95), beta=rng.uniform(0.5, 1), threshold=thr,
                  reset_mechanism=reset, v_reset=rng.uniform(-thr, 0), v_leak=rng.uniform(-5, 5),
                  r=rng.uniform(0.2, 1.5), w_in=rng.uniform(0.2, 1.5))
    elif name == "alpha":
        b = rng.uniform(0.3, 0.85)
        kw = dict(alpha=rng.uniform(b + 0.02, 0.98), beta=b, threshold=thr, reset_mechanism=reset,
                  v_reset=rng.uniform(-thr, 0), r=rng.uniform(0.2, 2))
    elif name == "alif":
        kw = dict(beta=rng.uniform(0.5, 1), threshold=thr, rho=rng.uniform(0.5, 1),
                  adapt=rng.uniform(0, thr / 2), reset_mechanism=reset,
                  v_reset=rng.uniform(-thr, 0), r=rng.uniform(0.2, 2))
    elif name == "izhikevich":
        kw = dict(a=rng.uniform(0.01, 0.1), b=rng.uniform(0.1, 0.3), c=rng.uniform(-70, -50),
                  d=rng.uniform(0.05, 8), dt=rng.uniform(0.1, 1), r=rng.uniform(0.05, 0.5))
        if saturate:                       # a tight range and strong drive reach both limits
            kw["r"] = rng.uniform(0.5, 2)
            common["v_range"] = 128.0
    else:
        kw = dict(beta=rng.uniform(0.5, 1), v_leak=rng.uniform(-5, 5), r=rng.uniform(0.2, 2))
    if name != "izhikevich":
        # A tight range makes the stimulus hit both saturation limits.
        thr_range = 1.5 * thr if saturate else 4 * thr
        common["v_range"] = thr_range if name != "li" else (20.0 if saturate else 400.0)
    v_range = common.get("v_range", 256.0)
    common["width"] = max(common["width"], math.ceil(math.log2(v_range)) + 2)
    kw = {k: (float(v) if not isinstance(v, str) else v) for k, v in kw.items()}
    return create_neuron(name, **kw, **common).params


def _currents(rng, n, lim=64):
    mean = rng.choice([-0.5, 0.0, 0.3, 0.8], size=n // 40 + 1).repeat(40)[:n]
    return np.clip(np.round(mean * lim + rng.normal(0, 0.4 * lim, n)), -lim, lim).astype(np.int64)


@pytest.mark.parametrize("name", TYPES)
@pytest.mark.parametrize("case", range(6))
def test_matches_integer_reference(name, case):
    rng = np.random.default_rng(100 * TYPES.index(name) + case)
    p = random_params(name, rng, saturate=case % 2 == 1)
    currents = _currents(rng, 400)
    ref_spikes, ref_states = _reference(p, currents)
    neuron = create_neuron(p)
    state = neuron.init_state(())
    for k, i in enumerate(currents):
        spk, state = neuron(i, state)
        assert int(spk) == ref_spikes[k], f"{p}: spike differs at step {k}"
        assert {f: int(v) for f, v in state.items()} == ref_states[k], f"{p}: state at step {k}"


@pytest.mark.parametrize("name", TYPES)
def test_vectorised_over_neurons_batch_and_time(name):
    rng = np.random.default_rng(7)
    p = random_params(name, rng, width=14)
    currents = rng.integers(-64, 65, (3, 4, 120))
    spikes, mem = create_neuron(p).run(currents)
    for idx in np.ndindex(3, 4):
        s1, m1 = create_neuron(p).run(currents[idx])
        assert np.array_equal(spikes[idx], s1) and np.array_equal(mem[idx], m1)
    # run() follows the network time convention: spike of update k shows in cycle k + 1.
    assert not spikes[..., 0].any()
    s2, _ = neuron_api.run(p, currents)
    assert np.array_equal(s2, spikes)


# ------------------------------------------------------------------ saturation properties

@pytest.mark.parametrize("name", TYPES)
@pytest.mark.parametrize("width", [8, 12, 24])
def test_saturates_at_both_limits(name, width):
    """Full-scale drive pins every field at its limit and never wraps to the other sign."""
    kw = {}
    if name not in ("izhikevich", "li"):
        kw = dict(threshold=1.0, reset_mechanism="none")
    if name != "izhikevich":
        kw["v_range"] = 2.0
    if name == "alpha":
        kw.update(alpha=0.9, beta=0.5)
    p = create_neuron(name, width=max(width, 10) if name == "izhikevich" else width, **kw).params
    for sign in (1, -1):
        state = nt.init_state(p, (1,))
        lo = hi = 0
        for _ in range(60):
            state, fire = neuron_api.step(p, state, np.array([sign * 1_000_000]))
            for v in state.values():
                assert p.v_min <= int(v[0]) <= p.v_max
            first = next(iter(state.values()))
            lo, hi = min(lo, int(first[0])), max(hi, int(first[0]))
        first = int(next(iter(state.values()))[0])
        if name == "izhikevich":
            assert (hi == p.v_max or fire.any()) if sign > 0 else lo == p.v_min
        else:
            assert first == (p.v_max if sign > 0 else p.v_min), (p, sign, state)


def test_no_wraparound_in_subtract_reset_at_the_top():
    p = create_neuron("leaky", beta=1.0, threshold=3.0, v_range=4.0, width=8).params
    spikes, mem = create_neuron(p).run(np.full(50, 10_000))
    assert spikes[1:].all() and mem.min() >= 0 and mem.max() <= p.v_max / 2 ** p.frac


# ------------------------------------------------------------------ fidelity to the float equations

@pytest.mark.parametrize("name", TYPES)
def test_fixed_point_follows_float_equations(name):
    """At 20 bits the fixed-point neuron tracks the float64 textbook equations closely."""
    rng = np.random.default_rng(3)
    kw = dict(threshold=30.0) if name not in ("izhikevich", "li") else {}
    if name == "alif":
        kw["adapt"] = 5.0
    v_range = 1024.0 if name != "izhikevich" else 256.0
    p = create_neuron(name, width=20, v_range=v_range, **kw).params
    currents = 2 * rng.binomial(64, rng.uniform(0.5, 0.62, (40, 1)), (40, 300)) - 64
    s_fix, m_fix = nt.fixed_run(p, currents)
    s_ref, m_ref = nt.reference_run(p, currents)
    rms = np.sqrt(np.mean((m_fix - m_ref) ** 2)) / p.threshold
    assert rms < 0.05, rms
    if name != "li":
        assert s_ref.sum() > 50
        agree = 2 * (s_fix & s_ref).sum() / (s_fix.sum() + s_ref.sum())
        assert agree > 0.97, agree


def test_tau_form_is_nir_euler():
    a = create_neuron("leaky", tau_mem=10.0, dt=1.0, r=2.0, v_leak=1.0, threshold=5.0).params
    b = create_neuron("leaky", beta=0.9, r=0.2, v_leak=1.0, threshold=5.0).params
    assert a.fixed_params() == b.fixed_params()
    s = create_neuron("synaptic", tau_mem=4.0, tau_syn=2.0, dt=1.0).params
    assert (s.alpha, s.beta, s.w_in, s.r) == (0.5, 0.75, 0.5, 0.25)
    i = create_neuron("if", dt=0.5, r=3.0).params
    assert i.r == 1.5
    with pytest.raises(ParameterError, match="beta or tau_mem"):
        create_neuron("leaky", beta=0.9, tau_mem=10.0)


# ------------------------------------------------------------------ API

def test_create_neuron_steps_a_batch():
    n = create_neuron("leaky", beta=0.5, threshold=2.0)
    state = n.init_state((2, 3))
    spk, state = n(np.full((2, 3), 3), state)
    assert spk.shape == (2, 3) and spk.dtype == np.uint8 and spk.all()
    assert np.allclose(n.membrane(state), 1.0)            # 3 - threshold 2 (subtract)
    assert create_neuron("li").params == LIParams()
    assert create_neuron(n) is n


def test_unknown_names_are_parameter_errors():
    with pytest.raises(ParameterError, match="leaky, if, synaptic, alpha, alif, izhikevich, li"):
        create_neuron("hodgkin")
    with pytest.raises(ParameterError, match="'gamma'.*accepted: beta, threshold"):
        create_neuron("leaky", gamma=1.0)
    with pytest.raises(ParameterError, match="accepted: .*tau_mem"):
        create_neuron("li", threshold=1.0)


@pytest.mark.parametrize("name, kw, match", [
    ("leaky", dict(beta=1.5), "beta"), ("leaky", dict(threshold=0.0), "threshold"),
    ("leaky", dict(reset_mechanism="hold"), "reset_mechanism"), ("leaky", dict(width=3), "width"),
    ("leaky", dict(width=25), "width"), ("leaky", dict(coef_bits=19), "coef_bits"),
    ("leaky", dict(v_reset=100.0), "v_reset"), ("leaky", dict(beta="x"), "beta"),
    ("leaky", dict(threshold=1000.0, v_range=8.0), "threshold"),
    ("alpha", dict(alpha=0.5, beta=0.8), "alpha"), ("alif", dict(adapt=-1.0), "adapt"),
    ("izhikevich", dict(dt=0.0), "dt"), ("izhikevich", dict(v_peak=-80.0), "v_peak"),
    ("izhikevich", dict(width=8), "width"), ("li", dict(beta=float("nan")), "beta"),
])
def test_bad_parameters(name, kw, match):
    with pytest.raises(ParameterError, match=match):
        create_neuron(name, **kw)


@pytest.mark.parametrize("name", TYPES)
def test_options_table_builds_every_type(name):
    names = [o[0] for o in nt.NEURON_OPTIONS[name]]
    assert set(names) <= set(nt.accepted_parameters(name))
    defaults = {o[0]: o[2] for o in nt.NEURON_OPTIONS[name]}
    p = nt.neuron_from_options(name, defaults)
    assert p == create_neuron(name).params
    for _, typ, default, text in nt.NEURON_OPTIONS[name]:
        assert typ in (int, float, str) and text
    with pytest.raises(ParameterError, match="unknown option"):
        nt.neuron_from_options(name, {"bogus": 1})


# ------------------------------------------------------------------ model == RTL

def _amaranth_check(p, cycles=400, seed=0, current_bits=8, n=3):
    dut = bench.FoldedNeurons(p, current_bits, n)
    stim, expected = bench.make_case(p, cycles, np.random.default_rng(seed), current_bits, n)
    mismatches = []
    sim = Simulator(dut)
    sim.add_clock(1e-6)

    async def testbench(ctx):
        for k in range(cycles):
            ctx.set(dut.current, int(stim["current"][k]))
            for port, values in expected.items():
                got = ctx.get(getattr(dut, port))
                if got != int(values[k]):
                    mismatches.append((k, port, int(values[k]), got))
                    return
            await ctx.tick()

    sim.add_testbench(testbench)
    sim.run()
    return expected, mismatches


@pytest.mark.parametrize("name", TYPES)
@pytest.mark.parametrize("case", range(3))
def test_amaranth_simulation(name, case):
    rng = np.random.default_rng(500 + 10 * TYPES.index(name) + case)
    p = random_params(name, rng, saturate=case == 1)
    expected, mismatches = _amaranth_check(p, seed=case, current_bits=(8, 7, 10)[case],
                                           n=(3, 1, 4)[case])
    assert not mismatches, f"{p}: first mismatch (cycle, port, expected, actual) {mismatches[0]}"
    assert any(np.any(v != 0) for v in expected.values())


def test_bench_detects_a_wrong_model():
    p = LeakyParams(threshold=40.0, width=12)
    wrong = LeakyParams(threshold=40.0, width=12, beta=0.91)
    dut = bench.FoldedNeurons(p, 8, 3)
    stim, _ = bench.make_case(p, 200, np.random.default_rng(0))
    expected = bench.expected_outputs(wrong, stim["current"])
    sim = Simulator(dut)
    sim.add_clock(1e-6)
    seen = []

    async def testbench(ctx):
        for k in range(200):
            ctx.set(dut.current, int(stim["current"][k]))
            if ctx.get(dut.v) != int(expected["v"][k]):
                seen.append(k)
                return
            await ctx.tick()

    sim.add_testbench(testbench)
    sim.run()
    assert seen


@pytest.mark.parametrize("name", TYPES)
def test_cosim_random_parameters(name):
    """cocotb + Icarus: a folded bank on seeded random parameters and currents, every cycle."""
    rng = np.random.default_rng(900 + TYPES.index(name))
    p = random_params(name, rng, saturate=True)
    # Izhikevich needs a wider current to reach its lower limit (its spikes cap the upper one).
    ok, message = bench.cosimulate_neuron(p, cycles=600, seed=TYPES.index(name),
                                          current_bits=12 if name == "izhikevich" else 8)
    assert ok, message


@pytest.mark.parametrize("name", TYPES)
def test_network_spec_round_trip(name):
    p = random_params(name, np.random.default_rng(11))
    spec = neuron_api.neuron_spec(p)
    assert spec["type"] == name and neuron_api.make_neuron(spec) == p
