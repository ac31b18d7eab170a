"""A pure-Python undo history over a `Document` (the app wraps edits in a QUndoStack instead)."""

from __future__ import annotations

from graph.document import Document
from graph.edits import Edit


class History:
    """Apply edits with `push`; `undo`/`redo` apply the recorded inverses."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self._undo: list[tuple[Edit, Edit]] = []  # (edit, inverse)
        self._redo: list[tuple[Edit, Edit]] = []
        self._clean: int | None = 0

    def push(self, edit: Edit) -> bool:
        """Apply ``edit``; record it unless it changed nothing. Returns whether it was recorded."""
        inverse = self.doc.apply(edit)
        if inverse is None:
            return False
        if self._clean is not None and self._clean > len(self._undo):
            self._clean = None  # the clean state was in the discarded redo branch
        self._undo.append((edit, inverse))
        self._redo.clear()
        return True

    def undo(self) -> None:
        edit, inverse = self._undo.pop()
        redo = self.doc.apply(inverse)
        self._redo.append((redo if redo is not None else edit, inverse))

    def redo(self) -> None:
        redo, _ = self._redo.pop()
        inverse = self.doc.apply(redo)
        self._undo.append((redo, inverse))

    @property
    def index(self) -> int:
        return len(self._undo)

    def can_undo(self) -> bool:
        return bool(self._undo)

    def can_redo(self) -> bool:
        return bool(self._redo)

    def set_clean(self) -> None:
        self._clean = len(self._undo)

    def is_clean(self) -> bool:
        return self._clean == len(self._undo)
