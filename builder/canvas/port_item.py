"""A node's input or output port: a small circle that starts or receives a connection drag."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QFont, QPainter, QPen
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
        #: Shown beside a merge layer's input ("1", "2"…): the order of its inputs.
        self.number = ""
        self.side = "left" if kind == "in" else "right"  # which edge of the card it sits on
        self._hover = False
        self.setAcceptHoverEvents(True)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setZValue(2)

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        r = PORT_RADIUS + 3
        rect = QRectF(-r, -r, 2 * r, 2 * r)
        if self.number:
            rect = rect.united(self._number_rect())
        return rect

    def set_place(self, number: str, side: str, tooltip: str) -> None:
        """Its number (merge inputs), which side of the card it is on, and its tooltip."""
        if (number, side) != (self.number, self.side):
            self.prepareGeometryChange()
            self.number, self.side = number, side
        if tooltip != self.toolTip():
            self.setToolTip(tooltip)

    def _number_rect(self) -> QRectF:
        """Inside the card, next to the port."""
        if self.side == "top":
            return QRectF(-8, PORT_RADIUS + 1, 16, 12)
        return QRectF(PORT_RADIUS + 1, -7, 12, 14)

    def tooltip_text(self, layer: str) -> str:
        if self.kind == "out":
            return f"Output {self.index} of {layer}: drag to an input to connect"
        order = f" (joined in place {self.number})" if self.number else ""
        return f"Input {self.index + 1} of {layer}{order}"

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
        if self.number and lod >= 0.45:
            font = QFont()
            font.setPixelSize(10)
            font.setBold(True)
            painter.setFont(font)
            painter.setPen(colors.subtext)
            painter.drawText(self._number_rect(), Qt.AlignmentFlag.AlignCenter, self.number)
