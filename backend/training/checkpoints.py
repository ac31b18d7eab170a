"""Checkpoints: weights and optimizer state as safetensors, the rest as a small JSON file.

A folder holds ``weights.safetensors`` (the model's state dict), ``optimizer.safetensors``
(optimizer tensors, the epoch's shuffle order, RNG states, running sums) and ``trainer.json``
(epoch, step, schedule, history, optimizer hyper-parameters). Never pickle.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

FORMAT = "netcanvas-checkpoint"
VERSION = 1
WEIGHTS = "weights.safetensors"
STATE = "optimizer.safetensors"
META = "trainer.json"


class CheckpointError(ValueError):
    """A checkpoint folder that cannot be used; the message says why."""


@dataclass
class Checkpoint:
    """Everything needed to continue a run exactly where it stopped."""

    weights: dict[str, torch.Tensor]
    optimizer: dict[str, Any]
    tensors: dict[str, torch.Tensor] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)


def _cpu(t: torch.Tensor) -> torch.Tensor:
    return t.detach().to("cpu").contiguous().clone()


def save_weights(path: str | Path, state: dict[str, torch.Tensor]) -> None:
    """A state dict as safetensors (written to a temporary file, then renamed)."""
    from safetensors.torch import save_file  # only when writing: train.py runs without it

    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    save_file({k: _cpu(v) for k, v in state.items()}, str(tmp))
    os.replace(tmp, path)


def save_checkpoint(folder: str | Path, ckpt: Checkpoint) -> Path:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    save_weights(folder / WEIGHTS, ckpt.weights)
    tensors = {f"extra.{k}": _cpu(v) for k, v in ckpt.tensors.items()}
    scalars: dict[str, dict[str, Any]] = {}
    for pid, state in ckpt.optimizer["state"].items():
        for name, value in state.items():
            if isinstance(value, torch.Tensor):
                tensors[f"opt.{pid}.{name}"] = _cpu(value)
            else:
                scalars.setdefault(str(pid), {})[name] = value
    save_weights(folder / STATE, tensors)
    meta = {"format": FORMAT, "version": VERSION, **ckpt.meta,
            "optimizer": {"param_groups": ckpt.optimizer["param_groups"], "scalars": scalars}}
    tmp = folder / f".{META}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(meta, indent=1, allow_nan=True))
    os.replace(tmp, folder / META)
    return folder


def load_checkpoint(folder: str | Path) -> Checkpoint:
    folder = Path(folder)
    missing = [n for n in (WEIGHTS, STATE, META) if not (folder / n).is_file()]
    if missing:
        raise CheckpointError(f"{folder} is not a NetCanvas checkpoint (missing "
                              f"{', '.join(missing)}). Resume from the --out folder of a run.")
    from safetensors.torch import load_file

    try:
        meta = json.loads((folder / META).read_text())
        weights = load_file(str(folder / WEIGHTS))
        raw = load_file(str(folder / STATE))
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"Cannot read the checkpoint in {folder}: {exc}") from None
    if meta.get("format") != FORMAT or meta.get("version", 0) > VERSION:
        raise CheckpointError(f"{folder / META} is not a checkpoint this NetCanvas can read.")
    opt_meta = meta.pop("optimizer")
    state: dict[int, dict[str, Any]] = {}
    for pid, values in opt_meta.get("scalars", {}).items():
        state.setdefault(int(pid), {}).update(values)
    tensors = {}
    for key, value in raw.items():
        if key.startswith("opt."):
            _, pid, name = key.split(".", 2)
            state.setdefault(int(pid), {})[name] = value
        elif key.startswith("extra."):
            tensors[key[6:]] = value
    optimizer = {"state": state, "param_groups": opt_meta["param_groups"]}
    return Checkpoint(weights, optimizer, tensors, meta)


@dataclass
class LoadReport:
    """What a load did: names loaded, missing from the file, unexpected, or of another shape."""

    loaded: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    shape_mismatch: list[tuple[str, tuple[int, ...], tuple[int, ...]]] = field(
        default_factory=list)
    """(name, shape in the model, shape in the file)."""

    @property
    def complete(self) -> bool:
        return not (self.missing or self.unexpected or self.shape_mismatch)

    def summary(self, include_loaded: bool = True) -> str:
        parts = [f"{len(self.loaded)} tensors loaded"] if include_loaded else []
        if self.missing:
            parts.append(f"{len(self.missing)} kept their initial values "
                         f"({', '.join(self.missing[:5])}{'…' if len(self.missing) > 5 else ''})")
        if self.shape_mismatch:
            parts.append("shape differs for " + ", ".join(
                f"{n} (model {tuple(a)}, file {tuple(b)})" for n, a, b in self.shape_mismatch[:5]))
        if self.unexpected:
            parts.append(f"{len(self.unexpected)} in the file unused "
                         f"({', '.join(self.unexpected[:5])})")
        return "; ".join(parts) + "."


def load_state_by_name(module: nn.Module, state_dict: dict[str, torch.Tensor]) -> LoadReport:
    """Copy the tensors whose name and shape match into ``module``; report the rest."""
    report = LoadReport()
    own = module.state_dict()
    accepted = {}
    for name, tensor in state_dict.items():
        if name not in own:
            report.unexpected.append(name)
        elif tuple(own[name].shape) != tuple(tensor.shape):
            report.shape_mismatch.append((name, tuple(own[name].shape), tuple(tensor.shape)))
        else:
            accepted[name] = tensor
            report.loaded.append(name)
    report.missing = [n for n in own if n not in state_dict]
    if accepted:
        module.load_state_dict(accepted, strict=False)
    return report
