"""Edits: the only way to change a `Document`.

Each edit is a small immutable value. ``doc.apply(edit)`` validates it, changes the document,
emits events and returns the inverse edit, so undo is pure Python. ``edit.is_noop(doc)`` is true
for an edit that would change nothing; ``Document.apply`` then returns None and histories record
nothing. Helper functions at the bottom build edits with fresh ids, unique names and defaults.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from graph.catalogue import get_spec
from graph.document import SECTIONS, Document, Node
from graph.errors import (
    BlockError,
    DuplicateNodeError,
    GraphError,
    NameError_,
    ParamError,
    UnknownNodeError,
)
from graph.events import Edge
from graph.names import check_name, class_name, name_problem, unique_name
from graph.validation import check_connect


class Edit:
    """Base class: subclasses implement `apply` (returning the inverse) and `label`."""

    def apply(self, doc: Document) -> Edit:  # pragma: no cover - abstract
        raise NotImplementedError

    def is_noop(self, doc: Document) -> bool:
        return False

    def label(self, doc: Document) -> str:
        return type(self).__name__


def _require(doc: Document, node_id: str) -> None:
    if node_id not in doc:
        raise UnknownNodeError(f"There is no node {node_id!r}.")


_PORT_TYPES = {"BlockInput", "BlockOutput"}


def check_params(doc: Document, type_name: str, params: Mapping[str, Any], *,
                 partial: bool = False, node_id: str | None = None) -> dict[str, Any]:
    """Validate a node's parameters where it lives: references to block parameters inside a
    definition, a Block node's definition (which it keeps: ``block`` is fixed once added)."""
    from graph.blocks import check_nesting, validate_params

    if doc.is_definition and type_name in ("Input", "Output"):
        raise BlockError("A block definition has no Input or Output layers: its ports are "
                         "BlockInput and BlockOutput nodes.", (node_id,) if node_id else ())
    if not doc.is_definition and type_name in _PORT_TYPES:
        raise BlockError(f"{type_name} nodes are the ports of a block definition; the design "
                         "itself takes Input and Output layers.")
    block_params = doc.block_params if doc.is_definition else None
    if type_name != "Block":
        return validate_params(get_spec(type_name), dict(params), partial=partial,
                               block_params=block_params)
    if partial:
        if "block" in params:
            raise ParamError("block", params["block"], "the definition the block was inserted "
                             "with (insert another block to use another one)")
        block_id = doc.attr(node_id, "params")["block"] if node_id else None
    else:
        block_id = params.get("block")
    spec = doc.type_spec("Block", {"block": block_id})
    rest = {k: v for k, v in params.items() if k != "block"}
    out = validate_params(spec, rest, partial=partial, block_params=block_params)
    if not partial:
        check_nesting(doc, block_id, (node_id,) if node_id else ())
        out = {"block": block_id, **out}
    return out


def _check_new_name(doc: Document, name: str, node_id: str | None = None) -> None:
    check_name(name)
    other = doc.find(name)
    if other is not None and other != node_id:
        raise NameError_(f"The name {name!r} is already used by another layer.", (other,))


@dataclass(frozen=True)
class AddNode(Edit):
    node: Node

    def apply(self, doc: Document) -> Edit:
        node = self.node
        if node.id in doc:
            raise DuplicateNodeError(f"A node with id {node.id!r} already exists.")
        if not isinstance(node.id, str) or not node.id:
            raise GraphError("A node id must be a non-empty text.")
        _check_new_name(doc, node.name)
        try:
            params = check_params(doc, node.type, node.params, node_id=node.id)
        except ParamError as exc:
            raise exc.for_node(node.id, node.name) from None
        doc._add_node(Node(node.id, node.type, node.name, params,
                           (float(node.pos[0]), float(node.pos[1])), bool(node.trainable)))
        return RemoveNode(node.id)

    def label(self, doc: Document) -> str:
        return f"add {self.node.name}"


@dataclass(frozen=True)
class RemoveNode(Edit):
    """Remove a node and the edges attached to it (restored by the inverse)."""

    node_id: str

    def apply(self, doc: Document) -> Edit:
        _require(doc, self.node_id)
        node = doc.node(self.node_id)
        edges = doc.in_edges(self.node_id) + doc.out_edges(self.node_id)
        doc._remove_node(self.node_id)
        return Composite((AddNode(node), *(Connect(e) for e in edges)), f"add {node.name}")

    def label(self, doc: Document) -> str:
        return f"delete {doc.label(self.node_id)}"


@dataclass(frozen=True)
class Connect(Edit):
    edge: Edge

    def apply(self, doc: Document) -> Edit:
        check_connect(doc, self.edge)
        doc._add_edge(Edge(*self.edge))
        return Disconnect(self.edge)

    def label(self, doc: Document) -> str:
        return f"connect {doc.label(self.edge.src)} → {doc.label(self.edge.dst)}"


@dataclass(frozen=True)
class Disconnect(Edit):
    edge: Edge

    def apply(self, doc: Document) -> Edit:
        if not doc.has_edge(self.edge):
            raise GraphError(f"There is no connection {self.label(doc)[11:]}.")
        doc._remove_edge(self.edge)
        return Connect(self.edge)

    def label(self, doc: Document) -> str:
        return f"disconnect {doc.label(self.edge.src)} → {doc.label(self.edge.dst)}"


@dataclass(frozen=True)
class SetParams(Edit):
    """Change some parameters of one node (validated; unchanged keys are ignored)."""

    node_id: str
    changes: Mapping[str, Any] = field(default_factory=dict)

    def _normalised(self, doc: Document) -> dict[str, Any]:
        _require(doc, self.node_id)
        try:
            new = check_params(doc, doc.attr(self.node_id, "type"), dict(self.changes),
                               partial=True, node_id=self.node_id)
        except ParamError as exc:
            raise exc.for_node(self.node_id, doc.label(self.node_id)) from None
        current = doc.attr(self.node_id, "params")
        return {k: v for k, v in new.items() if current.get(k) != v}

    def is_noop(self, doc: Document) -> bool:
        return not self._normalised(doc)

    def apply(self, doc: Document) -> Edit:
        changed = self._normalised(doc)
        current = doc.attr(self.node_id, "params")
        old = {k: copy.deepcopy(current[k]) for k in changed}
        if changed:
            doc._set_params(self.node_id, changed)
        return SetParams(self.node_id, old)

    def label(self, doc: Document) -> str:
        keys = ", ".join(self.changes)
        return f"set {doc.label(self.node_id)}.{keys}"


@dataclass(frozen=True)
class MoveNodes(Edit):
    """Move nodes to new positions: one undo step for a whole dragged selection."""

    positions: Mapping[str, tuple[float, float]]

    def is_noop(self, doc: Document) -> bool:
        return all(n in doc and tuple(map(float, p)) == doc.attr(n, "pos")
                   for n, p in self.positions.items())

    def apply(self, doc: Document) -> Edit:
        for node_id in self.positions:
            _require(doc, node_id)
        old = {n: doc.attr(n, "pos") for n in self.positions}
        for node_id, pos in self.positions.items():
            if tuple(map(float, pos)) != old[node_id]:
                doc._set_pos(node_id, pos)
        return MoveNodes(old)

    def label(self, doc: Document) -> str:
        if len(self.positions) == 1:
            return f"move {doc.label(next(iter(self.positions)))}"
        return f"move {len(self.positions)} layers"


@dataclass(frozen=True)
class Rename(Edit):
    node_id: str
    name: str

    def is_noop(self, doc: Document) -> bool:
        return self.node_id in doc and doc.attr(self.node_id, "name") == self.name

    def apply(self, doc: Document) -> Edit:
        _require(doc, self.node_id)
        _check_new_name(doc, self.name, self.node_id)
        old = doc.attr(self.node_id, "name")
        doc._set_name(self.node_id, self.name)
        return Rename(self.node_id, old)

    def label(self, doc: Document) -> str:
        return f"rename {doc.label(self.node_id)} → {self.name}"


@dataclass(frozen=True)
class SetTrainable(Edit):
    node_id: str
    trainable: bool

    def is_noop(self, doc: Document) -> bool:
        return self.node_id in doc and doc.attr(self.node_id, "trainable") == self.trainable

    def apply(self, doc: Document) -> Edit:
        _require(doc, self.node_id)
        old = doc.attr(self.node_id, "trainable")
        doc._set_trainable(self.node_id, bool(self.trainable))
        return SetTrainable(self.node_id, old)

    def label(self, doc: Document) -> str:
        return f"{'unfreeze' if self.trainable else 'freeze'} {doc.label(self.node_id)}"


def json_problem(value: Any, path: str = "$", depth: int = 0) -> tuple[str, str] | None:
    """Where ``value`` stops being plain JSON a project file can hold, and why (None if it is).

    Plain JSON: null, true/false, integers, finite numbers, text, lists, objects with text keys
    (tuples count as lists). A NaN or infinite number would make the project unsavable."""
    if depth > 64:
        return path, "nested too deeply"
    if value is None or isinstance(value, (bool, int, str)):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else (path, f"{value!r} is not a finite number")
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            problem = json_problem(item, f"{path}[{i}]", depth + 1)
            if problem:
                return problem
        return None
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                return path, f"key {key!r} is not text"
            problem = json_problem(item, f"{path}.{key}", depth + 1)
            if problem:
                return problem
        return None
    return path, f"a {type(value).__name__} is not a JSON value"


@dataclass(frozen=True)
class SetSection(Edit):
    """Replace the ``data`` or ``training`` settings (JSON-like values)."""

    section: str
    value: Mapping[str, Any]

    def is_noop(self, doc: Document) -> bool:
        return self.section in SECTIONS and doc.section(self.section) == dict(self.value)

    def apply(self, doc: Document) -> Edit:
        if self.section not in SECTIONS:
            raise GraphError(f"Unknown settings section {self.section!r}.")
        problem = json_problem(self.value, self.section)
        if problem:
            raise GraphError(f"Cannot store the {self.section} settings: {problem[0]}: "
                             f"{problem[1]}.")
        old = doc.section(self.section)
        doc._set_section(self.section, dict(self.value))
        return SetSection(self.section, old)

    def label(self, doc: Document) -> str:
        return f"change {self.section} settings"


@dataclass(frozen=True)
class SetModelName(Edit):
    """The model's class name (made a valid CamelCase identifier)."""

    name: str

    def is_noop(self, doc: Document) -> bool:
        return doc.name == class_name(self.name)

    def apply(self, doc: Document) -> Edit:
        old = doc.name
        doc._set_model_name(class_name(self.name))
        return SetModelName(old)

    def label(self, doc: Document) -> str:
        return f"rename model → {class_name(self.name)}"


@dataclass(frozen=True)
class Composite(Edit):
    """Several edits applied as one; if one fails, those already applied are rolled back."""

    edits: tuple[Edit, ...]
    text: str = ""

    def is_noop(self, doc: Document) -> bool:
        return not self.edits

    def apply(self, doc: Document) -> Edit:
        inverses: list[Edit] = []
        try:
            for edit in self.edits:
                inverse = doc.apply(edit)
                if inverse is not None:
                    inverses.append(inverse)
        except Exception:
            for inverse in reversed(inverses):
                inverse.apply(doc)
            raise
        return Composite(tuple(reversed(inverses)), self.text)

    def label(self, doc: Document) -> str:
        return self.text or (self.edits[0].label(doc) if len(self.edits) == 1 else
                             f"{len(self.edits)} changes")


# --- builders -------------------------------------------------------------------------------------

def add_node(doc: Document, type_name: str, pos: tuple[float, float] = (0.0, 0.0), *,
             name: str | None = None, params: Mapping[str, Any] | None = None,
             node_id: str | None = None, trainable: bool = True) -> AddNode:
    """An `AddNode` with a fresh id, a unique auto-name (``dense_1``) and default parameters
    (a Block: ``params={"block": id}`` and the definition's defaults)."""
    spec = doc.type_spec(type_name, dict(params or {}))
    node_id = node_id or doc.new_node_id()
    if name is None:
        name = unique_name(spec.prefix, doc.names())
    full = spec.defaults()
    full.update(params or {})
    if type_name == "Block":
        full = {"block": full.pop("block"), **full}
    return AddNode(Node(node_id, type_name, name, full, (float(pos[0]), float(pos[1])), trainable))


def connect(doc: Document, src: str, dst: str, src_port: int = 0,
            dst_port: int | None = None) -> Connect:
    """A `Connect` into ``dst_port`` or the first free input port of ``dst``."""
    if dst_port is None:
        _require(doc, dst)
        dst_port = doc.free_input_port(dst)
        if dst_port is None:
            dst_port = 0  # occupied: check_connect will say so
    return Connect(Edge(src, src_port, dst, dst_port))


def delete(doc: Document, node_ids: Iterable[str] = (), edges: Iterable[Edge] = ()) -> Composite:
    """Delete a selection: its edges, then its nodes (with their remaining edges), as one edit."""
    node_ids = [n for n in dict.fromkeys(node_ids) if n in doc]
    gone = set(node_ids)
    loose = [e for e in dict.fromkeys(edges) if e.src not in gone and e.dst not in gone]
    parts: list[Edit] = [Disconnect(e) for e in loose]
    parts += [RemoveNode(n) for n in node_ids]
    if len(node_ids) == 1 and not loose:
        text = f"delete {doc.label(node_ids[0])}"
    else:
        text = f"delete {len(node_ids)} layers" if node_ids else f"delete {len(loose)} connections"
    return Composite(tuple(parts), text)


def set_params(doc: Document, node_ids: Iterable[str], changes: Mapping[str, Any]) -> Composite:
    """Set the same parameters on several nodes (multi-selection editing) as one edit."""
    edits = tuple(SetParams(n, dict(changes)) for n in node_ids)
    return Composite(edits, f"set {', '.join(changes)} on {len(edits)} layers")


def rename_problem(doc: Document, node_id: str, name: str) -> str | None:
    """Why ``name`` can't be given to ``node_id`` (for inline validation), or None."""
    problem = name_problem(name)
    if problem:
        return problem
    other = doc.find(name)
    if other is not None and other != node_id:
        return f"{name!r} is already used by another layer"
    return None
