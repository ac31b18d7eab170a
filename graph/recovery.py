"""Autosave and crash recovery.

Each running app holds a lock file (``session-<pid>.lock``) in the recovery folder and writes its
unsaved work to ``recovery-<pid>.json`` (atomically). On a clean exit both are removed. At the
next start, a recovery file whose lock belongs to a process that no longer runs is an orphan of a
crash and is offered back; one whose process still runs belongs to a second running instance and
is left alone.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graph import project
from graph.document import Document
from graph.errors import ProjectFormatError

_RECOVERY = re.compile(r"^recovery-(\d+)\.json$")


@dataclass(frozen=True)
class RecoveryEntry:
    path: Path
    pid: int
    source: str | None
    """The project file the unsaved work belongs to (None for an untitled design)."""
    saved_at: float
    title: str


class RecoveryStore:
    def __init__(self, folder: str | os.PathLike[str], pid: int | None = None) -> None:
        self.folder = Path(folder)
        self.pid = os.getpid() if pid is None else pid

    @property
    def lock_path(self) -> Path:
        return self.folder / f"session-{self.pid}.lock"

    @property
    def recovery_path(self) -> Path:
        return self.folder / f"recovery-{self.pid}.json"

    def acquire(self) -> RecoveryStore:
        """Mark this process as running (call once at start-up)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        project.cleanup_temp_files(self.folder)
        project.write_atomic(self.lock_path, json.dumps({"pid": self.pid,
                                                         "started": time.time()}))
        return self

    def write(self, doc: Document, source_path: str | os.PathLike[str] | None = None) -> Path:
        """Save the unsaved work of this session (atomic; replaces the previous autosave)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        payload = {"source": str(source_path) if source_path else None, "saved_at": time.time(),
                   "project": project.to_dict(doc)}
        project.write_atomic(self.recovery_path, json.dumps(payload, ensure_ascii=False))
        return self.recovery_path

    def clear(self) -> None:
        """Forget this session's autosave (after a successful save)."""
        _unlink(self.recovery_path)

    def release(self) -> None:
        """Clean exit: remove this session's autosave and lock."""
        self.clear()
        _unlink(self.lock_path)

    def orphans(self) -> list[RecoveryEntry]:
        """Autosaves left behind by sessions that crashed (their process no longer runs)."""
        entries = []
        try:
            files = sorted(self.folder.iterdir())
        except OSError:
            return entries
        for path in files:
            m = _RECOVERY.match(path.name)
            if not m:
                continue
            pid = int(m.group(1))
            if pid == self.pid or project.pid_alive(pid):
                continue
            try:
                meta = json.loads(path.read_text(encoding="utf-8"))
                source = meta.get("source")
                saved_at = float(meta.get("saved_at", path.stat().st_mtime))
                title = str(meta.get("project", {}).get("name", "Untitled"))
            except (OSError, ValueError, AttributeError, TypeError):
                source, saved_at, title = None, path.stat().st_mtime, "Unreadable autosave"
            entries.append(RecoveryEntry(path, pid, source if isinstance(source, str) else None,
                                         saved_at, title))
        return sorted(entries, key=lambda e: -e.saved_at)

    def load(self, entry: RecoveryEntry) -> Document:
        try:
            payload: Any = json.loads(entry.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ProjectFormatError("$", f"the autosave cannot be read ({exc})",
                                     str(entry.path)) from None
        if not isinstance(payload, dict) or "project" not in payload:
            raise ProjectFormatError("$.project", "missing", str(entry.path))
        return project.from_dict(payload["project"])

    def discard(self, entry: RecoveryEntry) -> None:
        _unlink(entry.path)
        _unlink(self.folder / f"session-{entry.pid}.lock")


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass
