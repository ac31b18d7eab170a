"""A node's input or output port: a small circle that starts or receives a connection drag."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

PORT_RADIUS = 5.5
NEUTRAL, VALID, INVALID = 0, 1, 2


class PortItem(QGraphicsItem):
    """Holds (node id, kind, index) only; colours come from the scene's theme."""

    def __init__(self, node_id: str, kind: str, index: int, parent: QGraphicsItem) -> None:
        super().__init__(parent)
        self.node_id = node_id
        self.kind = kind  # "in" or "out"
        self.index = index
        self.state = NEUTRAL
        self.connected = False
        self._hover = False
        self.setAcceptHoverEvents(True)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setZValue(2)

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        r = PORT_RADIUS + 3
        return QRectF(-r, -r, 2 * r, 2 * r)

    def set_state(self, state: int) -> None:
        if state != self.state:
            self.state = state
            self.update()

    def hoverEnterEvent(self, event) -> None:  # noqa: N802 - Qt override
        self._hover = True
        self.update()
        super().hoverEnterEvent(event)

    def hoverLeaveEvent(self, event) -> None:  # noqa: N802 - Qt override
        self._hover = False
        self.update()
        super().hoverLeaveEvent(event)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        colors = self.scene().colors  # type: ignore[union-attr]
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        if lod < 0.3:
            return
        colour = {VALID: colors.valid, INVALID: colors.invalid}.get(self.state, colors.port)
        r = PORT_RADIUS + (2 if self._hover or self.state == VALID else 0)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(QPen(colour, 1.6))
        painter.setBrush(QBrush(colour) if self.connected or self.state == VALID
                         else QBrush(colors.node))
        painter.drawEllipse(QRectF(-r, -r, 2 * r, 2 * r))
