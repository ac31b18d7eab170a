"""File → Export → Training script: write ``model.py`` and ``train.py`` into a chosen folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def export_script(workflows: Any, folder: str | None = None) -> bool:
    """Ask for a folder (unless given) and write the reproducing training script there.

    Designs whose data cannot be scripted (the user's own files, mixed precision) get a message
    that says so and what to export instead; nothing is written then."""
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
    from backend.script_export import export_training_script
    from graph.errors import GraphError

    try:
        written = export_training_script(workflows.controller.doc, folder)
    except GraphError as exc:
        window.dialogs.error("Cannot export the training script", exc.message)
        return False
    except (OSError, ValueError) as exc:
        window.dialogs.error("Cannot export the training script",
                             f"Nothing was written to {folder}: {exc}")
        return False
    workflows.message(f"Wrote {written.model} and {written.script}: run "
                      f"`python {written.script.name}` in {written.script.parent}.")
    return True
