"""A folder of run folders: list, create, read, rename, annotate, delete and move runs.

Listing reads only each run's small JSON record, so a project with many runs opens quickly; a
run folder that is not valid is left out of the list with a message (`RunStore.scan`), and
nothing is ever read from outside the run folders or followed through a link.
"""

from __future__ import annotations

import os
import secrets
import shutil
import time
from pathlib import Path
from typing import Any

from backend.runs.design import data_key, design_key
from backend.runs.files import (
    BEST,
    CHECKPOINT,
    DESIGN,
    EVALUATION,
    NOTES,
    RUN,
    WEIGHTS,
    RunFormatError,
    check_id,
    is_plain_dir,
    is_plain_file,
    read_bytes,
    remove_tree,
    write_json,
)
from backend.runs.record import (
    FORMAT,
    VERSION,
    RunHistory,
    RunInfo,
    list_folder,
    parse_history,
    parse_run,
    read_checkpoint_info,
    read_notes,
)
from graph import project
from graph.document import Document
from graph.errors import ProjectFormatError

#: The weight files of a run, by what they hold.
WEIGHT_FILES = {"final": WEIGHTS, "best": BEST}
MAX_NAME = 200
MAX_NOTE = 10_000


def new_run_id(now: float | None = None) -> str:
    """``20250301-142233-a1f3``: sorts by start time; the suffix keeps ids apart."""
    return time.strftime("%Y%m%d-%H%M%S", time.localtime(now)) + "-" + secrets.token_hex(2)


def new_record(run_id: str, doc: Document, data: dict[str, Any], training: dict[str, Any],
               number: int, project_file: str = "") -> dict[str, Any]:
    """The ``run.json`` of a run that is about to start."""
    return {"format": FORMAT, "version": VERSION, "id": run_id, "number": int(number),
            "project": project_file,
            "created": time.time(), "status": "starting", "message": "", "writer_pid": None,
            "design_key": design_key(doc), "data_key": data_key(doc), "model": doc.name,
            "settings": {"data": data, "training": training}, "device": "",
            "epochs": {"planned": int(training.get("epochs", 0) or 0), "done": 0}, "steps": 0,
            "seconds": 0.0,
            "outputs": [{"name": doc.attr(n, "name")} for n in doc.outputs()],
            "summary": {}, "best_epoch": None, "evaluation": None, "preprocessing": None}


def create_run_folder(folder: Path, doc: Document, data: dict[str, Any],
                      training: dict[str, Any], number: int = 1, project_file: str = "") -> Path:
    """Make ``folder`` a run folder for a run about to start: its record and its design."""
    run_id = check_id(folder.name)
    folder.mkdir(parents=True, exist_ok=True)
    project.write_atomic(folder / DESIGN, project.dumps(doc))
    write_json(folder, RUN, new_record(run_id, doc, data, training, number, project_file))
    return folder


class RunStore:
    """The runs in one folder (``<project>.runs``, or a session's staging folder)."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)

    def __repr__(self) -> str:
        return f"RunStore({str(self.folder)!r})"

    # --- listing -----------------------------------------------------------------------------
    def path(self, run_id: str) -> Path:
        return self.folder / check_id(run_id)

    def scan(self) -> tuple[list[RunInfo], list[str]]:
        """The valid runs (oldest first) and a message for every folder that is not one."""
        if self.folder.is_symlink():
            return [], [f"{self.folder.name} is a link; its runs are not read."]
        runs, problems = [], []
        for entry in list_folder(self.folder):
            if entry.name.startswith("."):
                continue  # temporary files of atomic writes
            try:
                check_id(entry.name)
            except RunFormatError:
                problems.append(f"{entry.name!r} in {self.folder.name} is not a run folder "
                                "(its name is not a run id); it was ignored.")
                continue
            if not entry.is_dir(follow_symlinks=False):
                problems.append(f"{entry.name} in {self.folder.name} is not a folder; ignored.")
                continue
            try:
                info = parse_run(Path(entry.path))
                if info.id != entry.name:
                    raise RunFormatError(f"{RUN}: id: {info.id!r} differs from the folder name.")
            except RunFormatError as exc:
                problems.append(f"Run {entry.name} was not loaded: {exc}")
                continue
            runs.append(info)
        runs.sort(key=lambda r: (r.created, r.id))
        return runs, problems

    def runs(self) -> list[RunInfo]:
        return self.scan()[0]

    def get(self, run_id: str) -> RunInfo:
        folder = self.path(run_id)
        if not is_plain_dir(folder):
            raise RunFormatError(f"There is no run {run_id} in {self.folder}.")
        return parse_run(folder)

    # --- creating ----------------------------------------------------------------------------
    def create(self, doc: Document, data: dict[str, Any], training: dict[str, Any],
               number: int, project_file: str = "") -> RunInfo:
        """A new run folder for a run about to start (status ``starting``)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        for _ in range(100):
            folder = self.folder / new_run_id()
            try:
                folder.mkdir()
            except FileExistsError:
                continue
            create_run_folder(folder, doc, data, training, number, project_file)
            return parse_run(folder)
        raise OSError(f"No free run id in {self.folder}.")

    # --- reading a run -----------------------------------------------------------------------
    def history(self, run_id: str, *, at_checkpoint: bool = False) -> RunHistory:
        """The run's history; with ``at_checkpoint``, as it was at its last checkpoint (what
        a resumed run continues from)."""
        folder = self.path(run_id)
        history = parse_history(folder)
        if at_checkpoint:
            ckpt = read_checkpoint_info(folder)
            if ckpt is not None:
                history = history.truncate(ckpt.epoch, ckpt.step)
        return history

    def design(self, run_id: str) -> Document:
        """The design the run trained (as it was when the run started)."""
        data = read_bytes(self.path(run_id), DESIGN)
        try:
            return project.loads(data)
        except ProjectFormatError as exc:
            raise RunFormatError(f"{DESIGN}: {exc.path}: {exc.problem}.") from None

    def weights(self, run_id: str, which: str = "final") -> tuple[dict[str, Any], dict | None]:
        """(state dict, preprocessing) of the run's ``final`` or ``best`` weights, or of its
        last ``checkpoint``."""
        folder = self.path(run_id)
        if which == "checkpoint":
            return checkpoint_weights(folder), parse_run(folder).preprocessing
        return read_state(folder, WEIGHT_FILES[which])

    def has_weights(self, run_id: str, which: str = "final") -> bool:
        folder = self.path(run_id)
        if which == "checkpoint":
            return is_plain_file(folder / CHECKPOINT)
        return is_plain_file(folder / WEIGHT_FILES[which])

    def evaluation(self, run_id: str) -> dict[str, Any] | None:
        """The final evaluation: split, metrics, confusion matrices, and the predictions and
        targets per output (tensors); None when the run has none."""
        folder = self.path(run_id)
        history = parse_history(folder)
        if not history.evaluation:
            return None
        result = dict(history.evaluation, predictions={}, targets={})
        if is_plain_file(folder / EVALUATION):
            tensors, _ = read_state(folder, EVALUATION)
            for key, value in tensors.items():
                kind, _, output = key.partition(".")
                if kind in ("predictions", "targets") and output:
                    result[kind][output] = value
        return result

    # --- editing -----------------------------------------------------------------------------
    def rename(self, run_id: str, name: str) -> None:
        self._notes(run_id, name=name.strip()[:MAX_NAME])

    def annotate(self, run_id: str, note: str) -> None:
        self._notes(run_id, note=note[:MAX_NOTE])

    def _notes(self, run_id: str, **changes: str) -> None:
        folder = self.path(run_id)
        if not is_plain_dir(folder):
            raise RunFormatError(f"There is no run {run_id}.")
        try:
            name, note = read_notes(folder)
        except RunFormatError:
            name, note = "", ""  # a damaged notes file is replaced
        values = {"name": name, "note": note, **changes}
        write_json(folder, NOTES, values)

    def delete(self, run_id: str) -> None:
        folder = self.path(run_id)
        if folder.exists() or folder.is_symlink():
            remove_tree(folder)

    def move_to(self, run_id: str, other: RunStore, *, copy: bool = False) -> Path:
        """Move (or copy) a run folder into ``other`` (same id); returns its new folder."""
        source = self.path(run_id)
        if not is_plain_dir(source):
            raise RunFormatError(f"There is no run {run_id} in {self.folder}.")
        target = other.path(run_id)
        other.folder.mkdir(parents=True, exist_ok=True)
        if target.exists():
            raise FileExistsError(f"{target} exists already.")
        tmp = other.folder / f".{run_id}.{os.getpid()}.tmp"
        remove_tree(tmp)
        if not copy:
            try:
                os.rename(source, target)  # same file system: instant and atomic
                return target
            except OSError:
                pass
        shutil.copytree(source, tmp, symlinks=True)
        os.rename(tmp, target)  # the copy appears whole or not at all
        if not copy:
            remove_tree(source)
        return target


def weights_header(folder: Path, name: str) -> dict[str, str]:
    """The text header of a weights file of ``folder`` ({} when it cannot be read)."""
    from safetensors import SafetensorError, safe_open

    if not is_plain_file(folder / name):
        return {}
    try:
        with safe_open(str(folder / name), framework="pt") as fh:
            return dict(fh.metadata() or {})
    except (OSError, SafetensorError, ValueError, RuntimeError):
        return {}


def read_state(folder: Path, name: str) -> tuple[dict[str, Any], dict | None]:
    """(tensors, preprocessing) of a safetensors file of a run folder; RunFormatError when
    the file is missing, a link, truncated or otherwise unreadable."""
    import json

    from safetensors import SafetensorError, safe_open

    path = folder / name
    if not is_plain_file(path):
        raise RunFormatError(f"{name} is missing." if not path.is_symlink() else
                             f"{name} is a link, not a file.")
    try:
        tensors = {}
        with safe_open(str(path), framework="pt") as fh:
            meta = fh.metadata() or {}
            for key in fh.keys():
                tensors[key] = fh.get_tensor(key)
    except (OSError, SafetensorError, ValueError, RuntimeError, TypeError) as exc:
        raise RunFormatError(f"{name} is not a readable safetensors file ({exc}).") from None
    pre = None
    if meta.get("preprocessing"):
        try:
            pre = json.loads(meta["preprocessing"])
        except (ValueError, RecursionError):
            raise RunFormatError(f"{name}: its preprocessing header is not JSON.") from None
        if not isinstance(pre, dict):
            raise RunFormatError(f"{name}: its preprocessing header is not an object.")
    return tensors, pre


def checkpoint_folder(folder: Path) -> Path:
    """The folder of the run's last complete checkpoint, its files checked (no links, within
    their size limits); RunFormatError without one."""
    from backend.runs.files import LIMITS

    info = read_checkpoint_info(folder)
    if info is None:
        raise RunFormatError("The run has no checkpoint.")
    ckpt = folder / info.folder
    if not is_plain_dir(ckpt):
        raise RunFormatError(f"{info.folder} is missing or not a folder.")
    from backend.training.checkpoints import META, STATE
    from backend.training.checkpoints import WEIGHTS as CKPT_WEIGHTS

    for name in (CKPT_WEIGHTS, STATE, META):
        if not is_plain_file(ckpt / name):
            raise RunFormatError(f"{info.folder}/{name} is missing or not a regular file.")
    if (ckpt / META).stat().st_size > LIMITS["trainer.json"]:
        raise RunFormatError(f"{info.folder}/{META} is too large.")
    return ckpt


def checkpoint_weights(folder: Path) -> dict[str, Any]:
    """The model weights of the run's last checkpoint."""
    from backend.training.checkpoints import WEIGHTS as CKPT_WEIGHTS

    ckpt = checkpoint_folder(folder)
    return read_state(ckpt, CKPT_WEIGHTS)[0]
