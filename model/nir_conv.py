"""NIR convolution, pooling and flatten nodes: geometry checks, layout and the float reference.

NIR (like PyTorch) lays a feature map out as ``(C, H, W)`` and flattens it in that order; scfpga
flattens maps in HWC order (:mod:`.conv`). :func:`chw_index` is the one permutation between the
two: a dense layer after a ``Flatten`` gets its weight columns permuted, network inputs that
are a map are given in HWC order (:func:`to_hwc` converts a NIR-ordered batch), and the
fidelity comparison permutes scfpga's map layers back to NIR order.

Geometry a node must have to map onto a :class:`.conv.ConvLayer` or :class:`.conv.PoolLayer`
(else an error naming the node and the value): equal strides in both directions, symmetric
padding (an integer, a pair of equal integers, ``"valid"``, or ``"same"`` at stride 1 with an
odd kernel), dilation 1 and groups 1; kernel, stride and padding within the layer's ranges
(checked by the layer). A ``Conv1d`` is a Conv2d over a ``(C, 1, L)`` map with a ``1 x k``
kernel (padding 0 only).
"""
import numpy as np

from .params import ParameterError


def chw_index(shape):
    """For a map ``(C, H, W)``: ``p`` with ``chw_vector = hwc_vector[..., p]``."""
    c, h, w = shape
    return np.arange(c * h * w).reshape(h, w, c).transpose(2, 0, 1).ravel()


def to_hwc(x, shape):
    """A batch of NIR-ordered (CHW) flat maps ``(..., C*H*W)`` in scfpga's HWC order."""
    x = np.asarray(x)
    out = np.empty_like(x)
    out[..., chw_index(shape)] = x
    return out


def _pair(name, node, attr):
    """An int or a pair of ints that must be equal (scfpga has one stride / padding)."""
    kind = type(node).__name__
    v = getattr(node, attr)
    a = np.asarray(v).ravel()
    if a.size not in (1, 2) or not np.all(a == np.round(a)):
        raise ParameterError(f"node {name!r} ({kind}): {attr} must be an integer or a pair of "
                             f"integers, got {v!r}")
    if a.size == 2 and a[0] != a[1]:
        raise ParameterError(f"node {name!r} ({kind}): {attr} {tuple(int(x) for x in a)} "
                             "differs between height and width; scfpga layers have one")
    return int(a[0])


def _padding(name, node, kernel, stride):
    p = node.padding
    if isinstance(p, str):
        if p == "valid":
            return 0
        if p == "same" and stride == 1 and kernel[0] == kernel[1] and kernel[0] % 2:
            return (kernel[0] - 1) // 2
        raise ParameterError(f"node {name!r} ({type(node).__name__}): padding {p!r} is not a "
                             "symmetric padding ('valid', or 'same' at stride 1 with an odd "
                             "square kernel)")
    return _pair(name, node, "padding")


def conv_geometry(name, node, in_shape):
    """``(kernel (O, C, kh, kw) float64, bias (O,) or None, stride, padding)`` of a Conv2d
    node reading the map ``in_shape``; an all-zero bias is None (NIR's Conv2d always has one).

    A ``Conv1d`` reads a ``(C, L)`` sequence as the map ``(C, 1, L)`` (:func:`map_shape`) with
    a ``(O, C, 1, k)`` kernel; scfpga pads both axes of a map alike, so only padding 0 (or
    ``"valid"``) maps."""
    kind = type(node).__name__
    if len(in_shape) != 3:
        raise ParameterError(f"node {name!r} ({kind}) needs a (C, H, W) map as input, got shape "
                             f"{in_shape}")
    w = np.asarray(node.weight, np.float64)
    if kind == "Conv1d":
        if w.ndim != 3 or w.shape[1] != in_shape[0]:
            raise ParameterError(f"node {name!r} (Conv1d): weight must have shape (out, "
                                 f"{in_shape[0]}, k), got {w.shape}")
        w = w[:, :, None, :]
    if w.ndim != 4 or w.shape[1] != in_shape[0]:
        raise ParameterError(f"node {name!r} ({kind}): weight must have shape (out, "
                             f"{in_shape[0]}, kh, kw), got {w.shape}")
    if not np.all(np.isfinite(w)):
        raise ParameterError(f"node {name!r} ({kind}): weight must be finite")
    if _pair(name, node, "dilation") != 1:
        raise ParameterError(f"node {name!r} ({kind}): dilation must be 1")
    if int(np.asarray(node.groups).ravel()[0]) != 1:
        raise ParameterError(f"node {name!r} ({kind}): groups must be 1 (scfpga convolutions "
                             "read every input channel)")
    stride = _pair(name, node, "stride")
    if kind == "Conv1d":
        padding = 0 if isinstance(node.padding, str) and node.padding == "valid" else \
            -1 if isinstance(node.padding, str) else _pair(name, node, "padding")
        if padding != 0:
            raise ParameterError(f"node {name!r} (Conv1d): padding must be 0 ('valid'), got "
                                 f"{node.padding!r}: scfpga pads both axes of its (C, 1, L) map")
    else:
        padding = _padding(name, node, w.shape[2:], stride)
    b = None if node.bias is None else np.asarray(node.bias, np.float64).ravel()
    if b is not None and b.size == 1 and w.shape[0] > 1:
        b = np.full(w.shape[0], float(b[0]))
    if b is not None and b.shape != (w.shape[0],):
        raise ParameterError(f"node {name!r} ({kind}): bias must have {w.shape[0]} values, got "
                             f"shape {b.shape}")
    if b is not None and not np.any(b):
        b = None
    return w, b, stride, padding


def map_shape(shape, chain):
    """The NIR input ``shape`` as scfpga sees it: a ``(C, L)`` sequence read by a ``Conv1d``
    (the first map node of ``chain``, a list of ``(name, node)``) is the map ``(C, 1, L)``;
    anything else unchanged. Both flatten in the same order."""
    kinds = [type(node).__name__ for _, node in chain]
    maps = [k for k in kinds if k in ("Conv1d", "Conv2d", "SumPool2d", "AvgPool2d")]
    if len(shape) == 2 and maps and maps[0] == "Conv1d":
        return (shape[0], 1, shape[1])
    return shape


def pool_geometry(name, node, in_shape):
    """``((kh, kw), stride, padding)`` of a SumPool2d/AvgPool2d node reading ``in_shape``."""
    if len(in_shape) != 3:
        raise ParameterError(f"node {name!r} ({type(node).__name__}) needs a (C, H, W) map as "
                             f"input, got shape {in_shape}")
    k = np.asarray(node.kernel_size).ravel()
    if k.size == 1:
        k = np.repeat(k, 2)
    if k.size != 2 or not np.all(k == np.round(k)) or k.min() < 1:
        raise ParameterError(f"node {name!r} ({type(node).__name__}): kernel_size must be one "
                             f"or two positive integers, got {node.kernel_size!r}")
    kernel = (int(k[0]), int(k[1]))
    stride = _pair(name, node, "stride")
    return kernel, stride, _padding(name, node, kernel, stride)


def out_shape(in_shape, out_channels, kernel, stride, padding):
    _, h, w = in_shape
    return (out_channels, (h + 2 * padding - kernel[0]) // stride + 1,
            (w + 2 * padding - kernel[1]) // stride + 1)


# ----------------------------------------------------------------------------- float reference

def _windows(x, kernel, stride, padding, oh, ow):
    """Per tap ``(ky, kx)``: the input window slice ``(B, C, oh, ow, T)`` of a zero-padded
    ``x (B, C, H, W, T)``."""
    p = padding
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p), (0, 0))) if p else x
    for ky in range(kernel[0]):
        for kx in range(kernel[1]):
            yield ky, kx, xp[:, :, ky:ky + stride * oh:stride, kx:kx + stride * ow:stride]


def reference_conv(x, in_shape, weight, bias, stride, padding):
    """NIR Conv2d in float64 on flat CHW ``x (B, C*H*W, T)``: ``(B, O*OH*OW, T)``."""
    B, _, T = x.shape
    w = np.asarray(weight, np.float64)
    o, oh, ow = out_shape(in_shape, w.shape[0], w.shape[2:], stride, padding)
    y = np.zeros((B, o, oh, ow, T))
    for ky, kx, win in _windows(x.reshape(B, *in_shape, T), w.shape[2:], stride, padding, oh, ow):
        y += np.einsum("oc,bcyxt->boyxt", w[:, :, ky, kx], win)
    if bias is not None:
        y += np.asarray(bias, np.float64).reshape(1, -1, 1, 1, 1)
    return y.reshape(B, -1, T)


def reference_pool(x, in_shape, kernel, stride, padding, average):
    """NIR SumPool2d (or AvgPool2d, zero padding counted) on flat CHW ``x (B, n, T)``."""
    B, _, T = x.shape
    c, oh, ow = out_shape(in_shape, in_shape[0], kernel, stride, padding)
    y = np.zeros((B, c, oh, ow, T))
    for _, _, win in _windows(x.reshape(B, *in_shape, T), kernel, stride, padding, oh, ow):
        y += win
    if average:
        y /= kernel[0] * kernel[1]
    return y.reshape(B, -1, T)
