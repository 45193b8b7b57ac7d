"""Packed bitstreams: bit ``k`` of a stream lives in bit ``k % 64`` of word ``k // 64``.

Layers keep streams packed so that an AND of two 1024-bit streams is 16 word operations and a
decode is one ``np.bitwise_count`` per word.
"""
import numpy as np


def pack_bits(bits):
    """Pack a 0/1 array along its last axis into uint64 words (zero-padded to a multiple of 64)."""
    bits = np.asarray(bits, dtype=np.uint8)
    n = bits.shape[-1]
    pad = (-n) % 64
    if pad:
        bits = np.concatenate([bits, np.zeros(bits.shape[:-1] + (pad,), np.uint8)], axis=-1)
    packed = np.packbits(bits, axis=-1, bitorder="little")
    return np.ascontiguousarray(packed).view("<u8").astype(np.uint64, copy=False)


def unpack_bits(words, n):
    """Inverse of :func:`pack_bits`: the first ``n`` bits along the last axis as uint8."""
    words = np.ascontiguousarray(np.asarray(words, dtype="<u8"))
    return np.unpackbits(words.view(np.uint8), axis=-1, count=n, bitorder="little")


def popcount(words):
    """Number of ones per stream (sum of ``np.bitwise_count`` over the last axis)."""
    return np.bitwise_count(words).sum(axis=-1, dtype=np.int64)
