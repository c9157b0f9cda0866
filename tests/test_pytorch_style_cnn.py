"""A small CNN written the PyTorch way runs under ``import chainrule as torch`` unchanged.

PROGRAM is PyTorch's MNIST example style (``nn.Conv2d(1, 32, 3, 1)``, ``F.max_pool2d``,
``torch.flatten(x, 1)``, ``F.log_softmax``, ``F.nll_loss``, ``DataLoader``, ``StepLR``,
``argmax(dim=1, keepdim=True)``, ``eq(view_as)``). It is executed twice with the same text:
once after PyTorch's imports and once after the same imports with ``torch`` spelled
``chainrule``. With the same starting weights both give the same test loss and gradients;
trained for an epoch, the chainrule program learns.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from chainrule.data import MiniMNIST

from nnref import torch

TORCH_IMPORTS = """
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.optim.lr_scheduler import StepLR
from torch.utils.data import DataLoader, TensorDataset
"""

PROGRAM = '''
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = self.conv1(x)
        x = F.relu(x)
        x = self.conv2(x)
        x = F.relu(x)
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.dropout2(x)
        x = self.fc2(x)
        output = F.log_softmax(x, dim=1)
        return output


def loaders(train_x, train_y, test_x, test_y):
    train_set = TensorDataset(torch.from_numpy(train_x), torch.from_numpy(train_y))
    test_set = TensorDataset(torch.from_numpy(test_x), torch.from_numpy(test_y))
    return (DataLoader(train_set, batch_size=64, shuffle=True),
            DataLoader(test_set, batch_size=1000))


def train(model, train_loader, optimizer, epoch):
    model.train()
    losses = []
    for batch_idx, (data, target) in enumerate(train_loader):
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if batch_idx % 10 == 0:
            print(f"Train Epoch: {epoch} [{batch_idx * len(data)}/{len(train_loader.dataset)}]"
                  f"\\tLoss: {loss.item():.6f}")
    return losses


def test(model, test_loader):
    model.eval()
    test_loss = 0
    correct = 0
    with torch.no_grad():
        for data, target in test_loader:
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction="sum").item()
            pred = output.argmax(dim=1, keepdim=True)
            correct += pred.eq(target.view_as(pred)).sum().item()
    test_loss /= len(test_loader.dataset)
    return test_loss, correct


def run(model, train_loader, test_loader, epochs):
    optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    scheduler = StepLR(optimizer, step_size=1, gamma=0.7)
    for epoch in range(1, epochs + 1):
        train(model, train_loader, optimizer, epoch)
        test_loss, correct = test(model, test_loader)
        scheduler.step()
    return test_loss, correct
'''


def _namespace(framework: str) -> dict[str, Any]:
    imports = TORCH_IMPORTS
    if framework == "chainrule":  # the only change: the imports
        imports = imports.replace("import torch\n", "import chainrule as torch\n")
        imports = imports.replace("torch.", "chainrule.")
    namespace: dict[str, Any] = {"__name__": f"pytorch_style_{framework}"}
    exec(compile(imports + PROGRAM, f"<{framework} program>", "exec"), namespace)
    return namespace


def _data(n_train: int, n_test: int) -> tuple[np.ndarray, ...]:
    def arrays(dataset: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
        x = np.asarray(dataset.images[:n], dtype=np.float32)[:, None] / 255.0
        x = (x - 0.1307) / 0.3081  # the example's Normalize
        return x.astype(np.float32), np.asarray(dataset.targets[:n], dtype=np.int64)

    return (*arrays(MiniMNIST(train=True), n_train), *arrays(MiniMNIST(train=False), n_test))


def test_the_imports_are_the_only_change() -> None:
    ns = _namespace("chainrule")
    assert ns["torch"].__name__ == "chainrule"
    assert ns["nn"].__name__ == "chainrule.nn"
    assert ns["F"].__name__ == "chainrule.nn.functional"
    assert ns["DataLoader"].__module__.startswith("chainrule.")
    assert ns["StepLR"].__module__.startswith("chainrule.")


@pytest.mark.skipif(torch is None, reason="torch oracle not installed")
def test_same_weights_give_pytorchs_test_loss_and_gradients() -> None:
    ours, theirs = _namespace("chainrule"), _namespace("torch")
    model, reference = ours["Net"](), theirs["Net"]()
    assert sum(p.numel() for p in model.parameters()) == 1_199_882  # as PyTorch prints
    model.load_state_dict({k: v.detach().numpy().copy()
                           for k, v in reference.state_dict().items()})
    data = _data(64, 300)
    loss, correct = ours["test"](model, ours["loaders"](*data)[1])
    ref_loss, ref_correct = theirs["test"](reference, theirs["loaders"](*data)[1])
    assert correct == ref_correct
    assert loss == pytest.approx(ref_loss, rel=1e-5)
    # one step's gradients in eval mode (dropout off: the two frameworks draw other masks)
    for net, fw in ((model, ours), (reference, theirs)):
        net.eval()
        x, y = fw["torch"].from_numpy(data[0]), fw["torch"].from_numpy(data[1])
        fw["F"].nll_loss(net(x), y).backward()
    ref_grads = dict(reference.named_parameters())
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), ref_grads[name].grad.numpy(),
                                   rtol=1e-3, atol=1e-6, err_msg=name)


def test_the_unchanged_program_trains() -> None:
    ns = _namespace("chainrule")
    ns["torch"].manual_seed(1)
    train_x, train_y, test_x, test_y = _data(1024, 500)
    train_loader, test_loader = ns["loaders"](train_x, train_y, test_x, test_y)
    model = ns["Net"]()
    before, _ = ns["test"](model, test_loader)
    test_loss, correct = ns["run"](model, train_loader, test_loader, epochs=1)
    assert test_loss < 0.6 * before, (before, test_loss)
    # 16 steps: PyTorch running the same text reaches 71% (356/500) and a test loss of 0.96
    assert correct / len(test_y) > 0.6, correct
