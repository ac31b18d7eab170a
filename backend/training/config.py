"""The project's ``training`` section as a dataclass (optimizer, schedule, losses, stopping).

Each field declares its setting once (`setting`): the validation, the settings form and the
command-line flags are derived from it. Pure Python (no torch).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from .lr_multipliers import check_multipliers
from .setting import CUSTOM, Section, bad, parse, setting, to_section

OPTIMIZERS = ("sgd", "adagrad", "rmsprop", "adam", "adamw")
SCHEDULES = ("constant", "step", "cosine", "exponential", "plateau")
DEVICES = ("auto", "cpu", "cuda", "mps")
SECTION = "training"


def _device(key: str, value: Any) -> str:
    if not isinstance(value, str) or value.split(":")[0] not in DEVICES or (
            ":" in value and not value.split(":", 1)[1].isdigit()):
        raise bad(SECTION, key, value, "one of " + ", ".join(DEVICES) + " (or cuda:N)")
    return value


def _class_weights(key: str, value: Any) -> str | list[float]:
    if value == "balanced":
        return value
    if isinstance(value, list) and value and all(
            isinstance(w, (int, float)) and not isinstance(w, bool) and math.isfinite(w)
            and w >= 0 for w in value):
        return [float(w) if isinstance(w, float) else w for w in value]
    raise bad(SECTION, key, value, '"balanced" or a list of weights (≥ 0), one per class')


def _multipliers(key: str, value: Any) -> dict[str, float]:
    return check_multipliers(value)


def _is_sgd_with_momentum(cfg: TrainConfig) -> bool:
    return cfg.optimizer == "sgd" and cfg.momentum > 0


@dataclass
class ScheduleConfig:
    """Learning-rate schedule: ``kind`` after an optional linear warm-up (per step)."""

    kind: str = setting("constant", "Schedule", "The learning-rate schedule: constant, step "
                        "(× decay factor every few epochs), cosine (down to a final rate), "
                        "exponential (× decay factor every epoch) or plateau (× factor when the "
                        "monitored loss stops improving).", choices=SCHEDULES, lower=True)
    warmup_epochs: float = setting(0.0, "Warm-up", "Raise the learning rate linearly from 0 "
                                   "over this many epochs (per step) before the schedule; 0 = "
                                   "off.", lo=0.0, hi=1e6, off="off", unit=" epochs",
                                   decimals=1, step=1.0)
    step_size: int = setting(10, "Decay every", "Step schedule: epochs between decays.", lo=1,
                             hi=10**9, unit=" epochs", applies=lambda s: s.kind == "step")
    gamma: float = setting(0.1, "Decay factor", "Step and exponential schedules: multiply the "
                           "learning rate by this at each decay.", lo=1e-9, hi=1.0, decimals=4,
                           step=0.05, applies=lambda s: s.kind in ("step", "exponential"))
    min_lr: float = setting(0.0, "Final rate", "Cosine schedule: the learning rate at the last "
                            "epoch.", lo=0.0, hi=1e3, decimals=6, step=1e-4,
                            applies=lambda s: s.kind == "cosine")
    factor: float = setting(0.5, "Plateau factor", "Plateau schedule: multiply the learning "
                            "rate by this…", lo=1e-9, hi=1.0, decimals=3, step=0.05,
                            applies=lambda s: s.kind == "plateau")
    patience: int = setting(5, "Plateau patience", "…after this many epochs without "
                            "improvement of the monitored loss.", lo=0, hi=10**9,
                            unit=" epochs", applies=lambda s: s.kind == "plateau")

    @staticmethod
    def coerce(raw: Any) -> Any:
        """A schedule may be written as its kind alone: ``"cosine"``."""
        return {"kind": raw} if isinstance(raw, str) else raw

    @classmethod
    def from_value(cls, raw: Any) -> ScheduleConfig:
        return parse(cls, raw, SECTION, prefix="schedule.")

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **to_section(self)}

    def to_value(self) -> str | dict[str, Any]:
        """The section's value: the kind alone when nothing else differs from the defaults."""
        section = to_section(self)
        return self.kind if set(section) <= {"kind"} else {"kind": self.kind, **section}


@dataclass
class TrainConfig(Section):
    """Everything about how a design is trained (the ``training`` section)."""

    SECTION = SECTION

    epochs: int = setting(20, "Epochs", "Passes over the training data.", lo=1, hi=10**7)
    batch_size: int = setting(32, "Batch size", "Samples per step; 0 = the whole training set "
                              "(per process under torchrun).", lo=0, hi=10**8, off="full batch")
    optimizer: str = setting("adam", "Optimizer", "The optimizer: SGD, Adagrad, RMSprop, Adam "
                             "or AdamW (decoupled weight decay).", choices=OPTIMIZERS,
                             lower=True)
    lr: float = setting(1e-3, "Learning rate", "The base learning rate (the schedule and the "
                        "per-layer multipliers scale it).", lo=0.0, hi=1e3, decimals=6,
                        step=1e-3)
    momentum: float = setting(0.0, "Momentum", "Momentum of SGD and RMSprop.", lo=0.0, hi=1.0,
                              decimals=3, step=0.05,
                              applies=lambda c: c.optimizer in ("sgd", "rmsprop"),
                              needs="Momentum applies to SGD and RMSprop.")
    nesterov: bool = setting(False, "Nesterov", "Nesterov momentum: look ahead along the "
                             "momentum before taking the gradient.",
                             applies=_is_sgd_with_momentum, reset_when_off=True,
                             needs="Nesterov momentum applies to SGD with a momentum above 0.")
    weight_decay: float = setting(0.0, "Weight decay", "L2 penalty on the weights (decoupled "
                                  "for AdamW); 0 = off.", lo=0.0, hi=1e3, off="off",
                                  decimals=6, step=1e-4)
    schedule: ScheduleConfig = setting(None, "Schedule", "The learning-rate schedule.",
                                       nested=ScheduleConfig)
    clip_grad_norm: float = setting(0.0, "Clip gradients", "Clip the gradients' total norm to "
                                    "this value before each step (stops exploding updates); "
                                    "0 = off.", lo=0.0, hi=1e9, off="off", step=0.5)
    early_stopping_patience: int = setting(0, "Early stopping", "Stop after this many epochs "
                                           "without improvement of the validation loss (the "
                                           "training loss without validation); 0 = off.",
                                           lo=0, hi=10**6, off="off", unit=" epochs")
    restore_best_weights: bool = setting(True, "Keep the best", "With early stopping: end with "
                                         "the weights of the best epoch, not the last.",
                                         applies=lambda c: c.early_stopping_patience > 0,
                                         needs="Keeping the best epoch's weights applies with "
                                         "early stopping.")
    #: None, "balanced", or one weight per class (applies to class targets).
    class_weights: str | list[float] | None = setting(
        None, "Class weights", "Weigh classes in the loss: balanced weighs rare classes up "
        "(n / (k · count)); or one weight per class, in class order.", kind=CUSTOM,
        optional=True, check=_class_weights, flag=False)
    seed: int = setting(0, "Seed", "Seed of the initial weights and of the shuffling.",
                        lo=-(2**63), hi=2**63 - 1)
    device: str = setting("auto", "Device", "Where to train: auto (CUDA, then MPS, then the "
                          "CPU), cpu, cuda, cuda:N or mps.", kind=CUSTOM, check=_device)
    amp: bool = setting(False, "Mixed precision", "Train in bfloat16/float16 autocast on CUDA "
                        "(faster on recent GPUs); no effect on the CPU.")
    threads: int = setting(0, "Threads", "CPU threads for PyTorch; 0 = PyTorch's default.",
                           lo=0, hi=4096, off="default", form=False)
    #: Batches between BatchEnd events (and device syncs)…
    report_every: int = setting(10, "Report every", "Batches between progress reports.", lo=1,
                                hi=10**9, form=False, flag=False)
    #: …and at least this long between them (0: every interval).
    report_seconds: float = setting(0.05, "Report seconds", "Least time between progress "
                                    "reports.", lo=0.0, hi=3600.0, form=False, flag=False)
    #: Per-layer learning-rate factors {layer name: factor} (the transfer dialog sets them).
    lr_multipliers: dict[str, float] = setting({}, "Per-layer rates", "Learning-rate factor per "
                                               "layer name.", kind=CUSTOM, check=_multipliers,
                                               form=False, flag=False)
    extra: dict[str, Any] = field(default_factory=dict)

    def cross_check(self) -> list[str]:
        if self.nesterov and not _is_sgd_with_momentum(self):
            return ["training settings: 'nesterov' needs the SGD optimizer with a momentum "
                    "above 0."]
        return []
