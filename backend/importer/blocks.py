"""Import keeps structure: the user's submodules become block definitions.

The flat import (`backend.importer.convert`) knows, for every layer, the stack of submodules
whose ``forward`` wrote it (`Layer.stack`). Folding groups each submodule's layers into a block,
innermost first (`graph.block_edits.group`), names the inner layers by their attributes
(``conv1``), makes ``nn.Sequential`` containers sequential blocks (keys by index), and merges
instances of one class whose drawings are the same into one definition, the constructor
arguments that differ between them becoming block parameters. The result must compile to a
module whose state-dict keys are exactly the user's (``layer2.0.downsample.0.weight``), so a
checkpoint of the user's model loads with ``strict=True``; anything else keeps the flat import.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from graph.block_edits import InBlock, RemoveBlock, RenameBlock, SetBlockParams, group
from graph.blocks import param_spec, ref
from graph.catalogue import CHOICE, FLOAT, INT
from graph.document import Document, Node
from graph.edits import AddNode, Connect, RemoveNode, Rename, SetParams
from graph.errors import GraphError
from graph.names import class_name, name_problem, unique_name


class FoldError(Exception):
    """Why the submodules could not be kept as blocks (the flat design is kept)."""


@dataclass
class _Made:
    block_id: str
    node_id: str
    path: str
    cls: type


def _container(cls: type) -> bool:
    return cls.__module__.startswith("torch.nn")


def _structural_paths(layers: list[Any]) -> dict[str, type]:
    """Submodules whose forward wrote layers and that are no layer themselves."""
    leaves = {layer.module for layer in layers if layer.module}
    paths: dict[str, type] = {}
    for layer in layers:
        for path, cls in layer.stack:
            if path and path not in leaves and path != layer.module:
                paths[path] = cls
    return paths


def fold(doc: Document, walk: Any, ids: dict[str, str]) -> tuple[Document, dict[str, torch.Tensor],
                                                                 list[str]]:
    """The design with the user's submodules as blocks, its weights under the user's own
    state-dict keys, and notes; `FoldError` when that cannot be done exactly."""
    layers = [layer for layer in walk.layers.values() if layer.type != "Input"]
    paths = _structural_paths(layers)
    if not paths:
        raise FoldError("the model has no submodules of its own")
    doc = doc.copy()
    rep = {ids[layer.key]: ids[layer.key] for layer in layers}  # flat id → top-level node
    layer_of = {ids[layer.key]: layer for layer in layers}
    made: dict[str, _Made] = {}
    try:
        for depth in sorted({p.count(".") for p in paths}, reverse=True):
            level = [p for p in sorted(paths) if p.count(".") == depth]
            for path in level:
                members = sorted({rep[ids[layer.key]] for layer in layers
                                  if any(p == path for p, _ in layer.stack)})
                made[path] = _group(doc, path, paths[path], members, layer_of, made)
                for flat, top in rep.items():
                    if top in members:
                        rep[flat] = made[path].node_id
            _merge(doc, [made[p] for p in level])
    except GraphError as exc:
        raise FoldError(exc.message) from None
    from graph.layout import apply_layout

    doc.apply(apply_layout(doc))
    state: dict[str, torch.Tensor] = {}
    for layer in walk.layers.values():
        for suffix, tensor in layer.state.items():
            key = f"{layer.module}.{suffix}" if suffix else str(layer.module)
            if key in state:
                raise FoldError(f"{layer.module} is used more than once")
            state[key] = tensor.detach().clone()
    _check_keys(doc, state)
    blocks = ", ".join(doc.block(b).name for b in doc.block_ids())
    return doc, state, [f"Kept the submodules as blocks: {blocks}."]


def _check_keys(doc: Document, state: dict[str, torch.Tensor]) -> None:
    from backend.model.compiler import CompileError, compile_document

    try:
        module = compile_document(doc).module
    except (CompileError, GraphError) as exc:
        raise FoldError(f"the blocks do not build ({exc})") from None
    ours = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    theirs = {k: tuple(v.shape) for k, v in state.items()}
    if ours != theirs:
        missing = sorted(set(theirs) - set(ours))[:3]
        raise FoldError("the blocks' state-dict keys would differ from the model's"
                        + (f" ({', '.join(missing)} …)" if missing else ""))


def _relative(name_path: str, path: str) -> str:
    return name_path[len(path) + 1:] if name_path.startswith(path + ".") else ""


def _group(doc: Document, path: str, cls: type, members: list[str], layer_of: dict[str, Any],
           made: dict[str, _Made]) -> _Made:
    last = path.rsplit(".", 1)[-1]
    name = class_name(last) if _container(cls) else cls.__name__
    edit = group(doc, members, name)
    doc.apply(edit)
    block_id = edit.edits[0].block.id  # type: ignore[attr-defined]
    node_id = next(e.node.id for e in edit.edits[1:]
                   if isinstance(e, AddNode) and e.node.type == "Block")
    inner = doc.block(block_id)
    children = {m.node_id: m for m in made.values()}
    taken: set[str] = set()
    renames: dict[str, str] = {}
    prefix = path.replace(".", "_") + "_"
    for n in inner.node_ids():
        if inner.attr(n, "type") in ("BlockInput", "BlockOutput"):
            taken.add(inner.attr(n, "name"))
            continue
        if n in children:
            wanted = _relative(children[n].path, path)
        elif n in layer_of and layer_of[n].module:
            wanted = _relative(layer_of[n].module, path)
        else:
            current = inner.attr(n, "name")
            wanted = current[len(prefix):] if current.startswith(prefix) else current
        if wanted.isdigit():  # a child of an nn.Sequential: its keys are indices anyway
            wanted = f"{inner.spec(n).prefix}_{wanted}"
        if not wanted or "." in wanted or name_problem(wanted) or wanted in taken:
            wanted = unique_name(re.sub(r"\W", "_", wanted or "layer").strip("_") or "layer",
                                 taken)
        taken.add(wanted)
        renames[n] = wanted
    # two passes: a wanted name may be another inner node's current one
    for n in renames:
        doc.apply(InBlock(block_id, Rename(n, f"tmp_{n}_")))
    for n, wanted in renames.items():
        doc.apply(InBlock(block_id, Rename(n, wanted)))
    if issubclass(cls, nn.Sequential):  # nn.Sequential or a subclass: keys by index
        doc.apply(SetBlockParams(block_id, (), sequential=True))
    top_name = last if not name_problem(last) and doc.find(last) in (None, node_id) else None
    if top_name:
        doc.apply(Rename(node_id, top_name))
    return _Made(block_id, node_id, path, cls)


def _signature(block: Document) -> tuple:
    names = {n: block.attr(n, "name") for n in block.node_ids()}
    nodes = tuple(sorted((names[n], block.attr(n, "type"),
                          tuple(sorted(block.attr(n, "params"))),
                          block.attr(n, "params").get("block"), block.attr(n, "trainable"))
                         for n in block.node_ids()))
    edges = tuple(sorted((names[e.src], e.src_port, names[e.dst], e.dst_port)
                         for e in block.edges()))
    ports = (tuple(names[n] for n in block.inputs()), tuple(names[n] for n in block.outputs()))
    return nodes, edges, ports, block.sequential


def _values(block: Document) -> dict[tuple[str, str], Any]:
    return {(block.attr(n, "name"), k): v for n in block.node_ids()
            for k, v in block.attr(n, "params").items() if k != "block"}


def _kind(block: Document, node_name: str, key: str, column: list[Any]) -> tuple[str, list[Any],
                                                                               tuple[str, ...]]:
    """How a differing value becomes a block parameter: (kind, values, choices)."""
    first = column[0]
    if all(type(v) is int for v in column):
        return INT, column, ()
    if all(type(v) is float for v in column):
        return FLOAT, column, ()
    if all(isinstance(v, tuple) and v and len(set(v)) == 1 and type(v[0]) is int
           and len(v) == len(first) for v in column):
        return INT, [v[0] for v in column], ()
    if all(isinstance(v, str) for v in column):
        spec = block.spec(block.find(node_name)).param(key)
        if spec.kind == CHOICE or spec.choices:
            return CHOICE, column, tuple(spec.choices)
    raise ValueError(node_name)


def _merge(doc: Document, level: list[_Made]) -> None:
    """Instances of one class with the same drawing share one definition; the distinct
    drawings of a class are named ``BasicBlock``, ``BasicBlock2``… in order of use."""
    by_class: dict[type, list[_Made]] = defaultdict(list)
    for item in level:
        by_class[item.cls].append(item)
    for cls, items in by_class.items():
        families: list[list[_Made]] = []
        for item in items:
            shape = _signature(doc.block(item.block_id))
            for family in families:
                if _signature(doc.block(family[0].block_id)) == shape and \
                        _compatible(doc, family[0], item):
                    family.append(item)
                    break
            else:
                families.append([item])
        for family in families:
            if len(family) > 1:
                _share(doc, family)
        if not _container(cls):
            kept = [f[0] for f in families]
            for item in kept:  # free the names first
                doc.apply(RenameBlock(item.block_id, f"Tmp{item.block_id}"))
            for k, item in enumerate(kept):
                wanted = cls.__name__ if k == 0 else f"{cls.__name__}{k + 1}"
                if doc.find_block(wanted) is None:
                    doc.apply(RenameBlock(item.block_id, wanted))


def _differences(doc: Document, family: list[_Made]) -> dict[tuple[str, str], list[Any]]:
    columns = [_values(doc.block(m.block_id)) for m in family]
    return {k: [c[k] for c in columns] for k in columns[0]
            if any(c[k] != columns[0][k] or type(c[k]) is not type(columns[0][k])
                   for c in columns)}


def _compatible(doc: Document, first: _Made, other: _Made) -> bool:
    block = doc.block(first.block_id)
    for (node, key), column in _differences(doc, [first, other]).items():
        try:
            _kind(block, node, key, column)
        except ValueError:
            return False
    return True


def _share(doc: Document, family: list[_Made]) -> None:
    keep = family[0]
    block = doc.block(keep.block_id)
    params, refs, columns = [], {}, {}
    for (node, key), column in sorted(_differences(doc, family).items()):
        kind, values, choices = _kind(block, node, key, column)
        signature = (kind, tuple(values))
        if signature not in columns:
            taken = {p.name for p in params} | {"block", "repeat"}
            child = doc.block(keep.block_id).attr(block.find(node), "type") == "Block"
            name = key if child else f"{node}_{key}"  # a child block's parameter keeps its name
            if name in taken or name_problem(name):
                name = unique_name(name, taken)
            params.append(param_spec(name, kind, values[0], choices=choices))
            columns[signature] = (name, values)
        refs[(node, key)] = columns[signature][0]
    doc.apply(SetBlockParams(keep.block_id, tuple(params)))
    for (node, key), name in refs.items():
        doc.apply(InBlock(keep.block_id, SetParams(block.find(node), {key: ref(name)})))
    for i, item in enumerate(family):
        values = {name: vals[i] for name, vals in columns.values()}
        if item is keep:
            doc.apply(SetParams(item.node_id, values))
            continue
        node = doc.node(item.node_id)
        edges = doc.in_edges(item.node_id) + doc.out_edges(item.node_id)
        doc.apply(RemoveNode(item.node_id))
        doc.apply(AddNode(Node(item.node_id, "Block", node.name,
                               {"block": keep.block_id, "repeat": node.params.get("repeat", 1),
                                **values}, node.pos, node.trainable)))
        for edge in edges:
            doc.apply(Connect(edge))
        doc.apply(RemoveBlock(item.block_id))
        item.block_id = keep.block_id
