"""One browser tab's playground: its data, its network, its optimizer and its training steps.

A :class:`Session` is plain chainrule: the network is an ``nn.Sequential``, every step is the
loop a user writes (forward, loss, ``zero_grad``, ``backward``, ``step``), and the pictures
(:mod:`chainrule.playground.frames`) are forward passes over a grid. Nothing here knows
about the web; the server calls these methods from its threads under ``session.lock``.

>>> session = Session({"data": "xor", "hidden": [4], "seed": 1})
>>> before = session.losses()["test"]
>>> for _ in range(200):
...     _ = session.step()
>>> session.losses()["test"] < before
True
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np

import chainrule as cr
from chainrule import nn, optim
from chainrule.autograd.grad_mode import no_grad
from chainrule.playground import data
from chainrule.playground.options import MAX_POINTS, SetupError, check_setup
from chainrule.random import get_rng_state, manual_seed, set_rng_state
from chainrule.train.costs import OneHotMSE
from chainrule.train.models import mlp_layers

# the default generator is shared by every session: a session that draws from it while
# training (dropout) swaps its own state in and out under this lock
_RNG_LOCK = threading.Lock()
# chainrule's grad mode (and the default generator) are process-wide, so the sessions' threads
# take turns: one step, frame or request at a time (Python's GIL would interleave them anyway)
ENGINE_LOCK = threading.RLock()



def build_network(setup: dict[str, Any], inputs: int, outputs: int) -> nn.Sequential:
    """The MLP of ``setup`` as ``chainrule train`` builds it
    (:func:`chainrule.train.models.mlp_layers`: Linear and activation per hidden layer,
    Maxout instead, none for ``linear``, dropout when chosen, then the output layer), so CLI
    runs and exports load into it."""
    return nn.Sequential(*mlp_layers(inputs, setup["hidden"], setup["activation"],
                                     setup["dropout"], outputs))


def weight_layers(model: nn.Sequential) -> list[nn.Linear]:
    """The Linear layers in order (a Maxout layer's own Linear included)."""
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


class HalfMSE(nn.Module):
    """Regression cost: mean over the batch of 1/2 (output - target)^2."""

    def forward(self, output: Any, target: Any) -> Any:
        return 0.5 * ((output.reshape(-1) - target) ** 2).mean()


class Session:
    """Data, network and optimizer of one setup (see :mod:`chainrule.playground.options`).

    ``csv``: uploaded points ``(points, labels)`` used when ``setup['data'] == 'csv'``.
    """

    def __init__(self, setup: Any = None, csv: tuple[np.ndarray, np.ndarray] | None = None,
                 ) -> None:
        self.lock = ENGINE_LOCK
        self.csv = csv
        self.playing = False
        self.stopped_because: str | None = None
        self.configure(check_setup(setup or {}))

    # ---- building ------------------------------------------------------------------------
    def configure(self, setup: dict[str, Any]) -> None:
        """Build data, network and optimizer for ``setup`` (a checked one): a reset."""
        points, labels = self._points(setup)
        self.setup = setup
        self.points, self.labels = points, labels
        self.train_idx, self.test_idx = data.split(len(points), setup["ratio"], setup["seed"])
        if setup["added"]:  # clicked points are training points
            added = len(setup["added"])
            self.train_idx = np.concatenate([self.train_idx,
                                             np.arange(len(points) - added, len(points))])
            self.test_idx = self.test_idx[self.test_idx < len(points) - added]
        self.regression = setup["problem"] == "regression"
        self.classes = 1 if self.regression else max(2, int(labels.max()) + 1)
        self.box = data.view_box(points)
        features = data.feature_matrix(points, setup["features"]).astype(np.float32)
        self.inputs = cr.tensor(features)
        self.targets = (cr.tensor(labels.astype(np.float32)) if self.regression
                        else cr.tensor(labels.astype(np.int64)))
        self.grid = cr.tensor(data.feature_matrix(data.grid_points(self.box),
                                                  setup["features"]).astype(np.float32))
        with _RNG_LOCK:
            manual_seed(setup["seed"])
            self.model = build_network(setup, len(setup["features"]), self.classes)
            self._rng_state = get_rng_state()
        self.loss_fn: nn.Module
        if self.regression:
            self.loss_fn = HalfMSE()
        elif setup["loss"] == "mse":
            self.loss_fn = OneHotMSE(self.classes)
        else:
            self.loss_fn = nn.CrossEntropyLoss()
        self.optimizer = self._optimizer()
        self.batches = np.random.default_rng(setup["seed"] + 2)
        self.order = self.batches.permutation(self.train_idx)
        self.position = 0
        self.steps = 0
        self.epoch = 0.0
        self.history: list[tuple[float, float, float]] = []
        self.stopped_because = None

    def _points(self, setup: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        if setup["data"] == "csv":
            if self.csv is None:
                raise SetupError("data", "no CSV file loaded: upload one first")
            points, labels = self.csv
            if setup["problem"] == "classification" and not np.all(labels == np.round(labels)):
                raise SetupError("problem", "the CSV file's labels are values, not classes: "
                                 "choose regression")
        else:
            points, labels = data.generate(setup)
        points, labels = data.with_added(points, labels, setup["added"])
        if len(points) > MAX_POINTS:
            raise SetupError("added", f"{len(points):,} points, at most {MAX_POINTS:,}")
        if len(points) < 2:
            raise SetupError("points", "at least 2 points are needed")
        return points, labels

    def _optimizer(self) -> optim.Optimizer:
        name, lr = self.setup["optimizer"], self.setup["lr"]
        if name == "adam":
            return optim.Adam(self.model.parameters(), lr=lr)
        return optim.SGD(self.model.parameters(), lr=lr,
                         momentum=0.9 if name == "momentum" else 0.0)

    def set_setup(self, given: Any) -> list[str]:
        """Apply a new setup. Only the learning rate, regularization and input noise change
        in place (training goes on); anything else rebuilds (a reset). Returns what changed."""
        setup = check_setup(given)
        changed = [key for key in setup if setup[key] != self.setup[key]]
        in_place = {"lr", "regularization", "reg_rate", "input_noise"}
        if set(changed) <= in_place:
            self.setup = setup
            for group in self.optimizer.param_groups:
                group["lr"] = setup["lr"]
        else:
            self.configure(setup)
        return changed

    def add_point(self, x: float, y: float, label: float) -> None:
        """Append one training point (clicked on the page) without resetting the network."""
        self.points = np.concatenate([self.points, [[x, y]]])
        self.labels = np.concatenate([self.labels, [label]])
        self.train_idx = np.concatenate([self.train_idx, [len(self.points) - 1]])
        row = data.feature_matrix(self.points[-1:], self.setup["features"]).astype(np.float32)
        self.inputs = cr.tensor(np.concatenate([self.inputs.numpy(), row]))
        kind = np.float32 if self.regression else np.int64
        self.targets = cr.tensor(self.labels.astype(kind))
        self.order = np.concatenate([self.order, [len(self.points) - 1]])

    # ---- training ------------------------------------------------------------------------
    @contextlib.contextmanager
    def _own_rng(self) -> Iterator[None]:
        if not self.setup["dropout"]:
            yield
            return
        with _RNG_LOCK:
            set_rng_state(self._rng_state)
            try:
                yield
            finally:
                self._rng_state = get_rng_state()

    def _batch(self) -> np.ndarray:
        size = min(self.setup["batch_size"], len(self.order))
        if self.position + size > len(self.order):
            self.order = self.batches.permutation(self.train_idx)
            self.position = 0
        batch = self.order[self.position:self.position + size]
        self.position += size
        return batch

    def penalty(self) -> Any:
        """The L1 (rate * sum |w|) or L2 (rate/2 * sum w^2) term of the weights, or 0."""
        kind, rate = self.setup["regularization"], self.setup["reg_rate"]
        if kind == "none" or rate == 0:
            return 0.0
        weights = [layer.weight for layer in weight_layers(self.model)]
        if kind == "l1":
            return rate * sum(w.abs().sum() for w in weights)
        return rate / 2 * sum((w * w).sum() for w in weights)

    def step(self) -> float:
        """One mini-batch step; returns its data loss. A loss that is not finite stops the
        session (``stopped_because`` says why) and leaves the weights as they were."""
        batch = self._batch()
        x = self.inputs[batch]
        if self.setup["input_noise"]:
            raw = self.points[batch] + self.batches.normal(0, self.setup["input_noise"],
                                                           (len(batch), 2))
            x = cr.tensor(data.feature_matrix(raw, self.setup["features"]).astype(np.float32))
        with self._own_rng(), np.errstate(over="ignore", invalid="ignore"):
            loss = self.loss_fn(self.model(x), self.targets[batch])
            value = float(loss.item())
            if not math.isfinite(value):
                self.playing = False
                self.stopped_because = (f"the loss became {value} at step {self.steps + 1} "
                                        f"(learning rate {self.setup['lr']:g}): lower it and "
                                        "press reset")
                return value
            self.optimizer.zero_grad()
            (loss + self.penalty()).backward()
            self.optimizer.step()
        self.steps += 1
        self.epoch = self.steps * self.setup["batch_size"] / len(self.train_idx)
        return value

    def losses(self) -> dict[str, float]:
        """The data loss (no penalty) on all training and all test points, eval mode."""
        self.model.eval()
        try:
            with no_grad():
                train = float(self.loss_fn(self.model(self.inputs[self.train_idx]),
                                           self.targets[self.train_idx]).item())
                test = (float(self.loss_fn(self.model(self.inputs[self.test_idx]),
                                           self.targets[self.test_idx]).item())
                        if len(self.test_idx) else float("nan"))
        finally:
            self.model.train()
        return {"train": train, "test": test}

    def record(self) -> dict[str, float]:
        """Losses now, appended to the history (thinned to at most 2,000 points)."""
        losses = self.losses()
        self.history.append((self.epoch, losses["train"], losses["test"]))
        if len(self.history) > 2000:
            self.history = self.history[::2]
        return losses

    def grad_norms(self) -> list[float]:
        """||dLoss/dW|| of each weight layer after the last step (0 before any)."""
        norms = []
        for layer in weight_layers(self.model):
            grad = layer.weight.grad
            norms.append(0.0 if grad is None else float(np.linalg.norm(grad.numpy())))
        return norms
