"""LR schedules produce torch's sequences."""

import math

import pytest

import chainrule as cr
from chainrule import nn, optim
from chainrule.optim import lr_scheduler as ls

from nnref import torch

CASES = [
    ("step", lambda o: ls.StepLR(o, 3, 0.5), lambda o: torch.optim.lr_scheduler.StepLR(o, 3, 0.5)),
    ("multistep", lambda o: ls.MultiStepLR(o, [2, 5, 5, 9], 0.3),
     lambda o: torch.optim.lr_scheduler.MultiStepLR(o, [2, 5, 5, 9], 0.3)),
    ("exponential", lambda o: ls.ExponentialLR(o, 0.9),
     lambda o: torch.optim.lr_scheduler.ExponentialLR(o, 0.9)),
    ("cosine", lambda o: ls.CosineAnnealingLR(o, 7, 0.001),
     lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, 7, 0.001)),
    ("linear", lambda o: ls.LinearLR(o, 0.1, 1.0, 6),
     lambda o: torch.optim.lr_scheduler.LinearLR(o, 0.1, 1.0, 6)),
    ("lambda", lambda o: ls.LambdaLR(o, lambda e: 0.95**e + 0.01 * e),
     lambda o: torch.optim.lr_scheduler.LambdaLR(o, lambda e: 0.95**e + 0.01 * e)),
    ("onecycle", lambda o: ls.OneCycleLR(o, 0.8, total_steps=20),
     lambda o: torch.optim.lr_scheduler.OneCycleLR(o, 0.8, total_steps=20)),
    ("onecycle_linear_3phase", lambda o: ls.OneCycleLR(o, 0.5, epochs=4, steps_per_epoch=5,
                                                       anneal_strategy="linear",
                                                       three_phase=True),
     lambda o: torch.optim.lr_scheduler.OneCycleLR(o, 0.5, epochs=4, steps_per_epoch=5,
                                                   anneal_strategy="linear", three_phase=True)),
]


@pytest.mark.skipif(torch is None, reason="torch oracle not installed")
@pytest.mark.parametrize(("name", "ours", "theirs"), CASES, ids=[c[0] for c in CASES])
def test_sequence_matches_torch(name: str, ours, theirs) -> None:  # type: ignore[no-untyped-def]
    opt = optim.SGD([nn.Parameter(cr.ones(1))], lr=0.2, momentum=0.9)
    topt = torch.optim.SGD([torch.ones(1, requires_grad=True)], lr=0.2, momentum=0.9)
    sched, tsched = ours(opt), theirs(topt)
    steps = 19 if name.startswith("onecycle") else 15
    for _ in range(steps):
        assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-12, abs=1e-15)
        assert opt.param_groups[0]["momentum"] == pytest.approx(
            topt.param_groups[0]["momentum"], rel=1e-12)
        opt.step()
        topt.step()
        sched.step()
        tsched.step()


@pytest.mark.skipif(torch is None, reason="torch oracle not installed")
def test_reduce_on_plateau_matches_torch() -> None:
    opt = optim.SGD([nn.Parameter(cr.ones(1))], lr=1.0)
    topt = torch.optim.SGD([torch.ones(1, requires_grad=True)], lr=1.0)
    sched = ls.ReduceLROnPlateau(opt, patience=2, factor=0.5, cooldown=1)
    tsched = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, patience=2, factor=0.5, cooldown=1)
    for metric in [5, 4, 4, 4, 4, 4, 3.9999, 3, 3, 3, 3, 3, 3, 3]:
        sched.step(metric)
        tsched.step(metric)
        assert opt.param_groups[0]["lr"] == topt.param_groups[0]["lr"]


def test_state_dict_resume() -> None:
    def lrs(split: bool) -> list[float]:
        opt = optim.SGD([nn.Parameter(cr.ones(1))], lr=0.1)
        sched = ls.CosineAnnealingLR(opt, 10)
        out = []
        for step in range(8):
            if split and step == 4:
                state, opt_state = sched.state_dict(), opt.state_dict()
                opt = optim.SGD([nn.Parameter(cr.ones(1))], lr=0.1)
                opt.load_state_dict(opt_state)
                sched = ls.CosineAnnealingLR(opt, 10)
                sched.load_state_dict(state)
                for group, lr in zip(opt.param_groups, sched.get_last_lr(), strict=True):
                    group["lr"] = lr
            out.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
        return out

    assert lrs(False) == lrs(True)
    assert lrs(False)[-1] == pytest.approx(0.05 * (1 + math.cos(math.pi * 7 / 10)))
