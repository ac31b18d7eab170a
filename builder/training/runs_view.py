"""The Runs tab: every run of the project in a table, and what can be done with them.

The table is a projection of the project's `ProjectRuns` (a Qt model over its list of runs,
rebuilt when the list changes): when the run started, the design version it trained, its key
settings, best and final metrics per output, duration and status. Name and note are edited in
place (written to the run's folder at once). The buttons and the context menu ask the panel
(through signals) to overlay curves, open an evaluation, restore, resume, export or delete.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelectionModel,
    QModelIndex,
    Qt,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from backend.runs.files import RunFormatError
from backend.runs.record import (
    RunInfo,
    best_text,
    design_versions,
    duration_text,
    final_text,
    status_text,
)
from builder.training.guard import gui_only

COLUMNS = ("Run", "Status", "Started", "Design", "Settings", "Best", "Final", "Duration", "Note")
NAME, NOTE = 0, COLUMNS.index("Note")
#: The column's widest text before it is elided (the tooltip has it all).
MAX_CELL = 160


class RunsModel(QAbstractTableModel):
    """The project's runs, one row each (oldest first)."""

    #: A text for the status bar (a rename that could not be written).
    message = Signal(str)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.project: Any = None  # backend.runs.project.ProjectRuns
        self.rows: list[RunInfo] = []
        self.versions: dict[str, int] = {}
        self.current_design = ""
        #: run id → a live status text (the run in training), or None.
        self.live: Callable[[str], str | None] = lambda run_id: None

    def set_project(self, project: Any) -> None:
        self.project = project
        self.reload()

    def reload(self) -> None:
        self.beginResetModel()
        self.rows = self.project.runs() if self.project is not None else []
        self.versions = design_versions(self.rows)
        self.endResetModel()

    def refresh_row(self, run_id: str) -> None:
        for r, info in enumerate(self.rows):
            if info.id == run_id:
                self.dataChanged.emit(self.index(r, 0), self.index(r, len(COLUMNS) - 1))

    def refresh_all(self) -> None:
        """Every cell may show something else (the current weights moved to another run)."""
        if self.rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.rows) - 1,
                                                               len(COLUMNS) - 1))

    def set_current_design(self, key: str) -> None:
        self.current_design = key
        if self.rows:
            column = COLUMNS.index("Design")
            self.dataChanged.emit(self.index(0, column), self.index(len(self.rows) - 1, column))

    def run_at(self, row: int) -> RunInfo | None:
        return self.rows[row] if 0 <= row < len(self.rows) else None

    def row_of(self, run_id: str) -> int:
        return next((r for r, info in enumerate(self.rows) if info.id == run_id), -1)

    # --- Qt model ------------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def flags(self, index: QModelIndex) -> Qt.ItemFlag:
        flags = super().flags(index)
        if index.column() in (NAME, NOTE):
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        info = self.run_at(index.row())
        if info is None:
            return None
        column = index.column()
        if role == Qt.ItemDataRole.EditRole:
            return info.title if column == NAME else info.note if column == NOTE else None
        if role == Qt.ItemDataRole.DisplayRole:
            text = self._text(info, column)
            return text if len(text) <= MAX_CELL else text[:MAX_CELL - 1] + "…"
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(info, column)
        if role == Qt.ItemDataRole.UserRole:
            return info.id
        return None

    def _text(self, info: RunInfo, column: int) -> str:
        name = COLUMNS[column]
        if name == "Run":
            mark = " ●" if self._has_current_weights(info) else ""
            saved = "" if self.project is None or self.project.is_saved(info.id) else " *"
            return f"{info.title}{saved}{mark}"
        if name == "Started":
            return info.when()
        if name == "Design":
            version = f"v{self.versions.get(info.design_key, 0)}"
            return version + (" · current" if info.design_key == self.current_design else "")
        if name == "Settings":
            return info.key_settings()
        if name == "Best":
            return best_text(info)
        if name == "Final":
            return final_text(info)
        if name == "Duration":
            return duration_text(info.seconds)
        if name == "Status":
            return self.live(info.id) or status_text(info)
        return info.note.splitlines()[0] if info.note else ""

    def _tooltip(self, info: RunInfo, column: int) -> str:
        name = COLUMNS[column]
        if name == "Run":
            lines = [f"{info.title} ({info.id})", f"model {info.model}"]
            if self.project is not None and not self.project.is_saved(info.id):
                lines.append("* not saved yet: Save keeps it with the project")
            if self._has_current_weights(info):
                lines.append("● the design's current weights come from this run")
            return "\n".join(lines)
        if name == "Design":
            return (f"Design version {self.versions.get(info.design_key, 0)} (key "
                    f"{info.design_key})" + ("; the design on the canvas" if
                                             info.design_key == self.current_design else ""))
        if name == "Status" and info.message:
            return info.message
        if name == "Note":
            return info.note
        return self._text(info, column)

    def _has_current_weights(self, info: RunInfo) -> bool:
        weights = getattr(self.project, "weights", None)
        return weights is not None and (weights.source or {}).get("run") == info.id

    def setData(self, index: QModelIndex, value: Any,  # noqa: N802
                role: int = Qt.ItemDataRole.EditRole) -> bool:
        info = self.run_at(index.row())
        if info is None or role != Qt.ItemDataRole.EditRole or self.project is None:
            return False
        text = str(value)
        try:
            if index.column() == NAME:
                if not text.strip() or text == info.title:
                    return False
                self.project.rename(info.id, text)
            elif index.column() == NOTE:
                if text == info.note:
                    return False
                self.project.annotate(info.id, text)
            else:
                return False
        except (OSError, RunFormatError) as exc:
            self.message.emit(f"The run was not changed: {exc}")
            return False
        return True


class RunsView(QWidget):
    """The runs table with its actions; the panel carries them out."""

    compareRequested = Signal(list)  # run ids: overlay their curves
    evaluationRequested = Signal(str)
    restoreRequested = Signal(str)
    resumeRequested = Signal(str)
    deleteRequested = Signal(list)
    exportCsvRequested = Signal(str)
    exportWeightsRequested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = RunsModel(self)
        self._sizing = QTimer(self)
        self._sizing.setSingleShot(True)
        self._sizing.setInterval(0)
        self._sizing.timeout.connect(self._size_columns)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                   | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for column, width in zip(range(len(COLUMNS)), (150, 170, 120, 90, 260, 220, 160, 70)):
            self.table.setColumnWidth(column, width)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._menu)
        self.table.doubleClicked.connect(self._double_clicked)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.model.modelReset.connect(self._selection_changed)
        self.placeholder = QLabel("No runs yet: press Run to train the design. Every run is "
                                  "kept here with its curves, evaluation and weights.")
        self.placeholder.setObjectName("muted")
        self.problems = QLabel("")
        self.problems.setObjectName("muted")
        self.problems.setWordWrap(True)
        self.problems.hide()

        def button(text: str, tip: str, slot: Callable[[], None]) -> QPushButton:
            b = QPushButton(text)
            b.setToolTip(tip)
            b.clicked.connect(slot)
            return b

        self.compare_button = button("Compare curves", "Overlay the selected runs' epoch "
                                     "curves on the Curves tab.", self.compare)
        self.evaluation_button = button("Evaluation", "Show the run's evaluation on its held-"
                                        "out split.", lambda: self._one(self.evaluationRequested))
        self.restore_button = button("Restore", "Bring back the design and the weights of this "
                                     "run (one step you can undo).",
                                     lambda: self._one(self.restoreRequested))
        self.resume_button = button("Resume", "Continue an interrupted or stopped run from its "
                                    "last checkpoint.", lambda: self._one(self.resumeRequested))
        self.csv_button = button("Export CSV…", "Write the run's history (per epoch and per "
                                 "batch) as CSV.", lambda: self._one(self.exportCsvRequested))
        self.weights_button = button("Export weights…", "Write the run's weights as "
                                     "safetensors.", lambda: self._one(self.exportWeightsRequested))
        self.delete_button = button("Delete…", "Delete the selected runs and their files.",
                                    self.delete)
        buttons = QHBoxLayout()
        for b in (self.compare_button, self.evaluation_button, self.restore_button,
                  self.resume_button, self.csv_button, self.weights_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.delete_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(buttons)
        layout.addWidget(self.placeholder)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.problems)
        self._selection_changed()

    # --- state -------------------------------------------------------------------------------
    def set_project(self, project: Any) -> None:
        self.model.set_project(project)
        self.reload()

    @gui_only
    def _size_columns(self) -> None:
        """Columns fit their contents (within 60–280 px); the last one stretches."""
        if not self.model.rows:
            return
        self.table.resizeColumnsToContents()
        for column in range(len(COLUMNS) - 1):
            width = self.table.columnWidth(column)
            self.table.setColumnWidth(column, min(max(width + 8, 60), 280))

    @gui_only
    def reload(self) -> None:
        """The list of runs changed: rebuild the table, keep the selection (the columns are
        sized in the next event-loop turn, once for all the reloads of this one)."""
        selected = self.selected_ids()
        self.model.reload()
        self.select(selected)
        if self.model.rows and not self._sizing.isActive():
            self._sizing.start()  # measuring every cell: once, after the turn's reloads
        empty = not self.model.rows
        self.placeholder.setVisible(empty)
        problems = getattr(self.model.project, "problems", [])
        self.problems.setVisible(bool(problems))
        if problems:
            self.problems.setText(f"{len(problems)} run folder(s) could not be read: "
                                  + " ".join(problems[:3]))

    def selected_ids(self) -> list[str]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.model.rows[r].id for r in rows if r < len(self.model.rows)]

    def select(self, run_ids: list[str]) -> None:
        selection = self.table.selectionModel()
        selection.clearSelection()
        for run_id in run_ids:
            row = self.model.row_of(run_id)
            if row >= 0:
                selection.select(self.model.index(row, 0),
                                 QItemSelectionModel.SelectionFlag.Select
                                 | QItemSelectionModel.SelectionFlag.Rows)

    @Slot()
    def _selection_changed(self, *_args: Any) -> None:
        ids = self.selected_ids()
        infos = [self.model.run_at(self.model.row_of(i)) for i in ids]
        one = infos[0] if len(infos) == 1 else None
        live = any(self.model.live(i) for i in ids)
        self.compare_button.setEnabled(bool(ids))
        self.evaluation_button.setEnabled(one is not None and one.evaluation is not None)
        self.restore_button.setEnabled(one is not None and not live)
        self.resume_button.setEnabled(one is not None and one.resumable and not live)
        self.csv_button.setEnabled(one is not None)
        self.weights_button.setEnabled(one is not None and not live)
        self.delete_button.setEnabled(bool(ids) and not live)

    # --- actions -----------------------------------------------------------------------------
    def _one(self, signal: Any) -> None:
        ids = self.selected_ids()
        if len(ids) == 1:
            signal.emit(ids[0])

    @Slot()
    def compare(self) -> None:
        self.compareRequested.emit(self.selected_ids())

    @Slot()
    def delete(self) -> None:
        ids = self.selected_ids()
        if ids:
            self.deleteRequested.emit(ids)

    @Slot(QModelIndex)
    def _double_clicked(self, index: QModelIndex) -> None:
        if index.column() not in (NAME, NOTE):
            self.compareRequested.emit([self.model.rows[index.row()].id])

    @Slot()
    def _menu(self, pos: Any) -> None:
        index = self.table.indexAt(pos)
        if not index.isValid():
            return
        if index.row() not in {i.row() for i in self.table.selectionModel().selectedRows()}:
            self.select([self.model.rows[index.row()].id])
        menu = QMenu(self)
        for button in (self.compare_button, self.evaluation_button, self.restore_button,
                       self.resume_button, self.csv_button, self.weights_button):
            action = QAction(button.text(), menu)
            action.setEnabled(button.isEnabled())
            action.triggered.connect(button.click)
            menu.addAction(action)
        menu.addSeparator()
        row = index.row()
        for text, column in (("Rename", NAME), ("Edit note", NOTE)):
            action = QAction(text, menu)
            action.triggered.connect(lambda _=False, c=column, r=row:
                                     self.table.edit(self.model.index(r, c)))
            menu.addAction(action)
        delete = QAction(self.delete_button.text(), menu)
        delete.setEnabled(self.delete_button.isEnabled())
        delete.triggered.connect(self.delete)
        menu.addAction(delete)
        menu.popup(self.table.viewport().mapToGlobal(pos))
