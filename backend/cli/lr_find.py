"""``netcanvas lr-find PROJECT``: sweep the learning rate, print the curve and the suggestion;
``--apply`` writes the suggestion into the project's training section (atomic save)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", help="project file (.json)")
    parser.add_argument("--steps", type=int, default=200, help="steps of the sweep (default 200)")
    parser.add_argument("--start", type=float, default=1e-5, help="first learning rate")
    parser.add_argument("--end", type=float, default=10.0, help="last learning rate")
    parser.add_argument("--device", help="auto, cpu, cuda, cuda:N or mps")
    parser.add_argument("--apply", action="store_true",
                        help="write the suggested learning rate into the project file")


def run(args: argparse.Namespace) -> int:
    from backend.data.errors import DataError
    from backend.training.control import Control
    from backend.workflows.lr_finder import find_lr, sparkline
    from graph.edits import SetSection
    from graph.errors import GraphError
    from graph.project import load, save

    err = sys.stderr
    path = Path(args.project)
    try:
        doc = load(path)
    except GraphError as exc:
        print(f"error: {exc}", file=err)
        return 2
    training = doc.section("training")
    if args.device:
        training["device"] = args.device
    control = Control()
    try:
        result = find_lr(doc, config=training, start_lr=args.start, end_lr=args.end,
                         steps=args.steps, control=control, base_dir=path.parent)
    except (ValueError, DataError, GraphError) as exc:
        print(f"error: {exc}", file=err)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=err)
        return 130
    print(sparkline(result))
    print(f"{len(result.lrs)} steps ({result.reason})")
    if result.suggestion is None:
        print("error: the sweep was too short to suggest a learning rate; use more --steps.",
              file=err)
        return 1
    print(f"lowest smoothed loss at lr {result.min_loss_lr:.3g}; steepest descent at lr "
          f"{result.steepest_lr:.3g}" if result.steepest_lr else
          f"lowest smoothed loss at lr {result.min_loss_lr:.3g}")
    print(f"suggested learning rate: {result.suggestion:.3g} (current: "
          f"{doc.section('training').get('lr', 1e-3):g})")
    if args.apply:
        section = doc.section("training")
        section["lr"] = float(f"{result.suggestion:.3g}")
        doc.apply(SetSection("training", section))
        save(doc, path)
        print(f"wrote lr {section['lr']:g} into {path}")
    return 0
