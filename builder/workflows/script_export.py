"""File → Export → Training script: write ``model.py`` and ``train.py`` into a chosen folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def export_script(workflows: Any, folder: str | None = None) -> bool:
    """Ask for a folder (unless given) and write the reproducing training script there.

    Data from the user's files go beside the script as ``data.safetensors`` (the prepared
    splits). Runs that cannot be scripted (mixed precision, per-sample weight columns) get a
    message that says so; nothing is written then."""
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
    data = (f" and the prepared data {written.data.name} (your data, split and encoded as "
            "in the app)" if written.data is not None else "")
    workflows.message(f"Wrote {written.model}, {written.script}{data}: run "
                      f"`python {written.script.name}` in {written.script.parent}.")
    return True
