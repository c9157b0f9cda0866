"""Read a single image for prediction: PNG or PGM (no imaging library needed), or IDX.

PNG support covers what drawing programs save: 8-bit grey, grey+alpha, RGB, RGBA or
palette, not interlaced. Images are converted to grey in [0, 1], scaled to 28x28 by
area averaging, and inverted when the background is light (MNIST digits are white
on black).

>>> import numpy as np
>>> to_mnist(np.full((56, 56), 255, np.uint8)).shape
(28, 28)
"""

from __future__ import annotations

import os
import struct
import zlib

import numpy as np

from chainrule.data.idx import DatasetError, read_idx

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def read_png(path: str) -> np.ndarray:
    """Decode a PNG into a uint8 array (H, W) or (H, W, C)."""
    with open(path, "rb") as f:
        data = f.read()
    if not data.startswith(PNG_SIGNATURE):
        raise DatasetError(f"{path}: expected a PNG file (signature), found other bytes")
    pos, idat, palette = 8, bytearray(), None
    width = height = depth = color = interlace = -1
    try:
        while pos < len(data):
            length, kind = struct.unpack(">I4s", data[pos:pos + 8])
            chunk = data[pos + 8:pos + 8 + length]
            if len(chunk) != length:
                raise DatasetError(f"{path}: truncated PNG chunk {kind!r}")
            pos += 12 + length
            if kind == b"IHDR":
                width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", chunk)
            elif kind == b"PLTE":
                palette = np.frombuffer(chunk, np.uint8).reshape(-1, 3)
            elif kind == b"IDAT":
                idat += chunk
            elif kind == b"IEND":
                break
        raw = zlib.decompress(bytes(idat))
    except (struct.error, zlib.error) as exc:
        raise DatasetError(f"{path}: corrupt PNG ({exc})") from None
    if depth != 8 or interlace != 0 or color not in CHANNELS:
        raise DatasetError(f"{path}: expected an 8-bit, non-interlaced PNG, found bit depth "
                           f"{depth}, colour type {color}, interlace {interlace}; re-save it as "
                           "8-bit greyscale or RGB")
    channels = CHANNELS[color]
    stride = width * channels
    if len(raw) != height * (stride + 1):
        raise DatasetError(f"{path}: PNG data has the wrong size for {width}x{height}")
    rows = np.frombuffer(raw, np.uint8).reshape(height, stride + 1)
    out = np.zeros((height, stride), np.int32)
    previous = np.zeros(stride, np.int32)
    for y in range(height):
        kind, line = rows[y, 0], rows[y, 1:].astype(np.int32)
        if kind == 0:
            cur = line
        elif kind == 2:
            cur = (line + previous) & 0xFF
        else:
            cur = np.zeros(stride, np.int32)
            for x in range(stride):
                left = cur[x - channels] if x >= channels else 0
                up = previous[x]
                up_left = previous[x - channels] if x >= channels else 0
                if kind == 1:
                    pred = left
                elif kind == 3:
                    pred = (left + up) // 2
                elif kind == 4:
                    p = left + up - up_left
                    pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                    pred = left if pa <= pb and pa <= pc else (up if pb <= pc else up_left)
                else:
                    raise DatasetError(f"{path}: unknown PNG filter {kind} in row {y}")
                cur[x] = (line[x] + pred) & 0xFF
        out[y], previous = cur, cur
    image = out.astype(np.uint8).reshape(height, width, channels)
    if color == 3:
        if palette is None:
            raise DatasetError(f"{path}: palette PNG without a palette")
        image = palette[image[..., 0]]
    return image[..., 0] if image.shape[-1] == 1 else image


def read_pgm(path: str) -> np.ndarray:
    """Decode a PGM (P2 text or P5 binary) into uint8/uint16 (H, W)."""
    with open(path, "rb") as f:
        data = f.read()
    tokens: list[bytes] = []
    pos = 0
    while len(tokens) < 4:
        while pos < len(data) and data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.find(b"\n", pos) + 1 or len(data)
            continue
        start = pos
        while pos < len(data) and not data[pos:pos + 1].isspace():
            pos += 1
        if start == pos:
            raise DatasetError(f"{path}: truncated PGM header")
        tokens.append(data[start:pos])
    magic, (w, h, maxval) = tokens[0], (int(t) for t in tokens[1:])
    if magic not in (b"P2", b"P5"):
        raise DatasetError(f"{path}: expected a PGM (P2 or P5), found {magic!r}")
    if magic == b"P5":
        dtype = np.uint8 if maxval < 256 else np.dtype(">u2")
        body = data[pos + 1:pos + 1 + w * h * np.dtype(dtype).itemsize]
        if len(body) != w * h * np.dtype(dtype).itemsize:
            raise DatasetError(f"{path}: PGM data truncated")
        image = np.frombuffer(body, dtype).reshape(h, w)
    else:
        image = np.array(data[pos:].split()[:w * h], dtype=np.int64).reshape(h, w)
    return (image.astype(np.float64) * (255.0 / maxval)).astype(np.uint8)


def to_mnist(image: np.ndarray) -> np.ndarray:
    """Grey float32 28x28 in [0, 1], white strokes on black like MNIST."""
    grey = image.astype(np.float64)
    if grey.ndim == 3:
        if grey.shape[2] in (2, 4):  # composite alpha over white paper
            alpha = grey[..., -1:] / 255.0
            grey = grey[..., :-1] * alpha + 255.0 * (1 - alpha)
        grey = grey.mean(axis=2)
    grey = grey / 255.0
    h, w = grey.shape
    rows = np.linspace(0, h, 29).astype(int)
    cols = np.linspace(0, w, 29).astype(int)
    small = np.zeros((28, 28))
    for i in range(28):
        for j in range(28):
            block = grey[rows[i]:max(rows[i + 1], rows[i] + 1), cols[j]:max(cols[j + 1],
                                                                             cols[j] + 1)]
            small[i, j] = block.mean()
    if small.mean() > 0.5:
        small = 1.0 - small
    return small.astype(np.float32)


def read_images(path: str) -> np.ndarray:
    """Images (N, 28, 28) float32 from a PNG, a PGM or an IDX file of images."""
    if not os.path.isfile(path):
        raise DatasetError(f"{path}: no such file")
    lower = path.lower()
    if lower.endswith(".png"):
        return to_mnist(read_png(path))[None]
    if lower.endswith(".pgm"):
        return to_mnist(read_pgm(path))[None]
    array = read_idx(path)
    if array.ndim == 2:
        array = array[None]
    if array.ndim != 3:
        raise DatasetError(f"{path}: expected IDX images (N, rows, cols), found {array.shape}")
    if array.shape[1:] != (28, 28):
        return np.stack([to_mnist(img) for img in array])
    return (array.astype(np.float32) / 255.0)
