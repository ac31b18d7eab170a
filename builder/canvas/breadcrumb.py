"""Where the canvas is: ``design › BasicBlock`` above it while a block is open."""

from __future__ import annotations

import html

from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

from builder.controller import EditorController


class Breadcrumb(QWidget):
    """The path from the design to the block shown; the design's name goes back to it, and
    the open block's name is a field: typing a new one (Enter) renames the definition."""

    def __init__(self, controller: EditorController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("breadcrumb")
        self.controller = controller
        self.label = QLabel(self)
        self.label.setObjectName("breadcrumbPath")
        self.label.linkActivated.connect(self._go)
        self.name_edit = QLineEdit(self)
        self.name_edit.setObjectName("breadcrumbName")
        self.name_edit.setToolTip("The block's name: its class name in the exported code. "
                                  "Type a new one and press Enter to rename it (every "
                                  "instance uses the new name).")
        self.name_edit.setMaximumWidth(220)
        self.name_edit.editingFinished.connect(self._commit_name)
        self.note = QLabel("<i>(editing the block: every instance changes)</i>", self)
        self.back = QPushButton("Back to the design", self)
        self.back.setObjectName("breadcrumbBack")
        self.back.clicked.connect(controller.close_block)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 2, 8, 2)
        layout.addWidget(self.label)
        layout.addWidget(self.name_edit)
        layout.addWidget(self.note, 1)
        layout.addWidget(self.back)
        controller.shownChanged.connect(self.refresh)
        controller.blockRenamed.connect(lambda _block_id: self.refresh())
        controller.documentReplaced.connect(self.refresh)
        self.refresh()

    def text(self) -> str:
        """The plain path, e.g. ``MyNet › BasicBlock``."""
        return " › ".join(label for label, _ in self.controller.breadcrumb())

    def refresh(self) -> None:
        trail = self.controller.breadcrumb()
        parts = [f"<a href='{block_id or '-'}'>{html.escape(label)}</a>"
                 for label, block_id in trail[:-1]]
        self.label.setText(" › ".join(parts) + " ›" if parts else "")
        if not self.name_edit.hasFocus() or not self.name_edit.isModified():
            self.name_edit.setText(trail[-1][0])
            self.name_edit.setModified(False)
        self.setVisible(len(trail) > 1)

    def _commit_name(self) -> None:
        shown = self.controller.shown
        if not self.name_edit.isModified() or not shown.block_id:
            return
        self.name_edit.setModified(False)
        if not self.controller.rename_block(shown.block_id, self.name_edit.text()):
            self.name_edit.setText(shown.name)  # refused: the message says why

    def _go(self, link: str) -> None:
        if link == "-":
            self.controller.close_block()
        else:
            self.controller.open_block(link)
