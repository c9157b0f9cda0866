"""``torch.backends.cudnn``: settings programs assign (``deterministic = True``), kept here.

chainrule's GPU path (CuPy) does not use cuDNN, so the settings change nothing; they exist
so that PyTorch programs that set them run unchanged.

>>> import chainrule as torch
>>> torch.backends.cudnn.benchmark = True; torch.backends.cudnn.is_available()
False
"""

enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    """False: no operation of chainrule calls cuDNN."""
    return False


def version() -> None:
    """None: cuDNN is not used."""
    return None
