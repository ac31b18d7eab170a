"""Training figures as text for people (the CLI's progress lines, the app's log). No torch."""

from __future__ import annotations


def format_metrics(metrics: dict[str, dict[str, float]]) -> str:
    """``loss 0.12 accuracy 0.97``; with several outputs, each prefixed by its name."""
    parts = []
    for output, values in metrics.items():
        inner = " ".join(f"{k} {v:.4g}" for k, v in values.items())
        parts.append(f"{output}: {inner}" if len(metrics) > 1 else inner)
    return "; ".join(parts)
