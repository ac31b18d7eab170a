"""The canvas's right-click menus: on the empty canvas, a layer, a connection or a port.

Every entry is a controller call (one undo step each), as every other gesture. Layer types are
offered from the catalogue by category, filtered by what fits where (a layer without inputs is
never offered "after" anything). Other parts of the app add entries through `add_provider`: a
provider gets the `MenuTarget` and returns ``(text, callback)`` pairs, shown first under their
own heading — that is where quick fixes for a design's errors appear.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QMenu, QWidget

from builder.insertion import flow_order, is_sink, is_source, node_edges
from builder.theme import CATEGORY_ICONS, icon
from graph.catalogue import CATEGORIES, LAYERS, LayerSpec
from graph.events import Edge

if TYPE_CHECKING:
    from builder.canvas.scene import CanvasScene


@dataclass(frozen=True)
class MenuTarget:
    """What was right-clicked: ``kind`` is "canvas", "node", "edge" or "port"."""

    kind: str
    pos: tuple[float, float]
    node_id: str | None = None
    edge: Edge | None = None
    port_kind: str | None = None  # "in" / "out" for a port
    port: int | None = None


#: ``provider(target)`` → entries ``(text, callback)`` for that target (may be empty).
MenuProvider = Callable[[MenuTarget], list[tuple[str, Callable[[], object]]]]


def _middle(spec: LayerSpec) -> bool:
    return not is_source(spec) and not is_sink(spec)


def _same_role(a: LayerSpec, b: LayerSpec) -> bool:
    """Whether ``b`` can stand where ``a`` is: inputs where it has inputs, outputs likewise."""
    return is_source(a) == is_source(b) and is_sink(a) == is_sink(b)


class CanvasMenus:
    """Builds the menu for a scene position; `providers` add entries (quick fixes)."""

    def __init__(self, scene: CanvasScene) -> None:
        self.scene = scene
        self.providers: list[MenuProvider] = []

    def add_provider(self, provider: MenuProvider) -> None:
        self.providers.append(provider)

    # --- what is under the mouse ---------------------------------------------------------------
    def target_at(self, pos: QPointF) -> MenuTarget:
        from builder.canvas.edge_item import EdgeItem
        from builder.canvas.node_item import NodeItem
        from builder.canvas.port_item import PortItem

        where = (pos.x(), pos.y())
        for item in self.scene.items(pos):
            if isinstance(item, PortItem):
                return MenuTarget("port", where, item.node_id, port_kind=item.kind,
                                  port=item.index)
            if isinstance(item, NodeItem):
                return MenuTarget("node", where, item.node_id)
            if isinstance(item, EdgeItem) and item.shape().contains(pos):
                return MenuTarget("edge", where, edge=item.edge)
        return MenuTarget("canvas", where)

    # --- building ------------------------------------------------------------------------------
    def menu_for(self, target: MenuTarget, parent: QWidget | None = None) -> QMenu:
        menu = QMenu(parent)
        menu.setObjectName(f"canvasMenu-{target.kind}")
        extra = [entry for provider in self.providers for entry in provider(target)]
        if extra:
            menu.addSection("Quick fixes")
            for text, callback in extra:
                menu.addAction(text, callback)
            menu.addSeparator()
        build = {"canvas": self._canvas, "node": self._node, "edge": self._edge,
                 "port": self._port}[target.kind]
        build(menu, target)
        return menu

    def _types(self, menu: QMenu, title: str, fits: Callable[[LayerSpec], bool],
               chosen: Callable[[str], object]) -> QMenu | None:
        """A submenu of layer types by category (only those that ``fits``)."""
        specs = [s for s in LAYERS if fits(s)]
        if not specs:
            return None
        sub = menu.addMenu(title)
        for category in CATEGORIES:
            members = [s for s in specs if s.category == category]
            if not members:
                continue
            cat = sub.addMenu(icon(CATEGORY_ICONS.get(category, "core.svg")), category)
            for spec in members:
                action = cat.addAction(spec.type, lambda t=spec.type: chosen(t))
                action.setStatusTip(spec.doc)
        return sub

    def _canvas(self, menu: QMenu, target: MenuTarget) -> None:
        c = self.scene.controller
        pos = (round(target.pos[0] - 86), round(target.pos[1] - 12))
        self._types(menu, "Add layer here", lambda s: True,
                    lambda t: c.add_layer(t, pos))
        menu.addSeparator()
        menu.addAction("Paste", lambda: c.paste())
        if self.scene.nodes:
            menu.addAction("Select all", lambda: self.scene.select_nodes(list(self.scene.nodes)))
            menu.addAction("Auto-layout", c.auto_layout)

    def _node(self, menu: QMenu, target: MenuTarget) -> None:
        c, doc = self.scene.controller, self.scene.controller.shown
        node_id = target.node_id
        if node_id not in doc:
            return
        spec = doc.spec(node_id)
        selected = self.scene.selected_node_ids()
        if node_id not in selected:
            self.scene.select_nodes([node_id])
            selected = [node_id]
        name = doc.label(node_id)
        if not is_sink(spec):
            feeders = flow_order(doc, [n for n in selected if not is_sink(doc.spec(n))],
                                 c.direction)

            def after(type_name: str) -> object:
                from graph.catalogue import get_spec

                many = get_spec(type_name).variadic and len(feeders) > 1
                return c.insert_after(type_name, [(n, 0) for n in (feeders if many else
                                                                    [node_id])])

            self._types(menu, f"Insert after {name}", lambda s: not is_source(s), after)
        if not is_source(spec):
            self._types(menu, f"Insert before {name}",
                        lambda s: _middle(s) or (is_source(s) and
                                                 doc.free_input_port(node_id) is not None),
                        lambda t: c.insert_before(t, node_id))
        self._types(menu, "Replace with", lambda s: s.type != spec.type and _same_role(spec, s),
                    lambda t: c.replace_type(node_id, t))
        menu.addSeparator()
        edges = node_edges(doc, node_id)
        disconnect = menu.addAction("Disconnect", lambda: c.disconnect(
            edges, f"disconnect {name}"))
        disconnect.setEnabled(bool(edges))
        menu.addAction("Duplicate", lambda: c.duplicate(selected))
        menu.addSeparator()
        group = menu.addAction("Group into Block", lambda: c.group_into_block(selected))
        group.setShortcut("Ctrl+G")
        if spec.type == "Block":
            block = doc.block(doc.attr(node_id, "params")["block"])
            menu.addAction(f"Open {block.name}", lambda: c.open_block(block.block_id))
            menu.addAction("Ungroup", lambda: c.ungroup(node_id)).setShortcut("Ctrl+Shift+G")
        menu.addSeparator()
        menu.addAction("Delete" if len(selected) == 1 else f"Delete {len(selected)} layers",
                       lambda: c.delete(selected, self.scene.selected_edges()))

    def _edge(self, menu: QMenu, target: MenuTarget) -> None:
        c, doc = self.scene.controller, self.scene.controller.shown
        edge = target.edge
        if edge is None or not doc.has_edge(edge):
            return
        self.scene.select_edges([edge])
        self._types(menu, "Insert layer here", _middle, lambda t: c.insert_on_edge(t, edge))
        menu.addSeparator()
        menu.addAction("Disconnect", lambda: c.disconnect([edge]))

    def _port(self, menu: QMenu, target: MenuTarget) -> None:
        c, doc = self.scene.controller, self.scene.controller.shown
        node_id, port = target.node_id, target.port
        if node_id not in doc or port is None:
            return
        name = doc.label(node_id)
        if target.port_kind == "out":
            self._types(menu, f"Insert after {name} (output {port})", lambda s: not is_source(s),
                        lambda t: c.insert_after(t, [(node_id, port)]))
        else:
            fed = doc.edge_into(node_id, port) is not None
            self._types(menu, f"Insert before input {port + 1} of {name}",
                        lambda s: _middle(s) or (is_source(s) and not fed),
                        lambda t: c.insert_before(t, node_id, port))
        menu.addSeparator()
        edges = node_edges(doc, node_id, target.port_kind, port)
        action = menu.addAction("Disconnect", lambda: c.disconnect(edges))
        action.setEnabled(bool(edges))
