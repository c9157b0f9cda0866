"""Automatic differentiation: graph recording, the backward engine, grad mode, checks."""

from chainrule.autograd import functional
from chainrule.autograd.anomaly import AnomalyError, detect_anomaly, set_detect_anomaly
from chainrule.autograd.api import grad
from chainrule.autograd.collector import set_gc_policy
from chainrule.autograd.function import Function, Node
from chainrule.autograd.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from chainrule.autograd.gradcheck import GradcheckError, gradcheck, gradgradcheck
from chainrule.autograd.traced import DoubleBackwardError
from chainrule.autograd.variable import Variable

__all__ = [
    "AnomalyError",
    "DoubleBackwardError",
    "Function",
    "GradcheckError",
    "Node",
    "Variable",
    "detect_anomaly",
    "enable_grad",
    "functional",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "is_grad_enabled",
    "no_grad",
    "set_detect_anomaly",
    "set_gc_policy",
    "set_grad_enabled",
]
