"""A scroll area whose widget fills it, and scrolls only when it is smaller than the widget's
minimum size.

`QScrollArea.setWidgetResizable(True)` gives a widget whose layout has height-for-width (any
word-wrapped label inside) the height it *prefers* at that width: for the training panel, the
size hints of its four plots — about 1,090 px — so a 450 px bottom panel scrolled its plots
out of sight. Here the widget gets the viewport's size, grown to its minimum size if need be.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSize
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QScrollArea, QWidget


class FitScrollArea(QScrollArea):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(False)

    def setWidget(self, widget: QWidget) -> None:  # noqa: N802 - Qt override
        super().setWidget(widget)
        widget.installEventFilter(self)
        self.fit()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self.fit()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if watched is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self.fit()  # its minimum size may have changed
        return False

    def fit(self) -> None:
        """Size the widget: the viewport's size, or its minimum size where that is larger (a
        scroll bar that this needs takes its room from the other direction)."""
        widget = self.widget()
        if widget is None:
            return
        least = widget.minimumSizeHint().expandedTo(widget.minimumSize())
        room = self.maximumViewportSize()
        width, height = room.width(), room.height()
        if least.width() > width:
            height -= self.horizontalScrollBar().sizeHint().height()
        if least.height() > height:
            width -= self.verticalScrollBar().sizeHint().width()
            if least.width() > width and least.width() <= room.width():
                height -= self.horizontalScrollBar().sizeHint().height()
        size = QSize(max(width, least.width()), max(height, least.height()))
        if widget.size() != size:
            widget.resize(size)
