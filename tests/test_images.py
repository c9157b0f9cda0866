"""Images for prediction: formats decoded right, damaged files named, bombs refused, fuzzed."""

from __future__ import annotations

import io
import struct
import zlib
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from chainrule.data import DatasetError, write_idx
from chainrule.data.images import REDUCED_SIDE, area_average, read_image, read_images

from clirun import run_cli

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


def test_the_references_agree_with_a_plain_block_mean() -> None:
    grey = np.random.default_rng(0).random((56, 84))
    blocks = grey.reshape(28, 2, 28, 3).mean(axis=(1, 3))
    assert np.allclose(area_reference(grey), blocks)
    assert np.allclose(area_average(grey), blocks)
    odd = np.random.default_rng(1).random((45, 61))
    # repeating every pixel 28 times makes the cells whole blocks of 45 x 61
    repeated = np.repeat(np.repeat(odd, 28, axis=0), 28, axis=1)
    assert np.allclose(area_reference(odd), repeated.reshape(28, 45, 28, 61).mean(axis=(1, 3)))
    assert np.allclose(area_average(odd), area_reference(odd))
    tiny = np.array([[0.0, 1.0], [0.5, 0.25]])  # smaller than 28x28: each pixel fills cells
    assert np.allclose(area_average(tiny), np.kron(tiny, np.ones((14, 14))))


# ---- formats that decode right ----------------------------------------------------------


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(1000 + seed)


def _dark(seed: int, shape: tuple[int, ...]) -> np.ndarray:
    return _rng(seed).integers(0, 110, shape).astype(np.uint8)


def _light(seed: int, shape: tuple[int, ...]) -> np.ndarray:
    return _rng(seed).integers(140, 256, shape).astype(np.uint8)


def _save(image: Image.Image, **options: object) -> Callable[[Path], None]:
    return lambda path: image.save(path, **options)


def _bytes(data: bytes) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(data)


def _palette_case() -> tuple[Image.Image, np.ndarray]:
    colours = _rng(7).integers(0, 256, (16, 3)).astype(np.uint8)
    indices = _rng(8).integers(0, 16, (42, 70)).astype(np.uint8)
    image = Image.fromarray(indices, "P")
    image.putpalette(colours.ravel().tolist())
    return image, colours[indices]


def _palette_alpha_case() -> tuple[Image.Image, np.ndarray]:
    image, rgb = _palette_case()
    image.info["transparency"] = bytes([0, 128, 255] + [255] * 13)
    alpha = np.array([0, 128, 255] + [255] * 13, np.uint8)[np.asarray(image)]
    return image, np.concatenate([rgb, alpha[..., None]], axis=-1)


def _jpeg_reference(path: Path) -> np.ndarray:
    with Image.open(path) as decoded:  # Pillow's full decode: only JPEG's own loss differs
        return composite(np.atleast_3d(np.asarray(decoded)))


GREY = _dark(0, (56, 84))
RGB = _light(1, (45, 61, 3))
RGBA = np.concatenate([_dark(2, (30, 50, 3)), _rng(3).integers(0, 256, (30, 50, 1))],
                      axis=-1).astype(np.uint8)
LA = np.stack([_light(4, (33, 29)), _rng(5).integers(0, 256, (33, 29)).astype(np.uint8)], -1)
WIDE = _rng(6).integers(0, 65536, (31, 40)).astype(np.uint16)
PALETTE, PALETTE_RGB = _palette_case()
PALETTE_ALPHA, PALETTE_RGBA = _palette_alpha_case()
P2 = _rng(9).integers(0, 16, (20, 24))
P300 = _rng(10).integers(0, 301, (29, 27))
P1000 = _rng(11).integers(0, 1001, (30, 30))

GOOD = [  # name, writer, grey in [0, 1] the file holds (None: Pillow's full decode), tolerance
    ("grey.png", _save(Image.fromarray(GREY)), GREY / 255.0, 1e-6),
    ("rgb.png", _save(Image.fromarray(RGB)), composite(RGB), 1e-6),
    ("rgba.png", _save(Image.fromarray(RGBA)), composite(RGBA), 1 / 255),
    ("la.png", _save(Image.fromarray(LA, "LA")), composite(LA), 1 / 255),
    ("palette.png", _save(PALETTE), composite(PALETTE_RGB), 1e-6),
    ("palette-alpha.png", _save(PALETTE_ALPHA), composite(PALETTE_RGBA), 1 / 255),
    ("grey16.png", _save(Image.fromarray(WIDE)), WIDE / 65535.0, 1e-6),
    ("p5.pgm", _bytes(pgm_bytes(GREY)), GREY / 255.0, 1e-6),
    ("p5-16bit.pgm", _bytes(pgm_bytes(WIDE, 65535)), WIDE / 65535.0, 1e-6),
    ("p5-maxval-1000.pgm", _bytes(pgm_bytes(P1000, 1000)), P1000 / 1000.0, 1e-5),
    ("p2.pgm", _bytes(pgm_bytes(P2, 15, plain=True)), P2 / 15.0, 1e-6),
    ("p2-maxval-300.pgm", _bytes(pgm_bytes(P300, 300, plain=True)), P300 / 300.0, 1e-5),
    ("rgb.bmp", _save(Image.fromarray(RGB)), composite(RGB), 1e-6),
    ("palette.gif", _save(PALETTE), composite(PALETTE_RGB), 1e-6),
    ("grey.tiff", _save(Image.fromarray(GREY)), GREY / 255.0, 1e-6),
    ("grey.jpg", _save(Image.fromarray(GREY), quality=95), None, 1e-6),
    ("rgb.jpg", _save(Image.fromarray(RGB), quality=95), None, 1e-6),
]


@pytest.mark.parametrize(("name", "write", "grey", "tolerance"), GOOD,
                         ids=[case[0] for case in GOOD])
def test_formats_decode_to_the_area_average(tmp_path: Path, name: str,
                                            write: Callable[[Path], None],
                                            grey: np.ndarray | None, tolerance: float) -> None:
    path = tmp_path / name
    write(path)
    if grey is None:
        grey = _jpeg_reference(path)
    images = read_images(path)
    assert images.shape == (1, 28, 28) and images.dtype == np.float32
    np.testing.assert_allclose(images[0], mnist_like(grey), atol=tolerance, rtol=0)


def test_light_backgrounds_are_inverted_and_dark_ones_kept(tmp_path: Path) -> None:
    stroke = np.zeros((56, 56), np.uint8)
    stroke[10:46, 26:30] = 255  # a white "1" on black, as MNIST has it
    Image.fromarray(stroke).save(tmp_path / "dark.png")
    Image.fromarray(255 - stroke).save(tmp_path / "light.png")  # black ink on paper
    dark, light = read_images(tmp_path / "dark.png"), read_images(tmp_path / "light.png")
    np.testing.assert_allclose(dark, light, atol=1e-6)
    assert dark[0, 14, 14] == pytest.approx(1.0) and dark[0, 0, 0] == 0.0


def test_idx_files_are_still_read(tmp_path: Path) -> None:
    digits = _dark(12, (3, 28, 28))
    write_idx(str(tmp_path / "three.idx"), digits)
    np.testing.assert_allclose(read_images(tmp_path / "three.idx"), digits / 255.0, atol=1e-7)
    write_idx(str(tmp_path / "big.idx.gz"), _dark(13, (2, 56, 56)))  # other sizes: averaged
    scaled = read_images(tmp_path / "big.idx.gz")
    assert scaled.shape == (2, 28, 28)
    np.testing.assert_allclose(scaled[1], mnist_like(_dark(13, (2, 56, 56))[1] / 255.0),
                               atol=1e-6)


# ---- the fast path for big pictures -----------------------------------------------------


def test_big_image_reduced_on_whole_cells_is_exact(tmp_path: Path) -> None:
    # 3584 x 2688 = 28 x (128, 96): Pillow reduces by (3, 4) to 896 x 896, 32 x 32 per cell
    blocks = _rng(14).integers(0, 256, (224, 168)).astype(np.uint8)
    sharp = np.kron(blocks, np.ones((16, 16), np.uint8))  # hard edges everywhere
    assert sharp.shape == (3584, 2688) and 3584 // REDUCED_SIDE == 4
    Image.fromarray(sharp).save(tmp_path / "sharp.png", compress_level=1)
    np.testing.assert_allclose(read_images(tmp_path / "sharp.png")[0],
                               mnist_like(sharp / 255.0), atol=1e-3, rtol=0)


def _photo(height: int, width: int) -> np.ndarray:
    """A realistic picture: smooth colour gradients plus sensor noise."""
    y, x = np.mgrid[0:height, 0:width] / max(height, width)
    base = np.stack([200 * x + 30, 180 * y + 40, 60 * (x + y) + 60], axis=-1)
    noise = _rng(15).normal(0.0, 12.0, (height, width, 3))
    return np.clip(base + noise, 0, 255).astype(np.uint8)


def test_big_photo_png_and_jpeg_match_the_full_resolution_average(tmp_path: Path) -> None:
    photo = _photo(1850, 2000)  # reduced by (2, 2) as PNG, decoded at 1/2 scale as JPEG
    Image.fromarray(photo).save(tmp_path / "photo.png")
    Image.fromarray(photo).save(tmp_path / "photo.jpg", quality=90)
    np.testing.assert_allclose(read_images(tmp_path / "photo.png")[0],
                               mnist_like(composite(photo)), atol=2e-3, rtol=0)
    np.testing.assert_allclose(read_images(tmp_path / "photo.jpg")[0],
                               mnist_like(_jpeg_reference(tmp_path / "photo.jpg")), atol=4e-3,
                               rtol=0)


def test_big_rgba_is_composited_before_it_is_reduced(tmp_path: Path) -> None:
    # alpha alternates in stripes narrower than the reduction: averaging colour and alpha
    # separately, then compositing, would give a different grey
    rgba = np.zeros((1904, 1904, 4), np.uint8)
    rgba[..., 0] = 40
    rgba[:, ::2, 3] = 255
    Image.fromarray(rgba).save(tmp_path / "stripes.png", compress_level=1)
    np.testing.assert_allclose(read_images(tmp_path / "stripes.png")[0],
                               mnist_like(composite(rgba)), atol=2e-3, rtol=0)


# ---- damaged and hostile files ----------------------------------------------------------

RAW = b"".join(b"\x00" + bytes([0, 1, 5, 200]) for _ in range(2))
BAD = [  # name, bytes, what the message must say
    ("bad-palette.png", png_bytes(4, 2, RAW, color=3, extra=(chunk(b"PLTE", bytes(range(6))),)),
     r"palette indices below 2 .*found index 200"),
    ("zero-width.png", png_bytes(0, 5, b""),
     r"at least 1 pixel wide and high, found a PNG header claiming 0x5 pixels"),
    ("zero-height.png", png_bytes(5, 0, b""), r"claiming 5x0 pixels"),
    ("negative.pgm", b"P5\n-5 28\n255\n" + bytes(140),
     r"at least 1 pixel wide and high, found a PGM header claiming -5x28 pixels"),
    ("zero-size.pgm", b"P5\n0 0\n255\n", r"claiming 0x0 pixels"),
    ("maxval-0.pgm", b"P5\n2 2\n0\n" + bytes(4), r"valid PGM file.*maxval must be greater than 0"),
    ("bad-token.pgm", b"P2\n2 x\n255\n1 2 3 4", r"valid PGM file.*invalid literal .*b'x'"),
    ("bad-maxval-token.pgm", b"P5\n2 2\n2.5\n" + bytes(4), r"valid PGM file.*2\.5"),
    ("too-few.pgm", b"P2\n2 2\n255\n1 2 3", r"claims 2x2 pixels.*not enough image data"),
    ("too-few-binary.pgm", b"P5\n2 2\n255\n" + bytes(3), r"claims 2x2 pixels.*truncated"),
    ("over-maxval.pgm", b"P2\n2 1\n255\n0 300", r"valid PGM file.*too large"),
    ("truncated.png", png_bytes(4, 2, RAW)[:-30], r"valid PNG file, found a damaged one"),
    ("bad-crc.png", png_bytes(4, 2, RAW)[:29] + b"\x00" * 4 + png_bytes(4, 2, RAW)[33:],
     r"valid PNG file, found a damaged one"),  # the IHDR's checksum
    ("short-idat.png", png_bytes(40, 20, RAW), r"valid PNG file.*claims 40x20"),
    ("text.png", b"just some words\n", r"expected an image \(PNG, JPEG.*or an IDX file"),
    ("empty.png", b"", r"found an empty file"),
    ("zero-images.idx", bytes([0, 0, 8, 3, 0, 0, 0, 0, 0, 0, 0, 28, 0, 0, 0, 28]),
     r"expected at least one image, found a header claiming 0 images"),
]


@pytest.mark.parametrize(("name", "data", "message"), BAD, ids=[case[0] for case in BAD])
def test_damaged_files_raise_one_dataset_error(tmp_path: Path, name: str, data: bytes,
                                               message: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(DatasetError, match=message) as err:
        read_images(path)
    assert str(path) in str(err.value)
    assert "\n" not in str(err.value)


def test_missing_file_or_a_folder(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="nope.png: expected an image .* found nothing"):
        read_images(tmp_path / "nope.png")
    with pytest.raises(DatasetError, match="nope.png: expected an image file, found No such"):
        read_image(tmp_path / "nope.png")
    with pytest.raises(DatasetError, match="expected an image file, found Is a directory"):
        read_image(tmp_path)


def test_size_is_checked_against_the_limit_before_decoding(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHAINRULE_MAX_MEMORY", raising=False)
    png_bomb(tmp_path / "bomb.png", side=60_000)
    with pytest.raises(DatasetError, match=r"bomb.png: decoding the 60000x60000 pixels \(L\) "
                       r"this PNG image claims would need .* GiB of memory, over the limit of "
                       r"4.0 GiB"):
        read_images(tmp_path / "bomb.png")
    Image.fromarray(_photo(600, 600)).save(tmp_path / "photo.png")
    with pytest.raises(DatasetError, match=r"600x600 .*over the limit of 1.0 MiB"):
        read_images(tmp_path / "photo.png", max_bytes="1M")
    monkeypatch.setenv("CHAINRULE_MAX_MEMORY", "1M")
    with pytest.raises(DatasetError, match=r"over the limit of 1.0 MiB; .*CHAINRULE_MAX_MEMORY"):
        read_images(tmp_path / "photo.png")
    assert read_images(tmp_path / "photo.png", max_bytes="64M").shape == (1, 28, 28)


def test_progressive_jpeg_counts_its_full_size_coefficients(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    monkeypatch.delenv("CHAINRULE_MAX_MEMORY", raising=False)
    Image.fromarray(_photo(16, 16)).save(tmp_path / "small.jpg", progressive=True)
    data = bytearray((tmp_path / "small.jpg").read_bytes())
    sof = data.index(b"\xff\xc2")  # progressive start of frame: claim 60000 x 60000
    data[sof + 5:sof + 9] = struct.pack(">HH", 60_000, 60_000)
    (tmp_path / "bomb.jpg").write_bytes(bytes(data))
    # decoded at 1/8 scale it would be small, but libjpeg keeps every coefficient
    with pytest.raises(DatasetError, match=r"60000x60000 pixels .*over the limit of 4.0 GiB"):
        read_images(tmp_path / "bomb.jpg")


# ---- fuzzing: 2,000 mutations of small valid PNG and PGM files ---------------------------


def _png_seeds() -> list[bytes]:
    seeds = []
    for image in (Image.fromarray(_dark(20, (6, 8))), Image.fromarray(RGB[:5, :7]),
                  Image.fromarray(RGBA[:4, :5]), Image.fromarray(WIDE[:4, :4]),
                  Image.fromarray(LA[:5, :3], "LA"), PALETTE.crop((0, 0, 6, 5)),
                  PALETTE_ALPHA.crop((0, 0, 5, 6))):
        buffer = io.BytesIO()
        image.save(buffer, "PNG")
        seeds.append(buffer.getvalue())
    rows = b"".join(bytes([f % 5]) + bytes(range(f, f + 9)) for f in range(7))  # all 5 filters
    seeds.append(png_bytes(3, 7, rows, color=2))
    return seeds


def _chunks(data: bytes) -> list[tuple[int, bytes, bytes]]:
    """(offset, kind, data) of each chunk of a valid PNG."""
    found, pos = [], 8
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        found.append((pos, kind, data[pos + 8:pos + 8 + length]))
        pos += 12 + length
    return found


def _mutate_png(data: bytes, rng: np.random.Generator, structured: bool) -> bytes:
    """One mutation; ``structured`` ones (chunk edits) need an intact file to work on."""
    out = bytearray(data)
    kind = rng.choice(["flip", "byte", "truncate", "length", "ihdr", "chunk", "rows", "drop",
                       "insert"] if structured else ["flip", "byte", "truncate", "insert"])
    chunks = _chunks(data) if structured else []
    pos, name, body = chunks[int(rng.integers(len(chunks)))] if chunks else (0, b"", b"")
    if kind == "flip":
        out[int(rng.integers(len(out)))] ^= 1 << int(rng.integers(8))
    elif kind == "byte":
        out[int(rng.integers(len(out)))] = int(rng.integers(256))
    elif kind == "truncate":
        del out[int(rng.integers(len(out))):]
    elif kind == "length":  # the chunk's length field lies
        lengths = [0, 1, len(body) - 1, len(body) + 1, 2**31 - 1, 2**32 - 1,
                   int(rng.integers(2**32))]
        out[pos:pos + 4] = max(0, lengths[int(rng.integers(len(lengths)))]).to_bytes(4, "big")
    elif kind in ("ihdr", "chunk", "rows"):  # edit inside a chunk, with a correct CRC
        if kind == "ihdr":
            pos, name, body = chunks[0]
            fields = bytearray(body)
            field = int(rng.integers(7))
            if field < 2:
                value = [0, 1, 2, 255, 65536, 2**31 - 1, 2**32 - 1][int(rng.integers(7))]
                fields[4 * field:4 * field + 4] = value.to_bytes(4, "big")
            else:
                fields[6 + field] = [0, 1, 2, 3, 4, 6, 7, 8, 16, 255][int(rng.integers(10))]
            body = bytes(fields)
        elif kind == "rows" and name == b"IDAT":  # damage the filtered rows, recompress them
            rows = bytearray(zlib.decompress(body))
            for _ in range(int(rng.integers(1, 4))):
                rows[int(rng.integers(len(rows)))] = int(rng.integers(256))
            if rng.random() < 0.3:
                rows = rows[:int(rng.integers(len(rows)))]
            body = zlib.compress(bytes(rows))
        elif body:
            edited = bytearray(body)
            edited[int(rng.integers(len(edited)))] = int(rng.integers(256))
            body = bytes(edited)
        end = pos + 12 + struct.unpack(">I", out[pos:pos + 4])[0]
        out[pos:end] = chunk(name, body)
    elif kind == "drop":
        end = pos + 12 + len(body)
        del out[pos:end]
    else:
        at = int(rng.integers(len(out)))
        out[at:at] = rng.integers(0, 256, int(rng.integers(1, 9))).astype(np.uint8).tobytes()
    return bytes(out)


PGM_SEEDS = [pgm_bytes(_dark(21, (5, 6))), pgm_bytes(WIDE[:3, :4], 65535),
             pgm_bytes(P2[:4, :5], 15, plain=True), pgm_bytes(P300[:3, :3], 300, plain=True),
             pgm_bytes(P1000[:4, :2], 1000)]
TOKENS = [b"-1", b"0", b"x", b"65536", b"99999", b"1e3", b"", b"3", b"+2", b"0x10", b"2.5",
          b"70000", b"-0", b"#", b"P7"]


def _mutate_pgm(data: bytes, rng: np.random.Generator, structured: bool) -> bytes:
    """One mutation; ``structured`` ones (header tokens, values) need an intact file."""
    kind = rng.choice(["flip", "byte", "truncate", "token", "body"] if structured
                      else ["flip", "byte", "truncate"])
    out = bytearray(data)
    lines = data.split(b"\n", 4)  # magic, comment, "w h", maxval, values (when still intact)
    intact = len(lines) == 5 and len(lines[2].split()) == 2
    if kind == "token" and intact:  # magic, width, height or maxval replaced
        tokens = [lines[0], *lines[2].split(), lines[3]]
        tokens[int(rng.integers(4))] = TOKENS[int(rng.integers(len(TOKENS)))]
        return (tokens[0] + b"\n" + lines[1] + b"\n" + tokens[1] + b" " + tokens[2] + b"\n"
                + tokens[3] + b"\n" + lines[4])
    if kind == "body" and intact:  # plain values get bad tokens; binary ones lose or gain bytes
        body = lines[4]
        values = body.split()
        if lines[0] == b"P2" and values:
            values[int(rng.integers(len(values)))] = TOKENS[int(rng.integers(len(TOKENS)))]
            body = b" ".join(values)
        else:
            cut = int(rng.integers(len(body) + 1))
            body = body[:cut] + bytes(int(rng.integers(0, 3))) + body[cut + 1:]
        return b"\n".join(lines[:4]) + b"\n" + body
    if kind == "truncate":
        del out[int(rng.integers(len(out))):]
    elif kind == "flip":
        out[int(rng.integers(len(out)))] ^= 1 << int(rng.integers(8))
    else:
        out[int(rng.integers(len(out)))] = int(rng.integers(256))
    return bytes(out)


def test_fuzz_only_dataset_errors_escape(tmp_path: Path) -> None:
    outcomes: Counter[str] = Counter()
    seeds = [(name, data) for name, data in [("png", s) for s in _png_seeds()]
             + [("pgm", s) for s in PGM_SEEDS]]
    for case in range(2_000):
        rng = np.random.default_rng([2024, case])
        suffix, data = seeds[case % len(seeds)]
        mutate = _mutate_png if suffix == "png" else _mutate_pgm
        for step in range(int(rng.integers(1, 3))):
            data = mutate(data, rng, step == 0) if data else data
        path = tmp_path / f"fuzz.{suffix}"
        path.write_bytes(data)
        try:
            images = read_images(path, max_bytes="64M")
        except DatasetError as exc:
            assert str(path) in str(exc), exc
            outcomes[f"{suffix} raised"] += 1
            continue
        except Exception as exc:  # the point: name the case that escaped, and how
            raise AssertionError(f"case {case} ({suffix}, {data[:60]!r}...): "
                                 f"{type(exc).__name__}: {exc}") from exc
        assert images.shape == (1, 28, 28) and images.dtype == np.float32
        assert np.isfinite(images).all() and images.min() >= 0 and images.max() <= 1
        outcomes[f"{suffix} decoded"] += 1
    print(dict(outcomes))
    for kind in ("png raised", "png decoded", "pgm raised", "pgm decoded"):
        assert outcomes[kind] >= 100, outcomes  # both outcomes are exercised, for both formats


# ---- the real command: one line, exit 2, bounded memory ----------------------------------


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("run") / "tiny"
    result = run_cli(["train", "--dataset", "mini-mnist", "--epochs", "1", "--hidden", "8",
                      "--out", str(run)], unset=("CHAINRULE_MAX_MEMORY",))
    assert result.code == 0, result.err
    return run


def test_cli_png_bomb_is_refused_before_decoding(run_dir: Path, tmp_path: Path) -> None:
    png_bomb(tmp_path / "bomb.png")
    assert (tmp_path / "bomb.png").stat().st_size < 4 << 20
    result = run_cli(["predict", str(run_dir), str(tmp_path / "bomb.png")],
                     unset=("CHAINRULE_MAX_MEMORY",))
    assert result.code == 2
    line = result.one_line_error()
    assert "bomb.png" in line and "60000x60000 pixels" in line, line
    assert "over the limit of 4.0 GiB" in line and "CHAINRULE_MAX_MEMORY" in line, line
    assert result.peak_rss < GiB, result.peak_rss


def test_cli_memory_limit_moves_with_the_environment(run_dir: Path, tmp_path: Path) -> None:
    Image.fromarray(_photo(1200, 1200)).save(tmp_path / "photo.png")
    small = run_cli(["predict", str(run_dir), str(tmp_path / "photo.png")],
                    env={"CHAINRULE_MAX_MEMORY": "16M"})  # the tiny model itself fits
    assert small.code == 2
    assert "photo.png: decoding the 1200x1200 pixels" in small.one_line_error()
    assert "over the limit of 16.0 MiB" in small.err
    default = run_cli(["predict", str(run_dir), str(tmp_path / "photo.png")],
                      unset=("CHAINRULE_MAX_MEMORY",))
    assert default.code == 0, default.err
    assert default.out.startswith(f"{tmp_path / 'photo.png'}: ")


CLI_BAD = [
    ("zero-width.png", png_bytes(0, 5, b""), "found a PNG header claiming 0x5 pixels"),
    ("negative.pgm", b"P5\n-5 28\n255\n" + bytes(140), "found a PGM header claiming -5x28"),
    ("bad-palette.png", BAD[0][1], "found index 200"),
    ("maxval-0.pgm", b"P5\n2 2\n0\n" + bytes(4), "maxval must be greater than 0"),
]


@pytest.mark.parametrize(("name", "data", "message"), CLI_BAD, ids=[c[0] for c in CLI_BAD])
def test_cli_bad_images_give_one_line(run_dir: Path, tmp_path: Path, name: str, data: bytes,
                                      message: str) -> None:
    (tmp_path / name).write_bytes(data)
    result = run_cli(["predict", str(run_dir), str(tmp_path / name)])
    assert result.code == 2, (result.out, result.err)
    line = result.one_line_error()
    assert name in line and message in line, line
    assert "nan" not in result.out
