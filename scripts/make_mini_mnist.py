"""Build the embedded mini-MNIST (src/chainrule/data/mini_mnist/) from the real MNIST files.

The first 10,000 training and the first 2,000 test images of MNIST (LeCun, Cortes and
Burges), written as gzip IDX files. Run:  python scripts/make_mini_mnist.py ../shared/data/mnist
"""

import sys
from pathlib import Path

from chainrule.data.idx import read_idx_pair, write_idx

source = Path(sys.argv[1])
target = Path(__file__).resolve().parents[1] / "src" / "chainrule" / "data" / "mini_mnist"
target.mkdir(exist_ok=True)
for split, count in (("train", 10_000), ("t10k", 2_000)):
    images, labels = read_idx_pair(str(source / f"{split}-images-idx3-ubyte.gz"),
                                   str(source / f"{split}-labels-idx1-ubyte.gz"))
    write_idx(str(target / f"{split}-images-idx3-ubyte.gz"), images[:count])
    write_idx(str(target / f"{split}-labels-idx1-ubyte.gz"), labels[:count].astype("uint8"))
    counts = [int((labels[:count] == d).sum()) for d in range(10)]
    print(split, count, "images, label counts", counts)
