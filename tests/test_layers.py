"""Layers and activation modules against torch (float64) and finite differences."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn

from nnref import compare_module, torch

pytestmark = pytest.mark.skipif(torch is None, reason="torch oracle not installed")

RNG = np.random.default_rng(0)


def _x(*shape: int) -> np.ndarray:
    return RNG.normal(size=shape)


CASES = [
    ("linear", lambda: nn.Linear(5, 3), lambda: torch.nn.Linear(5, 3), (4, 5)),
    ("linear_3d", lambda: nn.Linear(5, 3), lambda: torch.nn.Linear(5, 3), (2, 4, 5)),
    ("linear_nobias", lambda: nn.Linear(5, 3, bias=False),
     lambda: torch.nn.Linear(5, 3, bias=False), (4, 5)),
    ("sigmoid", nn.Sigmoid, torch.nn.Sigmoid, (4, 5)),
    ("tanh", nn.Tanh, torch.nn.Tanh, (4, 5)),
    ("relu", nn.ReLU, torch.nn.ReLU, (4, 5)),
    ("leaky_relu", lambda: nn.LeakyReLU(0.1), lambda: torch.nn.LeakyReLU(0.1), (4, 5)),
    ("prelu_shared", nn.PReLU, torch.nn.PReLU, (4, 5)),
    ("prelu_channels", lambda: nn.PReLU(5, 0.1), lambda: torch.nn.PReLU(5, 0.1), (4, 5)),
    ("elu", nn.ELU, torch.nn.ELU, (4, 5)),
    ("gelu", nn.GELU, torch.nn.GELU, (4, 5)),
    ("softplus", nn.Softplus, torch.nn.Softplus, (4, 5)),
    ("softmax", lambda: nn.Softmax(1), lambda: torch.nn.Softmax(1), (4, 5)),
    ("log_softmax", lambda: nn.LogSoftmax(1), lambda: torch.nn.LogSoftmax(1), (4, 5)),
    ("flatten", nn.Flatten, torch.nn.Flatten, (2, 3, 4)),
    ("identity", nn.Identity, torch.nn.Identity, (2, 3)),
    ("layernorm", lambda: nn.LayerNorm(5), lambda: torch.nn.LayerNorm(5), (4, 5)),
    ("batchnorm_train", lambda: nn.BatchNorm1d(5), lambda: torch.nn.BatchNorm1d(5), (6, 5)),
    ("batchnorm_3d", lambda: nn.BatchNorm1d(3), lambda: torch.nn.BatchNorm1d(3), (4, 3, 2)),
    ("sequential", lambda: nn.Sequential(nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 2)),
     lambda: torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.Tanh(),
                                 torch.nn.Linear(4, 2)), (3, 5)),
]


@pytest.mark.parametrize(("name", "ours", "theirs", "shape"), CASES, ids=[c[0] for c in CASES])
def test_layer_matches_torch(name: str, ours, theirs, shape) -> None:  # type: ignore[no-untyped-def]
    compare_module(ours(), theirs(), _x(*shape))


@pytest.mark.parametrize(("name", "ours", "theirs", "shape"), CASES, ids=[c[0] for c in CASES])
def test_layer_gradcheck(name: str, ours, theirs, shape) -> None:  # type: ignore[no-untyped-def]
    module = ours().double()
    params = list(module.parameters())
    x = cr.tensor(_x(*shape), requires_grad=True)

    def run(x: cr.Tensor, *ps: cr.Tensor) -> cr.Tensor:
        return module(x)

    assert cr.gradcheck(run, (x, *params), atol=1e-6, rtol=1e-4)


def test_embedding_matches_torch_with_padding_and_repeats() -> None:
    ours = nn.Embedding(6, 3, padding_idx=0)
    theirs = torch.nn.Embedding(6, 3, padding_idx=0)
    compare_module(ours, theirs, np.array([[1, 0, 1], [5, 2, 1]]))
    assert not ours.weight.grad.numpy()[0].any()


def test_maxout_picks_the_largest_piece() -> None:
    layer = nn.Maxout(4, 3, pieces=5).double()
    x = cr.tensor(_x(2, 4), requires_grad=True)
    y = layer(x)
    z = (x.detach().numpy() @ layer.linear.weight.detach().numpy().T
         + layer.linear.bias.detach().numpy()).reshape(2, 3, 5)
    np.testing.assert_allclose(y.detach().numpy(), z.max(axis=-1))
    assert cr.gradcheck(lambda t: layer(t), (x,))


def test_batchnorm_running_stats_and_eval_match_torch() -> None:
    ours, theirs = nn.BatchNorm1d(4).double(), torch.nn.BatchNorm1d(4).double()
    for step in range(3):
        x = _x(8, 4) * (step + 1) + step
        ours(cr.tensor(x))
        theirs(torch.tensor(x))
    np.testing.assert_allclose(ours.running_mean.numpy(), theirs.running_mean.numpy(),
                               rtol=1e-12)
    np.testing.assert_allclose(ours.running_var.numpy(), theirs.running_var.numpy(), rtol=1e-12)
    assert int(ours.num_batches_tracked.item()) == 3
    ours.eval()
    theirs.eval()
    compare_module(ours, theirs, _x(5, 4))



def test_batchnorm_momentum_none_is_the_cumulative_average_like_torch() -> None:
    ours = nn.BatchNorm1d(3, momentum=None).double()
    theirs = torch.nn.BatchNorm1d(3, momentum=None).double()
    for step in range(4):
        x = _x(6, 3) * (step + 2) - step
        ours(cr.tensor(x))
        theirs(torch.tensor(x))
    np.testing.assert_allclose(ours.running_mean.numpy(), theirs.running_mean.numpy(),
                               rtol=1e-12)
    np.testing.assert_allclose(ours.running_var.numpy(), theirs.running_var.numpy(), rtol=1e-12)


@pytest.mark.parametrize(("ours", "theirs", "what"), [
    (lambda: nn.BatchNorm1d(3), lambda: torch.nn.BatchNorm1d(3), "weight"),
    (lambda: nn.BatchNorm1d(3, affine=False), lambda: torch.nn.BatchNorm1d(3, affine=False),
     "running mean"),
    (lambda: nn.LayerNorm(3), lambda: torch.nn.LayerNorm(3), "weight"),
])
def test_norm_layers_reject_another_dtype_like_torch(ours, theirs, what: str  # type: ignore[no-untyped-def]
                                                     ) -> None:
    with pytest.raises(RuntimeError, match="mixed dtype"):
        theirs()(torch.ones(4, 3, dtype=torch.float64))
    model = nn.Sequential(ours())
    with pytest.raises(nn.DtypeError, match=f"'0' got input of dtype float64, but its {what} "
                       "is float32. Fix: convert the input with x.float()"):
        model(cr.ones(4, 3, dtype=cr.float64))
    # without a weight or running statistics there is nothing to disagree with (as torch)
    free = nn.BatchNorm1d(3, affine=False, track_running_stats=False)
    assert free(cr.ones(4, 3, dtype=cr.float64)).dtype == np.float64


def test_dropout_is_inverted_deterministic_and_off_in_eval() -> None:
    layer = nn.Dropout(0.25)
    x = cr.ones(1000)
    cr.manual_seed(11)
    a = layer(x).numpy().copy()
    cr.manual_seed(11)
    b = layer(x).numpy().copy()
    assert np.array_equal(a, b)
    assert set(np.unique(a)) == {0.0, np.float32(1 / 0.75)}
    assert 0.2 < (a == 0).mean() < 0.3
    layer.eval()
    assert np.array_equal(layer(x).numpy(), x.numpy())


def test_default_init_matches_pytorch_ranges() -> None:
    layer = nn.Linear(400, 30)
    bound = 1 / np.sqrt(400)
    w = layer.weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert np.abs(layer.bias.detach().numpy()).max() <= bound


@pytest.mark.parametrize("dtype", ["float64", "int64", "float16"])
def test_linear_rejects_another_dtype_like_torch(dtype: str) -> None:
    """NumPy would promote (a float64 input made a float32 model's output float64); PyTorch
    raises RuntimeError: so do we, naming the layer, both dtypes and the fix."""
    with pytest.raises(RuntimeError, match="must have the same dtype"):
        torch.nn.Linear(4, 2)(torch.ones(3, 4, dtype=getattr(torch, dtype)))
    model = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2))
    with pytest.raises(nn.layers.DtypeError) as err:
        model(cr.ones(3, 4).to(getattr(cr, dtype)))
    assert isinstance(err.value, RuntimeError) and isinstance(err.value, TypeError)
    assert err.value.module is model[0]
    message = str(err.value)
    assert f"Linear '0' got input of dtype {dtype}, but its weight is float32" in message
    assert "Fix: convert the input with x.float()" in message
    assert ("or the model with model.double()" in message) == (dtype == "float64")


def test_linear_dtype_checks_with_a_float64_model() -> None:
    layer = nn.Linear(4, 2).double()
    assert layer(cr.ones(3, 4, dtype=cr.float64)).dtype == np.float64
    assert layer(np.ones((3, 4))).dtype == np.float64  # a raw array is checked too
    with pytest.raises(nn.layers.DtypeError, match="got input of dtype float32"):
        layer(np.ones((3, 4), np.float32))
    with pytest.raises(nn.layers.DtypeError, match=r"Linear\(in_features=4, out_features=2, "
                       r"bias=True\) got input of dtype float32, but its weight is float64. "
                       r"Fix: convert the input with x.double\(\), or the model with "
                       r"model.float\(\)"):
        layer(cr.ones(3, 4))


def test_bare_linear_shape_error_names_no_previous_layer() -> None:
    with pytest.raises(nn.ShapeError) as err:
        nn.Linear(4, 2)(cr.ones(3, 5))
    message = str(err.value)
    assert message == ("Linear(in_features=4, out_features=2, bias=True) expected input "
                       "(*, 4), got (3, 5): the input has 5 features. Fix: give it inputs "
                       "with 4 features, or build it with in_features=5")
    with pytest.raises(nn.ShapeError, match=r"Linear '2' expected input \(\*, 4\), got "
                       r"\(3, 3\): .* \(previous layer: '0' Linear\(in_features=4, "
                       "out_features=3"):
        nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(4, 2))(cr.ones(3, 4))


def test_linear_on_a_single_number_says_it_needs_a_dimension() -> None:
    with pytest.raises(RuntimeError, match="need to be at least 1D"):
        torch.nn.Linear(4, 2)(torch.tensor(1.0))
    with pytest.raises(nn.ShapeError) as err:
        nn.Linear(4, 2)(cr.tensor(1.0))
    assert str(err.value) == (
        "Linear(in_features=4, out_features=2, bias=True) expected input (*, 4), got a 0-d "
        "tensor (a single number, shape ()): it needs at least 1 dimension, the last holding "
        "the 4 features. Fix: give it shape (4,) or (batch, 4)")
    with pytest.raises(nn.ShapeError, match=r"Linear '1' .* 0-d .* x.reshape\(1, 1\)"):
        nn.Sequential(nn.Identity(), nn.Linear(1, 2))(cr.tensor(1.0))


@pytest.mark.parametrize("value", ["abc", [1.0, 2.0, 3.0, 4.0], None, 3.0])
def test_linear_on_a_non_array_is_a_type_error_like_torch(value: object) -> None:
    with pytest.raises(TypeError, match="must be Tensor"):
        torch.nn.Linear(4, 2)(value)
    with pytest.raises(TypeError) as err:
        nn.Sequential(nn.Linear(4, 2))(value)
    assert str(err.value).startswith(
        f"Linear '0' expected a Tensor (or a NumPy array) of shape (*, 4), got "
        f"{type(value).__name__} {value!r}. Fix: pass a Tensor"), str(err.value)


def test_linear_without_input_features_matches_torch() -> None:
    """in_features=0: an empty weight, a zero bias (PyTorch's bound 1/sqrt(0) is taken as
    0), outputs equal to the bias and gradients of the right (empty) shapes."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning from our init (PyTorch warns: a no-op)
        ours = nn.Linear(0, 2).double()
    with pytest.warns(UserWarning, match="zero-element tensors is a no-op"):
        theirs = torch.nn.Linear(0, 2).double()
    assert ours.weight.shape == tuple(theirs.weight.shape) == (2, 0)
    assert np.array_equal(ours.bias.detach().numpy(), theirs.bias.detach().numpy())
    x = cr.tensor(np.ones((3, 0)), requires_grad=True)
    tx = torch.ones(3, 0, dtype=torch.float64, requires_grad=True)
    y, ty = ours(x), theirs(tx)
    np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
    (y * cr.tensor([[1.0, 2.0]])).sum().backward()
    (ty * torch.tensor([[1.0, 2.0]], dtype=torch.float64)).sum().backward()
    assert theirs.bias.grad is not None and theirs.weight.grad is not None
    np.testing.assert_array_equal(ours.bias.grad.numpy(), theirs.bias.grad.numpy())
    assert ours.weight.grad.shape == (2, 0) and x.grad.shape == (3, 0)
