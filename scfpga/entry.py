"""The ``scfpga`` command's entry point (``python -m scfpga`` too).

Loading the CLI imports Amaranth, NumPy and the whole package, which takes seconds on a busy
machine; a Ctrl-C in that time is one line and exit 130 like one during a command
(:func:`scfpga.cli.main` handles those), never a traceback.
"""
import signal
import sys


def _interrupted_while_loading(signum, frame):
    sys.stderr.write("scfpga: interrupted\n")
    sys.exit(128 + signum)


signal.signal(signal.SIGINT, _interrupted_while_loading)
from .cli import main as cli_main  # noqa: E402  (after the handler, on purpose)
signal.signal(signal.SIGINT, signal.default_int_handler)


def main(argv=None):
    return cli_main(argv)
