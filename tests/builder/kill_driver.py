"""The real app, driven for `test_kill_recovery`: a process the test kills with SIGKILL.

    python tests/builder/kill_driver.py PROJECT RECOVERY_DIR SETTINGS EPOCHS

It builds the main window as `builder.app.run_app` does (real event loop, real training
process) with dialogs that answer by themselves, then calls `startup(PROJECT)`. If the start
offers to recover a crashed session it accepts, prints what it recovered and resumes the run;
otherwise it trains the project for EPOCHS epochs. Lines on stdout (one JSON object each) say
what happens: ``offered``, ``recovered`` (the run, its checkpoint epoch, a digest of the
current weights, how many epochs the curves show), ``started``, ``epoch``, ``done``.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("NETCANVAS_NO_GALLERY", "1")

from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402


def say(kind: str, **fields) -> None:
    print(json.dumps({"kind": kind, **fields}), flush=True)


def digest(state: dict) -> str:
    """One hash of a state dict's tensors (the test hashes the checkpoint the same way)."""
    h = hashlib.sha256()
    for key in sorted(state):
        h.update(key.encode())
        h.update(state[key].detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


class Answers:
    """The dialogs: accept recovery, discard on close, never block."""

    offered = False

    def restore_recovery(self, description: str) -> bool:
        say("offered", description=description)
        self.offered = True
        return True

    def unsaved_changes(self, title: str, detail: str = "") -> str:
        return "discard"

    def confirm(self, *args, **kwargs) -> bool:
        return True

    def error(self, title: str, text: str) -> None:
        say("error", text=text)

    def info(self, title: str, text: str) -> None:
        pass

    def open_path(self, *args) -> None:
        return None

    def save_path(self, *args) -> None:
        return None


def main() -> int:
    project, recovery, settings_file, epochs = sys.argv[1:5]
    app = QApplication(sys.argv[:1])
    app.setApplicationName("NetCanvas")
    from builder.main_window import MainWindow
    from builder.settings import AppSettings

    window = MainWindow(settings=AppSettings(settings_file), dialogs=Answers(),
                        recovery_dir=recovery)
    window.show()

    def on_event(event) -> None:
        if type(event).__name__ == "EpochEnd":
            say("epoch", epoch=event.epoch)

    def on_started(event) -> None:
        say("started", start_epoch=event.start_epoch, epochs=event.epochs)

    def on_done(outcome) -> None:
        panel = window.training
        say("done", status=panel.run.status if panel.run else None)
        window.files.save()  # the run goes beside the project
        window.close()
        app.quit()

    def go() -> None:
        window.startup(project)  # offers recovery, else opens the project
        restored = window.dialogs.offered
        panel = window.training
        panel.session.eventArrived.connect(on_event)
        panel.session.runStarted.connect(on_started)
        panel.session.runDone.connect(on_done)
        if restored:
            QTimer.singleShot(0, report_and_resume)  # once the views have followed
        else:
            panel.run_overrides = {"epochs": int(epochs)}
            window.run_training()

    def report_and_resume() -> None:
        panel = window.training
        runs = window.files.runs
        run_id = panel.resumable_run()
        info = runs.get(run_id) if run_id else None
        current = panel.plots.current
        say("recovered", run=run_id, checkpoint=info.checkpoint.epoch if info else None,
            weights=digest(runs.weights.state) if runs.weights else None,
            curves=len(current.epochs) if current is not None else 0,
            curve_run=current.run_id if current is not None else None,
            runs=[(r.id, r.state, r.checkpoint.epoch if r.checkpoint else None)
                  for r in runs.runs()], problems=runs.problems)
        window.resume_training()

    QTimer.singleShot(0, go)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
