"""The ``netcanvas`` sub-commands, all without Qt (the app itself starts from `builder.launcher`).

Each sub-command lives in its own ``backend/cli/<name>.py`` module with ``add_arguments(parser)``
and ``run(args) -> int``; those modules import torch lazily, inside ``run``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

#: sub-command -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "examples": ("backend.cli.examples", "list the example designs"),
    "new": ("backend.cli.examples", "write a new project (optionally from an example)"),
    "check": ("backend.cli.check", "print a design's summary and errors (exit 1 if invalid)"),
    "export": ("backend.cli.export", "export a design as .py, safetensors, ONNX or TorchScript"),
    "train": ("backend.cli.train", "train a design headless (torchrun for several processes)"),
    "runs": ("backend.cli.runs", "list the runs recorded beside a project"),
    "import": ("backend.cli.import_model", "import a PyTorch nn.Module as a design"),
    "lr-find": ("backend.cli.lr_find", "sweep the learning rate and suggest one (--apply saves it)"),
    "search": ("backend.cli.search", "hyperparameter search with optuna (-o saves the best design)"),
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="netcanvas",
        description="Design neural networks by drawing them. Without a command (or with "
                    "`netcanvas FILE` / `netcanvas open FILE`) the app opens.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue  # a command whose module is not installed in this build
        p = sub.add_parser(name, help=help_text, description=help_text[:1].upper() + help_text[1:])
        adder = getattr(module, f"add_{name.replace('-', '_')}_arguments", None) or module.add_arguments
        adder(p)
        runner = getattr(module, f"run_{name.replace('-', '_')}", None) or module.run
        p.set_defaults(_run=runner)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one sub-command; returns its exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    if not getattr(args, "_run", None):
        _parser().print_help()
        return 2
    try:
        code = int(args._run(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
        return code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader stopped (`netcanvas examples | head -3`): end quietly, as `cat` does. What
        # is still buffered goes to /dev/null, so the exit does not fail on it again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
