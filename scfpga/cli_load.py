"""``scfpga load``: new weights into a running network bitstream, no rebuild (issue #13).

Registered through :data:`scfpga.cli.EXTENSIONS`; a thin layer over
:class:`scfpga.boards.network_host.NetworkBoard`. A bad file, a network of another shape or a
design without run-time weights prints one line and exits 2; a link error exits 1.
"""
import sys

from .boards.host import check_baud, check_timeout
from .boards.network_host import NetworkBoard, read_weights
from .boards.protocol import ProtocolError
from .cli_board import BAUD_HELP, link_baud
from .cli import UsageError, load_x
from .model.params import ParameterError


def register(sub):
    p = sub.add_parser(
        "load", help="load a trained network's weights into a board running its shape",
        description="Write the weights and biases of WEIGHTS (a network spec .toml/.json, or an "
                    ".npz of real weights weights0, bias0, weights1, ... in [-1, 1]) into the "
                    "board running DESIGN, a network built with weight_memory = \"ram\" or "
                    "\"spram\" (one bitstream runs every network of its shape). With --x, then "
                    "run those samples and check them against the golden model of the loaded "
                    "network. PORT 'sim' is the software board.",
        epilog="example: scfpga load --port /dev/ttyUSB1 build/net/design.json retrained.toml "
               "--x x.npy")
    p.add_argument("--port", required=True, help="serial port (e.g. /dev/ttyUSB1) or 'sim'")
    p.add_argument("design", metavar="DESIGN", help="OUT/design.json of the build")
    p.add_argument("weights", metavar="WEIGHTS", help="network spec (.toml/.json) or .npz")
    p.add_argument("--x", help=".npy of samples to run after loading: rates (batch, inputs) "
                   "in [0, 1], or 0/1 spikes (batch, T, inputs) for a raster design")
    p.add_argument("--baud", type=int, default=None, help=BAUD_HELP)
    p.add_argument("--timeout", type=float, default=2.0,
                   help="seconds to wait for each reply, > 0 and <= 3600 (default: 2)")
    p.set_defaults(func=cmd_load)


def cmd_load(args):
    args.baud = link_baud(args.design, args.baud)
    try:
        check_baud(args.baud)
        check_timeout(args.timeout)
        x = load_x(args.x) if args.x else None
    except (ParameterError, ProtocolError) as e:
        raise UsageError(str(e)) from None
    try:
        board = NetworkBoard.open(args.port, args.design, args.baud, args.timeout)
    except ParameterError as e:
        raise UsageError(str(e)) from None
    except ProtocolError as e:
        print(f"scfpga: error: {e}", file=sys.stderr)
        return 1
    with board:
        try:
            params = read_weights(board.design, args.weights)
            if x is not None:
                board.design.with_weights(params).loads_from_x(x)     # a bad --x loses nothing
        except ParameterError as e:
            raise UsageError(f"{e}") from None
        try:
            report = board.load(params)
        except ProtocolError as e:
            print(f"scfpga: error: {e}", file=sys.stderr)
            return 1
        print(f"loaded {report.synapses} weights and biases: {report.words} load words in "
              f"{report.frames} frames ({report.bytes} bytes, "
              f"{report.seconds:.2f} s; {report.line_seconds(args.baud):.2f} s on the line at "
              f"{args.baud} baud)")
        if x is None:
            return 0
        try:
            out = board.run(x)
        except (ParameterError, ProtocolError) as e:       # a difference, or the link
            print(f"scfpga: error: {e}", file=sys.stderr)
            return 1
        print(f"{len(out.raw)} samples bit-exact with the golden model of the loaded network; "
              f"classes {out.classes.tolist()}")
    return 0
