"""What a person needs to map a data set onto a design: its columns (name, type, a few values),
its targets, its size; the built-in sets' sizes; column lists typed as ranges (``0-4, 7``).

The settings form shows these (a column picker per Input and a target per Output); the parsing
here is the one the form checks typed text with, against the data set when it is known, so bad
text is refused as it is typed with the same reason training would give. Torch only to read a
loaded `Dataset`; the parsing and the built-in table are plain Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

#: Values shown per column in the picker.
PREVIEW_VALUES = 3


@dataclass(frozen=True)
class ColumnInfo:
    """One feature column: position, name, kind ("number", "whole number", "0/1") and the
    first values as text."""

    index: int
    name: str
    kind: str
    preview: tuple[str, ...]


@dataclass(frozen=True)
class TargetInfo:
    """One target: its name, what it holds ("3 classes: a, b, c" / "values") and first values."""

    name: str
    kind: str
    classes: int | None
    preview: tuple[str, ...]


@dataclass(frozen=True)
class DataFacts:
    """A loaded data set as the form describes it."""

    name: str
    samples: int
    sample_shape: tuple[int, ...]
    columns: tuple[ColumnInfo, ...]  # empty unless tabular (N, features)
    targets: tuple[TargetInfo, ...]

    @property
    def tabular(self) -> bool:
        return len(self.sample_shape) == 1

    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def summary(self) -> str:
        """``"442 samples · 10 features · target 'target': values"``."""
        what = (f"{self.sample_shape[0]} features" if self.tabular else
                "samples of shape " + " × ".join(str(s) for s in self.sample_shape))
        targets = "; ".join(f"'{t.name}': {t.kind}" for t in self.targets)
        noun = "target" if len(self.targets) == 1 else "targets"
        return f"{self.samples} samples · {what} · {noun} {targets}"


def _text(value: float) -> str:
    return f"{value:.4g}"


def _kind(values: Any) -> str:
    import torch

    if values.numel() == 0:
        return "number"
    finite = values[torch.isfinite(values)]
    if finite.numel() and bool(torch.all(finite == finite.round())):
        distinct = torch.unique(finite)
        if distinct.numel() <= 2 and bool(torch.all((distinct == 0) | (distinct == 1))):
            return "0/1"
        return "whole number"
    return "number"


def describe(ds: Any) -> DataFacts:
    """The facts of a loaded `backend.data.dataset.Dataset`."""
    x = ds.x
    columns: list[ColumnInfo] = []
    if x.dim() == 2:
        head = x[:PREVIEW_VALUES].float()
        sample = x[:2000].float()
        for i in range(x.shape[1]):
            name = ds.feature_names[i] if i < len(ds.feature_names) else f"x{i}"
            columns.append(ColumnInfo(i, str(name), _kind(sample[:, i]),
                                      tuple(_text(float(v)) for v in head[:, i])))
    targets = []
    for t in ds.targets.values():
        values = t.values[:PREVIEW_VALUES]
        if t.is_classes:
            names = list(t.classes or ())
            shown = ", ".join(names[:4]) + (", …" if len(names) > 4 else "")
            kind = f"{len(names)} classes ({shown})"
            preview = tuple(names[int(v)] if 0 <= int(v) < len(names) else str(int(v))
                            for v in values.reshape(-1)[:PREVIEW_VALUES])
            targets.append(TargetInfo(t.name, kind, len(names), preview))
        else:
            width = 1 if t.values.dim() == 1 else int(t.values[0].numel())
            kind = "values" if width == 1 else f"{width} values per sample"
            preview = tuple(_text(float(v)) for v in values.reshape(len(values), -1)[:, 0])
            targets.append(TargetInfo(t.name, kind, None, preview))
    return DataFacts(ds.name, len(ds), tuple(int(s) for s in x.shape[1:]), tuple(columns),
                     tuple(targets))


@dataclass(frozen=True)
class BuiltinFacts:
    """A built-in data set at its default options: samples, features per sample, target."""

    samples: int
    features: str
    target: str

    def text(self) -> str:
        return f"{self.samples} samples · {self.features} · {self.target}"


#: The built-in sets as they load with default options (tests/backend/test_columns.py loads
#: each and checks this table).
BUILTIN_FACTS: dict[str, BuiltinFacts] = {
    "or": BuiltinFacts(4, "2 features", "2 classes"),
    "and": BuiltinFacts(4, "2 features", "2 classes"),
    "xor": BuiltinFacts(4, "2 features", "2 classes"),
    "moons": BuiltinFacts(1000, "2 features", "2 classes"),
    "circles": BuiltinFacts(1000, "2 features", "2 classes"),
    "spirals": BuiltinFacts(999, "2 features", "3 classes"),
    "sequences": BuiltinFacts(1000, "20 steps × 1 feature", "2 classes"),
    "digits": BuiltinFacts(1797, "8×8 images", "10 classes"),
    "digits_flat": BuiltinFacts(1797, "64 features", "10 classes"),
    "iris": BuiltinFacts(150, "4 features", "3 classes"),
    "wine": BuiltinFacts(178, "13 features", "3 classes"),
    "breast_cancer": BuiltinFacts(569, "30 features", "2 classes"),
    "diabetes": BuiltinFacts(442, "10 features", "values (regression)"),
}


def parse_columns(text: str, names: Sequence[str] | None = None) -> list[int | str]:
    """``"0-4, 7"`` → ``[0, 1, 2, 3, 4, 7]``; ``"age, bmi"`` → names; ValueError saying what is
    wrong otherwise. With ``names`` (the data set's columns, when known) indices are checked
    against their count and names against them."""
    out: list[int | str] = []
    width = len(names) if names is not None else None

    def check_index(i: int, part: str) -> int:
        if width is not None and not -width <= i < width:
            raise ValueError(f"column {i} does not exist: the data set has {width} columns "
                             f"(0–{width - 1}).")
        return i

    for raw in text.replace(";", ",").split(","):
        part = raw.strip()
        if not part:
            continue
        lo, dash, hi = part.partition("-")
        if dash and lo.strip().isdigit() and hi.strip().isdigit():
            a, b = int(lo), int(hi)
            if b < a:
                raise ValueError(f"“{part}” runs backwards; write the lower column first "
                                 f"({b}-{a}).")
            check_index(a, part), check_index(b, part)
            out.extend(range(a, b + 1))
            continue
        if part.lstrip("-").isdigit():
            out.append(check_index(int(part), part))
            continue
        if dash and (lo.strip().isdigit() or hi.strip().isdigit()):
            raise ValueError(f"“{part}” is not a range; write ranges like “0-4”.")
        if names is not None and part not in names:
            shown = ", ".join(names[:8]) + (", …" if len(names) > 8 else "")
            raise ValueError(f"there is no column “{part}”; the columns are: {shown}.")
        out.append(part)
    seen: set[int | str] = set()
    if names is not None:  # the same column twice (by index and by name) is a mistake
        for item in out:
            key = names.index(item) if isinstance(item, str) else item % len(names)
            if key in seen:
                raise ValueError(f"column {names[key]} ({key}) is listed twice.")
            seen.add(key)
    return out


def format_columns(features: Sequence[int | str]) -> str:
    """The inverse of `parse_columns` for display: runs of indices as ranges (``0-4, 7``)."""
    parts: list[str] = []
    run: list[int] = []

    def flush() -> None:
        if run:
            parts.append(f"{run[0]}-{run[-1]}" if len(run) > 2 else
                         ", ".join(str(i) for i in run))
            run.clear()

    for f in features:
        if isinstance(f, int) and not isinstance(f, bool) and f >= 0 and run and f == run[-1] + 1:
            run.append(f)
            continue
        flush()
        if isinstance(f, int) and not isinstance(f, bool) and f >= 0:
            run.append(f)
        else:
            parts.append(str(f))
    flush()
    return ", ".join(parts)


def column_indices(features: Sequence[int | str], names: Sequence[str]) -> list[int]:
    """The positions of a feature list (indices or names) among ``names``; unknown ones
    are left out."""
    out = []
    for f in features:
        if isinstance(f, str):
            if f in names:
                out.append(list(names).index(f))
        elif -len(names) <= f < len(names):
            out.append(f % len(names))
    return out
