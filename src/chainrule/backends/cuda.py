"""``torch.backends.cuda``: ``matmul.allow_tf32`` and ``is_built()``, kept for programs.

>>> import chainrule as torch
>>> torch.backends.cuda.matmul.allow_tf32 = True
"""

from chainrule.backend.device import cuda_available


class _MatmulSettings:
    """``allow_tf32``: assignable; CuPy's matrix products are computed in full float32."""

    allow_tf32 = False
    allow_fp16_reduced_precision_reduction = True


matmul = _MatmulSettings()


def is_built() -> bool:
    """True when CUDA is usable through CuPy."""
    return cuda_available()
