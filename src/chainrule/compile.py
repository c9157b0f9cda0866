"""Step capture: record one training step's ops once, then replay them as flat array calls.

``chainrule.compile(model, loss_fn, optimizer)`` returns a function ``step(x, y)`` that does
what the usual loop does (``zero_grad``, forward, loss, ``backward``, ``optimizer.step()``)
and returns the loss. The first call for a given input shape runs eagerly while recording
every op of the forward pass and, from the backward engine, the order in which the graph's
nodes ran and where each gradient went. The second call checks the recording: it replays
and also runs eagerly, and keeps the recording only if both give bit-identical gradients
(a step whose values depend on the data outside chainrule's ops would differ here). From
then on the step is replayed: the same ``forward``/``backward`` functions are called on raw
arrays in the same order, with no Tensor objects, graph nodes, heap or version counters,
so the weights are bit-identical to eager training.

It falls back to eager (always correctly) when:

* the input shapes or dtypes change (each shape gets its own recording, e.g. the last,
  smaller batch; setting a module attribute, a buffer or a parameter, or a parameter's
  ``requires_grad``, between steps makes the next step record afresh: a temperature
  changed by a schedule, a layer frozen or unfrozen);
* grad mode, train/eval mode or anomaly detection differ, or the step needs the gradient
  of its own inputs (``x.requires_grad``: saliency, adversarial examples);
* the step does what a replay cannot repeat: draws random numbers (dropout's mask, input
  noise), updates batch norm's running statistics, runs module forward hooks, hooks or
  keeps the gradient of an intermediate tensor, sets attributes of the model's modules, or
  reads tensor values in Python (``item()``, ``bool()``, ``numpy()``, printing: a branch or
  a constant made from them);
* a boolean mask picks a different number of items than when recorded;
* the check step differs from eager (values computed outside chainrule's ops), or a replay
  raises.

The model's Python code itself runs only while recording and checking: side effects in
``forward`` (a counter, a list it appends to) happen in those steps only, and Python values
the step reads that are not module attributes (a global, a variable a loss function closes
over) are replayed as they were when recorded: after changing one, build the step again
with ``chainrule.compile``, or train eagerly (``Trainer(fast=False)``).

>>> import chainrule as cr
>>> from chainrule import nn
>>> model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
>>> step = cr.compile(model, nn.CrossEntropyLoss(), cr.optim.SGD(model.parameters(), lr=0.1))
>>> x, y = cr.randn(16, 4), cr.randint(0, 3, (16,))
>>> losses = [step(x, y).item() for _ in range(5)]
>>> losses[-1] < losses[0], step.stats["replayed"]
(True, 3)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chainrule.autograd import anomaly, capture
from chainrule.autograd.grad_mode import STATE as GRAD_MODE
from chainrule.backend import array_module
from chainrule.compile_program import CaptureError, Program, ShapeChanged, generate, record, replay
from chainrule.tensor import Tensor

__all__ = ["CaptureError", "CompiledStep", "ShapeChanged", "compile"]


class CompiledStep:
    """``step(x, y)``: one training step, captured and replayed (see the module docstring)."""

    def __init__(self, model: Any, loss_fn: Callable[[Any, Any], Tensor], optimizer: Any,
                 validate: bool = True) -> None:
        self.model, self.loss_fn, self.optimizer, self.validate = model, loss_fn, optimizer, \
            validate
        self.programs: dict[tuple[Any, ...], Program | None] = {}
        self.ready: dict[tuple[Any, ...], Any] = {}  # checked signature -> replay function
        self.reasons: dict[tuple[Any, ...], str] = {}
        self.stats = {"eager": 0, "captured": 0, "replayed": 0}
        self.last_output: Tensor | None = None  # the model's output in the last step

    def _signature(self, inputs: tuple[Tensor, ...]) -> tuple[Any, ...]:
        """What a recording holds for: modes, changes, and each input's shape, dtype and
        requires_grad, in one flat tuple (built every step: a loop, no comprehension)."""
        key: tuple[Any, ...] = (self.model.training, GRAD_MODE.enabled, capture.STATE.changes)
        for t in inputs:
            data = t._data
            key += (data.shape, data.dtype, t._requires_grad)
        return key

    def _eager(self, inputs: tuple[Tensor, ...]) -> Tensor:
        self.optimizer.zero_grad()
        output = self.model(inputs[0])
        loss = self.loss_fn(output, *inputs[1:])
        loss.backward()
        self.last_output = output.detach()
        return loss

    def __call__(self, *inputs: Tensor, step: bool = True) -> Tensor:
        """One step on ``inputs`` (model input first); ``step=False`` stops before the
        optimizer update (gradients are in ``.grad``; call ``optimizer.step()`` yourself)."""
        sig = self._signature(inputs)
        replay = self.ready.get(sig)
        if replay is not None and not anomaly.STATE.enabled and capture.STATE.tape is None:
            self.optimizer.zero_grad()  # the replay: the common case, checked first
            try:
                loss_array, output = replay(inputs)
            except Exception as exc:  # noqa: BLE001 - the eager step below raises real errors
                loss = self._replay_failed(sig, inputs, exc)
            else:
                self.last_output = None if output is None else Tensor._wrap(output)
                self.stats["replayed"] += 1
                if step:
                    self.optimizer.step()
                return Tensor._wrap(loss_array)
        elif anomaly.STATE.enabled or not GRAD_MODE.enabled or capture.STATE.tape is not None:
            loss = self._eager(inputs)
            self.stats["eager"] += 1
        elif sig not in self.programs:
            loss = self._capture(sig, inputs)
        elif self.programs[sig] is None:
            loss = self._eager(inputs)
            self.stats["eager"] += 1
        else:  # recorded, not yet checked against an eager step
            loss = self._check(sig, inputs)
        if step:
            self.optimizer.step()
        return loss.detach()

    def _mark_ready(self, sig: tuple[Any, ...]) -> None:
        program = self.programs[sig]
        assert program is not None
        if program.code is None:
            program.code = generate(program)
        self.ready[sig] = program.code

    def _replay_failed(self, sig: tuple[Any, ...], inputs: tuple[Tensor, ...],
                       exc: Exception) -> Tensor:
        """The replay raised: run the step eagerly. If that raises too, the inputs were bad
        (the error says how) and the recording stays; otherwise the recording goes."""
        loss = self._eager(inputs)
        self.programs[sig] = None
        self.ready.pop(sig, None)
        self.reasons[sig] = (f"the replay failed where the eager step did not "
                             f"({type(exc).__name__}: {exc})")
        self.stats["eager"] += 1
        return loss

    def _capture(self, sig: tuple[Any, ...], inputs: tuple[Tensor, ...]) -> Tensor:
        capture.start()
        try:
            loss = self._eager(inputs)
            output = self.last_output
        finally:
            tape, backward, reason = capture.stop()
        self.stats["captured"] += 1
        if reason is None:
            try:
                self.programs[sig] = record(tape, backward, list(inputs), loss,
                                             output)
            except CaptureError as exc:
                reason = str(exc)
        if reason is not None:
            self.programs[sig] = None
            self.reasons[sig] = reason
        elif not self.validate:
            self._mark_ready(sig)
        return loss

    def _check(self, sig: tuple[Any, ...], inputs: tuple[Tensor, ...]) -> Tensor:
        """Replay and run eagerly from the same weights; keep the recording if they agree."""
        program = self.programs[sig]
        assert program is not None
        self.optimizer.zero_grad()
        try:
            replayed, _ = replay(program, inputs)
        except Exception as exc:  # noqa: BLE001 - the eager step raises real errors
            return self._replay_failed(sig, inputs, exc)
        params = [p for g in self.optimizer.param_groups for p in g["params"]]
        replay_grads = [None if p.grad is None else p.grad._data.copy() for p in params]
        loss = self._eager(inputs)
        xp = array_module(loss._data)
        same = bool(xp.array_equal(xp.asarray(replayed), loss._data)) and all(
            (a is None and p.grad is None) or (a is not None and p.grad is not None
                                               and bool(xp.array_equal(a, p.grad._data)))
            for a, p in zip(replay_grads, params, strict=True))
        if same:
            self._mark_ready(sig)
        else:
            self.programs[sig] = None
            self.reasons[sig] = ("the replayed step differed from the eager one (values "
                                 "computed outside chainrule ops?)")
        self.stats["eager"] += 1
        return loss


def compile(model: Any, loss_fn: Callable[[Any, Any], Tensor], optimizer: Any,  # noqa: A001
            validate: bool = True) -> CompiledStep:
    """A captured training step ``step(x, y) -> loss`` (bit-identical to the eager loop)."""
    return CompiledStep(model, loss_fn, optimizer, validate)
