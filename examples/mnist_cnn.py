"""A small CNN written the PyTorch way: PyTorch's own MNIST example, with chainrule's names.

The network and the train/test functions are those of PyTorch's ``examples/mnist/main.py``
(``nn.Conv2d(1, 32, 3, 1)``, ``F.max_pool2d``, ``torch.flatten(x, 1)``, ``F.log_softmax``,
``F.nll_loss``, ``output.argmax(dim=1, keepdim=True)``, ``pred.eq(target.view_as(pred))``)
with ``torch`` spelled ``cr``. Two things differ: the data comes from chainrule's own MNIST
(no torchvision; its images are (N, 28, 28), so the loop adds the channel dim with
``unsqueeze(1)``), and the optimizer is SGD with momentum (chainrule has no Adadelta,
which PyTorch's example uses).

Run:  python examples/mnist_cnn.py [--quick] [--epochs N]
"""

from __future__ import annotations

import time
from typing import Any

import _common as common

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn, optim
from chainrule.optim.lr_scheduler import StepLR


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x: Any) -> Any:
        x = self.conv1(x)
        x = F.relu(x)
        x = self.conv2(x)
        x = F.relu(x)
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = cr.flatten(x, 1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.dropout2(x)
        x = self.fc2(x)
        output = F.log_softmax(x, dim=1)
        return output


def train(model: Net, train_loader: Any, optimizer: Any, epoch: int,
          log_interval: int = 100) -> None:
    model.train()
    for batch_idx, (data, target) in enumerate(train_loader):
        data = data.unsqueeze(1)  # (N, 28, 28) -> (N, 1, 28, 28): torchvision gives the latter
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        if batch_idx % log_interval == 0:
            print(f"Train Epoch: {epoch} [{batch_idx * len(data)}/{len(train_loader.dataset)}"
                  f" ({100.0 * batch_idx / len(train_loader):.0f}%)]\tLoss: {loss.item():.6f}")


def test(model: Net, test_loader: Any) -> float:
    model.eval()
    test_loss = 0.0
    correct = 0
    with cr.no_grad():
        for data, target in test_loader:
            output = model(data.unsqueeze(1))
            test_loss += F.nll_loss(output, target, reduction="sum").item()
            pred = output.argmax(dim=1, keepdim=True)
            correct += pred.eq(target.view_as(pred)).sum().item()
    test_loss /= len(test_loader.dataset)
    accuracy = correct / len(test_loader.dataset)
    print(f"\nTest set: Average loss: {test_loss:.4f}, Accuracy: {correct}/"
          f"{len(test_loader.dataset)} ({100.0 * accuracy:.0f}%)\n")
    return accuracy


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = common.parser(__doc__)
    p.add_argument("--epochs", type=int, default=None, help="default 1 (--quick: 1 on "
                   "2,000 images of mini-MNIST, tested on 500)")
    args = p.parse_args(argv)
    cr.manual_seed(1)
    train_set, test_set, name = common.mnist(args.quick)
    test_batch = 1000
    if args.quick:  # slices of mini-MNIST: seconds on two cores
        train_set = cr.data.Subset(train_set, range(2000))
        test_set, test_batch = cr.data.Subset(test_set, range(500)), 500
    train_loader = cr.data.DataLoader(train_set, batch_size=64, shuffle=True,
                                      generator=cr.Generator(1))
    test_loader = cr.data.DataLoader(test_set, batch_size=test_batch)
    model = Net()
    optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    scheduler = StepLR(optimizer, step_size=1, gamma=0.7)
    epochs = args.epochs or 1
    start = time.perf_counter()
    accuracy = 0.0
    for epoch in range(1, epochs + 1):
        train(model, train_loader, optimizer, epoch)
        accuracy = test(model, test_loader)
        scheduler.step()
    print(f"{name}: {len(train_set):,} training images, {epochs} epoch(s), "
          f"{model.num_parameters():,} parameters, test accuracy {accuracy:.2%}, "
          f"{time.perf_counter() - start:.0f}s")
    assert model.num_parameters() == 1_199_882  # as PyTorch's example prints
    assert accuracy > (0.6 if args.quick else 0.97), accuracy  # 32 steps: it learns
    return {"accuracy": accuracy, "parameters": model.num_parameters()}


if __name__ == "__main__":
    main()
