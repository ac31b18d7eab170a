"""One training step's loss, computed exactly as the Trainer computes it.

The learning-rate finder and the profiler drive a prepared `Trainer`'s module batch by batch
outside its loop; this puts the Trainer's per-output loss rule (transform, per-sample weights,
weighted sum) in one reusable place built from the Trainer's public set-up.
"""

from __future__ import annotations

import torch

from backend.training.losses import make_loss, output_transform
from backend.training.setup import sample_weights


class LossStep:
    """``step(idx)`` → the weighted total training loss of rows ``idx`` (a tensor with grad)."""

    def __init__(self, trainer, input_grad: bool = False) -> None:
        """``trainer``: a `backend.training.trainer.Trainer` (prepared here). ``input_grad``: inputs
        require grad, so backward hooks of the first layer see its whole backward (profiling)."""
        trainer.prepare()
        self.input_grad = input_grad
        self.trainer = trainer
        self.module = trainer.module
        self.device = trainer.device
        self.data = trainer.train_data
        specs = {o.name: o for o in trainer.parts.outputs}
        outs = trainer.prepared.outputs
        self.specs = [specs[o.output] for o in outs]
        self.losses = [make_loss(s.loss) for s in self.specs]
        self.transforms = [output_transform(s.loss, trainer.parts.stripped.get(s.name))
                           for s in self.specs]
        self.weights = [None if s.loss == "none" else float(s.loss_weight) for s in self.specs]
        self.sample_w = [sample_weights(info, lab, self.data.weight, trainer.config.class_weights)
                         for info, lab in zip(outs, self.data.labels)]
        self.single = len(outs) == 1 and self.weights[0] == 1.0

    def __len__(self) -> int:
        return len(self.data)

    def __call__(self, idx: torch.Tensor) -> torch.Tensor:
        xs = [t[idx].to(self.device) for t in self.data.inputs]
        if self.input_grad:
            xs = [x.requires_grad_() if x.is_floating_point() else x for x in xs]
        out = self.module(*xs)
        if not isinstance(out, (tuple, list)):
            out = (out,)
        total = None
        for i, fn in enumerate(self.losses):
            if fn is None:
                continue
            pred = out[i] if self.transforms[i] is None else self.transforms[i](out[i])
            target = self.data.targets[i][idx].to(self.device)
            w = self.sample_w[i]
            loss = fn(pred, target, None if w is None else w[idx].to(self.device))
            total = loss if self.single else (
                loss * self.weights[i] if total is None else total + loss * self.weights[i])
        return total
