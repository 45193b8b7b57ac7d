"""The board core as the board tests simulate it, shared by the protocol, batch and fuzz tests:
clock and UART timing, a LIF design, its Verilog, the INFO it reports and its software board."""
from amaranth.back import verilog

from scfpga.boards import protocol as P
from scfpga.boards.designs import block_design
from scfpga.boards.simboard import SimulatedBoard
from scfpga.boards.top import BoardCore

BIT = 8                                 # clock cycles per UART bit in simulation
TIMEOUT_BITS = 40
CORE = dict(clk_hz=BIT * 115200, baud=115200, timeout_cycles=TIMEOUT_BITS * BIT,
            led_tick_log2=2, heartbeat_ticks=64, busy_ticks=4)
LIF = block_design("lif", {"inputs": 3, "width": 12, "weights": "300,-200,250",
                           "threshold": 700, "leak_shift": 3, "refractory": 1},
                   length=300, input_source="lfsr", input_width=7)


def core_verilog(design):
    """Verilog of the board core (UART, protocol engine, ``design``) with the CORE timing."""
    return verilog.convert(BoardCore(design.component(), **CORE), name="board_core", emit_src=False)


def info_of(design, flags=0):
    """The INFO the core reports for ``design``."""
    return P.Info(P.PROTOCOL_VERSION, P.MAX_PAYLOAD, design.n_loads, design.n_results,
                  design.design_id, design.length, CORE["clk_hz"], CORE["timeout_cycles"], flags)


def software_board(design, **kw):
    """The software board of ``design`` with the core's clock and timeout."""
    return SimulatedBoard(design, CORE["clk_hz"], CORE["timeout_cycles"], **kw)
