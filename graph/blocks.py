"""Block definitions: reusable sub-networks with ports and named parameters.

A definition is a `Document` owned by the design (`Document.blocks`). Its ``BlockInput`` and
``BlockOutput`` nodes are its ports, ordered by position like a model's inputs and outputs. Its
parameters are `ParamSpec`s (int, float or choice, with a default); an inner layer's parameter
refers to one with the value ``{"$param": "channels"}``. A ``Block`` node instantiates a
definition: its params are ``block`` (the definition's id), ``repeat`` (instances chained) and
a value for each block parameter (missing: the default).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from graph.catalogue import CHOICE, FLOAT, INT, MAX_REPEAT, LayerSpec, ParamSpec, Port, _snake
from graph.errors import BlockError, ParamError, RecursiveBlockError
from graph.names import class_name, name_problem

REF = "$param"
PARAM_KINDS = (INT, FLOAT, CHOICE)
#: Block-node parameters that are not the definition's.
INSTANCE_KEYS = frozenset({"block", "repeat"})


def ref(name: str) -> dict[str, str]:
    """The parameter value that refers to block parameter ``name``."""
    return {REF: name}


def is_ref(value: Any) -> bool:
    return isinstance(value, Mapping) and len(value) == 1 and isinstance(value.get(REF), str)


def param_spec(name: str, kind: str, default: Any, *, choices: tuple[str, ...] = (),
               minimum: float | None = None, maximum: float | None = None,
               doc: str = "") -> ParamSpec:
    """A block parameter, checked: a usable name, a known kind, a default that fits."""
    spec = ParamSpec(name, kind, default, doc, minimum=minimum, maximum=maximum,
                     choices=tuple(choices))
    check_block_params((spec,))
    return spec


def check_block_params(params: tuple[ParamSpec, ...]) -> None:
    """Raise `BlockError` unless ``params`` are valid, distinct block parameters."""
    seen: set[str] = set()
    for p in params:
        problem = name_problem(p.name)
        if problem:
            raise BlockError(f"Block parameter {p.name!r}: {problem}.")
        if p.name in INSTANCE_KEYS:
            raise BlockError(f"Block parameter {p.name!r}: the name is taken by the block "
                             "itself (block, repeat).")
        if p.name in seen:
            raise BlockError(f"Block parameter {p.name!r} is defined twice.")
        seen.add(p.name)
        if p.kind not in PARAM_KINDS:
            raise BlockError(f"Block parameter {p.name!r}: kind {p.kind!r} is not one of "
                             f"{', '.join(PARAM_KINDS)}.")
        if p.kind == CHOICE and not p.choices:
            raise BlockError(f"Block parameter {p.name!r}: a choice needs choices.")
        try:
            p.validate(p.default)
        except ParamError as exc:
            raise BlockError(f"Block parameter {p.name!r}: its default {exc.message}") from None


def check_block_name(name: str) -> str:
    """A definition name is its class name: a CamelCase identifier (``basic block`` →
    ``BasicBlock``)."""
    return class_name(name)


def block_spec(block: Any) -> LayerSpec:
    """The spec of an instance of ``block`` (a definition `Document`): its ports by position,
    ``repeat`` and the definition's parameters."""
    inputs = tuple(Port(block.attr(n, "name")) for n in block.inputs())
    outputs = tuple(block.attr(n, "name") for n in block.outputs())
    params = (ParamSpec("repeat", INT, 1, "Instances chained one after the other "
                        "(nn.Sequential; needs one input and one output).",
                        minimum=1, maximum=MAX_REPEAT), *block.block_params)
    return LayerSpec("Block", "Blocks", f"Block {block.name}.", params,
                     arity=len(inputs), outputs=len(outputs), trainable=True,
                     name_prefix=_snake(block.name), inputs=inputs or (),
                     output_names=outputs)


def validate_params(spec: LayerSpec, params: dict[str, Any], *, partial: bool,
                    block_params: tuple[ParamSpec, ...] | None) -> dict[str, Any]:
    """``spec.validate_params`` where a value may be a reference to a block parameter of the
    definition the node is in (``block_params``; None at the top level). A reference is valid
    when the parameter exists and its default is a valid value here."""
    plain = {k: v for k, v in params.items() if not is_ref(v)}
    out = spec.validate_params(plain, partial=partial)
    known = {p.name: p for p in block_params or ()}
    for key, value in params.items():
        if not is_ref(value):
            continue
        target = spec.param(key)
        name = value[REF]
        if block_params is None:
            raise ParamError(key, value, "a value (references to block parameters are allowed "
                             "only inside a block definition)")
        if name not in known:
            raise ParamError(key, value, "a reference to a parameter of this block ("
                             + (", ".join(known) or "it has none") + ")")
        try:
            target.validate(known[name].default)
        except ParamError as exc:
            raise ParamError(key, value, f"a reference to a parameter that fits ('{name}' = "
                             f"{known[name].default!r}: {exc.allowed})") from None
        out[key] = {REF: name}
    return out


def instance_values(block: Any, params: Mapping[str, Any]) -> dict[str, Any]:
    """A Block node's values for every parameter of its definition (defaults filled in)."""
    return {p.name: params.get(p.name, p.default) for p in block.block_params}


def resolve(params: Mapping[str, Any], values: Mapping[str, Any] | None) -> dict[str, Any]:
    """``params`` with references replaced by the instance's ``values``."""
    if values is None or not any(is_ref(v) for v in params.values()):
        return dict(params)
    return {k: (values[v[REF]] if is_ref(v) and v[REF] in values else copy.deepcopy(v))
            for k, v in params.items()}


def referenced(params: Mapping[str, Any]) -> dict[str, str]:
    """Layer parameter → the block parameter it refers to."""
    return {k: v[REF] for k, v in params.items() if is_ref(v)}


def children(block: Any) -> set[str]:
    """Ids of the definitions ``block`` instantiates directly."""
    return {d["params"].get("block") for _, d in block.graph.nodes(data=True)
            if d["type"] == "Block"}


def check_nesting(doc: Any, child_id: str, node_ids: tuple[str, ...] = ()) -> None:
    """Raise `RecursiveBlockError` if an instance of ``child_id`` inside ``doc`` (a definition)
    would make a definition contain itself."""
    if not doc.is_definition:
        return
    here = doc.block_id
    path = _path_to(doc.root, child_id, here)
    if path is not None:
        names = [doc.root.block(b).name for b in (here, *path)]
        raise RecursiveBlockError(names, node_ids)


def _path_to(root: Any, start: str, target: str) -> list[str] | None:
    """The chain of definitions from ``start`` to ``target`` through instances, or None."""
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    seen: set[str] = set()
    while stack:
        current, path = stack.pop()
        if current == target:
            return path
        if current in seen or not root.has_block(current):
            continue
        seen.add(current)
        for child in sorted(children(root.block(current))):
            stack.append((child, [*path, child]))
    return None


def definition_order(root: Any) -> list[str]:
    """Definitions with every definition after those it instantiates (leaves first)."""
    order: list[str] = []
    done: set[str] = set()

    def visit(block_id: str) -> None:
        if block_id in done or not root.has_block(block_id):
            return
        done.add(block_id)
        for child in sorted(children(root.block(block_id))):
            visit(child)
        order.append(block_id)

    for block_id in root.block_ids():
        visit(block_id)
    return order


def instances(root: Any, block_id: str) -> list[tuple[str, str]]:
    """Every Block node of ``block_id``: (definition id or "" for the design, node id)."""
    found = []
    for where in ("", *root.block_ids()):
        doc = root if not where else root.block(where)
        for node_id in doc.node_ids():
            if doc.attr(node_id, "type") == "Block" and \
                    doc.attr(node_id, "params").get("block") == block_id:
                found.append((where, node_id))
    return found
