"""Helpers to compare a chainrule module with its torch twin (float64, same weights)."""

from __future__ import annotations

from typing import Any

import numpy as np

import chainrule as cr

try:
    import torch
except ImportError:  # pragma: no cover
    torch = None


def copy_params(ours: Any, theirs: Any) -> None:
    """Copy chainrule parameters/buffers into a torch module by matching names."""
    state = {k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()}
    theirs.load_state_dict(state, strict=False)


def compare_module(ours: Any, theirs: Any, x: np.ndarray, seed: int = 0,
                   tol: float = 1e-10) -> None:
    """Forward values, input gradient and parameter gradients agree with torch."""
    ours.double()
    theirs.double()
    copy_params(ours, theirs)
    xc = cr.tensor(x, requires_grad=x.dtype.kind == "f")
    xt = torch.tensor(x, requires_grad=x.dtype.kind == "f")
    out, tout = ours(xc), theirs(xt)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=tol, atol=tol)
    gy = np.random.default_rng(seed).normal(size=tuple(tout.shape))
    out.backward(cr.tensor(gy))
    tout.backward(torch.tensor(gy))
    if x.dtype.kind == "f":
        np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), rtol=tol, atol=tol)
    theirs_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        tp = theirs_params[name]
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=tol, atol=tol,
                                   err_msg=f"gradient of {name}")
