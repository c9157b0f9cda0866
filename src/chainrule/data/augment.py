"""Data augmentation for batches of images: shifts, rotations and elastic distortions.

Each kind moves pixels. Output pixel (i, j) of an image reads its input at a source point
(y, x): (i, j) minus a shift, turned about the image centre, plus an elastic displacement,
by bilinear interpolation (outside the image: 0, MNIST's background). One grid of source
points is built for the whole batch and sampled in one gather, so a batch costs a few array
operations whatever its size: there is no loop over images or pixels.

- ``shift``: a whole-pixel translation of up to ``max_shift`` pixels each way, uniform.
- ``rotate``: an angle uniform in [-``max_degrees``, ``max_degrees``], about the centre.
- ``elastic``: Simard, Steinkraus and Platt (2003), "Best practices for convolutional
  neural networks applied to visual document analysis": two displacement fields (rows,
  columns) of uniform(-1, 1) values per pixel, smoothed by a Gaussian of standard
  deviation ``sigma`` pixels and scaled by ``alpha``; the output at p is the input at
  p + displacement(p). Their MNIST values, sigma 4 and alpha 34, are the defaults. The
  fields are not normalized (as in the widely used implementations of the paper, with
  scipy's gaussian_filter in mode "constant"): on 28x28 images each component has a
  standard deviation of 1.4 pixels in the middle, 0.8 at the corners.

The random numbers come from the ``rng`` passed in; the :class:`~chainrule.data.DataLoader`
gives each batch its own, made from the run's seeded generator, the epoch and the batch
number, so a resumed run draws the same distortions as an uninterrupted one.

>>> import numpy as np
>>> images = np.zeros((2, 5, 5), np.float32)
>>> images[:, 2, 2] = 1.0
>>> out = Augment(["shift"], max_shift=1)(images, np.random.default_rng(0))
>>> out.shape, out.dtype, out.sum(axis=(1, 2)).tolist()
((2, 5, 5), dtype('float32'), [1.0, 1.0])
>>> Augment(["blur"])
Traceback (most recent call last):
...
ValueError: augmentation 'blur': expected any of shift, rotate, elastic
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from typing import Any

import numpy as np

AUGMENTATIONS = ("shift", "rotate", "elastic")


def parse_kinds(value: Any) -> list[str]:
    """The kinds of a comma list (``chainrule train --augment``) or a list, in
    :data:`AUGMENTATIONS`' order; '' and 'none' are none. ValueError names a wrong one.

    >>> parse_kinds("elastic,shift"), parse_kinds(["rotate"]), parse_kinds("none")
    (['shift', 'elastic'], ['rotate'], [])
    >>> parse_kinds("shift,shift")
    Traceback (most recent call last):
    ...
    ValueError: shift is listed twice
    """
    if isinstance(value, list | tuple):
        items = [str(item).strip() for item in value]
    else:
        text = str(value).strip()
        items = [] if text.lower() in ("", "none") else [t.strip() for t in text.split(",")]
    for i, item in enumerate(items):
        if item not in AUGMENTATIONS:
            raise ValueError(f"{item!r} is not one of {', '.join(AUGMENTATIONS)} (give a comma "
                             "list of them, e.g. shift,elastic)")
        if item in items[:i]:
            raise ValueError(f"{item} is listed twice")
    return [kind for kind in AUGMENTATIONS if kind in items]


def gaussian_kernel(sigma: float, truncate: float = 4.0) -> np.ndarray:
    """The normalized 1-D Gaussian of standard deviation ``sigma``, cut at ``truncate``
    sigmas (as scipy.ndimage's gaussian_filter).

    >>> gaussian_kernel(1.0).round(3).tolist()
    [0.0, 0.004, 0.054, 0.242, 0.399, 0.242, 0.054, 0.004, 0.0]
    """
    radius = int(truncate * sigma + 0.5)
    offsets = np.arange(-radius, radius + 1, dtype=np.float64)
    kernel = np.exp(-0.5 * (offsets / sigma) ** 2)
    return kernel / kernel.sum()


def blur_matrix(size: int, sigma: float) -> np.ndarray:
    """(size, size) matrix M with ``M @ v`` the Gaussian blur of a length-``size`` vector v,
    zero outside it (scipy's mode="constant"): M[i, j] = kernel[j - i + radius]."""
    return _blur_matrix(int(size), float(sigma)).copy()


@functools.lru_cache(maxsize=16)
def _blur_matrix(size: int, sigma: float) -> np.ndarray:
    kernel = gaussian_kernel(sigma)
    radius = len(kernel) // 2
    offsets = np.arange(size)[None, :] - np.arange(size)[:, None] + radius
    inside = (offsets >= 0) & (offsets < len(kernel))
    matrix = np.where(inside, kernel[np.clip(offsets, 0, len(kernel) - 1)], 0.0)
    matrix.flags.writeable = False  # cached: shared by every call
    return matrix


def gaussian_blur(fields: np.ndarray, sigma: float, scale: float = 1.0) -> np.ndarray:
    """Blur each (H, W) plane of ``fields`` (..., H, W) with a Gaussian of std ``sigma``,
    separably: along the rows, then along the columns, each a product with a blur matrix;
    the result times ``scale``.

    The products are stacked (one small product per plane, which NumPy loops over in C):
    one (N*H, W) @ (W, W) product was 0.4 ms on one BLAS thread but 11 ms with two on a
    busy 2-core machine (N = 256, 28x28).
    """
    h, w = fields.shape[-2:]
    rows = (_blur_matrix(h, float(sigma)) * scale).astype(fields.dtype)
    cols = _blur_matrix(w, float(sigma)).T.astype(fields.dtype)
    planes = fields.reshape(-1, h, w)
    return np.matmul(rows, np.matmul(planes, cols)).reshape(fields.shape)


def warp(images: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Bilinear samples of ``images`` at the source points (``ys``, ``xs``).

    Args:
        images: (N, H, W) or (N, C, H, W) floats; every channel is moved alike.
        ys, xs: (N, H, W) source row and column of each output pixel (pixel centres are
            0 .. H-1); a point outside the image reads zeros, as PyTorch's
            ``grid_sample(..., padding_mode="zeros", align_corners=True)``.

    Returns:
        An array shaped and typed like ``images``.
    """
    planes = images[:, None] if images.ndim == 3 else images
    n, c, h, w = planes.shape
    padded = np.zeros((n, c, h + 2, w + 2), images.dtype)  # a zero border: out of range
    padded[:, :, 1:-1, 1:-1] = planes
    values = padded.reshape(-1)
    # the points in the padded image; further out than its border reads the border all the
    # same. Every step below works in place on these new arrays (1.5x faster than without)
    ys = np.asarray(ys, images.dtype) + 1
    xs = np.asarray(xs, images.dtype) + 1
    np.clip(ys, 0, h + 1, out=ys)
    np.clip(xs, 0, w + 1, out=xs)
    y0 = np.floor(ys)
    x0 = np.floor(xs)
    np.minimum(y0, h, out=y0)
    np.minimum(x0, w, out=x0)
    ys -= y0  # the fractions: weights of the lower and right neighbours
    xs -= x0
    y0 *= w + 2
    y0 += x0  # exact in float32: at most (h + 2) * (w + 2)
    corner = y0.astype(np.intp).reshape(n, 1, -1)  # flat index of each top-left neighbour
    plane = (h + 2) * (w + 2)
    if c > 1:  # the same points in every channel
        corner = corner + (np.arange(c, dtype=np.intp) * plane).reshape(1, c, 1)
    corner += (np.arange(n, dtype=np.intp) * c * plane).reshape(n, 1, 1)
    fy, fx = ys.reshape(n, 1, -1), xs.reshape(n, 1, -1)
    top = np.take(values, corner)  # np.take on offset views: no index sums per neighbour
    right = np.take(values[1:], corner)
    right -= top
    right *= fx
    top += right  # the upper row, interpolated along x
    bottom = np.take(values[w + 2:], corner)
    right = np.take(values[w + 3:], corner)
    right -= bottom
    right *= fx
    bottom += right
    bottom -= top
    bottom *= fy
    top += bottom
    return top.reshape(images.shape)


def shift_pixels(images: np.ndarray, dy: np.ndarray, dx: np.ndarray) -> np.ndarray:
    """Each image moved by whole pixels, (``dy[k]``, ``dx[k]``) for image k (down, right),
    zeros coming in: one gather, no interpolation (the pixels are copied exactly)."""
    planes = images[:, None] if images.ndim == 3 else images
    n, c, h, w = planes.shape
    padded = np.zeros((n, c, h + 2, w + 2), images.dtype)
    padded[:, :, 1:-1, 1:-1] = planes
    rows = np.clip(np.arange(h)[None, :] - np.asarray(dy).reshape(n, 1), -1, h) + 1
    cols = np.clip(np.arange(w)[None, :] - np.asarray(dx).reshape(n, 1), -1, w) + 1
    batch = np.arange(n)[:, None, None, None]
    channel = np.arange(c)[None, :, None, None]
    out = padded[batch, channel, rows[:, None, :, None], cols[:, None, None, :]]
    return out.reshape(images.shape)


class Augment:
    """Random shifts, rotations and elastic distortions of a batch of images.

    Args:
        kinds: any of ``"shift"``, ``"rotate"``, ``"elastic"`` (applied together, in one
            resampling; their random numbers are drawn in that order).
        max_shift: largest translation in whole pixels, each way (default 2).
        max_degrees: largest rotation angle (default 15).
        alpha: scale of the elastic displacement, pixels (default 34, Simard et al.).
        sigma: smoothness of the elastic displacement, the Gaussian's std in pixels
            (default 4).

    Calling it with a batch (N, H, W) or (N, C, H, W) of floats and a NumPy Generator
    returns a new batch of the same shape and dtype; the input is not changed.

    >>> import numpy as np
    >>> augment = Augment(("elastic", "shift"))
    >>> augment
    Augment(['shift', 'elastic'], max_shift=2, max_degrees=15.0, alpha=34.0, sigma=4.0)
    >>> batch = np.random.default_rng(0).random((4, 3, 32, 32), dtype=np.float32)
    >>> a = augment(batch, np.random.default_rng(1))
    >>> b = augment(batch, np.random.default_rng(1))
    >>> a.shape, bool((a == b).all()), bool((a == batch).all())
    ((4, 3, 32, 32), True, False)
    """

    def __init__(self, kinds: Iterable[str], max_shift: int = 2, max_degrees: float = 15.0,
                 alpha: float = 34.0, sigma: float = 4.0) -> None:
        kinds = [kinds] if isinstance(kinds, str) else list(kinds)
        for kind in kinds:
            if kind not in AUGMENTATIONS:
                raise ValueError(f"augmentation {kind!r}: expected any of "
                                 f"{', '.join(AUGMENTATIONS)}")
        self.kinds = [kind for kind in AUGMENTATIONS if kind in kinds]
        checks = (("max_shift", max_shift, 0), ("max_degrees", max_degrees, 0),
                  ("alpha", alpha, 0), ("sigma", sigma, 1e-3))
        for name, value, low in checks:
            if not isinstance(value, int | float) or not math.isfinite(value) or value < low:
                raise ValueError(f"Augment {name}={value!r}: expected a finite number >= {low}")
        self.max_shift, self.max_degrees = int(max_shift), float(max_degrees)
        self.alpha, self.sigma = float(alpha), float(sigma)

    def __repr__(self) -> str:
        return (f"Augment({self.kinds}, max_shift={self.max_shift}, "
                f"max_degrees={self.max_degrees}, alpha={self.alpha}, sigma={self.sigma})")

    def __call__(self, images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        images = np.asarray(images)
        if images.ndim not in (3, 4) or images.dtype.kind != "f":
            raise ValueError(f"Augment: expected a batch of float images (N, H, W) or "
                             f"(N, C, H, W), got an array of shape {images.shape} and "
                             f"dtype {images.dtype}")
        n, h, w = images.shape[0], images.shape[-2], images.shape[-1]
        if not self.kinds or n == 0:
            return images.copy()
        dy = dx = np.zeros(n, np.int64)
        if "shift" in self.kinds:
            dy, dx = rng.integers(-self.max_shift, self.max_shift + 1, size=(2, n))
        if self.kinds == ["shift"]:
            return shift_pixels(images, dy, dx)
        dtype = images.dtype
        cy, cx = dtype.type((h - 1) / 2), dtype.type((w - 1) / 2)
        # source rows (N, H, 1) and columns (N, 1, W), relative to the centre
        ys = np.arange(h, dtype=dtype)[None, :, None] - (dy.astype(dtype)[:, None, None] + cy)
        xs = np.arange(w, dtype=dtype)[None, None, :] - (dx.astype(dtype)[:, None, None] + cx)
        if "rotate" in self.kinds:
            angle = np.deg2rad(rng.uniform(-self.max_degrees, self.max_degrees, n))
            cos = np.cos(angle).astype(dtype)[:, None, None]
            sin = np.sin(angle).astype(dtype)[:, None, None]
            ys, xs = cos * ys - (sin * xs - cy), sin * ys + (cos * xs + cx)  # (N, H, W) each
        else:
            ys, xs = ys + cy, xs + cx
        if "elastic" in self.kinds:
            fields = rng.random(size=(2, n, h, w), dtype=np.float32)  # uniform(-1, 1):
            fields *= 2  # drawn as float32 (half the time of float64's), then scaled
            fields -= 1
            displacement = gaussian_blur(fields, self.sigma, scale=self.alpha)
            ys = ys + displacement[0]
            xs = xs + displacement[1]
        return warp(images, np.broadcast_to(ys, (n, h, w)), np.broadcast_to(xs, (n, h, w)))
