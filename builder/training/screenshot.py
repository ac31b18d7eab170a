"""Render the main window with the training panel mid-run to a PNG (docs).

    python -m builder.training.screenshot docs/screenshot-training.png [example] [epochs]
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def save_training_screenshot(path: str | Path, example: str = "mlp_digits",
                             after_epochs: int = 6, size: tuple[int, int] = (1500, 950)) -> Path:
    """Start training ``example``, grab the window after ``after_epochs`` epochs, stop."""
    from PySide6.QtCore import QEventLoop

    from builder.screenshot import example_window, save_grab

    with example_window(example, size) as (app, window):
        panel = window.training
        loop = QEventLoop()
        panel.session.eventArrived.connect(
            lambda ev: loop.quit() if getattr(ev, "epoch", 0) >= after_epochs else None)
        panel.session.runDone.connect(loop.quit)
        window.run_training()
        loop.exec()
        panel.plots.refresh()
        window.view.fit_all()
        app.processEvents()
        out = save_grab(window, path)
        panel.shutdown()
    return out


if __name__ == "__main__":
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    args = sys.argv[1:]
    save_training_screenshot(args[0] if args else "docs/screenshot-training.png",
                             *(args[1:2] or ["mlp_digits"]), *(int(a) for a in args[2:3]))
