"""Image files for the image tests: written by hand where Pillow would refuse (lying
headers, bombs), an exact area-average reference, and seeded pixel data."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

SIGNATURE = b"\x89PNG\r\n\x1a\n"
GiB = 1 << 30


# ---- writing files by hand (what Pillow would refuse to write) ---------------------------


def chunk(kind: bytes, data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")


def png_bytes(width: int, height: int, raw: bytes, depth: int = 8, color: int = 0,
              extra: tuple[bytes, ...] = (), idat: bytes | None = None) -> bytes:
    """A PNG with the IHDR as given (even if it lies) and ``raw`` filtered rows as IDAT."""
    header = struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, 0)
    return (SIGNATURE + chunk(b"IHDR", header) + b"".join(extra)
            + chunk(b"IDAT", zlib.compress(raw) if idat is None else idat) + chunk(b"IEND", b""))


def zeros_deflate(count: int, block: int = 1 << 20) -> bytes:
    """Raw deflate of ``count`` zero bytes: one fully flushed block repeated (fast to build)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    piece = packer.compress(bytes(block)) + packer.flush(zlib.Z_FULL_FLUSH)
    full, rest = divmod(count, block)
    tail = zlib.compressobj(9, zlib.DEFLATED, -15)
    return piece * full + tail.compress(bytes(rest)) + tail.flush()


def png_bomb(path: Path, side: int = 60_000) -> None:
    """A valid PNG of side x side black pixels: 3.6 GB of pixels in a 3.5 MB file."""
    count = side * (side + 1)  # each row: filter byte 0, then side zero bytes
    adler = ((count % 65521) << 16) | 1  # adler32 of zeros: a stays 1, b counts the bytes
    stream = b"\x78\xda" + zeros_deflate(count) + adler.to_bytes(4, "big")
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    path.write_bytes(SIGNATURE + chunk(b"IHDR", header) + chunk(b"IDAT", stream)
                     + chunk(b"IEND", b""))


def pgm_bytes(array: np.ndarray, maxval: int = 255, plain: bool = False) -> bytes:
    height, width = array.shape
    head = f"{'P2' if plain else 'P5'}\n# made by a test\n{width} {height}\n{maxval}\n".encode()
    if plain:
        return head + " ".join(str(int(v)) for v in array.ravel()).encode() + b"\n"
    return head + array.astype(">u2" if maxval > 255 else np.uint8).tobytes()


# ---- the reference: exact area average by cumulative sums, then MNIST's polarity -----------


def area_reference(grey: np.ndarray, cells: int = 28) -> np.ndarray:
    """Exact area average, computed another way: the integral of a row of pixels is piecewise
    linear, so interpolating its cumulative sum at the cell edges is exact."""
    out = np.asarray(grey, np.float64)
    for axis in (0, 1):
        moved = np.moveaxis(out, axis, 0)
        size = moved.shape[0]
        integral = np.concatenate([np.zeros((1, moved.shape[1])), np.cumsum(moved, axis=0)])
        at = np.linspace(0.0, size, cells + 1)
        low = np.minimum(np.floor(at).astype(int), size - 1)
        frac = (at - low)[:, None]
        values = integral[low] + frac * (integral[low + 1] - integral[low])
        out = np.moveaxis(np.diff(values, axis=0) * (cells / size), 0, axis)
    return out


def mnist_like(grey: np.ndarray) -> np.ndarray:
    small = area_reference(grey)
    return 1.0 - small if small.mean() > 0.5 else small


def composite(rgba: np.ndarray) -> np.ndarray:
    """Grey of colours (and alpha, if any) over white paper, in [0, 1], in float64."""
    values = rgba.astype(np.float64)
    if values.shape[-1] in (2, 4):
        alpha = values[..., -1:] / 255.0
        values = values[..., :-1] * alpha + 255.0 * (1.0 - alpha)
    return values.mean(axis=-1) / 255.0


# ---- seeded pixel data ----------------------------------------------------------------


def rng_for(seed: int) -> np.random.Generator:
    return np.random.default_rng(1000 + seed)


def dark(seed: int, shape: tuple[int, ...]) -> np.ndarray:
    return rng_for(seed).integers(0, 110, shape).astype(np.uint8)


def light(seed: int, shape: tuple[int, ...]) -> np.ndarray:
    return rng_for(seed).integers(140, 256, shape).astype(np.uint8)


def save_to(image: Image.Image, **options: object) -> Callable[[Path], None]:
    return lambda path: image.save(path, **options)


def bytes_to(data: bytes) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(data)


def _palette_case() -> tuple[Image.Image, np.ndarray]:
    colours = rng_for(7).integers(0, 256, (16, 3)).astype(np.uint8)
    indices = rng_for(8).integers(0, 16, (42, 70)).astype(np.uint8)
    image = Image.fromarray(indices, "P")
    image.putpalette(colours.ravel().tolist())
    return image, colours[indices]


def _palette_alpha_case() -> tuple[Image.Image, np.ndarray]:
    image, rgb = _palette_case()
    image.info["transparency"] = bytes([0, 128, 255] + [255] * 13)
    alpha = np.array([0, 128, 255] + [255] * 13, np.uint8)[np.asarray(image)]
    return image, np.concatenate([rgb, alpha[..., None]], axis=-1)


def jpeg_reference(path: Path) -> np.ndarray:
    with Image.open(path) as decoded:  # Pillow's full decode: only JPEG's own loss differs
        return composite(np.atleast_3d(np.asarray(decoded)))


GREY = dark(0, (56, 84))
RGB = light(1, (45, 61, 3))
RGBA = np.concatenate([dark(2, (30, 50, 3)), rng_for(3).integers(0, 256, (30, 50, 1))],
                      axis=-1).astype(np.uint8)
LA = np.stack([light(4, (33, 29)), rng_for(5).integers(0, 256, (33, 29)).astype(np.uint8)], -1)
WIDE = rng_for(6).integers(0, 65536, (31, 40)).astype(np.uint16)
PALETTE, PALETTE_RGB = _palette_case()
PALETTE_ALPHA, PALETTE_RGBA = _palette_alpha_case()
P2 = rng_for(9).integers(0, 16, (20, 24))
P300 = rng_for(10).integers(0, 301, (29, 27))
P1000 = rng_for(11).integers(0, 1001, (30, 30))



def photo(height: int, width: int) -> np.ndarray:
    """A realistic picture: smooth colour gradients plus sensor noise."""
    y, x = np.mgrid[0:height, 0:width] / max(height, width)
    base = np.stack([200 * x + 30, 180 * y + 40, 60 * (x + y) + 60], axis=-1)
    noise = rng_for(15).normal(0.0, 12.0, (height, width, 3))
    return np.clip(base + noise, 0, 255).astype(np.uint8)
