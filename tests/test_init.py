"""Initializers: scales, seeding, orthogonality."""

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.nn import init


def test_gains_match_pytorch_table() -> None:
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    with pytest.raises(ValueError, match="unsupported nonlinearity"):
        init.calculate_gain("swish")


@pytest.mark.parametrize(("fn", "expected_std"), [
    (lambda w: init.xavier_uniform_(w), math.sqrt(2 / (300 + 200))),
    (lambda w: init.xavier_normal_(w), math.sqrt(2 / (300 + 200))),
    (lambda w: init.kaiming_uniform_(w, nonlinearity="relu"), math.sqrt(2 / 300)),
    (lambda w: init.kaiming_normal_(w, nonlinearity="relu"), math.sqrt(2 / 300)),
    (lambda w: init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu"), math.sqrt(2 / 200)),
    (lambda w: init.normal_(w, 0.0, 0.3), 0.3),
    (lambda w: init.uniform_(w, -0.5, 0.5), 1 / math.sqrt(12)),
])
def test_scales(fn, expected_std: float) -> None:  # type: ignore[no-untyped-def]
    w = cr.empty(200, 300)
    fn(w)
    assert w.numpy().std() == pytest.approx(expected_std, rel=0.03)


def test_seeded_and_in_place() -> None:
    w = cr.empty(3, 4)
    cr.manual_seed(1)
    out = init.xavier_uniform_(w)
    assert out is w
    first = w.numpy().copy()
    cr.manual_seed(1)
    init.xavier_uniform_(w)
    assert np.array_equal(first, w.numpy())
    g = cr.Generator(9)
    a = init.normal_(cr.empty(5), generator=g).numpy().copy()
    assert np.array_equal(a, init.normal_(cr.empty(5), generator=cr.Generator(9)).numpy())


def test_orthogonal_and_constants() -> None:
    w = init.orthogonal_(cr.empty(4, 6, dtype=cr.float64))
    np.testing.assert_allclose(w.numpy() @ w.numpy().T, np.eye(4), atol=1e-12)
    tall = init.orthogonal_(cr.empty(6, 3, dtype=cr.float64), gain=2.0)
    np.testing.assert_allclose(tall.numpy().T @ tall.numpy(), 4 * np.eye(3), atol=1e-12)
    assert init.zeros_(cr.ones(2)).tolist() == [0, 0]
    assert init.constant_(cr.ones(2), 0.5).tolist() == [0.5, 0.5]


@pytest.mark.parametrize("name", ["kaiming_uniform_", "kaiming_normal_"])
@pytest.mark.parametrize("shape", [(2, 0), (0, 2), (0, 0)])
def test_kaiming_on_a_tensor_without_elements_is_a_no_op_like_torch(
        name: str, shape: tuple[int, int]) -> None:
    """Kaiming's scale divides by the fan, 0 here: PyTorch warns and does nothing."""
    torch = pytest.importorskip("torch")
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        getattr(torch.nn.init, name)(torch.empty(*shape))
    w = cr.empty(*shape)
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        assert getattr(init, name)(w) is w
    assert w.shape == shape


def test_orthogonal_without_elements_is_a_no_op() -> None:
    for shape in ((0, 2), (2, 0), (0, 0)):
        w = cr.empty(*shape)
        assert init.orthogonal_(w) is w and w.shape == shape
