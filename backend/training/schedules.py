"""Learning-rate schedules as pure functions of (fractional) epoch, plus plateau state.

Keeping the schedule a function of the position in training (not a stateful torch scheduler)
makes resuming exact: the state is the epoch, the step and two plateau numbers.
"""

from __future__ import annotations

import math
from typing import Any

from .config import ScheduleConfig


class LRSchedule:
    """lr(epoch, batch) = base · warm-up · schedule · plateau factor."""

    def __init__(self, cfg: ScheduleConfig, base_lr: float, epochs: int,
                 steps_per_epoch: int) -> None:
        self.cfg = cfg
        self.base_lr = base_lr
        self.epochs = epochs
        self.steps = max(1, steps_per_epoch)
        self.plateau_factor = 1.0
        self.best = math.inf
        self.bad_epochs = 0

    def lr(self, epoch: int, batch: int = 0) -> float:
        """The learning rate for batch ``batch`` of epoch ``epoch`` (both from 0)."""
        cfg = self.cfg
        t = epoch + batch / self.steps
        warm = cfg.warmup_epochs
        if warm > 0 and t < warm:
            return self.base_lr * self.plateau_factor * (t * self.steps + 1) / (warm * self.steps)
        t -= warm
        if cfg.kind == "step":
            factor = cfg.gamma ** math.floor(t / cfg.step_size + 1e-9)
        elif cfg.kind == "exponential":
            factor = cfg.gamma ** math.floor(t + 1e-9)
        elif cfg.kind == "cosine":
            span = max(self.epochs - warm, 1e-9)
            lo = min(cfg.min_lr, self.base_lr)
            cos = (1 + math.cos(math.pi * min(t / span, 1.0))) / 2
            return (lo + (self.base_lr - lo) * cos) * self.plateau_factor
        else:
            factor = 1.0
        return self.base_lr * factor * self.plateau_factor

    def epoch_end(self, monitored: float | None) -> None:
        """Reduce-on-plateau: cut the lr by ``factor`` after ``patience`` epochs without
        improving ``monitored`` (validation loss, or training loss without validation)."""
        if self.cfg.kind != "plateau" or monitored is None or not math.isfinite(monitored):
            return
        if monitored < self.best * (1 - 1e-4):
            self.best = monitored
            self.bad_epochs = 0
        else:
            self.bad_epochs += 1
            if self.bad_epochs > self.cfg.patience:
                self.plateau_factor *= self.cfg.factor
                self.bad_epochs = 0

    def state_dict(self) -> dict[str, Any]:
        return {"plateau_factor": self.plateau_factor,
                "best": None if math.isinf(self.best) else self.best,
                "bad_epochs": self.bad_epochs}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.plateau_factor = float(state.get("plateau_factor", 1.0))
        best = state.get("best")
        self.best = math.inf if best is None else float(best)
        self.bad_epochs = int(state.get("bad_epochs", 0))
