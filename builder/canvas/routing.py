"""Edge routing around layers: orthogonal paths (drawn with rounded corners) that keep clear of
every node's rectangle.

Pure Python on floats (no Qt calls in the inner loops, so dragging stays fast). The flow runs
left to right (``"LR"``: an edge leaves its source to the right and enters its target from the
left) or top to bottom (``"TB"``); routes are computed in flow coordinates (along, across) and
turned back at the end.

The router tries, in order, the cheap shapes a person would draw — a straight line, a step in
the gap between the two layers, a detour over or under what is in the way — and only when all
of them are blocked searches an orthogonal visibility grid with A* (a few obstacles' edges as
the grid lines, a penalty per bend). `NodeIndex` is a bucket grid of node rectangles, so each
route looks only at the nodes near it.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Sequence

Point = tuple[float, float]
Rect = tuple[float, float, float, float]  # x0, y0, x1, y1

#: Space kept between an edge and a node it passes.
MARGIN = 10.0
#: Length of the straight piece at each port before an edge may turn.
STUB = 14.0
#: What a bend costs in A*, in scene units (fewer bends read better than slightly shorter).
BEND_COST = 40.0
#: Buckets of the node index.
CELL = 256.0
#: Stop searching after this many grid nodes (a pathological design falls back to a step).
MAX_EXPANDED = 4000


class BoxIndex:
    """Rectangles by key in buckets of `CELL`: which are near a box (nodes to route around,
    edges a moved node may now cover)."""

    def __init__(self) -> None:
        self.rects: dict = {}
        self._cells: dict[tuple[int, int], set] = {}
        self._where: dict = {}

    @staticmethod
    def _span(rect: Rect) -> list[tuple[int, int]]:
        x0, y0, x1, y1 = rect
        return [(i, j) for i in range(math.floor(x0 / CELL), math.floor(x1 / CELL) + 1)
                for j in range(math.floor(y0 / CELL), math.floor(y1 / CELL) + 1)]

    def set(self, node_id, rect: Rect) -> None:
        if self.rects.get(node_id) == rect:
            return
        self.remove(node_id)
        self.rects[node_id] = rect
        cells = self._span(rect)
        self._where[node_id] = cells
        for cell in cells:
            self._cells.setdefault(cell, set()).add(node_id)

    def remove(self, node_id) -> None:
        self.rects.pop(node_id, None)
        for cell in self._where.pop(node_id, ()):
            bucket = self._cells.get(cell)
            if bucket is not None:
                bucket.discard(node_id)
                if not bucket:
                    del self._cells[cell]

    def clear(self) -> None:
        self.rects.clear()
        self._cells.clear()
        self._where.clear()

    def keys_near(self, box: Rect) -> list:
        """Keys of the rectangles that intersect ``box``."""
        found: set = set()
        for cell in self._span(box):
            bucket = self._cells.get(cell)
            if bucket:
                found |= bucket
        x0, y0, x1, y1 = box
        return [k for k in found if (r := self.rects[k])[0] < x1 and r[2] > x0 and r[1] < y1
                and r[3] > y0]

    def near(self, box: Rect) -> list[Rect]:
        """The rectangles that intersect ``box``."""
        return [self.rects[k] for k in self.keys_near(box)]


#: The nodes' index is a `BoxIndex` keyed by node id.
NodeIndex = BoxIndex


# --- flow coordinates --------------------------------------------------------------------------

def _to_flow(direction: str, p: Point) -> Point:
    return p if direction != "TB" else (p[1], p[0])


def _rect_to_flow(direction: str, r: Rect) -> Rect:
    return r if direction != "TB" else (r[1], r[0], r[3], r[2])


def _inflate(r: Rect, m: float) -> Rect:
    return (r[0] - m, r[1] - m, r[2] + m, r[3] + m)


def _hits(a: Point, b: Point, rects: Iterable[Rect]) -> bool:
    """Whether the axis-parallel segment a–b passes through the inside of a rectangle."""
    x0, x1 = min(a[0], b[0]), max(a[0], b[0])
    y0, y1 = min(a[1], b[1]), max(a[1], b[1])
    for r in rects:
        if x0 < r[2] and x1 > r[0] and y0 < r[3] and y1 > r[1]:
            return True
    return False


def _clear(points: Sequence[Point], rects: Sequence[Rect]) -> bool:
    return not any(_hits(points[i], points[i + 1], rects) for i in range(len(points) - 1))


def _length(points: Sequence[Point]) -> float:
    return sum(abs(points[i + 1][0] - points[i][0]) + abs(points[i + 1][1] - points[i][1])
               for i in range(len(points) - 1))


def simplify(points: Sequence[Point]) -> list[Point]:
    """Drop repeated points and the middle of three collinear ones."""
    out: list[Point] = []
    for p in points:
        if out and abs(p[0] - out[-1][0]) < 1e-6 and abs(p[1] - out[-1][1]) < 1e-6:
            continue
        if len(out) >= 2:
            a, b = out[-2], out[-1]
            if (abs(a[0] - b[0]) < 1e-6 and abs(b[0] - p[0]) < 1e-6) or (
                    abs(a[1] - b[1]) < 1e-6 and abs(b[1] - p[1]) < 1e-6):
                out[-1] = p
                continue
        out.append(p)
    return out


# --- the cheap shapes --------------------------------------------------------------------------

def _step(s: Point, e: Point, rects: Sequence[Rect]) -> list[Point] | None:
    """s → (m, s.y) → (m, e.y) → e for the clear m closest to the middle (forward edges)."""
    if e[0] < s[0]:
        return None
    if abs(e[1] - s[1]) < 0.5:
        line = [s, e]
        return line if _clear(line, rects) else None
    mid = (s[0] + e[0]) / 2
    candidates = {mid, s[0], e[0]}
    for r in rects:
        for x in (r[0], r[2]):
            if s[0] <= x <= e[0]:
                candidates.add(x)
    for m in sorted(candidates, key=lambda x: abs(x - mid)):
        path = [s, (m, s[1]), (m, e[1]), e]
        if _clear(path, rects):
            return path
    return None


def _detour(s: Point, e: Point, rects: Sequence[Rect], index_rects: Sequence[Rect],
            above: bool) -> list[Point] | None:
    """s → up (or down) to a free line → across → back to e's line → e."""
    level = (min(s[1], e[1]) if above else max(s[1], e[1]))
    xa, xb = s[0], e[0]
    lo, hi = min(xa, xb), max(xa, xb)
    for _ in range(12):
        blocking = [r for r in index_rects if r[0] < hi and r[2] > lo and r[1] < level < r[3]]
        if not blocking:
            break
        level = (min(r[1] for r in blocking) if above else max(r[3] for r in blocking))
        level += -0.01 if above else 0.01
    else:
        return None
    path = [s, (xa, level), (xb, level), e]
    return path if _clear(path, rects) else None


# --- the search --------------------------------------------------------------------------------

def _grid_search(s: Point, e: Point, rects: Sequence[Rect]) -> list[Point] | None:
    """A* over the orthogonal visibility grid of the obstacles' edges (bends cost extra)."""
    xs = sorted({s[0], e[0], (s[0] + e[0]) / 2, *(v for r in rects for v in (r[0], r[2]))})
    ys = sorted({s[1], e[1], (s[1] + e[1]) / 2, *(v for r in rects for v in (r[1], r[3]))})
    xi, yi = {x: i for i, x in enumerate(xs)}, {y: j for j, y in enumerate(ys)}
    start, goal = (xi[s[0]], yi[s[1]]), (xi[e[0]], yi[e[1]])

    def inside(i: int, j: int) -> bool:
        x, y = xs[i], ys[j]
        return any(r[0] < x < r[2] and r[1] < y < r[3] for r in rects)

    def free(a: tuple[int, int], b: tuple[int, int]) -> bool:
        return not _hits((xs[a[0]], ys[a[1]]), (xs[b[0]], ys[b[1]]), rects)

    def h(n: tuple[int, int]) -> float:
        return abs(xs[n[0]] - e[0]) + abs(ys[n[1]] - e[1])

    # state: (node, heading) with heading 0 = along x, 1 = along y; leave s along the flow
    frontier = [(h(start), 0.0, start, 0)]
    best = {(start, 0): 0.0}
    came: dict[tuple[tuple[int, int], int], tuple[tuple[int, int], int]] = {}
    expanded = 0
    while frontier:
        _, cost, node, heading = heapq.heappop(frontier)
        if node == goal:
            if heading != 0:  # arrive along the flow: one more bend
                cost += BEND_COST
            path = [(xs[node[0]], ys[node[1]])]
            state = (node, heading)
            while state in came:
                state = came[state]
                path.append((xs[state[0][0]], ys[state[0][1]]))
            return simplify(path[::-1])
        if cost > best.get((node, heading), math.inf):
            continue
        expanded += 1
        if expanded > MAX_EXPANDED:
            return None
        i, j = node
        for di, dj, turn in ((1, 0, 0), (-1, 0, 0), (0, 1, 1), (0, -1, 1)):
            n = (i + di, j + dj)
            if not (0 <= n[0] < len(xs) and 0 <= n[1] < len(ys)):
                continue
            if inside(*n) or not free(node, n):
                continue
            step = abs(xs[n[0]] - xs[i]) + abs(ys[n[1]] - ys[j])
            new = cost + step + (BEND_COST if turn != heading else 0.0)
            if new < best.get((n, turn), math.inf):
                best[(n, turn)] = new
                came[(n, turn)] = (node, heading)
                heapq.heappush(frontier, (new + h(n), new, n, turn))
    return None


# --- the entry point ---------------------------------------------------------------------------

def route(p1: Point, p2: Point, index: NodeIndex | None, direction: str = "LR",
          quick: bool = False) -> list[Point]:
    """An orthogonal path from output port ``p1`` to input port ``p2`` around the nodes in
    ``index`` (scene coordinates). ``quick``: only the cheap shapes (while dragging; the full
    search follows when the drag ends)."""
    a, b = _to_flow(direction, p1), _to_flow(direction, p2)
    s, e = (a[0] + STUB, a[1]), (b[0] - STUB, b[1])
    flat = [a, s, (s[0] + (e[0] - s[0]) / 2, s[1]), (s[0] + (e[0] - s[0]) / 2, e[1]), e, b]
    if index is None or not index.rects:
        return _from_flow(direction, simplify(flat if e[0] >= s[0] else
                                               [a, s, (s[0], (s[1] + e[1]) / 2),
                                                (e[0], (s[1] + e[1]) / 2), e, b]))
    pad = 3 * MARGIN + 60.0
    box = (min(s[0], e[0]) - pad, min(s[1], e[1]) - pad, max(s[0], e[0]) + pad,
           max(s[1], e[1]) + pad)
    scene_box = box if direction != "TB" else (box[1], box[0], box[3], box[2])
    near = [_inflate(_rect_to_flow(direction, r), MARGIN) for r in index.near(scene_box)]
    # the stubs leave their own node: only what lies between the stub ends is in the way
    rects = [r for r in near if not (r[0] <= a[0] <= r[2] and r[1] <= a[1] <= r[3])
             and not (r[0] <= b[0] <= r[2] and r[1] <= b[1] <= r[3])]
    own = [r for r in near if r not in rects]
    blockers = rects + own
    path = _step(s, e, blockers)
    if path is None:
        wide = (min(s[0], e[0]) - 4 * pad, min(s[1], e[1]) - 4 * pad, max(s[0], e[0]) + 4 * pad,
                max(s[1], e[1]) + 4 * pad)
        wide_scene = wide if direction != "TB" else (wide[1], wide[0], wide[3], wide[2])
        column = [_inflate(_rect_to_flow(direction, r), MARGIN) for r in index.near(wide_scene)]
        options = [p for p in (_detour(s, e, column, column, True),
                               _detour(s, e, column, column, False)) if p is not None]
        if options:
            path = min(options, key=_length)
        elif not quick:
            path = _grid_search(s, e, column)
    if path is None:
        path = flat[1:-1]
    return _from_flow(direction, simplify([a, *path, b]))


def _from_flow(direction: str, points: list[Point]) -> list[Point]:
    return points if direction != "TB" else [(p[1], p[0]) for p in points]


def crosses(points: Sequence[Point], rect: Rect) -> bool:
    """Whether a routed path passes through ``rect`` (tests, and edges a moved node now
    covers)."""
    return any(_hits(points[i], points[i + 1], [rect]) for i in range(len(points) - 1))
