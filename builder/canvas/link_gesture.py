"""The connect gesture: drag from an output port, see valid targets, drop on an input port.

A gesture object with start / update / finish / cancel (as Orange's ``NewLinkAction``); it only
draws a temporary curve and asks the controller for the one `Connect` edit at the end.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import networkx as nx
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QPen
from PySide6.QtWidgets import QGraphicsPathItem

from builder.canvas.edge_item import curve
from builder.canvas.port_item import INVALID, NEUTRAL, VALID, PortItem
from graph.events import Edge
from graph.validation import can_connect

if TYPE_CHECKING:
    from builder.canvas.scene import CanvasScene


class NewLinkGesture:
    """One drag from ``source`` (an output port) to some input port."""

    def __init__(self, scene: CanvasScene, source: PortItem) -> None:
        self.scene = scene
        self.source = source
        self._line = QGraphicsPathItem()
        pen = QPen(scene.colors.selected, 2, Qt.PenStyle.DashLine)
        self._line.setPen(pen)
        self._line.setZValue(5)
        self._hover: PortItem | None = None
        self._marked: list[PortItem] = []

    def start(self) -> None:
        self.scene.addItem(self._line)
        self._mark_targets()
        self.update(self._origin())

    def _origin(self) -> QPointF:
        return self.source.mapToScene(QPointF(0, 0))

    def _mark_targets(self) -> None:
        """Highlight the input ports this output may feed (cheap check, no cycle search each)."""
        doc = self.scene.controller.doc
        src = self.source.node_id
        blocked = nx.ancestors(doc.graph, src) | {src}
        for node_id, item in self.scene.nodes.items():
            for port in item.inputs:
                ok = node_id not in blocked and doc.edge_into(node_id, port.index) is None
                port.set_state(VALID if ok else INVALID)
                self._marked.append(port)

    def _edge_to(self, port: PortItem) -> Edge:
        return Edge(self.source.node_id, self.source.index, port.node_id, port.index)

    def target_at(self, pos: QPointF) -> PortItem | None:
        """The input port under ``pos`` (or the first free port of a node under ``pos``)."""
        from builder.canvas.node_item import NodeItem

        for item in self.scene.items(pos):
            if isinstance(item, PortItem) and item.kind == "in":
                return item
        for item in self.scene.items(pos):
            if isinstance(item, NodeItem) and item.node_id != self.source.node_id:
                free = self.scene.controller.doc.free_input_port(item.node_id)
                if free is not None and free < len(item.inputs):
                    return item.inputs[free]
                return item.inputs[0] if item.inputs else None
        return None

    def update(self, pos: QPointF) -> None:
        target = self.target_at(pos)
        end = target.mapToScene(QPointF(0, 0)) if target is not None else pos
        self._line.setPath(curve(self._origin(), end))
        if target is not self._hover:
            self._hover = target
            if target is not None:
                ok, reason = can_connect(self.scene.controller.doc, self._edge_to(target))
                self.scene.controller.message.emit(
                    "Release to connect." if ok else f"Cannot connect: {reason}")

    def finish(self, pos: QPointF) -> bool:
        """Connect to the port under ``pos``; returns whether an edge was added."""
        target = self.target_at(pos)
        self.cancel()
        if target is None:
            return False
        edge = self._edge_to(target)
        ok, reason = can_connect(self.scene.controller.doc, edge)
        if not ok:
            self.scene.controller.message.emit(f"Cannot connect: {reason}")
            return False
        return self.scene.controller.connect_ports(edge)

    def cancel(self) -> None:
        for port in self._marked:
            if port.scene() is not None:
                port.set_state(NEUTRAL)
        self._marked.clear()
        if self._line.scene() is not None:
            self.scene.removeItem(self._line)
