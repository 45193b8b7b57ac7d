"""Source dispatch: the component for an LFSR or Sobol parameter object."""
from ..model.lfsr import LFSRParams
from ..model.params import ParameterError
from ..model.sobol import SobolParams
from .lfsr import LFSR
from .sobol import Sobol


def make_source(params):
    """An :class:`LFSR` or :class:`Sobol` component for ``params``."""
    if isinstance(params, LFSRParams):
        return LFSR(params)
    if isinstance(params, SobolParams):
        return Sobol(params)
    raise ParameterError(f"source must be LFSRParams or SobolParams, got {type(params).__name__}")
