"""An in-memory data set: one feature tensor and named targets, with what they mean."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch


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
        from backend.data.errors import DataError

        raise DataError(f"The data set '{self.name}' has no target {key!r}; its targets are: "
                        + ", ".join(f"{i}: {n}" for i, n in enumerate(names)) + ".")
