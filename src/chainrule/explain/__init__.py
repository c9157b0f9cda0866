"""Learn by looking: step-through backpropagation with real numbers, and the error split."""

from chainrule.explain import worked
from chainrule.explain.backprop import Walkthrough, backprop, fmt
from chainrule.explain.error_split import error_split

__all__ = ["Walkthrough", "backprop", "error_split", "fmt", "worked"]
