"""``multinomial``: draw category indices from rows of (unnormalized) probabilities.

Draws come from the seeded :class:`~chainrule.random.Generator` (``generator=`` or the
default one), so a seed gives the same samples every run; they are not PyTorch's samples
(its generator is another algorithm), only the same distribution.

>>> import chainrule as cr
>>> _ = cr.manual_seed(0)
>>> cr.multinomial(cr.tensor([0.0, 1.0, 0.0]), 2, replacement=True)
tensor([1, 1])
"""

from __future__ import annotations

from typing import Any

import numpy as np

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
    proportional to ``input``'s values.

    Without replacement each category is drawn at most once: the categories with the
    smallest E / w for exponential draws E (the exponential race, PyTorch's method), so
    categories of weight 0 come only after all the others, as in PyTorch. With replacement
    every draw is independent.

    >>> import chainrule as cr
    >>> g = cr.Generator().manual_seed(3)
    >>> samples = cr.multinomial(cr.tensor([[1.0, 1.0, 2.0]]), 3, generator=g)
    >>> tuple(samples.shape), sorted(samples[0].tolist())
    ((1, 3), [0, 1, 2])
    """
    shape, dtype = tuple(input.shape), input.dtype
    weights = np.asarray(input.detach().cpu()._data)
    _check(weights, int(num_samples), replacement, shape, dtype)
    rows = weights.reshape(-1, weights.shape[-1]).astype(np.float64)
    rng = numpy_generator(generator).numpy()  # not PyTorch's multinomial: its own stream
    if replacement:
        cdf = np.cumsum(rows, axis=1)
        cdf /= cdf[:, -1:]
        draws = rng.random((rows.shape[0], num_samples))
        picks = np.stack([np.searchsorted(c, d, side="right") for c, d in zip(cdf, draws,
                                                                               strict=True)])
        picks = np.minimum(picks, rows.shape[1] - 1)  # a draw of exactly 1 after rounding
    else:
        with np.errstate(divide="ignore"):
            keys = rng.standard_exponential(rows.shape) / rows
        picks = np.argsort(keys, axis=1, kind="stable")[:, :num_samples]
    picks = picks.astype(np.int64).reshape(shape[:-1] + (int(num_samples),))
    return Tensor._wrap(to_device(picks, input.device))
