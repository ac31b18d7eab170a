"""The progress bar draws a new value with the next ordinary paint, never inside setValue."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject

from builder.progress import ProgressBar


class _Paints(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, obj, event):  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.Paint:
            self.count += 1
        return False


def test_set_value_paints_later_not_inside_the_call(qtbot):
    bar = ProgressBar()
    qtbot.addWidget(bar)
    bar.setRange(0, 100)
    bar.show()
    qtbot.waitExposed(bar)
    paints = _Paints()
    bar.installEventFilter(paints)
    qtbot.wait(50)  # the first paints are over
    before = paints.count
    bar.setValue(37)  # a new percentage: QProgressBar itself would repaint() right here
    assert paints.count == before and bar.value() == 37 and bar.text() == "37%"
    qtbot.waitUntil(lambda: paints.count > before, timeout=2000)
    assert bar.updatesEnabled()
