"""Damaged and hostile images: one DatasetError each, sizes checked before decoding, a fuzz
of 2,000 mutations where only DatasetError escapes, and the real command (one line, exit 2,
bounded memory)."""

from __future__ import annotations

import io
import struct
import zlib
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from chainrule.data import DatasetError
from chainrule.data.images import read_image, read_images

from clirun import run_cli
from imagefiles import (
    LA,
    P2,
    P300,
    P1000,
    PALETTE,
    PALETTE_ALPHA,
    RGB,
    RGBA,
    WIDE,
    GiB,
    chunk,
    dark,
    pgm_bytes,
    photo,
    png_bomb,
    png_bytes,
)

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
    Image.fromarray(photo(600, 600)).save(tmp_path / "photo.png")
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
    Image.fromarray(photo(16, 16)).save(tmp_path / "small.jpg", progressive=True)
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
    for image in (Image.fromarray(dark(20, (6, 8))), Image.fromarray(RGB[:5, :7]),
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


PGM_SEEDS = [pgm_bytes(dark(21, (5, 6))), pgm_bytes(WIDE[:3, :4], 65535),
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
    Image.fromarray(photo(1200, 1200)).save(tmp_path / "photo.png")
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
