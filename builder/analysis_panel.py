"""The bottom panels fed by the analysis: model summary, generated code, problems, log."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QFont, QFontDatabase, QGuiApplication, QTextCursor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from builder.analysis import QuickFix, Report
from builder.highlighter import PythonHighlighter
from graph.document import Document

IDS_ROLE = Qt.ItemDataRole.UserRole + 2
FIX_ROLE = Qt.ItemDataRole.UserRole + 3


def _human(n: int | None) -> str:
    if n is None:
        return "–"
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= size:
            return f"{n / size:.2f} {unit}"
    return str(n)


class SummaryTable(QWidget):
    """Layer, type, output shape, parameters, FLOPs per layer; totals below."""

    HEADERS = ("Layer", "Type", "Output shape", "Parameters", "FLOPs")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = QTableWidget(0, len(self.HEADERS), self)
        self.table.setHorizontalHeaderLabels(list(self.HEADERS))
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.totals = QLabel(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)
        layout.addWidget(self.totals)

    def show_report(self, doc: Document, report: Report) -> None:
        order = _safe_order(doc)
        self.table.setRowCount(len(order))
        for row, node_id in enumerate(order):
            info = report.nodes.get(node_id)
            values = (doc.attr(node_id, "name"), doc.attr(node_id, "type"),
                      ", ".join(info.output_shapes) if info and info.output_shapes else
                      ("error" if info and info.error else "–"),
                      f"{info.params:,}" if info and info.params is not None else "–",
                      _human(info.flops) if info else "–")
            for col, value in enumerate(values):
                item = QTableWidgetItem(value)
                if col >= 3:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                if info and info.error:
                    item.setToolTip(info.error)
                self.table.setItem(row, col, item)
        if len(order) <= 300:
            for col in (0, 1, 3, 4):
                self.table.resizeColumnToContents(col)
        total = report.total_params
        trainable = sum((i.trainable_params or 0) for i in report.nodes.values())
        self.totals.setText(
            f"  {len(order)} layers · {total:,} parameters ({trainable:,} trainable)"
            if total is not None else f"  {len(order)} layers · parameters after shapes resolve")


def _safe_order(doc: Document) -> list[str]:
    try:
        return doc.topological_order()
    except Exception:  # noqa: BLE001 - a cycle: fall back to insertion order
        return doc.node_ids()


class CodeView(QWidget):
    """The generated PyTorch module: read-only, highlighted, with a copy button."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.editor = QPlainTextEdit(self)
        self.editor.setObjectName("codeView")
        self.editor.setReadOnly(True)
        self.editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.editor.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.highlighter = PythonHighlighter(self.editor.document())
        self.status = QLabel(self)
        self.status.setObjectName("muted")
        self.copy_button = QPushButton("Copy code", self)
        self.copy_button.clicked.connect(self.copy_code)
        bar = QHBoxLayout()
        bar.addWidget(self.status, 1)
        bar.addWidget(self.copy_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.editor)
        self._source = ""

    def show_report(self, report: Report) -> None:
        if report.code:
            if report.code != self._source:
                bar = self.editor.verticalScrollBar().value()
                self._source = report.code
                self.editor.setPlainText(report.code)
                self.editor.verticalScrollBar().setValue(bar)
            self.status.setText("Generated PyTorch — this is the code that trains and exports.")
        else:
            self.status.setText(report.code_error or "No code yet.")
        self.copy_button.setEnabled(bool(report.code))

    def source(self) -> str:
        return self.editor.toPlainText()

    def copy_code(self) -> None:
        clipboard = QGuiApplication.clipboard()
        if clipboard is not None and self._source:
            clipboard.setText(self._source)

    def show_line(self, line: int) -> None:
        block = self.editor.document().findBlockByLineNumber(max(0, line - 1))
        cursor = QTextCursor(block)
        self.editor.setTextCursor(cursor)
        self.editor.centerCursor()


class ProblemList(QListWidget):
    """Errors of the design; activating one asks to select its nodes. Each quick fix the
    analysis offers for an error is a row under it: a click applies it (one undo step)."""

    nodesRequested = Signal(list)
    #: A quick fix row was clicked (the window applies it through the controller).
    fixRequested = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._menu)
        self.itemClicked.connect(self._on_item)
        self.itemActivated.connect(self._on_item)

    def show_report(self, doc: Document, report: Report) -> None:
        self.clear()
        if not report.problems:
            item = QListWidgetItem("No problems: the design is complete.")
            item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.addItem(item)
            return
        for problem in report.problems:
            names = [doc.label(n) for n in problem.node_ids if n in doc]
            prefix = f"[{', '.join(names)}] " if names and len(names) <= 3 else ""
            item = QListWidgetItem(prefix + problem.message)
            item.setData(IDS_ROLE, list(problem.node_ids))
            item.setToolTip(problem.message)
            self.addItem(item)
            for fix in problem.fixes:
                self.addItem(self._fix_row(fix))

    def _fix_row(self, fix: QuickFix) -> QListWidgetItem:
        row = QListWidgetItem(f"      Quick fix: {fix.label}")
        row.setData(FIX_ROLE, fix)
        row.setToolTip("Click to apply (one undo step)")
        font = QFont(self.font())
        font.setUnderline(True)
        row.setFont(font)
        row.setForeground(self.palette().link())
        return row

    def fix_rows(self) -> list[QListWidgetItem]:
        return [self.item(i) for i in range(self.count()) if self.item(i).data(FIX_ROLE)]

    def _on_item(self, item: QListWidgetItem) -> None:
        fix = item.data(FIX_ROLE)
        if fix is not None:
            self.fixRequested.emit(fix)
            return
        ids = item.data(IDS_ROLE)
        if ids:
            self.nodesRequested.emit(list(ids))

    def _menu(self, pos: QPoint) -> None:
        item = self.itemAt(pos)
        if item is None:
            return
        row = self.row(item)
        while row > 0 and self.item(row).data(FIX_ROLE) is not None:
            row -= 1  # the problem the fix row belongs to
        fixes = []
        for i in range(row + 1, self.count()):
            fix = self.item(i).data(FIX_ROLE)
            if fix is None:
                break
            fixes.append(fix)
        if not fixes:
            return
        menu = QMenu(self)
        menu.addSection("Quick fixes")
        for fix in fixes:
            menu.addAction(fix.label, lambda f=fix: self.fixRequested.emit(f))
        menu.exec(self.viewport().mapToGlobal(pos))
        menu.deleteLater()


class LogView(QPlainTextEdit):
    """Plain messages of the session (status messages, analysis timings, file operations)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setMaximumBlockCount(2000)

    def log(self, text: str) -> None:
        self.appendPlainText(text)
