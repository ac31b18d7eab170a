"""Compound edits for the editor's one-gesture operations (no Qt): insert a layer after or
before others and wire it, insert one into a connection, replace a layer's type, disconnect.

Each function returns one `Composite` edit (one undo step) and the id of the layer it adds,
with parameters suggested by the context (`suggest_params`). Everything here reads the layer
catalogue (`LayerSpec`: arity, outputs, key parameters, choices); no layer type is named, so
new catalogue entries get the same behaviour.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx

from graph.catalogue import INT, LayerSpec, get_spec
from graph.document import Document
from graph.edits import (
    AddNode,
    Composite,
    Connect,
    Disconnect,
    Edit,
    MoveNodes,
    SetParams,
    add_node,
)
from graph.errors import GraphError
from graph.events import Edge
from graph.layout import COLUMN_GAP, ROW_GAP, coordinates, gaps, point
from graph.names import unique_name

#: Losses whose targets are class indices (the output has one unit per class).
CLASS_LOSSES = ("cross_entropy", "nll")
#: The activation a hidden layer gets when it has one to choose (the textbook default).
HIDDEN_ACTIVATION = "relu"
NO_ACTIVATION = "none"


@dataclass(frozen=True)
class TargetShape:
    """What the data say an Output predicts: the number of classes (None: values) and the
    width of one target (1 for a column of values or class ids)."""

    classes: int | None
    width: int = 1

    def units(self, loss: str) -> int:
        """Units of the layer feeding an Output with ``loss`` (the data loader's encodings:
        class indices for cross-entropy/NLL, one probability for binary cross-entropy,
        one-hot vectors for other losses on classes, the values' width otherwise)."""
        if self.classes is None:
            return self.width
        if loss == "binary_cross_entropy":
            return 1
        return self.classes


#: ``targets(output_name)`` → the shape of that Output's target (None: the data's default
#: target, for an Output not mapped yet), or None while the data are not known.
TargetLookup = Callable[[str | None], TargetShape | None]


def _no_targets(_name: str | None) -> TargetShape | None:
    return None


# --- what a spec offers ------------------------------------------------------------------------

def activation_param(spec: LayerSpec) -> str | None:
    """The name of a layer's activation choice (one that offers both relu and none)."""
    for p in spec.params:
        if p.name == "activation" and HIDDEN_ACTIVATION in p.choices and NO_ACTIVATION in p.choices:
            return p.name
    return None


def size_param(spec: LayerSpec) -> str | None:
    """The layer's output-size parameter: its first whole-number key parameter (units,
    filters, hidden size), or None."""
    for key in spec.key_params:
        if spec.param(key).kind == INT:
            return key
    return None


def is_sink(spec: LayerSpec) -> bool:
    return spec.outputs == 0


def is_source(spec: LayerSpec) -> bool:
    return spec.arity == 0


# --- suggestions -------------------------------------------------------------------------------

def head_changes(doc: Document, node_id: str, output_loss: str, target: TargetShape | None
                 ) -> dict[str, Any]:
    """What a layer that becomes the head of an Output should change: no hidden activation
    (a ReLU would clip the predictions; softmax/sigmoid are left to the loss anyway) and the
    target's size when the data are known. Only a hidden-layer ReLU is removed: an activation
    a person chose (tanh for ±1 targets) stays."""
    spec = doc.spec(node_id)
    params = doc.attr(node_id, "params")
    changes: dict[str, Any] = {}
    act = activation_param(spec)
    if act and params.get(act) == HIDDEN_ACTIVATION:
        changes[act] = NO_ACTIVATION
    size = size_param(spec)
    if size and target is not None:
        changes[size] = target.units(output_loss)
    return {k: v for k, v in changes.items() if params.get(k) != v}


def suggest_params(doc: Document, type_name: str, upstream: Sequence[str] = (),
                   downstream: Sequence[str] = (), targets: TargetLookup = _no_targets
                   ) -> dict[str, Any]:
    """Parameters for a new ``type_name`` layer fed by ``upstream`` and feeding ``downstream``
    (node ids), from what is around it:

    - after a layer of the same type, repeat its size and activation (a stack of Dense 300);
    - a hidden layer (not feeding an Output) gets a ReLU;
    - feeding an Output: no activation, and the Output's target size when the data are known;
    - an Output on class data gets the cross-entropy loss.
    """
    spec = get_spec(type_name)
    out: dict[str, Any] = {}
    act, size = activation_param(spec), size_param(spec)
    same = [u for u in upstream if doc.attr(u, "type") == type_name]
    if same:  # repeat the layer before
        params = doc.attr(same[0], "params")
        for key in (size, act):
            if key and key in params:
                out[key] = params[key]
    heads = [d for d in downstream if is_sink(doc.spec(d))]
    if heads:
        loss = doc.attr(heads[0], "params").get("loss", "")
        if act:
            out[act] = NO_ACTIVATION
        target = targets(doc.attr(heads[0], "name"))
        if size and target is not None:
            out[size] = target.units(loss)
    elif act and upstream and not same:
        out[act] = HIDDEN_ACTIVATION
    if is_sink(spec):
        target = targets(None)
        loss = next((p for p in spec.params if p.name == "loss"), None)
        if target is not None and target.classes and loss is not None:
            choice = next((c for c in CLASS_LOSSES if c in loss.choices), None)
            if choice:
                out["loss"] = choice
    return spec.validate_params(out, partial=True) if out else {}


# --- placement ---------------------------------------------------------------------------------

def _occupied(doc: Document, pos: tuple[float, float], ignore: Iterable[str] = ()) -> bool:
    """Whether a layer at ``pos`` would overlap one already there (closer than most of a
    left-to-right layout's column and row distances)."""
    skip = set(ignore)
    for node_id in doc.graph.nodes:
        if node_id in skip:
            continue
        x, y = doc.attr(node_id, "pos")
        if abs(x - pos[0]) < COLUMN_GAP * 0.8 and abs(y - pos[1]) < ROW_GAP * 0.6:
            return True
    return False


def free_spot(doc: Document, pos: tuple[float, float], direction: str = "LR",
              ignore: Iterable[str] = ()) -> tuple[float, float]:
    """``pos``, or the nearest free place across the flow (below/above in rows left to
    right, right/left in columns top to bottom), so a new layer never lands on another."""
    ignore = list(ignore)
    along, across = coordinates(direction, pos)
    gap = gaps(direction)[1]
    for i in range(400):
        k = (i + 1) // 2 * (1 if i % 2 else -1)  # 0, +1, -1, +2, -2 …
        candidate = point(direction, along, across + gap * k)
        if not _occupied(doc, candidate, ignore):
            return candidate
    return pos


def _mean(values: Iterable[float]) -> float:
    values = list(values)
    return sum(values) / len(values) if values else 0.0


def _after(doc: Document, nodes: Sequence[str], direction: str) -> tuple[float, float]:
    flow = [coordinates(direction, doc.attr(n, "pos")) for n in nodes]
    return point(direction, max(a for a, _ in flow) + gaps(direction)[0],
                 _mean(c for _, c in flow))


def _before(doc: Document, node: str, direction: str) -> tuple[float, float]:
    along, across = coordinates(direction, doc.attr(node, "pos"))
    return point(direction, along - gaps(direction)[0], across)


def flow_order(doc: Document, node_ids: Iterable[str], direction: str = "LR") -> list[str]:
    """Nodes in the order a person reads them across the flow (top to bottom in rows left to
    right; left to right in columns top to bottom): the port order of a merge."""
    axis = 1 if direction == "LR" else 0
    return sorted(node_ids, key=lambda n: (doc.attr(n, "pos")[axis],
                                           doc.attr(n, "pos")[1 - axis], n))


# --- the compound edits ------------------------------------------------------------------------

@dataclass(frozen=True)
class Insertion:
    """A compound edit and the id of the layer it adds."""

    edit: Composite
    node_id: str


def insert_after(doc: Document, type_name: str, sources: Sequence[tuple[str, int]], *,
                 direction: str = "LR", targets: TargetLookup = _no_targets) -> Insertion:
    """Add ``type_name`` fed by each ``(node, output port)`` in ``sources`` (in port order).

    A layer that takes no input (an Input) cannot come after anything: use `insert_before`.
    When the new layer is an Output, the layer feeding it becomes its head (`head_changes`).
    """
    spec = get_spec(type_name)
    if is_source(spec):
        raise GraphError(f"{spec.type} takes no input, so it cannot come after another layer.")
    if not spec.variadic and len(sources) > spec.arity:
        sources = sources[:spec.arity]
    nodes = [s for s, _ in sources]
    params = suggest_params(doc, type_name, upstream=nodes, targets=targets)
    pos = free_spot(doc, _after(doc, nodes, direction), direction)
    add = add_node(doc, type_name, pos, params=params)
    parts: list[Edit] = [add]
    parts += [Connect(Edge(src, port, add.node.id, i)) for i, (src, port) in enumerate(sources)]
    if is_sink(spec):
        loss = add.node.params.get("loss", "")
        for src in nodes:
            if not doc.out_edges(src):  # the head of this Output only, nothing else it feeds
                changes = head_changes(doc, src, loss, targets(None))
                if changes:
                    parts.append(SetParams(src, changes))
    label = (f"insert {add.node.name} after {', '.join(doc.label(n) for n in nodes)}"
             if nodes else f"add {add.node.name}")
    return Insertion(Composite(tuple(parts), label), add.node.id)


def insert_before(doc: Document, type_name: str, node_id: str, port: int | None = None, *,
                  direction: str = "LR", targets: TargetLookup = _no_targets) -> Insertion:
    """Add ``type_name`` feeding input ``port`` (default: the first free one) of ``node_id``;
    if that port is fed already, the new layer goes into that connection."""
    if port is None:
        port = doc.free_input_port(node_id)
        if port is None and doc.spec(node_id).arity == 1 and not is_source(get_spec(type_name)):
            port = 0  # its one input is fed: the new layer goes into that connection
        if port is None:
            raise GraphError(f"Every input of '{doc.label(node_id)}' is connected: insert the "
                             "layer on one of its connections instead.")
    occupant = doc.edge_into(node_id, port)
    if occupant is not None:
        return insert_on_edge(doc, type_name, occupant, direction=direction, targets=targets)
    spec = get_spec(type_name)
    if is_sink(spec):
        raise GraphError(f"{spec.type} has no output, so it cannot feed another layer.")
    params = suggest_params(doc, type_name, downstream=[node_id], targets=targets)
    pos = free_spot(doc, _before(doc, node_id, direction), direction)
    add = add_node(doc, type_name, pos, params=params)
    parts = (add, Connect(Edge(add.node.id, 0, node_id, port)))
    return Insertion(Composite(parts, f"insert {add.node.name} before {doc.label(node_id)}"),
                     add.node.id)


def insert_on_edge(doc: Document, type_name: str, edge: Edge, *, direction: str = "LR",
                   targets: TargetLookup = _no_targets) -> Insertion:
    """Put ``type_name`` into the connection ``edge``: src → new → dst. When the two layers are
    too close for a third, ``dst`` and everything after it move one step along the flow."""
    spec = get_spec(type_name)
    if is_source(spec) or is_sink(spec):
        raise GraphError(f"{spec.type} cannot go into a connection: it needs an input and an "
                         "output.")
    params = suggest_params(doc, type_name, upstream=[edge.src], downstream=[edge.dst],
                            targets=targets)
    (sa, sc) = coordinates(direction, doc.attr(edge.src, "pos"))
    (da, dc) = coordinates(direction, doc.attr(edge.dst, "pos"))
    gap = gaps(direction)[0]
    parts: list[Edit] = [Disconnect(edge)]
    moved: set[str] = set()
    if da - sa >= 1.8 * gap:  # room between them: the middle
        pos = point(direction, round((sa + da) / 20) * 10, (sc + dc) / 2)
    else:  # make room: the rest of the flow moves one step on
        pos = point(direction, sa + gap, (sc + dc) / 2)
        shift = sa + 2 * gap - da
        moved = nx.descendants(doc.graph, edge.dst) | {edge.dst}
        parts.append(MoveNodes({n: point(direction, *_shifted(doc, n, direction, shift))
                                for n in sorted(moved)}))
    pos = free_spot(doc, pos, direction, ignore=moved)
    add = add_node(doc, type_name, pos, params=params)
    parts[1:1] = [add]
    parts += [Connect(Edge(edge.src, edge.src_port, add.node.id, 0)),
              Connect(Edge(add.node.id, 0, edge.dst, edge.dst_port))]
    return Insertion(Composite(tuple(parts), f"insert {add.node.name} between "
                               f"{doc.label(edge.src)} and {doc.label(edge.dst)}"), add.node.id)


def _shifted(doc: Document, node_id: str, direction: str, shift: float) -> tuple[float, float]:
    along, across = coordinates(direction, doc.attr(node_id, "pos"))
    return along + shift, across


def replace_type(doc: Document, node_id: str, type_name: str) -> Composite:
    """Give ``node_id`` another layer type: same id, place and trainable switch; parameters of
    the same name carried over where valid; the connections that the new type's ports can take
    kept. An automatic name (``dense_2``) follows the new type; a name a person gave stays."""
    old = doc.node(node_id)
    spec, old_spec = get_spec(type_name), old.spec
    if spec.type == old_spec.type:
        return Composite((), "")
    params = spec.defaults()
    for key, value in old.params.items():
        if key in params:
            try:
                params[key] = spec.param(key).validate(value)
            except GraphError:
                pass
    name = old.name
    prefix = old_spec.prefix
    if name.startswith(prefix + "_") and name[len(prefix) + 1:].isdigit():
        name = unique_name(spec.prefix, doc.names() - {old.name})
    from graph.document import Node
    from graph.edits import RemoveNode

    parts: list[Edit] = [RemoveNode(node_id),
                         AddNode(Node(node_id, spec.type, name, params, old.pos, old.trainable))]
    for edge in doc.in_edges(node_id):
        if spec.variadic or edge.dst_port < spec.arity:
            parts.append(Connect(edge))
    for edge in doc.out_edges(node_id):
        if edge.src_port < spec.outputs:
            parts.append(Connect(edge))
    return Composite(tuple(parts), f"replace {old.name} ({old_spec.type}) with {spec.type}")


def disconnect_edges(doc: Document, edges: Iterable[Edge], text: str) -> Composite:
    """Remove connections (one undo step)."""
    edges = [e for e in dict.fromkeys(edges) if doc.has_edge(e)]
    return Composite(tuple(Disconnect(e) for e in edges), text)


def node_edges(doc: Document, node_id: str, kind: str | None = None,
               port: int | None = None) -> list[Edge]:
    """The connections of a node, or of one of its ports (``kind`` "in"/"out")."""
    edges = []
    if kind in (None, "in"):
        edges += [e for e in doc.in_edges(node_id) if port is None or e.dst_port == port]
    if kind in (None, "out"):
        edges += [e for e in doc.out_edges(node_id) if port is None or e.src_port == port]
    return edges
