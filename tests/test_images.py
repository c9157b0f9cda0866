"""Images for prediction: every format decoded to the exact area average, big pictures
reduced fast and right (damaged and hostile files: test_images_hostile.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from chainrule.data import write_idx
from chainrule.data.images import REDUCED_SIDE, area_average, read_images

from imagefiles import (
    GREY,
    LA,
    P2,
    P300,
    P1000,
    PALETTE,
    PALETTE_ALPHA,
    PALETTE_RGB,
    PALETTE_RGBA,
    RGB,
    RGBA,
    WIDE,
    area_reference,
    bytes_to,
    composite,
    dark,
    jpeg_reference,
    mnist_like,
    pgm_bytes,
    photo,
    rng_for,
    save_to,
)


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


GOOD = [  # name, writer, grey in [0, 1] the file holds (None: Pillow's full decode), tolerance
    ("grey.png", save_to(Image.fromarray(GREY)), GREY / 255.0, 1e-6),
    ("rgb.png", save_to(Image.fromarray(RGB)), composite(RGB), 1e-6),
    ("rgba.png", save_to(Image.fromarray(RGBA)), composite(RGBA), 1 / 255),
    ("la.png", save_to(Image.fromarray(LA, "LA")), composite(LA), 1 / 255),
    ("palette.png", save_to(PALETTE), composite(PALETTE_RGB), 1e-6),
    ("palette-alpha.png", save_to(PALETTE_ALPHA), composite(PALETTE_RGBA), 1 / 255),
    ("grey16.png", save_to(Image.fromarray(WIDE)), WIDE / 65535.0, 1e-6),
    ("p5.pgm", bytes_to(pgm_bytes(GREY)), GREY / 255.0, 1e-6),
    ("p5-16bit.pgm", bytes_to(pgm_bytes(WIDE, 65535)), WIDE / 65535.0, 1e-6),
    ("p5-maxval-1000.pgm", bytes_to(pgm_bytes(P1000, 1000)), P1000 / 1000.0, 1e-5),
    ("p2.pgm", bytes_to(pgm_bytes(P2, 15, plain=True)), P2 / 15.0, 1e-6),
    ("p2-maxval-300.pgm", bytes_to(pgm_bytes(P300, 300, plain=True)), P300 / 300.0, 1e-5),
    ("rgb.bmp", save_to(Image.fromarray(RGB)), composite(RGB), 1e-6),
    ("palette.gif", save_to(PALETTE), composite(PALETTE_RGB), 1e-6),
    ("grey.tiff", save_to(Image.fromarray(GREY)), GREY / 255.0, 1e-6),
    ("grey.jpg", save_to(Image.fromarray(GREY), quality=95), None, 1e-6),
    ("rgb.jpg", save_to(Image.fromarray(RGB), quality=95), None, 1e-6),
]


@pytest.mark.parametrize(("name", "write", "grey", "tolerance"), GOOD,
                         ids=[case[0] for case in GOOD])
def test_formats_decode_to_the_area_average(tmp_path: Path, name: str,
                                            write: Callable[[Path], None],
                                            grey: np.ndarray | None, tolerance: float) -> None:
    path = tmp_path / name
    write(path)
    if grey is None:
        grey = jpeg_reference(path)
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
    digits = dark(12, (3, 28, 28))
    write_idx(str(tmp_path / "three.idx"), digits)
    np.testing.assert_allclose(read_images(tmp_path / "three.idx"), digits / 255.0, atol=1e-7)
    write_idx(str(tmp_path / "big.idx.gz"), dark(13, (2, 56, 56)))  # other sizes: averaged
    scaled = read_images(tmp_path / "big.idx.gz")
    assert scaled.shape == (2, 28, 28)
    np.testing.assert_allclose(scaled[1], mnist_like(dark(13, (2, 56, 56))[1] / 255.0),
                               atol=1e-6)


# ---- the fast path for big pictures -----------------------------------------------------


def test_big_image_reduced_on_whole_cells_is_exact(tmp_path: Path) -> None:
    # 3584 x 2688 = 28 x (128, 96): Pillow reduces by (3, 4) to 896 x 896, 32 x 32 per cell
    blocks = rng_for(14).integers(0, 256, (224, 168)).astype(np.uint8)
    sharp = np.kron(blocks, np.ones((16, 16), np.uint8))  # hard edges everywhere
    assert sharp.shape == (3584, 2688) and 3584 // REDUCED_SIDE == 4
    Image.fromarray(sharp).save(tmp_path / "sharp.png", compress_level=1)
    np.testing.assert_allclose(read_images(tmp_path / "sharp.png")[0],
                               mnist_like(sharp / 255.0), atol=1e-3, rtol=0)


def test_big_photo_png_and_jpeg_match_the_full_resolution_average(tmp_path: Path) -> None:
    picture = photo(1850, 2000)  # reduced by (2, 2) as PNG, decoded at 1/2 scale as JPEG
    Image.fromarray(picture).save(tmp_path / "photo.png")
    Image.fromarray(picture).save(tmp_path / "photo.jpg", quality=90)
    np.testing.assert_allclose(read_images(tmp_path / "photo.png")[0],
                               mnist_like(composite(picture)), atol=2e-3, rtol=0)
    np.testing.assert_allclose(read_images(tmp_path / "photo.jpg")[0],
                               mnist_like(jpeg_reference(tmp_path / "photo.jpg")), atol=4e-3,
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


@pytest.mark.parametrize("orientation", range(1, 10))
@pytest.mark.parametrize("suffix", ["png", "jpg"])
def test_exif_orientation_turns_the_picture_like_a_viewer(tmp_path: Path, orientation: int,
                                                         suffix: str) -> None:
    """A phone stores a sideways photo with EXIF orientation 6 or 8; Pillow's exif_transpose
    shows what a viewer shows (9 is not a valid tag: left as stored)."""
    picture = dark(30, (90, 60))
    picture[10:30, 5:20] = 255  # a bright block: every turn of it is a different picture
    exif = Image.Exif()
    exif[0x0112] = orientation
    tagged = tmp_path / f"tagged.{suffix}"
    Image.fromarray(picture).save(tagged, exif=exif)
    with Image.open(tagged) as stored:
        ImageOps.exif_transpose(stored).save(tmp_path / "shown.png")
    np.testing.assert_array_equal(read_images(tagged), read_images(tmp_path / "shown.png"))
    turned = orientation in (2, 3, 4, 5, 6, 7, 8)
    with Image.open(tagged) as stored:
        stored.save(tmp_path / "untagged.png")  # the pixels as stored, no tag
    assert turned != np.array_equal(read_images(tagged), read_images(tmp_path / "untagged.png"))
