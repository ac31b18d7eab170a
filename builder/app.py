"""Start the desktop app: torch loads in the background from the start (`builder.warmup`); the
window does not wait for it, only for the one call of its import that would freeze it."""

from __future__ import annotations

import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from builder.controller import release_clipboard
from builder.main_window import MainWindow
from builder.settings import AppSettings
from builder.theme import apply_theme, icon
from builder.warmup import let_torch_load


def run_app(path: str | None = None) -> int:
    """Open the main window (with ``path`` if given) and run the event loop; returns the exit code."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("NetCanvas")
    app.setOrganizationName("NetCanvas")
    app.setWindowIcon(icon("netcanvas.svg"))
    settings = AppSettings()
    apply_theme(app, settings.theme)
    window = MainWindow(settings=settings)
    let_torch_load()  # torch's one long call now, before the window is on screen (see there)
    window.show()
    QTimer.singleShot(0, lambda: window.startup(path))
    app.aboutToQuit.connect(release_clipboard)
    return app.exec()
