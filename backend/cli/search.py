"""``netcanvas search PROJECT --trials N``: hyperparameter search with optuna, a results table,
and ``-o best.json``: the best trial as a new project file.

The search space comes from the training section's ``"search"`` object (see docs/workflows.md);
without one: 0–3 hidden Dense layers of 32–256 units and a log-uniform lr in 3e-4…3e-2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", help="project file (.json)")
    parser.add_argument("--trials", type=int, help="number of trials (default 20)")
    parser.add_argument("--timeout", type=float, help="stop starting trials after S seconds")
    parser.add_argument("--folds", type=int, help="k-fold cross-validation per trial (2–10)")
    parser.add_argument("--epochs", type=int, help="epochs per trial (default: the project's)")
    parser.add_argument("--sampler", choices=("tpe", "random"), help="default tpe")
    parser.add_argument("--no-prune", action="store_true", help="train every trial to the end")
    parser.add_argument("--metric", help="auto, loss, accuracy, mae or r2 (default auto)")
    parser.add_argument("--device", help="auto, cpu, cuda, cuda:N or mps")
    parser.add_argument("-o", "--output", help="write the best trial as a project file")


def run(args: argparse.Namespace) -> int:
    from backend.data.errors import DataError
    from backend.training.control import Control
    from backend.workflows.search import TrialDone, search, settings_from_section
    from graph.edits import SetSection
    from graph.errors import GraphError
    from graph.project import load, save

    err = sys.stderr
    path = Path(args.project)
    try:
        doc = load(path)
        training = doc.section("training")
        settings = settings_from_section(training)
    except (GraphError, ValueError) as exc:
        print(f"error: {exc}", file=err)
        return 2
    for key in ("trials", "timeout", "folds", "epochs", "sampler", "metric"):
        if getattr(args, key) is not None:
            setattr(settings, key, getattr(args, key))
    if args.no_prune:
        settings.prune = False
    if args.device:
        training["device"] = args.device
        doc.apply(SetSection("training", training))
    try:
        settings.check()
    except ValueError as exc:
        print(f"error: {exc}", file=err)
        return 2

    def progress(event: object) -> None:
        if isinstance(event, TrialDone):
            r = event.record
            score = "" if r.score is None else f" score {r.score:.4g}"
            print(f"trial {r.number}: {r.state}{score} ({r.seconds:.1f}s) {r.params}"
                  + (f" — {r.message}" if r.message else ""), flush=True)

    try:
        result = search(doc, settings, callback=progress, control=Control(),
                        base_dir=path.parent)
    except (GraphError, ValueError, DataError) as exc:
        print(f"error: {exc}", file=err)
        return 2
    print()
    print(result.table())
    best = result.best
    if best is None:
        print("error: no trial completed.", file=err)
        return 1
    print(f"\nbest: trial {best.number}, {result.metric} {best.score:.4g}, {best.params}")
    if args.output:
        out = Path(args.output)
        save(result.best_document(), out)
        print(f"wrote the best design to {out}")
    return 0
