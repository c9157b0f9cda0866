"""Training: the Trainer loop, checkpoints and metrics."""

from chainrule.train.checkpoint import (
    CheckpointError,
    load_checkpoint,
    read_checkpoint,
    save_checkpoint,
)
from chainrule.train.divergence import Divergence
from chainrule.train.metrics import accuracy, confusion_matrix, read_metrics
from chainrule.train.trainer import (
    Callback,
    EarlyStopping,
    Trainer,
    TrainingDiverged,
    TrainingInterrupted,
    TrainingStopped,
    fit,
)

__all__ = [
    "Callback", "CheckpointError", "Divergence", "EarlyStopping", "Trainer", "TrainingDiverged",
    "TrainingInterrupted", "TrainingStopped", "accuracy", "confusion_matrix", "fit",
    "load_checkpoint", "read_checkpoint", "read_metrics", "save_checkpoint",
]
