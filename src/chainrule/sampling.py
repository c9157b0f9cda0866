"""``multinomial``: draw category indices from rows of (unnormalized) probabilities;
``bernoulli`` and the fills behind ``Tensor.bernoulli_`` and ``Tensor.exponential_``.

Draws come from the seeded :class:`~chainrule.random.Generator` (``generator=`` or the
default one), so a seed gives the same samples every run: PyTorch's CPU samples bit for bit
(tests/test_random_torch.py, tests/test_random_sampling.py).

>>> import chainrule as cr
>>> _ = cr.manual_seed(0)
>>> cr.multinomial(cr.tensor([0.0, 1.0, 0.0]), 2, replacement=True)
tensor([1, 1])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import random_draws
from chainrule.backend import to_device
from chainrule.random import Generator, numpy_generator
from chainrule.tensor import Tensor


def _check(weights: np.ndarray, num_samples: int, replacement: bool,
           shape: tuple[int, ...], dtype: Any) -> None:
    where = f"(input {shape} {dtype})"
    if weights.ndim not in (1, 2) or weights.shape[-1] == 0:
        raise RuntimeError(f"multinomial: the input must be 1-D or 2-D with at least one "
                           f"category {where}")
    if weights.dtype.kind != "f":
        raise RuntimeError(f"multinomial: the input must be floating point {where}")
    if not np.all(np.isfinite(weights)) or bool((weights < 0).any()):
        raise RuntimeError(f"multinomial: probability tensor contains either inf, nan or "
                           f"element < 0 {where}")
    if bool((weights.sum(axis=-1) <= 0).any()):
        raise RuntimeError(f"multinomial: invalid multinomial distribution (sum of "
                           f"probabilities <= 0) {where}")
    if num_samples <= 0:
        raise RuntimeError(f"multinomial: cannot sample {num_samples} samples; ask for at "
                           f"least 1 {where}")
    if not replacement and num_samples > weights.shape[-1]:
        raise RuntimeError(
            f"multinomial: cannot sample {num_samples} samples without replacement from "
            f"{weights.shape[-1]} categories {where}; pass replacement=True or ask for fewer")


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *,  # noqa: A002
                generator: Generator | None = None) -> Tensor:
    """Sample ``num_samples`` category indices per row (int64), with probabilities
    proportional to ``input``'s values: PyTorch's CPU draws, bit for bit.

    Without replacement (or for one sample) PyTorch races exponentials: ``q`` is
    ``exponential_(1)`` in the input's shape and dtype, and the samples are the largest
    ``input / q`` of each row, largest first (categories of weight 0 come only after all the
    others; the order among several of them is PyTorch's sort's, not reproduced). With
    replacement each row's cumulative sums (in the input's dtype, divided by the total, the
    last one set to 1) are searched for one float64 uniform per sample: the first category
    whose cumulative sum reaches it.

    >>> import chainrule as cr
    >>> g = cr.Generator().manual_seed(3)
    >>> samples = cr.multinomial(cr.tensor([[1.0, 1.0, 2.0]]), 3, generator=g)
    >>> tuple(samples.shape), sorted(samples[0].tolist())
    ((1, 3), [0, 1, 2])
    """
    shape, dtype = tuple(input.shape), input.dtype
    weights = np.asarray(input.detach().cpu()._data)
    _check(weights, int(num_samples), replacement, shape, dtype)
    rows = weights.reshape(-1, weights.shape[-1])
    draw = numpy_generator(generator)
    if not replacement or num_samples == 1:
        race = random_draws.exponential(draw, 1.0, rows.shape, rows.dtype)
        keys = rows / race
        # largest first; equal keys (zero weights) by index
        picks = np.argsort(-keys, axis=1, kind="stable")[:, :num_samples]
    else:
        cumulative = np.cumsum(rows, axis=1, dtype=rows.dtype)  # sequential, like PyTorch's
        cumulative /= cumulative[:, -1:]
        cumulative[:, -1] = 1
        unit = random_draws.unit_uniform(draw, rows.shape[0] * num_samples, np.float64)
        unit = unit.reshape(rows.shape[0], num_samples)
        picks = np.stack([np.searchsorted(row.astype(np.float64), samples, side="left")
                          for row, samples in zip(cumulative, unit, strict=True)])
    picks = picks.astype(np.int64).reshape(shape[:-1] + (int(num_samples),))
    return Tensor._wrap(to_device(picks, input.device))


def bernoulli_values(like: Tensor, p: Any, generator: Generator | None) -> Tensor:
    """0/1 values in ``like``'s shape, dtype and device: probability ``p`` (a number or a
    tensor broadcast to the shape) of a 1."""
    shape, dtype = tuple(like.shape), like._data.dtype
    probs: Any
    if isinstance(p, Tensor):
        probs = np.asarray(p.detach().cpu()._data)
        if probs.size and (float(probs.min()) < 0 or float(probs.max()) > 1):
            raise ValueError("bernoulli: the probabilities must be in [0, 1]")
        probs = np.broadcast_to(probs, shape)
    else:
        probs = float(p)
        if not 0.0 <= probs <= 1.0:
            raise ValueError(f"bernoulli_ expects p to be in [0, 1], but got p={probs}")
    values = random_draws.bernoulli(numpy_generator(generator), probs, shape, dtype)
    return Tensor._wrap(to_device(values, like.device))


def bernoulli(input: Tensor, p: float | None = None, *,  # noqa: A002
              generator: Generator | None = None) -> Tensor:
    """1 with probability ``input`` (each element's, in [0, 1]) or ``p`` (one number for
    all, ``input`` giving only the shape and dtype), else 0; PyTorch's CPU draws.

    >>> import chainrule as cr
    >>> _ = cr.manual_seed(0)
    >>> cr.bernoulli(cr.tensor([0.0, 1.0, 0.5]))
    tensor([0., 1., 1.])
    """
    return bernoulli_values(input, input if p is None else p, generator)


def exponential_values(like: Tensor, lambd: float, generator: Generator | None) -> Tensor:
    """Exponential samples of rate ``lambd`` in ``like``'s shape, dtype and device."""
    dtype = like._data.dtype
    if dtype.kind != "f":
        raise RuntimeError(f"exponential_: the tensor must be floating point, got {dtype}")
    if not lambd > 0:
        raise ValueError(f"exponential_ expects lambd > 0.0, but found lambd={lambd}")
    values = random_draws.exponential(numpy_generator(generator), float(lambd),
                                      tuple(like.shape), dtype)
    return Tensor._wrap(to_device(values, like.device))
