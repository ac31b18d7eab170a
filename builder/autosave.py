"""Autosave of unsaved work to a recovery file (every 60 s, after 30 s idle, and at once when
training makes the project modified) and the crash-recovery offer at start-up (`graph.recovery`
tells a crash from a running instance). Recovery brings back the design and the crashed
session's runs (each up to its last checkpoint) with the current weights; an interrupted run can
then be resumed."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QObject, QStandardPaths, QTimer, Slot

from backend.runs.files import RunFormatError
from backend.runs.store import RunStore
from builder.dialogs import Dialogs
from builder.files import ProjectFiles
from graph.errors import ProjectFormatError
from graph.project import pid_alive
from graph.recovery import RecoveryEntry, RecoveryStore

PERIOD_MS = 60_000
IDLE_MS = 30_000
#: How long recovery waits for a crashed app's training process to finish writing its run
#: (it notices that the app is gone, stops after its batch and records the stop).
WRITER_WAIT_S = 15.0


def default_recovery_dir() -> Path:
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base or Path.home() / ".netcanvas") / "recovery"


class Autosaver(QObject):
    def __init__(self, files: ProjectFiles, folder: str | Path, parent: QObject | None = None,
                 period_ms: int = PERIOD_MS, idle_ms: int = IDLE_MS) -> None:
        super().__init__(parent)
        self.files = files
        self.store = RecoveryStore(folder)
        self.store.acquire()
        self.writes = 0
        self.period = QTimer(self)
        self.period.setInterval(period_ms)
        self.period.timeout.connect(self.save_now)
        self.period.start()
        self.idle = QTimer(self)
        self.idle.setSingleShot(True)
        self.idle.setInterval(idle_ms)
        self.idle.timeout.connect(self.save_now)
        files.saved.connect(lambda _path: self.store.clear())
        files.trainedChanged.connect(self._trained_changed)
        self.watch()

    def watch(self) -> None:
        """Follow the controller's current undo stack (call after it is replaced)."""
        self.files.controller.stack.indexChanged.connect(self._edited)

    @Slot()
    def _edited(self) -> None:
        self.idle.start()

    @Slot(str)
    def _trained_changed(self, what: str) -> None:
        if what == "dirty" and self.files.runs.dirty:
            self.save_now()  # a run started or ended: a crash from now on must find it
        elif what == "weights":
            self.idle.start()

    @Slot()
    def save_now(self) -> bool:
        """Write the recovery file if there is unsaved work; returns whether it wrote."""
        if not self.files.is_modified():
            return False
        try:
            trained = self.files.runs.recovery_record(self.store.weights_path)
            self.store.write(self.files.controller.doc, self.files.path, trained)
        except OSError as exc:
            self.files.message.emit(f"Autosave failed: {exc}")
            return False
        self.writes += 1
        return True

    def offer_recovery(self, dialogs: Dialogs) -> bool:
        """Offer the newest autosave of a crashed session (its design, and its runs up to their
        last checkpoints); returns whether it was restored."""
        orphans = self.store.orphans()
        if not orphans:
            return False
        entry = orphans[0]
        if entry.runs is not None:
            wait_for_writers(entry.runs)
        runs = RunStore(entry.runs).runs() if entry.runs is not None else []
        if not dialogs.restore_recovery(describe(entry, runs)):
            for other in orphans:
                self.store.discard(other)
            return False
        try:
            doc = self.store.load(entry) if entry.path != entry.runs else \
                RunStore(entry.runs).design(runs[-1].id)
        except (ProjectFormatError, RunFormatError, IndexError) as exc:
            dialogs.error("Cannot restore", f"The autosave is damaged: "
                                            f"{getattr(exc, 'message', exc)}")
            self.store.discard(entry)
            return False
        title = Path(entry.source).name if entry.source else f"{entry.title} (recovered)"
        self.files.open_document(doc, title, modified=True, source=entry.source)
        project_runs = self.files.runs
        adopted = project_runs.adopt(entry.runs) if entry.runs is not None else []
        self.store.discard(entry, keep_runs=True)
        note = self._recover_weights(adopted, (entry.trained or {}).get("weights"))
        if note:
            self.files.message.emit(note)
        for problem in project_runs.problems:
            self.files.message.emit(problem)
        self.save_now()  # now it is this session's unsaved work
        return True

    def _recover_weights(self, adopted: list, recorded: object) -> str | None:
        """The weights the crashed session had: the last checkpoint of a run it was training,
        else what its autosave recorded."""
        from backend.runs.files import RunFormatError

        runs = self.files.runs
        unfinished = [r for r in adopted if r.resumable]
        if unfinished:
            info = unfinished[-1]
            try:
                runs.set_weights(runs.run_weights(info.id, "checkpoint"))
            except RunFormatError as exc:
                return f"The weights of {info.title} were not recovered: {exc}"
            return (f"Recovered {info.title} up to epoch {info.checkpoint.epoch} of "
                    f"{info.epochs_planned} (its last checkpoint); Resume continues it.")
        return runs.recover_weights(recorded)

    def release(self) -> None:
        """Clean exit: remove this session's lock and autosave."""
        self.period.stop()
        self.idle.stop()
        self.store.release()


def describe(entry: RecoveryEntry, runs: list | None = None) -> str:
    from backend.runs.record import status_text

    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(entry.saved_at))
    what = f"“{entry.title}”" + (f" ({entry.source})" if entry.source else " (never saved)")
    text = f"Unsaved changes to {what}, autosaved {when}."
    if runs:
        lines = [f"• {r.title}: {status_text(r)}" + (" (up to its last checkpoint; Resume "
                                                      "continues it)" if r.resumable else "")
                 for r in runs[-5:]]
        text += "\n\nTraining runs:\n" + "\n".join(lines)
    return text


def wait_for_writers(folder: Path, timeout: float = WRITER_WAIT_S) -> None:
    """Wait until no process is still writing a run in ``folder`` (a crashed app's training
    process stops and records its run when it notices the app is gone)."""
    deadline = time.monotonic() + timeout
    store = RunStore(folder)
    while time.monotonic() < deadline:
        busy = [r for r in store.runs() if r.status in ("starting", "running", "paused")
                and r.writer_pid and pid_alive(r.writer_pid)]
        if not busy:
            return
        time.sleep(0.05)
