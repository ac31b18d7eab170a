"""A block definition in a file of its own, and inserting it into another design.

A block file is a project file (`graph.project`, read and written by its code) with no layers
of its own: its ``blocks`` hold the definition and every definition it uses, and ``"block"``
names the one the file is about. Inserting it into a design defines those blocks there (new
ids; a name the design already uses gets a number) and adds one instance, as one edit.
"""

from __future__ import annotations

import os

from graph.block_edits import BlockRecord, DefineBlock, add_block, record
from graph.document import Document, Node
from graph.edits import Composite
from graph.errors import GraphError

BLOCK_KEY = "block"


def _used(doc: Document, block_id: str) -> list[str]:
    """``block_id`` and the definitions it uses, directly or not, used ones first."""
    order: list[str] = []

    def visit(b: str) -> None:
        if b in order:
            return
        inner = doc.root.block(b)
        for node_id in inner.node_ids():
            if inner.attr(node_id, "type") == "Block":
                visit(inner.attr(node_id, "params")["block"])
        order.append(b)

    visit(block_id)
    return order


def block_document(doc: Document, block_id: str) -> Document:
    """A design holding only ``block_id``'s definition and those it uses (no layers)."""
    if not doc.root.has_block(block_id):
        raise GraphError(f"There is no block {block_id!r} in this design.")
    out = Document(doc.root.block(block_id).name)
    for b in _used(doc, block_id):
        out.apply(DefineBlock(record(doc.root.block(b))))
    out.extra[BLOCK_KEY] = block_id
    return out


def save_block(doc: Document, block_id: str, path: str | os.PathLike[str]) -> None:
    """Write ``block_id`` (with the definitions it uses) to ``path`` as a block file."""
    from graph.project import save

    save(block_document(doc, block_id), path)


def load_block(path: str | os.PathLike[str]) -> tuple[Document, str]:
    """(the file's design of definitions, the id of the block it is about); a file that is not
    a block file raises `GraphError` saying so."""
    from graph.project import load

    holder = load(path)
    block_id = holder.extra.get(BLOCK_KEY)
    if not isinstance(block_id, str) or not holder.has_block(block_id):
        raise GraphError(f"{os.fspath(path)} is a design, not a block file: export a block "
                         "with File ▸ Export Block… (or open the design and copy its layers).")
    return holder, block_id


def define_used(doc: Document, holder: Document, block_id: str
                ) -> tuple[list[DefineBlock], dict[str, str]]:
    """The edits defining ``holder``'s ``block_id`` and the definitions it uses in the design
    ``doc``, and the map from ``holder``'s block ids to ``doc``'s. A definition ``doc`` already
    has, identical in name, parameters and layers, is reused rather than defined twice; any
    other gets a new id (and a number after its name when ``doc`` uses the name)."""
    root = doc.root
    taken_ids = set(root.block_ids())
    taken_names = {root.block(b).name for b in root.block_ids()} | {root.name}
    new_id: dict[str, str] = {}
    edits: list[DefineBlock] = []
    for b in _used(holder, block_id):
        rec = record(holder.block(b))
        nodes = tuple(
            Node(n.id, n.type, n.name, {**n.params, "block": new_id[n.params["block"]]}
                 if n.type == "Block" else n.params, n.pos, n.trainable)
            for n in rec.nodes)
        same = root.find_block(rec.name)
        if same is not None and _same(record(root.block(same)), rec, nodes):
            new_id[b] = same
            continue
        k = len(taken_ids) + 1
        while f"b{k}" in taken_ids:
            k += 1
        new_id[b] = f"b{k}"
        taken_ids.add(new_id[b])
        name, n = rec.name, 1
        while name in taken_names:
            n += 1
            name = f"{rec.name}{n}"
        taken_names.add(name)
        edits.append(DefineBlock(BlockRecord(new_id[b], name, rec.params, rec.sequential,
                                             nodes, rec.edges)))
    return edits, new_id


def _same(have: BlockRecord, rec: BlockRecord, nodes: tuple[Node, ...]) -> bool:
    """Whether ``have`` is ``rec`` (with its layers ``nodes``, block ids already mapped) but for
    its id and the layers' positions."""
    def key(ns: tuple[Node, ...]) -> list[tuple]:
        return sorted((n.id, n.type, n.name, repr(sorted(n.params.items())), n.trainable)
                      for n in ns)

    return (have.params == rec.params and have.sequential == rec.sequential
            and key(have.nodes) == key(nodes) and set(have.edges) == set(rec.edges))


def insert_block(doc: Document, holder: Document, block_id: str,
                 pos: tuple[float, float] = (0.0, 0.0)) -> tuple[Composite, str]:
    """One edit defining ``holder``'s ``block_id`` (and the definitions it uses) in the design
    ``doc`` and adding an instance of it at ``pos``; returns it and the new Block node's id."""
    if doc.is_definition:
        raise GraphError("Insert a block from a file into the design itself: go back to the "
                         "design first.")
    edits, new_id = define_used(doc, holder, block_id)
    preview = doc.copy()
    for e in edits:
        preview.apply(e)
    instance = add_block(preview, new_id[block_id], pos)
    return (Composite((*edits, instance), f"insert block {holder.block(block_id).name}"),
            instance.node.id)
