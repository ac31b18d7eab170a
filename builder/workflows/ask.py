"""The file and folder questions the workflow dialogs ask, behind one replaceable object.

Tests replace it (``window.workflows.ask = FakeAsk()``) so nothing blocks; messages go through
the window's `builder.dialogs.Dialogs` (``error`` / ``info``), which tests replace too.
"""

from __future__ import annotations

from PySide6.QtWidgets import QFileDialog, QWidget


class Ask:
    """Qt file dialogs parented to ``parent``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        self.parent = parent

    def open_file(self, title: str, folder: str = "", file_filter: str = "") -> str | None:
        path, _ = QFileDialog.getOpenFileName(self.parent, title, folder, file_filter)
        return path or None

    def folder(self, title: str, folder: str = "") -> str | None:
        path = QFileDialog.getExistingDirectory(self.parent, title, folder)
        return path or None

    def save_file(self, title: str, suggestion: str = "", file_filter: str = "") -> str | None:
        path, _ = QFileDialog.getSaveFileName(self.parent, title, suggestion, file_filter)
        return path or None
