"""k-fold cross-validation of a design: train it k times, each time holding out another fold of
the training data for validation, and report the scores per fold with mean ± std.

Folds are stratified by class (scikit-learn ``StratifiedKFold``) when the target holds classes,
else plain ``KFold``; both shuffle with the data seed. The test split (if any) stays out of every
fold. Each fold is standardised with its own training statistics (no leakage).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backend.data.config import DataConfig
from backend.data.errors import DataError

MIN_FOLDS, MAX_FOLDS = 2, 10
#: Metrics where higher is better; every other score (losses, MAE) is minimised.
HIGHER_IS_BETTER = ("accuracy", "r2")


@dataclass(frozen=True)
class FoldEvent:
    """A training event of fold ``fold`` (from 1) of ``folds``."""

    fold: int
    folds: int
    event: Any


@dataclass
class FoldScore:
    fold: int
    score: float
    metrics: dict[str, dict[str, float]]  # validation metrics per output
    history: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class CVResult:
    """Per-fold scores of ``metric`` (validation), their mean and (population) std."""

    metric: str
    folds: list[FoldScore]
    stopped: bool = False

    @property
    def scores(self) -> list[float]:
        return [f.score for f in self.folds]

    @property
    def mean(self) -> float:
        return sum(self.scores) / len(self.scores) if self.folds else math.nan

    @property
    def std(self) -> float:
        if not self.folds:
            return math.nan
        m = self.mean
        return math.sqrt(sum((s - m) ** 2 for s in self.scores) / len(self.scores))

    def summary(self) -> str:
        each = ", ".join(f"{s:.4g}" for s in self.scores)
        return f"{self.metric}: {self.mean:.4g} ± {self.std:.4g} over {len(self.folds)} folds " \
               f"({each})"


def resolve_metric(metric: str, validation: dict[str, dict[str, float]],
                   total_loss: float | None) -> tuple[str, float]:
    """The score named ``metric`` from validation metrics. ``auto``: the first output's
    accuracy when it has one, else the (weighted total) validation loss; ``loss``: that total;
    another name: that metric of the first output that reports it."""
    if metric in ("auto", "accuracy") and validation:
        for values in validation.values():
            if "accuracy" in values:
                return "accuracy", values["accuracy"]
        if metric == "accuracy":
            raise ValueError("No output reports accuracy; use the metric 'loss'.")
    if metric in ("auto", "loss"):
        if total_loss is None:
            raise ValueError("There is no validation loss to score (no validation samples).")
        return "loss", total_loss
    for values in validation.values():
        if metric in values:
            return metric, values[metric]
    raise ValueError(f"No output reports the metric {metric!r}; use auto, loss, accuracy, mae "
                     "or r2 as the outputs allow.")


def total_loss(metrics: dict[str, dict[str, float]], outputs: list[Any]) -> float:
    """The weighted total loss over outputs (as the Trainer's ``validation_loss``)."""
    return sum(metrics[o.name]["loss"] * o.loss_weight for o in outputs
               if o.loss != "none" and "loss" in metrics.get(o.name, {}))


def fold_splits(ds: Any, data_cfg: DataConfig, folds: int, target: Any = None) -> list[Any]:
    """``folds`` `SplitIndices` (train, validation = the held-out fold, test = the test split)."""
    import numpy as np
    import torch
    from sklearn.model_selection import KFold, StratifiedKFold

    from backend.data.split import SplitIndices, split_indices

    if not MIN_FOLDS <= folds <= MAX_FOLDS:
        raise ValueError(f"Use {MIN_FOLDS} to {MAX_FOLDS} folds (got {folds}); 3 to 5 is usual.")
    test = ds.default_splits[1] if data_cfg.test_split is None else data_cfg.test_split
    base = split_indices(ds, 0.0, test, data_cfg.seed, data_cfg.stratify)
    pool = base.train
    if len(pool) < folds:
        raise DataError(f"{len(pool)} samples cannot be cut into {folds} folds; use fewer folds.")
    tgt = ds.target(target)
    labels = tgt.values[pool].numpy() if tgt.is_classes else None
    if labels is not None and data_cfg.stratify and np.bincount(labels).max() >= folds and \
            np.bincount(labels)[np.bincount(labels) > 0].min() >= folds:
        splitter = StratifiedKFold(folds, shuffle=True, random_state=data_cfg.seed % 2**32)
        parts = splitter.split(np.zeros(len(pool)), labels)
    else:
        splitter = KFold(folds, shuffle=True, random_state=data_cfg.seed % 2**32)
        parts = splitter.split(np.zeros(len(pool)))
    out = []
    for tr, va in parts:
        out.append(SplitIndices(pool[torch.as_tensor(tr)].sort().values,
                                pool[torch.as_tensor(va)].sort().values, base.test))
    return out


def crossval(doc: Any, data_config: DataConfig | dict | None = None,
             train_config: Any = None, folds: int = 5, *, metric: str = "auto",
             callback: Callable[[FoldEvent], None] | None = None, control: Any = None,
             base_dir: str | Path | None = None) -> CVResult:
    """Train ``doc`` on ``folds`` folds; return the validation score of each and mean ± std.

    ``data_config``/``train_config`` default to the design's sections. ``callback`` receives
    every Trainer event wrapped in a `FoldEvent`; ``control`` stops the current fold and skips
    the rest (the result then holds the folds finished, ``stopped`` True).
    """
    import torch

    from backend.data.load import load_dataset
    from backend.data.prepare import prepare_data
    from backend.training.control import Control
    from backend.training.events import Failed
    from backend.training.loop import probe_outputs
    from backend.training.trainer import Trainer, TrainingError, parts_from_document

    control = control or Control()
    raw = data_config if data_config is not None else doc.section("data")
    data_cfg = raw if isinstance(raw, DataConfig) else DataConfig.from_dict(raw)
    train_cfg = train_config if train_config is not None else doc.section("training")
    ds = load_dataset(data_cfg, base_dir)
    parts = parts_from_document(doc)
    first = parts.outputs[0].name
    target = data_cfg.targets.get(first, {}).get("target")
    module = parts.module

    def probe(xs: list[torch.Tensor]) -> list[tuple[int, ...]]:
        return probe_outputs(module, xs)

    result = CVResult(metric, [])
    splits = fold_splits(ds, data_cfg, folds, target)
    for k, split in enumerate(splits, start=1):
        if control.stopped:
            result.stopped = True
            break
        prepared = prepare_data(ds, data_cfg, parts.inputs, parts.outputs, probe, split)
        trainer = Trainer(doc, data=prepared, config=train_cfg, base_dir=base_dir)
        forward = (lambda e, k=k: callback(FoldEvent(k, folds, e))) if callback else None
        event = trainer.run(forward, control)
        if isinstance(event, Failed):
            raise TrainingError(f"Fold {k} of {folds} failed: {event.message}")
        if event.reason == "stopped":
            result.stopped = True
            break
        val = trainer.evaluate("validation")
        total = total_loss(val, parts.outputs) if val else None
        name, score = resolve_metric(metric, val, total)
        result.metric = name
        result.folds.append(FoldScore(k, score, val, list(trainer.history)))
    return result
