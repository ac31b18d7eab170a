"""Typed errors with messages a person can act on.

Every error carries ``node_ids`` (possibly empty) so the canvas can pin it to the nodes concerned.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any


class GraphError(Exception):
    """Base of every document error."""

    def __init__(self, message: str, node_ids: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.node_ids: tuple[str, ...] = tuple(node_ids)

    def __str__(self) -> str:
        return self.message


class CycleError(GraphError):
    """An edge would close a loop; ``node_ids`` lists the loop in order."""

    def __init__(self, names: list[str], node_ids: Iterable[str] = ()) -> None:
        loop = " → ".join([*names, names[0]]) if names else "?"
        super().__init__(f"This connection would create a cycle: {loop}. "
                         "Networks must flow one way; remove an edge of the loop.", node_ids)


class PortOccupiedError(GraphError):
    """An input port takes one edge."""


class PortError(GraphError):
    """A port index that the layer does not have."""


class UnknownLayerError(GraphError):
    def __init__(self, type_name: Any, known: tuple[str, ...] = ()) -> None:
        close = difflib.get_close_matches(str(type_name), known, n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        super().__init__(f"Unknown layer type {type_name!r}.{hint}")
        self.type_name = type_name


class ParamError(GraphError):
    """A parameter value outside its spec."""

    def __init__(self, param: str, value: Any, allowed: str, node_ids: Iterable[str] = (),
                 node_name: str = "") -> None:
        where = f"{node_name}: " if node_name else ""
        if value is None and allowed.startswith("a parameter of"):
            msg = f"{where}'{param}' is not {allowed}."
        else:
            msg = f"{where}'{param}' = {_short(value)} is not allowed; use {allowed}."
        super().__init__(msg, node_ids)
        self.param, self.value, self.allowed = param, value, allowed

    def for_node(self, node_id: str, node_name: str) -> ParamError:
        return ParamError(self.param, self.value, self.allowed, (node_id,), node_name)


class NameError_(GraphError):  # noqa: N801 - avoid shadowing the builtin NameError
    """A node name that is not a usable, unique Python identifier."""


InvalidNameError = NameError_


class UnknownNodeError(GraphError):
    pass


class DuplicateNodeError(GraphError):
    pass


class MissingInputError(GraphError):
    """The design has no Input node, or a node's input port is empty."""


class MissingOutputError(GraphError):
    """The design has no Output node."""


class MissingLossError(GraphError):
    """An Output node without a loss."""


class UnreachableNodeError(GraphError):
    """A node no Input feeds ("graph disconnected")."""


class BlockError(GraphError):
    """A block definition or instance that cannot be made as asked (unknown definition, a port
    or parameter it does not have, a name already taken)."""


class RecursiveBlockError(BlockError):
    """A block definition that would contain itself, directly or through other blocks;
    ``chain`` names the definitions in order."""

    def __init__(self, chain: list[str], node_ids: Iterable[str] = ()) -> None:
        loop = " → ".join(chain)
        super().__init__(f"A block cannot contain itself: {loop}. Use another definition "
                         "or ungroup the inner block first.", node_ids)
        self.chain = list(chain)


class BlockInUseError(BlockError):
    """A definition that still has instances cannot be removed."""


class ProjectFormatError(GraphError):
    """A project file that cannot be loaded; ``path`` is the JSON path of the bad field."""

    def __init__(self, path: str, problem: str, file: str = "") -> None:
        where = f"{file}: " if file else ""
        super().__init__(f"{where}{path}: {problem}")
        self.path, self.problem, self.file = path, problem, file


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
