"""Training: config, the Trainer loop, typed events, run control, losses, metrics, schedules,
checkpoints and torchrun scale-out. Qt-free."""

from backend.training.checkpoints import Checkpoint, CheckpointError, load_checkpoint
from backend.training.config import ScheduleConfig, TrainConfig
from backend.training.control import Control
from backend.training.events import (
    BatchEnd,
    Downloading,
    EpochEnd,
    Evaluated,
    Event,
    Failed,
    Finished,
    Paused,
    Resumed,
    Started,
    Warned,
)
from backend.training.trainer import NonFiniteLossError, Trainer, TrainingError, train_document

__all__ = [
    "Checkpoint", "CheckpointError", "load_checkpoint", "ScheduleConfig", "TrainConfig",
    "Control", "BatchEnd", "Downloading", "EpochEnd", "Evaluated", "Event", "Failed", "Finished", "Paused",
    "Resumed", "Started", "Warned", "NonFiniteLossError", "Trainer", "TrainingError",
    "train_document",
]
