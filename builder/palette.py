"""The layer palette: the catalogue by category, searchable, dragged onto the canvas."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLineEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from builder.canvas.view import LAYER_MIME
from builder.theme import CATEGORY_ICONS, icon
from graph.catalogue import BLOCK_STRUCTURE, CATEGORIES, LAYERS, LayerSpec

TYPE_ROLE = Qt.ItemDataRole.UserRole + 1
BLOCK_ROLE = Qt.ItemDataRole.UserRole + 2
BLOCKS = "Blocks"
"""The palette's last group: this design's block definitions, and the port layers used
inside one (BlockInput, BlockOutput)."""


def mime_for(type_name: str) -> QMimeData:
    """The drag payload for a layer type (also what tests send to the canvas)."""
    mime = QMimeData()
    mime.setData(LAYER_MIME, type_name.encode("utf-8"))
    mime.setText(type_name)
    return mime


def tooltip_for(spec: LayerSpec) -> str:
    rows = "".join(f"<li><b>{p.name}</b>: {p.doc or p.kind}</li>" for p in spec.params)
    params = f"<ul style='margin:2px 0 0 -20px'>{rows}</ul>" if rows else ""
    ports = ""
    if spec.inputs and len(spec.inputs) > 1:
        names = ", ".join(p.name + (" (optional)" if p.optional else "") for p in spec.inputs)
        ports += f"<br><b>Inputs</b>: {names}"
    if spec.output_names and len(spec.output_names) > 1:
        ports += f"<br><b>Outputs</b>: {', '.join(spec.output_names)}"
    elif spec.outputs_from:
        ports += f"<br><b>Outputs</b>: one per piece ({spec.outputs_from})"
    return f"<b>{spec.type}</b> <i>({spec.category})</i><br>{spec.doc}{ports}{params}"


class _LayerTree(QTreeWidget):
    def mimeTypes(self) -> list[str]:  # noqa: N802 - Qt override
        return [LAYER_MIME]

    def mimeData(self, items) -> QMimeData:  # noqa: N802 - Qt override
        names = [i.data(0, TYPE_ROLE) for i in items if i.data(0, TYPE_ROLE)]
        return mime_for(names[0]) if names else QMimeData()


class Palette(QWidget):
    """Emits `layerActivated(type)` on double-click / Enter; drags carry `LAYER_MIME`.
    A block of the design emits `blockActivated(block id)`."""

    layerActivated = Signal(str)
    blockActivated = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.search = QLineEdit(self)
        self.search.setObjectName("paletteSearch")
        self.search.setPlaceholderText("Search layers…")
        self.search.setClearButtonEnabled(True)
        self.tree = _LayerTree(self)
        self.tree.setHeaderHidden(True)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.tree.setIndentation(12)
        self.tree.setUniformRowHeights(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addWidget(self.search)
        layout.addWidget(self.tree)
        self._items: dict[str, QTreeWidgetItem] = {}
        self._categories: dict[str, QTreeWidgetItem] = {}
        for category in (*CATEGORIES, BLOCKS):
            head = QTreeWidgetItem([category])
            head.setIcon(0, icon(CATEGORY_ICONS.get(category, "core.svg")))
            head.setFlags(Qt.ItemFlag.ItemIsEnabled)
            font = head.font(0)
            font.setBold(True)
            head.setFont(0, font)
            self.tree.addTopLevelItem(head)
            self._categories[category] = head
        for spec in (*LAYERS, BLOCK_STRUCTURE["BlockInput"], BLOCK_STRUCTURE["BlockOutput"]):
            item = QTreeWidgetItem([spec.type])
            item.setData(0, TYPE_ROLE, spec.type)
            item.setToolTip(0, tooltip_for(spec))
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                          | Qt.ItemFlag.ItemIsDragEnabled)
            self._categories[spec.category].addChild(item)
            self._items[spec.type] = item
        self._block_items: dict[str, QTreeWidgetItem] = {}
        self.tree.expandAll()
        self.search.textChanged.connect(self.filter)
        self.search.returnPressed.connect(self._activate_first)
        self.tree.itemActivated.connect(self._on_activated)

    def filter(self, text: str) -> list[str]:
        """Show only layers whose type, category or doc contains ``text``; returns them."""
        needle = text.strip().lower()
        shown = []
        for category, head in self._categories.items():
            any_shown = False
            for i in range(head.childCount()):
                item = head.child(i)
                type_name = item.data(0, TYPE_ROLE) or item.text(0)
                match = (not needle or needle in type_name.lower()
                         or (len(needle) > 2 and needle in category.lower()))
                item.setHidden(not match)
                if match:
                    shown.append(type_name)
                    any_shown = True
            head.setHidden(not any_shown)
        return shown

    def visible_types(self) -> list[str]:
        return [t for t, item in self._items.items()
                if not item.isHidden() and not item.parent().isHidden()]

    def item_for(self, type_name: str) -> QTreeWidgetItem:
        return self._items[type_name]

    def set_blocks(self, blocks: list[tuple[str, str, str]]) -> None:
        """List the design's definitions: (block id, name, tooltip), in order."""
        head = self._categories[BLOCKS]
        for item in self._block_items.values():
            head.removeChild(item)
        self._block_items.clear()
        for k, (block_id, name, tip) in enumerate(blocks):
            item = QTreeWidgetItem([name])
            item.setData(0, BLOCK_ROLE, block_id)
            item.setToolTip(0, tip)
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            head.insertChild(k, item)
            self._block_items[block_id] = item
        self.filter(self.search.text())

    def block_item(self, block_id: str) -> QTreeWidgetItem:
        return self._block_items[block_id]

    def _on_activated(self, item: QTreeWidgetItem, column: int = 0) -> None:
        block_id = item.data(0, BLOCK_ROLE)
        if block_id:
            self.blockActivated.emit(block_id)
            return
        type_name = item.data(0, TYPE_ROLE)
        if type_name:
            self.layerActivated.emit(type_name)

    def _activate_first(self) -> None:
        visible = self.visible_types()
        if visible:
            self.layerActivated.emit(visible[0])
