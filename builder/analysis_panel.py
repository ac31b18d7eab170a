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
    QTreeWidget,
    QTreeWidgetItem,
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


PORT_TYPES = ("BlockInput", "BlockOutput")
#: On a block's row: what to unfold (a list of `InstanceReport`, or one instance).
UNFOLD_ROLE = Qt.ItemDataRole.UserRole + 4


class SummaryTable(QWidget):
    """Layer, type, output shape, parameters, FLOPs per layer; totals below. A block is one
    row with its instances' parameters and FLOPs; unfolding it (on demand) lists its layers,
    per instance when it repeats (``layer1.0``, ``layer1.1``), nested blocks alike."""

    HEADERS = ("Layer", "Type", "Output shape", "Parameters", "FLOPs")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = QTreeWidget(self)
        self.table.setColumnCount(len(self.HEADERS))
        self.table.setHeaderLabels(list(self.HEADERS))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.setUniformRowHeights(True)
        header = self.table.header()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.itemExpanded.connect(self._unfold)
        self.totals = QLabel(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)
        layout.addWidget(self.totals)
        self._doc: Document | None = None

    def show_report(self, doc: Document, report: Report) -> None:
        open_paths = {self.path_of(item) for item in self._items() if item.isExpanded()}
        self._doc = doc
        self.table.clear()
        order = _safe_order(doc)
        for node_id in order:
            self._row(self.table.invisibleRootItem(), doc, node_id, report.nodes.get(node_id),
                      report.instances.get(node_id))
        for item in self._items():  # what was unfolded stays unfolded (nested too)
            if self.path_of(item) in open_paths:
                item.setExpanded(True)
        if len(order) <= 300:
            for col in (0, 1, 3, 4):
                self.table.resizeColumnToContents(col)
        total = report.total_params
        trainable = sum((i.trainable_params or 0) for i in report.nodes.values())
        self.totals.setText(
            f"  {len(order)} layers · {total:,} parameters ({trainable:,} trainable)"
            if total is not None else f"  {len(order)} layers · parameters after shapes resolve")

    def rows(self) -> list[tuple[str, ...]]:
        """The top-level rows' texts (a test's view of the table)."""
        root = self.table.invisibleRootItem()
        return [self._texts(root.child(i)) for i in range(root.childCount())]

    def children(self, item: QTreeWidgetItem) -> list[tuple[str, ...]]:
        return [self._texts(item.child(i)) for i in range(item.childCount())]

    def item_named(self, name: str) -> QTreeWidgetItem | None:
        """The shown row whose Layer column reads ``name``."""
        return next((item for item in self._items() if item.text(0) == name), None)

    @staticmethod
    def path_of(item: QTreeWidgetItem) -> str:
        names = []
        while item is not None:
            names.append(item.text(0))
            item = item.parent()
        return "/".join(reversed(names))

    def _items(self):
        stack = [self.table.invisibleRootItem()]
        while stack:
            item = stack.pop()
            for i in range(item.childCount()):
                child = item.child(i)
                yield child
                stack.append(child)

    @staticmethod
    def _texts(item: QTreeWidgetItem) -> tuple[str, ...]:
        return tuple(item.text(c) for c in range(item.columnCount()))

    def _row(self, parent: QTreeWidgetItem, doc: Document, node_id: str, info,
             instances, name: str | None = None) -> QTreeWidgetItem:
        type_name = doc.attr(node_id, "type")
        if type_name == "Block":
            block = doc.root.block(doc.attr(node_id, "params")["block"])
            repeat = doc.attr(node_id, "params").get("repeat", 1)
            type_name = block.name + (f" ×{repeat}" if repeat > 1 else "")
        values = (name or doc.attr(node_id, "name"), type_name,
                  ", ".join(info.output_shapes) if info and info.output_shapes else
                  ("error" if info and info.error else "–"),
                  f"{info.params:,}" if info and info.params is not None else "–",
                  _human(info.flops) if info else "–")
        item = QTreeWidgetItem(parent, list(values))
        for col in (3, 4):
            item.setTextAlignment(col, Qt.AlignmentFlag.AlignRight
                                  | Qt.AlignmentFlag.AlignVCenter)
        if info and info.error:
            for col in range(len(values)):
                item.setToolTip(col, info.error)
        if instances:
            item.setData(0, UNFOLD_ROLE, (doc, instances))
            item.setChildIndicatorPolicy(QTreeWidgetItem.ChildIndicatorPolicy.ShowIndicator)
        return item

    def _unfold(self, item: QTreeWidgetItem) -> None:
        """Fill a block's row with its layers the first time it is unfolded."""
        payload = item.data(0, UNFOLD_ROLE)
        if payload is None or item.childCount():
            return
        doc, what = payload
        if isinstance(what, list) and len(what) == 1:
            what = what[0]  # used once: its layers directly
        if isinstance(what, list):  # repeated: one row per instance
            for inst in what:
                block = doc.root.block(inst.block_id)
                total = sum(n.params or 0 for n in inst.nodes.values())
                flops = [n.flops for n in inst.nodes.values() if n.flops is not None]
                row = QTreeWidgetItem(item, [inst.path, block.name, "", f"{total:,}",
                                             _human(sum(flops)) if flops else "–"])
                row.setData(0, UNFOLD_ROLE, (doc, inst))
                row.setChildIndicatorPolicy(QTreeWidgetItem.ChildIndicatorPolicy.ShowIndicator)
            return
        block = doc.root.block(what.block_id)
        for node_id in what.order:
            if block.attr(node_id, "type") in PORT_TYPES:
                continue
            self._row(item, block, node_id, what.nodes.get(node_id),
                      what.instances.get(node_id))


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
