"""Data augmentation (chainrule.data.augment) and the DataLoader's augmented batches.

The resampling is checked against PyTorch's grid_sample, rotations against affine_grid, the
blur against a direct convolution; the loader's augmented batches are checked to be the
same after a resume, mid-epoch or between epochs, as in a run that was not interrupted.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import chainrule as cr
from chainrule.data import DataLoader, TensorDataset
from chainrule.data.augment import (
    Augment,
    blur_matrix,
    gaussian_blur,
    gaussian_kernel,
    shift_pixels,
    warp,
)

torch = pytest.importorskip("torch")
F = torch.nn.functional


def _grid_sample(images: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    planes = images[:, None] if images.ndim == 3 else images
    h, w = planes.shape[-2:]
    grid = np.stack([xs / (w - 1) * 2 - 1, ys / (h - 1) * 2 - 1], axis=-1)
    out = F.grid_sample(torch.tensor(planes), torch.tensor(grid), mode="bilinear",
                        padding_mode="zeros", align_corners=True)
    return out.numpy().reshape(images.shape)


@pytest.mark.parametrize("shape", [(4, 7, 9), (3, 2, 6, 5), (1, 1, 28, 28), (2, 3, 32, 32)])
def test_warp_is_torch_grid_sample_with_zero_padding(shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(len(shape))
    images = rng.random(shape)
    n, h, w = shape[0], shape[-2], shape[-1]
    ys = rng.uniform(-4, h + 3, (n, h, w))  # inside, on the border and far outside
    xs = rng.uniform(-4, w + 3, (n, h, w))
    ys[0, 0, :4] = [-1, 0, h - 1, h]
    xs[0, 0, :4] = [w - 1, -1, 0, w]
    np.testing.assert_allclose(warp(images, ys, xs), _grid_sample(images, ys, xs),
                               rtol=0, atol=1e-12)


@pytest.mark.parametrize("dy, dx", [(0, 0), (1, -1), (-2, 3), (5, 0), (-40, 2)])
def test_shift_copies_pixels_exactly_and_lets_zeros_in(dy: int, dx: int) -> None:
    images = np.random.default_rng(0).random((2, 3, 6, 7), dtype=np.float32)
    out = shift_pixels(images, np.array([dy, 0]), np.array([dx, 0]))
    expected = np.zeros_like(images[0])
    rows, cols = slice(max(dy, 0), 6 + min(dy, 0)), slice(max(dx, 0), 7 + min(dx, 0))
    source = slice(max(-dy, 0), 6 - max(dy, 0)), slice(max(-dx, 0), 7 - max(dx, 0))
    if rows.start < rows.stop:
        expected[:, rows, cols] = images[0][:, source[0], source[1]]
    assert np.array_equal(out[0], expected)
    assert np.array_equal(out[1], images[1])  # image 1 not moved
    grid = np.indices((6, 7))
    ys = np.stack([grid[0] - dy, grid[0]]).astype(np.float32)
    xs = np.stack([grid[1] - dx, grid[1]]).astype(np.float32)
    assert np.array_equal(out, warp(images, ys, xs))  # the same as a whole-pixel warp


@pytest.mark.parametrize("sigma", [0.7, 2.0, 4.0, 9.0])
def test_gaussian_blur_is_a_zero_padded_separable_convolution(sigma: float) -> None:
    fields = np.random.default_rng(1).uniform(-1, 1, (3, 11, 13))
    kernel = gaussian_kernel(sigma)
    assert kernel.sum() == pytest.approx(1.0) and len(kernel) == 2 * int(4 * sigma + 0.5) + 1

    def along(a: np.ndarray, axis: int) -> np.ndarray:  # np.convolve per line, zeros outside
        def line(v: np.ndarray) -> np.ndarray:
            full = np.convolve(v, kernel, mode="full")
            r = len(kernel) // 2
            return full[r:r + len(v)]
        return np.apply_along_axis(line, axis, a)

    expected = along(along(fields, 2), 1)
    np.testing.assert_allclose(gaussian_blur(fields, sigma), expected, atol=1e-12)
    assert blur_matrix(5, sigma).shape == (5, 5)


def test_rotate_turns_about_the_centre_like_affine_grid() -> None:
    images = np.random.default_rng(2).random((5, 2, 9, 9))
    out = Augment(["rotate"], max_degrees=40)(images, np.random.default_rng(7))
    angle = np.deg2rad(np.random.default_rng(7).uniform(-40, 40, 5))  # the same draws
    cos, sin = np.cos(angle), np.sin(angle)
    theta = np.stack([np.stack([cos, sin, 0 * cos], 1), np.stack([-sin, cos, 0 * cos], 1)], 1)
    grid = F.affine_grid(torch.tensor(theta), [5, 2, 9, 9], align_corners=True)
    expected = F.grid_sample(torch.tensor(images), grid, align_corners=True).numpy()
    np.testing.assert_allclose(out, expected, atol=1e-12)


def test_elastic_moves_each_pixel_by_the_smoothed_scaled_field() -> None:
    images = np.random.default_rng(3).random((4, 12, 10))
    out = Augment(["elastic"], alpha=8.0, sigma=2.0)(images, np.random.default_rng(5))
    fields = np.random.default_rng(5).random((2, 4, 12, 10), dtype=np.float32) * 2 - 1
    assert fields.min() < -0.9 and fields.max() > 0.9  # uniform(-1, 1), drawn as float32
    dy, dx = gaussian_blur(fields.astype(np.float64), 2.0) * 8.0
    grid = np.indices((12, 10)).astype(np.float64)
    np.testing.assert_allclose(out, _grid_sample(images, grid[0] + dy, grid[1] + dx),
                               atol=1e-5)  # the displacement is computed in float32
    assert 0.1 < np.abs(dy).mean() < 2.0  # a few pixels' displacement, smooth


IDENTITY = [(["shift"], {"max_shift": 0}), (["rotate"], {"max_degrees": 0}),
            (["elastic"], {"alpha": 0}), (["shift", "rotate", "elastic"],
                                          {"max_shift": 0, "max_degrees": 0, "alpha": 0})]


@pytest.mark.parametrize("kinds, zero", IDENTITY)
@pytest.mark.parametrize("shape, dtype", [((6, 28, 28), np.float32), ((3, 3, 32, 32),
                                                                      np.float64)])
def test_each_kind_changes_images_and_is_the_identity_at_size_zero(
        kinds: list[str], zero: dict[str, Any], shape: tuple[int, ...], dtype: Any) -> None:
    images = np.random.default_rng(4).random(shape).astype(dtype)
    before = images.copy()
    out = Augment(kinds)(images, np.random.default_rng(0))
    again = Augment(kinds)(images, np.random.default_rng(0))
    other = Augment(kinds)(images, np.random.default_rng(1))
    assert out.shape == shape and out.dtype == dtype
    assert np.array_equal(out, again) and not np.array_equal(out, other)
    changed = [not np.array_equal(o, i) for o, i in zip(out, images, strict=True)]
    assert sum(changed) >= len(images) - 1  # a shift may draw (0, 0) for one image
    assert np.array_equal(images, before)  # the input is left alone
    assert np.array_equal(Augment(kinds, **zero)(images, np.random.default_rng(0)), images)


@pytest.mark.parametrize("kinds, args, match", [
    (["blur"], {}, "augmentation 'blur': expected any of shift, rotate, elastic"),
    (["shift"], {"max_shift": -1}, "max_shift=-1: expected a finite number >= 0"),
    (["rotate"], {"max_degrees": float("nan")}, "max_degrees=nan"),
    (["elastic"], {"sigma": 0}, "sigma=0: expected a finite number >= 0.001"),
])
def test_bad_settings_are_one_clear_error(kinds: list[str], args: dict[str, Any],
                                          match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Augment(kinds, **args)


@pytest.mark.parametrize("images", [np.zeros((2, 784), np.float32), np.zeros((2, 5, 5), int)])
def test_wrong_batches_are_refused(images: np.ndarray) -> None:
    with pytest.raises(ValueError, match=r"expected a batch of float images \(N, H, W\)"):
        Augment(["shift"])(images, np.random.default_rng(0))


# ---- the DataLoader's augmented batches ------------------------------------------------


def _loader(augment: Any, shuffle: bool = True) -> DataLoader:
    images = np.random.default_rng(9).random((22, 10, 10), dtype=np.float32)
    return DataLoader(TensorDataset(images, np.arange(22)), batch_size=4, shuffle=shuffle,
                      generator=cr.Generator(3), augment=augment)


def _epochs(loader: DataLoader, epochs: int) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(x.numpy().copy(), y.numpy().copy()) for _ in range(epochs) for x, y in loader]


@pytest.mark.parametrize("stop_after", [0, 1, 3, 5])  # batches of epoch 2 served
@pytest.mark.parametrize("shuffle", [True, False])
def test_a_resumed_loader_gives_the_same_augmented_batches(stop_after: int,
                                                           shuffle: bool) -> None:
    augment = Augment(["shift", "rotate", "elastic"])
    straight = _epochs(_loader(augment, shuffle), 3)
    first = _loader(augment, shuffle)
    served = _epochs(first, 1)
    iterator = iter(first)
    served += [(x.numpy().copy(), y.numpy().copy())
               for _, (x, y) in zip(range(stop_after), iterator, strict=False)]
    state = first.state_dict()
    resumed = _loader(augment, shuffle)
    resumed.load_state_dict(state)
    rest = [(x.numpy().copy(), y.numpy().copy()) for x, y in resumed] + _epochs(resumed, 1)
    batches = served + rest
    assert len(batches) == len(straight) == 18
    for (x, y), (x0, y0) in zip(batches, straight, strict=True):
        assert np.array_equal(x, x0) and np.array_equal(y, y0)
    assert not np.array_equal(straight[0][0], straight[6][0])  # epochs differ


def test_augment_changes_only_the_inputs_and_leaves_the_first_order_alone() -> None:
    plain = _epochs(_loader(None), 2)
    augmented = _epochs(_loader(Augment(["shift"])), 1)
    for (x, y), (x0, y0) in zip(augmented, plain[:6], strict=True):
        assert np.array_equal(y, y0) and x.shape == x0.shape
    assert any(not np.array_equal(x, x0) for (x, _), (x0, _) in zip(augmented, plain,
                                                                   strict=False))
    again = _epochs(_loader(None), 2)  # without augment, the stream is as it always was
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(plain, again, strict=True))
