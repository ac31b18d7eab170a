"""A progress bar that never repaints the window synchronously.

`QProgressBar.setValue` calls `QWidget.repaint()` whenever the shown text changes, and a
repaint flushes every pending paint of the window at once, inside the caller. Measured in the
training panel: `setValue(0)` at the press of Run painted the whole window (four plots, the
canvas) in 59 ms, in the middle of starting the run; during a run every percent step forced
another full paint from the batch handler. Here the change is drawn by the next ordinary
paint instead, like every other widget's.
"""

from __future__ import annotations

from PySide6.QtWidgets import QProgressBar


class ProgressBar(QProgressBar):
    def setValue(self, value: int) -> None:  # noqa: N802 - Qt's name
        if value == self.value():
            return
        self.setUpdatesEnabled(False)  # QProgressBar's repaint() does nothing now…
        super().setValue(value)
        self.setUpdatesEnabled(True)  # …and this schedules an update() instead
