"""Shape labels that never overlap: each edge's label takes the first spot along its route that
covers no layer and no other label; an edge without such a spot shows its label on hover only.

Placement is incremental: a label keeps its spot until its edge is re-routed or a layer comes to
cover it, so one edit moves only the labels it concerns (and a 1,000-layer design is not laid
out again after each drag). The order of placement is the edges' order, so the same design
always gets the same labels.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING

from PySide6.QtCore import QRectF

from builder.canvas.edge_item import label_spots
from builder.canvas.routing import NodeIndex
from graph.events import Edge

if TYPE_CHECKING:
    from builder.canvas.edge_item import EdgeItem

CELL = 128.0
#: Space kept between a label and a layer or another label.
GAP = 2.0

Box = tuple[float, float, float, float]


def _box(rect: QRectF, pad: float = 0.0) -> Box:
    return (rect.left() - pad, rect.top() - pad, rect.right() + pad, rect.bottom() + pad)


def _cells(box: Box) -> list[tuple[int, int]]:
    return [(i, j) for i in range(math.floor(box[0] / CELL), math.floor(box[2] / CELL) + 1)
            for j in range(math.floor(box[1] / CELL), math.floor(box[3] / CELL) + 1)]


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and a[2] > b[0] and a[1] < b[3] and a[3] > b[1]


class LabelPlacer:
    """Which edge's label sits where (scene boxes), and which have no room."""

    def __init__(self) -> None:
        self.placed: dict[Edge, Box] = {}
        self._grid: dict[tuple[int, int], set[Edge]] = {}

    def clear(self) -> None:
        self.placed.clear()
        self._grid.clear()

    def forget(self, edges: Iterable[Edge]) -> None:
        for edge in edges:
            box = self.placed.pop(edge, None)
            if box is not None:
                for cell in _cells(box):
                    bucket = self._grid.get(cell)
                    if bucket is not None:
                        bucket.discard(edge)

    def covered_by(self, boxes: Iterable[Box]) -> set[Edge]:
        """Edges whose label lies under one of ``boxes`` (layers that moved or grew)."""
        hit: set[Edge] = set()
        for box in boxes:
            for cell in _cells(box):
                for edge in self._grid.get(cell, ()):
                    if _overlap(self.placed[edge], box):
                        hit.add(edge)
        return hit

    def _free(self, box: Box, nodes: NodeIndex) -> bool:
        if nodes.near(box):
            return False
        for cell in _cells(box):
            for edge in self._grid.get(cell, ()):
                if _overlap(self.placed[edge], box):
                    return False
        return True

    def place(self, items: Iterable[EdgeItem], nodes: NodeIndex, direction: str) -> None:
        """Find spots for these edges' labels (their old spots are forgotten first)."""
        items = sorted(items, key=lambda i: i.edge)
        self.forget(i.edge for i in items)
        for item in items:
            w, h = item.label_size()
            spot = None
            if w and item.points:
                for rect in label_spots(item.points, w, h, direction):
                    box = _box(rect, GAP)
                    if self._free(box, nodes):
                        spot = rect
                        self.placed[item.edge] = box
                        for cell in _cells(box):
                            self._grid.setdefault(cell, set()).add(item.edge)
                        break
            item.set_label_room(spot)
