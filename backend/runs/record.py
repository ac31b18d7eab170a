"""What a run folder holds, parsed and validated: its record (``run.json`` and ``notes.json``)
and its history (``history.json``). Every problem raises one `RunFormatError` naming the file
and the field. Torch-free: listing runs reads only these small JSON files.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backend.runs.files import (
    CHECKPOINT,
    CHECKPOINT_DIR,
    HISTORY,
    NOTES,
    RUN,
    RunFormatError,
    check_id,
    is_plain_file,
    read_json,
)
from graph.project import pid_alive

FORMAT = "netcanvas-run"
VERSION = 1
#: Statuses of a run whose writer was still at work when the record was written.
LIVE = ("starting", "running", "paused")
ENDED = ("completed", "early stopping", "stopped", "failed")
#: Metrics where more is better (the others, losses and errors, are better smaller).
HIGHER_IS_BETTER = {"accuracy", "r2"}
MAX_TEXT = 10_000
MAX_EPOCHS = 1_000_000


def _fail(name: str, where: str, problem: str) -> RunFormatError:
    return RunFormatError(f"{name}: {where}: {problem}.")


def _get(obj: dict, key: str, kind: type | tuple[type, ...], name: str, default: Any = ...
         ) -> Any:
    if key not in obj:
        if default is ...:
            raise _fail(name, key, "missing")
        return default
    value = obj[key]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if (not isinstance(value, kind) or (isinstance(value, bool) and kind in (int, float))) \
            and not (value is None and default is None):
        raise _fail(name, key, f"expected {_kind(kind)}, found {type(value).__name__}")
    if isinstance(value, float) and not math.isfinite(value):
        raise _fail(name, key, "not a finite number")
    if isinstance(value, str) and len(value) > MAX_TEXT:
        raise _fail(name, key, f"longer than {MAX_TEXT} characters")
    return value


def _kind(kind: type | tuple[type, ...]) -> str:
    names = {dict: "an object", list: "a list", str: "a text", int: "an integer",
             float: "a number", bool: "true or false"}
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def _metrics(value: Any, name: str, where: str) -> dict[str, dict[str, float | None]]:
    """{output: {metric: number or null}} (null: not finite when it was written)."""
    if not isinstance(value, dict):
        raise _fail(name, where, "expected an object of outputs")
    out: dict[str, dict[str, float | None]] = {}
    for output, values in value.items():
        if not isinstance(values, dict):
            raise _fail(name, f"{where}.{output}", "expected an object of metrics")
        row = {}
        for metric, number in values.items():
            if number is not None and (isinstance(number, bool) or
                                       not isinstance(number, (int, float))):
                raise _fail(name, f"{where}.{output}.{metric}", "not a number")
            row[str(metric)] = None if number is None else float(number)
        out[str(output)] = row
    return out


@dataclass(frozen=True)
class OutputInfo:
    """One Output of the design a run trained: its metric and, for classes, their names."""

    name: str
    metric: str = "none"
    classes: tuple[str, ...] | None = None


@dataclass(frozen=True)
class CheckpointInfo:
    """Where a run's last checkpoint is and how far the run had got."""

    folder: str  # checkpoint-NNNNNN, inside the run folder
    epoch: int  # epochs completed
    step: int  # optimizer steps done
    batch: int  # batches done within the epoch in progress (0 at an epoch's end)
    saved_at: float


@dataclass(frozen=True)
class RunInfo:
    """A run's record (``run.json``) with its name and note (``notes.json``)."""

    id: str
    folder: Path
    number: int
    created: float
    status: str
    message: str = ""
    writer_pid: int | None = None
    design_key: str = ""
    data_key: str = ""
    model: str = ""
    settings: dict[str, Any] = field(default_factory=dict)
    device: str = ""
    epochs_planned: int = 0
    epochs_done: int = 0
    steps: int = 0
    seconds: float = 0.0
    outputs: tuple[OutputInfo, ...] = ()
    summary: dict[str, Any] = field(default_factory=dict)
    best_epoch: int | None = None
    evaluation: dict[str, Any] | None = None
    preprocessing: dict[str, Any] | None = None
    name: str = ""
    note: str = ""
    checkpoint: CheckpointInfo | None = None

    @property
    def interrupted(self) -> bool:
        """The run was going on when its writer died (a crash, a kill): its last checkpoint
        is what is left of it."""
        return self.status in LIVE and not (self.writer_pid and pid_alive(self.writer_pid))

    @property
    def state(self) -> str:
        """What to show: the status, or ``interrupted``."""
        return "interrupted" if self.interrupted else self.status

    @property
    def resumable(self) -> bool:
        """A checkpoint exists and the run did not reach its end."""
        return self.checkpoint is not None and self.state in ("interrupted", "stopped") and \
            self.checkpoint.epoch < max(self.epochs_planned, 1)

    @property
    def title(self) -> str:
        return self.name or f"Run {self.number}"

    def when(self) -> str:
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(self.created))

    def key_settings(self) -> str:
        """The settings a person compares runs by, in one line."""
        data, t = self.settings.get("data", {}), self.settings.get("training", {})
        parts = [_num(data.get("dataset", "?")), f"{_num(t.get('optimizer', 'adam'))} "
                 f"lr {_num(t.get('lr', 0.001))}", f"batch {_num(t.get('batch_size', 32))}",
                 f"{self.epochs_planned or _num(t.get('epochs', '?'))} epochs"]
        schedule = t.get("schedule")
        kind = schedule.get("kind") if isinstance(schedule, dict) else schedule
        if kind and kind != "constant":
            parts.append(_num(kind))
        if t.get("seed", 0):
            parts.append(f"seed {_num(t['seed'])}")
        return " · ".join(parts)


def _num(value: Any) -> str:
    return f"{value:g}" if isinstance(value, (int, float)) else str(value)[:40]


def _summary(value: dict) -> dict[str, Any]:
    """``summary`` of run.json: {output: {split, metric, final: {split: metrics}, best}}."""
    out = {}
    for output, item in value.items():
        where = f"summary.{output}"
        if not isinstance(item, dict):
            raise _fail(RUN, where, "expected an object")
        final = _get(item, "final", dict, RUN, {})
        best = _get(item, "best", dict, RUN, None)
        if best is not None:
            best = {"value": _get(best, "value", float, RUN), "epoch": _get(best, "epoch", int,
                                                                              RUN)}
        out[str(output)] = {"split": _get(item, "split", str, RUN, "train"),
                            "metric": _get(item, "metric", str, RUN, "loss"),
                            "final": _metrics(final, RUN, f"{where}.final"), "best": best}
    return out


def parse_run(folder: Path) -> RunInfo:
    """Read and check ``run.json`` (and ``notes.json``, ``checkpoint.json`` when present)."""
    obj = read_json(folder, RUN)
    if not isinstance(obj, dict):
        raise _fail(RUN, "$", "expected an object")
    if obj.get("format") != FORMAT:
        raise _fail(RUN, "format", f"not {FORMAT!r}")
    version = _get(obj, "version", int, RUN)
    if version > VERSION:
        raise _fail(RUN, "version", f"{version} is newer than this NetCanvas reads ({VERSION})")
    run_id = _get(obj, "id", str, RUN)
    try:
        check_id(run_id)
    except RunFormatError as exc:
        raise _fail(RUN, "id", str(exc).rstrip(".")) from None
    status = _get(obj, "status", str, RUN)
    if status not in LIVE + ENDED:
        raise _fail(RUN, "status", f"unknown status {status!r}")
    settings = _get(obj, "settings", dict, RUN, {})
    for key in ("data", "training"):
        if not isinstance(settings.get(key, {}), dict):
            raise _fail(RUN, f"settings.{key}", "expected an object")
    outputs = []
    for i, item in enumerate(_get(obj, "outputs", list, RUN, [])):
        if not isinstance(item, dict):
            raise _fail(RUN, f"outputs[{i}]", "expected an object")
        classes = _get(item, "classes", list, RUN, None)
        if classes is not None and not all(isinstance(c, str) and len(c) <= 200
                                           for c in classes):
            raise _fail(RUN, f"outputs[{i}].classes", "expected a list of texts")
        outputs.append(OutputInfo(_get(item, "name", str, RUN), _get(item, "metric", str, RUN,
                                                                       "none"),
                                  tuple(classes) if classes is not None else None))
    epochs = _get(obj, "epochs", dict, RUN, {})
    planned = _get(epochs, "planned", int, RUN, 0)
    done = _get(epochs, "done", int, RUN, 0)
    if not (0 <= done <= MAX_EPOCHS and 0 <= planned <= MAX_EPOCHS):
        raise _fail(RUN, "epochs", "out of range")
    summary = _summary(_get(obj, "summary", dict, RUN, {}))
    evaluation = _get(obj, "evaluation", dict, RUN, None)
    if evaluation is not None:
        _get(evaluation, "split", str, RUN)
        _metrics(evaluation.get("metrics", {}), RUN, "evaluation.metrics")
    writer = _get(obj, "writer_pid", int, RUN, None)
    info = RunInfo(
        id=run_id, folder=folder, number=_get(obj, "number", int, RUN, 0),
        created=_get(obj, "created", float, RUN), status=status,
        message=_get(obj, "message", str, RUN, ""), writer_pid=writer,
        design_key=_get(obj, "design_key", str, RUN, ""),
        data_key=_get(obj, "data_key", str, RUN, ""), model=_get(obj, "model", str, RUN, ""),
        settings=settings, device=_get(obj, "device", str, RUN, ""), epochs_planned=planned,
        epochs_done=done, steps=_get(obj, "steps", int, RUN, 0),
        seconds=_get(obj, "seconds", float, RUN, 0.0), outputs=tuple(outputs),
        summary=summary, best_epoch=_get(obj, "best_epoch", int, RUN, None),
        evaluation=evaluation, preprocessing=_get(obj, "preprocessing", dict, RUN, None))
    name, note = read_notes(folder)
    checkpoint = read_checkpoint_info(folder)
    return _replace(info, name=name, note=note, checkpoint=checkpoint)


def _replace(info: RunInfo, **changes: Any) -> RunInfo:
    from dataclasses import replace

    return replace(info, **changes)


def read_notes(folder: Path) -> tuple[str, str]:
    """The run's name and note as a person set them ("" when not set)."""
    if not is_plain_file(folder / NOTES):
        return "", ""
    obj = read_json(folder, NOTES)
    if not isinstance(obj, dict):
        raise _fail(NOTES, "$", "expected an object")
    return _get(obj, "name", str, NOTES, ""), _get(obj, "note", str, NOTES, "")


def read_checkpoint_info(folder: Path) -> CheckpointInfo | None:
    """The pointer to the run's last complete checkpoint, or None without one."""
    if not is_plain_file(folder / CHECKPOINT):
        return None
    obj = read_json(folder, CHECKPOINT)
    if not isinstance(obj, dict):
        raise _fail(CHECKPOINT, "$", "expected an object")
    name = _get(obj, "folder", str, CHECKPOINT)
    if not CHECKPOINT_DIR.match(name):
        raise _fail(CHECKPOINT, "folder", f"{name!r} is not a checkpoint folder name")
    info = CheckpointInfo(name, _get(obj, "epoch", int, CHECKPOINT),
                          _get(obj, "step", int, CHECKPOINT), _get(obj, "batch", int,
                                                                   CHECKPOINT, 0),
                          _get(obj, "saved_at", float, CHECKPOINT, 0.0))
    if min(info.epoch, info.step, info.batch) < 0:
        raise _fail(CHECKPOINT, "epoch", "negative")
    return info


# --- history ------------------------------------------------------------------------------------

@dataclass
class RunHistory:
    """``history.json``: per-epoch metrics per output, a downsampled per-batch loss, the final
    evaluation and the preprocessing (the same file `netcanvas train` always wrote)."""

    epochs: list[dict[str, Any]] = field(default_factory=list)
    #: {"step": [...], "epoch": [...], "losses": {output: [...]}}: at most MAX_BATCH_POINTS.
    batches: dict[str, Any] = field(default_factory=lambda: {"step": [], "epoch": [],
                                                             "losses": {}})
    evaluation: dict[str, Any] = field(default_factory=dict)
    preprocessing: dict[str, Any] | None = None
    status: str = ""
    error: str = ""

    def truncate(self, epoch: int, step: int) -> RunHistory:
        """The history as it was at a checkpoint (``epoch`` epochs, ``step`` steps done)."""
        keep = [i for i, s in enumerate(self.batches["step"]) if s <= step]
        batches = {"step": [self.batches["step"][i] for i in keep],
                   "epoch": [self.batches["epoch"][i] for i in keep],
                   "losses": {k: [v[i] for i in keep] for k, v in
                              self.batches["losses"].items()}}
        return RunHistory([e for e in self.epochs if e["epoch"] <= epoch], batches,
                          {}, self.preprocessing, self.status, self.error)


def parse_history(folder: Path) -> RunHistory:
    obj = read_json(folder, HISTORY)
    name = HISTORY
    if not isinstance(obj, dict):
        raise _fail(name, "$", "expected an object")
    epochs = _get(obj, "epochs", list, name, [])
    if len(epochs) > MAX_EPOCHS:
        raise _fail(name, "epochs", "too many")
    checked = []
    for i, entry in enumerate(epochs):
        where = f"epochs[{i}]"
        if not isinstance(entry, dict):
            raise _fail(name, where, "expected an object")
        epoch = _get(entry, "epoch", int, name)
        if not 1 <= epoch <= MAX_EPOCHS or (checked and epoch <= checked[-1]["epoch"]):
            raise _fail(name, f"{where}.epoch", "out of order")
        row = {"epoch": epoch,
               "train": _metrics(entry.get("train", {}), name, f"{where}.train"),
               "validation": _metrics(entry.get("validation", {}) or {}, name,
                                      f"{where}.validation")}
        for key in ("train_loss", "validation_loss", "lr", "seconds"):
            value = entry.get(key)
            if value is not None and (isinstance(value, bool) or
                                      not isinstance(value, (int, float))):
                raise _fail(name, f"{where}.{key}", "not a number")
            row[key] = None if value is None else float(value)
        checked.append(row)
    batches = _get(obj, "batches", dict, name, {})
    steps = _numbers(batches.get("step", []), name, "batches.step", int)
    batch_epochs = _numbers(batches.get("epoch", []), name, "batches.epoch", int)
    losses = batches.get("losses", {})
    if not isinstance(losses, dict):
        raise _fail(name, "batches.losses", "expected an object")
    losses = {str(k): _numbers(v, name, f"batches.losses.{k}", float) for k, v in losses.items()}
    if len(batch_epochs) != len(steps) or any(len(v) != len(steps) for v in losses.values()):
        raise _fail(name, "batches", "the lists differ in length")
    evaluation = _get(obj, "evaluation", dict, name, {}) or {}
    if evaluation:
        _get(evaluation, "split", str, name)
        evaluation = {"split": evaluation["split"],
                      "metrics": _metrics(evaluation.get("metrics", {}), name,
                                          "evaluation.metrics"),
                      "confusion": _confusion(evaluation.get("confusion", {}), name)}
    return RunHistory(checked, {"step": steps, "epoch": batch_epochs, "losses": losses},
                      evaluation, _get(obj, "preprocessing", dict, name, None),
                      _get(obj, "status", str, name, ""), _get(obj, "error", str, name, ""))


def _numbers(value: Any, name: str, where: str, kind: type) -> list:
    if not isinstance(value, list):
        raise _fail(name, where, "expected a list")
    out = []
    for v in value:
        if v is None and kind is float:
            out.append(math.nan)
        elif isinstance(v, bool) or not isinstance(v, (int, float)) or (
                kind is int and not isinstance(v, int)):
            raise _fail(name, where, "expected numbers")
        else:
            out.append(kind(v))
    return out


def _confusion(value: Any, name: str) -> dict[str, list[list[int]]]:
    if not isinstance(value, dict):
        raise _fail(name, "evaluation.confusion", "expected an object")
    out = {}
    for output, matrix in value.items():
        where = f"evaluation.confusion.{output}"
        if not isinstance(matrix, list) or len(matrix) > 10_000:
            raise _fail(name, where, "expected a square matrix")
        k = len(matrix)
        if not all(isinstance(r, list) and len(r) == k and all(
                isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in r)
                   for r in matrix):
            raise _fail(name, where, "expected a square matrix of counts")
        out[str(output)] = matrix
    return out


# --- summaries ----------------------------------------------------------------------------------

def primary_metric(output: OutputInfo | None, row: dict[str, Any]) -> str:
    """The metric a run is judged by for one output: its metric, else the loss."""
    if output is not None and output.metric in row:
        return output.metric
    return next((k for k in row if k != "loss"), "loss")


def summarize(epochs: list[dict[str, Any]], outputs: tuple[OutputInfo, ...]
              ) -> dict[str, Any]:
    """Per output: the last epoch's metrics and the best value of its metric (validation when
    there is a validation split) with its epoch."""
    if not epochs:
        return {}
    by_name = {o.name: o for o in outputs}
    last = epochs[-1]
    out: dict[str, Any] = {}
    names = list(dict.fromkeys(list(last.get("train", {})) + list(last.get("validation", {}))))
    for name in names:
        split = "validation" if last.get("validation", {}).get(name) else "train"
        row = last[split].get(name, {})
        metric = primary_metric(by_name.get(name), row)
        better = max if metric in HIGHER_IS_BETTER else min
        values = [(e[split][name][metric], e["epoch"]) for e in epochs
                  if name in e.get(split, {}) and e[split][name].get(metric) is not None
                  and math.isfinite(e[split][name][metric])]
        best = better(values, key=lambda v: v[0]) if values else None
        out[name] = {"split": split, "metric": metric,
                     "final": {s: last.get(s, {}).get(name, {}) for s in ("train", "validation")
                               if last.get(s, {}).get(name)},
                     "best": {"value": best[0], "epoch": best[1]} if best else None}
    return out


def list_folder(folder: Path) -> list[os.DirEntry]:
    """The entries of ``folder`` (empty when it cannot be listed)."""
    try:
        return sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return []


# --- for people (the app's runs table and `netcanvas runs`) ----------------------------------

def design_versions(runs: list[RunInfo]) -> dict[str, int]:
    """Design key → version number (1, 2, …) in the order the designs were first trained."""
    versions: dict[str, int] = {}
    for info in sorted(runs, key=lambda r: (r.created, r.id)):
        if info.design_key not in versions:
            versions[info.design_key] = len(versions) + 1
    return versions


def _fmt(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, (int, float)) and math.isfinite(value) else "—"


def best_text(info: RunInfo) -> str:
    """Each output's best value of its metric and the epoch it was reached."""
    parts = []
    for output, item in info.summary.items():
        best = item.get("best")
        if best:
            parts.append(f"{output}: {item['metric']} {_fmt(best['value'])} "
                         f"(epoch {best['epoch']})")
    return "; ".join(parts)


def final_text(info: RunInfo) -> str:
    """Each output's metric at the last epoch (validation when there is one)."""
    parts = []
    for output, item in info.summary.items():
        row = item.get("final", {}).get(item.get("split", "train"), {})
        if row:
            parts.append(f"{output}: {item['metric']} {_fmt(row.get(item['metric']))}")
    return "; ".join(parts)


def duration_text(seconds: float) -> str:
    """``4.2 s`` under a minute, ``12:05`` under an hour, ``2h 03m`` beyond."""
    if seconds < 59.95:
        return f"{max(0.0, seconds):.1f} s"
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}:{seconds % 60:02d}"


def status_text(info: RunInfo) -> str:
    """The status with how far the run got (``interrupted at epoch 12/30``)."""
    state = info.state
    done = info.checkpoint.epoch if info.interrupted and info.checkpoint else info.epochs_done
    if state in ("completed", "early stopping") or not info.epochs_planned:
        return state
    return f"{state} at epoch {done}/{info.epochs_planned}"
