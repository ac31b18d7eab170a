"""Start the desktop app: the window is shown first; torch loads after the event loop starts."""

from __future__ import annotations

import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from builder.controller import release_clipboard
from builder.main_window import MainWindow
from builder.settings import AppSettings
from builder.theme import apply_theme, icon


def run_app(path: str | None = None) -> int:
    """Open the main window (with ``path`` if given) and run the event loop; returns the exit code."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("NetCanvas")
    app.setOrganizationName("NetCanvas")
    app.setWindowIcon(icon("netcanvas.svg"))
    settings = AppSettings()
    apply_theme(app, settings.theme)
    window = MainWindow(settings=settings)
    window.show()
    QTimer.singleShot(0, lambda: window.startup(path))
    app.aboutToQuit.connect(release_clipboard)
    return app.exec()
