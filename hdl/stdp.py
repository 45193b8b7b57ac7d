"""On-chip STDP learning layer generator (the rule, bit for bit: :mod:`scfpga.model.stdp`).

One synapse per clock. The weights live in a block RAM (``weights``, word ``j * n_inputs + i``,
initialised with the configured weights after the fault map's stuck cells), the pre traces in
a second one (``xpre``), the input rates in a third (``rates``); membranes ``v<j>``, post traces
``y<j>`` and spike counts ``count<j>`` are registers. A time step is a fixed schedule
(:func:`step_cycles` clocks, the same every step, so a fault injected at a cycle hits a known
step):

* ``ENC`` (``n_inputs + 1`` clocks): encode input ``i``, write its pre trace and spike bit.
* per neuron ``j``: ``ACC`` (``n_inputs + 1``): read row ``j`` and sum the weights of the
  inputs that spiked; ``FIRE`` (1): leak, integrate, threshold, reset, count; ``UPD``
  (``n_inputs + 1``): read row ``j`` and the pre traces again, write every updated weight
  through the stuck-cell masks, then step the post trace.

Each sweep is a two-stage pipeline over ``c = 0 .. n_inputs``: stage A presents the memory
address ``c``, stage B (``c >= 1``) sees the word of synapse ``c - 1`` and acts on it; a write
in stage B never hits the address stage A reads in the same clock.

The component has the ports of the runnable-design contract (:mod:`scfpga.boards.runnable`):
load words ``0 .. n_inputs - 1`` are the input rates; ``start`` runs one epoch (``busy`` for
``length * step_cycles`` clocks); results ``0 .. n_neurons * n_inputs - 1`` are the weights
(read back from the weight RAM), then one spike count per neuron; ``result_latency`` is 1.
Unlike a plain runnable design a run also depends on the weights earlier runs learned.
"""
from amaranth.hdl import Array, C, Module, Mux, ResetInserter, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ..model.lfsr import lfsr_leap_columns
from ..model.stdp import LEAP, LFSR_WIDTH, STDPParams
from .sobol import Sobol
from .sources import leap

# The runnable contract's port widths (boards/protocol.py; boards/stdp_design.py checks them).
ADDR_WIDTH, LOAD_WIDTH, RESULT_WIDTH = 16, 16, 32
BRAM = {"ram_style": "block"}


def step_cycles(params: STDPParams):
    """Clocks of one time step: ENC, then ACC + FIRE + UPD per neuron."""
    m = params.n_inputs
    return (m + 1) + params.n_neurons * (2 * m + 3)


def run_cycles(params: STDPParams):
    """Clocks ``busy`` stays high for one epoch."""
    return params.length * step_cycles(params)


def enc_cycle(params: STDPParams, step):
    """Clock (0 = the first busy clock) in the middle of step ``step``'s ENC sweep: a fault
    injected then is in place before the step reads any weight or membrane."""
    return step * step_cycles(params) + 1


def clamp(value, lo, hi):
    return Mux(value > hi, hi, Mux(value < lo, lo, value))


class STDPLayer(wiring.Component):
    """The learning layer (module docstring), runnable-contract ports.

    Parameters
    ----------
    params : STDPParams
    """

    def __init__(self, params: STDPParams):
        self.params = params
        self.n_loads = params.n_inputs
        self.n_results = params.n_neurons * params.n_inputs + params.n_neurons
        self.length = run_cycles(params)
        self.result_latency = 1
        super().__init__({
            "load_addr": In(ADDR_WIDTH), "load_data": In(LOAD_WIDTH), "load_we": In(1),
            "start": In(1), "busy": Out(1),
            "result_addr": In(ADDR_WIDTH), "result_data": Out(RESULT_WIDTH),
        })

    def elaborate(self, platform):
        m = Module()
        p = self.params
        n, mi, B = p.n_neurons, p.n_inputs, p.weight_bits
        top = (1 << B) - 1
        fmap = p.fault_map
        and_m, or_m, off = fmap.arrays

        # -- memories ---------------------------------------------------------------------
        m.submodules.rates = rates = Memory(shape=p.width + 1, depth=mi, init=[], attrs=BRAM)
        m.submodules.xpre = xpre = Memory(shape=p.trace_bits, depth=mi, init=[], attrs=BRAM)
        m.submodules.weights = wmem = Memory(shape=B, depth=n * mi,
                                             init=[int(x) for x in p.initial_weights.ravel()],
                                             attrs=BRAM)
        r_wr, r_rd = rates.write_port(), rates.read_port()
        x_wr, x_rd = xpre.write_port(), xpre.read_port()
        w_wr, w_rd = wmem.write_port(), wmem.read_port()
        faulty = not fmap.is_clean
        ob = B + 2                                           # signed offset field
        if faulty:
            # Stuck-cell masks and offset of each synapse, read alongside its weight.
            words = [(int(a) | (int(o) << B) | ((int(d) & ((1 << ob) - 1)) << (2 * B)))
                     for a, o, d in zip(and_m.ravel(), or_m.ravel(), off.ravel())]
            m.submodules.faults = fmem = Memory(shape=2 * B + ob, depth=n * mi, init=words,
                                                attrs=BRAM)
            f_rd = fmem.read_port()

        # -- control state ----------------------------------------------------------------
        phase = Signal(range(5))                            # 0 idle, 1 ENC, 2 ACC, 3 FIRE, 4 UPD
        IDLE, ENC, ACC, FIRE, UPD = range(5)
        c = Signal(range(mi + 1))
        j = Signal(range(max(2, n)))
        t = Signal(range(max(2, p.length)))
        row = Signal(range(max(2, n * mi)))                 # j * n_inputs
        s = Signal(mi)                                      # this step's input spikes
        acc = Signal(p.current_bits + 1)
        post = Signal()
        # Per-neuron registers rotate by one at the end of every row, so neuron j's sit at
        # index 0 while row j runs (no multiplexer whose select stays constant, which Icarus
        # would leave X) and every neuron is back at its own index between time steps.
        v = [Signal(signed(p.v_width), name=f"v{k}") for k in range(n)]
        y = [Signal(p.trace_bits, name=f"y{k}") for k in range(n)]
        count = [Signal(range(p.length + 1), name=f"count{k}") for k in range(n)]
        enc = Signal(LFSR_WIDTH, init=p.encoder.seed)
        go = Signal()
        m.d.comb += [go.eq(self.start & (phase == IDLE)), self.busy.eq(phase != IDLE)]
        b_valid = Signal()
        ib = Signal(range(max(2, mi)))
        m.d.comb += [b_valid.eq(c != 0), ib.eq(c - 1)]

        # -- update random source (stochastic STDP) ---------------------------------------
        r_upd = Signal(p.trace_bits)
        upd_en = Signal()
        if p.stochastic:
            if p.update_source == "lfsr":
                ustate = Signal(LFSR_WIDTH, init=p.update.seed)
                with m.If(go):
                    m.d.sync += ustate.eq(p.update.seed)
                with m.Elif(upd_en):
                    m.d.sync += ustate.eq(leap(ustate, lfsr_leap_columns(p.update, LEAP)))
                m.d.comb += r_upd.eq(ustate[LFSR_WIDTH - p.trace_bits:])
            else:
                m.submodules.usrc = usrc = ResetInserter(go)(Sobol(p.update))
                m.d.comb += [usrc.en.eq(upd_en), r_upd.eq(usrc.value)]

        # -- loads and results ------------------------------------------------------------
        m.d.comb += [r_wr.addr.eq(self.load_addr), r_wr.data.eq(self.load_data),
                     r_wr.en.eq(self.load_we & (phase == IDLE) & (self.load_addr < mi))]
        n_w = n * mi
        res_count = Signal(range(p.length + 1))
        res_sel = Signal()
        m.d.sync += [res_sel.eq(self.result_addr >= n_w),
                     res_count.eq(Array(count)[(self.result_addr - n_w)[:max(1, (n - 1).bit_length())]])]
        m.d.comb += self.result_data.eq(Mux(res_sel, res_count, w_rd.data))

        # -- addresses (stage A) ----------------------------------------------------------
        m.d.comb += [r_rd.addr.eq(c), x_rd.addr.eq(c),
                     w_rd.addr.eq(Mux(phase == IDLE, self.result_addr, row + c))]
        if faulty:
            m.d.comb += f_rd.addr.eq(row + c)

        # -- stage B words --------------------------------------------------------------
        w_now = w_rd.data
        if faulty:
            a_mask, o_mask = f_rd.data[:B], f_rd.data[B:2 * B]
            offset = f_rd.data[2 * B:].as_signed()
            w_eff = Signal(B)
            m.d.comb += w_eff.eq(clamp(w_now + offset, 0, top))
        else:
            a_mask, o_mask, w_eff = C(top, B), C(0, B), w_now
        s_b = s.bit_select(ib, 1)

        # ENC: the spike of input ib and its pre trace.
        r_enc = enc[LFSR_WIDTH - p.width:]
        spike_in = Signal()
        x_old = Mux(t == 0, 0, x_rd.data)
        m.d.comb += [spike_in.eq(r_enc < r_rd.data),
                     x_wr.addr.eq(ib),
                     x_wr.data.eq(Mux(spike_in, p.t_max, x_old - (x_old >> p.tau_pre_shift))),
                     x_wr.en.eq((phase == ENC) & b_valid)]

        # UPD: the new weight of synapse (j, ib).
        x_b, y_j = x_rd.data, y[0]
        if p.stochastic:
            dp = Mux(r_upd < x_b, p.a_plus, 0)
            dd = Mux(r_upd < y_j, p.a_minus, 0)
        else:
            dp = (x_b * p.a_plus) >> p.rate_shift
            dd = (y_j * p.a_minus) >> p.rate_shift
        wide = signed(max(B, p.trace_bits + 4) + 3)   # w + a * trace (a <= 15) and below 0
        w_sum = Signal(wide)
        w_new = Signal(B)
        m.d.comb += [w_sum.eq(w_now + Mux(post, dp, 0) - Mux(s_b, dd, 0)),
                     w_new.eq(clamp(w_sum, p.w_min, p.w_max)),
                     w_wr.addr.eq(row + ib),
                     w_wr.data.eq((w_new & a_mask) | o_mask),
                     w_wr.en.eq((phase == UPD) & b_valid),
                     upd_en.eq((phase == UPD) & b_valid)]

        # FIRE: the neuron of row j.
        lo, hi = p.v_range
        vj = v[0]
        u_raw = Signal(signed(max(p.v_width, p.current_bits + 1) + 2))
        u = Signal(signed(p.v_width))
        leak = (vj >> p.leak_shift) if p.leak_shift else 0
        m.d.comb += [u_raw.eq(vj - leak + acc), u.eq(clamp(u_raw, lo, hi))]
        fires = u >= p.threshold

        # -- the schedule ----------------------------------------------------------------
        last = c == mi
        with m.If(go):
            m.d.sync += [phase.eq(ENC), c.eq(0), j.eq(0), t.eq(0), row.eq(0), enc.eq(p.encoder.seed)]
            m.d.sync += [x.eq(0) for x in (*v, *y, *count)]
        with m.Switch(phase):
            with m.Case(ENC):
                with m.If(b_valid):
                    m.d.sync += [s.bit_select(ib, 1).eq(spike_in),
                                 enc.eq(leap(enc, lfsr_leap_columns(p.encoder, LEAP)))]
                m.d.sync += c.eq(Mux(last, 0, c + 1))
                with m.If(last):
                    m.d.sync += [phase.eq(ACC), acc.eq(0)]
            with m.Case(ACC):
                with m.If(b_valid & s_b):
                    m.d.sync += acc.eq(acc + w_eff)
                m.d.sync += c.eq(Mux(last, 0, c + 1))
                with m.If(last):
                    m.d.sync += phase.eq(FIRE)
            with m.Case(FIRE):
                m.d.sync += [vj.eq(Mux(fires, 0, u)), post.eq(fires), phase.eq(UPD),
                             count[0].eq(count[0] + fires)]
            with m.Case(UPD):
                m.d.sync += c.eq(Mux(last, 0, c + 1))
                with m.If(last):
                    m.d.sync += y[n - 1].eq(Mux(post, p.t_max, y_j - (y_j >> p.tau_post_shift)))
                    m.d.sync += [r[k].eq(r[k + 1]) for r in (v, y, count) for k in range(n - 1)]
                    m.d.sync += [v[n - 1].eq(v[0]), count[n - 1].eq(count[0])] if n > 1 else []
                    with m.If(j != n - 1):
                        m.d.sync += [j.eq(j + 1), row.eq(row + mi), phase.eq(ACC), acc.eq(0)]
                    with m.Elif(t != p.length - 1):
                        m.d.sync += [j.eq(0), row.eq(0), t.eq(t + 1), phase.eq(ENC)]
                    with m.Else():
                        m.d.sync += phase.eq(IDLE)
        return m
