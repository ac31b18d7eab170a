"""The network design: a `networkx.MultiDiGraph` of layers, changed only through edits.

Readers use the query methods; writers build an edit (`graph.edits`) and call `apply`, which
returns the inverse edit. Subscribers receive past-tense events for every change.
"""

from __future__ import annotations

import copy
import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from graph.catalogue import LayerSpec, ParamSpec, get_spec
from graph.errors import BlockError, UnknownNodeError
from graph.events import (
    BlockChanged,
    Edge,
    EdgeAdded,
    EdgeRemoved,
    Event,
    EventBus,
    NodeAdded,
    NodeMoved,
    NodeRemoved,
    NodeRenamed,
    ParamsChanged,
    SectionChanged,
    Subscriber,
    TrainableChanged,
)

_VERSIONS = itertools.count(1)
SECTIONS = ("data", "training", "model")
"""Settings sections of a design: data, training, and the model's own (initializer defaults)."""


def id_key(node_id: str) -> tuple:
    """Natural order of ids (``n2`` before ``n10``): the canonical node order of a document."""
    return tuple(int(part) if part.isdigit() else part
                 for part in re.split(r"(\d+)", node_id) if part)


@dataclass(frozen=True)
class Node:
    """A snapshot of one layer in the design."""

    id: str
    type: str
    name: str
    params: dict[str, Any] = field(default_factory=dict)
    pos: tuple[float, float] = (0.0, 0.0)
    trainable: bool = True

    @property
    def spec(self) -> LayerSpec:
        return get_spec(self.type)


class Document:
    """A network design. Change it only with `apply(edit)`.

    A design holds block definitions (`blocks`): each is itself a `Document` (its own nodes and
    edges; ``BlockInput`` / ``BlockOutput`` nodes are its ports) owned by the design, with named
    parameters (`block_params`). Its events reach the design's subscribers as `BlockChanged`.
    """

    def __init__(self, name: str = "Model", *, owner: Document | None = None,
                 block_id: str = "", params: tuple[ParamSpec, ...] = (),
                 sequential: bool = False) -> None:
        self.graph = nx.MultiDiGraph()
        self._name = name
        self._sections: dict[str, dict[str, Any]] = {s: {} for s in SECTIONS}
        #: Unknown top-level project-file keys, preserved on save.
        self.extra: dict[str, Any] = {}
        self._bus = EventBus()
        self._counter = 0
        #: For a block definition: the design that owns it, its id, parameters, and whether its
        #: class is an ``nn.Sequential`` (a chain; state-dict keys by index).
        self.owner = owner
        self.block_id = block_id
        self.block_params: tuple[ParamSpec, ...] = tuple(params)
        self.sequential = sequential
        self._blocks: dict[str, Document] = {}
        #: Changes whenever any definition changes (a process-wide counter: keys caches).
        self.blocks_version = next(_VERSIONS)
        self._spec_cache: dict[str, tuple[int, LayerSpec]] = {}

    # --- events ------------------------------------------------------------------------------
    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback(event)`` after every change; returns the unsubscribe function."""
        return self._bus.subscribe(callback)

    def _emit(self, event: Event) -> None:
        self._bus.emit(event)
        if self.owner is not None:
            self.owner.blocks_version = next(_VERSIONS)
            self.owner._emit(BlockChanged(self.block_id, event))

    # --- block definitions -------------------------------------------------------------------
    @property
    def is_definition(self) -> bool:
        return self.owner is not None

    @property
    def root(self) -> Document:
        """The design that owns the definitions (this document, unless it is one)."""
        return self.owner if self.owner is not None else self

    def block_ids(self) -> list[str]:
        """The design's definitions in canonical id order."""
        return sorted(self.root._blocks, key=id_key)

    def block(self, block_id: str) -> Document:
        try:
            return self.root._blocks[block_id]
        except (KeyError, TypeError):
            raise BlockError(f"There is no block definition {block_id!r}.") from None

    def has_block(self, block_id: object) -> bool:
        return isinstance(block_id, str) and block_id in self.root._blocks

    def find_block(self, name: str) -> str | None:
        """The id of the definition called ``name``."""
        for block_id, block in self.root._blocks.items():
            if block.name == name:
                return block_id
        return None

    def new_block_id(self) -> str:
        i = 1
        while f"b{i}" in self.root._blocks:
            i += 1
        return f"b{i}"

    def type_spec(self, type_name: str, params: dict[str, Any]) -> LayerSpec:
        """The spec of a node of ``type_name`` with ``params``: a Block node's comes from its
        definition (ports, parameters)."""
        if type_name != "Block":
            return get_spec(type_name)
        from graph.blocks import block_spec

        block_id = params.get("block")
        block = self.block(block_id)
        root = self.root
        hit = root._spec_cache.get(block_id)
        if hit is not None and hit[0] == root.blocks_version:
            return hit[1]
        spec = block_spec(block)
        root._spec_cache[block_id] = (root.blocks_version, spec)
        return spec

    # --- applying edits ----------------------------------------------------------------------
    def apply(self, edit: Any) -> Any:
        """Apply ``edit``; return its inverse, or None when it would change nothing."""
        if edit.is_noop(self):
            return None
        return edit.apply(self)

    # --- queries -----------------------------------------------------------------------------
    @property
    def name(self) -> str:
        """The model's class name in generated code."""
        return self._name

    def section(self, name: str) -> dict[str, Any]:
        """A deep copy of the ``data`` or ``training`` settings."""
        return copy.deepcopy(self._sections[name])

    def __contains__(self, node_id: object) -> bool:
        return node_id in self.graph

    def __len__(self) -> int:
        return self.graph.number_of_nodes()

    def node_ids(self) -> list[str]:
        """Node ids in canonical (natural id) order, independent of edit history."""
        return sorted(self.graph.nodes, key=id_key)

    def node(self, node_id: str) -> Node:
        try:
            data = self.graph.nodes[node_id]
        except KeyError:
            raise UnknownNodeError(f"There is no node {node_id!r}.") from None
        return Node(node_id, data["type"], data["name"], copy.deepcopy(data["params"]),
                    data["pos"], data["trainable"])

    def nodes(self) -> Iterator[Node]:
        for node_id in self.node_ids():
            yield self.node(node_id)

    def attr(self, node_id: str, key: str) -> Any:
        """One attribute without copying (``type``, ``name``, ``params``, ``pos``…): read only."""
        try:
            return self.graph.nodes[node_id][key]
        except KeyError:
            raise UnknownNodeError(f"There is no node {node_id!r}.") from None

    def spec(self, node_id: str) -> LayerSpec:
        data = self.graph.nodes[node_id] if node_id in self.graph else None
        if data is None:
            raise UnknownNodeError(f"There is no node {node_id!r}.")
        return self.type_spec(data["type"], data["params"])

    def label(self, node_id: str) -> str:
        return self.attr(node_id, "name") if node_id in self.graph else node_id

    def names(self) -> set[str]:
        return {d["name"] for _, d in self.graph.nodes(data=True)}

    def find(self, name: str) -> str | None:
        """The id of the node called ``name``."""
        for node_id, data in self.graph.nodes(data=True):
            if data["name"] == name:
                return node_id
        return None

    def edges(self) -> list[Edge]:
        return sorted(Edge(u, k[0], v, k[1]) for u, v, k in self.graph.edges(keys=True))

    def has_edge(self, edge: Edge) -> bool:
        return self.graph.has_edge(edge.src, edge.dst, key=(edge.src_port, edge.dst_port))

    def in_edges(self, node_id: str) -> list[Edge]:
        """Incoming edges ordered by input port."""
        edges = [Edge(u, k[0], v, k[1]) for u, v, k in self.graph.in_edges(node_id, keys=True)]
        return sorted(edges, key=lambda e: e.dst_port)

    def out_edges(self, node_id: str) -> list[Edge]:
        edges = [Edge(u, k[0], v, k[1]) for u, v, k in self.graph.out_edges(node_id, keys=True)]
        return sorted(edges, key=lambda e: (e.src_port, e.dst, e.dst_port))

    def edge_into(self, node_id: str, port: int) -> Edge | None:
        for edge in self.in_edges(node_id):
            if edge.dst_port == port:
                return edge
        return None

    def free_input_port(self, node_id: str) -> int | None:
        """The first empty input port (a variadic layer always has one), or None."""
        taken = {e.dst_port for e in self.in_edges(node_id)}
        spec = self.spec(node_id)
        limit = len(taken) + 1 if spec.variadic else spec.arity
        for port in range(limit):
            if port not in taken:
                return port
        return None

    def inputs(self) -> list[str]:
        """Input node ids in the order of the model's ``forward`` arguments (by position); in a
        definition, its ``BlockInput`` ports."""
        return self._ordered("BlockInput" if self.is_definition else "Input")

    def outputs(self) -> list[str]:
        """Output node ids in the order of the returned tuple (by position); in a definition,
        its ``BlockOutput`` ports."""
        return self._ordered("BlockOutput" if self.is_definition else "Output")

    def _ordered(self, type_name: str) -> list[str]:
        ids = [n for n, d in self.graph.nodes(data=True) if d["type"] == type_name]
        return sorted(ids, key=lambda n: (self.graph.nodes[n]["pos"][1],
                                          self.graph.nodes[n]["pos"][0],
                                          self.graph.nodes[n]["name"]))

    def topological_order(self) -> list[str]:
        """Nodes in a deterministic topological order (ties broken by canonical id order)."""
        return list(nx.lexicographical_topological_sort(self.graph, key=id_key))

    def new_node_id(self) -> str:
        """A fresh, stable, short id (``n1``, ``n2``…) never used in this document."""
        while True:
            self._counter += 1
            candidate = f"n{self._counter}"
            if candidate not in self.graph:
                return candidate

    def copy(self, owner: Document | None = None) -> Document:
        """An independent deep copy without subscribers (definitions copied too)."""
        other = Document(self._name, owner=owner, block_id=self.block_id,
                         params=self.block_params, sequential=self.sequential)
        other.graph = copy.deepcopy(self.graph)
        other._sections = copy.deepcopy(self._sections)
        other.extra = copy.deepcopy(self.extra)
        other._counter = self._counter
        other._blocks = {k: b.copy(owner=other) for k, b in self._blocks.items()}
        other.blocks_version = self.blocks_version
        return other

    # --- primitive mutations (for graph.edits only) --------------------------------------------
    def _add_node(self, node: Node) -> None:
        self.graph.add_node(node.id, type=node.type, name=node.name,
                            params=copy.deepcopy(node.params), pos=tuple(node.pos),
                            trainable=node.trainable)
        self._emit(NodeAdded(node.id))

    def _remove_node(self, node_id: str) -> None:
        for edge in self.in_edges(node_id) + self.out_edges(node_id):
            self._remove_edge(edge)
        self.graph.remove_node(node_id)
        self._emit(NodeRemoved(node_id))

    def _add_edge(self, edge: Edge) -> None:
        self.graph.add_edge(edge.src, edge.dst, key=(edge.src_port, edge.dst_port))
        self._emit(EdgeAdded(edge))

    def _remove_edge(self, edge: Edge) -> None:
        self.graph.remove_edge(edge.src, edge.dst, key=(edge.src_port, edge.dst_port))
        self._emit(EdgeRemoved(edge))

    def _set_params(self, node_id: str, changes: dict[str, Any]) -> None:
        self.graph.nodes[node_id]["params"].update(copy.deepcopy(changes))
        self._emit(ParamsChanged(node_id, tuple(changes)))

    def _set_pos(self, node_id: str, pos: tuple[float, float]) -> None:
        self.graph.nodes[node_id]["pos"] = (float(pos[0]), float(pos[1]))
        self._emit(NodeMoved(node_id, self.graph.nodes[node_id]["pos"]))

    def _set_name(self, node_id: str, name: str) -> None:
        old = self.graph.nodes[node_id]["name"]
        self.graph.nodes[node_id]["name"] = name
        self._emit(NodeRenamed(node_id, old, name))

    def _set_trainable(self, node_id: str, trainable: bool) -> None:
        self.graph.nodes[node_id]["trainable"] = trainable
        self._emit(TrainableChanged(node_id, trainable))

    def _set_section(self, section: str, value: dict[str, Any]) -> None:
        self._sections[section] = copy.deepcopy(value)
        self._emit(SectionChanged(section))

    def _set_model_name(self, name: str) -> None:
        self._name = name
        self._emit(SectionChanged("name"))

    def _add_block(self, block: Document) -> None:
        from graph.events import BlockDefined

        block.owner = self
        self._blocks[block.block_id] = block
        self.blocks_version = next(_VERSIONS)
        self._emit(BlockDefined(block.block_id))

    def _remove_block(self, block_id: str) -> Document:
        from graph.events import BlockRemoved

        block = self._blocks.pop(block_id)
        self.blocks_version = next(_VERSIONS)
        self._emit(BlockRemoved(block_id))
        return block

    def _set_block_meta(self, block_id: str, name: str, params: tuple[ParamSpec, ...],
                        sequential: bool) -> None:
        from graph.events import BlockRenamed

        block = self._blocks[block_id]
        old = block._name
        block._name, block.block_params, block.sequential = name, tuple(params), sequential
        self.blocks_version = next(_VERSIONS)
        self._emit(BlockRenamed(block_id, old, name))
