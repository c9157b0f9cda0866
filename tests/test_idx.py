"""The IDX reader: every kind of corruption raises DatasetError, fuzzed with hypothesis."""

import gzip
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainrule.data.idx import DatasetError, read_idx, read_idx_pair, write_idx

HEADER = bytes([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4])
PAYLOAD = bytes(range(24))
GOOD = HEADER + PAYLOAD


def _write(path: Path, data: bytes, compress: bool = False) -> str:
    if compress:
        data = gzip.compress(data, mtime=0)
    path.write_bytes(data)
    return str(path)


def test_reads_raw_and_gzip_and_round_trips(tmp_path: Path) -> None:
    expected = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    assert np.array_equal(read_idx(_write(tmp_path / "a", GOOD)), expected)
    assert np.array_equal(read_idx(_write(tmp_path / "b.gz", GOOD, True)), expected)
    floats = np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)
    write_idx(str(tmp_path / "f.gz"), floats)
    assert np.array_equal(read_idx(tmp_path / "f.gz"), floats)
    ints = np.array([[1, -70000]], dtype=np.int32)
    write_idx(str(tmp_path / "i"), ints)
    assert np.array_equal(read_idx(tmp_path / "i"), ints)


@pytest.mark.parametrize(("name", "data", "message"), [
    ("truncated", GOOD[:-5], r"24 bytes of data .* found 19 \(file truncated\)"),
    ("truncated_header", GOOD[:3], r"4 bytes of header, found only 3"),
    ("truncated_dims", GOOD[:9], r"12 bytes of dimensions, found only 5"),
    ("magic", b"\x01" + GOOD[1:], r"magic number starting with two zero bytes, found 0x0100"),
    ("dtype", GOOD[:2] + b"\x07" + GOOD[3:], r"dtype code in .*, found 0x7"),
    ("zero_dims", GOOD[:3] + b"\x00" + GOOD[4:], r"1 to 8 dimensions, found 0"),
    ("trailing", GOOD + b"\x00", r"to end after 24 bytes .* found trailing bytes"),
    ("overflowing_dims", HEADER[:4] + b"\xff\xff\xff\xff" * 3 + PAYLOAD,
     r"the header's dims \(4294967295, 4294967295, 4294967295\) of uint8 would need "
     r"[\d.]+ TiB of memory, over the limit of"),
    ("empty", b"", r"4 bytes of header, found only 0"),
])
@pytest.mark.parametrize("compress", [False, True])
def test_corruption_is_named(tmp_path: Path, name: str, data: bytes, message: str,
                             compress: bool) -> None:
    path = _write(tmp_path / f"{name}.idx", data, compress)
    with pytest.raises(DatasetError, match=message) as err:
        read_idx(path)
    assert path in str(err.value)


def test_bad_gzip_and_missing_file(tmp_path: Path) -> None:
    broken = gzip.compress(GOOD, mtime=0)
    path = _write(tmp_path / "bad.gz", broken[:15] + b"\xff" * 8 + broken[23:])
    with pytest.raises(DatasetError, match="bad.gz"):
        read_idx(path)
    half = _write(tmp_path / "half.gz", broken[: len(broken) // 2])
    with pytest.raises(DatasetError, match="half.gz"):
        read_idx(half)
    with pytest.raises(DatasetError, match="nope: expected an IDX file, found nothing$"):
        read_idx(tmp_path / "nope")
    with pytest.raises(DatasetError, match="expected an IDX file, found a character device"):
        read_idx("/dev/zero")  # refused before it is opened: never read without end


def test_pair_checks_counts_and_label_range(tmp_path: Path) -> None:
    images = np.zeros((3, 2, 2), np.uint8)
    write_idx(str(tmp_path / "img"), images)
    write_idx(str(tmp_path / "lab"), np.array([1, 2], np.uint8))
    with pytest.raises(DatasetError, match="expected 3 labels .* found 2"):
        read_idx_pair(str(tmp_path / "img"), str(tmp_path / "lab"))
    write_idx(str(tmp_path / "lab"), np.array([1, 2, 10], np.uint8))
    with pytest.raises(DatasetError, match=r"labels in 0..9, found values from 1 to 10"):
        read_idx_pair(str(tmp_path / "img"), str(tmp_path / "lab"))


def test_huge_claimed_dims_do_not_allocate(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    # dims claim 10^12 bytes; the reader must refuse before allocating anything like that
    monkeypatch.delenv("CHAINRULE_MAX_MEMORY", raising=False)
    header = bytes([0, 0, 8, 2]) + (10**6).to_bytes(4, "big") * 2
    for limit in (None, 10**13):
        path = _write(tmp_path / "huge", header + PAYLOAD)
        tracemalloc.start()
        with pytest.raises(DatasetError):
            read_idx(path) if limit is None else read_idx(path, max_bytes=limit)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < 8 * 1024 * 1024


def test_claim_over_the_limit_is_refused_before_the_data_is_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # MNIST's shape, 5,000,000 times: 3.7 GiB of pixels, 18.3 GiB with the float32 copy
    monkeypatch.delenv("CHAINRULE_MAX_MEMORY", raising=False)
    header = bytes([0, 0, 8, 3]) + np.array([5_000_000, 28, 28], ">u4").tobytes()
    path = _write(tmp_path / "bomb-idx3-ubyte.gz", header + bytes(1 << 16), compress=True)
    tracemalloc.start()
    with pytest.raises(DatasetError) as err:
        read_idx(path, copy_itemsize=4)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    message = str(err.value)
    assert message.startswith(f"{path}: the header's dims (5000000, 28, 28) of uint8 (with the "
                              "4-byte-per-value copy made of them) would need 18.3 GiB of "
                              "memory, over the limit of 4.0 GiB; "), message
    assert "CHAINRULE_MAX_MEMORY=32G" in message  # says how to raise it
    assert peak < 1 << 20  # not even the 64 KiB of zeros were read
    with pytest.raises(DatasetError, match="would need 3.7 GiB of memory, over the limit of "
                       "1.0 GiB"):
        read_idx(path, max_bytes="1G")  # without the copy


def test_limit_comes_from_the_argument_or_the_environment(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHAINRULE_MAX_MEMORY", raising=False)
    path = tmp_path / "labels-idx1-ubyte"
    write_idx(str(path), np.zeros(3000, np.uint8))
    assert read_idx(path).shape == (3000,)
    assert read_idx(path, max_bytes=3000).shape == (3000,)
    with pytest.raises(DatasetError, match=r"dims \(3000,\) of uint8 would need 2.9 KiB of "
                       "memory, over the limit of 2.0 KiB"):
        read_idx(path, max_bytes="2K")
    with pytest.raises(DatasetError, match=r"would need 14.6 KiB of memory, over the limit of "
                       r"10.0 KiB"):  # 3000 bytes, plus 4 bytes for each value in the copy
        read_idx(path, max_bytes="10K", copy_itemsize=4)
    monkeypatch.setenv("CHAINRULE_MAX_MEMORY", "2K")
    with pytest.raises(DatasetError, match="over the limit of 2.0 KiB"):
        read_idx(path)
    assert read_idx(path, max_bytes="1M").shape == (3000,)  # the argument wins


def test_pair_needs_at_least_one_image(tmp_path: Path) -> None:
    write_idx(str(tmp_path / "img"), np.zeros((0, 28, 28), np.uint8))
    write_idx(str(tmp_path / "lab"), np.zeros(0, np.uint8))
    with pytest.raises(DatasetError, match=r"img: expected at least one image, found a header "
                       r"claiming 0 images \(dims \(0, 28, 28\)\)"):
        read_idx_pair(str(tmp_path / "img"), str(tmp_path / "lab"))


BASES = [GOOD, bytes([0, 0, 0x0D, 1, 0, 0, 0, 3]) + np.arange(3, dtype=">f4").tobytes(),
         bytes([0, 0, 0x0B, 2, 0, 0, 0, 2, 0, 0, 0, 2]) + np.arange(4, dtype=">i2").tobytes()]


@st.composite
def mutated(draw: st.DrawFn) -> tuple[bytes, bool]:
    data = bytearray(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "set", "truncate", "insert", "delete"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif kind == "set" and data:
            data[pos] = draw(st.integers(0, 255))
        elif kind == "truncate":
            del data[pos:]
        elif kind == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=6))
        elif kind == "delete":
            del data[pos:pos + draw(st.integers(1, 4))]
    compress = draw(st.booleans())
    if compress and draw(st.booleans()):  # corrupt the gzip stream itself
        packed = bytearray(gzip.compress(bytes(data), mtime=0))
        packed[draw(st.integers(0, len(packed) - 1))] ^= 0xFF
        return bytes(packed), False
    return bytes(data), compress


@settings(max_examples=10_000, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(mutated())
def test_fuzz_only_dataset_errors_escape(tmp_path: Path, case: tuple[bytes, bool]) -> None:
    data, compress = case
    path = _write(tmp_path / "fuzz.idx", data, compress)
    try:
        array = read_idx(path)
    except DatasetError:
        return
    assert isinstance(array, np.ndarray)  # a mutation that still forms a valid file
