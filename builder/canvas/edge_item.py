"""A connection drawn as a horizontal-tangent Bézier curve with its tensor shape as a label."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QPainter,
    QPainterPath,
    QPainterPathStroker,
    QPen,
)
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from graph.events import Edge

LABEL_LOD = 0.55
SKIP_SPAN = 300.0


def curve(p1: QPointF, p2: QPointF) -> QPainterPath:
    """An S-curve leaving ``p1`` to the right and entering ``p2`` from the left."""
    path = QPainterPath(p1)
    span = p2.x() - p1.x()
    dx = max(40.0, abs(span) * 0.5)
    # A long skip connection on (nearly) one row arches above the layers it jumps over.
    lift = min(160.0, 0.2 * span) if span > SKIP_SPAN and abs(p2.y() - p1.y()) < 60 else 0.0
    path.cubicTo(QPointF(p1.x() + dx, p1.y() - lift * 1.33),
                 QPointF(p2.x() - dx, p2.y() - lift * 1.33), p2)
    return path


class EdgeItem(QGraphicsItem):
    """Holds its `Edge` (ids and ports) and the label text from the last analysis."""

    def __init__(self, edge: Edge) -> None:
        super().__init__()
        self.edge = edge
        self.label = ""
        self._path = QPainterPath()
        self._shape = QPainterPath()
        self._label_rect = QRectF()
        self._bounds = QRectF()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable, True)
        self.setZValue(-1)

    # geometry ---------------------------------------------------------------------------------
    def set_ends(self, p1: QPointF, p2: QPointF) -> None:
        self.prepareGeometryChange()
        self._path = curve(p1, p2)
        stroker = QPainterPathStroker()
        stroker.setWidth(10)
        self._shape = stroker.createStroke(self._path)
        self._layout_label()

    def set_label(self, text: str) -> None:
        if text != self.label:
            self.prepareGeometryChange()
            self.label = text
            self._layout_label()
            self.update()

    def _layout_label(self) -> None:
        bounds = self._path.boundingRect().adjusted(-4, -4, 4, 4)
        if self.label:
            metrics = QFontMetricsF(_label_font())
            w, h = metrics.horizontalAdvance(self.label) + 10, metrics.height() + 4
            mid = self._path.pointAtPercent(0.5)
            self._label_rect = QRectF(mid.x() - w / 2, mid.y() - h - 3, w, h)
            bounds = bounds.united(self._label_rect)
        else:
            self._label_rect = QRectF()
        self._bounds = bounds

    def label_rect(self) -> QRectF:
        return QRectF(self._label_rect)

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        return self._bounds

    def shape(self) -> QPainterPath:
        return self._shape

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        colors = self.scene().colors  # type: ignore[union-attr]
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, lod > 0.4)
        colour = colors.selected if self.isSelected() else colors.edge
        painter.setPen(QPen(colour, 2.4 if self.isSelected() else 1.7))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._path)
        if self.label and lod >= LABEL_LOD:
            bg = QColor(colors.background)
            bg.setAlpha(230)
            painter.setPen(QPen(colors.node_border, 1))
            painter.setBrush(QBrush(bg))
            painter.drawRoundedRect(self._label_rect, 4, 4)
            painter.setFont(_label_font())
            painter.setPen(colors.edge_label)
            painter.drawText(self._label_rect, Qt.AlignmentFlag.AlignCenter, self.label)


_FONT: QFont | None = None


def _label_font() -> QFont:
    global _FONT
    if _FONT is None:
        _FONT = QFont()
        _FONT.setPointSizeF(max(7.0, _FONT.pointSizeF() * 0.82))
    return _FONT
