"""Optimizers and learning-rate schedules with PyTorch's API and update rules."""

from chainrule.optim import lr_scheduler
from chainrule.optim.adam import Adam, AdamW
from chainrule.optim.optimizer import Optimizer
from chainrule.optim.rmsprop import Adagrad, RMSprop
from chainrule.optim.sgd import SGD

__all__ = ["SGD", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "lr_scheduler"]
