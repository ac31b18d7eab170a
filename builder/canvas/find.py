"""Find a layer by name (Ctrl+F): a search field whose Enter selects and shows the next match."""

from __future__ import annotations

from PySide6.QtCore import QStringListModel, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QCompleter, QLineEdit, QWidget

from graph.document import Document


def find_layers(doc: Document, text: str) -> list[str]:
    """Node ids whose name contains ``text`` (case-insensitive), exact and prefix matches
    first, then those whose type does; in canonical order within each group."""
    needle = text.strip().lower()
    if not needle:
        return []
    ranked = []
    for node_id in doc.node_ids():
        name = doc.attr(node_id, "name").lower()
        kind = doc.attr(node_id, "type").lower()
        if name == needle:
            rank = 0
        elif name.startswith(needle):
            rank = 1
        elif needle in name:
            rank = 2
        elif needle in kind:
            rank = 3
        else:
            continue
        ranked.append((rank, node_id))
    return [n for _, n in sorted(ranked, key=lambda r: r[0])]


class LayerFinder(QLineEdit):
    """Type part of a layer's name (or its type); Enter shows the next match, Esc goes back to
    the canvas. Emits `found(node_id)` for the match to show."""

    found = Signal(str)
    done = Signal()

    def __init__(self, doc_getter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("layerFinder")
        self.setPlaceholderText("Find layer…  (Ctrl+F)")
        self.setClearButtonEnabled(True)
        self._doc = doc_getter
        self._names = QStringListModel(self)
        completer = QCompleter(self._names, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.activated.connect(self._chosen)
        self.setCompleter(completer)
        self._matches: list[str] = []
        self._at = -1
        self.textEdited.connect(self._edited)
        self.returnPressed.connect(self.next_match)

    def refresh_names(self) -> None:
        doc = self._doc()
        self._names.setStringList(sorted(doc.attr(n, "name") for n in doc.node_ids()))

    def focusInEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.refresh_names()
        super().focusInEvent(event)

    def _edited(self, text: str) -> None:
        self._matches = find_layers(self._doc(), text)
        self._at = -1

    def _chosen(self, text: str) -> None:
        self.setText(text)
        self._edited(text)
        self.next_match()

    def next_match(self) -> str | None:
        """Show the next layer that matches (wrapping round); None when nothing matches."""
        doc = self._doc()
        self._matches = [n for n in self._matches if n in doc] or find_layers(doc, self.text())
        if not self._matches:
            self.setStyleSheet("QLineEdit#layerFinder { color: #d64545; }")
            return None
        self.setStyleSheet("")
        self._at = (self._at + 1) % len(self._matches)
        node_id = self._matches[self._at]
        self.found.emit(node_id)
        return node_id

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        if event.key() == Qt.Key.Key_Escape:
            self.done.emit()
            return
        super().keyPressEvent(event)
