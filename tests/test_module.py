"""Module: registration, traversal, state dicts, modes, hooks, printing, paths in errors."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn


class MLP(nn.Module):
    def __init__(self, sizes: list[int]) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for a, b in zip(sizes[:-1], sizes[1:], strict=True):
            layers += [nn.Linear(a, b), nn.Sigmoid()]
        self.layers = nn.Sequential(*layers[:-1])
        self.register_buffer("calls", cr.tensor(0))

    def forward(self, x: cr.Tensor) -> cr.Tensor:
        return self.layers(x)


@pytest.mark.parametrize(("sizes", "count"), [([784, 16, 16, 10], 13_002), ([3, 4, 2], 26),
                                              ([3, 4, 4, 1], 41)])
def test_parameter_counts(sizes: list[int], count: int) -> None:
    assert MLP(sizes).num_parameters() == count
    assert nn.num_parameters(MLP(sizes)) == count


def test_registration_and_dotted_names() -> None:
    model = MLP([3, 4, 2])
    names = [name for name, _ in model.named_parameters()]
    assert names == ["layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias"]
    assert [n for n, _ in model.named_modules()] == ["", "layers", "layers.0", "layers.1",
                                                     "layers.2"]
    assert len(list(model.children())) == 1 and len(list(model.modules())) == 5
    assert [n for n, _ in model.named_buffers()] == ["calls"]
    shared = nn.Linear(2, 2)
    twice = nn.Sequential(shared, shared)
    assert len(list(twice.parameters())) == 2  # shared parameters appear once


def test_assigning_plain_tensor_to_parameter_slot_is_an_error() -> None:
    layer = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="nn.Parameter"):
        layer.weight = cr.ones(2, 2)


def test_forgetting_super_init_is_explained() -> None:
    class Broken(nn.Module):
        def __init__(self) -> None:
            self.fc = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match="super\\(\\).__init__"):
        Broken()


def test_state_dict_round_trip_and_mismatch_errors() -> None:
    a, b = MLP([3, 4, 2]), MLP([3, 4, 2])
    b.load_state_dict(a.state_dict())
    x = cr.randn(5, 3)
    assert np.array_equal(a(x).detach().numpy(), b(x).detach().numpy())
    # own parameters and buffers first, then children's (PyTorch's order)
    assert list(a.state_dict()) == ["calls", "layers.0.weight", "layers.0.bias",
                                    "layers.2.weight", "layers.2.bias"]
    wrong = MLP([3, 5, 2])
    with pytest.raises(nn.StateDictError) as err:
        wrong.load_state_dict(a.state_dict())
    message = str(err.value)
    assert "layers.0.weight: checkpoint (4, 3) vs model (5, 3)" in message
    state = a.state_dict()
    state["extra.weight"] = cr.ones(1)
    del state["layers.2.bias"]
    with pytest.raises(nn.StateDictError) as err:
        b.load_state_dict(state)
    assert "missing keys: layers.2.bias" in str(err.value)
    assert "unexpected keys: extra.weight" in str(err.value)
    result = b.load_state_dict(state, strict=False)
    assert result.missing_keys == ["layers.2.bias"]


def test_train_eval_zero_grad_requires_grad_apply_to() -> None:
    model = MLP([3, 4, 2])
    model.eval()
    assert not any(m.training for m in model.modules())
    model.train()
    model(cr.randn(2, 3)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    model.requires_grad_(False)
    assert not any(p.requires_grad for p in model.parameters())
    seen: list[str] = []
    model.apply(lambda m: seen.append(type(m).__name__))
    assert seen[-1] == "MLP"
    model.to(cr.float64)
    assert all(p.dtype == np.float64 for p in model.parameters())
    assert model.calls.dtype == np.int64  # integer buffers keep their dtype


def test_forward_hooks() -> None:
    layer = nn.Linear(2, 3)
    seen = []
    handle = layer.register_forward_hook(lambda m, args, out: seen.append(out.shape))
    pre = layer.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    out = layer(cr.ones(4, 2))
    assert seen == [(4, 3)]
    np.testing.assert_allclose(out.detach().numpy(), np.broadcast_to(layer.bias.detach().numpy(),
                                                                      (4, 3)))
    handle.remove()
    pre.remove()
    layer(cr.ones(1, 2))
    assert len(seen) == 1


def test_repr_like_pytorch() -> None:
    model = nn.Sequential(nn.Linear(784, 16), nn.Sigmoid(), nn.Dropout(0.2))
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=784, out_features=16, bias=True)\n"
        "  (1): Sigmoid()\n"
        "  (2): Dropout(p=0.2, inplace=False)\n"
        ")"
    )


def test_summary_lists_layers_shapes_and_counts() -> None:
    text = nn.summary(MLP([784, 16, 16, 10]), (784,))
    assert "layers.0 (Linear)" in text and "(N, 16)" in text and "12,560" in text
    assert "Total params: 13,002" in text


def test_shape_error_names_module_path_and_previous_layer() -> None:
    model = MLP([784, 16, 16, 10])
    model.layers[2] = nn.Linear(16, 15)  # a typo in the hidden size
    with pytest.raises(nn.ShapeError) as err:
        model(cr.randn(32, 784))
    message = str(err.value)
    assert "Linear 'layers.4' expected input (*, 16), got (32, 15)" in message
    assert "previous layer: 'layers.2' Linear(in_features=16, out_features=15" in message


def test_anomaly_error_names_the_module_path() -> None:
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Identity(), nn.Linear(2, 2)))
    with cr.no_grad():
        model[1][1].weight.fill_(float("nan"))
    with cr.detect_anomaly(), pytest.raises(cr.autograd.AnomalyError, match="module '1.1'"):
        model(cr.ones(1, 2))


def test_other_layers_name_their_path_in_shape_errors() -> None:
    model = nn.Sequential(nn.Linear(4, 3), nn.LayerNorm(4))
    with pytest.raises(nn.ShapeError, match=r"LayerNorm '1' expected input \(\*, 4\), got"):
        model(cr.ones(2, 4))
    with pytest.raises(nn.ShapeError, match=r"BatchNorm1d '0' expected input \(N, 3\)"):
        nn.Sequential(nn.BatchNorm1d(3))(cr.ones(2, 4))


def test_attributes_always_show_what_the_registries_hold() -> None:
    lin = nn.Linear(3, 2)
    assert "weight" in vars(lin)  # found by a plain attribute lookup, without __getattr__
    new = nn.Parameter(cr.zeros(2, 3))
    lin.weight = new
    assert lin.weight is new and lin._parameters["weight"] is new
    with pytest.raises(TypeError):
        lin.weight = cr.ones(2, 3)  # type: ignore[assignment]
    assert lin.weight is new  # the failed assignment lost nothing
    lin.bias = None  # type: ignore[assignment]
    assert lin.bias is None and lin._parameters["bias"] is None
    del lin.weight
    assert not hasattr(lin, "weight") and "weight" not in lin._parameters

    lin.register_buffer("scale", cr.ones(2))
    lin.scale = cr.full((2,), 3.0)
    assert lin.scale.tolist() == [3.0, 3.0] and lin._buffers["scale"] is lin.scale

    lin.extra = 5  # a plain attribute becomes a parameter, and the other way round
    lin.extra = nn.Parameter(cr.ones(1))
    assert lin._parameters["extra"] is lin.extra
    lin.register_parameter("extra", None)
    assert lin.extra is None

    seq = nn.Sequential(nn.Linear(2, 2), nn.Tanh())
    relu = nn.ReLU()
    seq[1] = relu
    assert seq[1] is relu and getattr(seq, "1") is relu
    sub = nn.Module()
    sub.inner = nn.Linear(1, 1)
    sub.inner = None  # type: ignore[assignment]
    assert sub.inner is None and sub._modules["inner"] is None
    assert [name for name, _ in seq.named_parameters()] == ["0.weight", "0.bias"]
