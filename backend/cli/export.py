"""``netcanvas export PROJECT --format py|safetensors|onnx|torchscript -o OUT [--weights W]``, and
``--format script -o DIR``: the reproducing training script, the same files the app writes."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

FORMATS = ("py", "safetensors", "onnx", "torchscript", "script")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", help="a NetCanvas project file (.ncproj.json)")
    parser.add_argument("--format", "-f", choices=FORMATS, default="py",
                        help="what to write (default: py, the standalone PyTorch module; "
                        "script: model.py, train.py and the training runtime into a folder)")
    parser.add_argument("-o", "--output", required=True,
                        help="file to write (for --format script: the folder)")
    parser.add_argument("--weights", "-w", default=None,
                        help="trained weights (.safetensors) to load before exporting")


def run(args: argparse.Namespace) -> int:
    from backend.cli.check import settings_problems
    from graph.errors import GraphError
    from graph.project import load

    path = Path(args.project)
    try:
        doc = load(path)
    except GraphError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    problems = settings_problems(doc)
    if problems:
        print("error: the project's settings are not valid:\n  - " + "\n  - ".join(problems),
              file=sys.stderr)
        return 1
    try:
        if args.format == "script":
            from backend.export.script import export_training_script

            out = Path(args.output)
            out.mkdir(parents=True, exist_ok=True)
            written = export_training_script(doc, out, base_dir=path.parent)
            data = f" and {written.data.name}" if written.data else ""
            print(f"wrote {written.model.name}, {written.script.name}, "
                  f"{written.runtime.name}/{data} into {out}; run `python train.py` there")
            return 0
        from backend.export.formats import export

        written_path = export(doc, args.format, args.output, args.weights)
    except GraphError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    except (ValueError, OSError) as exc:  # data that cannot be read, a folder not writable
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {written_path} ({args.format})")
    return 0
