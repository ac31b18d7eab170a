"""Project files in the app: new, open, save, save as, recent files, export, unsaved prompt.

The project is the design *and* what training made for it (`backend.runs.project.ProjectRuns`:
runs and the current weights): "modified" counts both, Save writes both, and New / Open / Close
ask about unsaved trained weights and runs exactly as about unsaved edits.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from backend.runs.project import ProjectRuns, session_staging
from builder.controller import EditorController
from builder.dialogs import CANCEL, SAVE, Dialogs
from builder.settings import AppSettings
from graph import project
from graph.document import Document
from graph.errors import GraphError, ProjectFormatError

#: Export format → (menu text, file suffix, file-dialog filter).
EXPORTS = {
    "py": ("PyTorch code (.py)…", ".py", "Python files (*.py)"),
    "safetensors": ("Weights (.safetensors)…", ".safetensors", "safetensors (*.safetensors)"),
    "onnx": ("ONNX model (.onnx)…", ".onnx", "ONNX (*.onnx)"),
    "torchscript": ("TorchScript (.pt)…", ".pt", "TorchScript (*.pt)"),
}


class ProjectFiles(QObject):
    """Which file the design belongs to, and the operations that read or write it."""

    pathChanged = Signal()
    recentChanged = Signal()
    saved = Signal(str)
    message = Signal(str)
    #: The trained state changed: "runs" (the list or a run), "weights", "dirty".
    trainedChanged = Signal(str)

    def __init__(self, controller: EditorController, dialogs: Dialogs, settings: AppSettings,
                 parent: QObject | None = None, runs: ProjectRuns | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.dialogs = dialogs
        self.settings = settings
        self.path: Path | None = None
        self.untitled_name = "Untitled"
        #: What training made for the project (runs train into its staging folder).
        self.runs = runs or ProjectRuns(session_staging())
        self.runs.subscribe(self._trained_changed)
        #: Called before the project is dropped (New, Open, Close): stop a run in progress.
        self.before_drop: list[Callable[[], None]] = []
        self.runs.reset()

    def _trained_changed(self, what: str) -> None:
        self.trainedChanged.emit(what)


    # --- state -------------------------------------------------------------------------------
    def title(self) -> str:
        if self.path is not None:
            name = self.path.name
            return name[: -len(project.SUFFIX)] if name.endswith(project.SUFFIX) else name
        return self.untitled_name

    def is_modified(self) -> bool:
        return not self.controller.stack.isClean() or self.runs.dirty

    def unsaved_detail(self) -> str:
        """What training made that is not saved, in words ("" when nothing)."""
        if not self.runs.dirty:
            return ""
        new = [r for r in self.runs.runs() if not self.runs.is_saved(r.id)]
        parts = []
        if self.runs.weights is not None and (self.runs.weights.source or {}).get("file") \
                != "project":
            parts.append("trained weights")
        if new:
            parts.append(f"{len(new)} training run{'s' if len(new) > 1 else ''}")
        text = "Unsaved: " + " and ".join(parts) + "." if parts else ""
        if self.runs.active is not None:
            text += " A run is in progress; it will be stopped (Resume continues it)."
        return text.strip()

    def _set_path(self, path: Path | None, untitled: str = "Untitled") -> None:
        self.path = path
        self.untitled_name = untitled
        if path is not None:
            self.settings.add_recent(str(path))
            self.settings.set_last_folder(str(path.parent))
            self.recentChanged.emit()
        self.pathChanged.emit()

    # --- operations --------------------------------------------------------------------------
    def maybe_save(self) -> bool:
        """True when it is fine to drop the current design and what training made for it
        (saved, discarded, or unchanged). A run in progress is stopped first (unless the
        person cancels), so that it is saved or discarded with the rest."""
        if not self.is_modified():
            self._drop()
            return True
        detail = self.unsaved_detail()
        answer = (self.dialogs.unsaved_changes(self.title(), detail) if detail else
                  self.dialogs.unsaved_changes(self.title()))
        if answer == CANCEL:
            return False
        if answer == SAVE:
            path = self.path or self._ask_save_path()
            if path is None:
                return False  # the save dialog was cancelled: nothing is dropped or stopped
            self._drop()
            return self._save_to(path)
        self._drop()
        self.runs.discard()
        return True

    def _drop(self) -> None:
        for stop in self.before_drop:
            stop()

    def new(self) -> bool:
        if not self.maybe_save():
            return False
        self.runs.reset()
        self.controller.set_document(Document())
        self._set_path(None)
        return True

    def open(self, path: str | Path | None = None, *, ask: bool = True) -> bool:
        """Open a project file; a bad file opens nothing and the dialog names the bad field."""
        if ask and not self.maybe_save():
            return False
        if path is None:
            chosen = self.dialogs.open_path(self.settings.last_folder())
            if not chosen:
                return False
            path = chosen
        path = Path(path)
        try:
            doc = project.load(path)
        except ProjectFormatError as exc:
            self.dialogs.error("Cannot open project",
                               f"{path.name} was not opened: {exc.path}: {exc.problem}")
            return False
        notes = self.runs.open(path.resolve(), doc)
        self.controller.set_document(doc)
        self._set_path(path.resolve())
        self.message.emit(f"Opened {path}")
        for note in notes:
            self.message.emit(note)
        return True

    def open_document(self, doc: Document, title: str, *, modified: bool = False,
                      source: str | None = None) -> None:
        """Show a document that has no file yet (an example, recovered work)."""
        notes: list[str] = []
        if source and Path(source).exists():
            notes = self.runs.open(source, doc)  # the saved project's runs and weights
        else:
            self.runs.reset(source)
        self.controller.set_document(doc)
        self._set_path(Path(source) if source else None, title)
        if modified:
            self.controller.stack.resetClean()
        for note in notes:
            self.message.emit(note)

    def save(self) -> bool:
        if self.path is None:
            return self.save_as()
        return self._write(self.path)

    def save_as(self) -> bool:
        path = self._ask_save_path()
        return path is not None and self._save_to(path)

    def _ask_save_path(self) -> Path | None:
        folder = Path(self.settings.last_folder() or Path.home())
        suggestion = str(self.path or folder / f"{self.untitled_name}{project.SUFFIX}")
        chosen = self.dialogs.save_path(suggestion)
        if not chosen:
            return None
        path = Path(chosen)
        if not path.name.endswith((".json",)):
            path = path.with_name(path.name + project.SUFFIX)
        return path

    def _save_to(self, path: Path) -> bool:
        if not self._write(path):
            return False
        if path.resolve() != self.path:
            self._set_path(path.resolve())
        return True

    def _write(self, path: Path) -> bool:
        try:
            project.save(self.controller.doc, path)
        except (OSError, GraphError, ValueError) as exc:
            self.dialogs.error("Cannot save project", f"{path} was not saved: {exc}")
            return False
        self.controller.stack.setClean()
        try:
            notes = self.runs.save(path.resolve(), self.controller.doc)
        except OSError as exc:
            self.dialogs.error("Cannot save the trained state",
                               f"The design was saved to {path}, but its trained weights and "
                               f"runs were not: {exc}")
            return False
        self.saved.emit(str(path))
        self.message.emit(f"Saved {path}")
        for note in notes:
            self.message.emit(note)
        return True

    def export(self, fmt: str, path: str | Path | None = None,
               weights_path: str | None = None) -> bool:
        """Export the design through the backend (code, weights, ONNX, TorchScript); with
        ``weights_path`` (the trained weights) the model is exported with them."""
        if path is None:
            path = self.export_path(fmt)
            if not path:
                return False
        problem = write_export(self.controller.doc, fmt, path, weights_path)
        return self.export_done(path, problem)

    def export_path(self, fmt: str) -> str | None:
        """Ask where an export goes (None: cancelled)."""
        text, suffix, file_filter = EXPORTS[fmt]
        base = (self.path.parent if self.path else Path(self.settings.last_folder()
                                                         or Path.home()))
        return self.dialogs.save_path(str(base / f"{self.title()}{suffix}"),
                                      f"Export {text.rstrip('…')}", file_filter) or None

    def export_done(self, path: str | Path, problem: tuple[str, str] | None) -> bool:
        """Say how an export ended (``problem``: the (title, text) `write_export` returned)."""
        if problem is not None:
            self.dialogs.error(*problem)
            return False
        self.message.emit(f"Exported {path}")
        return True


def write_export(doc: Document, fmt: str, path: str | Path, weights_path: str | None = None
                 ) -> tuple[str, str] | None:
    """Write one export; returns None, or (title, text) of the error to show. Qt-free, so a
    background job can run it (ONNX takes seconds)."""
    try:
        from backend.export.formats import export
    except ImportError as exc:
        return "Export unavailable", f"The exporter cannot be loaded: {exc}"
    try:
        export(doc, fmt, str(path), weights_path=weights_path)
    except GraphError as exc:
        return "Cannot export", f"Fix the design first: {exc.message}"
    except (OSError, ValueError, RuntimeError, ImportError) as exc:
        return "Cannot export", f"{path} was not written: {exc}"
    return None
