"""The project's ``data`` section as a dataclass: which data set, how it is split and mapped."""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any

#: Data sets that need no file (generated or bundled with scikit-learn).
BUILTIN = ("or", "and", "xor", "moons", "circles", "spirals", "sequences", "digits",
           "digits_flat", "iris", "wine", "breast_cancer", "diabetes")
#: Data sets read from files (``path``); mnist/fashion_mnist read a cache folder of IDX files.
FILE_KINDS = ("csv", "npz", "idx", "images", "mnist", "fashion_mnist")
ENCODINGS = ("auto", "index", "onehot", "value")
#: Where an Output's target comes from: the data set's targets, the design's input itself
#: (autoencoders reconstruct it), or zeros (a penalty output, e.g. a VAE's KL divergence, whose
#: mean absolute error against zero is its mean).
TARGET_SOURCES = ("data", "input", "zeros")

_KNOWN = {"dataset", "path", "options", "validation_split", "test_split", "seed", "stratify",
          "inputs", "targets", "sample_weight", "augment", "standardize"}


def _bad(key: str, value: Any, allowed: str) -> ValueError:
    return ValueError(f"data settings: '{key}' = {value!r} is not allowed; use {allowed}.")


def _fraction(key: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
        math.isfinite(value) and 0.0 <= value < 1.0
    ):
        raise _bad(key, value, "a fraction from 0 to below 1 (e.g. 0.2)")
    return float(value)


@dataclass
class DataConfig:
    """Settings of the ``data`` section. ``None`` splits mean "the data set's default"."""

    dataset: str = "iris"
    path: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    validation_split: float | None = None
    test_split: float | None = None
    seed: int = 0
    stratify: bool = True
    #: {input name: {"features": [indices or column names]}}; default: all to the single Input.
    inputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: {output name: {"target": name or index, "encoding": auto|index|onehot|value,
    #: "source": data|input|zeros, "input": the Input reconstructed (source "input")}}.
    targets: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Name of a column (CSV) or array (NPZ) holding per-sample weights.
    sample_weight: str | None = None
    #: Training-time augmentation of image batches: {"shift": pixels, "rotate": degrees,
    #: "noise": std}.
    augment: dict[str, float] = field(default_factory=dict)
    #: Standardise tabular features (and regression targets) with training-split statistics.
    standardize: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | None) -> DataConfig:
        """Parse and validate a ``data`` section; unknown keys are kept in ``extra``."""
        raw = copy.deepcopy(raw or {})
        if not isinstance(raw, dict):
            raise ValueError("data settings must be a JSON object.")
        cfg = cls()
        dataset = raw.get("dataset", cfg.dataset)
        if not isinstance(dataset, str) or dataset.lower() not in BUILTIN + FILE_KINDS:
            raise _bad("dataset", dataset, "one of " + ", ".join(BUILTIN + FILE_KINDS))
        cfg.dataset = dataset.lower()
        path = raw.get("path", "")
        if not isinstance(path, str):
            raise _bad("path", path, "a file or folder path")
        cfg.path = path
        if cfg.dataset in ("csv", "npz", "idx", "images") and not path:
            raise ValueError(f"data settings: the '{cfg.dataset}' data set needs a 'path' "
                             "to the file or folder.")
        for key in ("options", "inputs", "targets", "augment"):
            value = raw.get(key, {})
            if not isinstance(value, dict):
                raise _bad(key, value, "an object")
            setattr(cfg, key, value)
        cfg.validation_split = _fraction("validation_split", raw.get("validation_split"))
        cfg.test_split = _fraction("test_split", raw.get("test_split"))
        if (cfg.validation_split or 0) + (cfg.test_split or 0) >= 1:
            raise ValueError("data settings: validation_split + test_split must leave samples "
                             "for training (their sum must be below 1).")
        seed = raw.get("seed", 0)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise _bad("seed", seed, "a whole number")
        cfg.seed = seed
        for key in ("stratify", "standardize"):
            value = raw.get(key, getattr(cfg, key))
            if not isinstance(value, bool):
                raise _bad(key, value, "true or false")
            setattr(cfg, key, value)
        for name, spec in cfg.inputs.items():
            feats = spec.get("features") if isinstance(spec, dict) else None
            if not isinstance(spec, dict) or not isinstance(feats, list) or not all(
                isinstance(f, (int, str)) and not isinstance(f, bool) for f in feats
            ):
                raise _bad(f"inputs.{name}", spec,
                           '{"features": [column indices or names]}')
        for name, spec in cfg.targets.items():
            if not isinstance(spec, dict):
                raise _bad(f"targets.{name}", spec, '{"target": name or index, "encoding": …}')
            enc = spec.get("encoding", "auto")
            if enc not in ENCODINGS:
                raise _bad(f"targets.{name}.encoding", enc, "one of " + ", ".join(ENCODINGS))
            tgt = spec.get("target")
            if tgt is not None and (isinstance(tgt, bool) or not isinstance(tgt, (int, str))):
                raise _bad(f"targets.{name}.target", tgt, "a target name or index")
            source = spec.get("source", "data")
            if source not in TARGET_SOURCES:
                raise _bad(f"targets.{name}.source", source, "one of " + ", ".join(TARGET_SOURCES))
            if not isinstance(spec.get("input", ""), str):
                raise _bad(f"targets.{name}.input", spec["input"], "the name of an Input")
        sw = raw.get("sample_weight")
        if sw is not None and not isinstance(sw, str):
            raise _bad("sample_weight", sw, "a column name")
        cfg.sample_weight = sw
        for key, value in cfg.augment.items():
            if key not in ("shift", "noise", "rotate"):
                raise _bad(f"augment.{key}", value, "the keys 'shift' (pixels), 'rotate' "
                           "(degrees) or 'noise' (std)")
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise _bad(f"augment.{key}", value, "a number of at least 0")
            if key == "rotate" and value > 180:
                raise _bad(f"augment.{key}", value, "an angle from 0 to 180 degrees")
        cfg.extra = {k: v for k, v in raw.items() if k not in _KNOWN}
        return cfg

    def to_dict(self) -> dict[str, Any]:
        """The JSON section (only non-default keys besides ``dataset``; unknown keys kept)."""
        out: dict[str, Any] = {"dataset": self.dataset}
        if self.path:
            out["path"] = self.path
        for key in ("options", "inputs", "targets", "augment"):
            if getattr(self, key):
                out[key] = copy.deepcopy(getattr(self, key))
        for key in ("validation_split", "test_split"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        out["seed"] = self.seed
        if not self.stratify:
            out["stratify"] = False
        if not self.standardize:
            out["standardize"] = False
        if self.sample_weight is not None:
            out["sample_weight"] = self.sample_weight
        out.update(copy.deepcopy(self.extra))
        return out
