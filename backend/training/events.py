"""Typed events a training run reports to its callback (plain dataclasses, Qt-free).

Numbers are Python floats (already on the host); tensors in `Evaluated` are on the CPU.
Importing this module does not import torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

#: {output name: {"loss": …, "accuracy" | "mae" | "r2": …}}
Metrics = dict[str, dict[str, float]]


@dataclass(frozen=True)
class Started:
    epochs: int
    steps_per_epoch: int
    device: str
    train_samples: int
    validation_samples: int
    test_samples: int
    outputs: tuple[str, ...]
    start_epoch: int = 0
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Downloading:
    """Preparing the run fetches a data set file (MNIST-style sets, once): bytes so far."""

    file: str
    done: int
    total: int | None  # None when the server does not say


@dataclass(frozen=True)
class Warned:
    """Something that will not stop training but that a person should know."""

    message: str


@dataclass(frozen=True)
class BatchEnd:
    """Mean losses over the batches since the previous BatchEnd (one device sync)."""

    step: int  # global optimizer step, from 1
    epoch: int  # from 1
    batch: int  # within the epoch, from 1
    losses: dict[str, float]
    total: float


@dataclass(frozen=True)
class EpochEnd:
    epoch: int  # from 1
    train: Metrics
    validation: Metrics  # empty without a validation split
    train_loss: float  # weighted total
    validation_loss: float | None
    lr: float
    seconds: float


@dataclass(frozen=True)
class Paused:
    step: int


@dataclass(frozen=True)
class Resumed:
    step: int


@dataclass(frozen=True)
class Evaluated:
    """Held-out evaluation (the test split, or validation when there is none)."""

    split: str
    metrics: Metrics
    #: {output: rows = true class, columns = predicted class} for class outputs.
    confusion: dict[str, list[list[int]]] = field(default_factory=dict)
    #: {output: predictions} — class ids for class outputs, values (original units) otherwise.
    predictions: dict[str, torch.Tensor] = field(default_factory=dict)
    targets: dict[str, torch.Tensor] = field(default_factory=dict)


@dataclass(frozen=True)
class Finished:
    epochs_completed: int
    steps: int
    reason: str  # "completed" | "stopped" | "early stopping"
    best_epoch: int | None
    history: list[dict[str, Any]]


@dataclass(frozen=True)
class Failed:
    """The run ended on an error; ``message`` is for people, ``detail`` for the log."""

    message: str
    detail: str = ""
    epoch: int = 0
    step: int = 0


Event = Started | Downloading | Warned | BatchEnd | EpochEnd | Paused | Resumed | Evaluated | Finished | Failed
