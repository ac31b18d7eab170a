"""The project's ``data`` section as a dataclass: which data set, how it is split and mapped.

Each field declares its setting once (`setting`): the validation, the settings form and the
command-line flags are derived from it. Pure Python (no torch).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..training.setting import CUSTOM, FRACTION, TEXT, Section, bad, setting, to_section

#: Data sets that need no file (generated or bundled with scikit-learn).
BUILTIN = ("or", "and", "xor", "moons", "circles", "spirals", "sequences", "digits",
           "digits_flat", "iris", "wine", "breast_cancer", "diabetes")
#: Data sets read from files (``path``); mnist/fashion_mnist read a cache folder of IDX files.
FILE_KINDS = ("csv", "npz", "idx", "images", "mnist", "fashion_mnist")
#: File data sets that must be given a ``path`` (the MNIST sets have a default cache folder).
NEEDS_PATH = ("csv", "npz", "idx", "images")
#: Data sets of images: training batches can be shifted, rotated and noised.
IMAGE_DATASETS = ("digits", "images", "idx", "mnist", "fashion_mnist", "npz")
#: Data sets whose loader reads a per-sample weight column (CSV) or array (NPZ).
WEIGHTED_DATASETS = ("csv", "npz")
ENCODINGS = ("auto", "index", "onehot", "value")
#: Where an Output's target comes from: the data set's targets, the design's input itself
#: (autoencoders reconstruct it), or zeros (a penalty output, e.g. a VAE's KL divergence, whose
#: mean absolute error against zero is its mean).
TARGET_SOURCES = ("data", "input", "zeros")
SECTION = "data"


def _object(key: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise bad(SECTION, key, value, "an object")
    return value


def _inputs(key: str, value: Any) -> dict[str, dict[str, Any]]:
    for name, spec in _object(key, value).items():
        feats = spec.get("features") if isinstance(spec, dict) else None
        if not isinstance(feats, list) or not all(
                isinstance(f, (int, str)) and not isinstance(f, bool) for f in feats):
            raise bad(SECTION, f"{key}.{name}", spec, '{"features": [column indices or names]}')
    return value


def _targets(key: str, value: Any) -> dict[str, dict[str, Any]]:
    for name, spec in _object(key, value).items():
        if not isinstance(spec, dict):
            raise bad(SECTION, f"{key}.{name}", spec, '{"target": name or index, "encoding": …}')
        enc = spec.get("encoding", "auto")
        if enc not in ENCODINGS:
            raise bad(SECTION, f"{key}.{name}.encoding", enc, "one of " + ", ".join(ENCODINGS))
        tgt = spec.get("target")
        if tgt is not None and (isinstance(tgt, bool) or not isinstance(tgt, (int, str))):
            raise bad(SECTION, f"{key}.{name}.target", tgt, "a target name or index")
        source = spec.get("source", "data")
        if source not in TARGET_SOURCES:
            raise bad(SECTION, f"{key}.{name}.source", source,
                      "one of " + ", ".join(TARGET_SOURCES))
        if not isinstance(spec.get("input", ""), str):
            raise bad(SECTION, f"{key}.{name}.input", spec["input"], "the name of an Input")
    return value


def _is_images(cfg: DataConfig) -> bool:
    return cfg.dataset in IMAGE_DATASETS


@dataclass
class AugmentConfig:
    """Training-time augmentation of image batches (all 0: off)."""

    shift: int = setting(0, "Shift", "Shift each training image by up to this many pixels "
                         "(zero fill).", lo=0, hi=64, unit=" px", suggested=2)
    rotate: float = setting(0.0, "Rotate", "Rotate each training image by a random angle of up "
                            "to ± this many degrees (zero fill).", lo=0.0, hi=180.0,
                            unit="°", decimals=0, suggested=10.0)
    noise: float = setting(0.0, "Noise", "Add Gaussian noise of this standard deviation to "
                           "each training image.", lo=0.0, hi=100.0, decimals=2, step=0.01,
                           suggested=0.05)

    def __bool__(self) -> bool:
        return bool(self.shift or self.rotate or self.noise)

    def to_dict(self) -> dict[str, float]:
        return to_section(self)


@dataclass
class DataConfig(Section):
    """Settings of the ``data`` section. ``None`` splits mean "the data set's default"."""

    SECTION = SECTION

    dataset: str = setting("iris", "Data set", "The data set to train on (built-in sets need "
                           "no files).", choices=BUILTIN + FILE_KINDS, lower=True, always=True,
                           flag=False)
    path: str = setting("", "Path", "The data file (csv, npz) or folder (image class folders, "
                        "IDX files, the MNIST cache); relative to the project's folder.",
                        kind=TEXT, flag=False)
    options: dict[str, Any] = setting({}, "Options", "Options of the data set's reader.",
                                      kind=CUSTOM, check=_object, form=False, flag=False)
    validation_split: float | None = setting(None, "Validation", "Share of the samples held "
                                             "out for validation.", kind=FRACTION,
                                             optional=True, flag=False)
    test_split: float | None = setting(None, "Test", "Share held out for the final test "
                                       "evaluation.", kind=FRACTION, optional=True, flag=False)
    seed: int = setting(0, "Split seed", "Seed of the split.", lo=-(2**63), hi=2**63 - 1,
                        always=True, flag=False)
    stratify: bool = setting(True, "Stratify", "Keep the class proportions of the first target "
                             "in every split.", flag=False)
    #: {input name: {"features": [indices or column names]}}; default: all to the single Input.
    inputs: dict[str, dict[str, Any]] = setting({}, "Inputs", "Feature columns per Input.",
                                                kind=CUSTOM, check=_inputs, form=False,
                                                flag=False)
    #: {output name: {"target": name or index, "encoding": auto|index|onehot|value}}.
    targets: dict[str, dict[str, Any]] = setting({}, "Targets", "Target and encoding per "
                                                 "Output.", kind=CUSTOM, check=_targets,
                                                 form=False, flag=False)
    #: Name of a column (CSV) or array (NPZ) holding per-sample weights.
    sample_weight: str | None = setting(
        None, "Sample weights", "Name of the CSV column (or NPZ array) holding one loss weight "
        "per sample, e.g. expert-labelled rows weighing more; empty: all samples weigh 1.",
        kind=TEXT, optional=True, flag=False, reset_when_off=True,
        applies=lambda c: c.dataset in WEIGHTED_DATASETS,
        needs="Per-sample weights come from a column of a CSV file (or an array of an NPZ "
        "file): choose csv or npz data to use them.")
    augment: AugmentConfig = setting(None, "Augment", "Shift, rotate and noise the training "
                                     "images anew in every epoch (not validation or test).",
                                     nested=AugmentConfig, flag=False, applies=_is_images,
                                     reset_when_off=True, switch=True,
                                     needs="Augmentation applies to image data (digits, "
                                     "images, idx, mnist, npz images); this data set is not "
                                     "images.")
    #: Standardise tabular features (and regression targets) with training-split statistics.
    standardize: bool = setting(True, "Standardise", "Standardise tabular features (and "
                                "regression targets) with the training split's mean and "
                                "deviation; exported models take raw values and undo it.",
                                flag=False)
    extra: dict[str, Any] = field(default_factory=dict)

    def cross_check(self) -> list[str]:
        out = []
        if self.dataset in NEEDS_PATH and not self.path:
            out.append(f"data settings: the '{self.dataset}' data set needs a 'path' to the "
                       "file or folder.")
        if (self.validation_split or 0) + (self.test_split or 0) >= 1:
            out.append("data settings: validation_split + test_split must leave samples for "
                       "training (their sum must be below 1).")
        return out
