"""What a training step minimises: each Output's loss on its target, weighted per sample and
summed with the Outputs' loss weights. The training loop, the learning-rate finder and the
profiler all compute a step's loss here, so they cannot differ."""

from __future__ import annotations

from typing import Any

import torch

from ..data.prepare import OutputTarget, SplitData
from .losses import make_loss, output_transform
from .setup import ModelParts, sample_weights


class Objective:
    """The per-output losses of a design on its training split, and their weighted sum."""

    def __init__(self, parts: ModelParts, outputs: list[OutputTarget], train: SplitData,
                 class_weights: str | list[float] | None) -> None:
        specs = {o.name: o for o in parts.outputs}
        self.specs = [specs[o.output] for o in outputs]
        self.losses = [make_loss(s.loss) for s in self.specs]
        self.transforms = [output_transform(s.loss, parts.stripped.get(s.name))
                           for s in self.specs]
        #: Each output's weight in the total (None: the output has no loss).
        self.weights = [None if s.loss == "none" else float(s.loss_weight) for s in self.specs]
        #: Per-sample weights of the training rows (sample weights × class weights), or None.
        self.sample_w = [sample_weights(info, lab, train.weight, class_weights)
                         for info, lab in zip(outputs, train.labels)]
        self.single = len(outputs) == 1 and self.weights[0] == 1.0

    def predictions(self, out: Any) -> list[torch.Tensor]:
        """The module's outputs as the losses see them (a removed activation re-applied)."""
        out = out if isinstance(out, (tuple, list)) else (out,)
        return [o if t is None else t(o) for o, t in zip(out, self.transforms)]

    def __call__(self, out: Any, targets: list[torch.Tensor | None], idx: torch.Tensor,
                 move_to: torch.device | None = None, amp: bool = False
                 ) -> tuple[torch.Tensor, list[tuple[Any, torch.Tensor, Any]]]:
        """(total loss, [(loss, prediction, target) per output]) of training rows ``idx``.

        ``targets``: the training split's targets; ``move_to``: the device when they are
        elsewhere; ``amp``: the losses take float32 predictions under autocast."""
        total = None
        parts: list[tuple[Any, torch.Tensor, Any]] = []
        for i, pred in enumerate(self.predictions(out)):
            fn = self.losses[i]
            if fn is None:
                parts.append((None, pred, None))
                continue
            target = targets[i][idx]
            w = self.sample_w[i]
            if w is not None:
                w = w[idx]
            if move_to is not None:
                target = target.to(move_to, non_blocking=True)
                w = None if w is None else w.to(move_to)
            loss = fn(pred.float() if amp else pred, target, w)
            parts.append((loss, pred, target))
            total = loss if self.single else (
                loss * self.weights[i] if total is None else total + loss * self.weights[i])
        return total, parts
