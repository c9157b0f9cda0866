"""Convolutional layers against torch (float64, same weights), PyTorch's init and reprs,
BatchNorm2d's running statistics, and the bad-input table: each error names the layer's
path, the input shape, what was expected and the output-size formula's result."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.nn import DtypeError

from nnref import compare_module, torch

pytestmark = [pytest.mark.skipif(torch is None, reason="torch oracle not installed"),
              pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")]
T: Any = None if torch is None else torch.nn

RNG = np.random.default_rng(0)

CASES: list[tuple[str, Callable[[], Any], Callable[[], Any], tuple[int, ...]]] = [
    ("conv2d", lambda: nn.Conv2d(3, 4, 3), lambda: T.Conv2d(3, 4, 3), (2, 3, 7, 6)),
    ("conv2d_all_options", lambda: nn.Conv2d(4, 6, (3, 2), (2, 1), (1, 2), (2, 1), groups=2),
     lambda: T.Conv2d(4, 6, (3, 2), (2, 1), (1, 2), (2, 1), groups=2), (2, 4, 9, 8)),
    ("conv2d_same_no_bias", lambda: nn.Conv2d(2, 3, 4, padding="same", bias=False),
     lambda: T.Conv2d(2, 3, 4, padding="same", bias=False), (1, 2, 6, 7)),
    ("conv2d_reflect", lambda: nn.Conv2d(2, 3, 3, 2, 1, padding_mode="reflect"),
     lambda: T.Conv2d(2, 3, 3, 2, 1, padding_mode="reflect"), (2, 2, 6, 5)),
    ("conv2d_replicate", lambda: nn.Conv2d(2, 3, 3, padding=(2, 1), padding_mode="replicate"),
     lambda: T.Conv2d(2, 3, 3, padding=(2, 1), padding_mode="replicate"), (2, 2, 5, 5)),
    ("conv2d_circular", lambda: nn.Conv2d(2, 3, 3, padding=1, padding_mode="circular"),
     lambda: T.Conv2d(2, 3, 3, padding=1, padding_mode="circular"), (2, 2, 5, 6)),
    ("conv2d_circular_same", lambda: nn.Conv2d(2, 2, 2, padding="same",
                                               padding_mode="circular"),
     lambda: T.Conv2d(2, 2, 2, padding="same", padding_mode="circular"), (1, 2, 4, 5)),
    ("conv1d", lambda: nn.Conv1d(3, 4, 3, stride=2, padding=1),
     lambda: T.Conv1d(3, 4, 3, stride=2, padding=1), (2, 3, 9)),
    ("conv1d_reflect_groups", lambda: nn.Conv1d(4, 4, 3, padding=2, groups=4,
                                                padding_mode="reflect"),
     lambda: T.Conv1d(4, 4, 3, padding=2, groups=4, padding_mode="reflect"), (2, 4, 7)),
    ("maxpool", lambda: nn.MaxPool2d(3, 2, 1), lambda: T.MaxPool2d(3, 2, 1), (2, 3, 7, 7)),
    ("maxpool_ceil", lambda: nn.MaxPool2d(2, ceil_mode=True),
     lambda: T.MaxPool2d(2, ceil_mode=True), (2, 3, 5, 7)),
    ("avgpool", lambda: nn.AvgPool2d(3, 2, 1, count_include_pad=False),
     lambda: T.AvgPool2d(3, 2, 1, count_include_pad=False), (2, 3, 7, 7)),
    ("adaptive", lambda: nn.AdaptiveAvgPool2d((3, 2)), lambda: T.AdaptiveAvgPool2d((3, 2)),
     (2, 3, 7, 5)),
    ("batchnorm2d", lambda: nn.BatchNorm2d(3), lambda: T.BatchNorm2d(3), (4, 3, 3, 2)),
    ("batchnorm2d_no_affine", lambda: nn.BatchNorm2d(3, affine=False),
     lambda: T.BatchNorm2d(3, affine=False), (2, 3, 2, 2)),
    ("flatten_4d", lambda: nn.Flatten(), lambda: T.Flatten(), (2, 3, 2, 2)),
    ("unflatten", lambda: nn.Unflatten(1, (3, 2, 2)), lambda: T.Unflatten(1, (3, 2, 2)),
     (2, 12)),
    ("unfold", lambda: nn.Unfold(2, padding=1), lambda: T.Unfold(2, padding=1), (2, 3, 4, 4)),
    ("fold", lambda: nn.Fold((3, 4), 2), lambda: T.Fold((3, 4), 2), (2, 8, 6)),
    ("dropout2d_eval", lambda: nn.Dropout2d().eval(), lambda: T.Dropout2d().eval(),
     (2, 3, 2, 2)),
]


@pytest.mark.parametrize(("name", "ours", "theirs", "shape"), CASES, ids=[c[0] for c in CASES])
def test_layer_matches_torch(name: str, ours: Any, theirs: Any, shape: tuple) -> None:
    compare_module(ours(), theirs(), RNG.normal(size=shape))


@pytest.mark.parametrize(("name", "ours", "theirs", "shape"), CASES[:9] + CASES[13:14],
                         ids=[c[0] for c in CASES[:9] + CASES[13:14]])
def test_layer_gradcheck(name: str, ours: Any, theirs: Any, shape: tuple) -> None:
    module = ours().double()
    x = cr.tensor(RNG.normal(size=shape), requires_grad=True)
    assert cr.gradcheck(lambda x, *ps: module(x), (x, *module.parameters()), atol=1e-6,
                        rtol=1e-4)


def test_default_init_is_pytorchs() -> None:
    """kaiming_uniform(a=sqrt(5)) on (out, in/groups, kH, kW) and U(+-1/sqrt(fan_in)) bias."""
    layer = nn.Conv2d(32, 64, 3, groups=2)
    assert layer.weight.shape == (64, 16, 3, 3) and layer.bias.shape == (64,)
    bound = 1 / np.sqrt(16 * 3 * 3)
    w, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    assert 0.99 * bound < np.abs(w).max() <= bound
    assert 0.9 * bound < np.abs(b).max() <= bound
    assert abs(w.std() - bound / np.sqrt(3)) < 0.02 * bound  # a uniform's std
    assert T.Conv2d(32, 64, 3, groups=2).weight.abs().max().item() <= bound
    cr.manual_seed(3)
    first = nn.Conv2d(1, 2, 3).weight.detach().numpy().copy()
    cr.manual_seed(3)
    assert np.array_equal(first, nn.Conv2d(1, 2, 3).weight.detach().numpy())  # seeded


@pytest.mark.parametrize("kwargs", [{"stride": 2, "padding": 1, "bias": False,
                                     "padding_mode": "reflect"},
                                    {"padding": "same", "dilation": 2}, {"groups": 2}])
def test_conv_repr_matches_torch(kwargs: dict[str, Any]) -> None:
    assert repr(nn.Conv2d(4, 8, (3, 2), **kwargs)) == repr(T.Conv2d(4, 8, (3, 2), **kwargs))
    assert repr(nn.MaxPool2d(2)) == repr(T.MaxPool2d(2))


@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm2d_running_stats_and_eval_match_torch(momentum: float | None) -> None:
    ours = nn.BatchNorm2d(3, momentum=momentum).double()
    theirs = T.BatchNorm2d(3, momentum=momentum).double()
    for step in range(3):
        x = RNG.normal(size=(4, 3, 2, 3)) * (step + 1) + step
        ours(cr.tensor(x))
        theirs(torch.tensor(x))
    for name in ("running_mean", "running_var"):  # the variance kept unbiased, like torch
        np.testing.assert_allclose(getattr(ours, name).numpy(),
                                   getattr(theirs, name).numpy(), rtol=1e-12)
    assert int(ours.num_batches_tracked.item()) == 3
    ours.eval()
    theirs.eval()
    compare_module(ours, theirs, RNG.normal(size=(2, 3, 2, 2)))


def test_batchnorm2d_without_running_stats_uses_batch_statistics_in_eval() -> None:
    ours, theirs = nn.BatchNorm2d(2, track_running_stats=False), T.BatchNorm2d(
        2, track_running_stats=False)
    ours.eval()
    theirs.eval()
    compare_module(ours, theirs, RNG.normal(size=(3, 2, 2, 2)))
    assert ours.running_mean is None


class _Net(nn.Module):
    """A model holding ``features``, so errors name layers as 'features.0'."""

    def __init__(self, *layers: nn.Module) -> None:
        super().__init__()
        self.features = nn.Sequential(*layers)

    def forward(self, x: cr.Tensor) -> cr.Tensor:
        return self.features(x)


def _conv_with(**settings: Any) -> nn.Conv2d:
    """A Conv2d whose settings were changed after construction (past its own checks)."""
    layer = nn.Conv2d(1, 4, 3)
    for name, value in settings.items():
        setattr(layer, name, value)
    return layer


BAD_INPUTS = [  # (layers, input shape, what the message must contain besides path and shape)
    ("3d_input", [nn.Conv2d(1, 4, 3)], (1, 28, 28), ["4-D input (N, 1, H, W)", "unsqueeze(0)"]),
    ("2d_input", [nn.Conv2d(1, 4, 3)], (8, 784), ["4-D input (N, 1, H, W)", "reshape"]),
    ("channels", [nn.Conv2d(3, 4, 3)], (2, 1, 8, 8), ["(N, 3, H, W)", "has 1 channels",
                                                       "in_channels=1"]),
    ("channels_after_layer", [nn.Conv2d(1, 8, 3), nn.Conv2d(6, 4, 3)], (2, 1, 9, 9),
     ["'features.1'", "(N, 6, H, W)", "got (2, 8, 7, 7)", "has 8 channels",
      "previous layer: 'features.0'"]),
    ("kernel_larger_than_padded_input", [nn.Conv2d(1, 4, 5)], (2, 1, 3, 3),
     ["output height = (3 + 0 + 0 - 1*(5-1) - 1) // 1 + 1 = -1 < 1", "spans 5 pixels",
      "padded input has 3"]),
    ("empty_output", [nn.Conv2d(1, 4, 5, padding=(0, 1))], (2, 1, 4, 9),
     ["output height = (4 + 0 + 0 - 1*(5-1) - 1) // 1 + 1 = 0 < 1", "would be empty"]),
    ("empty_output_dilated_width", [nn.Conv2d(1, 4, 3, dilation=(1, 4))], (2, 1, 9, 8),
     ["output width = (8 + 0 + 0 - 4*(3-1) - 1) // 1 + 1 = 0 < 1", "spans 9 pixels"]),
    ("stride_0", [_conv_with(stride=(0, 1))], (2, 1, 8, 8), ["stride must be >= 1",
                                                            "(0, 1)", "divides by it"]),
    ("dilation_0", [_conv_with(dilation=(1, 0))], (2, 1, 8, 8), ["dilation must be >= 1"]),
    ("groups_not_dividing", [_conv_with(groups=3)], (2, 1, 8, 8),
     ["groups=3 must divide out_channels=4"]),
    ("maxpool_empty", [nn.MaxPool2d(2)], (2, 8, 1, 1),
     ["output height = (1 + 0 + 0 - 1*(2-1) - 1) // 2 + 1 = 0 < 1"]),
    ("maxpool_3d", [nn.MaxPool2d(2)], (8, 4, 4), ["4-D input (N, C, H, W)"]),
    ("avgpool_padding_too_large", [nn.AvgPool2d(2, padding=2)], (2, 1, 8, 8),
     ["padding must be between 0 and half the window"]),
    ("adaptive_3d", [nn.AdaptiveAvgPool2d(2)], (3, 8, 8), ["4-D input"]),
    ("batchnorm_channels", [nn.BatchNorm2d(4)], (2, 3, 5, 5), ["(N, 4, H, W)", "3 channels"]),
    ("batchnorm_2d_input", [nn.BatchNorm2d(4)], (2, 4), ["(N, 4, H, W)", "2-D input"]),
]


@pytest.mark.parametrize(("name", "layers", "shape", "expected"), BAD_INPUTS,
                         ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_raises_one_error_naming_layer_shape_and_expectation(
        name: str, layers: list[nn.Module], shape: tuple[int, ...],
        expected: list[str]) -> None:
    model = _Net(*layers)
    with pytest.raises(nn.ShapeError) as info:
        model(cr.zeros(*shape))
    message = str(info.value)
    culprit = info.value.module
    assert f"{type(culprit).__name__} '{culprit.path_name()}'" in message
    assert culprit.path_name().startswith("features.")
    if culprit.path_name() == "features.0":  # else the shape is what the layers before made
        assert str(shape) in message
    for text in expected:
        assert text in message, f"{text!r} not in {message!r}"
    assert info.value.__cause__ is None and info.value.__context__ is None or \
        info.value.__suppress_context__  # one error, not a chain of them


@pytest.mark.parametrize(("make", "expected"), [
    (lambda: nn.Conv2d(4, 6, 3, groups=3), "groups=3 must divide both in_channels=4"),
    (lambda: nn.Conv2d(1, 4, 3, stride=0), "stride must be >= 1 in every dim, got (0, 0)"),
    (lambda: nn.Conv2d(1, 4, 3, dilation=(1, 0)), "dilation must be >= 1"),
    (lambda: nn.Conv2d(1, 4, 0), "kernel_size must be >= 1"),
    (lambda: nn.Conv2d(1, 4, 3, stride=2, padding="same"), "padding='same' needs stride 1"),
    (lambda: nn.Conv2d(1, 4, 3, padding="full"), "'valid' or 'same'"),
    (lambda: nn.Conv2d(1, 4, 3, padding_mode="mirror"), "padding_mode must be one of"),
    (lambda: nn.Conv1d(1, 4, (3, 3)), "kernel_size must be an int or 1 ints"),
])
def test_bad_settings_fail_at_construction(make: Callable[[], Any], expected: str) -> None:
    with pytest.raises(ValueError, match=None) as info:
        make()
    assert expected in str(info.value)


@pytest.mark.parametrize(("call", "expected"), [
    (lambda x: cr.nn.functional.conv2d(x, cr.ones(4, 2, 3, 3), groups=3),
     "groups=3 must divide out_channels=4"),
    (lambda x: cr.nn.functional.conv2d(x, cr.ones(6, 2, 3, 3), groups=3),
     "expected input (N, 6, H, W) with 6 channels (2 per group x groups=3), got (2, 4, 8, 8)"),
    (lambda x: cr.nn.functional.conv2d(x, cr.ones(4, 4, 3, 3), stride=0),
     "conv2d: stride must be >= 1 in every dim, got (0, 0) (input (2, 4, 8, 8))"),
    (lambda x: cr.nn.functional.conv2d(x, cr.ones(4, 4, 3)), "weight must be"),
    (lambda x: cr.nn.functional.max_pool2d(x, 3, padding=2), "half the window"),
    (lambda x: cr.nn.functional.unfold(x, 9), "output height = (8 + 0 + 0 - 1*(9-1) - 1)"),
])
def test_functional_errors_name_the_function_and_input(call: Any, expected: str) -> None:
    with pytest.raises(ValueError) as info:
        call(cr.zeros(2, 4, 8, 8))
    assert expected in str(info.value)


def test_input_dtype_must_match_the_weights() -> None:
    """NumPy would promote a float32 model to float64 silently; like PyTorch, it raises."""
    model = _Net(nn.Conv2d(1, 2, 3))
    with pytest.raises(DtypeError) as info:
        model(cr.zeros(2, 1, 5, 5, dtype=cr.float64))
    assert "Conv2d 'features.0' got input of dtype float64, but the weight is float32" in \
        str(info.value) and "model.double()" in str(info.value)
    with pytest.raises(DtypeError, match="conv2d got input of dtype float64"):
        cr.nn.functional.conv2d(cr.zeros(1, 1, 3, 3, dtype=cr.float64), cr.ones(1, 1, 2, 2))

