"""File → Export → Training script: write ``model.py``, ``train.py`` and the training runtime
into a chosen folder (`backend.export.script`; ``netcanvas export --format script`` writes the
same files)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def export_script(workflows: Any, folder: str | None = None) -> bool:
    """Ask for a folder (unless given) and write the reproducing training script there.

    Data from the user's files go beside the script as ``data.safetensors`` (the data set as
    NetCanvas read it). Settings or data that cannot be used get a message that says so;
    nothing is written then."""
    window = workflows.window
    problems = workflows.design_problems()
    if problems:
        window.dialogs.error("Cannot export the training script",
                             "Fix the design first: " + " ".join(problems[:3]))
        return False
    if folder is None:
        start = workflows.project_dir() or window.settings.last_folder() or str(Path.home())
        folder = workflows.ask.folder("Export training script: choose a folder", start)
        if not folder:
            return False
    from backend.export.script import export_training_script
    from graph.errors import GraphError

    try:
        written = export_training_script(workflows.controller.doc, folder,
                                         base_dir=workflows.project_dir())
    except GraphError as exc:
        window.dialogs.error("Cannot export the training script", exc.message)
        return False
    except (OSError, ValueError) as exc:
        window.dialogs.error("Cannot export the training script",
                             f"Nothing was written to {folder}: {exc}")
        return False
    data = (f", the data set {written.data.name} (your data as NetCanvas read them)"
            if written.data is not None else "")
    workflows.message(f"Wrote {written.model.name}, {written.script.name}{data} and the "
                      f"training code in {written.runtime.name}/ to {written.script.parent}: "
                      f"run `python {written.script.name}` there.")
    return True
