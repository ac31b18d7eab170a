"""Per-Output losses, from the Output node's ``loss`` parameter.

Outputs whose final softmax/sigmoid the compiler removed return logits: cross-entropy and
binary cross-entropy take them directly; any other loss gets the activation re-applied first.
Weighted losses are normalised weighted means: sum(w·l) / sum(w).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

LossFn = Callable[[torch.Tensor, torch.Tensor, "torch.Tensor | None"], torch.Tensor]

_ACTIVATIONS = {"softmax": lambda t: torch.softmax(t, -1),
                "log_softmax": lambda t: torch.log_softmax(t, -1),
                "sigmoid": torch.sigmoid}
_CONSUMES_LOGITS = {"cross_entropy": ("softmax", "log_softmax"),
                    "binary_cross_entropy": ("sigmoid",)}


def output_transform(loss: str, stripped: str | None) -> Callable[[torch.Tensor], torch.Tensor] | None:
    """What to apply to the module's output before the loss (None: nothing)."""
    if stripped is None or stripped in _CONSUMES_LOGITS.get(loss, ()):
        return None
    if loss == "nll" and stripped == "softmax":
        return _ACTIVATIONS["log_softmax"]
    return _ACTIVATIONS[stripped]


def _class_last(pred: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, T, C) sequences → (N·T, C) rows, so every loss sees (rows, classes)."""
    if pred.dim() > 2:
        c = pred.shape[-1]
        pred = pred.reshape(-1, c)
        target = target.reshape(-1, c) if target.is_floating_point() else target.reshape(-1)
    return pred, target


def _weighted(per_sample: torch.Tensor, n: int, weight: torch.Tensor) -> torch.Tensor:
    per_sample = per_sample.reshape(n, -1).mean(1)
    return (per_sample * weight).sum() / weight.sum().clamp_min(1e-12)


def make_loss(kind: str) -> LossFn | None:
    """``fn(pred, target, weight) -> scalar`` for a catalogue loss name (None for "none")."""
    if kind == "none":
        return None
    if kind in ("mse", "mae", "huber"):
        base = {"mse": F.mse_loss, "mae": F.l1_loss, "huber": F.huber_loss}[kind]

        def regression(pred: torch.Tensor, target: torch.Tensor,
                       weight: torch.Tensor | None) -> torch.Tensor:
            if weight is None:
                return base(pred, target)
            return _weighted(base(pred, target, reduction="none"), len(pred), weight)

        return regression
    if kind in ("cross_entropy", "nll"):
        base = F.cross_entropy if kind == "cross_entropy" else F.nll_loss

        def classes(pred: torch.Tensor, target: torch.Tensor,
                    weight: torch.Tensor | None) -> torch.Tensor:
            n = pred.shape[0]
            pred, target = _class_last(pred, target)
            if weight is None:
                return base(pred, target)
            return _weighted(base(pred, target, reduction="none"), n, weight)

        return classes
    if kind == "binary_cross_entropy":
        def binary(pred: torch.Tensor, target: torch.Tensor,
                   weight: torch.Tensor | None) -> torch.Tensor:
            if weight is None:
                return F.binary_cross_entropy_with_logits(pred, target)
            return _weighted(F.binary_cross_entropy_with_logits(pred, target, reduction="none"),
                             len(pred), weight)

        return binary
    raise ValueError(f"Unknown loss {kind!r}; use mse, mae, huber, cross_entropy, "
                     "binary_cross_entropy, nll or none.")
