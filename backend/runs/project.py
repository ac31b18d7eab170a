"""The project's trained state: its runs and its current weights, owned like the design.

`ProjectRuns` is plain Python (no Qt) and belongs to the open project, not to a widget:

* Runs train into this session's *staging* folder (in the recovery folder), so a crash leaves
  them where the next start finds them, and an unsaved or untitled project keeps them there.
  Save moves the runs that have ended into ``<project>.runs/``; Discard deletes them.
* The current weights are a state dict (with the data's preprocessing and where they came from).
  They are kept whole while the design is edited; what fits the design is chosen by name and
  shape when they are used (saved, exported, trained on), so an edit that is undone loses none.
* ``dirty``: training made something that is not saved (a new run, new weights); the app counts
  it in "modified" beside the undo stack.

Listeners (`subscribe`) hear ``"runs"`` when the list of runs or a run changed and
``"weights"`` when the current weights changed.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backend.runs.files import (
    RunFormatError,
    is_plain_dir,
    is_plain_file,
    remove_tree,
    runs_folder_for,
    weights_path_for,
)
from backend.runs.record import RunInfo
from backend.runs.store import RunStore, read_state, weights_header
from graph.document import Document

Listener = Callable[[str], None]


@dataclass(frozen=True)
class Weights:
    """The current weights: a CPU state dict, the preprocessing of the data they were trained
    on, and their source: ``{"run": id, "file": "final" | "best" | "checkpoint"}`` (a run's
    file), ``{"file": "project"}`` (the file beside the project), ``{"file": "memory"}`` or None
    (only in memory); ``run`` names the run they came from when known."""

    state: dict[str, Any]
    preprocessing: dict[str, Any] | None = None
    source: dict[str, Any] | None = None


def session_staging() -> Path:
    """A staging folder for a process without a recovery folder (made when a run needs it)."""
    import tempfile

    return Path(tempfile.gettempdir()) / f"netcanvas-runs-{os.getpid()}"


class ProjectRuns:
    """What training made for the project being edited."""

    def __init__(self, staging: str | os.PathLike[str]) -> None:
        self.staging = RunStore(staging)
        self.saved: RunStore | None = None
        self.project: Path | None = None
        self.weights: Weights | None = None
        self.dirty = False
        #: Messages about run folders that were not loaded (shown to the person).
        self.problems: list[str] = []
        #: The run being trained (it stays staged until it ends).
        self.active: str | None = None
        self._runs: dict[str, RunInfo] = {}
        self._listeners: list[Listener] = []

    # --- listeners -----------------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _changed(self, what: str) -> None:
        for listener in list(self._listeners):
            listener(what)

    def set_dirty(self, dirty: bool = True) -> None:
        if dirty != self.dirty:
            self.dirty = dirty
            self._changed("dirty")

    # --- the list of runs ----------------------------------------------------------------------
    def runs(self) -> list[RunInfo]:
        """Saved and staged runs, oldest first."""
        return sorted(self._runs.values(), key=lambda r: (r.created, r.id))

    def get(self, run_id: str) -> RunInfo | None:
        return self._runs.get(run_id)

    def store_of(self, run_id: str) -> RunStore:
        info = self._runs.get(run_id)
        if info is not None and self.saved is not None and info.folder.parent == \
                self.saved.folder:
            return self.saved
        return self.staging

    def is_saved(self, run_id: str) -> bool:
        return self.saved is not None and self.store_of(run_id) is self.saved

    def rescan(self) -> None:
        """Read the runs of the project and of the staging folder again."""
        self.problems = []
        runs: dict[str, RunInfo] = {}
        for store in (self.saved, self.staging):
            if store is None:
                continue
            found, problems = store.scan()
            self.problems += problems
            runs.update({r.id: r for r in found})
        self._runs = runs
        self._changed("runs")

    def refresh(self, run_id: str) -> RunInfo | None:
        """Read one run's record again (after its writer changed it)."""
        store = self.store_of(run_id)
        try:
            info = store.get(run_id)
        except RunFormatError as exc:
            self._runs.pop(run_id, None)
            self.problems.append(f"Run {run_id} was not loaded: {exc}")
            info = None
        else:
            self._runs[run_id] = info
        self._changed("runs")
        return info

    def next_number(self) -> int:
        return max((r.number for r in self._runs.values()), default=0) + 1

    # --- the project's lifecycle ---------------------------------------------------------------
    def reset(self, project: str | os.PathLike[str] | None = None) -> None:
        """A project without trained state (new, an example; ``project``: where it is saved)."""
        self.project = Path(project) if project else None
        self.saved = RunStore(runs_folder_for(self.project)) if self.project else None
        self.weights = None
        self.active = None
        self.dirty = False
        self.rescan()
        self._changed("weights")

    def open(self, project: str | os.PathLike[str], doc: Document) -> list[str]:
        """Follow the project file just opened: its runs and the weights beside it. Returns
        messages for the log (what was loaded, what was not and why)."""
        self.reset(project)
        notes = list(self.problems)
        path = weights_path_for(project)
        if is_plain_file(path):
            try:
                state, pre = read_state(path.parent, path.name)
            except RunFormatError as exc:
                notes.append(f"The weights beside the project were not loaded: {exc}")
            else:
                note = fit_note(doc, state)
                if note is None:
                    notes.append(f"The weights in {path.name} do not fit the design; they "
                                 "were not loaded.")
                else:
                    run = weights_header(path.parent, path.name).get("run")
                    source = {"file": "project"}
                    if run in self._runs:  # they came from this run of the project
                        source["run"] = run
                    self.weights = Weights(state, pre, source)
                    notes.append(f"Loaded the trained weights from {path}" + note)
                    self._changed("weights")
        return notes

    def discard(self) -> None:
        """Forget what was not saved: delete the staged runs (not the one in training)."""
        for info in list(self._runs.values()):
            if self.store_of(info.id) is self.staging and info.id != self.active:
                self.staging.delete(info.id)
                self._runs.pop(info.id, None)
        self.set_dirty(False)
        self._changed("runs")

    def save(self, project: str | os.PathLike[str], doc: Document) -> list[str]:
        """Save the trained state with the project at ``project``: ended staged runs move into
        ``<project>.runs/`` (the runs of the project's previous location are copied there on
        Save As) and the weights that fit the design go beside it. Raises OSError when a file
        cannot be written; returns messages for the log."""
        project = Path(project)
        target = RunStore(runs_folder_for(project))
        notes: list[str] = []
        moved = 0
        if self.saved is not None and self.saved.folder != target.folder:
            for info in self.saved.runs():
                if not target.path(info.id).exists():
                    self.saved.move_to(info.id, target, copy=True)
        for info in list(self._runs.values()):
            if self.store_of(info.id) is self.staging and info.id != self.active:
                self.staging.move_to(info.id, target)
                moved += 1
        if moved:
            notes.append(f"Saved {moved} run(s) to {target.folder}")
        weights_file = weights_path_for(project)
        if self.weights is not None:
            from backend.export.weights import save_state
            from graph.project import write_atomic

            state = fitting_subset(doc, self.weights.state)
            run = (self.weights.source or {}).get("run")
            tmp = weights_file.with_name(f".{weights_file.name}.{os.getpid()}.tmp")
            save_state(state, tmp, self.weights.preprocessing, {"run": run} if run else None)
            write_atomic(weights_file, tmp.read_bytes())
            tmp.unlink()
            notes.append(f"Saved the trained weights to {weights_file}")
            self.weights = Weights(self.weights.state, self.weights.preprocessing,
                                   {"file": "project", **({"run": run} if run else {})})
        elif is_plain_file(weights_file):
            weights_file.unlink()  # not this design's weights (Save As over another project)
        self.project, self.saved = project, target
        self.rescan()
        self.set_dirty(self.active is not None)  # a run in training is saved when it ends
        return notes

    # --- runs ----------------------------------------------------------------------------------
    def begin_run(self, doc: Document, data: dict[str, Any], training: dict[str, Any]
                  ) -> RunInfo:
        """A staged run folder for a run about to start; the project is modified from now."""
        info = self.staging.create(doc, data, training, self.next_number())
        self._runs[info.id] = info
        self.active = info.id
        self.dirty = True
        self._changed("runs")
        self._changed("dirty")
        return info

    def run_ended(self, run_id: str) -> RunInfo | None:
        if self.active == run_id:
            self.active = None
        return self.refresh(run_id)

    def resume_run(self, run_id: str) -> RunInfo:
        """Mark a run as the one in training again (Resume writes into its folder)."""
        info = self._runs[run_id]
        self.active = run_id
        self.set_dirty(True)
        return info

    def adopt(self, folder: str | os.PathLike[str]) -> list[RunInfo]:
        """Take over the staged runs of a session that ended without saving them (recovery):
        they move into this session's staging folder. Returns the adopted runs."""
        other = RunStore(folder)
        adopted = []
        found, problems = other.scan()
        self.problems += problems
        for info in found:
            try:
                other.move_to(info.id, self.staging)
            except (OSError, RunFormatError) as exc:
                self.problems.append(f"Run {info.id} was not recovered: {exc}")
                continue
            adopted.append(info.id)
        if is_plain_dir(Path(folder)):
            remove_tree(Path(folder))
        if adopted:
            self.dirty = True
        self.rescan()
        return [self._runs[i] for i in adopted if i in self._runs]

    def rename(self, run_id: str, name: str) -> None:
        self.store_of(run_id).rename(run_id, name)
        self.refresh(run_id)

    def annotate(self, run_id: str, note: str) -> None:
        self.store_of(run_id).annotate(run_id, note)
        self.refresh(run_id)

    def delete(self, run_id: str) -> None:
        if run_id == self.active:
            raise RunFormatError("The run is still training; stop it first.")
        self.store_of(run_id).delete(run_id)
        self._runs.pop(run_id, None)
        if self.weights is not None and (self.weights.source or {}).get("run") == run_id:
            self.weights = Weights(self.weights.state, self.weights.preprocessing, None)
        self._changed("runs")

    # --- reading a run (from whichever store holds it) -----------------------------------------
    def history(self, run_id: str, **kwargs: Any) -> Any:
        return self.store_of(run_id).history(run_id, **kwargs)

    def design(self, run_id: str) -> Document:
        return self.store_of(run_id).design(run_id)

    def run_weights(self, run_id: str, which: str = "final") -> Weights:
        state, pre = self.store_of(run_id).weights(run_id, which)
        return Weights(state, pre, {"run": run_id, "file": which})

    def evaluation(self, run_id: str) -> Any:
        return self.store_of(run_id).evaluation(run_id)

    def best_weights_of(self, run_id: str) -> str | None:
        """Which weights restore a run: ``final``, else its last ``checkpoint``, else None."""
        store = self.store_of(run_id)
        for which in ("final", "checkpoint"):
            if store.has_weights(run_id, which):
                return which
        return None

    # --- weights -------------------------------------------------------------------------------
    def set_weights(self, weights: Weights | None, *, dirty: bool = True) -> None:
        self.weights = weights
        if dirty:
            self.dirty = True
            self._changed("dirty")
        self._changed("weights")

    def recovery_record(self, weights_copy: Path) -> dict[str, Any]:
        """What an autosave records so a crashed session's trained state comes back: the
        staging folder, and where the current weights are (written to ``weights_copy`` when
        they exist only in memory)."""
        record: dict[str, Any] = {"runs": str(self.staging.folder), "weights": None}
        if self.weights is not None:
            source = self.weights.source or {}
            run, file = source.get("run"), source.get("file")
            if file in ("final", "best", "checkpoint") and run in self._runs:
                record["weights"] = {"run": run, "file": file}
            elif file == "project" and self.project is not None:
                record["weights"] = {"copy": str(weights_path_for(self.project)), "run": run}
            else:  # only in memory (copied in, or a file no longer there): a copy
                from backend.export.weights import save_state

                save_state(self.weights.state, weights_copy, self.weights.preprocessing)
                record["weights"] = {"copy": str(weights_copy), "run": run}
        return record

    def recover_weights(self, source: Any) -> str | None:
        """Take the current weights from a recovery record's ``weights``; a note for the log,
        None when there were none."""
        if not isinstance(source, dict):
            return None
        try:
            if isinstance(source.get("copy"), str):
                path = Path(source["copy"])
                state, pre = read_state(path.parent, path.name)
                run = source.get("run")
                self.set_weights(Weights(state, pre, {"run": run, "file": "memory"}
                                         if isinstance(run, str) and run in self._runs
                                         else None))
            elif isinstance(source.get("run"), str) and source["run"] in self._runs:
                which = source.get("file") if source.get("file") in ("final", "best",
                                                                      "checkpoint") else "final"
                self.set_weights(self.run_weights(source["run"], which))
            else:
                return None
        except RunFormatError as exc:
            return f"The trained weights were not recovered: {exc}"
        return "Recovered the trained weights."


def fit(doc: Document, state: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    """The state dict of ``doc``'s module with ``state`` loaded by name where the shape
    matches (other layers keep fresh initial values) and the load report."""
    from backend.export.weights import load_state_by_name
    from backend.model.compiler import compile_document

    module = compile_document(doc).module
    report = load_state_by_name(module, state)
    return {k: v.detach().clone() for k, v in module.state_dict().items()}, report


def fitting_subset(doc: Document, state: dict[str, Any]) -> dict[str, Any]:
    """The tensors of ``state`` that fit ``doc`` by name and shape (all of them when the
    design cannot be compiled now)."""
    from graph.errors import GraphError

    try:
        _, report = fit(doc, state)
    except (GraphError, ValueError, TypeError, RuntimeError):
        return dict(state)
    return {k: state[k] for k in report.loaded}


def fit_note(doc: Document, state: dict[str, Any]) -> str | None:
    """"" when every tensor of the design has a trained value, a note naming what starts fresh
    (or saying that the design cannot be compiled now) otherwise, None when nothing fits."""
    from graph.errors import GraphError

    try:
        _, report = fit(doc, state)
    except (GraphError, ValueError, TypeError, RuntimeError):
        return " (the design has errors now: they are matched by name when it trains)"
    if not report.loaded:
        return None
    fresh = sorted({n.rsplit(".", 1)[0] for n in report.missing +
                    [name for name, *_ in report.shape_mismatch]})
    return f" ({', '.join(fresh)} not trained: new or resized)" if fresh else ""
