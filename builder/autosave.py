"""Autosave of unsaved work to a recovery file (every 60 s and after 30 s idle) and the
crash-recovery offer at start-up (`graph.recovery` tells a crash from a running instance)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QStandardPaths, QTimer, Slot

from builder.dialogs import Dialogs
from builder.files import ProjectFiles
from graph.errors import ProjectFormatError
from graph.recovery import RecoveryEntry, RecoveryStore

PERIOD_MS = 60_000
IDLE_MS = 30_000


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
        self.watch()

    def watch(self) -> None:
        """Follow the controller's current undo stack (call after it is replaced)."""
        self.files.controller.stack.indexChanged.connect(self._edited)

    @Slot()
    def _edited(self) -> None:
        self.idle.start()

    @Slot()
    def save_now(self) -> bool:
        """Write the recovery file if there is unsaved work; returns whether it wrote."""
        if not self.files.is_modified():
            return False
        try:
            self.store.write(self.files.controller.doc, self.files.path)
        except OSError as exc:
            self.files.message.emit(f"Autosave failed: {exc}")
            return False
        self.writes += 1
        return True

    def offer_recovery(self, dialogs: Dialogs) -> bool:
        """Offer the newest autosave of a crashed session; returns whether it was restored."""
        orphans = self.store.orphans()
        if not orphans:
            return False
        entry = orphans[0]
        if not dialogs.restore_recovery(describe(entry)):
            for other in orphans:
                self.store.discard(other)
            return False
        try:
            doc = self.store.load(entry)
        except ProjectFormatError as exc:
            dialogs.error("Cannot restore", f"The autosave is damaged: {exc.message}")
            self.store.discard(entry)
            return False
        title = Path(entry.source).name if entry.source else f"{entry.title} (recovered)"
        self.files.open_document(doc, title, modified=True, source=entry.source)
        self.store.discard(entry)
        self.save_now()  # now it is this session's unsaved work
        return True

    def release(self) -> None:
        """Clean exit: remove this session's lock and autosave."""
        self.period.stop()
        self.idle.stop()
        self.store.release()


def describe(entry: RecoveryEntry) -> str:
    import time

    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(entry.saved_at))
    what = f"“{entry.title}”" + (f" ({entry.source})" if entry.source else " (never saved)")
    return f"Unsaved changes to {what}, autosaved {when}."
