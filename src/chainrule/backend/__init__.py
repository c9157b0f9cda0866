"""The one backend seam: NumPy on the CPU, CuPy on a GPU (imported lazily)."""

from chainrule.backend.device import (
    Device,
    array_module,
    column_sums,
    cuda_available,
    get_device,
    largest,
    row_sums,
    smallest,
    to_device,
    writeable,
)

__all__ = ["Device", "array_module", "column_sums", "cuda_available", "get_device",
           "largest", "row_sums", "smallest", "to_device", "writeable"]
