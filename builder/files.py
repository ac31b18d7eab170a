"""Project files in the app: new, open, save, save as, recent files, export, unsaved prompt."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

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

    def __init__(self, controller: EditorController, dialogs: Dialogs, settings: AppSettings,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.dialogs = dialogs
        self.settings = settings
        self.path: Path | None = None
        self.untitled_name = "Untitled"

    # --- state -------------------------------------------------------------------------------
    def title(self) -> str:
        if self.path is not None:
            name = self.path.name
            return name[: -len(project.SUFFIX)] if name.endswith(project.SUFFIX) else name
        return self.untitled_name

    def is_modified(self) -> bool:
        return not self.controller.stack.isClean()

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
        """True when it is fine to drop the current design (saved, discarded, or unchanged)."""
        if not self.is_modified():
            return True
        answer = self.dialogs.unsaved_changes(self.title())
        if answer == SAVE:
            return self.save()
        return answer != CANCEL

    def new(self) -> bool:
        if not self.maybe_save():
            return False
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
        self.controller.set_document(doc)
        self._set_path(path.resolve())
        self.message.emit(f"Opened {path}")
        return True

    def open_document(self, doc: Document, title: str, *, modified: bool = False,
                      source: str | None = None) -> None:
        """Show a document that has no file yet (an example, recovered work)."""
        self.controller.set_document(doc)
        self._set_path(Path(source) if source else None, title)
        if modified:
            self.controller.stack.resetClean()

    def save(self) -> bool:
        if self.path is None:
            return self.save_as()
        return self._write(self.path)

    def save_as(self) -> bool:
        folder = Path(self.settings.last_folder() or Path.home())
        suggestion = str(self.path or folder / f"{self.untitled_name}{project.SUFFIX}")
        chosen = self.dialogs.save_path(suggestion)
        if not chosen:
            return False
        path = Path(chosen)
        if not path.name.endswith((".json",)):
            path = path.with_name(path.name + project.SUFFIX)
        if not self._write(path):
            return False
        self._set_path(path.resolve())
        return True

    def _write(self, path: Path) -> bool:
        try:
            project.save(self.controller.doc, path)
        except (OSError, GraphError, ValueError) as exc:
            self.dialogs.error("Cannot save project", f"{path} was not saved: {exc}")
            return False
        self.controller.stack.setClean()
        self.saved.emit(str(path))
        self.message.emit(f"Saved {path}")
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
