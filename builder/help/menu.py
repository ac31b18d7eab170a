"""Help ▸ Documentation (F1), Keyboard Shortcuts, About NetCanvas (with the versions of what it
runs on)."""

from __future__ import annotations

import html
import platform
from importlib import metadata
from typing import Any

from PySide6.QtCore import QObject, qVersion
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMessageBox

#: Distributions whose versions About lists (read from their metadata: nothing is imported).
PACKAGES = ("PySide6-Essentials", "pyqtgraph", "torch", "networkx", "numpy", "safetensors",
            "scikit-learn", "optuna", "onnx", "onnxruntime")


def version_of(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def versions() -> list[tuple[str, str]]:
    """(name, version) of NetCanvas, Python, Qt and the libraries it uses (installed ones)."""
    rows = [("NetCanvas", version_of("netcanvas") or "source tree"),
            ("Python", platform.python_version()), ("Qt", qVersion())]
    for name in PACKAGES:
        value = version_of(name)
        if value is not None:
            rows.append((name, value))
    rows.append(("Platform", f"{platform.system()} {platform.release()} ({platform.machine()})"))
    return rows


def about_html() -> str:
    rows = "".join(f"<tr><td>{html.escape(n)}</td><td>{html.escape(v)}</td></tr>"
                   for n, v in versions())
    return ("<h3>NetCanvas</h3><p>Design neural networks by drawing them; train them live; "
            "take readable PyTorch code home.</p>"
            f"<table cellpadding=2>{rows}</table>")


class HelpMenu(QObject):
    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.viewer = None
        self.sheet = None
        self.act_docs = QAction("&Documentation", window)
        self.act_docs.setShortcuts(QKeySequence.keyBindings(QKeySequence.StandardKey.HelpContents))
        self.act_docs.setStatusTip("The NetCanvas documentation pages")
        self.act_docs.triggered.connect(self.show_docs)
        self.act_shortcuts = QAction("&Keyboard Shortcuts", window)
        self.act_shortcuts.setShortcut(QKeySequence("Ctrl+/"))
        self.act_shortcuts.setStatusTip("Every shortcut of the menus, and the canvas gestures")
        self.act_shortcuts.triggered.connect(self.show_shortcuts)
        self.act_about = QAction("&About NetCanvas", window)
        self.act_about.setMenuRole(QAction.MenuRole.AboutRole)
        self.act_about.triggered.connect(self.show_about)
        for action in (self.act_docs, self.act_shortcuts, self.act_about):
            window.addAction(action)
        menu = window.menuBar().addMenu("&Help")
        menu.setObjectName("helpMenu")
        menu.addActions([self.act_docs, self.act_shortcuts])
        menu.addSeparator()
        menu.addAction(self.act_about)
        self.menu = menu

    def show_docs(self) -> Any:
        from builder.help.docs_viewer import DocsViewer

        if self.viewer is None:
            self.viewer = DocsViewer(self.window)
        self.viewer.show()
        self.viewer.raise_()
        return self.viewer

    def show_shortcuts(self) -> Any:
        from builder.help.shortcuts import ShortcutSheet

        if self.sheet is None:
            self.sheet = ShortcutSheet(self.window)
        else:
            self.sheet.refresh(self.window)
        self.sheet.show()
        self.sheet.raise_()
        return self.sheet

    def show_about(self) -> QMessageBox:
        box = QMessageBox(self.window)
        box.setWindowTitle("About NetCanvas")
        box.setObjectName("aboutBox")
        box.setTextFormat(box.textFormat().RichText)
        box.setText(about_html())
        box.setIconPixmap(self.window.windowIcon().pixmap(64, 64))
        box.setStandardButtons(QMessageBox.StandardButton.Close)
        box.open()
        return box


