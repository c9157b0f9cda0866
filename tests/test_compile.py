"""Step capture: bit-identical to eager, shape changes and unsupported ops fall back."""

from typing import Any

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.train.recipe import OneHotMSE


def _mlp(act: type[nn.Module] = nn.Sigmoid, dropout: float = 0.0,
         batchnorm: bool = False) -> nn.Sequential:
    cr.manual_seed(0)
    layers: list[nn.Module] = [nn.Flatten(), nn.Linear(12, 9)]
    if batchnorm:
        layers.append(nn.BatchNorm1d(9))
    layers.append(act())
    if dropout:
        layers.append(nn.Dropout(dropout))
    layers += [nn.Linear(9, 7), act(), nn.Linear(7, 4)]
    return nn.Sequential(*layers).double()


def _data(n: int = 40) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    return rng.normal(size=(n, 3, 4)), rng.integers(0, 4, n)


def _train(compiled: bool, optimizer: str, loss: str = "ce", batch: int = 8, epochs: int = 3,
           **model_kwargs: object) -> tuple[list[np.ndarray], list[float], object]:
    model = _mlp(**model_kwargs)  # type: ignore[arg-type]
    if optimizer == "sgd":
        opt = cr.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    else:
        opt = cr.optim.Adam(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1) if loss == "ce" else nn.MultiMarginLoss()
    step = cr.compile(model, loss_fn, opt)
    X, Y = _data()
    losses = []
    for _ in range(epochs):
        for i in range(0, len(X), batch):  # 40 / 8: equal batches; 40 / 12: a smaller last one
            x, y = cr.tensor(X[i:i + batch]), cr.tensor(Y[i:i + batch])
            losses.append(_one_step(step if compiled else None, model, loss_fn, opt, x, y))
    return [p.detach().numpy().copy() for p in model.parameters()], losses, step


def _one_step(step: object, model: nn.Module, loss_fn: object, opt: cr.optim.Optimizer,
              x: cr.Tensor, y: cr.Tensor) -> float:
    """A captured step when ``step`` is given, else the eager loop's; returns the loss."""
    if step is not None:
        return float(step(x, y).item())  # type: ignore[operator]
    opt.zero_grad()
    loss = loss_fn(model(x), y)  # type: ignore[operator]
    loss.backward()
    opt.step()
    return float(loss.item())


def _eager_vs_compiled(make_loss: Any, make_model: Any = lambda: _mlp(nn.Tanh),
                       labels: np.ndarray | None = None, targets: list | None = None,
                       epochs: int = 1, lr: float = 0.05, momentum: float = 0.0,
                       seed: int | None = None, before_step: Any = None) -> Any:
    """Train a model eagerly, then the same model captured, on the same five batches of 8
    (new input tensors every step); assert the losses and weights agree bit for bit.
    Returns the captured run's step."""
    X, Y = _data()
    Y = Y if labels is None else labels
    runs = []
    for compiled in (False, True):
        model, loss_fn = make_model(), make_loss()
        opt = cr.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
        step = cr.compile(model, loss_fn, opt)
        if seed is not None:
            cr.manual_seed(seed)
        losses = []
        for _ in range(epochs):
            for i in range(0, 40, 8):
                if before_step is not None:
                    before_step(i)
                y = cr.tensor(Y[i:i + 8]) if targets is None else targets[i // 8]
                losses.append(_one_step(step if compiled else None, model, loss_fn, opt,
                                        cr.tensor(X[i:i + 8]), y))
        runs.append((losses, [p.detach().numpy().copy() for p in model.parameters()], step))
    (eager_l, eager_w, _), (comp_l, comp_w, step) = runs
    assert eager_l == comp_l
    assert all(np.array_equal(a, b) for a, b in zip(eager_w, comp_w, strict=True))
    return step


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("loss", ["ce", "margin"])
@pytest.mark.parametrize("batch", [8, 12])
def test_compiled_training_is_bit_identical_to_eager(optimizer: str, loss: str,
                                                     batch: int) -> None:
    eager_w, eager_l, _ = _train(False, optimizer, loss, batch)
    comp_w, comp_l, step = _train(True, optimizer, loss, batch)
    assert eager_l == comp_l
    for a, b in zip(eager_w, comp_w, strict=True):
        assert np.array_equal(a, b)
    assert step.stats["replayed"] > 0  # type: ignore[attr-defined]
    if batch == 12:  # the smaller last batch got its own recording
        assert len(step.programs) == 2  # type: ignore[attr-defined]


@pytest.mark.parametrize("kwargs", [{"dropout": 0.3}, {"batchnorm": True}])
def test_unreplayable_ops_fall_back_to_eager(kwargs: dict) -> None:
    eager_w, _, _ = _train(False, "sgd", **kwargs)
    comp_w, _, step = _train(True, "sgd", **kwargs)
    assert step.stats["replayed"] == 0 and step.stats["eager"] > 0  # type: ignore[attr-defined]
    assert "dropout" in str(step.reasons) or "running" in str(step.reasons)  # type: ignore
    for a, b in zip(eager_w, comp_w, strict=True):
        assert np.array_equal(a, b)


@pytest.mark.parametrize(("read", "reason"), [("numpy", "reads tensor values"),
                                              ("data", "differed")])
def test_data_dependent_side_computation_is_caught(read: str, reason: str) -> None:
    """Labels read through the Tensor API stop the capture at once; read from the raw
    array (the internal ``_data``), the check step's comparison with an eager step catches
    it."""
    model = _mlp()
    opt = cr.optim.SGD(model.parameters(), lr=0.1)

    def onehot_mse(out: cr.Tensor, y: cr.Tensor) -> cr.Tensor:
        labels = y.numpy() if read == "numpy" else y._data
        target = cr.tensor(np.eye(4)[labels])  # computed outside ops from the labels
        return nn.functional.mse_loss(out, target)

    step = cr.compile(model, onehot_mse, opt)
    X, Y = _data()
    for i in range(0, 40, 8):
        step(cr.tensor(X[i:i + 8]), cr.tensor(Y[i:i + 8]))
    assert step.stats["replayed"] == 0
    assert reason in next(iter(step.reasons.values()))


@pytest.mark.parametrize("read", ["bool", "item", "print"])
def test_a_branch_on_tensor_values_keeps_the_step_eager(read: str) -> None:
    """A Python branch on a value of the step: the capture and the check step take the same
    branch here, later steps the other one, which a replay would miss."""

    def branchy(out: cr.Tensor, y: cr.Tensor) -> cr.Tensor:
        if read == "bool":
            first_is_zero = bool(y[0] == 0)
        elif read == "item":
            first_is_zero = y[0].item() == 0
        else:
            first_is_zero = repr(y).startswith("tensor([0")
        return nn.functional.cross_entropy(out * 2.0 if first_is_zero else out, y)

    labels = np.array([1, 2, 3, 0] * 4 + [0, 1, 2, 3] * 6)  # y[0] is 1 in batches 0-1, then 0
    step = _eager_vs_compiled(lambda: branchy, labels=labels)
    assert step.stats["replayed"] == 0
    assert "reads tensor values" in next(iter(step.reasons.values()))


def test_eval_mode_and_no_grad_run_eagerly() -> None:
    model = _mlp()
    step = cr.compile(model, nn.CrossEntropyLoss(), cr.optim.SGD(model.parameters(), lr=0.1))
    X, Y = _data()
    with cr.detect_anomaly():
        step(cr.tensor(X[:8]), cr.tensor(Y[:8]))
    assert step.stats == {"eager": 1, "captured": 0, "replayed": 0}


class _ScaleGradInPlace(cr.autograd.Function):
    """Identity whose backward scales the incoming gradient in place when ``inplace`` is set:
    fine for the eager engine (it hands out a fresh root gradient), while the replay's
    root gradient is a read-only array made once, so the replay raises."""

    inplace = False
    raw_arrays = True  # forward and backward get the arrays themselves (as chainrule's ops)

    @staticmethod
    def forward(ctx, x):  # type: ignore[no-untyped-def, override]
        return x.copy()

    @staticmethod
    def backward(ctx, gy):  # type: ignore[no-untyped-def, override]
        if _ScaleGradInPlace.inplace:
            gy *= 1.0
        return gy


@pytest.mark.parametrize("fail_from_start", [True, False])
def test_a_replay_that_raises_falls_back_to_eager(fail_from_start: bool) -> None:
    def loss_fn(out: cr.Tensor, y: cr.Tensor) -> cr.Tensor:
        return _ScaleGradInPlace.apply(nn.functional.cross_entropy(out, y))

    def before_step(i: int) -> None:
        if i == 0:
            _ScaleGradInPlace.inplace = fail_from_start
        if i == 24:
            _ScaleGradInPlace.inplace = True  # after capture and check: replay fails

    try:
        step = _eager_vs_compiled(lambda: loss_fn, make_model=_mlp, lr=0.1,
                                  before_step=before_step)
    finally:
        _ScaleGradInPlace.inplace = False
    assert "the replay failed" in next(iter(step.reasons.values()))
    assert "read-only" in next(iter(step.reasons.values()))
    # failing in the check step means it never replays; failing later stops replaying
    assert step.stats["replayed"] == (0 if fail_from_start else 1)
    assert not step.ready


BAD_LABEL_LOSSES = {
    "ce": nn.CrossEntropyLoss,
    "ce_weighted": lambda: nn.CrossEntropyLoss(weight=cr.tensor([1.0, 2.0, 0.5, 1.0]).double()),
    "nll": lambda: lambda out, y: nn.functional.nll_loss(nn.functional.log_softmax(out, 1), y),
}


@pytest.mark.parametrize("bad_label", [9, -2])  # -2 would pick a column from the end
@pytest.mark.parametrize("loss", BAD_LABEL_LOSSES)
def test_bad_labels_in_a_replayed_step_raise_the_eager_error_and_keep_the_recording(
        loss: str, bad_label: int) -> None:
    model = _mlp()
    step = cr.compile(model, BAD_LABEL_LOSSES[loss](), cr.optim.SGD(model.parameters(), lr=0.1))
    X, Y = _data()
    for _ in range(3):
        step(cr.tensor(X[:8]), cr.tensor(Y[:8]))
    assert step.stats["replayed"] == 1
    bad = Y[:8].copy()
    bad[2] = bad_label
    with pytest.raises(IndexError, match=f"target {bad_label} is out of range for 4 classes"):
        step(cr.tensor(X[:8]), cr.tensor(bad))
    step(cr.tensor(X[:8]), cr.tensor(Y[:8]))
    assert step.stats["replayed"] == 2


def _regression_targets(y: np.ndarray) -> np.ndarray:
    return np.eye(4)[y] * 0.8 + 0.1  # fixed per batch: made once, outside the step


def _picked_nll(out: cr.Tensor, y: cr.Tensor) -> cr.Tensor:
    """The tutorials' cross-entropy: pick each row's log-probability with the labels."""
    return -nn.functional.log_softmax(out, dim=1)[cr.arange(len(y)), y].mean()


def _picked_nll_range(out: cr.Tensor, y: cr.Tensor) -> cr.Tensor:
    return -nn.functional.log_softmax(out, dim=1)[range(len(y)), y].mean()


LOSSES = {
    "mse": (nn.MSELoss, _regression_targets),
    "l1": (nn.L1Loss, _regression_targets),
    "huber": (nn.HuberLoss, _regression_targets),
    "bce_logits": (nn.BCEWithLogitsLoss, _regression_targets),
    "ce_sum": (lambda: nn.CrossEntropyLoss(reduction="sum"), lambda y: y),
    "ce_weighted": (lambda: nn.CrossEntropyLoss(weight=cr.tensor([1.0, 2.0, 0.5, 1.0])
                                                .double()), lambda y: y),
    "cli_quadratic_cost": (lambda: OneHotMSE(4), lambda y: y),  # one-hot targets from labels
    "picked_log_softmax": (lambda: _picked_nll, lambda y: y),  # the labels index the output
    "picked_with_range": (lambda: _picked_nll_range, lambda y: y),
    "log_softmax_and_nll": (lambda: lambda out, y: nn.NLLLoss()(nn.LogSoftmax(dim=1)(out), y),
                            lambda y: y),
    "nll_weighted": (lambda: lambda out, y: nn.functional.nll_loss(
        nn.functional.log_softmax(out, dim=1), y, cr.tensor([1.0, 2.0, 0.5, 1.0]).double()),
        lambda y: y),
}


@pytest.mark.parametrize("name", LOSSES)
def test_every_loss_replays_bit_identically(name: str) -> None:
    make_loss, make_target = LOSSES[name]
    _, Y = _data()
    targets = [cr.tensor(make_target(Y[i:i + 8])) for i in range(0, 40, 8)]
    step = _eager_vs_compiled(make_loss, targets=targets, epochs=2, momentum=0.9)
    assert step.stats["replayed"] == 8, step.reasons


def _masked_loss(out: cr.Tensor, y: cr.Tensor) -> cr.Tensor:
    """Squared row sums of the rows whose label is above 1 (a boolean mask from the labels)."""
    return (out.sum(1)[y > 1] ** 2).mean()


@pytest.mark.parametrize("same_count", [True, False])
def test_a_boolean_mask_from_the_labels_is_read_each_step(same_count: bool) -> None:
    if same_count:  # every batch has three labels above 1, in different places
        labels = np.array([2, 3, 2, 0, 1, 0, 0, 1] * 5)
        labels = np.concatenate([np.roll(labels[i:i + 8], i // 8) for i in range(0, 40, 8)])
    else:
        labels = np.array([2, 0, 0, 0, 0, 0, 0, 0] * 2 + [3, 2, 0, 0, 0, 0, 0, 0] * 3)
    step = _eager_vs_compiled(lambda: _masked_loss, labels=labels)
    if same_count:  # replayed with each batch's own mask (a stale one would differ above)
        assert step.stats["replayed"] == 3, step.reasons
    else:  # the check step picked 2 items where the recording had 1: eager from then on
        assert step.stats["replayed"] == 0
        assert "GetItem gave shape (2,) where the recording had (1,)" in str(step.reasons)


class _NoisyInput(nn.Module):
    """Input noise (the tutorials' regularizer) drawn inside the step."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: cr.Tensor) -> cr.Tensor:
        return self.inner(x + 0.1 * cr.randn(*x.shape).double())


def test_random_draws_inside_the_step_keep_it_eager() -> None:
    step = _eager_vs_compiled(nn.CrossEntropyLoss, make_model=lambda: _NoisyInput(_mlp(nn.Tanh)),
                              seed=1)  # the same noise in both runs
    assert step.stats == {"eager": 4, "captured": 1, "replayed": 0}
    assert "draws random numbers" in next(iter(step.reasons.values()))


class _Scaled(nn.Module):
    """A layer with a buffer: the output is scaled by it (set from outside the step)."""

    def __init__(self) -> None:
        super().__init__()
        self.inner = _mlp(nn.Tanh)
        self.register_buffer("scale", cr.tensor(1.0).double())

    temperature = 1.0  # a plain float the forward divides by

    def forward(self, x: cr.Tensor) -> cr.Tensor:
        x = x.to(self.scale.dtype)  # Linear needs its weights' dtype (after model.float())
        return self.inner(x) * self.scale / self.temperature


def _change(model: _Scaled, what: str) -> None:
    first = model.inner[1]  # nn.Linear(12, 9)
    if what == "freeze":
        first.weight.requires_grad_(False)
    elif what == "unfreeze":
        first.weight.requires_grad_(True)
    elif what == "new_parameter":
        first.weight = nn.Parameter(first.weight.detach() * 0.5)
    elif what == "dtype":  # the model to float32 (the inputs stay float64: forward casts)
        model.float()
    elif what == "temperature":
        model.temperature = 2.0
    elif what == "new_buffer":
        model.scale = cr.tensor(3.0).double()
    else:  # a new array for the buffer (not an in-place write)
        model.scale.data = model.scale.data * 3.0


@pytest.mark.parametrize("what", ["freeze", "unfreeze", "new_parameter", "dtype",
                                  "temperature", "new_buffer", "buffer_data"])
def test_changes_between_steps_are_seen_by_the_replay(what: str) -> None:
    """Freezing or unfreezing a layer, replacing a parameter or a buffer's array mid-training:
    the captured run trains exactly like the eager one."""
    X, Y = _data()
    runs = []
    for compiled in (False, True):
        model = _Scaled()
        if what == "unfreeze":
            model.inner[1].weight.requires_grad_(False)
        loss_fn = nn.CrossEntropyLoss()
        step = cr.compile(model, loss_fn, cr.optim.SGD(model.parameters(), lr=0.05))
        losses = []
        for epoch in range(4):
            if epoch == 2:  # after capture, check and replays
                _change(model, what)
            opt = step.optimizer  # a new Parameter needs an optimizer that knows it
            if what == "new_parameter" and epoch == 2:
                opt = step.optimizer = cr.optim.SGD(model.parameters(), lr=0.05)
            for i in range(0, 40, 8):
                losses.append(_one_step(step if compiled else None, model, loss_fn, opt,
                                        cr.tensor(X[i:i + 8]), cr.tensor(Y[i:i + 8])))
        runs.append((losses, [p.detach().numpy().copy() for p in model.parameters()], step,
                     [p.grad is None for p in model.parameters()]))
    (eager_l, eager_w, _, eager_none), (comp_l, comp_w, step, comp_none) = runs
    assert eager_l == comp_l
    assert all(np.array_equal(a, b) for a, b in zip(eager_w, comp_w, strict=True))
    assert eager_none == comp_none  # a frozen weight gets no gradient in either
    assert step.stats["replayed"] >= 14  # it keeps replaying, from a fresh recording


class _Counted(nn.Module):
    """Counts, from hooks, the forward and backward passes of its hidden layer."""

    def __init__(self, how: str) -> None:
        super().__init__()
        self.inner, self.how, self.calls = _mlp(nn.Tanh), how, 0
        if how == "forward_hook":
            self.inner[1].register_forward_hook(self._count)
        elif how == "pre_hook":
            self.inner[1].register_forward_pre_hook(self._count)

    def _count(self, *args: object) -> None:
        self.calls += 1

    def forward(self, x: cr.Tensor) -> cr.Tensor:
        out = self.inner(x)
        if self.how == "tensor_hook":
            out.register_hook(self._count)  # on a non-leaf: called in backward
        elif self.how == "retain_grad":
            out.retain_grad()
            self.kept = out
        return out


@pytest.mark.parametrize("how", ["forward_hook", "pre_hook", "tensor_hook", "retain_grad"])
def test_hooks_in_the_step_keep_it_eager(how: str) -> None:
    X, Y = _data()
    model = _Counted(how)
    loss_fn = nn.CrossEntropyLoss()
    step = cr.compile(model, loss_fn, cr.optim.SGD(model.parameters(), lr=0.05))
    for i in range(0, 40, 8):
        step(cr.tensor(X[i:i + 8]), cr.tensor(Y[i:i + 8]))
        if how == "retain_grad":  # this step's gradient, not the first step's
            assert model.kept.grad is not None and model.kept.grad.shape == (8, 4)
            model.calls += 1
    assert model.calls == 5
    assert step.stats["replayed"] == 0
    reason = next(iter(step.reasons.values()))
    assert "hook" in reason or "retain_grad" in reason


def test_a_forward_hook_added_after_capture_is_called() -> None:
    X, Y = _data()
    model = _Counted("none")
    step = cr.compile(model, nn.CrossEntropyLoss(), cr.optim.SGD(model.parameters(), lr=0.05))
    for i in range(0, 40, 8):
        step(cr.tensor(X[i:i + 8]), cr.tensor(Y[i:i + 8]))
    assert step.stats["replayed"] == 3
    handle = model.inner[1].register_forward_hook(model._count)
    for i in range(0, 40, 8):
        step(cr.tensor(X[i:i + 8]), cr.tensor(Y[i:i + 8]))
    assert model.calls == 5 and step.stats["replayed"] == 3
    handle.remove()  # without the hook the step records and replays again
    for i in range(0, 40, 8):
        step(cr.tensor(X[i:i + 8]), cr.tensor(Y[i:i + 8]))
    assert model.calls == 5 and step.stats["replayed"] == 6


class _CountsItsCalls(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.inner, self.calls = _mlp(nn.Tanh), 0

    def forward(self, x: cr.Tensor) -> cr.Tensor:
        self.calls += 1  # a side effect a replay would skip
        return self.inner(x)


def test_a_forward_that_sets_its_attributes_stays_eager() -> None:
    X, Y = _data()
    model = _CountsItsCalls()
    step = cr.compile(model, nn.CrossEntropyLoss(), cr.optim.SGD(model.parameters(), lr=0.05))
    for i in range(0, 40, 8):
        step(cr.tensor(X[i:i + 8]), cr.tensor(Y[i:i + 8]))
    assert model.calls == 5 and step.stats["replayed"] == 0
    assert "sets the attribute 'calls'" in next(iter(step.reasons.values()))


def test_a_step_that_needs_its_inputs_gradient_gets_it_each_step() -> None:
    """Input gradients (saliency, adversarial examples): each step's new input gets its own
    .grad, as in eager training."""
    X, Y = _data()
    grads = []
    for compiled in (False, True):
        model = _mlp(nn.Tanh)
        loss_fn = nn.CrossEntropyLoss()
        opt = cr.optim.SGD(model.parameters(), lr=0.05)
        step = cr.compile(model, loss_fn, opt)
        run = []
        for i in range(0, 40, 8):
            x = cr.tensor(X[i:i + 8], requires_grad=True)
            _one_step(step if compiled else None, model, loss_fn, opt, x, cr.tensor(Y[i:i + 8]))
            assert x.grad is not None
            run.append(x.grad.numpy().copy())
        grads.append(run)
    assert all(np.array_equal(a, b) for a, b in zip(*grads, strict=True))
    assert "gradient of one of its inputs" in next(iter(step.reasons.values()))


def test_a_new_tensor_that_requires_grad_does_not_stop_the_replay() -> None:
    X, Y = _data()
    model = _mlp(nn.Tanh)
    step = cr.compile(model, nn.CrossEntropyLoss(), cr.optim.SGD(model.parameters(), lr=0.05))
    for i in range(0, 40, 8):
        cr.zeros(3, requires_grad=True).requires_grad_(False)  # held by no recording
        step(cr.tensor(X[i:i + 8]), cr.tensor(Y[i:i + 8]))
    assert step.stats["replayed"] == 3
