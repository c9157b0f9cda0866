"""chainrule's generator against PyTorch's CPU generator: same seed, same bits.

One table of draws (each a chainrule call and the PyTorch call it stands for), run for
seeds 0..9 and sizes 1, 2, 15, 16, 17, 100, 1000 and 10**5 (normals switch algorithm at 16
elements; bernoulli_, dropout and exponential_ included), then the draws a program makes
without asking: ``nn.Linear``'s initial weights,
a DataLoader's shuffle, ``random_split`` and the stream position each leaves behind.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from tests.nnref import torch

import chainrule as cr
from chainrule import random_draws

pytestmark = pytest.mark.skipif(torch is None, reason="torch is not installed")

SEEDS = range(10)
SIZES = (1, 2, 15, 16, 17, 100, 1000, 10**5)


def _pair(ours: Callable[[int], Any], theirs: Callable[[int], Any]) -> tuple[Any, Any]:
    return ours, theirs


def _np(x: Any) -> np.ndarray:
    return np.asarray(x.detach().numpy() if hasattr(x, "detach") else x)


# name -> (chainrule draw of n values, PyTorch draw of n values)
DRAWS: dict[str, tuple[Callable[[int], Any], Callable[[int], Any]]] = {
    "rand": _pair(lambda n: cr.rand(n), lambda n: torch.rand(n)),
    "rand float64": _pair(lambda n: cr.rand(n, dtype=cr.float64),
                          lambda n: torch.rand(n, dtype=torch.float64)),
    "randn": _pair(lambda n: cr.randn(n), lambda n: torch.randn(n)),
    "randn float64": _pair(lambda n: cr.randn(n, dtype=cr.float64),
                           lambda n: torch.randn(n, dtype=torch.float64)),
    "randn 2-D": _pair(lambda n: cr.randn(n, 3), lambda n: torch.randn(n, 3)),
    "rand_like": _pair(lambda n: cr.rand_like(cr.zeros(n)), lambda n: torch.rand_like(
        torch.zeros(n))),
    "randn_like float64": _pair(lambda n: cr.randn_like(cr.zeros(n, dtype=cr.float64)),
                                lambda n: torch.randn_like(torch.zeros(n, dtype=torch.float64))),
    "randint": _pair(lambda n: cr.randint(-5, 7, (n,)), lambda n: torch.randint(-5, 7, (n,))),
    "randint 2**40": _pair(lambda n: cr.randint(0, 2**40, (n,)),
                           lambda n: torch.randint(0, 2**40, (n,))),
    "randperm": _pair(lambda n: cr.randperm(n), lambda n: torch.randperm(n)),
    "uniform_": _pair(lambda n: cr.nn.init.uniform_(cr.empty(n), -0.3, 0.7),
                      lambda n: torch.empty(n).uniform_(-0.3, 0.7)),
    "uniform_ float64": _pair(
        lambda n: cr.nn.init.uniform_(cr.empty(n, dtype=cr.float64), 2.5, 7.1),
        lambda n: torch.empty(n, dtype=torch.float64).uniform_(2.5, 7.1)),
    "normal_": _pair(lambda n: cr.nn.init.normal_(cr.empty(n), 0.5, 0.3),
                     lambda n: torch.empty(n).normal_(0.5, 0.3)),
    "normal_ float64": _pair(
        lambda n: cr.nn.init.normal_(cr.empty(n, dtype=cr.float64), -2.0, 7.3),
        lambda n: torch.empty(n, dtype=torch.float64).normal_(-2.0, 7.3)),
    "random_ int64": _pair(
        lambda n: random_draws.random_int64(cr.random.default_generator, (n,)),
        lambda n: torch.empty(n, dtype=torch.int64).random_()),
    "bernoulli(p tensor)": _pair(
        lambda n: random_draws.bernoulli(cr.random.default_generator,
                                         np.linspace(0, 1, n, dtype=np.float32), (n,)),
        lambda n: torch.bernoulli(torch.linspace(0, 1, n))),
    "bernoulli(p float64)": _pair(
        lambda n: random_draws.bernoulli(cr.random.default_generator,
                                         np.linspace(0, 1, n), (n,), np.float64),
        lambda n: torch.bernoulli(torch.linspace(0, 1, n, dtype=torch.float64))),
    # A number p: one float64 uniform per element, whatever the dtype (torch 2.13's CPU
    # wheel draws it from the Mersenne Twister, not from MKL's VSL stream).
    "bernoulli_(0.3)": _pair(lambda n: cr.empty(n).bernoulli_(0.3),
                             lambda n: torch.empty(n).bernoulli_(0.3)),
    "bernoulli_(0.8) float64": _pair(lambda n: cr.empty(n, dtype=cr.float64).bernoulli_(0.8),
                                     lambda n: torch.empty(n, dtype=torch.float64).bernoulli_(0.8)),
    "bernoulli_ int64": _pair(lambda n: cr.zeros(n, dtype=cr.int64).bernoulli_(0.5),
                              lambda n: torch.zeros(n, dtype=torch.int64).bernoulli_(0.5)),
    "bernoulli_ bool": _pair(lambda n: cr.zeros(n, dtype=cr.bool).bernoulli_(0.1),
                             lambda n: torch.zeros(n, dtype=torch.bool).bernoulli_(0.1)),
    "bernoulli_(p tensor)": _pair(
        lambda n: cr.empty(n).bernoulli_(cr.full((n,), 0.4)),
        lambda n: torch.empty(n).bernoulli_(torch.full((n,), 0.4))),
    "bernoulli(input, p)": _pair(lambda n: cr.bernoulli(cr.zeros(n, 2), 0.7),
                                 lambda n: torch.bernoulli(torch.zeros(n, 2), 0.7)),
    "bernoulli(input)": _pair(lambda n: cr.bernoulli(cr.full((n,), 0.25)),
                              lambda n: torch.bernoulli(torch.full((n,), 0.25))),
    "dropout": _pair(lambda n: cr.nn.functional.dropout(cr.full((n,), 1.7), 0.2),
                     lambda n: torch.nn.functional.dropout(torch.full((n,), 1.7), 0.2)),
    "nn.Dropout(0.5) 2-D": _pair(lambda n: cr.nn.Dropout(0.5)(cr.full((n, 3), -0.3)),
                                 lambda n: torch.nn.Dropout(0.5)(torch.full((n, 3), -0.3))),
    "dropout2d": _pair(lambda n: cr.nn.functional.dropout2d(cr.ones(2, n, 2, 2), 0.3),
                       lambda n: torch.nn.functional.dropout2d(torch.ones(2, n, 2, 2), 0.3)),
    "exponential_": _pair(lambda n: cr.empty(n).exponential_(),
                          lambda n: torch.empty(n).exponential_()),
    "exponential_(2.5) float64": _pair(
        lambda n: cr.empty(n, dtype=cr.float64).exponential_(2.5),
        lambda n: torch.empty(n, dtype=torch.float64).exponential_(2.5)),
}


@pytest.mark.parametrize("name", list(DRAWS))
def test_draws_are_bit_identical_to_torch(name: str) -> None:
    ours, theirs = DRAWS[name]
    for seed in SEEDS:
        for n in SIZES:
            cr.manual_seed(seed)
            torch.manual_seed(seed)
            for turn in range(2):  # the second draw checks where the first left the stream
                a, b = _np(ours(n)), _np(theirs(n))
                assert a.dtype == b.dtype, (name, seed, n)
                assert np.array_equal(a, b), (f"{name}: seed {seed}, size {n}, draw {turn}: "
                                              f"{int((a != b).sum())} of {a.size} differ")
            after = float(torch.rand(()))
            assert float(cr.rand(()).item()) == after, (name, seed, n)


def test_small_normals_keep_the_sine_for_the_next_draw_in_the_state() -> None:
    cr.manual_seed(3)
    torch.manual_seed(3)
    assert np.array_equal(_np(cr.randn(1, dtype=cr.float64)),
                          torch.randn(1, dtype=torch.float64).numpy())
    state = cr.get_rng_state()
    assert state["next_double_normal"] is not None
    following = torch.randn(3, dtype=torch.float64).numpy()
    assert np.array_equal(_np(cr.randn(3, dtype=cr.float64)), following)
    cr.set_rng_state(state)  # the kept sine comes back with the state
    assert np.array_equal(_np(cr.randn(3, dtype=cr.float64)), following)


@pytest.mark.parametrize("seed", [0, 1, 7, 2**32 + 5, 2**63 + 11])
def test_linear_784_16_and_conv2d_start_from_torchs_weights(seed: int) -> None:
    cr.manual_seed(seed)
    torch.manual_seed(seed)
    for ours, theirs in ((cr.nn.Linear(784, 16), torch.nn.Linear(784, 16)),
                         (cr.nn.Conv2d(3, 8, 5), torch.nn.Conv2d(3, 8, 5))):
        assert np.array_equal(_np(ours.weight), _np(theirs.weight))
        assert np.array_equal(_np(ours.bias), _np(theirs.bias))
    assert cr.initial_seed() == torch.initial_seed()


@pytest.mark.parametrize("init", ["xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
                                  "kaiming_normal_", "sparse_"])
def test_nn_init_matches_torch(init: str) -> None:
    args = (0.3,) if init == "sparse_" else ()
    for seed in range(3):
        cr.manual_seed(seed)
        torch.manual_seed(seed)
        ours = getattr(cr.nn.init, init)(cr.empty(40, 30), *args)
        theirs = getattr(torch.nn.init, init)(torch.empty(40, 30), *args)
        assert np.array_equal(_np(ours), theirs.numpy()), (init, seed)


def _torch_order(n: int, batch_size: int, generator: Any = None) -> list[int]:
    loader = torch.utils.data.DataLoader(list(range(n)), batch_size=batch_size, shuffle=True,
                                         generator=generator)
    return [int(i) for batch in loader for i in batch]


def _our_order(n: int, batch_size: int, generator: Any = None) -> list[int]:
    dataset = cr.data.TensorDataset(np.arange(n))
    loader = cr.data.DataLoader(dataset, batch_size=batch_size, shuffle=True,
                                generator=generator)
    return [int(i) for (batch,) in loader for i in batch.numpy()]


@pytest.mark.parametrize("own_generator", [False, True])
def test_dataloader_shuffles_60000_items_in_torchs_order(own_generator: bool) -> None:
    cr.manual_seed(0)
    torch.manual_seed(0)
    ours_gen = cr.Generator().manual_seed(5) if own_generator else None
    theirs_gen = torch.Generator().manual_seed(5) if own_generator else None
    for _epoch in range(2):
        assert _our_order(60000, 64, ours_gen) == _torch_order(60000, 64, theirs_gen)
    assert float(cr.rand(()).item()) == float(torch.rand(()))


def test_random_split_matches_torch() -> None:
    for seed in range(3):
        cr.manual_seed(seed)
        torch.manual_seed(seed)
        ours = cr.data.random_split(list(range(1000)), [0.2, 0.3, 0.5])
        theirs = torch.utils.data.random_split(range(1000), [0.2, 0.3, 0.5])
        assert [list(map(int, s.indices)) for s in ours] == [list(s.indices) for s in theirs]


def test_bernoulli_and_exponential_do_not_depend_on_torchs_thread_count() -> None:
    """PyTorch's MKL build splits an MKL-drawn fill across threads; these fills come from
    its Mersenne Twister instead, so 1 thread and 2 give the numbers chainrule gives."""
    threads = torch.get_num_threads()
    try:
        for count in (1, 2):
            torch.set_num_threads(count)
            torch.manual_seed(6)
            theirs = [torch.empty(20000).bernoulli_(0.3), torch.empty(20000).exponential_(),
                      torch.nn.functional.dropout(torch.ones(20000), 0.1)]
            cr.manual_seed(6)
            ours = [cr.empty(20000).bernoulli_(0.3), cr.empty(20000).exponential_(),
                    cr.nn.functional.dropout(cr.ones(20000), 0.1)]
            for a, b in zip(ours, theirs, strict=True):
                assert np.array_equal(_np(a), b.numpy()), count
    finally:
        torch.set_num_threads(threads)


def _mlp_losses(lib: Any, dropout: float = 0.0) -> list[float]:
    """The tutorials' program: seed, a 784-16-16-10 MLP (with dropout after each hidden
    layer when ``dropout`` > 0), a few SGD steps on fixed data."""
    lib.manual_seed(0)

    def drop() -> list[Any]:
        return [lib.nn.Dropout(dropout)] if dropout else []

    model = lib.nn.Sequential(lib.nn.Linear(784, 16), lib.nn.ReLU(), *drop(),
                              lib.nn.Linear(16, 16), lib.nn.ReLU(), *drop(),
                              lib.nn.Linear(16, 10))
    images, labels = lib.rand(64, 784), lib.randint(0, 10, (64,))
    optimizer = lib.optim.SGD(model.parameters(), lr=0.5)
    losses = []
    for _step in range(5):
        optimizer.zero_grad()
        loss = lib.nn.functional.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.item()))
    return losses


def test_the_tutorial_mlp_prints_torchs_losses() -> None:
    ours, theirs = _mlp_losses(cr), _mlp_losses(torch)
    assert len(set(ours)) == 5  # the losses move: the check below is not of constants
    np.testing.assert_allclose(ours, theirs, rtol=2e-6)


def test_the_tutorial_mlp_with_dropout_prints_torchs_losses() -> None:
    """nn.Dropout(0.2) in training mode draws the masks PyTorch draws, step after step."""
    ours, theirs = _mlp_losses(cr, 0.2), _mlp_losses(torch, 0.2)
    assert len(set(ours)) == 5
    np.testing.assert_allclose(ours, theirs, rtol=2e-6)
    assert float(cr.rand(()).item()) == float(torch.rand(()))  # the stream moved alike
