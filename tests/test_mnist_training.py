"""The tutorials' 784-16-16-10 sigmoid network learns real MNIST (skipped without the data)."""

from pathlib import Path

import numpy as np

import chainrule as cr
from chainrule import nn
from chainrule.data import DataLoader, TensorDataset, read_idx_pair


def _load(folder: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    images, labels = read_idx_pair(str(folder / f"{split}-images-idx3-ubyte.gz"),
                                   str(folder / f"{split}-labels-idx1-ubyte.gz"))
    return (images.reshape(len(images), -1) / 255.0).astype(np.float32), labels


def test_784_16_16_10_sigmoid_sgd_reaches_94_percent_in_5_epochs(mnist_dir: Path) -> None:
    x, y = _load(mnist_dir, "train")
    x_test, y_test = _load(mnist_dir, "t10k")
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 16), nn.Sigmoid(), nn.Linear(16, 16), nn.Sigmoid(),
                          nn.Linear(16, 10))
    assert model.num_parameters() == 13_002
    optimizer = cr.optim.SGD(model.parameters(), lr=0.5)
    loss_fn = nn.CrossEntropyLoss()
    loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True)
    for _ in range(5):
        for xb, yb in loader:
            optimizer.zero_grad()
            loss_fn(model(xb), yb).backward()
            optimizer.step()
    with cr.no_grad():
        accuracy = float((model(cr.tensor(x_test)).argmax(1).numpy() == y_test).mean())
    assert accuracy >= 0.94, f"test accuracy {accuracy:.4f}"
