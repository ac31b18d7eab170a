"""Metrics that accumulate on the device: nothing is read back until `Meter.results`.

One (outputs × 6) tensor holds, per output: loss·n, correct, |error|, error², Σy, Σy².
Counts are known on the host from batch shapes, so they need no device work at all.
"""

from __future__ import annotations

import torch

from backend.data.prepare import OutputTarget

LOSS, CORRECT, ABS, SQ, YSUM, YSQ = range(6)


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
        self.acc = torch.zeros(len(infos), 6, device=device, dtype=dtype)
        self._cells = [[self.acc[i, j] for j in range(6)] for i in range(len(infos))]
        self.samples = [0] * len(infos)
        self.elements = [0] * len(infos)

    def reset(self) -> None:
        self.acc.zero_()
        self.samples = [0] * len(self.infos)
        self.elements = [0] * len(self.infos)

    def update(self, i: int, loss: torch.Tensor | None, pred: torch.Tensor,
               target: torch.Tensor | None, labels: torch.Tensor | None) -> None:
        """Add one batch of output ``i`` (call under no_grad or with detached tensors)."""
        info = self.infos[i]
        cells = self._cells[i]
        n = len(pred)
        self.samples[i] += n
        if loss is not None:
            cells[LOSS].add_(loss.detach(), alpha=n)
        metric = info.metric
        if metric == "accuracy" and labels is not None:
            cells[CORRECT].add_((predicted_classes(pred, info) == labels).sum())
            self.elements[i] += labels.numel()
        elif metric in ("mae", "r2") and target is not None:
            diff = pred.detach() - target
            self.elements[i] += diff.numel()
            if metric == "mae":
                cells[ABS].add_(diff.abs().sum())
            else:
                cells[SQ].add_(diff.square().sum())
                cells[YSUM].add_(target.sum())
                cells[YSQ].add_(target.square().sum())

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
