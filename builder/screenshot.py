"""Render the main window with an example design to a PNG (docs and visual checks).

    python -m builder.screenshot docs/screenshot-main.png [example] [light|dark]
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QApplication


@contextmanager
def example_window(example: str, size: tuple[int, int], theme: str = "light"
                   ) -> Iterator[tuple[QApplication, Any]]:
    """A fresh main window (own settings and recovery folder) showing ``example``, analysed.

    For rendering docs: closed on exit, without the unsaved-changes prompt.
    """
    from builder.main_window import MainWindow
    from builder.settings import AppSettings
    from builder.theme import apply_theme

    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as tmp:
        settings = AppSettings(Path(tmp) / "shot.ini")
        settings.theme = theme
        apply_theme(app, theme)  # type: ignore[arg-type]
        window = MainWindow(settings=settings, recovery_dir=Path(tmp) / "rec")
        window.resize(*size)
        window.show()
        window.open_example(example)
        window.analysis.run_now()
        app.processEvents()
        try:
            yield app, window
        finally:
            window.controller.stack.setClean()
            window.close()


def save_grab(widget: Any, path: str | Path) -> Path:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    widget.grab().save(str(out))
    return out


def save_screenshot(path: str | Path, example: str = "wide_and_deep", theme: str = "light",
                    select: str | None = "hidden2", size: tuple[int, int] = (1400, 860)) -> Path:
    """Open ``example`` in a fresh main window, analyse it, and save ``window.grab()``."""
    with example_window(example, size, theme) as (app, window):
        window.view.fit_all()
        if select:
            node_id = window.controller.doc.find(select)
            if node_id:
                window.scene.select_nodes([node_id])
        app.processEvents()
        return save_grab(window, path)


if __name__ == "__main__":
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    args = sys.argv[1:]
    save_screenshot(args[0] if args else "docs/screenshot-main.png",
                    *(args[1:2] or ["wide_and_deep"]), *(args[2:3] or ["light"]))
