"""The canvas scene: a projection of the document's events onto graphics items.

It keeps an item-for-node and an item-for-edge map, updates only the items an event concerns,
and turns mouse gestures into controller calls (connect on release, one move per drag).

Edges are routed around the layers (`routing`), and their shape labels placed where they cover
nothing (`labels`). An edge gets a plain step at once and its real route a moment later, once
per burst of changes (a layout moves every node; their edges are routed once, after it). While
a drag goes on, the dragged layers' edges take the cheap routes only, within a time budget per
frame; the full routes and the labels follow when the mouse is released.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QPainter, QPen
from PySide6.QtWidgets import (
    QGraphicsScene,
    QGraphicsSceneContextMenuEvent,
    QGraphicsSceneMouseEvent,
)

from builder.analysis import Report
from builder.canvas import routing
from builder.canvas.context_menu import CanvasMenus
from builder.canvas.edge_item import EdgeItem
from builder.canvas.labels import LabelPlacer
from builder.canvas.link_gesture import NewLinkGesture
from builder.canvas.node_item import GRID, NodeItem, block_ports_text, block_text
from builder.canvas.port_item import PortItem
from builder.controller import EditorController
from builder.theme import LIGHT, CanvasColors
from graph import events as ev
from graph.events import Edge

#: Time a drag frame may spend on routing its edges; the rest waits for the release.
DRAG_ROUTE_BUDGET_S = 0.006


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
        self.menus = CanvasMenus(self)
        self.direction = "LR"
        #: Node rectangles for routing and label placement (kept in step with the items).
        self.index = routing.NodeIndex()
        self.edge_boxes = routing.BoxIndex()  # routes' bounding boxes, by edge
        self.labels = LabelPlacer()
        self._dirty: set[Edge] = set()  # edges to route properly
        self._frame: set[Edge] = set()  # edges a drag frame moved (routed quickly at once)
        self._labels_dirty: set[Edge] = set()
        self._moved: set[str] = set()  # nodes moved since the last routing pass
        self._batch = False  # inside a drag frame: route after Qt moved every item
        self.exporting = False  # drawing for an image file: no grid
        self._route_timer = QTimer(self)
        self._route_timer.setSingleShot(True)
        self._route_timer.setInterval(0)
        self._route_timer.timeout.connect(self.flush_routes)
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.BspTreeIndex)
        self.selectionChanged.connect(self._emit_selection)
        controller.documentReplaced.connect(self.rebuild)
        controller.shownChanged.connect(self.rebuild)
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
        self.index.clear()
        self.edge_boxes.clear()
        self.labels.clear()
        self._dirty.clear()
        self._frame.clear()
        self._labels_dirty.clear()
        self._moved.clear()
        self._report = None
        doc = self.controller.shown
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
            self.index.remove(event.node_id)
            self._reroute_near_later()
        elif isinstance(event, ev.EdgeAdded):
            self._add_edge(event.edge)
            self._refresh_node(event.edge.dst)
            self._mark_ports(event.edge)
        elif isinstance(event, ev.EdgeRemoved):
            item = self.edges.pop(event.edge, None)
            if item is not None:
                self.removeItem(item)
            self.labels.forget([event.edge])
            self.edge_boxes.remove(event.edge)
            self._dirty.discard(event.edge)
            self._frame.discard(event.edge)
            self._labels_dirty.discard(event.edge)
            self._refresh_node(event.edge.dst)
            self._mark_ports(event.edge)
        elif isinstance(event, ev.NodeMoved):
            item = self.nodes.get(event.node_id)
            if item is not None and (item.pos().x(), item.pos().y()) != event.pos:
                item.setPos(*event.pos)
                self._grow_scene_rect(item)
        elif isinstance(event, (ev.ParamsChanged, ev.NodeRenamed, ev.TrainableChanged)):
            self._refresh_node(event.node_id)
        elif isinstance(event, (ev.BlockChanged, ev.BlockRenamed)):
            # a definition changed: its instances' ports, name and parameters follow
            doc = self.controller.shown
            for node_id in list(self.nodes):
                if node_id in doc and doc.attr(node_id, "type") == "Block":
                    self._refresh_node(node_id)

    def _add_node(self, node_id: str) -> None:
        item = NodeItem(node_id)
        item.set_direction(self.direction)
        self.nodes[node_id] = item
        self._refresh_node(node_id)
        item.setPos(*self.controller.shown.attr(node_id, "pos"))
        self.addItem(item)
        self._index_node(item)
        self._grow_scene_rect(item)

    def _index_node(self, item: NodeItem) -> None:
        r = item.mapRectToScene(item.card_rect())
        self.index.set(item.node_id, (r.left(), r.top(), r.right(), r.bottom()))
        self._moved.add(item.node_id)

    def _grow_scene_rect(self, item: NodeItem) -> None:
        rect = item.sceneBoundingRect().adjusted(-1000, -1000, 1000, 1000)
        if not self.sceneRect().contains(rect):
            self.setSceneRect(self.sceneRect().united(rect))

    def _refresh_node(self, node_id: str) -> None:
        item = self.nodes.get(node_id)
        doc = self.controller.shown
        if item is None or node_id not in doc:
            return
        data = doc.graph.nodes[node_id]
        before = (len(item.inputs), item.height)
        spec = doc.spec(node_id)
        item.refresh(spec, data["name"], data["params"], data["trainable"],
                     len(doc.in_edges(node_id)))
        if data["type"] == "Block":
            item.set_subtitle(block_text(doc.block(data["params"]["block"]), data["params"]))
        if item.scene() is not None:
            if (len(item.inputs), item.height) != before:
                self._index_node(item)
                self._reroute_near_later()
            self._update_node_edges(item)

    def _add_edge(self, edge: Edge) -> None:
        item = EdgeItem(edge)
        self.edges[edge] = item
        if self._report is not None:
            item.set_label(self._report.edge_labels.get(edge, ""))
        self._place_edge(item)
        self.addItem(item)
        self._mark_ports(edge)

    def _ends(self, edge: Edge) -> tuple[tuple[float, float], tuple[float, float]] | None:
        src, dst = self.nodes.get(edge.src), self.nodes.get(edge.dst)
        if src is None or dst is None:
            return None
        a, b = src.port_pos("out", edge.src_port), dst.port_pos("in", edge.dst_port)
        return (a.x(), a.y()), (b.x(), b.y())

    def _place_edge(self, item: EdgeItem) -> None:
        """A plain step now (during a drag: after Qt moved every item), the routed path in
        the next routing pass. An edge already waiting for that pass is left as it is: a
        layout moves both ends of every edge, and each is routed once, after it."""
        waiting = item.edge in self._dirty and bool(item.points)
        self._dirty.add(item.edge)
        self._labels_dirty.add(item.edge)
        if self._batch:
            self._frame.add(item.edge)
            return
        if waiting and self._route_timer.isActive():
            return
        ends = self._ends(item.edge)
        if ends is not None:
            item.set_route(routing.route(ends[0], ends[1], None, self.direction))
            item.ends = ends
            self._route_timer.start()

    def route_edge(self, item: EdgeItem, quick: bool = False) -> None:
        """Route one edge around the layers (``quick``: cheap shapes only, and an edge whose
        two ends moved together is moved along, as while a selection is dragged)."""
        ends = self._ends(item.edge)
        if ends is None:
            return
        old = item.ends
        if quick and old is not None and item.points:
            dx, dy = ends[0][0] - old[0][0], ends[0][1] - old[0][1]
            if abs(ends[1][0] - old[1][0] - dx) < 1e-6 and abs(ends[1][1] - old[1][1] - dy) < 1e-6:
                item.set_route([(x + dx, y + dy) for x, y in item.points])
                item.shift_label(dx, dy)
                item.ends = ends
                return
        item.set_route(routing.route(ends[0], ends[1], self.index, self.direction, quick))
        item.ends = ends
        if quick:
            item.set_label_room(None)  # placed again when the drag ends
        if not quick:
            xs, ys = [p[0] for p in item.points], [p[1] for p in item.points]
            self.edge_boxes.set(item.edge, (min(xs), min(ys), max(xs), max(ys)))

    def _reroute_near_later(self) -> None:
        self._route_timer.start()

    @property
    def routing_pending(self) -> bool:
        return bool(self._dirty or self._labels_dirty or self._moved)

    def flush_routes(self, budget: float | None = None) -> None:
        """Route the edges that changed, re-route those a moved layer now covers, and place
        their labels. With ``budget`` (seconds, while dragging): cheap routes only, no labels,
        and what does not fit in the time is left for later."""
        self._route_timer.stop()
        if self._moved and budget is None:
            boxes = [self.index.rects[n] for n in self._moved if n in self.index.rects]
            for box in boxes:
                for edge in self.edge_boxes.keys_near(box):
                    item = self.edges.get(edge)
                    if item is not None and edge not in self._dirty and \
                            routing.crosses(item.points, box):
                        self._dirty.add(edge)
            self._labels_dirty |= self.labels.covered_by(boxes)
            self._moved.clear()
        if budget is not None:  # a drag frame: what it moved, cheaply, within the budget
            start = time.perf_counter()
            for edge in sorted(self._frame):
                self._frame.discard(edge)
                item = self.edges.get(edge)
                if item is not None:
                    self.route_edge(item, quick=True)
                if time.perf_counter() - start > budget:
                    break
            return  # the rest follows in the next frame; full routes when the drag ends
        self._frame.clear()
        for edge in sorted(self._dirty):
            item = self.edges.get(edge)
            if item is not None:
                self.route_edge(item)
                self._labels_dirty.add(edge)
        self._dirty.clear()
        items = [self.edges[e] for e in self._labels_dirty if e in self.edges]
        self._labels_dirty.clear()
        self.labels.place(items, self.index, self.direction)

    def set_direction(self, direction: str) -> None:
        """Ports left/right (``"LR"``) or top/bottom (``"TB"``); every edge is re-routed."""
        if direction == self.direction:
            return
        self.direction = direction
        for item in self.nodes.values():
            item.set_direction(direction)
            self._index_node(item)
        for item in self.edges.values():
            self._place_edge(item)

    def _mark_ports(self, edge: Edge) -> None:
        doc = self.controller.shown
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
        doc = self.controller.shown
        if item.node_id not in doc:
            return
        for edge in doc.in_edges(item.node_id) + doc.out_edges(item.node_id):
            edge_item = self.edges.get(edge)
            if edge_item is not None:
                self._place_edge(edge_item)

    def node_item_moved(self, item: NodeItem) -> None:
        """Called by a node item whose position changed: re-route its edges."""
        if item.node_id in self.nodes:
            self._index_node(item)
        self._update_node_edges(item)

    def _update_scene_rect(self) -> None:
        rect = self.itemsBoundingRect().adjusted(-2000, -2000, 2000, 2000)
        self.setSceneRect(rect.united(QRectF(-2000, -2000, 4000, 4000)))

    # --- analysis results --------------------------------------------------------------------
    def apply_report(self, report: Report) -> None:
        """Show shapes on edges, error badges, offending edges and parameter counts."""
        self._report = report
        offending = report.error_edges()
        for edge, item in self.edges.items():
            item.set_error(edge in offending)
            text = report.edge_labels.get(edge, "")
            if text != item.label:
                item.set_label(text)
                self._labels_dirty.add(edge)
        doc = self.controller.shown
        for node_id, item in self.nodes.items():
            info = report.nodes.get(node_id)
            item.set_error(info.error if info else "")
            if node_id in doc and doc.attr(node_id, "type") == "Block":
                item.setToolTip(block_ports_text(doc, node_id, info))
            item.set_params_text(format_count(info.params) if info and info.params else "",
                                 self.show_params)
        if self._labels_dirty:
            self._route_timer.start()

    def set_show_params(self, show: bool) -> None:
        self.show_params = show
        for item in self.nodes.values():
            before = item.height
            item.set_params_text(item.params_text, show)
            if item.height != before:
                self._index_node(item)
                self._update_node_edges(item)

    # --- selection ---------------------------------------------------------------------------
    def selected_node_ids(self) -> list[str]:
        return [i.node_id for i in self.selectedItems() if isinstance(i, NodeItem)]

    def selected_edges(self) -> list[Edge]:
        return [i.edge for i in self.selectedItems() if isinstance(i, EdgeItem)]

    def select_nodes(self, node_ids: list[str]) -> None:
        self._select([self.nodes.get(n) for n in node_ids])

    def select_edges(self, edges: list[Edge]) -> None:
        self._select([self.edges.get(e) for e in edges])

    def _select(self, items: list) -> None:
        """Select exactly ``items`` (None entries skipped), with one selection signal."""
        self.blockSignals(True)
        try:
            self.clearSelection()
            for item in items:
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
        if not (self.dragging and event.buttons() & Qt.MouseButton.LeftButton):
            super().mouseMoveEvent(event)
            return
        self._batch = True  # Qt moves every selected item; their edges are routed once after
        try:
            super().mouseMoveEvent(event)
        finally:
            self._batch = False
        if self._frame:
            self.flush_routes(budget=DRAG_ROUTE_BUDGET_S)

    def mouseDoubleClickEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        """Double-click a block: open its inside (edits then change the definition)."""
        doc = self.controller.shown
        for item in self.items(event.scenePos()):
            if isinstance(item, NodeItem):
                if item.node_id in doc and doc.attr(item.node_id, "type") == "Block":
                    self.controller.open_block(doc.attr(item.node_id, "params")["block"])
                    event.accept()
                    return
                break
        super().mouseDoubleClickEvent(event)

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
            if self.routing_pending:
                self._route_timer.start()

    def commit_moves(self) -> bool:
        """Push one move command for every selected node that the drag displaced."""
        moved = {}
        doc = self.controller.shown
        for node_id, item in self.nodes.items():
            if item.isSelected() and node_id in doc:
                pos = (item.pos().x(), item.pos().y())
                if pos != doc.attr(node_id, "pos"):
                    moved[node_id] = pos
        self._press_positions = {}
        if not moved:
            return False
        return self.controller.move(moved)

    def contextMenuEvent(self, event: QGraphicsSceneContextMenuEvent) -> None:  # noqa: N802
        """Right-click: the menu for what is under the mouse (`CanvasMenus`)."""
        self.cancel_gesture()
        views = self.views()
        menu = self.menus.menu_for(self.menus.target_at(event.scenePos()),
                                   views[0] if views else None)
        event.accept()
        menu.exec(event.screenPos())
        menu.deleteLater()

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
        if scale < 0.5 or self.exporting:
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
