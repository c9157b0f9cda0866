"""``torch.backends`` (``chainrule.backends``): the switches programs set, kept for them.

``backends.mps.is_available()`` is False (chainrule has no Apple GPU backend);
``backends.cudnn`` holds ``deterministic``, ``benchmark`` and ``enabled`` as plain settings
(chainrule's GPU path, CuPy, does not use cuDNN, so they change nothing);
``backends.cuda.matmul.allow_tf32`` likewise.

>>> import chainrule as torch
>>> torch.backends.cudnn.deterministic = True
>>> torch.backends.mps.is_available()
False
"""

from chainrule.backends import cuda, cudnn, mps

__all__ = ["cuda", "cudnn", "mps"]
