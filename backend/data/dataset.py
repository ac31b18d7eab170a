"""An in-memory data set: one feature tensor and named targets, with what they mean."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

import torch

#: ``format`` of a data set saved as named tensors (`Dataset.to_tensors`).
TENSORS_FORMAT = "netcanvas-dataset"


@dataclass
class Target:
    """One target column: class ids (``classes`` set) or continuous values."""

    name: str
    values: torch.Tensor  # (N,) int64 class ids, or (N,) / (N, k) float32 values
    classes: tuple[str, ...] | None = None

    @property
    def is_classes(self) -> bool:
        return self.classes is not None

    @property
    def num_classes(self) -> int:
        return len(self.classes or ())


@dataclass
class Dataset:
    """Features ``x`` (N, …) and targets; the first target is the default for every Output."""

    name: str
    x: torch.Tensor
    targets: dict[str, Target]
    feature_names: tuple[str, ...] = ()
    #: Standardise features with training statistics (tabular data); images are pre-scaled.
    tabular: bool = False
    sample_weight: torch.Tensor | None = None
    #: Default (validation, test) fractions when the data settings leave them unset.
    default_splits: tuple[float, float] = (0.2, 0.0)
    #: When set, rows from here on are the official test set (MNIST's t10k files).
    test_start: int | None = None
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        n = len(self.x)
        for t in self.targets.values():
            if len(t.values) != n:
                raise ValueError(f"target {t.name!r} has {len(t.values)} rows, features {n}")
        if self.x.dim() == 2 and not self.feature_names:
            self.feature_names = tuple(f"x{i}" for i in range(self.x.shape[1]))

    def __len__(self) -> int:
        return len(self.x)

    @property
    def sample_shape(self) -> tuple[int, ...]:
        return tuple(self.x.shape[1:])

    def to_tensors(self) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
        """The data set as named tensors and a text header (for a safetensors file): the
        exported train.py reads the user's data this way, exactly as NetCanvas read them."""
        tensors = {"x": self.x}
        for i, t in enumerate(self.targets.values()):
            tensors[f"target.{i}"] = t.values
        if self.sample_weight is not None:
            tensors["sample_weight"] = self.sample_weight
        header = {"name": self.name, "feature_names": list(self.feature_names),
                  "tabular": self.tabular, "default_splits": list(self.default_splits),
                  "test_start": self.test_start, "notes": list(self.notes),
                  "targets": [{"name": t.name, "classes": None if t.classes is None else
                               list(t.classes)} for t in self.targets.values()]}
        tensors = {k: v.detach().cpu().contiguous().clone() for k, v in tensors.items()}
        return tensors, {"format": TENSORS_FORMAT, "dataset": json.dumps(header)}

    @classmethod
    def from_tensors(cls, tensors: dict[str, torch.Tensor], metadata: dict[str, str]
                     ) -> Dataset:
        """The data set `to_tensors` wrote."""
        if metadata.get("format") != TENSORS_FORMAT:
            raise ValueError("This file does not hold a NetCanvas data set.")
        head = json.loads(metadata["dataset"])
        targets = {}
        for i, t in enumerate(head["targets"]):
            classes = None if t["classes"] is None else tuple(t["classes"])
            targets[t["name"]] = Target(t["name"], tensors[f"target.{i}"], classes)
        return cls(head["name"], tensors["x"], targets, tuple(head["feature_names"]),
                   head["tabular"], tensors.get("sample_weight"),
                   tuple(head["default_splits"]), head["test_start"], list(head["notes"]))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Dataset:
        """A data set saved as a safetensors file of `to_tensors` (needs safetensors)."""
        from safetensors import safe_open

        with safe_open(os.fspath(path), framework="pt") as fh:
            tensors = {k: fh.get_tensor(k) for k in fh.keys()}  # noqa: SIM118 - not a dict
            header = fh.metadata() or {}
        return cls.from_tensors(tensors, header)

    def target(self, key: str | int | None) -> Target:
        """A target by name or position (None: the first); a clear error otherwise."""
        names = list(self.targets)
        if key is None:
            return self.targets[names[0]]
        if isinstance(key, int) and not isinstance(key, bool):
            if 0 <= key < len(names):
                return self.targets[names[key]]
        elif key in self.targets:
            return self.targets[key]
        from .errors import DataError

        raise DataError(f"The data set '{self.name}' has no target {key!r}; its targets are: "
                        + ", ".join(f"{i}: {n}" for i, n in enumerate(names)) + ".")
