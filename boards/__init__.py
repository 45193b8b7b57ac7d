"""From a runnable design to an iCE40 board: contract, UART protocol, board top, build, host.

* :mod:`.runnable` - the contract any design implements to be driven by the board top;
* :mod:`.ops` - which design runs each op (keyed on its parameter class), design files;
* :mod:`.designs`, :mod:`.runners` - primitive blocks made runnable, with golden results;
  :mod:`.dense_design` - the dense layer;
* :mod:`.protocol` - the framed UART protocol, shared by gateware and host;
* :mod:`.uart`, :mod:`.engine`, :mod:`.pll`, :mod:`.top` - the gateware;
* :mod:`.catalog`, :mod:`.build`, :mod:`.toolchain`, :mod:`.flow` - supported boards, the
  YoWASP iCE40 flow and the bitstream build; :mod:`.uart_bench` - the board top's cocotb bench;
* :mod:`.host`, :mod:`.simboard` - the host driver and a software board.
"""
from .designs import BlockDesign, block_design
from .dense_design import DenseDesign
from .ops import design_type, load_design, register, runnable, runnable_names
from .protocol import Command, Info, ProtocolError, Status
from .runnable import Runnable, RunTimer, check_runnable, design_id, runnable_signature

__all__ = ["BlockDesign", "DenseDesign", "block_design", "design_type", "load_design", "register",
           "runnable", "runnable_names",
           "Command", "Info", "ProtocolError", "Status",
           "Runnable", "RunTimer", "check_runnable", "design_id", "runnable_signature"]
