"""NetCanvas's document: a network design as a networkx graph, edited only through edits.

Pure Python + networkx: importing this package loads neither Qt nor torch.
"""

from graph.catalogue import CATALOGUE, CATEGORIES, LAYERS, LayerSpec, ParamSpec, get_spec
from graph.document import Document, Node
from graph.edits import (
    AddNode,
    Composite,
    Connect,
    Disconnect,
    Edit,
    MoveNodes,
    RemoveNode,
    Rename,
    SetModelName,
    SetParams,
    SetSection,
    SetTrainable,
    add_node,
    connect,
    delete,
)
from graph.errors import (
    CycleError,
    GraphError,
    MissingInputError,
    MissingLossError,
    MissingOutputError,
    ParamError,
    PortOccupiedError,
    ProjectFormatError,
    UnknownLayerError,
    UnreachableNodeError,
)
from graph.events import Edge
from graph.history import History
from graph.sketch import Sketch
from graph.validation import can_connect, check_connect, validate

__all__ = [
    "CATALOGUE", "CATEGORIES", "LAYERS", "LayerSpec", "ParamSpec", "get_spec", "Document", "Node",
    "AddNode", "Composite", "Connect", "Disconnect", "Edit", "MoveNodes", "RemoveNode", "Rename",
    "SetModelName", "SetParams", "SetSection", "SetTrainable", "add_node", "connect", "delete",
    "CycleError", "GraphError", "MissingInputError", "MissingLossError", "MissingOutputError",
    "ParamError", "PortOccupiedError", "ProjectFormatError", "UnknownLayerError",
    "UnreachableNodeError", "Edge", "History", "Sketch", "can_connect", "check_connect",
    "validate",
]
