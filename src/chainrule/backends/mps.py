"""``torch.backends.mps``: Apple's GPU backend, which chainrule does not have.

>>> is_available(), is_built()
(False, False)
"""


def is_available() -> bool:
    """False: chainrule runs on the CPU (NumPy) or an NVIDIA GPU (CuPy) only."""
    return False


def is_built() -> bool:
    """False (see :func:`is_available`)."""
    return False
