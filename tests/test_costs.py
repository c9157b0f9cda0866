"""The CLI's costs (train/costs.py): bce and mse against PyTorch's computation of the same
formulas, forward and gradient, and the probabilities a run's outputs are read as."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.train.costs import LOSSES, OneHotBCE, OneHotMSE, build_loss, probabilities

torch = pytest.importorskip("torch")

# logits (batch, classes) and labels: ordinary values, saturated ones, a batch of one
CASES = {
    "ordinary": (np.random.default_rng(0).normal(size=(5, 4)), [0, 3, 1, 1, 2]),
    "saturated": (np.array([[30.0, -30.0, 0.0], [-40.0, 25.0, 2.0]]), [0, 2]),
    "one_sample": (np.array([[0.5, -1.5]]), [1]),
}


def _torch_bce(z: object, labels: object, classes: int) -> object:
    """network2.py's cost: BCE per class summed over the classes, mean over the batch."""
    onehot = torch.nn.functional.one_hot(labels, classes).to(torch.float64)
    return torch.nn.BCEWithLogitsLoss(reduction="sum")(z, onehot) / len(labels)


def _torch_mse(z: object, labels: object, classes: int) -> object:
    """network.py's cost: 1/2 * squared error of the sigmoid outputs summed over classes,
    mean over the batch."""
    onehot = torch.nn.functional.one_hot(labels, classes).to(torch.float64)
    return 0.5 * ((torch.sigmoid(z) - onehot) ** 2).sum(dim=1).mean()


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize(("ours", "theirs"), [(OneHotBCE, _torch_bce), (OneHotMSE, _torch_mse)])
def test_costs_match_torch_forward_and_gradient(case: str, ours: type, theirs: object) -> None:
    logits, labels = CASES[case]
    classes = logits.shape[1]
    z = cr.tensor(logits, dtype=cr.float64, requires_grad=True)
    loss = ours(classes)(z, cr.tensor(labels))
    loss.backward()
    tz = torch.tensor(logits, dtype=torch.float64, requires_grad=True)
    expected = theirs(tz, torch.tensor(labels), classes)  # type: ignore[operator]
    expected.backward()
    np.testing.assert_allclose(loss.item(), expected.item(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(z.grad.numpy(), tz.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_bce_is_bceloss_of_the_sigmoid_summed_over_classes() -> None:
    """The same number through BCELoss on probabilities (the formula as network2 writes
    it: -y ln a - (1 - y) ln(1 - a), summed over the classes, averaged over the batch)."""
    logits, labels = CASES["ordinary"]
    tz = torch.tensor(logits)
    onehot = torch.nn.functional.one_hot(torch.tensor(labels), 4).to(torch.float64)
    per_class = torch.nn.BCELoss(reduction="none")(torch.sigmoid(tz), onehot)
    expected = per_class.sum(dim=1).mean().item()
    ours = OneHotBCE(4)(cr.tensor(logits, dtype=cr.float64), cr.tensor(labels)).item()
    assert ours == pytest.approx(expected, rel=1e-12)


def test_bce_gradient_is_a_minus_y_over_n() -> None:
    """network2.py's output delta: dC/dz = (sigmoid(z) - y) / n for a batch of n."""
    logits, labels = CASES["ordinary"]
    z = cr.tensor(logits, dtype=cr.float64, requires_grad=True)
    OneHotBCE(4)(z, cr.tensor(labels)).backward()
    expected = (1 / (1 + np.exp(-logits)) - np.eye(4)[labels]) / len(labels)
    np.testing.assert_allclose(z.grad.numpy(), expected, rtol=1e-12)


def test_bce_never_takes_log_of_zero() -> None:
    z = cr.tensor([[1000.0, -1000.0]], dtype=cr.float64)
    assert OneHotBCE(2)(z, cr.tensor([1])).item() == pytest.approx(2000.0)


@pytest.mark.parametrize(("loss", "squash"), [
    ("cross_entropy", "softmax"), ("multi_margin", "softmax"), ("mse", "sigmoid"),
    ("bce", "sigmoid"),
])
def test_probabilities_follow_the_cost(loss: str, squash: str) -> None:
    assert loss in LOSSES
    logits = np.array([[2.0, 0.5, -1.0]])
    got = probabilities(loss, cr.tensor(logits, dtype=cr.float64)).numpy()
    if squash == "sigmoid":
        expected = 1 / (1 + np.exp(-logits))
    else:
        expected = np.exp(logits) / np.exp(logits).sum()
    np.testing.assert_allclose(got, expected, rtol=1e-12)


@pytest.mark.parametrize(("loss", "kind"), [
    ("cross_entropy", "CrossEntropyLoss"), ("mse", "OneHotMSE"), ("bce", "OneHotBCE"),
    ("multi_margin", "MultiMarginLoss"),
])
def test_build_loss_names(loss: str, kind: str) -> None:
    assert type(build_loss({"loss": loss}, 10)).__name__ == kind
