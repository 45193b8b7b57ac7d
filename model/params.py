"""Validation helpers shared by every parameter object."""
import numbers

import numpy as np


class ParameterError(ValueError):
    """A block parameter is outside its allowed range.

    The message always names the parameter and the range, so the CLI can print it as is.
    """


def check_int(name, value, lo, hi=None):
    """Return ``value`` as ``int`` if it is an integer in ``lo..hi`` (inclusive), else raise."""
    rng = f"{lo}..{hi}" if hi is not None else f">= {lo}"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ParameterError(f"{name} must be an integer in {rng}, got {value!r}")
    value = int(value)
    if value < lo or (hi is not None and value > hi):
        raise ParameterError(f"{name} must be in {rng}, got {value}")
    return value


def check_choice(name, value, choices):
    if value not in choices:
        raise ParameterError(f"{name} must be one of {', '.join(map(str, choices))}, got {value!r}")
    return value


def load_array(path, what):
    """``np.load(path)`` (None for None); an unreadable file is a ParameterError naming ``what``."""
    if path is None:
        return None
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise ParameterError(f"{what} must be a readable .npy file, got {str(path)!r} ({e})") from None
    if not np.issubdtype(array.dtype, np.number):
        raise ParameterError(f"{what} must hold numbers, got dtype {array.dtype} in {path}")
    return array
