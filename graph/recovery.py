"""Autosave and crash recovery.

Each running app holds a lock file (``session-<pid>.lock``) in the recovery folder and writes its
unsaved work to ``recovery-<pid>.json`` (atomically). Its runs train into ``runs-<pid>/`` (one run
folder each, see ``backend.runs``) until the project is saved, and weights that exist only in
memory are copied to ``weights-<pid>.safetensors`` by the autosave. On a clean exit all of them
are removed. At the next start, a recovery file (or a runs folder) whose process no longer runs
is an orphan of a crash and is offered back; one whose process still runs belongs to a second
running instance and is left alone.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graph import project
from graph.document import Document
from graph.errors import ProjectFormatError

_RECOVERY = re.compile(r"^recovery-(\d+)\.json$")
_RUNS = re.compile(r"^runs-(\d+)$")


@dataclass(frozen=True)
class RecoveryEntry:
    path: Path
    pid: int
    source: str | None
    """The project file the unsaved work belongs to (None for an untitled design)."""
    saved_at: float
    title: str
    runs: Path | None = None
    """The session's staged runs folder, when it has one."""
    trained: dict[str, Any] | None = None
    """What the autosave recorded about the trained state (see ``backend.runs.project``)."""


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

    @property
    def runs_path(self) -> Path:
        """Where this session's runs train until the project is saved."""
        return self.runs_path_of(self.pid)

    def runs_path_of(self, pid: int) -> Path:
        return self.folder / f"runs-{pid}"

    @property
    def weights_path(self) -> Path:
        """Where the autosave copies weights that exist only in memory."""
        return self.folder / f"weights-{self.pid}.safetensors"

    def acquire(self) -> RecoveryStore:
        """Mark this process as running (call once at start-up)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        project.cleanup_temp_files(self.folder)
        project.write_atomic(self.lock_path, json.dumps({"pid": self.pid,
                                                         "started": time.time()}))
        return self

    def write(self, doc: Document, source_path: str | os.PathLike[str] | None = None,
              trained: dict[str, Any] | None = None) -> Path:
        """Save the unsaved work of this session (atomic; replaces the previous autosave);
        ``trained``: a JSON record of the trained state to bring back with it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        payload = {"source": str(source_path) if source_path else None, "saved_at": time.time(),
                   "project": project.to_dict(doc), "trained": trained}
        project.write_atomic(self.recovery_path, json.dumps(payload, ensure_ascii=False))
        return self.recovery_path

    def clear(self) -> None:
        """Forget this session's autosave (after a successful save)."""
        _unlink(self.recovery_path)
        _unlink(self.weights_path)

    def release(self) -> None:
        """Clean exit: remove this session's autosave, staged runs and lock."""
        self.clear()
        _remove_tree(self.runs_path)
        _unlink(self.lock_path)

    def orphans(self) -> list[RecoveryEntry]:
        """Autosaves left behind by sessions that crashed (their process no longer runs), the
        newest first. A crashed session's staged runs come with its autosave; a runs folder
        without one is an entry of its own (``path`` is then the runs folder)."""
        entries = []
        try:
            files = sorted(self.folder.iterdir())
        except OSError:
            return entries
        seen: set[int] = set()
        for path in files:
            m = _RECOVERY.match(path.name)
            if not m:
                continue
            pid = int(m.group(1))
            if pid == self.pid or project.pid_alive(pid):
                continue
            trained = None
            try:
                meta = json.loads(path.read_text(encoding="utf-8"))
                source = meta.get("source")
                saved_at = float(meta.get("saved_at", path.stat().st_mtime))
                title = str(meta.get("project", {}).get("name", "Untitled"))
                trained = meta.get("trained") if isinstance(meta.get("trained"), dict) else None
            except (OSError, ValueError, AttributeError, TypeError, RecursionError):
                source, saved_at, title = None, path.stat().st_mtime, "Unreadable autosave"
            runs = self.runs_path_of(pid)
            seen.add(pid)
            entries.append(RecoveryEntry(path, pid, source if isinstance(source, str) else None,
                                         saved_at, title, runs if _is_dir(runs) else None,
                                         trained))
        for path in files:
            m = _RUNS.match(path.name)
            if not m or int(m.group(1)) in seen or not _is_dir(path):
                continue
            pid = int(m.group(1))
            if pid == self.pid or project.pid_alive(pid):
                continue
            try:
                if not any(path.iterdir()):
                    _remove_tree(path)  # nothing was left in it
                    continue
                saved_at = path.stat().st_mtime
            except OSError:
                continue
            entries.append(RecoveryEntry(path, pid, None, saved_at, "Training runs", path))
        return sorted(entries, key=lambda e: -e.saved_at)

    def load(self, entry: RecoveryEntry) -> Document:
        """The autosaved design (not for an entry that has only runs: see ``entry.runs``)."""
        try:
            payload: Any = json.loads(entry.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ProjectFormatError("$", f"the autosave cannot be read ({exc})",
                                     str(entry.path)) from None
        if not isinstance(payload, dict) or "project" not in payload:
            raise ProjectFormatError("$.project", "missing", str(entry.path))
        return project.from_dict(payload["project"])

    def discard(self, entry: RecoveryEntry, *, keep_runs: bool = False) -> None:
        """Remove an orphan's autosave and lock (and its staged runs and weights copy, unless
        ``keep_runs``: they were taken over)."""
        if entry.path != entry.runs:
            _unlink(entry.path)
        _unlink(self.folder / f"session-{entry.pid}.lock")
        if not keep_runs:
            _unlink(self.folder / f"weights-{entry.pid}.safetensors")
            _remove_tree(self.runs_path_of(entry.pid))


def _is_dir(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()


def _remove_tree(path: Path) -> None:
    if path.is_symlink():
        _unlink(path)
    elif path.is_dir():
        shutil.rmtree(path, ignore_errors=True)


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass
