"""Render the learning-rate finder and the search dialog after real runs to PNGs (docs).

    python -m builder.workflows.screenshot docs/
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def _wait(app: object, signal: object) -> None:
    from PySide6.QtCore import QEventLoop

    loop = QEventLoop()
    signal.connect(lambda *_: loop.quit())  # type: ignore[attr-defined]
    loop.exec()


def save_workflow_screenshots(folder: str | Path, example: str = "mlp_digits",
                              trials: int = 8, epochs: int = 8) -> list[Path]:
    """Run the lr finder (200 steps) and a small random search on ``example``; grab both."""
    from builder.screenshot import example_window, save_grab

    out = Path(folder)
    shots = []
    with example_window(example, (1300, 850)) as (app, window):
        lr = window.workflows.show_lr_finder()
        lr.resize(820, 560)
        lr.start()
        _wait(app, lr.runner.finished)
        app.processEvents()
        shots.append(save_grab(lr, out / "screenshot-lr-finder.png"))
        lr.close()
        search = window.workflows.show_search()
        search.resize(1250, 760)
        search.trials.setValue(trials)
        search.epochs.setValue(epochs)
        search.sampler.setCurrentIndex(search.sampler.findData("random"))
        search.layers.high.setValue(2)
        search.units.setText("32, 64, 128")
        search.vary_optimizer.setChecked(True)
        search.start()
        _wait(app, search.runner.finished)
        app.processEvents()
        shots.append(save_grab(search, out / "screenshot-search.png"))
        search.close()
    return shots


if __name__ == "__main__":
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    for shot in save_workflow_screenshots(sys.argv[1] if len(sys.argv) > 1 else "docs"):
        print(shot)
