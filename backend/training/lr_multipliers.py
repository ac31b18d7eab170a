"""Per-layer learning-rate multipliers (``training.lr_multipliers``: {layer name: factor}).

Each named layer's parameters form their own optimizer parameter group tagged ``lr_mult``; the
Trainer sets every group's lr to the scheduled lr × its ``lr_mult``. Transfer learning uses it to
train copied lower layers slower than a new head (factor 0 holds a layer still, like freezing,
but keeps it in the optimizer). No torch import: the settings check uses it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from torch import nn

KEY = "lr_multipliers"


def check_multipliers(raw: Any) -> dict[str, float]:
    """Validate the setting: a JSON object of layer name → number ≥ 0."""
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not all(
        isinstance(k, str) and isinstance(v, (int, float)) and not isinstance(v, bool)
        and math.isfinite(v) and v >= 0 for k, v in raw.items()
    ):
        raise ValueError(f"training settings: 'lr_multipliers' = {raw!r} is not allowed; use an "
                         'object of layer name → factor ≥ 0, e.g. {"hidden1": 0.1}.')
    return {k: float(v) for k, v in raw.items()}


def param_groups(module: nn.Module, params: list[nn.Parameter], multipliers: dict[str, float],
                 layer_attrs: dict[str, str]) -> list[dict[str, Any]] | list[nn.Parameter]:
    """Optimizer parameter groups for ``params`` (the trainable ones): one per multiplied layer,
    one for the rest. ``layer_attrs`` maps a layer (node) name to the module attribute holding it.
    Without multipliers, ``params`` unchanged."""
    if not multipliers:
        return params
    trainable = {id(p) for p in params}
    taken: set[int] = set()
    groups: list[dict[str, Any]] = []
    for name, factor in multipliers.items():
        attr = layer_attrs.get(name)
        if attr is None or not hasattr(module, attr):
            known = ", ".join(sorted(layer_attrs)) or "none"
            raise ValueError(f"training settings: 'lr_multipliers' names the layer {name!r}, "
                             f"which has no weights in this design (layers with weights: "
                             f"{known}). Rename it or remove it from the multipliers.")
        own = [p for p in getattr(module, attr).parameters()
               if id(p) in trainable and id(p) not in taken]
        taken.update(id(p) for p in own)
        if own:
            groups.append({"params": own, "lr_mult": factor})
    rest = [p for p in params if id(p) not in taken]
    if rest:
        groups.insert(0, {"params": rest, "lr_mult": 1.0})
    return groups
