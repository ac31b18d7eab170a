"""What a run produced, kept in plain Python for the plots, the CSV export and run history.

Filled on the GUI thread from worker events, or from a run folder's history (`RunRecord.fill`);
growable numpy buffers so a million-point curve is a view, not a list conversion, at every
redraw.
"""

from __future__ import annotations

import copy
import csv
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

#: Per-step decay of the smoothed loss (an exponential moving average over ~10 batches).
#: A point that already averages k batches weighs 1 − DECAY**k, so sparse reports (fast runs
#: send one point per many batches) are not smoothed a second time into a lagging curve.
DECAY = 0.9


class Series:
    """An append-only float buffer whose `view` is a numpy array without copying."""

    def __init__(self, capacity: int = 256) -> None:
        self._data = np.empty(capacity, dtype=np.float64)
        self._n = 0

    def append(self, value: float) -> None:
        if self._n == len(self._data):
            grown = np.empty(len(self._data) * 2, dtype=np.float64)
            grown[: self._n] = self._data[: self._n]
            self._data = grown
        self._data[self._n] = value
        self._n += 1

    def extend(self, values: np.ndarray) -> None:
        values = np.asarray(values, dtype=np.float64)
        need = self._n + len(values)
        if need > len(self._data):
            grown = np.empty(max(need, len(self._data) * 2), dtype=np.float64)
            grown[: self._n] = self._data[: self._n]
            self._data = grown
        self._data[self._n: need] = values
        self._n = need

    def view(self) -> np.ndarray:
        return self._data[: self._n]

    def __len__(self) -> int:
        return self._n


@dataclass
class OutputCurves:
    """One output's curves: per-batch loss (raw and smoothed) and per-epoch values."""

    name: str
    steps: Series = field(default_factory=Series)
    batch_loss: Series = field(default_factory=Series)
    smooth_loss: Series = field(default_factory=Series)
    epochs: Series = field(default_factory=Series)
    train_loss: Series = field(default_factory=Series)
    val_loss: Series = field(default_factory=Series)
    metric: str = ""
    train_metric: Series = field(default_factory=Series)
    val_metric: Series = field(default_factory=Series)
    _ema: float | None = None
    _ema_step: int = 0

    def add_batch(self, step: int, loss: float) -> None:
        self.steps.append(step)
        self.batch_loss.append(loss)
        if math.isfinite(loss):
            if self._ema is None:
                self._ema = loss
            else:
                weight = 1.0 - DECAY ** max(1, step - self._ema_step)
                self._ema += weight * (loss - self._ema)
            self._ema_step = step
        self.smooth_loss.append(self._ema if self._ema is not None else math.nan)


@dataclass
class RunRecord:
    """One run: its settings, curves per output, status and evaluation."""

    number: int
    title: str
    data_settings: dict[str, Any]
    training_settings: dict[str, Any]
    outputs: dict[str, OutputCurves] = field(default_factory=dict)
    epochs: Series = field(default_factory=Series)
    lr: Series = field(default_factory=Series)
    total_epochs: int = 0
    steps_per_epoch: int = 0
    status: str = "starting"  # starting | running | paused | completed | stopped | failed …
    message: str = ""
    evaluation: Any = None  # backend Evaluated
    step: int = 0
    epoch: int = 0
    batch: int = 0
    dirty: bool = True  # new batch points since the last redraw
    epoch_dirty: bool = True  # new epoch points since the last redraw
    run_id: str = ""  # its run folder (backend.runs); "" when the run is not recorded
    design_key: str = ""  # which design and data it trained (backend.runs.design)
    data_key: str = ""
    loaded: bool = True  # False: a stored run whose curves are read on first use (fill)

    @classmethod
    def from_info(cls, info: Any) -> RunRecord:
        """A stored run (a `backend.runs.record.RunInfo`); its curves come with `fill`."""
        settings = info.settings
        return cls(info.number, info.title, dict(settings.get("data", {})),
                   dict(settings.get("training", {})), total_epochs=info.epochs_planned,
                   status=info.state, message=info.message, run_id=info.id,
                   design_key=info.design_key, data_key=info.data_key, loaded=False)

    def fill(self, history: Any) -> None:
        """Curves from a stored history (`backend.runs.record.RunHistory`), replacing any."""
        self.outputs, self.epochs, self.lr = {}, Series(), Series()
        batches = history.batches
        for name, losses in batches["losses"].items():
            curves = self.output(name)
            for step, loss in zip(batches["step"], losses):
                curves.add_batch(step, loss)
        for entry in history.epochs:
            self.add_epoch(_Epoch(entry))
        if batches["step"]:
            self.step, self.epoch = batches["step"][-1], batches["epoch"][-1]
        self.loaded = True
        self.dirty = self.epoch_dirty = True

    def output(self, name: str) -> OutputCurves:
        if name not in self.outputs:
            self.outputs[name] = OutputCurves(name)
        return self.outputs[name]

    def add_batches(self, events: list[Any]) -> None:
        """BatchEnd events (already thinned by the worker)."""
        for ev in events:
            for name, loss in ev.losses.items():
                self.output(name).add_batch(ev.step, loss)
            self.step, self.epoch, self.batch = ev.step, ev.epoch, ev.batch
        self.dirty = True

    def add_epoch(self, ev: Any) -> None:
        """An EpochEnd event: train/validation loss and metric per output, and the lr."""
        self.epochs.append(ev.epoch)
        self.lr.append(ev.lr)
        for name in set(ev.train) | set(ev.validation):
            curves = self.output(name)
            train, val = ev.train.get(name, {}), ev.validation.get(name, {})
            curves.epochs.append(ev.epoch)
            curves.train_loss.append(train.get("loss", math.nan))
            curves.val_loss.append(val.get("loss", math.nan))
            metric = next((k for k in train if k != "loss"), "")
            curves.metric = metric
            curves.train_metric.append(train.get(metric, math.nan) if metric else math.nan)
            curves.val_metric.append(val.get(metric, math.nan) if metric else math.nan)
        self.epoch, self.batch = ev.epoch, 0
        self.epoch_dirty = True

    def settings_text(self) -> str:
        """One line describing the settings, for the run list's tooltip."""
        t = self.training_settings
        return (f"{self.data_settings.get('dataset', '?')} · {t.get('optimizer', 'adam')} "
                f"lr {t.get('lr', 0.001):g} · batch {t.get('batch_size', 32)} · "
                f"{t.get('epochs', 20)} epochs · seed {t.get('seed', 0)}")

    def snapshot_settings(self) -> dict[str, Any]:
        return {"data": copy.deepcopy(self.data_settings),
                "training": copy.deepcopy(self.training_settings)}

    def write_csv(self, path: str | Path) -> Path:
        """Per-epoch metrics (one row per epoch, columns per output) then per-batch losses."""
        path = Path(path)
        names = list(self.outputs)
        with path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            header = ["epoch", "lr"]
            for n in names:
                m = self.outputs[n].metric or "metric"
                header += [f"{n}/train_loss", f"{n}/val_loss", f"{n}/train_{m}", f"{n}/val_{m}"]
            w.writerow(header)
            for i, epoch in enumerate(self.epochs.view()):
                row: list[Any] = [int(epoch), float(self.lr.view()[i])]
                for n in names:
                    c = self.outputs[n]
                    for s in (c.train_loss, c.val_loss, c.train_metric, c.val_metric):
                        v = s.view()
                        row.append(_cell(v[i]) if i < len(v) else "")
                w.writerow(row)
            w.writerow([])
            w.writerow(["step"] + [f"{n}/batch_loss" for n in names])
            steps = {n: dict(zip(self.outputs[n].steps.view().astype(int).tolist(),
                                 self.outputs[n].batch_loss.view().tolist())) for n in names}
            all_steps = sorted({s for d in steps.values() for s in d})
            for s in all_steps:
                w.writerow([s] + [_cell(steps[n].get(s, math.nan)) for n in names])
        return path


class _Epoch:
    """A stored history entry read like an EpochEnd event (null values are NaN)."""

    def __init__(self, entry: dict[str, Any]) -> None:
        self.epoch = entry["epoch"]
        self.lr = math.nan if entry.get("lr") is None else entry["lr"]
        self.train = _finite(entry.get("train", {}))
        self.validation = _finite(entry.get("validation", {}))


def _finite(metrics: dict[str, dict[str, Any]]) -> dict[str, dict[str, float]]:
    return {o: {k: math.nan if v is None else float(v) for k, v in row.items()}
            for o, row in metrics.items()}


def _cell(value: float) -> str:
    return "" if not math.isfinite(float(value)) else f"{float(value):.6g}"
