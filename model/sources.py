"""The two kinds of bitstream source, behind one dispatch used by SNG, MUX and layers."""
from .lfsr import LFSRParams, lfsr_sequence
from .params import ParameterError
from .sobol import SobolParams, sobol_sequence

SOURCE_KINDS = ("lfsr", "sobol")


def source_sequence(source, n):
    """Values of an LFSR or Sobol source during cycles ``0..n-1``."""
    if isinstance(source, LFSRParams):
        return lfsr_sequence(source, n)
    if isinstance(source, SobolParams):
        return sobol_sequence(source, n)
    raise ParameterError(f"source must be LFSRParams or SobolParams, got {type(source).__name__}")


def source_kind(source):
    return "lfsr" if isinstance(source, LFSRParams) else "sobol"
