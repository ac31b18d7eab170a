"""Structural checks: what may be connected, and whether a design is complete."""

from __future__ import annotations

import networkx as nx

from graph.document import Document
from graph.errors import (
    CycleError,
    GraphError,
    MissingInputError,
    MissingLossError,
    MissingOutputError,
    PortError,
    PortOccupiedError,
    UnknownNodeError,
    UnreachableNodeError,
)
from graph.events import Edge


def check_connect(doc: Document, edge: Edge) -> None:
    """Raise a typed error when ``edge`` may not be added to ``doc``."""
    for node_id in (edge.src, edge.dst):
        if node_id not in doc:
            raise UnknownNodeError(f"There is no node {node_id!r}.")
    src_spec, dst_spec = doc.spec(edge.src), doc.spec(edge.dst)
    src_name, dst_name = doc.label(edge.src), doc.label(edge.dst)
    n_out = src_spec.output_count(doc.attr(edge.src, "params"))
    # A Block node keeps its connections when its definition loses a port (validate() reports
    # them until they are reconnected), so a saved design with such an edge loads again.
    if doc.attr(edge.src, "type") == "Block" and isinstance(edge.src_port, int):
        n_out = max(n_out, edge.src_port + 1)
    if not isinstance(edge.src_port, int) or not 0 <= edge.src_port < n_out:
        reason = ("has no output" if n_out == 0 else
                  f"has output ports 0–{n_out - 1}")
        raise PortError(f"{src_spec.type} '{src_name}' {reason}; it cannot feed another layer.",
                        (edge.src,))
    keeps = doc.attr(edge.dst, "type") == "Block"
    if not isinstance(edge.dst_port, int) or edge.dst_port < 0 or (
        not dst_spec.variadic and edge.dst_port >= dst_spec.arity and not keeps
    ):
        reason = ("takes no input" if dst_spec.arity == 0 else
                  f"has {dst_spec.arity} input port(s)")
        raise PortError(f"{dst_spec.type} '{dst_name}' {reason}.", (edge.dst,))
    if edge.src == edge.dst:
        raise CycleError([src_name], (edge.src,))
    occupant = doc.edge_into(edge.dst, edge.dst_port)
    if occupant is not None:
        raise PortOccupiedError(
            f"Input {edge.dst_port} of '{dst_name}' is already fed by "
            f"'{doc.label(occupant.src)}'; disconnect it first"
            + (" or use a free port." if dst_spec.variadic else "."), (edge.dst,))
    if nx.has_path(doc.graph, edge.dst, edge.src):
        path = nx.shortest_path(doc.graph, edge.dst, edge.src)
        raise CycleError([doc.label(n) for n in path], path)


def can_connect(doc: Document, edge: Edge) -> tuple[bool, str]:
    """``(True, "")`` or ``(False, reason)`` — for highlighting targets while dragging."""
    try:
        check_connect(doc, edge)
    except GraphError as exc:
        return False, exc.message
    return True, ""


def validate(doc: Document) -> list[GraphError]:
    """Every structural problem of the design (not shapes: see ``backend.model.shapes``)."""
    problems: list[GraphError] = []
    inputs, outputs = doc.inputs(), doc.outputs()
    if doc.is_definition:
        if not inputs:
            problems.append(MissingInputError(
                f"Block {doc.name} has no BlockInput: add one for each value it takes."))
        if not outputs:
            problems.append(MissingOutputError(
                f"Block {doc.name} has no BlockOutput: add one for each value it gives."))
    if not inputs and not doc.is_definition:
        problems.append(MissingInputError("The design has no Input layer: add one to feed data."))
    if not outputs and not doc.is_definition:
        problems.append(MissingOutputError(
            "The design has no Output layer: add one after the last layer and choose its loss."))
    for node_id in doc.node_ids():
        spec, name = doc.spec(node_id), doc.label(node_id)
        edges = doc.in_edges(node_id)
        if spec.variadic:
            if len(edges) < 2:
                problems.append(MissingInputError(
                    f"{spec.type} '{name}' needs at least two inputs; it has {len(edges)}.",
                    (node_id,)))
        else:
            ports = {e.dst_port for e in edges}
            missing = [p for p in spec.required_inputs() if p not in ports]
            if missing and spec.arity == 1:
                problems.append(MissingInputError(
                    f"{spec.type} '{name}' has no input: connect a layer to it.", (node_id,)))
            elif missing:
                names = " and ".join(repr(spec.input_name(p)) for p in missing)
                problems.append(MissingInputError(
                    f"{spec.type} '{name}' has no input {names}: connect a layer to "
                    f"{'it' if len(missing) == 1 else 'them'}.", (node_id,)))
        if not spec.variadic:
            for edge in edges:
                if edge.dst_port >= spec.arity:
                    problems.append(PortError(
                        f"{spec.type} '{name}' has {spec.arity} input(s), but '"
                        f"{doc.label(edge.src)}' still feeds input {edge.dst_port}: reconnect "
                        "it, or give the block that input again.", (node_id, edge.src)))
        n_out = spec.output_count(doc.attr(node_id, "params"))
        for edge in doc.out_edges(node_id):
            if edge.src_port >= n_out:
                problems.append(PortError(
                    f"{spec.type} '{name}' has {n_out} output(s), but output {edge.src_port} "
                    f"still feeds '{doc.label(edge.dst)}': reconnect that input to an output "
                    "that exists, or give the layer more outputs.", (node_id, edge.dst)))
        if spec.type == "Output" and doc.attr(node_id, "params").get("loss", "none") == "none":
            problems.append(MissingLossError(
                f"Output '{name}' has no loss: choose one (mse for numbers, "
                "cross_entropy for classes).", (node_id,)))
    reachable: set[str] = set()
    for node_id in inputs:
        reachable.add(node_id)
        reachable |= nx.descendants(doc.graph, node_id)
    if inputs:
        for node_id in doc.node_ids():
            if node_id not in reachable:
                problems.append(UnreachableNodeError(
                    f"'{doc.label(node_id)}' is not connected to any Input (graph disconnected): "
                    "connect it or delete it.", (node_id,)))
    try:
        cycle = nx.find_cycle(doc.graph)
    except nx.NetworkXNoCycle:
        pass
    else:
        ids = [u for u, *_ in cycle]
        problems.append(CycleError([doc.label(n) for n in ids], ids))
    return problems
