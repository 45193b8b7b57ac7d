"""From a runnable design to an iCE40 board: contract, UART protocol, board top, build, host.

* :mod:`.runnable` - the contract any design implements to be driven by the board top;
* :mod:`.designs`, :mod:`.runners` - primitive blocks made runnable, with golden results;
* :mod:`.protocol` - the framed UART protocol, shared by gateware and host;
* :mod:`.uart`, :mod:`.engine`, :mod:`.pll`, :mod:`.top` - the gateware;
* :mod:`.catalog`, :mod:`.flow` - supported boards and the bitstream build;
* :mod:`.host`, :mod:`.simboard` - the host driver and a software board.
"""
from .designs import BlockDesign, block_design, load_design, register_design
from .dense_design import DenseDesign                # registers design = "dense"
from .protocol import Command, Info, ProtocolError, Status
from .runnable import Runnable, RunTimer, check_runnable, design_id, runnable_signature

__all__ = ["BlockDesign", "DenseDesign", "block_design", "load_design", "register_design",
           "Command", "Info", "ProtocolError", "Status",
           "Runnable", "RunTimer", "check_runnable", "design_id", "runnable_signature"]
