"""The project's ``training`` section as a dataclass (optimizer, schedule, losses, stopping)."""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field, fields
from typing import Any

OPTIMIZERS = ("sgd", "adagrad", "rmsprop", "adam", "adamw")
SCHEDULES = ("constant", "step", "cosine", "exponential", "plateau")
DEVICES = ("auto", "cpu", "cuda", "mps")


def _bad(key: str, value: Any, allowed: str) -> ValueError:
    return ValueError(f"training settings: '{key}' = {value!r} is not allowed; use {allowed}.")


@dataclass
class ScheduleConfig:
    """Learning-rate schedule: ``kind`` after an optional linear warm-up (per step)."""

    kind: str = "constant"
    warmup_epochs: float = 0.0
    step_size: int = 10  # step: epochs between decays
    gamma: float = 0.1  # step / exponential: decay factor
    min_lr: float = 0.0  # cosine: final learning rate
    factor: float = 0.5  # plateau: multiply the lr by this…
    patience: int = 5  # …after this many epochs without improvement

    _RANGES = {"warmup_epochs": (0.0, 1e6), "step_size": (1, 1e9), "gamma": (1e-9, 1.0),
               "min_lr": (0.0, 1e3), "factor": (1e-9, 1.0), "patience": (0, 1e9)}

    @classmethod
    def from_value(cls, raw: Any) -> ScheduleConfig:
        if raw is None:
            return cls()
        if isinstance(raw, str):
            raw = {"kind": raw}
        if not isinstance(raw, dict):
            raise _bad("schedule", raw, "a schedule name or object")
        cfg = cls()
        kind = raw.get("kind", "constant")
        if kind not in SCHEDULES:
            raise _bad("schedule.kind", kind, "one of " + ", ".join(SCHEDULES))
        cfg.kind = kind
        for key, (lo, hi) in cls._RANGES.items():
            if key in raw:
                setattr(cfg, key, _number(f"schedule.{key}", raw[key], lo, hi,
                                          integer=isinstance(getattr(cfg, key), int)))
        return cfg

    def to_dict(self) -> dict[str, Any]:
        default = ScheduleConfig()
        return {"kind": self.kind, **{k: getattr(self, k) for k in self._RANGES
                                      if getattr(self, k) != getattr(default, k)}}


def _number(key: str, value: Any, lo: float, hi: float, integer: bool = False) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _bad(key, value, f"a number from {lo:g} to {hi:g}")
    if integer:
        if isinstance(value, float) and not value.is_integer():
            raise _bad(key, value, f"a whole number from {lo:g} to {hi:g}")
        value = int(value)
    if not (math.isfinite(value) and lo <= value <= hi):
        raise _bad(key, value, f"a number from {lo:g} to {hi:g}")
    return value if integer else float(value)


@dataclass
class TrainConfig:
    """Everything about how a design is trained (the ``training`` section)."""

    epochs: int = 20
    batch_size: int = 32  # 0 = full batch; per process under torchrun
    optimizer: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.0  # SGD / RMSprop
    nesterov: bool = False  # SGD
    weight_decay: float = 0.0
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    #: None, "balanced", or one weight per class (applies to class targets).
    class_weights: str | list[float] | None = None
    clip_grad_norm: float = 0.0  # 0 = off
    early_stopping_patience: int = 0  # 0 = off; epochs without validation improvement
    restore_best_weights: bool = True
    seed: int = 0
    device: str = "auto"
    amp: bool = False  # mixed precision on CUDA
    threads: int = 0  # 0 = PyTorch's default
    report_every: int = 10  # batches between BatchEnd events (and device syncs)…
    report_seconds: float = 0.05  # …and at least this long between them (0: every interval)
    extra: dict[str, Any] = field(default_factory=dict)

    _INTS = {"epochs": (1, 10**7), "batch_size": (0, 10**8), "early_stopping_patience": (0, 10**6),
             "seed": (-(2**63), 2**63 - 1), "threads": (0, 4096), "report_every": (1, 10**9)}
    _FLOATS = {"lr": (0.0, 1e3), "momentum": (0.0, 1.0), "weight_decay": (0.0, 1e3),
               "clip_grad_norm": (0.0, 1e9), "report_seconds": (0.0, 3600.0)}
    _BOOLS = ("nesterov", "restore_best_weights", "amp")

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | None) -> TrainConfig:
        """Parse and validate a ``training`` section; unknown keys are kept in ``extra``."""
        raw = copy.deepcopy(raw or {})
        if not isinstance(raw, dict):
            raise ValueError("training settings must be a JSON object.")
        cfg = cls()
        for key, (lo, hi) in cls._INTS.items():
            if key in raw:
                setattr(cfg, key, _number(key, raw[key], lo, hi, integer=True))
        for key, (lo, hi) in cls._FLOATS.items():
            if key in raw:
                setattr(cfg, key, _number(key, raw[key], lo, hi))
        for key in cls._BOOLS:
            if key in raw:
                if not isinstance(raw[key], bool):
                    raise _bad(key, raw[key], "true or false")
                setattr(cfg, key, raw[key])
        opt = raw.get("optimizer", cfg.optimizer)
        if not isinstance(opt, str) or opt.lower() not in OPTIMIZERS:
            raise _bad("optimizer", opt, "one of " + ", ".join(OPTIMIZERS))
        cfg.optimizer = opt.lower()
        if cfg.nesterov and (cfg.optimizer != "sgd" or cfg.momentum <= 0):
            raise ValueError("training settings: 'nesterov' needs the SGD optimizer with a "
                             "momentum above 0.")
        device = raw.get("device", cfg.device)
        if not isinstance(device, str) or device.split(":")[0] not in DEVICES:
            raise _bad("device", device, "one of " + ", ".join(DEVICES))
        cfg.device = device
        cfg.schedule = ScheduleConfig.from_value(raw.get("schedule"))
        cw = raw.get("class_weights")
        if cw is not None and cw != "balanced" and not (
            isinstance(cw, list) and cw and all(
                isinstance(w, (int, float)) and not isinstance(w, bool) and math.isfinite(w)
                and w >= 0 for w in cw)
        ):
            raise _bad("class_weights", cw, '"balanced" or a list of weights (≥ 0), one per class')
        cfg.class_weights = cw
        known = {f.name for f in fields(cls)}
        cfg.extra = {k: v for k, v in raw.items() if k not in known}
        return cfg

    def to_dict(self) -> dict[str, Any]:
        """The JSON section: every setting, plus unknown keys preserved."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name == "extra":
                continue
            value = getattr(self, f.name)
            out[f.name] = value.to_dict() if isinstance(value, ScheduleConfig) else copy.deepcopy(
                value)
        out.update(copy.deepcopy(self.extra))
        return out
