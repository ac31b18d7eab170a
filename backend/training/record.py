"""A finished run as plain files: ``history.json`` and the checkpoint beside it.

``netcanvas train`` and the exported ``train.py`` write the same files through `write_run`,
so their runs can be compared by anyone. ``history.json`` holds: ``project``, ``model``,
``status`` (completed, early stopping, stopped or failed), ``epochs`` (per epoch: ``train``
and ``validation`` metrics per output, the weighted ``train_loss`` / ``validation_loss``,
``lr`` and ``seconds``), ``evaluation`` (the held-out split's metrics and confusion
matrices), ``preprocessing`` (the data's standardisation) and ``error`` for a failed run.
"""

from __future__ import annotations

import json
import math
from dataclasses import fields
from pathlib import Path
from typing import Any

HISTORY = "history.json"


def jsonable(value: Any) -> Any:
    """``value`` with tensors as lists and non-finite floats as null."""
    if hasattr(value, "tolist") and callable(value.tolist):
        return value.tolist()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def event_dict(event: Any) -> dict[str, Any]:
    """One event as a JSON object (``--json`` output): its kind and its fields."""
    out = {"event": type(event).__name__}
    for f in fields(event):
        if f.name in ("detail", "history"):
            continue
        out[f.name] = jsonable(getattr(event, f.name))
    return out


def history_record(trainer: Any, result: Any, evaluation: dict[str, Any], *,
                   project: str | None, model: str) -> dict[str, Any]:
    """What ``history.json`` holds for a run of ``trainer`` that ended with ``result``."""
    failed = type(result).__name__ == "Failed"
    record = {"project": project, "model": model,
              "status": "failed" if failed else result.reason,
              "epochs": jsonable(trainer.history), "evaluation": jsonable(evaluation)}
    if trainer.prepared is not None:
        record["preprocessing"] = trainer.prepared.preprocessing()
    if failed:
        record["error"] = result.message
    return record


def write_run(folder: str | Path, trainer: Any, result: Any, evaluation: dict[str, Any], *,
              project: str | None, model: str) -> Path | None:
    """Write the checkpoint (weights, optimizer, position) and ``history.json`` into
    ``folder``; returns the weights file (None for a run that failed before training). Call
    it on rank 0 only.

    Without the safetensors package (a train.py somewhere with torch alone) the weights are
    written in PyTorch's own format as ``weights.pt``, and there is no checkpoint to resume."""
    from .checkpoints import WEIGHTS

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    weights = None
    try:
        if trainer.ready:
            trainer.save_checkpoint(folder)
            weights = folder / WEIGHTS
    except ImportError:
        import torch

        weights = folder / "weights.pt"
        torch.save(trainer.module.state_dict(), weights)
    record = history_record(trainer, result, evaluation, project=project, model=model)
    (folder / HISTORY).write_text(json.dumps(record, indent=1))
    return weights
