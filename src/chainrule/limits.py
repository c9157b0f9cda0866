"""How much memory chainrule may claim for one data set, image or model before it refuses.

A corrupt or hostile file can claim any size in its header (an IDX file of 5,000,000
images, a PNG of 60000x60000 pixels), and a typo can ask for a layer of 10^8 units. The
readers and the model builder estimate the bytes such a claim would need *before*
decompressing or allocating anything, and refuse with one message when it is over the
limit. The limit is 4 GiB unless the caller passes another (``max_bytes=``), or the
environment variable ``CHAINRULE_MAX_MEMORY`` sets one, in bytes or with a suffix:
``512M``, ``16G`` (``CHAINRULE_MAX_MEMORY=32G chainrule train ...``).

>>> parse_size("16G") == 16 << 30, parse_size("1.5k"), parse_size(4096)
(True, 1536, 4096)
>>> format_size(5_000_000 * 28 * 28 * 5)
'18.3 GiB'
>>> check_memory("a test", 10, max_bytes=100)  # under the limit: nothing happens
>>> check_memory("IDX images (5000000, 28, 28)", 19_600_000_000,
...              max_bytes=4 << 30)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
chainrule.limits.MemoryLimitError: IDX images (5000000, 28, 28) would need 18.3 GiB of memory, ...
"""

from __future__ import annotations

import math
import os

ENV = "CHAINRULE_MAX_MEMORY"
DEFAULT_MAX_BYTES = 4 << 30
_UNITS = {"": 1, "B": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


class MemoryLimitError(ValueError):
    """A file, image or model would need more memory than the limit allows."""


def parse_size(value: str | int | float) -> int:
    """``"512M"`` -> 536870912; a plain number is bytes. ValueError names a bad value."""
    text = str(value).strip().upper().removesuffix("IB").removesuffix("B")
    unit = text[-1:] if text[-1:] in _UNITS else ""
    try:
        number = float(text[:len(text) - len(unit)])
    except ValueError:
        raise MemoryLimitError(f"memory size {value!r}: expected a number of bytes or one "
                               "with a suffix, like 512M, 16G or 1T") from None
    if not math.isfinite(number) or number <= 0:
        raise MemoryLimitError(f"memory size {value!r}: expected a positive, finite size")
    return int(number * _UNITS[unit])


def format_size(nbytes: int | float) -> str:
    """Bytes for people: ``'18.3 GiB'``, ``'512.0 MiB'``, ``'100 bytes'``."""
    for unit, size in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if nbytes >= size:
            return f"{nbytes / size:.1f} {unit}"
    return f"{int(nbytes)} bytes"


def memory_limit(max_bytes: int | str | None = None) -> int:
    """The limit in bytes: ``max_bytes`` if given, else ``$CHAINRULE_MAX_MEMORY``, else 4 GiB."""
    if max_bytes is not None:
        return parse_size(max_bytes)
    from_env = os.environ.get(ENV)
    if from_env:
        try:
            return parse_size(from_env)
        except MemoryLimitError as exc:
            raise MemoryLimitError(f"{ENV}: {exc}") from None
    return DEFAULT_MAX_BYTES


def check_memory(what: str, nbytes: int, max_bytes: int | str | None = None) -> None:
    """Raise :class:`MemoryLimitError` if ``what`` would need more than the limit."""
    limit = memory_limit(max_bytes)
    if nbytes > limit:
        raise MemoryLimitError(
            f"{what} would need {format_size(nbytes)} of memory, over the limit of "
            f"{format_size(limit)}; {_raise_it(nbytes)}")


def check_total(what: str, parts: list[tuple[str, int, str]],
                max_bytes: int | str | None = None) -> None:
    """Check the sum of ``parts`` (name, bytes, what they are) once against the limit.

    Everything one run holds at the same time is counted together: files that each fit
    the limit may not fit it side by side, with the model.

    >>> check_total("this run", [("data", 3 << 30, "two files"), ("model", 2 << 30, "a net")],
    ...             max_bytes="4G")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    chainrule.limits.MemoryLimitError: this run would need data 3.0 GiB + model 2.0 GiB = \
5.0 GiB of memory, over the limit of 4.0 GiB; data: two files; model: a net; ...
    """
    limit = memory_limit(max_bytes)
    total = sum(nbytes for _, nbytes, _ in parts)
    if total > limit:
        sums = " + ".join(f"{name} {format_size(nbytes)}" for name, nbytes, _ in parts)
        details = "; ".join(f"{name}: {detail}" for name, _, detail in parts)
        raise MemoryLimitError(
            f"{what} would need {sums} = {format_size(total)} of memory, over the limit of "
            f"{format_size(limit)}; {details}; {_raise_it(total)}")


def _raise_it(nbytes: int) -> str:
    return (f"if this machine has the memory, raise the limit by setting {ENV}=SIZE (e.g. "
            f"{ENV}={_suggest(nbytes)})")


def _suggest(nbytes: int) -> str:
    gib = max(1, math.ceil(nbytes / (1 << 30)))
    return f"{1 << (gib - 1).bit_length()}G"
