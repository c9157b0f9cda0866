"""detect_anomaly names the first op that makes a NaN/Inf, forward or backward."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import AnomalyError


def test_forward_nan_names_op_shapes_and_dtypes() -> None:
    x = cr.tensor([[1.0, -1.0]], requires_grad=True)
    with cr.detect_anomaly(), pytest.raises(AnomalyError) as err:
        cr.sqrt(x)
    message = str(err.value)
    assert message.startswith("Sqrt produced nan") and "(1, 2) float32" in message


def test_backward_inf_names_backward_node() -> None:
    x = cr.tensor([0.0, 1.0], requires_grad=True)
    with cr.detect_anomaly():
        y = cr.sqrt(x)  # finite forward, infinite gradient at 0
        with pytest.raises(AnomalyError, match="SqrtBackward returned inf"):
            y.sum().backward()


def test_module_path_is_reported() -> None:
    from chainrule.autograd import anomaly

    x = cr.tensor([-1.0])
    with cr.detect_anomaly(), pytest.raises(AnomalyError, match="in module 'layers.2'"):
        anomaly.push_module("layers.2")
        try:
            cr.log(x)
        finally:
            anomaly.pop_module()


def test_flag_form_and_off_by_default() -> None:
    x = cr.tensor([-1.0])
    assert np.isnan(cr.log(x).item())
    cr.autograd.set_detect_anomaly(True)
    try:
        with pytest.raises(AnomalyError):
            cr.log(x)
    finally:
        cr.autograd.set_detect_anomaly(False)
