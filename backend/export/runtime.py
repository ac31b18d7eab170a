"""The runtime: the torch-only training code the exported ``train.py`` runs, copied verbatim.

It is the closure of `ENTRY`'s relative imports inside ``backend/``: the training loop, the
data preparation and the built-in data sets, losses, metrics, schedules, checkpoints, DDP,
the settings' declarations and the terminal program. Those modules import only the standard
library, torch and numpy (scikit-learn and safetensors lazily, where a data set or a file
needs them) and each other by relative imports, so written into a ``netcanvas_runtime``
folder beside ``train.py`` they run there exactly as they run in the app.
"""

from __future__ import annotations

import ast
from pathlib import Path

#: The package the runtime is written as, beside train.py.
PACKAGE = "netcanvas_runtime"
#: The module train.py calls; the runtime is what it imports, transitively.
ENTRY = "training/standalone.py"
BACKEND = Path(__file__).resolve().parents[1]


def _relative_imports(path: Path) -> list[Path]:
    """The backend files ``path`` imports relatively (``from .x import``, ``from ..d.x``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = path.parent
            for _ in range(node.level - 1):
                base = base.parent
            names = [node.module] if node.module else [a.name for a in node.names]
            for name in names:
                target = base.joinpath(*name.split("."))
                found.append(target.with_suffix(".py") if target.with_suffix(".py").is_file()
                             else target / "__init__.py")
    return found


def runtime_files() -> list[str]:
    """The runtime's files, relative to backend/ (``training/loop.py``, ``data/prepare.py``…),
    sorted."""
    seen: set[Path] = set()
    todo = [BACKEND / ENTRY]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        todo += _relative_imports(path)
    return sorted(str(p.relative_to(BACKEND)) for p in seen)


def runtime_sources() -> dict[str, str]:
    """{path inside the ``netcanvas_runtime`` folder: source} for every file to write,
    package ``__init__``s included."""
    files = runtime_files()
    out = {"__init__.py": '"""NetCanvas\'s training runtime, copied verbatim from NetCanvas\'s '
                          'backend/ (the code the app trains with); train.py runs it."""\n'}
    for rel in files:
        out[rel] = (BACKEND / rel).read_text(encoding="utf-8")
        package = str(Path(rel).parent / "__init__.py")
        out.setdefault(package, (BACKEND / package).read_text(encoding="utf-8"))
    return out
