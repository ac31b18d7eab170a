"""Learning-rate finder (Smith 2015; fastai's ``lr_find``): sweep the learning rate
exponentially over a few hundred steps and watch the loss.

The sweep trains a throw-away copy of the model (the design's weights, if given, are copied in
and never written back). It stops when the smoothed loss explodes.

Suggestion rule (documented in docs/workflows.md): the learning rate where the smoothed loss is
lowest, divided by 10 — "about 10× below the point where the loss shoots up". The steepest
descent of the smoothed loss (per decade of learning rate) is reported beside it.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

#: The loss has exploded when the smoothed loss exceeds this many times its best value.
EXPLODE_FACTOR = 4.0
#: Exponential moving average factor for the smoothed loss (bias-corrected, as fastai).
BETA = 0.98


@dataclass(frozen=True)
class LRStep:
    """Progress: one step of the sweep."""

    step: int  # from 1
    steps: int
    lr: float
    loss: float
    smoothed: float


@dataclass
class LRFinderResult:
    """The curve (one entry per step) and the suggestion."""

    lrs: list[float] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    smoothed: list[float] = field(default_factory=list)
    #: min-loss lr / 10 (None when the sweep was too short to tell).
    suggestion: float | None = None
    min_loss_lr: float | None = None
    steepest_lr: float | None = None
    #: "completed", "exploded" (loss shot up) or "stopped" (by the Control).
    reason: str = "completed"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def lr_at(step: int, steps: int, start_lr: float, end_lr: float) -> float:
    """The exponential schedule: ``start_lr`` at step 0, ``end_lr`` at step ``steps - 1``."""
    if steps <= 1:
        return start_lr
    return start_lr * (end_lr / start_lr) ** (step / (steps - 1))


def suggest(lrs: list[float], smoothed: list[float], skip_start: int = 5
            ) -> tuple[float | None, float | None, float | None]:
    """(suggestion, lr at the minimum smoothed loss, lr of steepest descent).

    The first ``skip_start`` points are ignored (the average is still settling)."""
    pts = [(lr, s) for lr, s in zip(lrs, smoothed) if math.isfinite(s)][skip_start:]
    if len(pts) < 3:
        return None, None, None
    best = min(range(len(pts)), key=lambda i: pts[i][1])
    min_lr = pts[best][0]
    slopes = [(pts[i + 1][1] - pts[i][1]) / (math.log10(pts[i + 1][0]) - math.log10(pts[i][0]))
              for i in range(best)] if best > 0 else []
    steepest = pts[min(range(len(slopes)), key=lambda i: slopes[i])][0] if slopes else None
    return min_lr / 10.0, min_lr, steepest


def find_lr(doc: Any, *, data: Any = None, config: Any = None,
            state_dict: dict[str, Any] | None = None, start_lr: float = 1e-5,
            end_lr: float = 10.0, steps: int = 200, explode: float = EXPLODE_FACTOR,
            callback: Callable[[LRStep], None] | None = None, control: Any = None,
            base_dir: Any = None) -> LRFinderResult:
    """Sweep the learning rate from ``start_lr`` to ``end_lr`` over ``steps`` batches.

    ``doc``: a graph.Document; ``data``/``config``: as for `Trainer` (default: the design's
    sections; the optimizer, batch size, weights of the losses and seed are the run's own).
    ``state_dict``: weights to start from (copied; never modified). ``callback(LRStep)`` after
    every step; ``control`` (a `Control`) stops the sweep between steps.
    """
    import torch

    from backend.export.weights import load_state_by_name
    from backend.training.config import TrainConfig
    from backend.training.control import Control
    from backend.training.loss_step import LossStep
    from backend.training.setup import make_optimizer
    from backend.training.trainer import Trainer

    if not (0 < start_lr < end_lr):
        raise ValueError(f"The sweep needs 0 < start_lr < end_lr (got {start_lr:g} → "
                         f"{end_lr:g}).")
    if steps < 10:
        raise ValueError(f"Use at least 10 steps for the sweep (got {steps}).")
    control = control or Control()
    cfg = config if config is not None else doc.section("training")
    cfg = copy.deepcopy(cfg.to_dict() if isinstance(cfg, TrainConfig) else dict(cfg or {}))
    cfg["epochs"] = 1
    cfg["schedule"] = "constant"
    trainer = Trainer(doc, data, cfg, base_dir=base_dir)
    trainer.prepare()
    module = trainer.module
    if state_dict is not None:
        load_state_by_name(module, {k: v.detach().clone() for k, v in state_dict.items()})
    step_loss = LossStep(trainer)
    params = [p for p in module.parameters() if p.requires_grad]
    optimizer = make_optimizer(params, trainer.config)
    gen = torch.Generator().manual_seed(trainer.config.seed + 1)
    n = len(step_loss)
    bs = trainer.config.batch_size if 0 < trainer.config.batch_size < n else n
    trainer.parts.train()
    result = LRFinderResult()
    order = torch.randperm(n, generator=gen)
    pos = 0
    avg, best = 0.0, math.inf
    for i in range(steps):
        if not control.should_continue():
            result.reason = "stopped"
            break
        if pos + bs > n:
            order, pos = torch.randperm(n, generator=gen), 0
        idx = order[pos:pos + bs].to(trainer.device)
        pos += bs
        lr = lr_at(i, steps, start_lr, end_lr)
        for group in optimizer.param_groups:
            group["lr"] = lr
        loss = step_loss(idx)
        value = float(loss.detach())
        if not math.isfinite(value):
            result.reason = "exploded"
            break
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        avg = BETA * avg + (1 - BETA) * value
        smooth = avg / (1 - BETA ** (i + 1))
        result.lrs.append(lr)
        result.losses.append(value)
        result.smoothed.append(smooth)
        if callback is not None:
            callback(LRStep(i + 1, steps, lr, value, smooth))
        best = min(best, smooth)
        if i >= 10 and smooth > explode * best:
            result.reason = "exploded"
            break
    result.suggestion, result.min_loss_lr, result.steepest_lr = suggest(
        result.lrs, result.smoothed)
    return result


def sparkline(result: LRFinderResult, width: int = 60, height: int = 12) -> str:
    """An ASCII plot of smoothed loss vs log10(lr), the suggestion marked with ``|``."""
    pts = [(math.log10(lr), s) for lr, s in zip(result.lrs, result.smoothed)
           if math.isfinite(s)]
    if len(pts) < 2:
        return "(too few points to plot)"
    x0, x1 = pts[0][0], pts[-1][0]
    lo = min(s for _, s in pts)
    hi = min(max(s for _, s in pts), lo + 4 * (pts[0][1] - lo) + 1e-12)  # clip the blow-up
    grid = [[" "] * width for _ in range(height)]
    for x, s in pts:
        col = min(width - 1, int((x - x0) / max(x1 - x0, 1e-12) * (width - 1)))
        row = int((min(s, hi) - lo) / max(hi - lo, 1e-12) * (height - 1))
        grid[height - 1 - row][col] = "*"
    if result.suggestion is not None and x0 <= math.log10(result.suggestion) <= x1:
        col = int((math.log10(result.suggestion) - x0) / max(x1 - x0, 1e-12) * (width - 1))
        for r in grid:
            if r[col] == " ":
                r[col] = "|"
    lines = [f"{hi:10.4g} ┤" + "".join(grid[0])]
    lines += ["           │" + "".join(r) for r in grid[1:-1]]
    lines.append(f"{lo:10.4g} ┤" + "".join(grid[-1]))
    lines.append("           └" + "─" * width)
    left, right = f"lr {10 ** x0:.0e}", f"{10 ** x1:.0e}"
    lines.append("            " + left + " " * max(1, width - len(left) - len(right)) + right)
    return "\n".join(lines)
