"""A TensorBoard event log in the run folder, when the ``tensorboard`` package is installed
(it is not a NetCanvas dependency): per epoch, each output's metrics per split and the
learning rate, so ``tensorboard --logdir model.runs`` compares runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any


class TensorBoardLog:
    """Scalars per epoch; does nothing when TensorBoard is not installed."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.writer: Any = None
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            return
        self.writer = SummaryWriter(str(folder))

    def epoch(self, event: Any) -> None:
        if self.writer is None:
            return
        for split, metrics in (("train", event.train), ("validation", event.validation)):
            for output, values in metrics.items():
                for name, value in values.items():
                    self.writer.add_scalar(f"{output}/{name}/{split}", value, event.epoch)
        self.writer.add_scalar("lr", event.lr, event.epoch)
        self.writer.flush()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None
