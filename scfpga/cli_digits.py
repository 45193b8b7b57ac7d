"""``scfpga digits``: classify handwritten digits on a board that runs a digits design.

The board holds a bitstream ``make demo`` builds: the dense layer (``build/demo/<board>/``) or
the spiking MLP (``build/demo/<board>-mlp/``); its ``design.json`` says which. Each test image is quantised to 64 thresholds, sent
over the UART, run for L cycles and read back; the predicted class is the neuron with the
largest score. Every board result is compared with the golden model, and the accuracy with the
labels. ``--port sim`` runs the same protocol against the software board.
"""
import sys

import numpy as np

from . import digits as D
from .boards.host import BoardClient
from .boards.network_host import write_weights
from .boards.ops import load_design
from .boards.protocol import ProtocolError
from .cli import UsageError
from .cli_board import BAUD_HELP, link_baud
from .model.params import ParameterError


def register(sub):
    p = sub.add_parser("digits", help="classify test digits on a board running the digits layer",
                       description=__doc__.splitlines()[0])
    p.add_argument("design", metavar="DESIGN", help="design.json written by the digits build")
    p.add_argument("--port", required=True, help="serial port of the board, or 'sim'")
    p.add_argument("--images", type=int, default=20, help="test images to classify (default: 20)")
    p.add_argument("--baud", type=int, default=None, help=BAUD_HELP)
    p.add_argument("--timeout", type=float, default=2.0, help="reply timeout in seconds (default: 2)")
    p.set_defaults(func=cmd_digits)


def cmd_digits(args):
    try:
        design = load_design(args.design)
    except ParameterError as e:
        raise UsageError(str(e)) from None
    outputs = design.n_results // 2 if getattr(design, "name", None) in ("dense", "network") else 0
    if getattr(design, "sample_loads", design.n_loads) != 64 or outputs != 10:
        raise UsageError(f"{args.design} is not a digits design (a dense layer or a network with "
                         f"64 inputs and 10 outputs)")
    split = D.load_split()
    if not 1 <= args.images <= len(split.y_test):
        raise UsageError(f"--images must be in 1..{len(split.y_test)}, got {args.images}")
    loads = design.loads_from_x(split.x_test[:args.images])
    expected = design.expected_results(loads)
    try:
        with BoardClient.open(args.port, link_baud(args.design, args.baud), design=design,
                              timeout=args.timeout) as board:
            write_weights(board, design)      # run-time weights: the design file's own
            results = board.evaluate(design, loads)          # already decoded
    except ProtocolError as e:
        print(f"scfpga: error: {e}", file=sys.stderr)
        return 1
    predictions = design.predict(results)
    for i, (p, y) in enumerate(zip(predictions, split.y_test[:args.images])):
        print(f"image {i}: predicted {p}, label {y}{'' if p == y else '  (wrong)'}")
    exact = bool((results == expected).all())
    print(f"accuracy {100 * np.mean(predictions == split.y_test[:args.images]):.1f} % on "
          f"{args.images} images; board results {'bit-exact with' if exact else 'DIFFER from'} "
          f"the golden model")
    return 0 if exact else 1
