"""``netcanvas examples`` lists the gallery; ``netcanvas new [--example NAME] -o FILE`` writes one."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from graph import project
from graph.document import Document
from graph.errors import GraphError
from graph.examples import list_examples, load_example


def add_examples_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print names and paths as JSON")


def run_examples(args: argparse.Namespace) -> int:
    infos = list_examples()
    if args.json:
        import json

        print(json.dumps([{"name": i.name, "title": i.title, "description": i.description,
                           "path": str(i.path)} for i in infos], indent=1))
        return 0
    width = max(len(i.name) for i in infos)
    for info in infos:
        print(f"{info.name:<{width}}  {info.title}")
    print(f"\n{len(infos)} examples. Start from one: netcanvas new --example NAME -o FILE")
    return 0


def add_new_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--example", metavar="NAME", help="start from this example "
                        "(see `netcanvas examples`)")
    parser.add_argument("-o", "--output", required=True, metavar="FILE",
                        help="project file to write")
    parser.add_argument("--force", action="store_true", help="overwrite an existing file")


def run_new(args: argparse.Namespace) -> int:
    out = Path(args.output)
    if out.exists() and not args.force:
        print(f"error: {out} exists; pass --force to overwrite it", file=sys.stderr)
        return 1
    try:
        doc = load_example(args.example) if args.example else Document("Model")
    except KeyError as exc:
        print(f"error: {exc.args[0]}", file=sys.stderr)
        return 1
    except GraphError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    try:
        project.save(doc, out)
    except OSError as exc:
        print(f"error: cannot write {out}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"wrote {out}" + (f" from example {args.example}" if args.example else ""))
    return 0
