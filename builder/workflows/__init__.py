"""The textbook workflows in the app: learning-rate finder, hyperparameter search, transfer
learning, profiling, model import and the training-script export (docs/workflows.md).

Long jobs run on a background `JobRunner` (a worker moved to a QThread, always joined); nothing
here imports torch at import time.
"""

from builder.workflows.actions import WorkflowActions

__all__ = ["WorkflowActions"]
