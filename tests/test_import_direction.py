"""Dependencies point one way: builder -> backend -> graph, read from every file's imports.

Every ``import`` statement is read with `ast`, including those inside functions, so a lazy Qt
import deep in backend/ fails here as surely as one at the top of a module.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: package -> top-level modules its files may never import
FORBIDDEN = {
    "graph": {"torch", "PySide6", "pyqtgraph", "backend", "builder", "numpy"},
    "backend": {"PySide6", "pyqtgraph", "builder", "shiboken6"},
    "resources": {"torch", "PySide6", "pyqtgraph", "backend", "builder"},
}
#: what a package ``__init__`` may not import (it must stay cheap to import)
HEAVY = {"torch", "numpy", "PySide6", "pyqtgraph", "sklearn", "optuna", "onnx", "safetensors",
         "networkx"}


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, top-level module) of every import in ``path``, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = path.relative_to(ROOT).parent.parts
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                out.append((node.lineno, base[0] if base else (node.module or "").split(".")[0]))
            elif node.module:
                out.append((node.lineno, node.module.split(".")[0]))
    return out


def violations(package: str) -> list[str]:
    return [f"{path.relative_to(ROOT)}:{line} imports {mod}"
            for path in sorted((ROOT / package).rglob("*.py"))
            for line, mod in imported_modules(path) if mod in FORBIDDEN[package]]


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_file_imports_against_the_direction(package):
    bad = violations(package)
    assert not bad, "\n".join(bad)


def test_package_inits_import_nothing_heavy():
    inits = [p for pkg in ("graph", "backend", "builder", "resources")
             for p in (ROOT / pkg).rglob("__init__.py")]
    assert len(inits) > 8
    bad = [f"{p.relative_to(ROOT)}:{line} imports {mod}"
           for p in inits for line, mod in imported_modules(p) if mod in HEAVY]
    assert not bad, "\n".join(bad)


def test_an_import_inside_a_function_is_caught():
    planted = ROOT / "backend" / "workflows" / "_planted_for_test.py"
    planted.write_text("def f():\n    if True:\n        import PySide6.QtCore\n")
    try:
        bad = violations("backend")
    finally:
        planted.unlink()
    assert bad == ["backend/workflows/_planted_for_test.py:3 imports PySide6"]


def _modules_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys\nprint(' '.join(sys.modules))"],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    return set(out.stdout.split())


def test_cli_parser_loads_neither_torch_nor_qt():
    mods = _modules_after("import backend.cli.main as c\nc._parser()")
    assert not {m for m in mods if m.split(".")[0] in {"torch", "PySide6"}}


def test_graph_loads_networkx_but_neither_torch_nor_qt():
    mods = _modules_after("import graph, graph.project, graph.layout, graph.recovery, "
                          "graph.clipboard, graph.examples")
    assert "networkx" in mods
    assert not {m for m in mods if m.split(".")[0] in {"torch", "PySide6", "pyqtgraph"}}
