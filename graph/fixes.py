"""Quick fixes: the edit that carries out a one-click repair suggested with a shape error.

Shape inference attaches fixes to its errors as plain data (``kind`` and ``args``, see
`backend.model.layers.Fix`); this module turns one into a single undoable `Composite`, so a
canvas can offer "Insert a Flatten in front" and apply it like any other edit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graph.catalogue import get_spec
from graph.document import Document, Node
from graph.edits import AddNode, Composite, Connect, Disconnect, Edit, RemoveNode, SetParams
from graph.errors import GraphError
from graph.events import Edge
from graph.names import unique_name

FIX_KINDS = ("insert_before", "replace_type", "set_params")


def fix_edit(doc: Document, node_id: str, kind: str, args: Mapping[str, Any],
             label: str = "") -> Edit:
    """The edit applying fix ``kind`` with ``args`` to ``node_id``; `GraphError` if it no longer
    fits the design (the design changed since the analysis)."""
    if node_id not in doc:
        raise GraphError(f"There is no node {node_id!r} to fix.")
    name = doc.attr(node_id, "name")
    if kind == "set_params":
        return Composite((SetParams(node_id, dict(args["params"])),),
                         label or f"fix {name}")
    if kind == "insert_before":
        return _insert_before(doc, node_id, int(args["port"]), str(args["type"]),
                              dict(args.get("params", {})), label)
    if kind == "replace_type":
        return _replace(doc, node_id, str(args["type"]), dict(args.get("params", {})), label)
    raise GraphError(f"Unknown fix {kind!r}; known: {', '.join(FIX_KINDS)}.")


def _insert_before(doc: Document, node_id: str, port: int, type_: str, params: dict[str, Any],
                   label: str) -> Edit:
    edge = doc.edge_into(node_id, port)
    if edge is None:
        raise GraphError(f"Input {port} of '{doc.label(node_id)}' is not connected any more.")
    spec = get_spec(type_)
    new_id = doc.new_node_id()
    (x0, y0), (x1, y1) = doc.attr(edge.src, "pos"), doc.attr(node_id, "pos")
    node = Node(new_id, type_, unique_name(spec.prefix, doc.names()),
                {**spec.defaults(), **params}, ((x0 + x1) / 2, (y0 + y1) / 2 + 40.0))
    return Composite((AddNode(node), Disconnect(edge),
                      Connect(Edge(edge.src, edge.src_port, new_id, 0)),
                      Connect(Edge(new_id, 0, node_id, port))),
                     label or f"insert {type_} before {doc.label(node_id)}")


def _replace(doc: Document, node_id: str, type_: str, params: dict[str, Any],
             label: str) -> Edit:
    old = doc.node(node_id)
    spec = get_spec(type_)
    edges = doc.in_edges(node_id) + doc.out_edges(node_id)
    node = Node(node_id, type_, old.name, {**spec.defaults(), **params}, old.pos, old.trainable)
    return Composite((RemoveNode(node_id), AddNode(node), *(Connect(e) for e in edges)),
                     label or f"make {old.name} a {type_}")
