"""The ``netcanvas`` console command.

``netcanvas``, ``netcanvas FILE`` and ``netcanvas open FILE`` start the app; every other
sub-command is `backend.cli.main`'s and runs without Qt. This module imports neither Qt nor torch, so
``netcanvas check`` stays fast; the dependency direction stays builder → backend → graph.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def wants_app(argv: Sequence[str]) -> str | None | bool:
    """False when ``argv`` is a sub-command; else the project file to open (or None)."""
    from backend.cli.main import COMMANDS

    if not argv:
        return None
    if argv[0] == "open" and len(argv) <= 2:
        return argv[1] if len(argv) == 2 else None
    if len(argv) == 1 and not argv[0].startswith("-") and argv[0] not in COMMANDS:
        return argv[0]
    return False


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    target = wants_app(argv)
    if target is False:
        from backend.cli.main import main as cli_main

        return cli_main(argv)
    from builder.warmup import start_loading_torch  # Qt is imported only when the app is wanted

    start_loading_torch()  # while the window is built (see there)
    from builder.app import run_app

    return run_app(target)


if __name__ == "__main__":
    sys.exit(main())
