"""Optimizers follow torch.optim's trajectories exactly (float64, 100 steps, 1e-10)."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim

from nnref import torch

CONFIGS = [
    ("sgd", optim.SGD, "SGD", {"lr": 0.05}),
    ("sgd_momentum", optim.SGD, "SGD", {"lr": 0.05, "momentum": 0.9}),
    ("sgd_dampening_wd", optim.SGD, "SGD",
     {"lr": 0.05, "momentum": 0.8, "dampening": 0.3, "weight_decay": 0.01}),
    ("sgd_nesterov", optim.SGD, "SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("sgd_maximize", optim.SGD, "SGD", {"lr": 0.01, "maximize": True}),
    ("adam", optim.Adam, "Adam", {"lr": 0.01}),
    ("adam_wd_amsgrad", optim.Adam, "Adam",
     {"lr": 0.01, "betas": (0.8, 0.99), "weight_decay": 0.1, "amsgrad": True}),
    ("adamw", optim.AdamW, "AdamW", {"lr": 0.01}),
    ("adamw_amsgrad", optim.AdamW, "AdamW", {"lr": 0.02, "weight_decay": 0.3, "amsgrad": True}),
    ("rmsprop", optim.RMSprop, "RMSprop", {"lr": 0.01}),
    ("rmsprop_centered_momentum", optim.RMSprop, "RMSprop",
     {"lr": 0.01, "momentum": 0.5, "centered": True, "weight_decay": 0.01}),
    ("adagrad", optim.Adagrad, "Adagrad", {"lr": 0.1}),
    ("adagrad_decay", optim.Adagrad, "Adagrad",
     {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.01, "initial_accumulator_value": 0.1}),
    ("adadelta", optim.Adadelta, "Adadelta", {}),
    ("adadelta_wd_maximize", optim.Adadelta, "Adadelta",
     {"lr": 0.5, "rho": 0.8, "eps": 1e-5, "weight_decay": 0.01, "maximize": True}),
    ("adamax", optim.Adamax, "Adamax", {"lr": 0.01}),
    ("adamax_wd", optim.Adamax, "Adamax", {"lr": 0.02, "betas": (0.8, 0.99), "weight_decay": 0.1}),
    ("nadam", optim.NAdam, "NAdam", {"lr": 0.01}),
    ("nadam_wd", optim.NAdam, "NAdam", {"lr": 0.01, "weight_decay": 0.05, "momentum_decay": 0.01}),
    ("nadam_decoupled", optim.NAdam, "NAdam",
     {"lr": 0.01, "weight_decay": 0.05, "decoupled_weight_decay": True}),
    ("radam", optim.RAdam, "RAdam", {"lr": 0.01}),
    ("radam_wd_maximize", optim.RAdam, "RAdam",
     {"lr": 0.01, "betas": (0.5, 0.9), "weight_decay": 0.05, "maximize": True}),
    ("radam_decoupled", optim.RAdam, "RAdam",
     {"lr": 0.01, "weight_decay": 0.05, "decoupled_weight_decay": True}),
]


def _loss(w: object, b: object, x: object, y: object, lib: object) -> object:
    h = (x @ w.T + b).tanh()  # type: ignore[attr-defined, operator]
    return ((h - y) ** 2).sum() + (w**4).sum() * 0.01  # type: ignore[operator]


@pytest.mark.skipif(torch is None, reason="torch oracle not installed")
@pytest.mark.parametrize(("name", "ours", "theirs", "kwargs"), CONFIGS,
                         ids=[c[0] for c in CONFIGS])
def test_trajectory_matches_torch(name: str, ours, theirs: str, kwargs: dict) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(0)
    w0, b0 = rng.normal(size=(3, 4)), rng.normal(size=3)
    x, y = rng.normal(size=(8, 4)), rng.normal(size=(8, 3))
    w, b = nn.Parameter(cr.tensor(w0)), nn.Parameter(cr.tensor(b0))
    tw = torch.tensor(w0, requires_grad=True)
    tb = torch.tensor(b0, requires_grad=True)
    opt = ours([w, b], **kwargs)
    topt = getattr(torch.optim, theirs)([tw, tb], **kwargs)
    xc, yc, xt, yt = cr.tensor(x), cr.tensor(y), torch.tensor(x), torch.tensor(y)
    for _ in range(100):
        opt.zero_grad()
        _loss(w, b, xc, yc, cr).backward()
        opt.step()
        topt.zero_grad()
        _loss(tw, tb, xt, yt, torch).backward()
        topt.step()
    np.testing.assert_allclose(w.detach().numpy(), tw.detach().numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(b.detach().numpy(), tb.detach().numpy(), rtol=1e-10, atol=1e-10)


def test_skips_none_grads_and_frozen_parameters() -> None:
    a = nn.Parameter(cr.ones(2))
    frozen = nn.Parameter(cr.ones(2))
    unused = nn.Parameter(cr.ones(2))
    opt = optim.SGD([a, frozen, unused], lr=0.5, momentum=0.9)
    (a * frozen).sum().backward()
    frozen.requires_grad_(False)
    opt.step()
    assert a.tolist() == [0.5, 0.5] and frozen.tolist() == [1.0, 1.0]
    assert unused.tolist() == [1.0, 1.0] and unused not in opt.state


def test_param_groups_have_their_own_hyperparameters() -> None:
    a, b = nn.Parameter(cr.ones(1)), nn.Parameter(cr.ones(1))
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    (a + b).sum().backward()
    opt.step()
    assert a.tolist() == pytest.approx([0.9]) and b.tolist() == [0.5]
    c = nn.Parameter(cr.ones(1))
    opt.add_param_group({"params": c, "lr": 1.0})
    assert opt.param_groups[2]["momentum"] == 0.0
    with pytest.raises(ValueError, match="more than one"):
        opt.add_param_group({"params": [a]})
    opt.zero_grad()
    assert a.grad is None


def test_state_dict_round_trip_continues_identically() -> None:
    def run(split: bool) -> np.ndarray:
        w = nn.Parameter(cr.tensor(np.linspace(-1, 1, 6), dtype=cr.float64))
        opt = optim.Adam([w], lr=0.05)
        for step in range(20):
            if split and step == 10:
                state = opt.state_dict()
                w = nn.Parameter(w.detach().clone())
                opt = optim.Adam([w], lr=0.05)
                opt.load_state_dict(state)
            opt.zero_grad()
            (w**3).sum().backward()
            opt.step()
        return w.detach().numpy()

    assert np.array_equal(run(False), run(True))


def test_errors() -> None:
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="invalid lr"):
        optim.Adam([nn.Parameter(cr.ones(1))], lr=-1)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([nn.Parameter(cr.ones(1))], lr=0.1, nesterov=True)
