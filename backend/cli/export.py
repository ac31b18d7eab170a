"""``netcanvas export PROJECT --format py|safetensors|onnx|torchscript -o OUT [--weights W]``."""

from __future__ import annotations

import argparse
import sys

FORMATS = ("py", "safetensors", "onnx", "torchscript")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", help="a NetCanvas project file (.ncproj.json)")
    parser.add_argument("--format", "-f", choices=FORMATS, default="py",
                        help="what to write (default: py, the standalone PyTorch module)")
    parser.add_argument("-o", "--output", required=True, help="file to write")
    parser.add_argument("--weights", "-w", default=None,
                        help="trained weights (.safetensors) to load before exporting")


def run(args: argparse.Namespace) -> int:
    from graph.errors import GraphError
    from graph.project import load

    try:
        doc = load(args.project)
        from backend.export.formats import export

        path = export(doc, args.format, args.output, args.weights)
    except GraphError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    print(f"wrote {path} ({args.format})")
    return 0
