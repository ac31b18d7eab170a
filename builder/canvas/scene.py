"""The canvas scene: a projection of the document's events onto graphics items.

It keeps an item-for-node and an item-for-edge map, updates only the items an event concerns,
and turns mouse gestures into controller calls (connect on release, one move per drag).
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QPainter, QPen
from PySide6.QtWidgets import QGraphicsScene, QGraphicsSceneMouseEvent

from builder.analysis import Report
from builder.canvas.edge_item import EdgeItem
from builder.canvas.link_gesture import NewLinkGesture
from builder.canvas.node_item import GRID, NodeItem
from builder.canvas.port_item import PortItem
from builder.controller import EditorController
from builder.theme import LIGHT, CanvasColors
from graph import events as ev
from graph.events import Edge


def format_count(n: int | None) -> str:
    if n is None:
        return ""
    if n >= 1_000_000:
        return f"{n / 1e6:.2f} M params"
    if n >= 10_000:
        return f"{n / 1e3:.1f} k params"
    return f"{n:,} params"


class CanvasScene(QGraphicsScene):
    """Draws the controller's current document; never stores layer data of its own."""

    #: The selected node ids changed (after any selection change).
    nodeSelectionChanged = Signal(list)

    def __init__(self, controller: EditorController, colors: CanvasColors = LIGHT) -> None:
        super().__init__()
        self.controller = controller
        self.colors = colors
        self.nodes: dict[str, NodeItem] = {}
        self.edges: dict[Edge, EdgeItem] = {}
        self.snap_to_grid = False
        self.show_params = False
        self.dragging = False
        self._gesture: NewLinkGesture | None = None
        self._press_positions: dict[str, QPointF] = {}
        self._report: Report | None = None
        self._unsubscribe = None
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.BspTreeIndex)
        self.selectionChanged.connect(self._emit_selection)
        controller.documentReplaced.connect(self.rebuild)
        controller.selectRequested.connect(self.select_nodes)
        self.rebuild()

    # --- building from the document --------------------------------------------------------
    def rebuild(self) -> None:
        """Drop every item and draw the controller's document afresh."""
        if self._unsubscribe is not None:
            self._unsubscribe()
        self.cancel_gesture()
        self.clear()
        self.nodes.clear()
        self.edges.clear()
        self._report = None
        doc = self.controller.doc
        for node_id in doc.node_ids():
            self._add_node(node_id)
        for edge in doc.edges():
            self._add_edge(edge)
        self._unsubscribe = doc.subscribe(self._on_event)
        self._update_scene_rect()

    def _on_event(self, event: ev.Event) -> None:
        if isinstance(event, ev.NodeAdded):
            self._add_node(event.node_id)
        elif isinstance(event, ev.NodeRemoved):
            item = self.nodes.pop(event.node_id, None)
            if item is not None:
                self.removeItem(item)
        elif isinstance(event, ev.EdgeAdded):
            self._add_edge(event.edge)
            self._refresh_node(event.edge.dst)
            self._mark_ports(event.edge)
        elif isinstance(event, ev.EdgeRemoved):
            item = self.edges.pop(event.edge, None)
            if item is not None:
                self.removeItem(item)
            self._refresh_node(event.edge.dst)
            self._mark_ports(event.edge)
        elif isinstance(event, ev.NodeMoved):
            item = self.nodes.get(event.node_id)
            if item is not None and (item.pos().x(), item.pos().y()) != event.pos:
                item.setPos(*event.pos)
                self._grow_scene_rect(item)
        elif isinstance(event, (ev.ParamsChanged, ev.NodeRenamed, ev.TrainableChanged)):
            self._refresh_node(event.node_id)

    def _add_node(self, node_id: str) -> None:
        item = NodeItem(node_id)
        self.nodes[node_id] = item
        self._refresh_node(node_id)
        item.setPos(*self.controller.doc.attr(node_id, "pos"))
        self.addItem(item)
        self._grow_scene_rect(item)

    def _grow_scene_rect(self, item: NodeItem) -> None:
        rect = item.sceneBoundingRect().adjusted(-1000, -1000, 1000, 1000)
        if not self.sceneRect().contains(rect):
            self.setSceneRect(self.sceneRect().united(rect))

    def _refresh_node(self, node_id: str) -> None:
        item = self.nodes.get(node_id)
        doc = self.controller.doc
        if item is None or node_id not in doc:
            return
        data = doc.graph.nodes[node_id]
        before = len(item.inputs)
        item.refresh(doc.spec(node_id), data["name"], data["params"], data["trainable"],
                     len(doc.in_edges(node_id)))
        if len(item.inputs) != before or item.scene() is not None:
            self._update_node_edges(item)

    def _add_edge(self, edge: Edge) -> None:
        item = EdgeItem(edge)
        self.edges[edge] = item
        if self._report is not None:
            item.set_label(self._report.edge_labels.get(edge, ""))
        self._place_edge(item)
        self.addItem(item)
        self._mark_ports(edge)

    def _place_edge(self, item: EdgeItem) -> None:
        src, dst = self.nodes.get(item.edge.src), self.nodes.get(item.edge.dst)
        if src is not None and dst is not None:
            item.set_ends(src.port_pos("out", item.edge.src_port),
                          dst.port_pos("in", item.edge.dst_port))

    def _mark_ports(self, edge: Edge) -> None:
        doc = self.controller.doc
        src, dst = self.nodes.get(edge.src), self.nodes.get(edge.dst)
        if src is not None and edge.src_port < len(src.outputs) and edge.src in doc:
            src.outputs[edge.src_port].connected = any(
                e.src_port == edge.src_port for e in doc.out_edges(edge.src))
            src.outputs[edge.src_port].update()
        if dst is not None and edge.dst in doc:
            for port in dst.inputs:
                port.connected = doc.edge_into(edge.dst, port.index) is not None
                port.update()

    def _update_node_edges(self, item: NodeItem) -> None:
        doc = self.controller.doc
        if item.node_id not in doc:
            return
        for edge in doc.in_edges(item.node_id) + doc.out_edges(item.node_id):
            edge_item = self.edges.get(edge)
            if edge_item is not None:
                self._place_edge(edge_item)

    def node_item_moved(self, item: NodeItem) -> None:
        """Called by a node item whose position changed: re-route its edges."""
        self._update_node_edges(item)

    def _update_scene_rect(self) -> None:
        rect = self.itemsBoundingRect().adjusted(-2000, -2000, 2000, 2000)
        self.setSceneRect(rect.united(QRectF(-2000, -2000, 4000, 4000)))

    # --- analysis results --------------------------------------------------------------------
    def apply_report(self, report: Report) -> None:
        """Show shapes on edges, error badges and parameter counts."""
        self._report = report
        for edge, item in self.edges.items():
            item.set_label(report.edge_labels.get(edge, ""))
        for node_id, item in self.nodes.items():
            info = report.nodes.get(node_id)
            item.set_error(info.error if info else "")
            item.set_params_text(format_count(info.params) if info and info.params else "",
                                 self.show_params)
            self._update_node_edges(item)

    def set_show_params(self, show: bool) -> None:
        self.show_params = show
        for item in self.nodes.values():
            item.set_params_text(item.params_text, show)
            self._update_node_edges(item)

    # --- selection ---------------------------------------------------------------------------
    def selected_node_ids(self) -> list[str]:
        return [i.node_id for i in self.selectedItems() if isinstance(i, NodeItem)]

    def selected_edges(self) -> list[Edge]:
        return [i.edge for i in self.selectedItems() if isinstance(i, EdgeItem)]

    def select_nodes(self, node_ids: list[str]) -> None:
        self.blockSignals(True)
        try:
            self.clearSelection()
            for node_id in node_ids:
                item = self.nodes.get(node_id)
                if item is not None:
                    item.setSelected(True)
        finally:
            self.blockSignals(False)
        self._emit_selection()

    def _emit_selection(self) -> None:
        self.nodeSelectionChanged.emit(self.selected_node_ids())

    # --- gestures ----------------------------------------------------------------------------
    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton:
            port = self._port_at(event.scenePos())
            if port is not None and port.kind == "out":
                self._gesture = NewLinkGesture(self, port)
                self._gesture.start()
                event.accept()
                return
        super().mousePressEvent(event)
        if event.button() == Qt.MouseButton.LeftButton:
            self.dragging = True
            self._press_positions = {n: QPointF(i.pos()) for n, i in self.nodes.items()
                                     if i.isSelected()}

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        if self._gesture is not None:
            self._gesture.update(event.scenePos())
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        if self._gesture is not None and event.button() == Qt.MouseButton.LeftButton:
            gesture, self._gesture = self._gesture, None
            gesture.finish(event.scenePos())
            event.accept()
            return
        super().mouseReleaseEvent(event)
        if event.button() == Qt.MouseButton.LeftButton and self.dragging:
            self.dragging = False
            self.commit_moves()

    def commit_moves(self) -> bool:
        """Push one move command for every selected node that the drag displaced."""
        moved = {}
        doc = self.controller.doc
        for node_id, item in self.nodes.items():
            if item.isSelected() and node_id in doc:
                pos = (item.pos().x(), item.pos().y())
                if pos != doc.attr(node_id, "pos"):
                    moved[node_id] = pos
        self._press_positions = {}
        if not moved:
            return False
        return self.controller.move(moved)

    def cancel_gesture(self) -> None:
        if self._gesture is not None:
            self._gesture.cancel()
            self._gesture = None

    def _port_at(self, pos: QPointF) -> PortItem | None:
        for item in self.items(pos):
            if isinstance(item, PortItem):
                return item
        return None

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802
        painter.fillRect(rect, self.colors.background)
        scale = painter.worldTransform().m11()
        if scale < 0.5:
            return
        step = GRID * (1 if scale >= 1 else 2)
        painter.setPen(QPen(self.colors.grid, 1 / scale))
        left = int(rect.left() // step) * step
        top = int(rect.top() // step) * step
        lines = []
        x = left
        from PySide6.QtCore import QLineF

        while x < rect.right():
            lines.append(QLineF(x, rect.top(), x, rect.bottom()))
            x += step
        y = top
        while y < rect.bottom():
            lines.append(QLineF(rect.left(), y, rect.right(), y))
            y += step
        painter.drawLines(lines)
