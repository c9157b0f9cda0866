"""Losses (functional and modules) against torch in float64, plus finite differences."""

import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn

from nnref import torch

pytestmark = pytest.mark.skipif(torch is None, reason="torch oracle not installed")
TF = torch.nn.functional if torch is not None else None

RNG = np.random.default_rng(5)
LOGITS = RNG.normal(size=(6, 4)) * 2
LABELS = np.array([0, 3, 1, 1, 2, 3])
LABELS_IGNORED = np.array([0, -100, 1, 1, -100, 3])
WEIGHT = np.array([0.5, 2.0, 1.0, 3.0])
PRED = RNG.normal(size=(5, 3))
TARGET = RNG.normal(size=(5, 3))
PROB = 1 / (1 + np.exp(-PRED))
BINARY = (RNG.random((5, 3)) > 0.5).astype(float)
SOFT = np.abs(RNG.normal(size=(6, 4)))
SOFT = SOFT / SOFT.sum(axis=1, keepdims=True)
VOLUME = RNG.normal(size=(2, 4, 3))
VOLUME_LABELS = np.array([[0, 3, 2], [1, 1, 0]])


def _w(t: object) -> object:
    return None if t is None else (cr.tensor(t) if torch is None or not hasattr(t, "shape")
                                   else t)


# name, chainrule loss(x, y), torch loss(x, y), input, target, which inputs are float
CASES = [
    ("ce", lambda x, y: F.cross_entropy(x, y), lambda x, y: TF.cross_entropy(x, y),
     LOGITS, LABELS),
    ("ce_sum", lambda x, y: F.cross_entropy(x, y, reduction="sum"),
     lambda x, y: TF.cross_entropy(x, y, reduction="sum"), LOGITS, LABELS),
    ("ce_none", lambda x, y: F.cross_entropy(x, y, reduction="none"),
     lambda x, y: TF.cross_entropy(x, y, reduction="none"), LOGITS, LABELS),
    ("ce_weight", lambda x, y: F.cross_entropy(x, y, weight=cr.tensor(WEIGHT)),
     lambda x, y: TF.cross_entropy(x, y, weight=torch.tensor(WEIGHT)), LOGITS, LABELS),
    ("ce_ignore", lambda x, y: F.cross_entropy(x, y), lambda x, y: TF.cross_entropy(x, y),
     LOGITS, LABELS_IGNORED),
    ("ce_smooth", lambda x, y: F.cross_entropy(x, y, label_smoothing=0.1),
     lambda x, y: TF.cross_entropy(x, y, label_smoothing=0.1), LOGITS, LABELS),
    ("ce_everything", lambda x, y: F.cross_entropy(x, y, weight=cr.tensor(WEIGHT),
                                                   label_smoothing=0.2),
     lambda x, y: TF.cross_entropy(x, y, weight=torch.tensor(WEIGHT), label_smoothing=0.2),
     LOGITS, LABELS_IGNORED),
    ("ce_none_smooth_weight", lambda x, y: F.cross_entropy(x, y, weight=cr.tensor(WEIGHT),
                                                           label_smoothing=0.2,
                                                           reduction="none"),
     lambda x, y: TF.cross_entropy(x, y, weight=torch.tensor(WEIGHT), label_smoothing=0.2,
                                   reduction="none"), LOGITS, LABELS_IGNORED),
    ("ce_3d", lambda x, y: F.cross_entropy(x, y), lambda x, y: TF.cross_entropy(x, y),
     VOLUME, VOLUME_LABELS),
    ("ce_soft", lambda x, y: F.cross_entropy(x, y), lambda x, y: TF.cross_entropy(x, y),
     LOGITS, SOFT),
    ("ce_soft_smooth", lambda x, y: F.cross_entropy(x, y, label_smoothing=0.3),
     lambda x, y: TF.cross_entropy(x, y, label_smoothing=0.3), LOGITS, SOFT),
    ("nll", lambda x, y: F.nll_loss(x.log_softmax(1), y),
     lambda x, y: TF.nll_loss(x.log_softmax(1), y), LOGITS, LABELS),
    ("nll_weight_ignore", lambda x, y: F.nll_loss(x.log_softmax(1), y, cr.tensor(WEIGHT)),
     lambda x, y: TF.nll_loss(x.log_softmax(1), y, torch.tensor(WEIGHT)), LOGITS,
     LABELS_IGNORED),
    ("nll_sum_weight", lambda x, y: F.nll_loss(x.log_softmax(1), y, cr.tensor(WEIGHT), -100,
                                               "sum"),
     lambda x, y: TF.nll_loss(x.log_softmax(1), y, torch.tensor(WEIGHT), reduction="sum"),
     LOGITS, LABELS_IGNORED),
    ("nll_none_ignore", lambda x, y: F.nll_loss(x.log_softmax(1), y, reduction="none"),
     lambda x, y: TF.nll_loss(x.log_softmax(1), y, reduction="none"), LOGITS, LABELS_IGNORED),
    ("nll_1d_none", lambda x, y: F.nll_loss(x.log_softmax(0), y, reduction="none"),
     lambda x, y: TF.nll_loss(x.log_softmax(0), y, reduction="none"), LOGITS[0], np.array(2)),
    ("nll_3d", lambda x, y: F.nll_loss(x.log_softmax(1), y),
     lambda x, y: TF.nll_loss(x.log_softmax(1), y), VOLUME, VOLUME_LABELS),
    ("nll_3d_none", lambda x, y: F.nll_loss(x.log_softmax(1), y, reduction="none"),
     lambda x, y: TF.nll_loss(x.log_softmax(1), y, reduction="none"), VOLUME, VOLUME_LABELS),
    ("mse", F.mse_loss, TF.mse_loss if TF else None, PRED, TARGET),
    ("mse_sum", lambda x, y: F.mse_loss(x, y, "sum"),
     lambda x, y: TF.mse_loss(x, y, reduction="sum"), PRED, TARGET),
    ("mse_none", lambda x, y: F.mse_loss(x, y, "none"),
     lambda x, y: TF.mse_loss(x, y, reduction="none"), PRED, TARGET),
    ("l1", F.l1_loss, TF.l1_loss if TF else None, PRED, TARGET),
    ("huber", lambda x, y: F.huber_loss(x, y, delta=0.7),
     lambda x, y: TF.huber_loss(x, y, delta=0.7), PRED, TARGET),
    ("bce", F.binary_cross_entropy, TF.binary_cross_entropy if TF else None, PROB, BINARY),
    ("bce_logits", F.binary_cross_entropy_with_logits,
     TF.binary_cross_entropy_with_logits if TF else None, PRED, BINARY),
    ("bce_logits_pos_weight",
     lambda x, y: F.binary_cross_entropy_with_logits(x, y, pos_weight=cr.tensor([1.0, 2.0, 3.0])),
     lambda x, y: TF.binary_cross_entropy_with_logits(x, y, pos_weight=torch.tensor(
         [1.0, 2.0, 3.0], dtype=torch.float64)), PRED, BINARY),
    ("multi_margin", F.multi_margin_loss, TF.multi_margin_loss if TF else None, LOGITS, LABELS),
    ("multi_margin_p2_weight",
     lambda x, y: F.multi_margin_loss(x, y, p=2, margin=0.5, weight=cr.tensor(WEIGHT)),
     lambda x, y: TF.multi_margin_loss(x, y, p=2, margin=0.5, weight=torch.tensor(WEIGHT)),
     LOGITS, LABELS),
]


@pytest.mark.parametrize(("name", "ours", "theirs", "x", "y"), CASES, ids=[c[0] for c in CASES])
def test_loss_matches_torch(name, ours, theirs, x, y) -> None:  # type: ignore[no-untyped-def]
    xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    loss, tloss = ours(xc, cr.tensor(y)), theirs(xt, torch.tensor(y))
    np.testing.assert_allclose(loss.detach().numpy(), tloss.detach().numpy(), rtol=1e-10,
                               atol=1e-12)
    gy = np.random.default_rng(1).normal(size=tuple(tloss.shape))
    loss.backward(cr.tensor(gy))
    tloss.backward(torch.tensor(gy))
    np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(("name", "ours", "theirs", "x", "y"), CASES, ids=[c[0] for c in CASES])
def test_loss_gradcheck(name, ours, theirs, x, y) -> None:  # type: ignore[no-untyped-def]
    target = cr.tensor(y)
    assert cr.gradcheck(lambda t: ours(t, target), (cr.tensor(x, requires_grad=True),),
                        atol=1e-6, rtol=1e-4)


def test_bce_with_logits_target_gradient_and_stability() -> None:
    x = cr.tensor([-1000.0, 0.0, 1000.0], requires_grad=True)
    y = cr.tensor([0.0, 1.0, 1.0])
    with np.errstate(over="raise", invalid="raise"):
        loss = F.binary_cross_entropy_with_logits(x, y)
        loss.backward()
    assert np.isfinite(loss.item()) and np.isfinite(x.grad.numpy()).all()
    t = cr.tensor(np.array([0.3, 0.8]), requires_grad=True)
    assert cr.gradcheck(lambda tt: F.binary_cross_entropy_with_logits(
        cr.tensor(np.array([0.5, -1.5])), tt), (t,))


def test_loss_modules_match_functional() -> None:
    x, y = cr.tensor(LOGITS), cr.tensor(LABELS)
    assert nn.CrossEntropyLoss(label_smoothing=0.1)(x, y).item() == \
        F.cross_entropy(x, y, label_smoothing=0.1).item()
    assert nn.MSELoss(reduction="sum")(cr.tensor(PRED), cr.tensor(TARGET)).item() == \
        F.mse_loss(cr.tensor(PRED), cr.tensor(TARGET), "sum").item()
    assert nn.MultiMarginLoss()(x, y).item() == F.multi_margin_loss(x, y).item()
    assert repr(nn.MSELoss(reduction="sum")) == "MSELoss(reduction='sum')"


def test_errors_that_teach() -> None:
    with pytest.raises(ValueError, match=r"\(5, 1\).*\(5,\).*classic"):
        F.mse_loss(cr.ones(5, 1), cr.ones(5))
    with pytest.raises(IndexError, match="target 4 is out of range for 4 classes"):
        F.cross_entropy(cr.tensor(LOGITS), cr.tensor([0, 1, 2, 3, 4, 0]))
    with pytest.raises(TypeError, match="integers"):
        F.cross_entropy(cr.tensor(LOGITS), cr.tensor([0.0, 1.0, 2.0, 3.0, 1.0, 0.0]))
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="avg")
    with pytest.raises(ValueError, match="with_logits"):
        F.binary_cross_entropy(cr.tensor([2.0]), cr.tensor([1.0]))


def test_warns_once_when_given_probabilities() -> None:
    F._Warned.probabilities = False
    probs = cr.softmax(cr.tensor(LOGITS), dim=1)
    with pytest.warns(F.ProbabilitiesAsLogitsWarning, match="logits"):
        F.cross_entropy(probs, cr.tensor(LABELS))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.cross_entropy(probs, cr.tensor(LABELS))  # only once
        F._Warned.probabilities = False
        F.cross_entropy(cr.tensor(LOGITS), cr.tensor(LABELS))  # real logits: no warning
