"""Read images for prediction: PNG, JPEG, PGM/PPM, BMP, GIF, TIFF or WebP (through Pillow), or IDX.

Each image becomes grey float32 28x28 in [0, 1] the way MNIST looks: colours are averaged,
transparent parts composited over white paper, the picture area-averaged down (or up) to
28x28, and inverted when the background is light (MNIST digits are white on black).
16-bit images are scaled by their full range (a PGM by its maxval).

A file is never trusted: its header is read first, the pixels it claims are checked against
the memory limit (:mod:`chainrule.limits`) *before* anything is decoded, and decoding writes
into a buffer of exactly the claimed size. Every way a damaged file can fail in the decoder
becomes a :class:`DatasetError` that names the file and what was expected.

Big pictures take a fast path: a JPEG is decoded at 1/2, 1/4 or 1/8 scale (``draft``), any
other image is block-averaged by an integer factor in Pillow (``reduce``) to at least
``REDUCED_SIDE`` pixels a side, and only that smaller picture is area-averaged in NumPy.

>>> import numpy as np
>>> to_mnist(np.full((56, 56), 255, np.uint8)).shape
(28, 28)
>>> area_average(np.arange(4.0).reshape(1, 4), (1, 2)).tolist()  # 2 pixels per cell
[[0.5, 2.5]]
"""

from __future__ import annotations

import os
import re
import struct
import threading
import warnings
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
from PIL import Image, UnidentifiedImageError

from chainrule.data.idx import DatasetError, check_finite, read_idx
from chainrule.limits import MemoryLimitError, check_memory
from chainrule.paths import what_is_at
from chainrule.wording import plural

SIDE = 28
REDUCED_SIDE = 32 * SIDE  # the fast path reduces big pictures to no less than this a side
FORMATS = ("PNG", "JPEG", "PPM", "BMP", "GIF", "TIFF", "WEBP")  # what Pillow may open for us
FORMAT_NAMES = "PNG, JPEG, PGM/PPM, BMP, GIF, TIFF or WebP"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
NETPBM = {b"P1": "PBM", b"P2": "PGM", b"P3": "PPM", b"P4": "PBM", b"P5": "PGM", b"P6": "PPM"}
# Everything Pillow's decoders raise on a damaged file (UnidentifiedImageError is an OSError).
DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, struct.error, zlib.error,
                 TypeError, IndexError, KeyError, NotImplementedError,
                 Image.DecompressionBombError)
ALPHA_MODES = ("RGBA", "LA", "PA", "La", "RGBa")
WIDE_INT_MODES = ("I", "I;16", "I;16B", "I;16L", "I;16N")  # scaled by 65535
_OPEN_LOCK = threading.Lock()
EXIF_ORIENTATION = 0x0112  # 1 upright ... 8 (a camera held sideways stores 6 or 8)


def read_images(path: str | os.PathLike[str], max_bytes: int | str | None = None
                ) -> np.ndarray:
    """Images (N, 28, 28) float32 from one image file (N = 1) or an IDX file of images.

    ``max_bytes`` is the memory limit for what the file claims (None: ``$CHAINRULE_MAX_MEMORY``
    or 4 GiB). Any problem with the file raises :class:`DatasetError`.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):  # a device or a pipe is never opened: it could block
        raise DatasetError(f"{path}: expected an image ({FORMAT_NAMES}) or an IDX file, found "
                           f"{what_is_at(path)}")
    try:
        with open(path, "rb") as f:
            head = f.read(64)
    except OSError as exc:  # /proc/self/mem: a regular file that cannot be read
        raise DatasetError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    if head[:2] in (b"\x00\x00", b"\x1f\x8b"):  # IDX magic, or gzip (MNIST's .gz files)
        return _idx_images(path, max_bytes)
    return read_image(path, max_bytes)[None]


def _idx_images(path: str, max_bytes: int | str | None) -> np.ndarray:
    array = read_idx(path, max_bytes, copy_itemsize=4)
    if array.ndim == 2:
        array = array[None]
    if array.ndim != 3:
        raise DatasetError(f"{path}: expected IDX images (N, rows, cols), found {array.shape}")
    if array.shape[0] == 0:
        raise DatasetError(f"{path}: expected at least one image, found a header claiming 0 "
                           f"images (dims {array.shape})")
    if 0 in array.shape:
        raise DatasetError(f"{path}: expected images at least 1x1, found dims {array.shape}")
    check_finite(path, array)
    if array.shape[1:] == (SIDE, SIDE):
        return array.astype(np.float32) / np.float32(255.0)
    try:
        check_memory(f"{path}: {plural(array.shape[0], 'image')} scaled to {SIDE}x{SIDE}",
                     array.nbytes + array.shape[0] * SIDE * SIDE * 4, max_bytes)
    except MemoryLimitError as exc:
        raise DatasetError(str(exc)) from None
    return np.stack([to_mnist(image) for image in array])


def read_image(path: str | os.PathLike[str], max_bytes: int | str | None = None) -> np.ndarray:
    """One image file as grey float32 (28, 28), white on black like MNIST."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            head = f.read(64)
    except OSError as exc:
        raise DatasetError(f"{path}: expected an image file, found {exc.strerror or exc}"
                           ) from None
    with _decoder_errors(path, head), _open(path) as image:
        pixels, alpha, scale, extent, step = _load(path, image, max_bytes)
        orientation = image.getexif().get(EXIF_ORIENTATION, 1)
    if alpha:  # c*a over white paper: c*a + 255*(1 - a) = premultiplied c + (255 - a)
        pixels = pixels[..., :3] + (255.0 - pixels[..., 3:])
    if pixels.ndim == 3:
        pixels = pixels.mean(axis=2)
    if not np.isfinite(pixels).all():
        raise DatasetError(f"{path}: expected finite pixel values, found NaN or infinity")
    grey = np.clip(pixels / scale, 0.0, 1.0)
    return _finish(upright(area_average(grey, (SIDE, SIDE), extent, step), orientation))


def upright(small: np.ndarray, orientation: object) -> np.ndarray:
    """Turn a picture the way its EXIF orientation tag says a viewer shows it (a phone photo
    is stored sideways with tag 6 or 8). Flips and quarter turns map the 28x28 grid of the
    area average onto itself, so they are done on the small picture.

    >>> a = np.arange(4).reshape(2, 2)
    >>> upright(a, 6).tolist(), upright(a, 8).tolist(), upright(a, 1).tolist()
    ([[2, 0], [3, 1]], [[1, 3], [0, 2]], [[0, 1], [2, 3]])
    """
    turns = {2: lambda a: a[:, ::-1], 3: lambda a: a[::-1, ::-1], 4: lambda a: a[::-1],
             5: lambda a: a.T, 6: lambda a: np.rot90(a, -1), 7: lambda a: a[::-1, ::-1].T,
             8: lambda a: np.rot90(a, 1)}
    turn = turns.get(orientation) if isinstance(orientation, int) else None
    return np.ascontiguousarray(turn(small)) if turn is not None else small


@contextmanager
def _decoder_errors(path: str, head: bytes) -> Iterator[None]:
    """Turn whatever Pillow raises on a damaged file into one DatasetError; hush its warnings."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    except DatasetError:
        raise
    except MemoryLimitError as exc:
        raise DatasetError(str(exc)) from None
    except DECODE_ERRORS as exc:
        raise DatasetError(_explain(path, head, exc)) from None


def _open(path: str) -> Image.Image:
    # Pillow's own pixel-count guard (MAX_IMAGE_PIXELS) would refuse a big image before we
    # could name its size, and could not be raised with CHAINRULE_MAX_MEMORY; _load checks
    # the claimed size against our limit instead. Lifted only while the header is read.
    with _OPEN_LOCK:
        saved = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None
        try:
            return Image.open(path, formats=FORMATS)
        finally:
            Image.MAX_IMAGE_PIXELS = saved


def _load(path: str, image: Image.Image, max_bytes: int | str | None
          ) -> tuple[np.ndarray, bool, float, tuple[int, int], tuple[int, int]]:
    """Check the claimed size, decode, reduce if big: (pixels, alpha, full scale, extent, step).

    ``pixels`` is float64 (h, w) or (h, w, bands), alpha premultiplied; every pixel stands
    for ``step`` (rows, cols) of a picture of ``extent`` (rows, cols), the last ones for less.
    """
    width, height = image.size
    if width <= 0 or height <= 0:
        raise DatasetError(f"{path}: expected an image at least 1 pixel wide and high, found "
                           f"{width}x{height}")
    claimed = f"{width}x{height}"
    if image.format == "JPEG":  # decode at 1/2, 1/4 or 1/8 scale, no less than REDUCED_SIDE
        image.draft(None, (REDUCED_SIDE, REDUCED_SIDE))
    factor = (max(1, image.size[0] // REDUCED_SIDE), max(1, image.size[1] // REDUCED_SIDE))
    alpha = image.mode in ALPHA_MODES or (
        "transparency" in image.info and image.mode in ("P", "L", "RGB"))
    check_memory(f"{path}: decoding the {claimed} pixels ({image.mode}) this {image.format} "
                 "image claims", _decode_bytes(image, width * height, factor, alpha), max_bytes)
    image.load()
    if image.mode in ("P", "PA"):
        _check_palette(path, image)
    extent = (image.size[1], image.size[0])
    scale = 255.0
    if alpha:  # premultiplied, so that averaging and compositing commute
        image = image.convert("RGBA").convert("RGBa")
    elif image.mode in WIDE_INT_MODES:
        image, scale = image.convert("I"), 65535.0
    elif image.mode == "F":
        scale = 1.0
    elif image.mode == "1":
        image = image.convert("L")
    elif image.mode not in ("L", "RGB"):
        image = image.convert("RGB")
    if factor != (1, 1):
        image = image.reduce(factor)
    return np.asarray(image, dtype=np.float64), alpha, scale, extent, (factor[1], factor[0])


def _decode_bytes(image: Image.Image, claimed_pixels: int, factor: tuple[int, int],
                  alpha: bool) -> int:
    """The bytes an image claims: Pillow's buffer and converted copies, a float32 grey copy of
    the picture, and the float copies of the reduced picture.

    The float32 copy is the rule IDX data sets follow too (pixels plus their float32 copy),
    so one limit means the same for both; the fast path itself needs less than that.
    """
    width, height = image.size
    bands = len(image.getbands())
    if bands > 1 or image.mode in ("I", "F"):
        stored = 4  # Pillow keeps multi-band pixels in 4 bytes
    elif image.mode in WIDE_INT_MODES:
        stored = 2
    else:
        stored = 1
    if alpha:
        copies = 8  # RGBA, then premultiplied RGBa
    elif image.mode in ("L", "RGB", "I", "F"):
        copies = 0
    else:
        copies = 4  # one conversion (to RGB, I or L)
    reduced = -(-width // factor[0]) * -(-height // factor[1])
    total = width * height * (stored + copies + 4) + reduced * 4 * 8 * 2
    if image.format == "JPEG" and ("progressive" in image.info or "progression" in image.info):
        total += claimed_pixels * bands * 2  # libjpeg keeps every DCT coefficient (int16)
    return total


def _check_palette(path: str, image: Image.Image) -> None:
    colours = len(image.getpalette() or []) // 3
    highest = int(np.asarray(image.getchannel(0)).max())
    if highest >= colours:
        raise DatasetError(f"{path}: expected palette indices below {colours} (the palette's "
                           f"size), found index {highest}")


def _explain(path: str, head: bytes, exc: BaseException) -> str:
    """A damaged file's message: what kind it looked like, what its header claims, why."""
    kind = _kind(head)
    claim = _header_claim(head)
    reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if isinstance(exc, UnidentifiedImageError):
        reason = "Pillow cannot identify it"
    if claim is not None and claim[1]:
        return (f"{path}: expected an image at least 1 pixel wide and high, found a {kind} "
                f"header claiming {claim[0]} ({reason})")
    if kind is None:
        found = "an empty file" if not head else "neither"
        return f"{path}: expected an image ({FORMAT_NAMES}) or an IDX file, found {found} " \
               f"({reason})"
    claimed = f" (its header claims {claim[0]})" if claim is not None else ""
    return f"{path}: expected a valid {kind} file, found a damaged one{claimed}: {reason}"


def _kind(head: bytes) -> str | None:
    if head.startswith(PNG_SIGNATURE):
        return "PNG"
    if head[:2] in NETPBM:
        return NETPBM[head[:2]]
    for magic, name in ((b"\xff\xd8", "JPEG"), (b"BM", "BMP"), (b"GIF8", "GIF"),
                        (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"), (b"RIFF", "WebP")):
        if head.startswith(magic):
            return name
    return None


def _header_claim(head: bytes) -> tuple[str, bool] | None:
    """('WxH pixels', whether a side is not positive) from a PNG or Netpbm header, if legible."""
    if head.startswith(PNG_SIGNATURE) and head[12:16] == b"IHDR" and len(head) >= 24:
        width, height = struct.unpack(">ii", head[16:24])
    else:
        tokens = re.sub(rb"#[^\r\n]*", b" ", head).split()
        if len(tokens) < 3 or tokens[0] not in NETPBM:
            return None
        try:
            width, height = int(tokens[1]), int(tokens[2])
        except ValueError:
            return None
    return f"{width}x{height} pixels", width <= 0 or height <= 0


def area_weights(extent: int, cells: int, step: int = 1) -> np.ndarray:
    """(cells, pixels): the share of each cell every pixel covers; rows sum to 1.

    The cells split ``extent`` into equal parts. Each pixel stands for ``step`` of it (after
    Pillow's ``reduce`` by ``step``; the last pixel stands for the rest), so there are
    ``ceil(extent / step)`` pixels.

    >>> area_weights(3, 2).round(3).tolist()
    [[0.667, 0.333, 0.0], [0.0, 0.333, 0.667]]
    """
    pixels = -(-extent // step)
    edges = np.minimum(np.arange(pixels + 1) * step, extent).astype(np.float64)
    bounds = np.arange(cells + 1) * (extent / cells)
    overlap = (np.minimum(edges[None, 1:], bounds[1:, None])
               - np.maximum(edges[None, :-1], bounds[:-1, None]))
    return np.clip(overlap, 0.0, None) * (cells / extent)


def area_average(grey: np.ndarray, cells: tuple[int, int] = (SIDE, SIDE),
                 extent: tuple[int, int] | None = None, step: tuple[int, int] = (1, 1)
                 ) -> np.ndarray:
    """Mean of ``grey`` (H, W) over each of ``cells`` equal rectangles: exact, any size.

    ``extent`` and ``step``: the (rows, cols) of the picture, and of each pixel, when
    ``grey`` was reduced from it first (see :func:`area_weights`).
    """
    rows, cols = extent if extent is not None else grey.shape
    return (area_weights(rows, cells[0], step[0]) @ grey
            @ area_weights(cols, cells[1], step[1]).T)


def _finish(small: np.ndarray) -> np.ndarray:
    if small.mean() > 0.5:  # a light background: make the strokes white on black
        small = 1.0 - small
    return np.clip(small, 0.0, 1.0).astype(np.float32)


def to_mnist(image: np.ndarray) -> np.ndarray:
    """An 8-bit array (H, W), (H, W, 3) or with alpha (H, W, 2 or 4) as grey float32 28x28."""
    grey = image.astype(np.float64)
    if grey.ndim == 3:
        if grey.shape[2] in (2, 4):  # composite alpha over white paper
            alpha = grey[..., -1:] / 255.0
            grey = grey[..., :-1] * alpha + 255.0 * (1 - alpha)
        grey = grey.mean(axis=2)
    return _finish(area_average(grey / 255.0))
