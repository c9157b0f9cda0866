"""A tiny XOR training run with every kind of state a checkpoint holds (shared by the
checkpoint tests)."""

from pathlib import Path
from typing import Any

import chainrule as cr
from chainrule import nn
from chainrule.data import DataLoader, TensorDataset
from chainrule.optim.lr_scheduler import OneCycleLR, StepLR
from chainrule.train import Trainer


def tiny_trainer(out: Path | None, kind: str = "sgd", seed: int = 0) -> tuple[Trainer, DataLoader]:
    """A tiny XOR run: SGD with momentum and StepLR, or AMSGrad Adam with per-batch OneCycleLR."""
    cr.manual_seed(seed)
    X, y = cr.data.make_xor(64, seed=0)
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2))
    loader = DataLoader(TensorDataset(X, y), batch_size=16, shuffle=True,
                        generator=cr.Generator(seed + 1))
    if kind == "sgd":
        opt: Any = cr.optim.SGD(model.parameters(), lr=0.5, momentum=0.5)
        sched: Any = StepLR(opt, step_size=5, gamma=0.5)
    else:
        opt = cr.optim.Adam(model.parameters(), lr=0.05, amsgrad=True)
        sched = OneCycleLR(opt, max_lr=0.05, total_steps=4 * len(loader))
    trainer = Trainer(model, nn.CrossEntropyLoss(), opt, sched, out_dir=out, progress=False,
                      log=None, config={"lr": 0.5, "hidden": [8]},
                      step_scheduler_per_batch=kind != "sgd")
    return trainer, loader
