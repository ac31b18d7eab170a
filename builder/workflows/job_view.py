"""What the workflow views share: the background runner, the status line and the log."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Slot

from builder.training.guard import gui_only


class JobView:
    """Mixed into a QWidget that has a ``status`` label and ``_set_running``/``_on_finished``
    slots (and ``_on_progress`` if it shows progress); ``LOG_PREFIX`` names it in the log."""

    LOG_PREFIX = "workflow"

    def _attach(self, workflows: Any, job: str | None = None) -> None:
        """Keep the workflow services; with ``job``, a runner wired to this view's slots."""
        self.workflows = workflows
        self.controller = workflows.controller
        if job is None:
            return
        self.runner = workflows.new_runner(job)
        if hasattr(self, "_on_progress"):
            self.runner.progress.connect(self._on_progress)
        self.runner.finished.connect(self._on_finished)
        self.runner.failed.connect(self._on_failed)
        self.runner.runningChanged.connect(self._set_running)

    @Slot(str)
    @gui_only
    def _on_failed(self, message: str) -> None:
        self._say(message, True)
        if self.runner.detail:
            self.workflows.log(self.runner.detail)

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #c62828;" if error else "")
        self.workflows.log(f"{self.LOG_PREFIX}{' error' if error else ''}: {text}")
