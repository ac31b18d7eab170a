"""Setting a run up: the device, the model and its inputs and outputs, the optimizer, weights
per output."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from ..data.prepare import InputSpec, OutputSpec, OutputTarget
from .config import TrainConfig


def pick_device(name: str) -> torch.device:
    """``auto`` → CUDA, then Apple MPS, then CPU; an explicit device must exist."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"The device '{name}' was asked for, but this PyTorch sees no CUDA GPU. "
                         "Use the device 'auto' or 'cpu'.")
    if device.type == "mps" and not (getattr(torch.backends, "mps", None) and
                                     torch.backends.mps.is_available()):
        raise ValueError("The device 'mps' was asked for, but Apple's MPS is not available here. "
                         "Use the device 'auto' or 'cpu'.")
    return device


@dataclass
class ModelParts:
    """A module with the names and specs of its inputs and outputs."""

    module: nn.Module
    inputs: list[InputSpec]
    outputs: list[OutputSpec]
    stripped: dict[str, str] = field(default_factory=dict)
    #: Sentences about layers that block gradients (Sign/Step), for a warning.
    zero_gradient: list[str] = field(default_factory=list)
    #: Layer (node) name → module attribute, for per-layer settings (lr multipliers).
    layer_attrs: dict[str, str] = field(default_factory=dict)
    #: Module paths of frozen layers (``encoder``, ``layer1.0.conv1``): their parameters do not
    #: train, and they run in inference mode while the rest trains (batch-norm statistics and
    #: dropout stay as they were, as in Keras).
    frozen: list[str] = field(default_factory=list)

    def train(self) -> nn.Module:
        """The module in training mode but for its frozen layers (inference mode); returns it."""
        self.module.train()
        for path in self.frozen:
            self.module.get_submodule(path).eval()
        return self.module


def _spec(cls: type, value: Any) -> Any:
    """A spec from itself, a name, or its fields as a dict (as train.py writes them)."""
    if isinstance(value, cls):
        return value
    if isinstance(value, dict):
        value = dict(value)
        if value.get("shape") is not None:
            value["shape"] = tuple(value["shape"])
        return cls(**value)
    return cls(value)


def parts_from_module(module: nn.Module, inputs: list[InputSpec | str | dict] | None,
                      outputs: list[OutputSpec | str | dict] | None,
                      stripped: dict[str, str] | None = None,
                      layer_attrs: dict[str, str] | None = None,
                      frozen: list[str] | None = None) -> ModelParts:
    """A plain module whose forward takes the inputs positionally and returns one tensor or
    a tuple in ``outputs`` order. ``frozen``: attributes (or dotted paths of layers inside
    blocks, ``layer1.0.conv1``) whose parameters do not train."""
    ins = [_spec(InputSpec, i) for i in (inputs or ["input"])]
    outs = [_spec(OutputSpec, o) for o in (outputs or ["output"])]
    for attr in frozen or ():
        for p in module.get_submodule(attr).parameters():
            p.requires_grad_(False)
    return ModelParts(module, ins, outs, dict(stripped or {}), [], dict(layer_attrs or {}),
                      list(frozen or ()))


def make_optimizer(params: list[nn.Parameter], cfg: TrainConfig) -> torch.optim.Optimizer:
    """The configured optimizer over the trainable parameters only."""
    if not params:
        raise ValueError("Nothing to train: every layer is frozen (trainable off) or has no "
                         "weights. Switch 'trainable' on for at least one layer.")
    kind, lr, wd = cfg.optimizer, cfg.lr, cfg.weight_decay
    if kind == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=cfg.momentum, nesterov=cfg.nesterov,
                               weight_decay=wd)
    if kind == "adagrad":
        return torch.optim.Adagrad(params, lr=lr, weight_decay=wd)
    if kind == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, momentum=cfg.momentum, weight_decay=wd)
    if kind == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=wd)
    return torch.optim.AdamW(params, lr=lr, weight_decay=wd)


def sample_weights(info: OutputTarget, labels: torch.Tensor | None,
                   sample_weight: torch.Tensor | None, class_weights: str | list[float] | None
                   ) -> torch.Tensor | None:
    """Per-sample loss weights for one output: sample weights × class weights (or None)."""
    weight = sample_weight
    if class_weights is not None and labels is not None and info.num_classes:
        k = info.num_classes
        if class_weights == "balanced":
            counts = torch.bincount(labels.reshape(-1), minlength=k).double()
            per_class = (len(labels) / (k * counts.clamp_min(1))).float()
        else:
            if len(class_weights) != k:
                raise ValueError(f"training settings: 'class_weights' lists {len(class_weights)} "
                                 f"weights, but output '{info.output}' has {k} classes.")
            per_class = torch.tensor(class_weights, dtype=torch.float32)
        cw = per_class.to(labels.device)[labels.reshape(len(labels), -1)[:, 0]]
        weight = cw if weight is None else weight * cw
    return weight
