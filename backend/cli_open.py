"""``netcanvas open FILE`` (and bare ``netcanvas [FILE]``): start the desktop app."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", nargs="?", help="project file to open")


def launch(path: str | None = None) -> int:
    # builder is the only package that imports Qt; imported here, only when the app is wanted.
    from builder.app import run_app

    return run_app(path)


def run(args: argparse.Namespace) -> int:
    return launch(args.file)
