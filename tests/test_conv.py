"""Convolution ops over a table of shapes and options: float64 gradcheck of every input, and
torch's forward and gradients (input, weight, bias) within 1e-10.

The table covers odd sizes, stride > 1, padding (ints, pairs, 'same' with an even kernel,
'valid'), dilation, groups (incl. depthwise), 1x1 and non-square kernels, a kernel as large
as the input, no bias and a batch of 1; conv1d, unfold and fold get their own rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.ops.conv import col2im, windows

from optable import OpCase, check_case, params, torch

TF: Any = None if torch is None else torch.nn.functional
# torch warns that 'same' with an even kernel copies the input (it does so silently here too)
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")


def _conv(name: str, x: tuple[int, ...], w: tuple[int, ...], bias: bool = True,
          **kwargs: Any) -> OpCase:
    """A conv2d (4-D weight) or conv1d (3-D weight) row: inputs x, w and (if bias) b."""
    ours = F.conv2d if len(w) == 4 else F.conv1d
    shapes = (x, w, (w[0],)) if bias else (x, w)

    def fn(*args: Any) -> Any:
        return ours(*args, **kwargs)

    def ref(*args: Any) -> Any:
        return (TF.conv2d if len(w) == 4 else TF.conv1d)(*args, **kwargs)

    return OpCase(name, fn, ref, [shapes], "conv")


CONV_CASES = [
    _conv("basic_3x3", (2, 3, 7, 7), (4, 3, 3, 3)),
    _conv("odd_sizes_nonsquare_kernel", (2, 3, 7, 6), (4, 3, 3, 2)),
    _conv("kernel_1x3", (2, 2, 5, 6), (3, 2, 1, 3), padding=(0, 1)),
    _conv("kernel_3x1_stride", (2, 2, 7, 5), (3, 2, 3, 1), stride=(2, 1)),
    _conv("stride_2", (2, 2, 7, 7), (3, 2, 3, 3), stride=2),
    _conv("stride_3_pad_1", (2, 2, 8, 9), (3, 2, 3, 3), stride=3, padding=1),
    _conv("stride_pad_pairs", (2, 3, 9, 8), (4, 3, 3, 3), stride=(2, 1), padding=(1, 2)),
    _conv("padding_1", (2, 3, 5, 5), (2, 3, 3, 3), padding=1),
    _conv("padding_gt_half_kernel", (1, 2, 4, 4), (2, 2, 2, 2), padding=2),
    _conv("dilation_2", (2, 2, 8, 8), (3, 2, 3, 3), dilation=2),
    _conv("dilation_stride_pad", (2, 3, 9, 8), (4, 3, 3, 3), stride=(2, 1), padding=(1, 2),
          dilation=(2, 1)),
    _conv("groups_2", (2, 4, 6, 6), (6, 2, 3, 3), groups=2),
    _conv("groups_stride_pad", (1, 4, 7, 7), (6, 2, 3, 3), groups=2, stride=2, padding=1),
    _conv("depthwise", (2, 3, 5, 5), (3, 1, 3, 3), groups=3, padding=1),
    _conv("depthwise_multiplier", (2, 2, 5, 6), (4, 1, 2, 2), groups=2),
    _conv("kernel_1x1", (2, 3, 4, 5), (5, 3, 1, 1)),
    _conv("kernel_1x1_stride_2", (2, 3, 5, 5), (4, 3, 1, 1), stride=2),
    _conv("kernel_is_input", (2, 2, 4, 3), (3, 2, 4, 3)),
    _conv("same_even_kernel", (2, 2, 6, 7), (3, 2, 4, 2), padding="same"),
    _conv("same_dilated", (2, 2, 6, 7), (3, 2, 4, 3), padding="same", dilation=2),
    _conv("valid", (2, 2, 6, 5), (3, 2, 3, 3), padding="valid"),
    _conv("no_bias", (2, 3, 6, 6), (4, 3, 3, 3), bias=False, padding=1),
    _conv("batch_of_1", (1, 3, 7, 7), (4, 3, 3, 3), stride=2),
    _conv("one_channel_lenet_like", (2, 1, 10, 10), (3, 1, 5, 5), padding=2),
    _conv("conv1d", (2, 3, 11), (4, 3, 3)),
    _conv("conv1d_stride_pad_dilation", (2, 3, 11), (4, 3, 3), stride=2, padding=1, dilation=2),
    _conv("conv1d_groups_same", (1, 4, 9), (4, 2, 4), groups=2, padding="same"),
]

UNFOLD_CASES = [
    OpCase("unfold", lambda x: F.unfold(x, 2), lambda x: TF.unfold(x, 2), [((2, 3, 4, 5),)],
           "conv"),
    OpCase("unfold_all_options",
           lambda x: F.unfold(x, (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)),
           lambda x: TF.unfold(x, (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)),
           [((2, 3, 6, 7),)], "conv"),
    OpCase("fold", lambda x: F.fold(x, (4, 5), 2), lambda x: TF.fold(x, (4, 5), 2),
           [((2, 12, 12),)], "conv"),
    OpCase("fold_all_options",
           lambda x: F.fold(x, (6, 7), (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)),
           lambda x: TF.fold(x, (6, 7), (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)),
           [((2, 18, 20),)], "conv"),
    OpCase("fold_unbatched", lambda x: F.fold(x, (3, 3), 2), lambda x: TF.fold(x, (3, 3), 2),
           [((8, 4),)], "conv"),
]


@pytest.mark.parametrize(("case", "shapes"), params(CONV_CASES))
def test_conv_matches_finite_differences_and_torch(case: OpCase, shapes: tuple) -> None:
    check_case(case, shapes)


@pytest.mark.parametrize("layout", ["per_image", "batch_last"])
@pytest.mark.parametrize(("case", "shapes"), params(
    [c for c in CONV_CASES if c.name in ("basic_3x3", "stride_pad_pairs", "dilation_stride_pad",
                                         "groups_stride_pad", "depthwise_multiplier")]))
def test_both_column_layouts_match_finite_differences_and_torch(
        case: OpCase, shapes: tuple, layout: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Layers with narrow outputs compute batch-last (conv.BATCH_LAST_BELOW), others per
    image: each layout, forced on the table's harder rows, matches torch and gradcheck."""
    from chainrule.ops import conv as conv_ops

    monkeypatch.setattr(conv_ops, "BATCH_LAST_BELOW", 1 << 30 if layout == "batch_last" else 0)
    check_case(case, shapes)


@pytest.mark.parametrize(("case", "shapes"), params(UNFOLD_CASES))
def test_unfold_fold_match_finite_differences_and_torch(case: OpCase, shapes: tuple) -> None:
    check_case(case, shapes)


def test_conv_input_gradient_only_and_weight_gradient_only() -> None:
    """needs_input_grad is honoured: a frozen input (the first layer) or frozen weights."""
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=(2, 3, 6, 6)), rng.normal(size=(4, 3, 3, 3))
    for x_grad, w_grad in ((False, True), (True, False)):
        xc = cr.tensor(x, requires_grad=x_grad)
        wc = cr.tensor(w, requires_grad=w_grad)
        F.conv2d(xc, wc, padding=1).sum().backward()
        assert (xc.grad is not None) == x_grad and (wc.grad is not None) == w_grad


def test_float32_conv_stays_float32_and_close_to_torch() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(4, 3, 9, 9)).astype(np.float32)
    w = rng.normal(size=(5, 3, 3, 3)).astype(np.float32)
    xc, wc = cr.tensor(x, requires_grad=True), cr.tensor(w, requires_grad=True)
    y = F.conv2d(xc, wc, stride=2, padding=1)
    y.sum().backward()
    assert y.dtype == np.float32 and xc.grad.dtype == np.float32 and wc.grad.dtype == np.float32
    if torch is None:
        pytest.skip("torch not installed")
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    yt = TF.conv2d(xt, wt, stride=2, padding=1)
    yt.sum().backward()
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(wc.grad.numpy(), wt.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-5)


def test_windows_is_a_view_and_col2im_is_its_adjoint() -> None:
    """<windows(x), c> == <x, col2im(c)>: col2im is exactly the transpose of im2col."""
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 3, 7, 8))
    view = windows(x, (3, 2), (2, 1), (1, 3))
    assert np.shares_memory(view, x)
    c = rng.normal(size=view.shape)
    back = col2im(c, np.zeros_like(x), (2, 1), (1, 3))
    assert np.isclose(float((view * c).sum()), float((x * back).sum()), rtol=1e-12)


def test_conv_matches_a_direct_loop_over_pixels() -> None:
    """The definition, written out: y[n, o, i, j] = sum over c, p, q of x * w (+ b)."""
    rng = np.random.default_rng(3)
    x, w, b = rng.normal(size=(2, 2, 5, 6)), rng.normal(size=(3, 2, 2, 3)), rng.normal(size=3)
    y = F.conv2d(cr.tensor(x), cr.tensor(w), cr.tensor(b), stride=(1, 2)).numpy()
    for i in range(y.shape[2]):
        for j in range(y.shape[3]):
            patch = x[:, :, i:i + 2, 2 * j:2 * j + 3]
            np.testing.assert_allclose(y[:, :, i, j], np.einsum("ncpq,ocpq->no", patch, w) + b,
                                       rtol=1e-12)


@pytest.mark.skipif(torch is None, reason="torch oracle not installed")
def test_empty_batch_works_like_torch() -> None:
    x = cr.zeros(0, 3, 6, 6, requires_grad=True)
    w = cr.randn(4, 3, 3, 3, requires_grad=True)
    y = F.avg_pool2d(F.max_pool2d(F.conv2d(x, w, padding=1), 2), 1)
    y.sum().backward()
    expected = TF.max_pool2d(TF.conv2d(torch.zeros(0, 3, 6, 6), torch.ones(4, 3, 3, 3),
                                       padding=1), 2)
    assert y.shape == tuple(expected.shape) and x.grad.shape == x.shape
    assert not w.grad.numpy().any()



@pytest.mark.parametrize("kwargs", [{}, {"stride": 2, "padding": 1}, {"dilation": 2},
                                    {"groups": 2, "padding": (2, 0)}])
@pytest.mark.parametrize("wide", [False, True])
def test_columns_kept_from_forward_or_made_again_give_the_same_gradients(
        kwargs: dict[str, Any], wide: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """The weight gradient reads the forward pass's columns when they fit KEEP_COLUMNS and
    rebuilds them from the input otherwise: bit for bit the same numbers, in either layout
    (``wide``: outputs counted as wide, so per image; else batch-last)."""
    from chainrule.ops import conv as conv_ops

    monkeypatch.setattr(conv_ops, "BATCH_LAST_BELOW", 0 if wide else 1 << 30)

    rng = np.random.default_rng(3)
    x = rng.normal(size=(3, 4, 9, 8)).astype(np.float32)
    w = rng.normal(size=(6, 4 // kwargs.get("groups", 1), 3, 3)).astype(np.float32)
    grads = []
    for limit in (conv_ops.KEEP_COLUMNS, 0):
        monkeypatch.setattr(conv_ops, "KEEP_COLUMNS", limit)
        xt, wt = cr.tensor(x, requires_grad=True), cr.tensor(w, requires_grad=True)
        y = F.conv2d(xt, wt, **kwargs)
        saved = len(y.grad_fn.saved_tensors)
        (y * y).sum().backward()
        grads.append((saved, xt.grad.numpy(), wt.grad.numpy()))
    (kept, gx, gw), (rebuilt, gx2, gw2) = grads
    assert (kept, rebuilt) == (3, 2)  # x, weight and the columns; then x and weight only
    assert np.array_equal(gx, gx2) and np.array_equal(gw, gw2)
