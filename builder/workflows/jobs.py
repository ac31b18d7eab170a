"""A workflow job (learning-rate finder, search, transfer, profiling) in the background: the
app's one runner (`builder.background`), with its outcome split into ``finished`` (the job
function's return value) and ``failed`` (a message a person can act on)."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal, Slot

from builder.background import (
    BackgroundRunner,
    JobError,
    JobFunction,
    Outcome,
    default_threads,
    user_message,
)
from builder.training.guard import gui_only

__all__ = ["JobError", "JobFunction", "JobRunner", "user_message"]


class JobRunner(BackgroundRunner):
    """Runs at most one job at a time in a background thread; re-emits on the GUI thread."""

    finished = Signal(object)  # the job function's return value
    failed = Signal(str)  # a message for a person

    def __init__(self, name: str = "job", parent: QObject | None = None,
                 threads: int | None = None) -> None:
        super().__init__(name, parent, threads or default_threads())
        self.last: Outcome | None = None
        self.detail = ""  # the traceback of the last unexpected failure (for the log)
        self.done.connect(self._on_outcome)

    @Slot(object)
    @gui_only
    def _on_outcome(self, outcome: Outcome) -> None:
        self.last = outcome
        if outcome.error is not None:
            self.detail = outcome.detail
            self.failed.emit(outcome.error)
        else:
            self.finished.emit(outcome.result)
