"""Metrics that accumulate on the device: nothing is read back until `Meter.results`.

One (outputs × 6) tensor holds, per output: loss·n, correct, |error|, error², Σy, Σy².
Counts are known on the host from batch shapes, so they need no device work at all.

A training step only queues its batch's tensors (the loss, the predictions and the targets);
they are folded into the sums `FOLD_EVERY` steps at a time, with a handful of
tensor operations for all of them instead of five per step. Measured on the 784-300-100-10 MLP
(2 CPU cores, batch 128) the per-step metric cost fell from about 4% of a step to about 1%.
"""

from __future__ import annotations

import torch

from ..data.prepare import OutputTarget

LOSS, CORRECT, ABS, SQ, YSUM, YSQ = range(6)
#: Queued batches are folded into the sums after this many steps, or sooner once the queued
#: predictions hold this many numbers (so large outputs never pile up in memory).
FOLD_EVERY = 32
FOLD_ELEMENTS = 1 << 22


def predicted_classes(pred: torch.Tensor, info: OutputTarget) -> torch.Tensor:
    """Class ids from an output: argmax over units, or a threshold for a single unit."""
    if pred.shape[-1] > 1 or info.threshold is None:
        return pred.argmax(-1)
    return (pred[..., 0] > info.threshold).long()


class Meter:
    """Running sums for one split and all outputs."""

    def __init__(self, infos: list[OutputTarget], device: torch.device) -> None:
        self.infos = infos
        dtype = torch.float32 if device.type == "mps" else torch.float64
        self._acc = torch.zeros(len(infos), 6, device=device, dtype=dtype)
        self.samples = [0] * len(infos)
        self.elements = [0] * len(infos)
        # per output: queued (loss, batch size) and (predicted classes or predictions, targets)
        self._losses: list[list[tuple[torch.Tensor, int]]] = [[] for _ in infos]
        self._values: list[list[tuple[torch.Tensor, torch.Tensor]]] = [[] for _ in infos]
        self._host_loss = [0.0] * len(infos)
        self._queued = 0
        self._queued_elements = 0

    @property
    def acc(self) -> torch.Tensor:
        """The sums tensor, with every queued batch folded in."""
        self.fold()
        return self._acc

    def reset(self) -> None:
        self._acc.zero_()
        self.samples = [0] * len(self.infos)
        self.elements = [0] * len(self.infos)
        for queue in (*self._losses, *self._values):
            queue.clear()
        self._host_loss = [0.0] * len(self.infos)
        self._queued = self._queued_elements = 0

    def update(self, i: int, loss: torch.Tensor | float | None, pred: torch.Tensor,
               target: torch.Tensor | None, labels: torch.Tensor | None) -> None:
        """Queue one batch of output ``i`` (``pred`` detached; it is kept until the next fold)."""
        n = pred.shape[0]
        self.samples[i] += n
        if isinstance(loss, float):  # already on the host (a CPU run reads it anyway)
            self._host_loss[i] += loss * n
        elif loss is not None:
            self._losses[i].append((loss.detach(), n))
        metric = self.infos[i].metric
        if metric == "accuracy":
            if labels is not None:
                self._values[i].append((pred, labels))
                self.elements[i] += labels.numel()
                self._queued_elements += pred.numel()
        elif metric in ("mae", "r2") and target is not None:
            self._values[i].append((pred, target))
            self.elements[i] += pred.numel()
            self._queued_elements += pred.numel()
        self._queued += 1
        if (self._queued >= FOLD_EVERY * len(self.infos)
                or self._queued_elements >= FOLD_ELEMENTS):
            self.fold()

    def fold(self) -> None:
        """Add the queued batches to the sums (a few device operations, no sync)."""
        if not self._queued:
            return
        acc = self._acc
        dtype = acc.dtype
        with torch.no_grad():
            for i, info in enumerate(self.infos):
                losses, values = self._losses[i], self._values[i]
                if self._host_loss[i]:
                    acc[i, LOSS] += self._host_loss[i]
                    self._host_loss[i] = 0.0
                if losses:
                    stacked = torch.stack([loss for loss, _ in losses]).to(dtype)
                    counts = torch.tensor([n for _, n in losses], dtype=dtype,
                                          device=acc.device)
                    acc[i, LOSS] += (stacked * counts).sum()
                    losses.clear()
                if not values:
                    continue
                got = torch.cat([v for v, _ in values])  # batches differ in their first dim only
                want = torch.cat([t for _, t in values])
                values.clear()
                if info.metric == "accuracy":
                    acc[i, CORRECT] += (predicted_classes(got, info) == want).sum(dtype=dtype)
                    continue
                if want.shape != got.shape and want.numel() == got.numel():
                    want = want.reshape(got.shape)  # (N,) targets of an (N, 1) output
                diff = got - want
                if info.metric == "mae":
                    acc[i, ABS] += diff.abs().sum(dtype=dtype)
                else:
                    acc[i, SQ] += diff.square().sum(dtype=dtype)
                    acc[i, YSUM] += want.sum(dtype=dtype)
                    acc[i, YSQ] += want.square().sum(dtype=dtype)
        self._queued = self._queued_elements = 0

    def snapshot(self) -> list[list[float]]:
        """The raw sums on the host (one device sync)."""
        return self.acc.tolist()

    def results(self, sums: list[list[float]] | None = None) -> dict[str, dict[str, float]]:
        """{output: {"loss": …, metric: …}} from the sums (one sync when not given)."""
        sums = self.snapshot() if sums is None else sums
        out: dict[str, dict[str, float]] = {}
        for i, info in enumerate(self.infos):
            row, n, e = sums[i], self.samples[i], self.elements[i]
            if not n:
                continue
            values: dict[str, float] = {}
            if info.encoding != "none":
                values["loss"] = row[LOSS] / n
            if e and info.metric == "accuracy":
                values["accuracy"] = row[CORRECT] / e
            elif e and info.metric == "mae":
                values["mae"] = row[ABS] / e * info.scale
            elif e and info.metric == "r2":
                total = row[YSQ] - row[YSUM] ** 2 / e
                values["r2"] = 1.0 - row[SQ] / total if total > 0 else float("nan")
            out[info.output] = values
        return out


def confusion_matrix(labels: torch.Tensor, predicted: torch.Tensor, k: int) -> list[list[int]]:
    """Rows: true class; columns: predicted class (computed on the device, read once)."""
    flat = labels.reshape(-1) * k + predicted.reshape(-1).clamp(0, k - 1)
    return torch.bincount(flat, minlength=k * k).reshape(k, k).tolist()
