"""The one backend seam: NumPy on the CPU, CuPy on a GPU (imported lazily)."""

from chainrule.backend.device import (
    Device,
    array_module,
    cuda_available,
    get_device,
    reduce_max,
    reduce_min,
    reduce_sum,
    to_device,
)

__all__ = ["Device", "array_module", "cuda_available", "get_device", "reduce_max", "reduce_min",
           "reduce_sum", "to_device"]
