"""``netcanvas runs PROJECT``: list the runs recorded beside a project (``PROJECT.runs/``).

One line per run: its id and name, when it started, the design version it trained, its key
settings, best and final metrics per output, duration and status. Run folders that cannot be
read are named on stderr with the reason. Reads only the runs' small JSON records."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", help="project file (.json) whose runs to list")
    parser.add_argument("--json", action="store_true", help="print one JSON object per run")


def run(args: argparse.Namespace) -> int:
    from backend.runs.files import runs_folder_for
    from backend.runs.record import (
        best_text,
        design_versions,
        duration_text,
        final_text,
        status_text,
    )
    from backend.runs.store import RunStore

    folder = runs_folder_for(Path(args.project))
    runs, problems = RunStore(folder).scan()
    for problem in problems:
        print(f"warning: {problem}", file=sys.stderr)
    versions = design_versions(runs)
    if args.json:
        for info in runs:
            print(json.dumps({"id": info.id, "name": info.title, "note": info.note,
                              "created": info.created, "design_version":
                                  versions[info.design_key], "status": info.state,
                              "epochs": {"done": info.epochs_done,
                                         "planned": info.epochs_planned},
                              "seconds": info.seconds, "settings": info.settings,
                              "summary": info.summary,
                              "resumable": info.resumable}, ensure_ascii=False))
        return 0
    if not runs:
        print(f"no runs in {folder}")
        return 0
    for info in runs:
        print(f"{info.id}  {info.title}  {info.when()}  design v{versions[info.design_key]}  "
              f"{status_text(info)}  {duration_text(info.seconds)}")
        print(f"    {info.key_settings()}")
        best, final = best_text(info), final_text(info)
        if best:
            print(f"    best: {best}")
        if final:
            print(f"    final: {final}")
        if info.note:
            print(f"    note: {info.note.splitlines()[0][:200]}")
        if info.resumable:
            print(f"    resume: netcanvas train {args.project} --resume {info.id}")
    return 0
