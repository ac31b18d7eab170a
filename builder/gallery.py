"""The example gallery: the scenarios of SCENARIOS.md, one click from a working design."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from graph.examples import list_examples

NAME_ROLE = Qt.ItemDataRole.UserRole + 3


class GalleryDialog(QDialog):
    """Pick an example (or an empty canvas); emits `exampleChosen(name)` / `emptyChosen()`."""

    exampleChosen = Signal(str)
    emptyChosen = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Examples — NetCanvas")
        self.resize(560, 520)
        intro = QLabel("Start from an example of the textbook scenarios, or from an empty "
                       "canvas. The gallery stays in File ▸ Examples.", self)
        intro.setWordWrap(True)
        self.list = QListWidget(self)
        self.list.setWordWrap(True)
        self.list.setSpacing(3)
        self.list.setIconSize(QSize(0, 0))
        for info in list_examples():
            item = QListWidgetItem(f"{info.title}\n{info.description}")
            item.setData(NAME_ROLE, info.name)
            item.setToolTip(info.description)
            font = item.font()
            item.setFont(font)
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)
        buttons = QDialogButtonBox(self)
        self.open_button = QPushButton("Open example", self)
        self.open_button.setDefault(True)
        self.empty_button = QPushButton("Empty canvas", self)
        buttons.addButton(self.open_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(self.empty_button, QDialogButtonBox.ButtonRole.RejectRole)
        self.open_button.clicked.connect(self.choose_current)
        self.empty_button.clicked.connect(self._choose_empty)
        self.list.itemActivated.connect(lambda _item: self.choose_current())
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.list, 1)
        layout.addWidget(buttons)

    def names(self) -> list[str]:
        return [self.list.item(i).data(NAME_ROLE) for i in range(self.list.count())]

    def choose(self, name: str) -> None:
        self.accept()
        self.exampleChosen.emit(name)

    def choose_current(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self.choose(item.data(NAME_ROLE))

    def _choose_empty(self) -> None:
        self.reject()
        self.emptyChosen.emit()
