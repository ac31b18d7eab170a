"""Every question the app asks a person, behind one replaceable object.

The main window only talks to a `Dialogs`; tests pass a fake so nothing blocks.
"""

from __future__ import annotations

from PySide6.QtWidgets import QFileDialog, QInputDialog, QLineEdit, QMessageBox, QWidget

from graph.project import SUFFIX

PROJECT_FILTER = f"NetCanvas projects (*{SUFFIX} *.json);;All files (*)"
SAVE, DISCARD, CANCEL = "save", "discard", "cancel"


class Dialogs:
    """Modal Qt dialogs parented to ``parent``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        self.parent = parent

    def open_path(self, folder: str = "") -> str | None:
        path, _ = QFileDialog.getOpenFileName(self.parent, "Open project", folder,
                                              PROJECT_FILTER)
        return path or None

    def save_path(self, suggestion: str = "", title: str = "Save project",
                  file_filter: str = PROJECT_FILTER) -> str | None:
        path, _ = QFileDialog.getSaveFileName(self.parent, title, suggestion, file_filter)
        return path or None

    def unsaved_changes(self, title: str, detail: str = "") -> str:
        """SAVE, DISCARD or CANCEL for a design with unsaved changes (``detail``: what is
        unsaved, e.g. trained weights and runs)."""
        box = QMessageBox(QMessageBox.Icon.Warning, "Unsaved changes",
                          f"“{title}” has changes that are not saved.",
                          QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                          | QMessageBox.StandardButton.Cancel, self.parent)
        box.setInformativeText((detail + "\n\n" if detail else "") + "Save them before closing?")
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        answer = box.exec()
        if answer == QMessageBox.StandardButton.Save:
            return SAVE
        if answer == QMessageBox.StandardButton.Discard:
            return DISCARD
        return CANCEL

    def confirm(self, title: str, text: str, action: str = "OK") -> bool:
        """Ask before doing something that cannot be undone (``action``: the button's text)."""
        box = QMessageBox(QMessageBox.Icon.Question, title, text,
                          QMessageBox.StandardButton.Cancel, self.parent)
        ok = box.addButton(action, QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        return box.clickedButton() is ok

    def error(self, title: str, text: str) -> None:
        QMessageBox.warning(self.parent, title, text)

    def info(self, title: str, text: str) -> None:
        QMessageBox.information(self.parent, title, text)

    def restore_recovery(self, description: str) -> bool:
        """Offer to restore unsaved work (the design, training runs up to their last
        checkpoint) left by a crash."""
        answer = QMessageBox.question(
            self.parent, "Restore unsaved work?",
            f"NetCanvas did not close properly last time.\n\n{description}\n\n"
            "Restore this work? (No discards it.)",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.Yes)
        return answer == QMessageBox.StandardButton.Yes

    def design_name(self, suggestion: str = "Model") -> str | None:
        """The name of a new design (its exported class name); None when cancelled."""
        text, ok = QInputDialog.getText(
            self.parent, "New design",
            "Name of the design (the class name of the exported PyTorch module):",
            QLineEdit.EchoMode.Normal, suggestion)
        return (text.strip() or suggestion) if ok else None
