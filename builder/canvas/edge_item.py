"""A connection: an orthogonal route with rounded corners and its tensor shape as a label.

An edge the analysis names as offending (it brings a shape its layer cannot take) is drawn in
the error colour. The route comes from `builder.canvas.routing` (the scene asks for it); the label sits on the
route's longest straight piece along the flow. Where the scene's label layout finds no room for
it (`set_label_room`), the label is hidden and drawn only while the mouse is over the edge.
"""

from __future__ import annotations

from collections.abc import Sequence

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
#: Corner radius of a route's bends.
RADIUS = 18.0


def curve(p1: QPointF, p2: QPointF) -> QPainterPath:
    """An S-curve leaving ``p1`` to the right and entering ``p2`` from the left (the line that
    follows the mouse while connecting)."""
    path = QPainterPath(p1)
    dx = max(40.0, abs(p2.x() - p1.x()) * 0.5)
    path.cubicTo(QPointF(p1.x() + dx, p1.y()), QPointF(p2.x() - dx, p2.y()), p2)
    return path


def rounded_path(points: Sequence[tuple[float, float]]) -> QPainterPath:
    """A polyline with its corners rounded (radius up to `RADIUS`, less on short pieces)."""
    path = QPainterPath(QPointF(*points[0]))
    for i in range(1, len(points) - 1):
        (x0, y0), (x1, y1), (x2, y2) = points[i - 1], points[i], points[i + 1]
        d1 = abs(x1 - x0) + abs(y1 - y0)
        d2 = abs(x2 - x1) + abs(y2 - y1)
        r = min(RADIUS, d1 / 2, d2 / 2)
        if r < 0.5:
            path.lineTo(x1, y1)
            continue
        ux, uy = (x1 - x0) / d1, (y1 - y0) / d1
        vx, vy = (x2 - x1) / d2, (y2 - y1) / d2
        path.lineTo(x1 - ux * r, y1 - uy * r)
        path.quadTo(x1, y1, x1 + vx * r, y1 + vy * r)
    path.lineTo(QPointF(*points[-1]))
    return path


def label_spots(points: Sequence[tuple[float, float]], width: float, height: float,
                direction: str = "LR") -> list[QRectF]:
    """Where a ``width`` × ``height`` label can sit on a route: centred on its straight pieces
    (not on the rounded corners) — those along the flow first, longest first, each from the
    middle outwards — then on the pieces across it (the step between two rows)."""
    flow = 0 if direction != "TB" else 1
    last = len(points) - 2
    pieces = []
    for i, (a, b) in enumerate(zip(points, points[1:])):
        axis = 0 if abs(a[1] - b[1]) <= 0.5 else 1
        if axis == 0 and abs(a[0] - b[0]) <= 0.5:
            continue
        lo, hi = sorted((a[axis], b[axis]))
        forward = a[axis] <= b[axis]
        lo += RADIUS if (i > 0 and forward) or (i < last and not forward) else 0.0
        hi -= RADIUS if (i < last and forward) or (i > 0 and not forward) else 0.0
        need = width if axis == 0 else height
        if hi - lo >= need:
            pieces.append((axis != flow, -(hi - lo), lo, hi, a[1 - axis], axis, need))
    spots = []
    for _across, negative, lo, hi, at, axis, need in sorted(pieces):
        mid, room = (lo + hi) / 2, (-negative - need) / 2
        for frac in (0.0, -0.5, 0.5, -1.0, 1.0):
            c = mid + frac * room
            if axis == 0:
                spots.append(QRectF(c - width / 2, at - height / 2, width, height))
            else:
                spots.append(QRectF(at - width / 2, c - height / 2, width, height))
    return spots


class EdgeItem(QGraphicsItem):
    """Holds its `Edge` (ids and ports), its route and the label text from the last analysis."""

    def __init__(self, edge: Edge) -> None:
        super().__init__()
        self.edge = edge
        self.label = ""
        self.points: list[tuple[float, float]] = []
        #: The port positions the route was made for (the scene moves or re-routes it).
        self.ends: tuple[tuple[float, float], tuple[float, float]] | None = None
        self._path = QPainterPath()
        self._shape = QPainterPath()
        self._label_rect = QRectF()
        self._label_shown = True  # the scene's label layout found room
        self._hover = False
        #: It brings a shape the layer it feeds cannot take (the analysis says so).
        self.error = False
        self._bounds = QRectF()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable, True)
        self.setAcceptHoverEvents(True)
        self.setZValue(-1)

    # geometry ---------------------------------------------------------------------------------
    def set_route(self, points: Sequence[tuple[float, float]]) -> None:
        points = [(float(x), float(y)) for x, y in points]
        if points == self.points:
            return
        self.prepareGeometryChange()
        self.points = points
        self._path = rounded_path(points)
        stroker = QPainterPathStroker()
        stroker.setWidth(10)
        self._shape = stroker.createStroke(self._path)
        self._update_bounds()

    def set_ends(self, p1: QPointF, p2: QPointF) -> None:
        """A route without obstacles (a plain step), until the scene routes it."""
        from builder.canvas.routing import route

        self.set_route(route((p1.x(), p1.y()), (p2.x(), p2.y()), None))

    def path(self) -> QPainterPath:
        return QPainterPath(self._path)

    def set_label(self, text: str) -> None:
        if text != self.label:
            self.prepareGeometryChange()
            self.label = text
            self._label_rect = QRectF()
            self._update_bounds()
            self.update()

    def set_error(self, on: bool) -> None:
        """Draw the connection in the error colour (it brings what its layer cannot take)."""
        if on != self.error:
            self.error = on
            self.update()

    def label_size(self) -> tuple[float, float]:
        if not self.label:
            return 0.0, 0.0
        metrics = QFontMetricsF(_label_font())
        return metrics.horizontalAdvance(self.label) + 6, metrics.height() + 1

    def set_label_room(self, rect: QRectF | None) -> None:
        """Where the label goes (from the scene's layout), or None: no room, shown on hover."""
        shown = rect is not None
        rect = QRectF(rect) if rect is not None else self._hover_rect()
        if shown == self._label_shown and rect == self._label_rect:
            return
        self.prepareGeometryChange()
        self._label_shown = shown
        self._label_rect = rect
        self._update_bounds()
        self.update()

    def shift_label(self, dx: float, dy: float) -> None:
        """Move the label with its route (a dragged selection)."""
        if not self._label_rect.isNull():
            self.prepareGeometryChange()
            self._label_rect.translate(dx, dy)
            self._update_bounds()

    def _hover_rect(self) -> QRectF:
        """Where a label without room is drawn on hover: over the middle of the route."""
        w, h = self.label_size()
        if not self.points or not w:
            return QRectF()
        mid = self._path.pointAtPercent(0.5)
        return QRectF(mid.x() - w / 2, mid.y() - h - 4, w, h)

    def label_visible(self) -> bool:
        """Whether the label is drawn now (it has room, or the mouse is over the edge)."""
        return bool(self.label) and (self._label_shown or self._hover)

    def _update_bounds(self) -> None:
        bounds = self._path.boundingRect().adjusted(-6, -6, 6, 6)
        if self.label and not self._label_rect.isNull():
            bounds = bounds.united(self._label_rect.adjusted(-1, -1, 1, 1))
        self._bounds = bounds

    def label_rect(self) -> QRectF:
        return QRectF(self._label_rect)

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        return self._bounds

    def shape(self) -> QPainterPath:
        return self._shape

    # hover: a hidden label shows while the mouse is on the edge --------------------------------
    def hoverEnterEvent(self, event) -> None:  # noqa: N802 - Qt override
        self._hover = True
        if self.label and not self._label_shown:
            self.setZValue(4)  # above the layers it passes
        self.update()
        super().hoverEnterEvent(event)

    def hoverLeaveEvent(self, event) -> None:  # noqa: N802 - Qt override
        self._hover = False
        self.setZValue(-1)
        self.update()
        super().hoverLeaveEvent(event)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        colors = self.scene().colors  # type: ignore[union-attr]
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, lod > 0.4)
        colour = colors.selected if (self.isSelected() or self._hover) else (
            colors.error if self.error else colors.edge)
        painter.setPen(QPen(colour, 2.4 if self.isSelected() or self.error else 1.7))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._path)
        if self.label_visible() and (lod >= LABEL_LOD or self._hover) and \
                not self._label_rect.isNull():
            bg = QColor(colors.background)
            bg.setAlpha(235)
            painter.setPen(QPen(colour if self._hover else colors.node_border, 1))
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
