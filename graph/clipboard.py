"""Copy and paste of a selection: a JSON-able fragment with the edges among the selected nodes."""

from __future__ import annotations

from typing import Any

from graph.document import Document, Node
from graph.edits import AddNode, Composite, Connect
from graph.events import Edge
from graph.names import name_problem, unique_name

MIME_TYPE = "application/x-netcanvas-fragment+json"


def copy_fragment(doc: Document, node_ids: list[str] | set[str]) -> dict[str, Any]:
    """The selected nodes (in document order) and the edges between them."""
    wanted = set(node_ids)
    chosen = [n for n in doc.node_ids() if n in wanted]
    inside = set(chosen)
    return {
        "nodes": [{"id": n.id, "type": n.type, "name": n.name, "params": n.params,
                   "pos": list(n.pos), "trainable": n.trainable}
                  for n in (doc.node(i) for i in chosen)],
        "edges": [[e.src, e.src_port, e.dst, e.dst_port] for e in doc.edges()
                  if e.src in inside and e.dst in inside],
    }


def paste_edit(doc: Document, fragment: dict[str, Any],
               offset: tuple[float, float] = (30.0, 30.0)) -> Composite:
    """One edit that adds the fragment's nodes (fresh ids, unique names) and inner edges."""
    taken = set(doc.names())
    id_map: dict[str, str] = {}
    parts = []
    for raw in fragment.get("nodes", []):
        new_id = doc.new_node_id()
        id_map[raw["id"]] = new_id
        name = raw["name"]
        if name in taken or name_problem(name):
            stem = name.rstrip("0123456789").rstrip("_") or "layer"
            name = unique_name(stem, taken)
        taken.add(name)
        x, y = raw.get("pos", (0.0, 0.0))
        parts.append(AddNode(Node(new_id, raw["type"], name, dict(raw.get("params", {})),
                                  (float(x) + offset[0], float(y) + offset[1]),
                                  bool(raw.get("trainable", True)))))
    for src, src_port, dst, dst_port in fragment.get("edges", []):
        if src in id_map and dst in id_map:
            parts.append(Connect(Edge(id_map[src], src_port, id_map[dst], dst_port)))
    count = len(id_map)
    return Composite(tuple(parts), f"paste {count} layer{'s' if count != 1 else ''}")
