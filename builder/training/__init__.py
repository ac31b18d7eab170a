"""Live training in the app: the panel, the worker thread, the dashboards and the evaluation.

Nothing here imports torch at import time; the backend is loaded when a run (or a preview)
starts, so the main window appears first.
"""

from builder.training.panel import TrainingPanel

__all__ = ["TrainingPanel"]
