"""Edits of block definitions, and grouping a selection into a block (and back).

Like every edit, each returns its inverse. `InBlock` carries any existing edit (add a layer,
connect, set parameters, …) into a definition, so editing inside a block reuses the edits of
the design; every instance follows, since instances hold no copy of the definition.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from graph.blocks import (
    INSTANCE_KEYS,
    check_block_params,
    instance_values,
    instances,
    is_ref,
    ref,
    referenced,
    resolve,
)
from graph.catalogue import ParamSpec
from graph.document import Document, Node, id_key
from graph.edits import AddNode, Composite, Connect, Edit, RemoveNode
from graph.errors import BlockError, BlockInUseError
from graph.events import Edge
from graph.names import class_name, unique_name

COLUMN = 240.0


@dataclass(frozen=True)
class BlockRecord:
    """A whole definition as a value: what `DefineBlock` creates and `RemoveBlock` keeps."""

    id: str
    name: str
    params: tuple[ParamSpec, ...] = ()
    sequential: bool = False
    nodes: tuple[Node, ...] = ()
    edges: tuple[Edge, ...] = ()


def record(block: Document) -> BlockRecord:
    """The definition ``block`` as a `BlockRecord`."""
    return BlockRecord(block.block_id, block.name, block.block_params, block.sequential,
                       tuple(block.nodes()), tuple(block.edges()))


def _check_block_name(doc: Document, name: str, block_id: str) -> str:
    name = class_name(name)
    other = doc.find_block(name)
    if other is not None and other != block_id:
        raise BlockError(f"There is already a block called {name!r}.")
    return name


@dataclass(frozen=True)
class DefineBlock(Edit):
    """Add a definition (with its contents, built through the ordinary edits)."""

    block: BlockRecord

    def apply(self, doc: Document) -> Edit:
        root, rec = doc.root, self.block
        if root.has_block(rec.id):
            raise BlockError(f"A block definition with id {rec.id!r} already exists.")
        if not isinstance(rec.id, str) or not rec.id:
            raise BlockError("A block id must be a non-empty text.")
        name = _check_block_name(root, rec.name, rec.id)
        check_block_params(tuple(rec.params))
        root._add_block(Document(name, owner=root, block_id=rec.id, params=tuple(rec.params),
                                 sequential=bool(rec.sequential)))
        try:
            inner = root.block(rec.id)
            for node in rec.nodes:
                inner.apply(AddNode(node))
            for edge in rec.edges:
                inner.apply(Connect(edge))
        except Exception:
            root._remove_block(rec.id)
            raise
        return RemoveBlock(rec.id)

    def label(self, doc: Document) -> str:
        return f"define block {class_name(self.block.name)}"


@dataclass(frozen=True)
class RemoveBlock(Edit):
    """Remove a definition that no Block node uses (`BlockInUseError` otherwise)."""

    block_id: str

    def apply(self, doc: Document) -> Edit:
        root = doc.root
        block = root.block(self.block_id)
        users = instances(root, self.block_id)
        if users:
            names = ", ".join(sorted((root.block(w) if w else root).label(n) for w, n in users))
            raise BlockInUseError(f"Block {block.name} is still used ({names}): delete or "
                                  "ungroup those first.", tuple(n for w, n in users if not w))
        rec = record(block)
        root._remove_block(self.block_id)
        return DefineBlock(rec)

    def label(self, doc: Document) -> str:
        return f"remove block {doc.root.block(self.block_id).name}"


@dataclass(frozen=True)
class RenameBlock(Edit):
    """A definition's name (its class name in the generated code)."""

    block_id: str
    name: str

    def is_noop(self, doc: Document) -> bool:
        return doc.root.has_block(self.block_id) and \
            doc.root.block(self.block_id).name == class_name(self.name)

    def apply(self, doc: Document) -> Edit:
        root = doc.root
        block = root.block(self.block_id)
        name = _check_block_name(root, self.name, self.block_id)
        old = block.name
        root._set_block_meta(self.block_id, name, block.block_params, block.sequential)
        return RenameBlock(self.block_id, old)

    def label(self, doc: Document) -> str:
        return f"rename block → {class_name(self.name)}"


@dataclass(frozen=True)
class SetBlockParams(Edit):
    """A definition's parameters (and whether its class is an ``nn.Sequential``)."""

    block_id: str
    params: tuple[ParamSpec, ...]
    sequential: bool | None = None

    def _target(self, doc: Document) -> tuple[tuple[ParamSpec, ...], bool]:
        block = doc.root.block(self.block_id)
        seq = block.sequential if self.sequential is None else bool(self.sequential)
        return tuple(self.params), seq

    def is_noop(self, doc: Document) -> bool:
        if not doc.root.has_block(self.block_id):
            return False
        block = doc.root.block(self.block_id)
        return self._target(doc) == (block.block_params, block.sequential)

    def apply(self, doc: Document) -> Edit:
        root = doc.root
        block = root.block(self.block_id)
        params, seq = self._target(doc)
        check_block_params(params)
        names = {p.name: p for p in params}
        for node_id in block.node_ids():
            for key, target in referenced(block.attr(node_id, "params")).items():
                if target not in names:
                    raise BlockError(f"{block.name}: '{block.label(node_id)}.{key}' refers to "
                                     f"'{target}'; set it to a value before removing the "
                                     "parameter.", ())
        for where, node_id in instances(root, self.block_id):
            owner = root.block(where) if where else root
            for key, value in owner.attr(node_id, "params").items():
                if key in INSTANCE_KEYS or is_ref(value):
                    continue
                if key not in names:
                    raise BlockError(f"'{owner.label(node_id)}' sets {key} = {value!r}, which "
                                     f"{block.name} would no longer have.",
                                     () if where else (node_id,))
                names[key].validate(value)
        old = (block.block_params, block.sequential)
        root._set_block_meta(self.block_id, block.name, params, seq)
        return SetBlockParams(self.block_id, old[0], old[1])

    def label(self, doc: Document) -> str:
        return f"change the parameters of {doc.root.block(self.block_id).name}"


@dataclass(frozen=True)
class InBlock(Edit):
    """Any edit, applied inside definition ``block_id``."""

    block_id: str
    edit: Edit

    def is_noop(self, doc: Document) -> bool:
        return doc.root.has_block(self.block_id) and \
            self.edit.is_noop(doc.root.block(self.block_id))

    def apply(self, doc: Document) -> Edit:
        inner = doc.root.block(self.block_id)
        inverse = inner.apply(self.edit)
        return InBlock(self.block_id, inverse if inverse is not None else Composite(()))

    def label(self, doc: Document) -> str:
        inner = doc.root.block(self.block_id)
        return f"{inner.name}: {self.edit.label(inner)}"


def inside(doc: Document, edit: Edit) -> Edit:
    """``edit`` addressed to ``doc`` from its design: wrapped in `InBlock` for a definition."""
    return InBlock(doc.block_id, edit) if doc.is_definition else edit


def add_block(doc: Document, block_id: str, pos: tuple[float, float] = (0.0, 0.0), *,
              name: str | None = None, values: Mapping[str, Any] | None = None,
              repeat: int = 1, node_id: str | None = None) -> AddNode:
    """An `AddNode` of an instance of ``block_id`` in ``doc`` (defaults for missing values)."""
    from graph.edits import add_node

    params = {"block": block_id, "repeat": repeat, **dict(values or {})}
    return add_node(doc, "Block", pos, name=name, params=params, node_id=node_id)


@dataclass(frozen=True)
class _Ports:
    inputs: list[tuple[str, int]] = field(default_factory=list)
    feeds: dict[tuple[str, int], list[Edge]] = field(default_factory=dict)
    outputs: list[tuple[str, int]] = field(default_factory=list)
    reads: dict[tuple[str, int], list[Edge]] = field(default_factory=dict)


def _crossing(doc: Document, chosen: set[str]) -> _Ports:
    ports = _Ports()
    for edge in doc.edges():
        src_in, dst_in = edge.src in chosen, edge.dst in chosen
        if dst_in and not src_in:
            key = (edge.src, edge.src_port)
            if key not in ports.feeds:
                ports.inputs.append(key)
            ports.feeds.setdefault(key, []).append(edge)
        elif src_in and not dst_in:
            key = (edge.src, edge.src_port)
            if key not in ports.reads:
                ports.outputs.append(key)
            ports.reads.setdefault(key, []).append(edge)
    return ports


def _port_names(prefix: str, count: int, taken: set[str]) -> list[str]:
    if count == 1 and prefix not in taken:
        return [prefix]
    names = []
    for _ in range(count):
        name = unique_name(prefix, taken | set(names)).replace("_", "")
        if name in taken or name in names:
            name = unique_name(prefix, taken | set(names))
        names.append(name)
    return names


def group(doc: Document, node_ids: Iterable[str], name: str = "Block") -> Composite:
    """Group a selection of ``doc`` (the design or a definition) into a new block definition
    used once in its place: edges crossing the boundary become the block's ports (one input per
    value read from outside, one output per value read outside), as one edit."""
    chosen = [n for n in dict.fromkeys(node_ids) if n in doc]
    if not chosen:
        raise BlockError("Select the layers to group into a block.")
    for node_id in chosen:
        if doc.attr(node_id, "type") in ("Input", "Output", "BlockInput", "BlockOutput"):
            raise BlockError(f"'{doc.label(node_id)}' is an input or output of the "
                             f"{'block' if doc.is_definition else 'model'}; group the layers "
                             "between them.", (node_id,))
    chosen.sort(key=id_key)
    sel = set(chosen)
    root = doc.root
    block_id = root.new_block_id()
    base = class_name(name)
    block_name, i = base, 2
    while root.find_block(block_name) is not None or block_name == root.name:
        block_name, i = f"{base}{i}", i + 1
    ports = _crossing(doc, sel)
    xs = [doc.attr(n, "pos")[0] for n in chosen]
    ys = [doc.attr(n, "pos")[1] for n in chosen]
    cx, cy = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
    taken = {doc.attr(n, "name") for n in chosen}
    in_names = _port_names("x", len(ports.inputs), taken)
    out_names = _port_names("out", len(ports.outputs), taken | set(in_names))
    ids = {doc.attr(n, "name") for n in chosen} | sel
    nodes: list[Node] = [doc.node(n) for n in chosen]
    edges: list[Edge] = [e for e in doc.edges() if e.src in sel and e.dst in sel]
    used_refs = {t for n in chosen for t in referenced(doc.attr(n, "params")).values()}
    params = tuple(p for p in doc.block_params if p.name in used_refs)

    def fresh(prefix: str, k: int) -> str:
        candidate, j = f"{prefix}{k}", k
        while candidate in ids:
            j += 100
            candidate = f"{prefix}{j}"
        ids.add(candidate)
        return candidate

    for k, key in enumerate(ports.inputs):
        pid = fresh("in", k + 1)
        y = cy + (k - (len(ports.inputs) - 1) / 2) * 120
        nodes.append(Node(pid, "BlockInput", in_names[k], {}, (min(xs) - COLUMN, y)))
        edges += [Edge(pid, 0, e.dst, e.dst_port) for e in ports.feeds[key]]
    for k, key in enumerate(ports.outputs):
        pid = fresh("out", k + 1)
        y = cy + (k - (len(ports.outputs) - 1) / 2) * 120
        nodes.append(Node(pid, "BlockOutput", out_names[k], {}, (max(xs) + COLUMN, y)))
        edges.append(Edge(key[0], key[1], pid, 0))
    define = DefineBlock(BlockRecord(block_id, block_name, params, False, tuple(nodes),
                                     tuple(sorted(edges))))
    node_id = doc.new_node_id()
    while node_id in sel:
        node_id = doc.new_node_id()
    taken_names = doc.names() - taken
    from graph.catalogue import _snake

    inst_name = unique_name(_snake(block_name), taken_names)
    values = {p.name: ref(p.name) for p in params}
    parts: list[Edit] = [inside(doc, RemoveNode(n)) for n in chosen]
    parts.append(inside(doc, AddNode(Node(node_id, "Block", inst_name,
                                          {"block": block_id, "repeat": 1, **values},
                                          (cx, cy)))))
    for k, key in enumerate(ports.inputs):
        parts.append(inside(doc, Connect(Edge(key[0], key[1], node_id, k))))
    for k, key in enumerate(ports.outputs):
        for e in ports.reads[key]:
            parts.append(inside(doc, Connect(Edge(node_id, k, e.dst, e.dst_port))))
    return Composite((define, *parts), f"group {len(chosen)} layers into {block_name}")


def ungroup(doc: Document, node_id: str) -> Composite:
    """Put a Block node's layers in its place (its values written into their parameters),
    rewired through its ports; the definition goes too when this was its last instance."""
    if node_id not in doc or doc.attr(node_id, "type") != "Block":
        raise BlockError(f"'{doc.label(node_id)}' is not a block.", (node_id,))
    params = doc.attr(node_id, "params")
    if params.get("repeat", 1) != 1:
        raise BlockError(f"'{doc.label(node_id)}' repeats its block {params['repeat']} times: "
                         "set repeat to 1 to ungroup it.", (node_id,))
    root = doc.root
    block_id = params["block"]
    block = root.block(block_id)
    values = instance_values(block, params)
    values.update({k: v for k, v in params.items() if k in values})
    port_in = {n: k for k, n in enumerate(block.inputs())}
    port_out = {n: k for k, n in enumerate(block.outputs())}
    layers = [n for n in block.node_ids() if n not in port_in and n not in port_out]
    taken = doc.names() - {doc.attr(node_id, "name")}
    new_ids: dict[str, str] = {}
    parts: list[Edit] = [inside(doc, RemoveNode(node_id))]
    bx, by = doc.attr(node_id, "pos")
    if layers:
        xs = [block.attr(n, "pos")[0] for n in layers]
        ys = [block.attr(n, "pos")[1] for n in layers]
        ox, oy = bx - (min(xs) + max(xs)) / 2, by - (min(ys) + max(ys)) / 2
    else:
        ox = oy = 0.0
    used_ids = set(doc.node_ids())
    for n in layers:
        new = doc.new_node_id()
        while new in used_ids:
            new = doc.new_node_id()
        used_ids.add(new)
        new_ids[n] = new
        name = block.attr(n, "name")
        if name in taken:
            name = unique_name(name, taken)
        taken.add(name)
        x, y = block.attr(n, "pos")
        node = block.node(n)
        parts.append(inside(doc, AddNode(Node(new, node.type, name,
                                              resolve(node.params, values), (x + ox, y + oy),
                                              node.trainable))))
    feeds = {e.dst_port: (e.src, e.src_port) for e in doc.in_edges(node_id)}
    reads: dict[int, list[Edge]] = {}
    for e in doc.out_edges(node_id):
        reads.setdefault(e.src_port, []).append(e)

    def source(src: str, src_port: int) -> tuple[str, int] | None:
        if src in port_in:
            return feeds.get(port_in[src])
        return (new_ids[src], src_port)

    wires: list[Edge] = []
    for e in block.edges():
        start = source(e.src, e.src_port)
        if start is None:
            continue
        if e.dst in port_out:
            wires += [Edge(start[0], start[1], r.dst, r.dst_port)
                      for r in reads.get(port_out[e.dst], [])]
        else:
            wires.append(Edge(start[0], start[1], new_ids[e.dst], e.dst_port))
    parts += [inside(doc, Connect(w)) for w in dict.fromkeys(wires)]
    if [u for u in instances(root, block_id) if u != (doc.block_id, node_id)] == []:
        parts.append(RemoveBlock(block_id))
    return Composite(tuple(parts), f"ungroup {doc.label(node_id)}")
