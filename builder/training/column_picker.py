"""The column picker: the data set's columns (name, type, first values) with one check column
per Input of the design.

A click on a check cell adds or removes that column for that Input; a drag down an Input's
check column makes exactly the rows it covers that Input's columns (with Ctrl held: adds them).
Either gesture emits `columnsChosen` once, when the mouse is released, and the settings form
writes it as one undoable edit. Space toggles the current cell from the keyboard.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QKeyEvent, QMouseEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

#: The fixed columns before the Inputs' check columns.
FIXED = ("Column", "Type", "Values")
#: At most this many rows are shown without the table's own scroll bar.
VISIBLE_ROWS = 12


class ColumnPicker(QTableWidget):
    """Which of the data set's columns feed which Input."""

    #: (input name, the chosen column indices in order)
    columnsChosen = Signal(str, list)

    def __init__(self, parent=None) -> None:
        super().__init__(0, len(FIXED), parent)
        self.setObjectName("columnPicker")
        self.inputs: list[str] = []
        self.chosen: dict[str, list[int]] = {}
        self._press: QModelIndex | None = None
        self._last_row = -1
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.verticalHeader().hide()
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setMouseTracking(False)
        header = self.horizontalHeader()
        header.setMinimumSectionSize(28)
        header.setHighlightSections(False)

    # --- content -------------------------------------------------------------------------------
    def set_columns(self, columns: Sequence, inputs: Sequence[str]) -> None:
        """Rows for ``columns`` (`backend.data.columns.ColumnInfo`), a check column per Input."""
        self.inputs = list(inputs)
        self.setColumnCount(len(FIXED) + len(self.inputs))
        self.setHorizontalHeaderLabels([*FIXED, *(f"→ {n}" for n in self.inputs)])
        for i, name in enumerate(self.inputs):
            head = self.horizontalHeaderItem(len(FIXED) + i)
            head.setToolTip(f"Columns feeding Input '{name}': click a cell to add or remove "
                            "one, drag down the column to choose a range")
        self.setRowCount(len(columns))
        for r, col in enumerate(columns):
            values = ", ".join(col.preview)
            for c, text in enumerate((f"{col.index}  {col.name}", col.kind, values)):
                item = QTableWidgetItem(text)
                item.setFlags(Qt.ItemFlag.ItemIsEnabled)
                item.setToolTip(f"column {col.index} '{col.name}': {col.kind}; first values "
                                f"{values}")
                self.setItem(r, c, item)
            for i in range(len(self.inputs)):
                cell = QTableWidgetItem()
                cell.setFlags(Qt.ItemFlag.ItemIsEnabled)
                cell.setCheckState(Qt.CheckState.Unchecked)
                self.setItem(r, len(FIXED) + i, cell)
        # the Inputs' check columns and the names always in view; the values take what is
        # left (elided, whole in the tooltip), so nothing scrolls sideways
        header = self.horizontalHeader()
        for c in range(self.columnCount()):
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        rows = min(len(columns), VISIBLE_ROWS)
        height = self.horizontalHeader().sizeHint().height() + 2 * self.frameWidth() + sum(
            self.rowHeight(r) for r in range(rows))
        self.setFixedHeight(max(height, 40))
        self.set_chosen({n: self.chosen.get(n, []) for n in self.inputs})

    def set_chosen(self, chosen: dict[str, list[int]]) -> None:
        """Show which columns feed which Input (no signal)."""
        self.chosen = {n: list(chosen.get(n, [])) for n in self.inputs}
        for i, name in enumerate(self.inputs):
            wanted = set(self.chosen[name])
            for r in range(self.rowCount()):
                item = self.item(r, len(FIXED) + i)
                if item is not None:
                    item.setCheckState(Qt.CheckState.Checked if r in wanted else
                                       Qt.CheckState.Unchecked)

    def check_cell(self, row: int, name: str) -> QModelIndex:
        """The model index of ``name``'s check cell in ``row`` (tests, gestures)."""
        return self.model().index(row, len(FIXED) + self.inputs.index(name))

    # --- gestures ------------------------------------------------------------------------------
    def _input_at(self, index: QModelIndex) -> str | None:
        c = index.column() - len(FIXED)
        return self.inputs[c] if index.isValid() and 0 <= c < len(self.inputs) else None

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        index = self.indexAt(event.position().toPoint())
        if event.button() == Qt.MouseButton.LeftButton and self._input_at(index):
            self._press = index
            self._last_row = index.row()
            self.setCurrentIndex(index)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if self._press is None:
            super().mouseMoveEvent(event)
            return
        row = self.rowAt(int(event.position().y()))
        if row >= 0 and row != self._last_row:
            self._last_row = row
            self._preview(self._press.row(), row, self._press.column(),
                          bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier))
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        press, self._press = self._press, None
        if press is None:
            super().mouseReleaseEvent(event)
            return
        name = self._input_at(press)
        row = self.rowAt(int(event.position().y()))
        row = self._last_row if row < 0 else row
        current = list(self.chosen.get(name, []))
        if row == press.row():  # a click: that column in or out
            chosen = [c for c in current if c != row] if row in current else \
                sorted([*current, row])
        else:
            lo, hi = sorted((press.row(), row))
            span = list(range(lo, hi + 1))
            add = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
            chosen = sorted(set(current) | set(span)) if add else span
        event.accept()
        self._emit(name, chosen)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        index = self.currentIndex()
        name = self._input_at(index)
        if event.key() == Qt.Key.Key_Space and name:
            current = list(self.chosen.get(name, []))
            row = index.row()
            self._emit(name, [c for c in current if c != row] if row in current else
                       sorted([*current, row]))
            event.accept()
            return
        super().keyPressEvent(event)

    def _preview(self, a: int, b: int, column: int, add: bool) -> None:
        """While dragging: the rows the drag covers, checked."""
        name = self.inputs[column - len(FIXED)]
        lo, hi = sorted((a, b))
        current = set(self.chosen.get(name, [])) if add else set()
        for r in range(self.rowCount()):
            on = lo <= r <= hi or r in current
            self.item(r, column).setCheckState(Qt.CheckState.Checked if on else
                                               Qt.CheckState.Unchecked)

    def _emit(self, name: str, chosen: list[int]) -> None:
        self.set_chosen({**self.chosen, name: chosen})  # shown at once; the edit follows
        self.columnsChosen.emit(name, chosen)
