"""LeNet-5 by hand in NumPy, for ``lenet_epoch.py``: the model all frameworks build, their
common initial weights, a hand-written training step with chainrule's algorithm and one
with only its matrix products.

* ``numpy``: a hand-written forward/backward with the same algorithm as chainrule
  (im2col by stride tricks and one GEMM per conv layer, col2im by slice-adds, 2x2
  max-pooling by strided views): the arithmetic without a framework.
* ``gemm``: only the matrix products of those passes, on arrays of the same shapes and
  with chainrule's BLAS thread policy (:mod:`chainrule.backend.blas`): the floor any
  im2col implementation pays. gemm / chainrule is the GEMM share of chainrule's step.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from chainrule.backend import blas

BATCH, LR, MOMENTUM = 64, 0.01, 0.9
# (name, shape) of each layer's weight, in order; biases have shape[0]
LAYERS = (("conv1", (6, 1, 5, 5)), ("conv2", (16, 6, 5, 5)), ("fc1", (120, 400)),
          ("fc2", (84, 120)), ("fc3", (10, 84)))


def initial_weights(seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """PyTorch's default Conv2d/Linear init (U(+-1/sqrt(fan_in)) for weight and bias)."""
    rng = np.random.default_rng(seed)
    out = []
    for _, shape in LAYERS:
        bound = 1 / np.sqrt(np.prod(shape[1:]))
        out.append((rng.uniform(-bound, bound, shape).astype(np.float32),
                    rng.uniform(-bound, bound, shape[0]).astype(np.float32)))
    return out


def lenet(nn: Any) -> Any:
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                         nn.Linear(84, 10))


def _load(model: Any, lib: Any, convert: Any) -> None:
    layers = [m for m in model if hasattr(m, "weight")]
    with lib.no_grad():
        for layer, (w, b) in zip(layers, initial_weights(), strict=True):
            layer.weight.copy_(convert(w))
            layer.bias.copy_(convert(b))


Stepper = tuple[Any, Any]  # (step(sample indices), evaluate() -> test accuracy)


def _conv(x: np.ndarray, W: np.ndarray, b: np.ndarray, pad: int
          ) -> tuple[np.ndarray, np.ndarray]:
    """(y, columns): im2col by a strided view and one GEMM."""
    if pad:
        x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    n, c, h, w = x.shape
    o, _, k, _ = W.shape
    ho, wo = h - k + 1, w - k + 1
    cols = sliding_window_view(x, (k, k), axis=(2, 3)).transpose(0, 1, 4, 5, 2, 3)
    cols = cols.reshape(n, c * k * k, ho * wo)
    y = np.matmul(W.reshape(o, -1), cols)
    y += b[:, None]
    return y.reshape(n, o, ho, wo), cols


def _conv_back(gy: np.ndarray, cols: np.ndarray, W: np.ndarray, x_shape: tuple[int, ...],
               pad: int, need_x: bool) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    n, o, ho, wo = gy.shape
    g = gy.reshape(n, o, ho * wo)
    gW = np.matmul(g, cols.transpose(0, 2, 1)).sum(axis=0).reshape(W.shape)
    gb = g.sum(axis=(0, 2))
    if not need_x:
        return None, gW, gb
    c, k = W.shape[1], W.shape[2]
    # batch-last, as chainrule does it: one GEMM, then kH*kW slice-adds over runs of Wo*N
    g_t = gy.transpose(1, 2, 3, 0).reshape(o, ho * wo * n)
    dcols = W.reshape(o, -1).T.dot(g_t).reshape(c, k, k, ho, wo, n)
    gx = np.zeros((c, x_shape[2] + 2 * pad, x_shape[3] + 2 * pad, n), np.float32)
    for i in range(k):
        for j in range(k):
            gx[:, i:i + ho, j:j + wo] += dcols[:, i, j]
    gx = gx[:, pad:pad + x_shape[2], pad:pad + x_shape[3]]
    return np.ascontiguousarray(gx.transpose(3, 0, 1, 2)), gW, gb


QUARTERS = ((0, 0), (0, 1), (1, 0), (1, 1))  # the 2x2 window's pixels, in scan order


def _pool(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """2x2 max-pooling: (y, the index 0-3 of each window's first maximum)."""
    views = [x[:, :, i::2, j::2] for i, j in QUARTERS]
    y = views[0].copy()
    for v in views[1:]:
        np.maximum(y, v, out=y)
    index = np.zeros(y.shape, np.uint8)
    found = views[0] == y
    for p, v in enumerate(views[1:], 1):
        hit = v == y
        hit &= ~found
        found |= hit
        index += hit * np.uint8(p)
    return y, index


def _pool_back(g: np.ndarray, index: np.ndarray) -> np.ndarray:
    """The gradient to each window's first maximum (as PyTorch and chainrule send it)."""
    n, c, h, w = g.shape
    gx = np.empty((n, c, 2 * h, 2 * w), np.float32)
    for p, (i, j) in enumerate(QUARTERS):
        np.multiply(g, index == p, out=gx[:, :, i::2, j::2])
    return gx


def _numpy_step(params: list[Any], velocity: list[Any], x: np.ndarray, y: np.ndarray) -> None:
    (W1, b1), (W2, b2), (W3, b3), (W4, b4), (W5, b5) = params
    z1, cols1 = _conv(x, W1, b1, 2)
    a1 = np.maximum(z1, 0)
    p1, m1 = _pool(a1)
    z2, cols2 = _conv(p1, W2, b2, 0)
    a2 = np.maximum(z2, 0)
    p2, m2 = _pool(a2)
    f = p2.reshape(len(x), -1)
    h3 = np.maximum(f.dot(W3.T) + b3, 0)
    h4 = np.maximum(h3.dot(W4.T) + b4, 0)
    out = h4.dot(W5.T) + b5
    e = np.exp(out - out.max(axis=1, keepdims=True))
    g = e / e.sum(axis=1, keepdims=True)
    g[np.arange(len(y)), y] -= 1
    g /= np.float32(len(y))
    grads: list[Any] = [None] * 5
    grads[4] = (g.T.dot(h4), g.sum(0))
    g = g.dot(W5) * (h4 > 0)
    grads[3] = (g.T.dot(h3), g.sum(0))
    g = g.dot(W4) * (h3 > 0)
    grads[2] = (g.T.dot(f), g.sum(0))
    g = g.dot(W3).reshape(p2.shape)
    g = _pool_back(g, m2) * (z2 > 0)
    gx, gW, gb = _conv_back(g, cols2, W2, p1.shape, 0, True)
    assert gx is not None
    grads[1] = (gW, gb)
    g = _pool_back(gx, m1) * (z1 > 0)
    _, gW, gb = _conv_back(g, cols1, W1, x.shape, 2, False)
    grads[0] = (gW, gb)
    for (w, b), (vw, vb), (gw, gbias) in zip(params, velocity, grads, strict=True):
        vw *= MOMENTUM
        vw += gw
        vb *= MOMENTUM
        vb += gbias
        w -= np.float32(LR) * vw
        b -= np.float32(LR) * vb


def _gemm_operands(params: list[Any]) -> list[tuple[np.ndarray, ...]]:
    """Arrays laid out as chainrule's ops hand them to BLAS (random values, same shapes)."""
    rng = np.random.default_rng(0)
    operands: list[tuple[np.ndarray, ...]] = []
    for (w, _), length in zip(params[:2], (28 * 28, 10 * 10), strict=True):  # output pixels
        o, ckk = w.shape[0], w[0].size
        operands.append((w.reshape(1, o, ckk),  # forward: W @ cols[n], batched over n
                         rng.random((BATCH, 1, ckk, length), np.float32),
                         rng.random((BATCH, 1, o, length), np.float32),  # dy
                         rng.random((1, o, length * BATCH), np.float32)))  # dy batch-last
    for w, _ in params[2:]:
        operands.append((w, rng.random((BATCH, w.shape[1]), np.float32)))
    return operands


def _gemm_step(operands: list[tuple[np.ndarray, ...]]) -> None:
    """The matrix products of one step, as chainrule calls them (and on as many BLAS
    threads): per conv layer matmul(W, cols) and matmul(dy, cols^T) batched over the
    images, and (but for the first layer, whose input needs no gradient) matmul(W^T, dy) as
    one product on the batch-last dy; per linear layer x.dot(W.T), dy.dot(W) and
    dy.T.dot(x)."""
    for i, arrays in enumerate(operands):
        if len(arrays) == 4:
            w3, cols, gy4, gy_t = arrays
            o, ckk, length = w3.shape[1], cols.shape[2], cols.shape[3]
            with blas.serial(np, o, ckk, length):
                np.matmul(w3, cols)
            with blas.serial(np, o, length, ckk):
                np.matmul(gy4, cols.swapaxes(-1, -2))
            if i:
                with blas.serial(np, ckk, o, gy_t.shape[2]):
                    np.matmul(w3.swapaxes(1, 2), gy_t)
        else:
            w, x = arrays
            with blas.serial(np, len(x), w.shape[1], w.shape[0]):
                y = x.dot(w.T)
            with blas.serial(np, len(x), w.shape[0], w.shape[1]):
                y.dot(w)
                y.T.dot(x)


def make_numpy(data: tuple[np.ndarray, ...], gemm_only: bool = False) -> Stepper:
    """The hand-written NumPy loop, or (``gemm_only``) only its matrix products."""
    X, Y, Xt, Yt = data
    params = initial_weights()
    velocity = [(np.zeros_like(w), np.zeros_like(b)) for w, b in params]
    operands = _gemm_operands(params)

    def step(index: np.ndarray) -> None:
        if gemm_only:
            _gemm_step(operands)
        else:
            _numpy_step(params, velocity, X[index], Y[index])

    def evaluate() -> float:
        if gemm_only:
            return float("nan")
        (W1, b1), (W2, b2), (W3, b3), (W4, b4), (W5, b5) = params
        h = _pool(np.maximum(_conv(Xt, W1, b1, 2)[0], 0))[0]
        h = _pool(np.maximum(_conv(h, W2, b2, 0)[0], 0))[0].reshape(len(h), -1)
        h = np.maximum(np.maximum(h.dot(W3.T) + b3, 0).dot(W4.T) + b4, 0).dot(W5.T) + b5
        return float((h.argmax(1) == Yt).mean())

    return step, evaluate
