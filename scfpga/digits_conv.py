"""Handwritten digits on a spiking SC conv network: conv 3x3 x C -> 2x2 average pool -> dense 10.

The conv sibling of :mod:`scfpga.digits_mlp` (same data, split, encoding and conversion rules):

1. **Data**: :func:`scfpga.digits.load_split` (1257 / 540 images, seed 0), ``pixel / 16``; an
   image is the 1 x 8 x 8 map, HWC order = pixel order (:mod:`scfpga.model.conv`).
2. **Float network** (:func:`train_conv`, NumPy, Adam, softmax cross-entropy): a 3x3 conv
   (padding 1) whose activation is the hardware neuron's rate ``clip(relu(z) / theta, 0, 1)``
   (integer ``theta``, kernel and bias clipped to [-1, 1] after every step, as the MLP's hidden
   layer), then 2x2 average pooling of the rates (the avgpool layer's IF neuron of threshold 4
   fires at the window's mean rate), then a free dense layer to 10 scores. The conv is a matmul
   on the patches of the shared index table (:meth:`scfpga.model.conv.Geometry.input_index`).
3. **Conversion** (:func:`to_network`): conv weights quantised as they are (scale 1, threshold
   ``theta``), the dense layer divided by its largest magnitude; IF neurons.
4. **Golden model**: ``Network(params).predict`` (argmax of the output scores).
"""
from dataclasses import dataclass

import numpy as np

from .digits import N_CLASSES, WIDTH
from .model.conv import ConvLayer, Geometry, PoolLayer
from .model.dense import quantize_weights
from .model.network import DenseLayer, Network, NetworkParams
from .model.neuron import lif_neuron

CHANNELS = 8
THETA = 2
LENGTH = 256
EPOCHS = 150
SHAPE = (1, 8, 8)
# Hardware layout: conv taps per clock and out channels per accumulator; dense fold.
CONV_LANES, CONV_FOLD, DENSE_FOLD = 1, 1, 2


@dataclass
class FloatConv:
    kernel: np.ndarray        # (C, 9) taps (ky, kx)
    bias: np.ndarray          # (C,)
    w2: np.ndarray            # (10, 16 * C) on the pooled HWC vector
    b2: np.ndarray
    theta: int

    def features(self, x):
        z = _patches(x) @ self.kernel.T + self.bias              # (n, 64, C)
        h = np.clip(np.maximum(z, 0) / self.theta, 0, 1)
        return z, h, _pool(h)

    def decision(self, x):
        return self.features(x)[2] @ self.w2.T + self.b2

    def predict(self, x):
        return np.argmax(self.decision(x), axis=1)


def _patches(x):
    idx = Geometry(SHAPE, (3, 3), 1, 1, False).input_index()         # (64, 9), -1 = padding
    padded = np.concatenate([x, np.zeros((len(x), 1))], axis=1)
    return padded[:, idx]


def _pool(h):
    n, _, c = h.shape
    return h.reshape(n, 4, 2, 4, 2, c).mean((2, 4)).reshape(n, -1)


def train_conv(x, y, channels=CHANNELS, theta=THETA, epochs=EPOCHS, lr=0.01, batch=64, seed=0,
               weight_decay=1e-4):
    """A :class:`FloatConv` trained with Adam (seeded, NumPy, a few seconds)."""
    rng = np.random.default_rng(seed)
    p = {"kernel": rng.normal(0, theta / 6, (channels, 9)),
         "bias": np.full(channels, 0.1 * theta),
         "w2": rng.normal(0, 1 / np.sqrt(16 * channels), (N_CLASSES, 16 * channels)),
         "b2": np.zeros(N_CLASSES)}
    m = {k: np.zeros_like(v) for k, v in p.items()}
    v = {k: np.zeros_like(val) for k, val in p.items()}
    step, onehot = 0, np.eye(N_CLASSES)[y]
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for lo in range(0, len(x), batch):
            i = order[lo:lo + batch]
            net = FloatConv(p["kernel"], p["bias"], p["w2"], p["b2"], theta)
            patches = _patches(x[i])
            z, h, f = net.features(x[i])
            s = f @ p["w2"].T + p["b2"]
            e = np.exp(s - s.max(1, keepdims=True))
            d = (e / e.sum(1, keepdims=True) - onehot[i]) / len(i)
            df = (d @ p["w2"]).reshape(len(i), 4, 1, 4, 1, channels) / 4
            dh = np.broadcast_to(df, (len(i), 4, 2, 4, 2, channels)).reshape(len(i), 64, channels)
            dz = dh * ((z > 0) & (z < theta)) / theta
            grads = {"kernel": np.einsum("npc,npt->ct", dz, patches), "bias": dz.sum((0, 1)),
                     "w2": d.T @ f + weight_decay * p["w2"], "b2": d.sum(0)}
            step += 1
            for k in p:
                m[k] = 0.9 * m[k] + 0.1 * grads[k]
                v[k] = 0.999 * v[k] + 0.001 * grads[k] ** 2
                p[k] -= lr * (m[k] / (1 - 0.9 ** step)) / (np.sqrt(v[k] / (1 - 0.999 ** step))
                                                          + 1e-8)
            p["kernel"] = np.clip(p["kernel"], -1, 1)
            p["bias"] = np.clip(p["bias"], -1, 1)
    return FloatConv(p["kernel"], p["bias"], p["w2"], p["b2"], theta)


def to_network(model, width=WIDTH, length=LENGTH, source="sobol", seed=0, x_calib=None,
               accumulation="sc"):
    """The :class:`NetworkParams` (conv -> avgpool -> dense) of a :class:`FloatConv`; with
    ``accumulation="exact"`` the conv adds its integer weights per spike (threshold
    ``theta * 2**width``, the same 1.0)."""
    c = len(model.kernel)
    theta = model.theta << width if accumulation == "exact" else model.theta
    conv = ConvLayer(quantize_weights(model.kernel.reshape(c, 1, 3, 3), width), SHAPE,
                     quantize_weights(model.bias, width), 1, 1, _if(theta), CONV_LANES,
                     CONV_FOLD, accumulation)
    pool = PoolLayer("avg", conv.out_shape, 2)
    s = 1 / max(1.0, np.abs(model.w2).max(), np.abs(model.b2).max())
    thr = 1.0 if x_calib is None else max(1.0, float(np.max(model.decision(x_calib))))
    dense = DenseLayer(quantize_weights(model.w2 * s, width), quantize_weights(model.b2 * s, width),
                       _if(max(1, int(round(thr * s)))), 1, DENSE_FOLD)
    return NetworkParams(int(np.prod(SHAPE)), (conv, pool, dense), width, length, source, seed,
                         input_shape=SHAPE)


def _if(threshold):
    return lif_neuron(width=16, threshold=threshold, leak_shift=0, reset="subtract")


def evaluate(params, x, y):
    return float(np.mean(Network(params).predict(np.asarray(x)) == np.asarray(y)))
