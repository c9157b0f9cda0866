"""compile_inline: the captured step's written-out array calls (Linear, the activations,
plain cross entropy) give eager training's numbers bit for bit."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from test_compile import _one_step


def _written_out_net(case: str) -> nn.Sequential:
    cr.manual_seed(0)
    if case == "batched":  # a Linear over (batch, 3, 4): called as an op, not written out
        return nn.Sequential(nn.Linear(4, 6), nn.Sigmoid(), nn.Flatten(), nn.Linear(18, 4))
    act = {"relu": nn.ReLU, "tanh": nn.Tanh}.get(case, nn.Sigmoid)
    return nn.Sequential(nn.Flatten(), nn.Linear(12, 9), act(),
                         nn.Linear(9, 7, bias=False), nn.Sigmoid(), nn.Linear(7, 4))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", ["mean", "sum", "ignore_0", "batched", "relu", "tanh"])
def test_written_out_ops_match_eager_bit_for_bit(dtype: type, case: str) -> None:
    """compile_inline's lines for Linear, the activations and cross entropy give eager's numbers,
    also in a batch past e^x's overflow limit (sigmoid's other branch) and in batches with
    an ignored label (cross entropy's own forward and backward, within the replay)."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(6, 8, 3, 4)).astype(dtype)
    X[3] *= 1e4
    Y = rng.integers(0, 4, (6, 8))
    ignore = 0 if case == "ignore_0" else -100
    Y[4, 2] = ignore
    runs = []
    for compiled in (False, True):
        model = _written_out_net(case)
        if dtype is np.float64:
            model = model.double()
        loss_fn = nn.CrossEntropyLoss(reduction="sum" if case == "sum" else "mean",
                                      ignore_index=ignore)
        opt = cr.optim.SGD(model.parameters(), lr=0.05)
        step = cr.compile(model, loss_fn, opt)
        losses = [_one_step(step if compiled else None, model, loss_fn, opt,
                            cr.tensor(X[i % 6]), cr.tensor(Y[i % 6])) for i in range(12)]
        runs.append((losses, [p.detach().numpy().copy() for p in model.parameters()]))
    (eager_losses, eager_weights), (losses, weights) = runs
    assert losses == eager_losses
    assert all(np.array_equal(a, b) for a, b in zip(eager_weights, weights, strict=True))
    assert step.stats["replayed"] == 10, step.reasons
    source = next(iter(step.ready.values())).source
    assert "np.exp(" in source and "np.subtract.at(" in source  # sigmoid, cross entropy
    first_linear = "F0(" if case == "batched" else "F1("  # (after Flatten, op 0)
    assert (first_linear in source) == (case == "batched")  # called, or written out
