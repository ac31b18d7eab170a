"""The editor: turns gestures and menu actions into undo commands on one document.

Every method applies at most one graph edit through `push_edit`; refused edits change nothing
and report their reason with the `message` signal (shown in the status bar).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from PySide6.QtCore import QMimeData, QObject, Signal
from PySide6.QtGui import QUndoStack

from builder import insertion
from builder.commands import push_edit
from graph.clipboard import MIME_TYPE as FRAGMENT_MIME
from graph.document import Document
from graph.edits import (
    AddNode,
    Edit,
    MoveNodes,
    Rename,
    SetTrainable,
    add_node,
    connect,
    delete,
    set_params,
)
from graph.errors import GraphError
from graph.events import Edge

PASTE_OFFSET = (40.0, 40.0)


class EditorController(QObject):
    """Owns the document being edited and its undo stack; the only writer of the document."""

    #: A short text for the status bar (refusal reasons, confirmations).
    message = Signal(str)
    #: The whole document was replaced (new / open): views rebuild from it.
    documentReplaced = Signal()
    #: Ask views to select these node ids (after a paste, an add, a click in the error list).
    selectRequested = Signal(list)
    #: The canvas shows another document: the design, or the inside of a block definition.
    shownChanged = Signal()
    #: A block definition was renamed (or its parameters changed): the breadcrumb and the
    #: palette's list show its name.
    blockRenamed = Signal(str)

    def __init__(self, doc: Document | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.doc = doc or Document()
        self.stack = QUndoStack(self)
        self._fragment: dict[str, Any] | None = None
        self._paste_count = 0
        #: Which way the flow runs on the canvas ("LR" or "TB"): where inserted layers go.
        self.direction = "LR"
        #: What the data say each Output predicts (`insertion.TargetLookup`): sizes new heads.
        self.targets: insertion.TargetLookup = lambda _name: None
        #: The block definition open on the canvas ("" = the design itself).
        self._shown_id = ""
        self._unsubscribe = self.doc.subscribe(self._on_design_event)

    # --- document lifetime -------------------------------------------------------------------
    def set_document(self, doc: Document) -> None:
        """Edit ``doc`` from now on (new history, clean state)."""
        self.stack.clear()
        self._unsubscribe()
        self.doc = doc
        self._shown_id = ""
        self._unsubscribe = doc.subscribe(self._on_design_event)
        self.stack.setClean()
        self.documentReplaced.emit()

    # --- which document the canvas edits -----------------------------------------------------------
    @property
    def shown(self) -> Document:
        """The document on the canvas: the design, or the block definition opened in it."""
        if self._shown_id and self.doc.has_block(self._shown_id):
            return self.doc.block(self._shown_id)
        return self.doc

    def breadcrumb(self) -> list[tuple[str, str]]:
        """(label, block id) from the design to what is shown: ``design > BasicBlock``."""
        trail = [(self.doc.name, "")]
        if self._shown_id and self.doc.has_block(self._shown_id):
            trail.append((self.doc.block(self._shown_id).name, self._shown_id))
        return trail

    def open_block(self, block_id: str) -> bool:
        """Show the inside of a definition: edits then apply to it (every instance follows)."""
        if not self.doc.has_block(block_id):
            return False
        if block_id != self._shown_id:
            self._shown_id = block_id
            self.shownChanged.emit()
        return True

    def close_block(self) -> None:
        """Show the design again."""
        if self._shown_id:
            self._shown_id = ""
            self.shownChanged.emit()

    def _on_design_event(self, event: Any) -> None:
        from graph.events import BlockDefined, BlockRemoved, BlockRenamed

        if isinstance(event, BlockRenamed):
            self.blockRenamed.emit(event.block_id)
        elif isinstance(event, BlockRemoved) and event.block_id == self._shown_id:
            self._shown_id = ""  # its definition went (ungroup, undo of a group)
            self.shownChanged.emit()
        elif isinstance(event, BlockDefined) and event.block_id == self._shown_id:
            self.shownChanged.emit()  # the same definition back (redo): a new document

    # --- the one way in ----------------------------------------------------------------------
    def push(self, edit: Edit, text: str | None = None, *, mergeable: bool = True) -> bool:
        """Apply ``edit`` (made for the document shown) as one undo step; report a refusal and
        return False (``mergeable=False``: never merged into the previous parameter edit).
        Inside a block it is applied through `InBlock`, so undo reaches the definition by its
        id whatever is shown then."""
        from graph.block_edits import inside

        return self._push_to(self.doc, inside(self.shown, edit), text, mergeable=mergeable)

    def _push_to(self, doc: Document, edit: Edit, text: str | None = None, *,
                 mergeable: bool = True) -> bool:
        try:
            return push_edit(self.stack, doc, edit, text, mergeable=mergeable)
        except GraphError as exc:
            self.message.emit(exc.message)
            return False

    # --- blocks --------------------------------------------------------------------------------
    def group_into_block(self, node_ids: Iterable[str], name: str = "Block") -> str | None:
        """Group the selected layers into a new block used in their place (one undo step);
        returns the new Block node's id."""
        from graph.block_edits import group

        try:
            edit = group(self.shown, list(node_ids), name)
        except GraphError as exc:
            self.message.emit(exc.message)
            return None
        if not self._push_to(self.doc, edit):
            return None
        from graph.block_edits import InBlock

        added = [e.edit if isinstance(e, InBlock) else e for e in edit.edits]
        node_id = next(e.node.id for e in added if isinstance(e, AddNode)
                       and e.node.type == "Block")
        self.selectRequested.emit([node_id])
        return node_id

    def insert_block_from(self, holder: Document, block_id: str,
                          pos: tuple[float, float] = (0.0, 0.0)) -> str | None:
        """Define a block read from a file (with the blocks it uses) in the design and add an
        instance of it at ``pos`` (one undo step); returns the new Block node's id."""
        from graph.block_files import insert_block

        try:
            edit, node_id = insert_block(self.shown, holder, block_id, pos)
        except GraphError as exc:
            self.message.emit(exc.message)
            return None
        if not self._push_to(self.doc, edit):
            return None
        self.selectRequested.emit([node_id])
        return node_id

    def rename_block(self, block_id: str, name: str) -> bool:
        """Rename a definition (its class name in the code; one undo step); a name another
        block or the design has is refused with a message."""
        from graph.block_edits import RenameBlock

        if not self.doc.has_block(block_id) or not name.strip():
            return False
        return self._push_to(self.doc, RenameBlock(block_id, name.strip()))

    def ungroup(self, node_id: str) -> bool:
        """Put a block's layers back in its place (one undo step)."""
        from graph.block_edits import ungroup

        try:
            edit = ungroup(self.shown, node_id)
        except GraphError as exc:
            self.message.emit(exc.message)
            return False
        return self._push_to(self.doc, edit)

    def promote_param(self, node_id: str, key: str) -> str | None:
        """Inside an open block: make layer parameter ``key`` a parameter of the block (its
        current value the default), so each instance can give its own; returns its name."""
        from graph.block_edits import promote_param

        try:
            edit, name = promote_param(self.shown, node_id, key)
        except GraphError as exc:
            self.message.emit(exc.message)
            return None
        return name if self._push_to(self.doc, edit) else None

    def insert_block(self, block_id: str, selected: Iterable[str] = (),
                     pos: tuple[float, float] = (0.0, 0.0)) -> str | None:
        """Insert an instance of ``block_id`` after the selected layer (or at ``pos``)."""
        from graph.block_edits import add_block
        from graph.edits import Composite

        doc = self.shown
        chosen = [n for n in selected if n in doc and doc.spec(n).outputs > 0]
        try:
            edit = add_block(doc, block_id, pos)
            parts = [edit]
            if chosen and doc.type_spec("Block", edit.node.params).arity:
                x, y = doc.attr(chosen[0], "pos")
                edit = add_block(doc, block_id, insertion.free_spot(
                    doc, (x + 240.0, y), self.direction), node_id=edit.node.id)
                parts = [edit, connect(doc, chosen[0], edit.node.id, dst_port=0)]
        except GraphError as exc:
            self.message.emit(exc.message)
            return None
        if not self.push(Composite(tuple(parts), f"insert {doc.block(block_id).name}")):
            return None
        self.selectRequested.emit([edit.node.id])
        return edit.node.id

    # --- editing operations --------------------------------------------------------------------
    def add_layer(self, type_name: str, pos: tuple[float, float] = (0.0, 0.0),
                  **params: Any) -> str | None:
        """Add a layer of ``type_name`` at ``pos``; return its id (None if refused)."""
        try:
            edit = add_node(self.shown, type_name, pos, params=params or None)
        except GraphError as exc:
            self.message.emit(exc.message)
            return None
        if not self.push(edit):
            return None
        self.selectRequested.emit([edit.node.id])
        return edit.node.id

    # --- one-gesture inserts (each one undo step) ------------------------------------------------
    def _push_insertion(self, build) -> str | None:
        try:
            result: insertion.Insertion = build()
        except GraphError as exc:
            self.message.emit(exc.message)
            return None
        if not self.push(result.edit):
            return None
        self.selectRequested.emit([result.node_id])
        return result.node_id

    def insert_after(self, type_name: str, sources: Iterable[tuple[str, int]]) -> str | None:
        """Add ``type_name`` fed by these (node, output port)s, wired, in one undo step."""
        sources = [(n, int(p)) for n, p in sources if n in self.shown]
        return self._push_insertion(lambda: insertion.insert_after(
            self.shown, type_name, sources, direction=self.direction, targets=self.targets))

    def insert_before(self, type_name: str, node_id: str, port: int | None = None
                      ) -> str | None:
        """Add ``type_name`` feeding ``node_id`` (its first free input, or ``port``)."""
        return self._push_insertion(lambda: insertion.insert_before(
            self.shown, type_name, node_id, port, direction=self.direction, targets=self.targets))

    def insert_on_edge(self, type_name: str, edge: Edge) -> str | None:
        """Put ``type_name`` into a connection (src → new → dst)."""
        return self._push_insertion(lambda: insertion.insert_on_edge(
            self.shown, type_name, Edge(*edge), direction=self.direction, targets=self.targets))

    def place_layer(self, type_name: str, selected: Iterable[str],
                    pos: tuple[float, float]) -> str | None:
        """The palette's double-click / Enter: put ``type_name`` where the selection says.

        Nothing selected: at ``pos``. A merge layer after several selected layers takes them
        all, in the order they are drawn. An Input goes before the selected layer, into its
        first free input. Otherwise the new layer comes after the selected one (an Output
        selected: just before it). Wired in the same undo step.
        """
        from graph.catalogue import get_spec

        try:
            spec = get_spec(type_name)
        except GraphError as exc:
            self.message.emit(exc.message)
            return None
        chosen = insertion.flow_order(self.shown, [n for n in selected if n in self.shown],
                                      self.direction)
        if not chosen:
            return self.add_layer(type_name, pos)
        feeders = [n for n in chosen if self.shown.spec(n).outputs > 0]
        if insertion.is_source(spec):
            target = next((n for n in chosen if self.shown.free_input_port(n) is not None), None)
            if target is None:
                self.message.emit(f"Every input of '{self.shown.label(chosen[0])}' is connected; "
                                  f"the {spec.type} was added unconnected.")
                return self.add_layer(type_name, insertion.free_spot(
                    self.shown, pos, self.direction))
            return self.insert_before(type_name, target)
        if spec.variadic and len(feeders) >= 2:
            return self.insert_after(type_name, [(n, 0) for n in feeders])
        first = chosen[0]
        if self.shown.spec(first).outputs > 0:
            return self.insert_after(type_name, [(first, 0)])
        return self.insert_before(type_name, first, 0 if self.shown.in_edges(first) else None)

    def replace_type(self, node_id: str, type_name: str) -> bool:
        """Give a layer another type, keeping its place, name and the connections that fit."""
        if node_id not in self.shown:
            return False
        try:
            edit = insertion.replace_type(self.shown, node_id, type_name)
        except GraphError as exc:
            self.message.emit(exc.message)
            return False
        return self.push(edit)

    def apply_fix(self, node_id: str, kind: str, args: Mapping[str, Any], label: str = "") -> bool:
        """Apply a quick fix the analysis offered (`graph.fixes`): one undo step of its own,
        refused with the reason when the design changed so that it no longer fits."""
        from graph.fixes import fix_edit

        try:
            edit = fix_edit(self.shown, node_id, kind, args, label)
        except GraphError as exc:
            self.message.emit(exc.message)
            return False
        return self.push(edit, label or None, mergeable=False)

    def disconnect(self, edges: Iterable[Edge], text: str = "") -> bool:
        """Remove these connections in one undo step."""
        edges = [Edge(*e) for e in edges]
        if not edges:
            return False
        label = text or (f"disconnect {len(edges)} connections" if len(edges) > 1 else "")
        edit = insertion.disconnect_edges(self.shown, edges, label)
        if len(edit.edits) == 1 and not text:
            return self.push(edit.edits[0])
        return self.push(edit)

    def connect_ports(self, edge: Edge) -> bool:
        """Connect an output port to an input port (refused with the reason)."""
        from graph.edits import Connect

        return self.push(Connect(Edge(*edge)))

    def delete(self, node_ids: Iterable[str] = (), edges: Iterable[Edge] = ()) -> bool:
        node_ids, edges = list(node_ids), list(edges)
        if not node_ids and not edges:
            return False
        return self.push(delete(self.shown, node_ids, edges))

    def move(self, positions: Mapping[str, tuple[float, float]]) -> bool:
        """Record a finished drag: all moved nodes as one undo step."""
        positions = {n: (float(p[0]), float(p[1])) for n, p in positions.items() if n in self.shown}
        return bool(positions) and self.push(MoveNodes(positions))

    def set_params(self, node_ids: Iterable[str], changes: Mapping[str, Any]) -> bool:
        """Set parameters on one or several nodes (merges with the previous identical edit)."""
        node_ids = [n for n in node_ids if n in self.shown]
        if not node_ids or not changes:
            return False
        if len(node_ids) == 1:
            from graph.edits import SetParams

            return self.push(SetParams(node_ids[0], dict(changes)))
        return self.push(set_params(self.shown, node_ids, dict(changes)))

    def rename(self, node_id: str, name: str) -> bool:
        return self.push(Rename(node_id, name))

    def set_trainable(self, node_id: str, trainable: bool) -> bool:
        return self.push(SetTrainable(node_id, bool(trainable)))

    def auto_layout(self) -> bool:
        """Arrange the design by layers along `direction` (one undo step)."""
        from graph.layout import apply_layout

        if len(self.shown) == 0:
            return False
        return self.push(apply_layout(self.shown, self.direction), "auto-layout")

    def rename_model(self, name: str) -> bool:
        """Name the design (its exported class name): one undo step; refused when empty."""
        from graph.edits import SetModelName

        if not name.strip():
            self.message.emit("The design needs a name: it becomes the exported class name.")
            return False
        return self._push_to(self.doc, SetModelName(name.strip()))

    # --- clipboard ---------------------------------------------------------------------------
    def copy(self, node_ids: Iterable[str]) -> QMimeData | None:
        """Copy the nodes (and the edges among them); returns the mime data put on the clipboard."""
        from graph.clipboard import copy_fragment

        node_ids = [n for n in node_ids if n in self.shown]
        if not node_ids:
            return None
        fragment = copy_fragment(self.shown, node_ids)
        self._fragment = fragment
        self._paste_count = 0
        mime = QMimeData()
        mime.setData(FRAGMENT_MIME, json.dumps(fragment).encode("utf-8"))
        mime.setText(json.dumps(fragment, indent=1))
        _set_clipboard(mime)
        return mime

    def cut(self, node_ids: Iterable[str]) -> bool:
        node_ids = list(node_ids)
        if self.copy(node_ids) is None:
            return False
        return self.push(delete(self.shown, node_ids), f"cut {len(node_ids)} layer(s)")

    def paste(self, fragment: dict[str, Any] | None = None) -> list[str]:
        """Paste a fragment (default: the clipboard); returns the new node ids, selected."""
        from graph.clipboard import paste_edit

        fragment = fragment or _clipboard_fragment() or self._fragment
        if not fragment:
            self.message.emit("Nothing to paste: copy some layers first.")
            return []
        self._paste_count += 1
        offset = (PASTE_OFFSET[0] * self._paste_count, PASTE_OFFSET[1] * self._paste_count)
        try:
            edit = paste_edit(self.shown, fragment, offset=offset)
        except (GraphError, KeyError, TypeError, ValueError) as exc:
            self.message.emit(f"Cannot paste: {getattr(exc, 'message', exc)}")
            return []
        new_ids = [e.node.id for e in edit.edits if isinstance(e, AddNode)]
        if not self.push(edit, f"paste {len(new_ids)} layer(s)"):
            return []
        self.selectRequested.emit(new_ids)
        return new_ids

    def duplicate(self, node_ids: Iterable[str]) -> list[str]:
        """Copy and paste in one go (the clipboard keeps what it had)."""
        from graph.clipboard import copy_fragment, paste_edit

        node_ids = [n for n in node_ids if n in self.shown]
        if not node_ids:
            return []
        try:
            edit = paste_edit(self.shown, copy_fragment(self.shown, node_ids), offset=PASTE_OFFSET)
        except GraphError as exc:
            self.message.emit(exc.message)
            return []
        new_ids = [e.node.id for e in edit.edits if isinstance(e, AddNode)]
        if not self.push(edit, f"duplicate {len(new_ids)} layer(s)"):
            return []
        self.selectRequested.emit(new_ids)
        return new_ids


def _set_clipboard(mime: QMimeData) -> None:
    from PySide6.QtGui import QGuiApplication

    clipboard = QGuiApplication.clipboard()
    if clipboard is not None:
        clipboard.setMimeData(mime)


def release_clipboard() -> None:
    """Drop clipboard data this process created, before the interpreter shuts down.

    Qt's clipboard owns the QMimeData we hand it; if it is still there when Qt's global objects
    are destroyed at exit, the Python wrapper is deleted after Python has finalised and the process
    crashes (SIGSEGV in Shiboken::Object::destroy). Clearing it at quit avoids that.
    """
    from PySide6.QtGui import QGuiApplication

    if QGuiApplication.instance() is None:
        return
    clipboard = QGuiApplication.clipboard()
    mime = clipboard.mimeData() if clipboard is not None else None
    if mime is not None and mime.hasFormat(FRAGMENT_MIME):
        clipboard.clear()


def _clipboard_fragment() -> dict[str, Any] | None:
    """Our fragment from the system clipboard, or None (other content or unreadable data)."""
    from PySide6.QtGui import QGuiApplication

    clipboard = QGuiApplication.clipboard()
    mime = clipboard.mimeData() if clipboard is not None else None
    if mime is None or not mime.hasFormat(FRAGMENT_MIME):
        return None
    try:
        value = json.loads(bytes(mime.data(FRAGMENT_MIME)).decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return value if isinstance(value, dict) else None
