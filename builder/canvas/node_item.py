"""A layer on the canvas: a card with its name, type and key parameters, ports and error badge."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from builder.canvas.port_item import PortItem
from builder.theme import CATEGORY_COLORS
from graph.catalogue import INT_TUPLE, LayerSpec

NODE_WIDTH = 172.0
HEADER = 24.0
LINE = 18.0
PORT_GAP = 16.0
TEXT_LOD = 0.45
#: Below this scale nodes are plain blocks (the level-of-detail cutoff: no text at all).
NAME_LOD = 0.05
#: Far out, a name is drawn at least this many pixels high on screen, in a tag that may be
#: wider than its block (up to the layout's column distance, so neighbours never overlap).
NAME_PIXELS = 10.0
TAG_SLACK_X = 24.0
TAG_SLACK_Y = 34.0
GRID = 20.0


def key_params_text(spec: LayerSpec, params: dict[str, Any]) -> str:
    """``Dense · 300 · relu``: the type and the values of its key parameters."""
    parts = [spec.type]
    for key in spec.key_params:
        value = params.get(key)
        if value is None or value == "none" or value is False:
            continue
        if isinstance(value, dict):  # a reference to a parameter of the block it is in
            value = f"${value.get('$param')}"
        elif spec.param(key).kind == INT_TUPLE:
            value = "×".join(str(v) for v in value)
        elif isinstance(value, float):
            value = f"{value:g}"
        elif value is True:
            value = ""
        label = SHORT_LABELS.get(key, "")
        parts.append(f"{label} {value}".strip() if label else str(value))
    return " · ".join(parts)


def block_text(block: Any, params: dict[str, Any]) -> str:
    """``BasicBlock ×2 · channels 64``: a Block node's definition, repeat and values."""
    repeat = params.get("repeat", 1)
    parts = [block.name + (f" ×{repeat}" if repeat != 1 else "")]
    for p in block.block_params:
        value = params.get(p.name, p.default)
        if isinstance(value, dict):  # a reference to the enclosing block's parameter
            value = "$" + str(value.get("$param"))
        elif isinstance(value, float):
            value = f"{value:g}"
        parts.append(f"{p.name} {value}")
    return " · ".join(parts)


def block_ports_text(doc: Any, node_id: str, info: Any) -> str:
    """A Block node's tooltip: its definition and the shapes at its ports."""
    spec = doc.spec(node_id)
    block = doc.block(doc.attr(node_id, "params")["block"])
    ins = info.input_shapes if info is not None else ()
    outs = info.output_shapes if info is not None else ()
    lines = [f"<b>{doc.label(node_id)}</b>: block {block.name} (double-click to open)"]
    for k in range(spec.arity):
        lines.append(f"in {spec.input_name(k)}: {ins[k] if k < len(ins) else '?'}")
    for k in range(spec.output_count()):
        lines.append(f"out {spec.output_name(k)}: {outs[k] if k < len(outs) else '?'}")
    if info is not None and info.error:
        lines.append(f"<span style='color:#c0392b'>{info.error}</span>")
    return "<br>".join(lines)


#: How a key parameter is named on a node when its bare value would be unclear.
SHORT_LABELS = {"loss_weight": "weight", "axis": "axis", "p": "p", "return_sequences": "sequences",
                "num_embeddings": "vocab", "embedding_dim": "dim", "kernel_size": "k"}


class BadgeItem(QGraphicsItem):
    """The red error marker in a node's corner; its tooltip is the error message."""

    SIZE = 16.0

    def __init__(self, parent: QGraphicsItem) -> None:
        super().__init__(parent)
        self.setZValue(3)
        self.setVisible(False)
        self.setAcceptHoverEvents(True)

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        s = self.SIZE
        return QRectF(-s / 2, -s / 2, s, s)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        colors = self.scene().colors  # type: ignore[union-attr]
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(QPen(QColor("#ffffff"), 1.5))
        painter.setBrush(QBrush(colors.error))
        painter.drawEllipse(self.boundingRect())
        font = QFont()
        font.setBold(True)
        font.setPixelSize(11)
        painter.setFont(font)
        painter.setPen(QColor("#ffffff"))
        painter.drawText(self.boundingRect(), Qt.AlignmentFlag.AlignCenter, "!")


class NodeItem(QGraphicsItem):
    """Holds its node id and the display texts derived from the document; draws itself."""

    def __init__(self, node_id: str) -> None:
        super().__init__()
        self.node_id = node_id
        self.title = ""
        self.subtitle = ""
        self.params_text = ""
        self.show_params = False
        self.accent = QColor("#6b7a8f")
        self.frozen = False
        self.inputs: list[PortItem] = []
        self.outputs: list[PortItem] = []
        self.numbered = False  # merge layers: input order matters, ports carry numbers
        self.direction = "LR"  # inputs left, outputs right; "TB": inputs on top
        self.height = HEADER + LINE + 8
        self.badge = BadgeItem(self)
        flags = QGraphicsItem.GraphicsItemFlag
        self.setFlags(flags.ItemIsMovable | flags.ItemIsSelectable
                      | flags.ItemSendsGeometryChanges)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setZValue(1)

    # content ----------------------------------------------------------------------------------
    def refresh(self, spec: LayerSpec, name: str, params: dict[str, Any], trainable: bool,
                connected_inputs: int) -> None:
        """Update texts and ports from the document's current values."""
        self.title = name
        self.subtitle = key_params_text(spec, params)
        self.accent = QColor(CATEGORY_COLORS.get(spec.category, "#6b7a8f"))
        self.frozen = spec.trainable and not trainable
        self.numbered = spec.variadic
        self._set_ports(spec.input_ports(connected_inputs), spec.output_count(params))
        self._relayout()

    def set_direction(self, direction: str) -> None:
        if direction != self.direction:
            self.direction = direction
            self._relayout()

    def set_error(self, message: str) -> None:
        if message == self.error:
            return
        self.badge.setVisible(bool(message))
        self.badge.setToolTip(message)
        self.setToolTip(message)
        self.update()

    @property
    def error(self) -> str:
        return self.badge.toolTip() if self.badge.isVisible() else ""

    def set_subtitle(self, text: str) -> None:
        """Replace the type line (a Block node shows its definition and values)."""
        if text != self.subtitle:
            self.subtitle = text
            self._relayout()

    def set_params_text(self, text: str, show: bool) -> None:
        if (text, show) != (self.params_text, self.show_params):
            self.params_text, self.show_params = text, show
            self._relayout()

    def _set_ports(self, n_in: int, n_out: int) -> None:
        for ports, count, kind in ((self.inputs, n_in, "in"), (self.outputs, n_out, "out")):
            while len(ports) > count:
                port = ports.pop()
                port.setParentItem(None)
                if port.scene() is not None:
                    port.scene().removeItem(port)
            while len(ports) < count:
                ports.append(PortItem(self.node_id, kind, len(ports), self))

    def _relayout(self) -> None:
        lines = 2 if self.show_params and self.params_text else 1
        body = HEADER + LINE * lines + 8
        ports = max(len(self.inputs), len(self.outputs), 1)
        height = body if self.direction == "TB" else max(body, PORT_GAP * (ports + 1))
        if height != self.height:
            self.prepareGeometryChange()
            self.height = height
        for ports_, edge in ((self.inputs, 0.0), (self.outputs, 1.0)):
            n = len(ports_)
            for i, port in enumerate(ports_):
                number = str(i + 1) if self.numbered and ports_ is self.inputs else ""
                side = ("top" if edge == 0 else "bottom") if self.direction == "TB" else (
                    "left" if edge == 0 else "right")
                port.set_place(number, side, port.tooltip_text(self.title))
                if self.direction == "TB":
                    port.setPos(NODE_WIDTH * (i + 1) / (n + 1), self.height * edge)
                else:
                    port.setPos(NODE_WIDTH * edge, self.height * (i + 1) / (n + 1))
        self.badge.setPos(NODE_WIDTH - 4, 4)
        self.update()

    # geometry ---------------------------------------------------------------------------------
    def port_pos(self, kind: str, index: int) -> QPointF:
        """Scene position of a port (the end of an edge)."""
        ports = self.inputs if kind == "in" else self.outputs
        if 0 <= index < len(ports):
            return self.mapToScene(ports[index].pos())
        edge = 0.0 if kind == "in" else 1.0
        if self.direction == "TB":
            return self.mapToScene(QPointF(NODE_WIDTH / 2, self.height * edge))
        return self.mapToScene(QPointF(NODE_WIDTH * edge, self.height / 2))

    def card_rect(self) -> QRectF:
        """The card in item coordinates (what edges route around and clicks hit)."""
        return QRectF(0, 0, NODE_WIDTH, self.height)

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        # room for the name tag drawn far out (see `paint`)
        return QRectF(-TAG_SLACK_X, -TAG_SLACK_Y, NODE_WIDTH + 2 * TAG_SLACK_X,
                      self.height + 2 * TAG_SLACK_Y)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRect(QRectF(-2, -2, NODE_WIDTH + 4, self.height + 4))
        return path

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value: Any) -> Any:  # noqa: N802
        scene = self.scene()
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionChange and scene is not None:
            if getattr(scene, "snap_to_grid", False) and getattr(scene, "dragging", False):
                return QPointF(round(value.x() / GRID) * GRID, round(value.y() / GRID) * GRID)
        elif change == QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged and scene is not None:
            scene.node_item_moved(self)
        return super().itemChange(change, value)

    # drawing ----------------------------------------------------------------------------------
    def _paint_name_tag(self, painter: QPainter, lod: float, fill: QColor, rect: QRectF) -> None:
        """The name at `NAME_PIXELS` on screen: inside the block while it fits, else in a tag
        of the block's colour as wide as the layout's column distance allows (elided)."""
        font = QFont()
        font.setBold(True)
        size = min(NAME_PIXELS / lod, 2 * TAG_SLACK_Y + self.height)
        font.setPixelSize(max(1, int(size)))
        metrics = QFontMetricsF(font)
        inside = rect.height() >= metrics.height() * 0.95 and \
            metrics.horizontalAdvance(self.title) <= NODE_WIDTH - 12
        width = (NODE_WIDTH - 12) if inside else (NODE_WIDTH + 2 * TAG_SLACK_X - 6)
        # in the middle: conv1 / conv2 stay apart ("co…1", "co…2")
        text = metrics.elidedText(self.title, Qt.TextElideMode.ElideMiddle, width)
        if not inside:
            w = max(metrics.horizontalAdvance(text) + 6, NODE_WIDTH)
            h = metrics.height()
            tag = QRectF(NODE_WIDTH / 2 - w / 2, self.height / 2 - h / 2, w, h)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QBrush(fill))
            painter.drawRoundedRect(tag, h * 0.2, h * 0.2)
            rect = tag
        painter.setFont(font)
        painter.setPen(QColor("#ffffff"))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        colors = self.scene().colors  # type: ignore[union-attr]
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        rect = QRectF(0, 0, NODE_WIDTH, self.height)
        selected = self.isSelected()
        border = colors.selected if selected else (colors.error if self.error else
                                                   colors.node_border)
        if lod < TEXT_LOD:  # far out: a coloured block with its name kept readable
            fill = self.accent
            painter.setPen(QPen(colors.error if self.error else border, 1))
            painter.setBrush(QBrush(fill))
            painter.drawRect(rect)
            if selected:  # a ring apart from the block (a blue Dense is the selection's blue)
                gap = min(4.0 / lod, 14.0)  # inside the bounding rect's slack
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.setPen(QPen(colors.selected, min(2.5 / lod, 12.0)))
                painter.drawRoundedRect(rect.adjusted(-gap, -gap, gap, gap), gap, gap)
            if self.frozen:
                painter.setBrush(QBrush(QColor(255, 255, 255, 110), Qt.BrushStyle.BDiagPattern))
                painter.drawRect(rect)
            if lod >= NAME_LOD:
                self._paint_name_tag(painter, lod, fill, rect)
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(QPen(border, 2.2 if selected else 1.2))
        painter.setBrush(QBrush(colors.node))
        painter.drawRoundedRect(rect, 7, 7)
        if self.frozen:  # frozen (trainable off): a hatched body and a grey accent bar
            hatch = QColor(colors.subtext)
            hatch.setAlpha(60)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QBrush(hatch, Qt.BrushStyle.BDiagPattern))
            painter.drawRoundedRect(rect, 7, 7)
        # accent bar
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(QColor("#9e9e9e") if self.frozen else self.accent))
        painter.drawRoundedRect(QRectF(1, 1, 5, self.height - 2), 3, 3)
        # texts
        pad = 14.0 + (8.0 if self.numbered and self.direction == "LR" else 0.0)
        width = NODE_WIDTH - pad - 12
        title_font = QFont()
        title_font.setBold(True)
        painter.setFont(title_font)
        painter.setPen(colors.text)
        metrics = QFontMetricsF(title_font)
        title = metrics.elidedText(self.title + ("  ❄" if self.frozen else ""),
                                   Qt.TextElideMode.ElideRight, width - 8)
        painter.drawText(QRectF(pad, 4, width, HEADER), Qt.AlignmentFlag.AlignVCenter, title)
        sub_font = QFont()
        sub_font.setPointSizeF(max(7.0, sub_font.pointSizeF() * 0.9))
        painter.setFont(sub_font)
        painter.setPen(colors.subtext)
        sub_metrics = QFontMetricsF(sub_font)
        painter.drawText(QRectF(pad, HEADER, width, LINE), Qt.AlignmentFlag.AlignVCenter,
                         sub_metrics.elidedText(self.subtitle, Qt.TextElideMode.ElideRight,
                                                width))
        if self.show_params and self.params_text:
            painter.drawText(QRectF(pad, HEADER + LINE, width, LINE),
                             Qt.AlignmentFlag.AlignVCenter,
                             sub_metrics.elidedText(self.params_text,
                                                    Qt.TextElideMode.ElideRight, width))
