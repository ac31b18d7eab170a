"""One training step's loss, computed exactly as the training loop computes it.

The learning-rate finder and the profiler drive a prepared `Trainer`'s module batch by batch
outside its loop; the loss is the trainer's own `Objective`.
"""

from __future__ import annotations

import torch


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
        self.objective = trainer.objective

    def __len__(self) -> int:
        return len(self.data)

    def __call__(self, idx: torch.Tensor) -> torch.Tensor:
        xs = [t[idx].to(self.device) for t in self.data.inputs]
        if self.input_grad:
            xs = [x.requires_grad_() if x.is_floating_point() else x for x in xs]
        on_device = self.data.inputs[0].device == self.device if self.data.inputs else True
        total, _ = self.objective(self.module(*xs), self.data.targets, idx,
                                  None if on_device else self.device)
        return total
