"""Auto-layout: ranks from `networkx.topological_generations`, crossings reduced.

Ranks are the topological generations; each node is then pulled towards the longest path so that
a chain stays on one line. The order within a rank comes from repeated barycentre sweeps (the
classic Sugiyama heuristic), starting from a deterministic order, so an unchanged graph always gets
the same layout. Ranks run left to right (``"LR"``, the default: columns) or top to bottom
(``"TB"``: rows, for deep networks that are taller than wide).
"""

from __future__ import annotations

import networkx as nx

from graph.document import Document, id_key
from graph.edits import MoveNodes

#: Room for a layer (172 wide) and, between two, an edge with its shape label.
COLUMN_GAP = 240.0
ROW_GAP = 110.0
#: The distance between ranks when they run top to bottom (a node is ~50 high: room for labels).
TB_RANK_GAP = 120.0
SWEEPS = 8
DIRECTIONS = ("LR", "TB")


def gaps(direction: str = "LR") -> tuple[float, float]:
    """(distance between ranks along the flow, distance between neighbours across it)."""
    if direction == "TB":
        return TB_RANK_GAP, COLUMN_GAP
    return COLUMN_GAP, ROW_GAP


def point(direction: str, along: float, across: float) -> tuple[float, float]:
    """Scene coordinates of a place ``along`` the flow and ``across`` it."""
    return (along, across) if direction != "TB" else (across, along)


def coordinates(direction: str, pos: tuple[float, float]) -> tuple[float, float]:
    """(along, across) of a scene position: the inverse of `point`."""
    return (pos[0], pos[1]) if direction != "TB" else (pos[1], pos[0])


def _columns(g: nx.MultiDiGraph, rank: dict[str, int]) -> list[list[str]]:
    simple = nx.DiGraph(g)
    layer: dict[str, int] = {}
    for gen_index, generation in enumerate(nx.topological_generations(simple)):
        for node in generation:
            layer[node] = gen_index
    # Sinks (Outputs) line up in the last column; inner nodes move right up to their successors,
    # so a side branch sits next to what it feeds. Sources (Inputs) stay in the first column.
    last = max(layer.values(), default=0)
    for node in reversed(list(nx.lexicographical_topological_sort(simple, key=rank.get))):
        succ = [layer[s] for s in simple.successors(node)]
        if not succ:
            layer[node] = last
        elif simple.in_degree(node):
            layer[node] = max(layer[node], min(succ) - 1)
    count = max(layer.values(), default=-1) + 1
    columns: list[list[str]] = [[] for _ in range(count)]
    for node in sorted(layer, key=rank.get):
        columns[layer[node]].append(node)
    return columns


def _crossings(columns: list[list[str]], g: nx.DiGraph) -> int:
    total = 0
    for left, right in zip(columns, columns[1:]):
        pos_r = {n: i for i, n in enumerate(right)}
        pairs = sorted((i, pos_r[v]) for i, u in enumerate(left) for v in g.successors(u)
                       if v in pos_r)
        for a in range(len(pairs)):
            for b in range(a + 1, len(pairs)):
                if pairs[a][0] < pairs[b][0] and pairs[a][1] > pairs[b][1]:
                    total += 1
    return total


def _sweep(columns: list[list[str]], g: nx.DiGraph, downward: bool) -> None:
    order = range(1, len(columns)) if downward else range(len(columns) - 2, -1, -1)
    for c in order:
        ref = columns[c - 1] if downward else columns[c + 1]
        pos = {n: i for i, n in enumerate(ref)}
        current = {n: i for i, n in enumerate(columns[c])}

        def key(node: str, pos=pos, current=current) -> tuple[float, int]:
            nbrs = g.predecessors(node) if downward else g.successors(node)
            idx = [pos[m] for m in nbrs if m in pos]
            return (sum(idx) / len(idx) if idx else float(current[node]), current[node])

        columns[c].sort(key=key)


def layout_positions(doc: Document, direction: str = "LR") -> dict[str, tuple[float, float]]:
    """Positions for every node: ranks along the flow (columns left to right, or rows top to
    bottom with ``direction="TB"``), each ordered to reduce crossings."""
    if direction not in DIRECTIONS:
        raise ValueError(f"layout direction {direction!r}: use one of {', '.join(DIRECTIONS)}")
    g = doc.graph
    if g.number_of_nodes() == 0:
        return {}
    rank = {n: i for i, n in enumerate(sorted(g.nodes, key=id_key))}
    simple = nx.DiGraph(g)
    columns = _columns(g, rank)
    best = [list(c) for c in columns]
    best_score = _crossings(best, simple)
    for i in range(SWEEPS):
        if best_score == 0:
            break
        _sweep(columns, simple, downward=i % 2 == 0)
        score = _crossings(columns, simple)
        if score < best_score:
            best, best_score = [list(c) for c in columns], score
    height = max(len(c) for c in best)
    along_gap, across_gap = gaps(direction)
    positions = {}
    for ci, column in enumerate(best):
        offset = (height - len(column)) * across_gap / 2
        for ri, node in enumerate(column):
            positions[node] = point(direction, ci * along_gap, offset + ri * across_gap)
    return positions


def apply_layout(doc: Document, direction: str = "LR") -> MoveNodes:
    """The move edit that lays the whole design out (a no-op if it already is)."""
    return MoveNodes(layout_positions(doc, direction))


def crossing_count(doc: Document, positions: dict[str, tuple[float, float]] | None = None,
                   direction: str = "LR") -> int:
    """Edge crossings between adjacent ranks of a layout (for tests and benchmarks)."""
    positions = positions or {n: doc.attr(n, "pos") for n in doc.graph.nodes}
    flow = {n: coordinates(direction, p) for n, p in positions.items()}
    ranks = sorted({p[0] for p in flow.values()})
    columns = [sorted((n for n, p in flow.items() if p[0] == r), key=lambda n: flow[n][1])
               for r in ranks]
    return _crossings(columns, nx.DiGraph(doc.graph))
