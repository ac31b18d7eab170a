"""Where the canvas is: ``design › BasicBlock`` above it while a block is open."""

from __future__ import annotations

import html

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from builder.controller import EditorController


class Breadcrumb(QWidget):
    """The path from the design to the block shown; the design's name goes back to it."""

    def __init__(self, controller: EditorController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("breadcrumb")
        self.controller = controller
        self.label = QLabel(self)
        self.label.setObjectName("breadcrumbPath")
        self.label.linkActivated.connect(self._go)
        self.back = QPushButton("Back to the design", self)
        self.back.setObjectName("breadcrumbBack")
        self.back.clicked.connect(controller.close_block)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 2, 8, 2)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.back)
        controller.shownChanged.connect(self.refresh)
        controller.documentReplaced.connect(self.refresh)
        self.refresh()

    def text(self) -> str:
        """The plain path, e.g. ``MyNet › BasicBlock``."""
        return " › ".join(label for label, _ in self.controller.breadcrumb())

    def refresh(self) -> None:
        trail = self.controller.breadcrumb()
        parts = []
        for k, (label, block_id) in enumerate(trail):
            name = html.escape(label)
            last = k == len(trail) - 1
            parts.append(f"<b>{name}</b>" if last else f"<a href='{block_id or '-'}'>{name}</a>")
        self.label.setText(" › ".join(parts) + (
            "  <i>(editing the block: every instance changes)</i>" if len(trail) > 1 else ""))
        self.setVisible(len(trail) > 1)

    def _go(self, link: str) -> None:
        if link == "-":
            self.controller.close_block()
        else:
            self.controller.open_block(link)
