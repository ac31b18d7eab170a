"""Undo commands: each wraps one graph edit and touches only the document, never items."""

from __future__ import annotations

from PySide6.QtGui import QUndoCommand

from graph.document import Document
from graph.edits import Composite, Edit, SetParams

#: QUndoCommand ids: commands with the same id may merge (continuous parameter edits).
SET_PARAMS_ID = 1001


class EditCommand(QUndoCommand):
    """Apply a graph edit on redo and its inverse on undo.

    The edit is applied once before the command is pushed (by `push_edit`), so a refused edit
    never reaches the stack; QUndoStack's first ``redo()`` call is then skipped.
    """

    def __init__(self, doc: Document, edit: Edit, inverse: Edit, text: str) -> None:
        super().__init__(text)
        self.doc = doc
        self.edit = edit
        self.inverse = inverse
        self._applied = True

    def redo(self) -> None:
        if self._applied:
            return
        inverse = self.doc.apply(self.edit)
        if inverse is not None:
            self.inverse = inverse
        self._applied = True

    def undo(self) -> None:
        redo = self.doc.apply(self.inverse)
        if redo is not None:
            self.edit = redo
        self._applied = False


class SetParamsCommand(EditCommand):
    """A parameter change; consecutive changes of the same keys on the same nodes merge."""

    def __init__(self, doc: Document, edit: Edit, inverse: Edit, text: str,
                 target: tuple[tuple[str, ...], tuple[str, ...]]) -> None:
        super().__init__(doc, edit, inverse, text)
        self.target = target

    def id(self) -> int:
        return SET_PARAMS_ID

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 - Qt override
        if not isinstance(other, SetParamsCommand) or other.target != self.target:
            return False
        # Keep our inverse (the state before the first change); take the latest edit.
        self.edit = _merge_forward(self.edit, other.edit)
        return True


def _merge_forward(first: Edit, second: Edit) -> Edit:
    """The edit equivalent to applying ``first`` then ``second`` (same nodes and keys)."""
    if isinstance(second, (SetParams, Composite)):
        return second
    return Composite((first, second))


def push_edit(stack, doc: Document, edit: Edit, text: str | None = None, *,
              mergeable: bool = True) -> bool:
    """Apply ``edit`` and record it on ``stack`` as one undo step (``mergeable=False``: never
    merged into the previous parameter change, e.g. a quick fix).

    Raises the graph's typed error (nothing changed) when the edit is refused; returns False
    for an edit that would change nothing (no undo step), True otherwise.
    """
    label = text or edit.label(doc)
    inverse = doc.apply(edit)
    if inverse is None:
        return False
    command: EditCommand
    target = _params_target(edit) if mergeable else None
    if target is not None:
        command = SetParamsCommand(doc, edit, inverse, label, target)
    else:
        command = EditCommand(doc, edit, inverse, label)
    stack.push(command)
    return True


def _params_target(edit: Edit) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """(node ids, keys) when ``edit`` only sets parameters, else None."""
    if isinstance(edit, SetParams):
        return (edit.node_id,), tuple(sorted(edit.changes))
    if isinstance(edit, Composite) and edit.edits and all(
        isinstance(e, SetParams) for e in edit.edits
    ):
        ids = tuple(e.node_id for e in edit.edits)  # type: ignore[attr-defined]
        keys = tuple(sorted({k for e in edit.edits for k in e.changes}))  # type: ignore[attr-defined]
        return ids, keys
    return None
