"""Shared fixtures: where the real data lives, and a clean global state per test."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

import chainrule as cr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples"))


@pytest.fixture
def mnist_dir() -> Path:
    """``$CHAINRULE_DATA/mnist`` with the four IDX files, or skip the test cleanly."""
    base = os.environ.get("CHAINRULE_DATA")
    if not base:
        pytest.skip("CHAINRULE_DATA is not set: real MNIST not available")
    path = Path(base) / "mnist"
    if not (path / "train-images-idx3-ubyte.gz").exists():
        pytest.skip(f"no MNIST files in {path}")
    return path


@pytest.fixture(autouse=True)
def _reset_global_state() -> None:
    cr.manual_seed(0)
    cr.set_default_dtype(cr.float32)
    cr.set_grad_enabled(True)
    cr.autograd.set_detect_anomaly(False)
