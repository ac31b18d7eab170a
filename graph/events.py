"""Past-tense change events published by a `Document` to plain-Python subscribers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple


class Edge(NamedTuple):
    """A connection from an output port to an input port."""

    src: str
    src_port: int
    dst: str
    dst_port: int


@dataclass(frozen=True)
class Event:
    """Base of all document change events."""


@dataclass(frozen=True)
class NodeAdded(Event):
    node_id: str


@dataclass(frozen=True)
class NodeRemoved(Event):
    node_id: str


@dataclass(frozen=True)
class EdgeAdded(Event):
    edge: Edge


@dataclass(frozen=True)
class EdgeRemoved(Event):
    edge: Edge


@dataclass(frozen=True)
class ParamsChanged(Event):
    node_id: str
    keys: tuple[str, ...]


@dataclass(frozen=True)
class NodeMoved(Event):
    node_id: str
    pos: tuple[float, float]


@dataclass(frozen=True)
class NodeRenamed(Event):
    node_id: str
    old: str
    new: str


@dataclass(frozen=True)
class TrainableChanged(Event):
    node_id: str
    trainable: bool


@dataclass(frozen=True)
class SectionChanged(Event):
    """The ``data`` / ``training`` settings (or the model name, ``section == "name"``)."""

    section: str


@dataclass(frozen=True)
class BlockDefined(Event):
    """A block definition was added to the design."""

    block_id: str


@dataclass(frozen=True)
class BlockRemoved(Event):
    block_id: str


@dataclass(frozen=True)
class BlockRenamed(Event):
    """A definition's name, parameters or class kind changed (``old == new``: not the name)."""

    block_id: str
    old: str
    new: str


@dataclass(frozen=True)
class BlockChanged(Event):
    """Something changed inside definition ``block_id``: ``event`` is the definition's own."""

    block_id: str
    event: Event


Subscriber = Callable[[Event], Any]


class EventBus:
    """A tiny publish/subscribe hub: ``unsubscribe = bus.subscribe(cb)``; ``bus.emit(event)``."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    def emit(self, event: Event) -> None:
        for callback in list(self._subscribers):
            callback(event)
