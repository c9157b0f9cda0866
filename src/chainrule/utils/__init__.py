"""PyTorch-shaped module paths (``torch.utils.data``): thin re-exports, no code of their own."""

from chainrule.utils import data

__all__ = ["data"]
