"""Shared bits of the example scripts: argument parsing, data, a tiny training loop, figures."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import Any

import numpy as np

import chainrule as cr
from chainrule import nn
from chainrule.train.metrics import accuracy as accuracy_of


def parser(doc: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=doc.strip().splitlines()[0])
    p.add_argument("--quick", action="store_true", help="a small, fast version (used in CI)")
    p.add_argument("--out", default=None, help="folder for figures (default runs/examples)")
    return p


def out_dir(args: argparse.Namespace, name: str) -> str:
    folder = args.out or os.path.join("runs", "examples", name)
    os.makedirs(folder, exist_ok=True)
    return folder


def have_matplotlib() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("(matplotlib not installed: figures skipped; pip install matplotlib)")
        return False
    return True


def mnist(quick: bool) -> tuple[Any, Any, str]:
    """Full MNIST when it is on this machine (and not --quick), else the embedded mini-MNIST."""
    if not quick:
        try:
            return cr.data.MNIST(train=True), cr.data.MNIST(train=False), "MNIST"
        except cr.data.DatasetError:
            pass
    return cr.data.MiniMNIST(train=True), cr.data.MiniMNIST(train=False), "mini-MNIST"


def train(model: nn.Module, X: cr.Tensor, y: cr.Tensor, epochs: int,
          loss_fn: Callable[[Any, Any], Any] | None = None, lr: float = 0.5,
          batch_size: int = 32, optimizer: Any = None, weight_decay: float = 0.0,
          noise: float = 0.0, seed: int = 0) -> nn.Module:
    """Plain mini-batch SGD (or ``optimizer``) with optional Gaussian input noise."""
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    opt = optimizer or cr.optim.SGD(model.parameters(), lr=lr, weight_decay=weight_decay)
    loader = cr.data.DataLoader(cr.data.TensorDataset(X, y), batch_size=batch_size,
                                shuffle=True, generator=cr.Generator(seed))
    rng = np.random.default_rng(seed)
    model.train()
    for _ in range(epochs):
        for xb, yb in loader:
            if noise:
                xb = xb + cr.tensor(rng.normal(0, noise, xb.shape).astype(np.float32))
            opt.zero_grad()
            loss_fn(model(xb), yb).backward()
            opt.step()
    model.eval()
    return model


def accuracy(model: nn.Module, X: cr.Tensor, y: cr.Tensor) -> float:
    with cr.no_grad():
        return accuracy_of(model(X), y)
